"""Undo for next, previous or restart heard by voice: the session as it was before.

A misheard "next" must cost nothing, so before such a command the session's state is
copied; for UNDO_SECONDS "go back" (or "no") puts it back, as if paused meanwhile.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Final

from floorcoach.commands import Command
from floorcoach.session.events import Phase, Priority
from floorcoach.session.pain_decisions import StartPlan
from floorcoach.session.pain_dialogue import PainQuestion
from floorcoach.session.steps import PauseReason, Performance, RunningStep, Step
from floorcoach.session.summary import ExerciseRecord

if TYPE_CHECKING:
    from floorcoach.session.engine import Engine

UNDO_SECONDS: Final = 10.0
"""After next, previous or restart heard by voice, "go back" restores for this long."""


@dataclass
class Snapshot:
    """The session just before a command heard by voice, for "go back" to restore."""

    command: Command
    taken_at: float
    until: float
    item_index: int
    perf: Performance | None
    steps: list[Step]
    step_index: int
    running: RunningStep | None
    paused_at: float | None
    pause_reason: PauseReason | None
    stop_deadline: float | None
    records: list[ExerciseRecord]
    phase: Phase
    last_instruction: str
    leaving_early: bool
    pain_question: PainQuestion | None
    pain_counts: Counter[str]
    skip_for_session: set[str]
    start_plan: StartPlan | None


def take(engine: Engine, command: Command) -> Snapshot:
    """The session as it is, before a consequential command heard by voice."""
    perf, running, pain = engine.perf, engine.running, engine.pain
    return Snapshot(
        command=command,
        taken_at=engine.now,
        until=engine.now + UNDO_SECONDS,
        item_index=engine.item_index,
        perf=replace(perf, completed=set(perf.completed), notes=list(perf.notes))
        if perf is not None
        else None,
        steps=list(engine.steps),
        step_index=engine.step_index,
        running=running.copy_at(engine.now) if running is not None else None,
        paused_at=engine.paused_at,
        pause_reason=engine.pause_reason,
        stop_deadline=engine.stop_deadline,
        records=[replace(record) for record in engine.records],
        phase=engine.phase,
        last_instruction=engine.last_instruction,
        leaving_early=engine.leaving_early,
        pain_question=replace(pain.question) if pain.question is not None else None,
        pain_counts=Counter(pain.counts),
        skip_for_session=set(pain.skip_for_session),
        start_plan=pain.start_plan,
    )


def restore(engine: Engine, snapshot: Snapshot) -> None:
    """Put the session back where it was before the command, as if paused meanwhile."""
    engine.item_index = snapshot.item_index
    engine.perf = snapshot.perf
    engine.steps = snapshot.steps
    engine.step_index = snapshot.step_index
    engine.running = snapshot.running
    engine.paused_at = snapshot.paused_at
    engine.pause_reason = snapshot.pause_reason
    engine.stop_deadline = snapshot.stop_deadline
    engine.records = snapshot.records
    engine.phase = snapshot.phase
    engine.last_instruction = snapshot.last_instruction
    engine.leaving_early = snapshot.leaving_early
    engine.pain.question = snapshot.pain_question
    engine.pain.counts = snapshot.pain_counts
    engine.pain.skip_for_session = snapshot.skip_for_session
    engine.pain.start_plan = snapshot.start_plan
    away = engine.now - snapshot.taken_at
    if engine.paused_at is None and engine.running is not None:
        engine.running.start += away
    engine.postpone_questions(away)
    engine.forget_utterance()
    out = engine.out
    out.stop_speech()
    out.log("undo", command=snapshot.command.value, index=engine.item_index)
    if engine.perf is not None:
        out.log("exercise_start", index=engine.item_index, restored=True)
    name = engine.perf.exercise.name if engine.perf is not None else "where we were"
    if engine.paused_at is not None:
        out.say(f"Back to {name}. {engine.still_waiting_text()}", Priority.RESPONSE)
    elif engine.running is not None:
        engine.say_where(f"Back to {name}")
    else:
        out.say(f"Back to {name}.", Priority.RESPONSE)
        engine.begin_step()  # the instruction that was cut off, again
