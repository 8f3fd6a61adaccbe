"""The pain dialogue on its own: the questions and answers against a stand-in session that
records what the dialogue asks of it (the rules themselves: test_pain_decisions.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from floorcoach.commands import Command, Intent, Location
from floorcoach.content.catalog import LoadedRoutine
from floorcoach.content.routine import DEFAULT_PAIN_RULES, Exercise, PainRules
from floorcoach.session.events import Log, Phase, Say, StopSpeech
from floorcoach.session.outbox import Outbox
from floorcoach.session.pain_dialogue import (
    PAIN_FOLLOWUP_SECONDS,
    PainDialogue,
)
from floorcoach.session.steps import (
    Outcome,
    PauseReason,
    Performance,
    RunningStep,
    TimedStep,
)
from floorcoach.session.summary import ExerciseRecord


def _perf(shapes: LoadedRoutine, index: int) -> Performance:
    return Performance.of(shapes.items[index])


# ---------------------------------------------------------------- the conversation


@dataclass
class FakeSession:
    """Just what PainSession asks for; records the moves the dialogue makes."""

    loaded: LoadedRoutine
    perf: Performance | None = None
    running: RunningStep | None = None
    now: float = 100.0
    records: list[ExerciseRecord] = field(default_factory=list)
    moves: list[Any] = field(default_factory=list)
    paused: bool = False

    def __post_init__(self) -> None:
        self.records = [ExerciseRecord(i.index, i.exercise.id) for i in self.loaded.items]

    @property
    def rules(self) -> PainRules:
        return self.perf.rules if self.perf else DEFAULT_PAIN_RULES

    def upcoming_index(self) -> int | None:
        return 0 if self.perf is None else None

    def pause(self, reason: PauseReason) -> None:
        self.paused = True
        self.moves.append(("pause", reason))

    def drop_pause(self) -> None:
        self.paused = False
        self.moves.append("drop_pause")

    def resume(self, *, announce: bool = True) -> None:
        self.paused = False
        self.moves.append(("resume", announce))

    def say_where(self, lead: str) -> None:
        self.moves.append(("say_where", lead))

    def swap_variant(self, variant: Exercise, outcome: Outcome) -> None:
        self.moves.append(("swap", variant.id, outcome))

    def leave_exercise(self) -> None:
        self.moves.append("leave")

    def rebuild(self) -> None:
        self.moves.append("rebuild")

    def reissue_if_instruction(self) -> None:
        self.moves.append("reissue")


def _dialogue(session: FakeSession) -> tuple[PainDialogue, Outbox]:
    out = Outbox(lambda: (session.now, "hold", None))
    return PainDialogue(session, out), out


def _tell(dialogue: PainDialogue, level: int, location: Location) -> None:
    """That hurts, this much, here (asked for the place if the level does not decide)."""
    dialogue.report(level)
    if dialogue.question is not None:
        assert dialogue.answer(Intent(location=location))


def _said(out: Outbox) -> list[str]:
    return [e.text for e in out.take() if isinstance(e, Say)]


def test_that_hurts_stops_and_asks_how_bad_then_where(shapes: LoadedRoutine) -> None:
    session = FakeSession(shapes, perf=_perf(shapes, 0))
    dialogue, out = _dialogue(session)
    dialogue.report(None)
    assert session.moves == [("pause", PauseReason.PAIN)]
    assert _said(out) == ["Let's stop for a moment. How bad is it, from 0 to 10?"]
    assert dialogue.question is not None
    assert dialogue.deadline == 120.0  # answer_timeout_seconds
    assert dialogue.answer(Intent(number=4))
    assert _said(out) == ["Is it in your back, or spreading down your leg?"]
    assert dialogue.question.asking == "location"
    assert not dialogue.answer(Intent(command=Command.NEXT))  # not an answer: the caller's
    assert dialogue.answer(Intent(location=Location.BACK))
    assert dialogue.question is None
    assert _said(out) == [
        "Pain at 4. Let's make it gentler: holds of 21 seconds, once on each side."
    ]
    perf = session.perf
    assert perf is not None
    assert (perf.hold_seconds, perf.reps, perf.outcome) == (21, 1, Outcome.REDUCED)
    assert session.records[0].outcome is Outcome.REDUCED
    assert session.records[0].pain_reports == 1
    assert session.moves[-2:] == ["drop_pause", "rebuild"]
    assert dialogue.reports == [{"t": 100.0, "level": 4, "location": "back", "exercise": "stretch"}]


def test_severe_pain_during_an_exercise_decides_without_asking_where(
    shapes: LoadedRoutine,
) -> None:
    session = FakeSession(shapes, perf=_perf(shapes, 0))
    dialogue, out = _dialogue(session)
    dialogue.report(8)
    assert dialogue.question is None
    said = _said(out)
    assert said == ["With pain at 8, let's do the easier Gentle stretch instead."]
    assert session.moves[-1] == ("swap", "gentle-stretch", Outcome.EASIER_VARIANT)


def test_the_hold_that_hurt_is_done_again_at_the_new_size(shapes: LoadedRoutine) -> None:
    perf = _perf(shapes, 0)
    perf.completed = {(0, "left", 0), (0, "left", 1)}
    hurting = TimedStep(Phase.HOLD, 30, keys=((0, "left", 1),))
    session = FakeSession(shapes, perf=perf, running=RunningStep(hurting, 90.0, []))
    dialogue, _ = _dialogue(session)
    _tell(dialogue, 5, Location.BACK)
    assert perf.completed == {(0, "left", 0)}


def test_no_answer_is_taken_as_moderate(shapes: LoadedRoutine) -> None:
    session = FakeSession(shapes, perf=_perf(shapes, 1))
    dialogue, out = _dialogue(session)
    dialogue.report(None)
    out.take()
    session.now = 119.0
    dialogue.check_deadline()
    assert dialogue.question is not None  # not yet
    session.now = 120.0
    dialogue.check_deadline()
    assert dialogue.question is None
    effects = out.take()
    logs = [e.record for e in effects if isinstance(e, Log)]
    assert logs[0]["kind"] == "pain_no_answer"
    assert logs[0]["asking"] == "level"
    texts = [e.text for e in effects if isinstance(e, Say)]
    assert texts[0] == "I didn't hear an answer, so I'll treat it as moderate and go gently."
    assert texts[1] == "Let's make it gentler: two reps on each side with a slower count."


def test_the_second_report_on_an_exercise_skips_it_for_the_day(shapes: LoadedRoutine) -> None:
    session = FakeSession(shapes, perf=_perf(shapes, 1))
    dialogue, out = _dialogue(session)
    _tell(dialogue, 2, Location.BACK)
    assert session.moves[-1] == ("resume", False)
    assert "lift" not in dialogue.skip_for_session
    _tell(dialogue, 2, Location.BACK)
    assert _said(out)[-1] == (
        "Pain at 2. This exercise has hurt twice now, so we'll skip it for the rest of today."
    )
    assert dialogue.skip_for_session == {"lift"}
    assert session.records[1].outcome is Outcome.SKIPPED
    assert session.moves[-1] == "leave"


def test_carrying_on_says_where_when_a_step_is_running(shapes: LoadedRoutine) -> None:
    running = RunningStep(TimedStep(Phase.HOLD, 30), 90.0, [])
    session = FakeSession(shapes, perf=_perf(shapes, 0), running=running)
    dialogue, out = _dialogue(session)
    _tell(dialogue, 1, Location.BACK)
    assert _said(out)[-1] == "Pain at 1. Okay. Ease into it, and only go as far as is comfortable."
    # "Carrying on: hold, 10 seconds left.", its clock waiting for the words (test_engine.py)
    assert session.moves[-2:] == [("resume", False), ("say_where", "Carrying on")]


def test_pain_before_the_first_exercise_plans_it_and_asks_where_first(
    shapes: LoadedRoutine,
) -> None:
    session = FakeSession(shapes)  # no exercise yet
    dialogue, out = _dialogue(session)
    dialogue.report(8)
    assert dialogue.question is not None  # before an exercise, severe pain still asks where
    dialogue.answer(Intent(location=Location.BACK))
    assert dialogue.start_plan is not None
    assert dialogue.start_plan.variant is not None
    assert dialogue.start_plan.variant.id == "gentle-stretch"
    assert dialogue.start_pain == (8, Location.BACK)
    assert session.moves[-1] == ("resume", False)
    assert dialogue.take_start_plan(1) is None  # another item: and the plan is used up
    assert dialogue.start_plan is None


def test_a_late_where_makes_the_decision_stricter_only_while_it_is_open(
    shapes: LoadedRoutine,
) -> None:
    session = FakeSession(shapes, perf=_perf(shapes, 0))
    dialogue, out = _dialogue(session)
    _tell(dialogue, 2, Location.BACK)
    assert dialogue.followup is not None
    assert dialogue.followup.decision == "continue"
    out.take()
    session.now += PAIN_FOLLOWUP_SECONDS - 1
    assert dialogue.late_location(Location.LEG)
    effects = out.take()
    assert [type(e) for e in effects[:2]] == [Log, StopSpeech]  # the correction, then a cut
    texts = [e.text for e in effects if isinstance(e, Say)]
    assert texts == [
        "Thanks. With pain spreading down your leg, let's do the easier Gentle stretch instead."
    ]
    corrected = next(e.record for e in effects if isinstance(e, Log))
    assert corrected["corrected"] is True
    assert dialogue.reports[-1]["location"] == "leg"
    assert not dialogue.late_location(Location.LEG)  # answered: closed


def test_a_late_where_that_changes_nothing_is_noted(shapes: LoadedRoutine) -> None:
    session = FakeSession(shapes, perf=_perf(shapes, 0))
    dialogue, out = _dialogue(session)
    _tell(dialogue, 5, Location.LEG)  # already the strictest for this exercise
    out.take()
    assert dialogue.late_location(Location.BACK)
    assert _said(out) == ["Thanks. In your back, noted; we'll stay with Test stretch."]
    assert session.moves[-1] == "reissue"
    session.now += PAIN_FOLLOWUP_SECONDS + 1
    _tell(dialogue, 1, Location.BACK)
    session.now += PAIN_FOLLOWUP_SECONDS + 1
    assert not dialogue.late_location(Location.LEG)  # too late: a new report instead


@pytest.mark.parametrize(
    ("answers", "first_words"),
    [
        # a level the user said is said back, so a "nine" misheard as "one" is heard as such
        ([Intent(number=1), Intent(location=Location.BACK)], "Pain at 1. Okay."),
        ([Intent(location=Location.BACK), Intent(number=4)], "Pain at 4. Let's make"),
        # severe: the decision says the level itself, once
        ([Intent(number=8)], "With pain at 8,"),
        # taken on the place, not the level: nothing to say back
        ([Intent(number=2), Intent(location=Location.LEG)], "With pain spreading down"),
        # "I'm fine, carry on" is taken as 0, but the user never said 0
        ([Intent(command=Command.RESUME)], "Okay. Ease into it"),
    ],
)
def test_a_level_is_said_back_only_when_the_user_said_it_and_the_decision_does_not(
    shapes: LoadedRoutine, answers: list[Intent], first_words: str
) -> None:
    session = FakeSession(shapes, perf=_perf(shapes, 0))
    dialogue, out = _dialogue(session)
    dialogue.report(None)
    for answer in answers:
        assert dialogue.answer(answer)
    assert dialogue.question is None
    decision = _said(out)[-1]
    assert decision.startswith(first_words), decision
    assert decision.count("ain at") <= 1  # never "Pain at 8. With pain at 8"


def test_a_level_assumed_after_no_answer_is_not_said_back(shapes: LoadedRoutine) -> None:
    session = FakeSession(shapes, perf=_perf(shapes, 0))
    dialogue, out = _dialogue(session)
    dialogue.report(None)
    session.now = 200.0  # past the answer time
    dialogue.check_deadline()
    said = _said(out)
    assert "I didn't hear an answer, so I'll treat it as moderate and go gently." in said
    assert not [text for text in said if "Pain at" in text]
