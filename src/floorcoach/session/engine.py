"""The session engine: a pure state machine that plays a routine from events to effects.

It never reads a clock, sleeps or touches a device: time arrives in events, and what
should happen comes out as effects. Holds, reps and rests run on absolute deadlines
(start + offset) so that speech length and late ticks never make the schedule drift.

The engine keeps the plan, the clock, the phases and pause and resume. The commands, the
pain dialogue and the red-flag check are units of their own (command_handlers,
pain_dialogue, red_flag_check) that act on it through the methods below; the steps come
from step_planning and schedules, the summary from summary.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

from floorcoach.commands import Feeling, RedFlag
from floorcoach.content.catalog import LoadedRoutine
from floorcoach.content.routine import DEFAULT_PAIN_RULES, Exercise, PainRules
from floorcoach.session import schedules, step_planning
from floorcoach.session.command_handlers import STOP_QUESTION, CommandHandlers
from floorcoach.session.counting import estimate_speech_seconds
from floorcoach.session.events import (
    Effect,
    Event,
    Heard,
    Notice,
    Phase,
    Priority,
    SessionEnded,
    SpeechDone,
    Start,
    Tick,
    Unclear,
)
from floorcoach.session.outbox import Outbox
from floorcoach.session.pain_decisions import StartPlan
from floorcoach.session.pain_dialogue import PainDialogue
from floorcoach.session.red_flag_check import RedFlagCheck, red_flag_warning
from floorcoach.session.steps import (
    CallStep,
    Outcome,
    PauseReason,
    Performance,
    RunningStep,
    SayStep,
    ScheduledAction,
    Step,
    TimedStep,
)
from floorcoach.session.summary import ExerciseRecord, close_record, session_summary, summary_text

DEFAULT_RATE_WPM: Final = 150

FeelingPlanner = Callable[[Feeling | None], tuple[LoadedRoutine, list[str]]]
"""Given the next-day answer, the routine as adapted for today and what to say about it."""
DurationEstimate = Callable[[LoadedRoutine, int], float]
"""How long a routine takes, in seconds, played from the item at the given index."""


class Engine:
    """Plays a routine: `handle(event) -> list[Effect]`, nothing else touches the world.

    The other public attributes and methods are the session's state and moves, shared with
    the engine's own units (commands, pain dialogue, red-flag check, undo); the runtime only
    reads the properties.
    """

    def __init__(
        self,
        loaded: LoadedRoutine,
        *,
        rate_wpm: int = DEFAULT_RATE_WPM,
        volume: float = 1.0,
        announce_duration: bool = True,
        estimate_seconds: DurationEstimate | None = None,
        start_index: int = 0,
        intro_lines: Sequence[str] = (),
        resume_offer: int | None = None,
        ask_feeling: bool = False,
        on_feeling: FeelingPlanner | None = None,
        progress_text: Callable[[], str] | None = None,
    ) -> None:
        """Set up a session; history-driven options come from the caller, already computed.

        announce_duration: say how long the day takes, by `estimate_seconds` (a dry run, e.g.
        `simulate.estimate_total_seconds`). start_index: begin at this item (resuming).
        resume_offer: offer, by voice, to carry on from this item (cut off last time).
        ask_feeling: ask how the back felt after last time; `on_feeling` re-plans the day.
        """
        if not 0 <= start_index < len(loaded.items):
            raise ValueError(f"start_index {start_index} is outside the routine")
        if announce_duration and estimate_seconds is None:
            raise ValueError("announce_duration needs estimate_seconds")
        self.loaded = loaded
        self.start_index = start_index
        self.intro_lines = list(intro_lines)
        self.resume_offer = resume_offer
        self.ask_feeling = ask_feeling
        self.rate_wpm = rate_wpm
        self.volume = volume
        self.now = 0.0
        self.phase = Phase.WELCOME
        self.finished = False
        self._estimate = estimate_seconds if announce_duration else None
        self.item_index = -1
        self.perf: Performance | None = None
        self.steps: list[Step] = []
        self.step_index = 0
        self._waiting_id: int | None = None
        self.running: RunningStep | None = None
        self.paused_at: float | None = None
        self.pause_reason: PauseReason | None = None
        self.stop_deadline: float | None = None
        """Set while "say stop again" waits for its answer."""
        self.last_instruction = ""
        self.tempo_factor = 1.0
        self.records = [ExerciseRecord(item.index, item.exercise.id) for item in loaded.items]
        self.red_flag: RedFlag | None = None
        self.leaving_early = False
        """The user moved on from the exercise: it closes as skipped or partial."""
        self._started = False
        self._form_cue_turn = 0
        self.out = Outbox(self._stamp)
        self.pain = PainDialogue(self, self.out)
        self.red_flags = RedFlagCheck(self, self.out)
        self.commands = CommandHandlers(self, on_feeling=on_feeling, progress_text=progress_text)

    # ------------------------------------------------------------ public API

    def handle(self, event: Event) -> list[Effect]:
        """Advance the session by one event and return what should happen."""
        self.out.take()
        if self.finished:
            if isinstance(event, Heard):
                self.out.say("The session has ended.", Priority.RESPONSE)
            return self.out.take()
        self.now = max(self.now, event.t)
        if isinstance(event, Start):
            self._start()
        elif isinstance(event, Tick):
            pass
        elif isinstance(event, SpeechDone):
            self._on_speech_done(event)
        elif isinstance(event, Heard):
            self.commands.on_heard(event)
        elif isinstance(event, Notice):
            self.out.say(event.text, Priority.RESPONSE)
            self.out.log("notice", text=event.text)
        elif isinstance(event, Unclear):
            self.commands.on_unclear(event)
        self._run_clock()
        return self.out.take()

    def next_deadline(self) -> float | None:
        """The next time a Tick would change something (None: waiting on speech or words)."""
        if self.red_flags.open is not None:
            return self.red_flags.open.deadline  # everything else waits for the answer
        deadlines: list[float] = []
        if self.stop_deadline is not None:
            deadlines.append(self.stop_deadline)
        if self.pain.question is not None:
            deadlines.append(self.pain.question.deadline)
        if self.paused_at is None and self.running is not None:
            deadlines.append(self.running.next_time())
        return min(deadlines) if deadlines else None

    @property
    def exercise_id(self) -> str | None:
        """The exercise being played now (a variant's id when one was swapped in)."""
        return self.perf.exercise.id if self.perf else None

    @property
    def paused(self) -> bool:
        """Whether the session clock is stopped."""
        return self.paused_at is not None

    @property
    def timed_step_end(self) -> float | None:
        """When the hold, rest or reps in progress end (None: none, or waiting for an answer)."""
        running = self.running
        return None if running is None or running.step.tag else running.end_at(self.now)

    @property
    def listen_context(self) -> str:
        """What the player is waiting to hear, so a recognizer can narrow its grammar.

        One of 'commands', 'pain_level', 'pain_location', 'confirm', 'feeling'.
        """
        if self.red_flags.open is not None:
            return "confirm"
        if self.pain.question is not None:
            return "pain_level" if self.pain.question.asking == "level" else "pain_location"
        if self.stop_deadline is not None:
            return "confirm"
        waiting = self.waiting_for()
        if waiting == "resume_offer":
            return "confirm"
        if waiting == "feeling":
            return "feeling"
        return "commands"

    def summary(self) -> dict[str, Any]:
        """Done, reduced, skipped and pain reports, as logged at the end."""
        return session_summary(
            self.loaded.routine.id, self.records, self.pain.reports, self.red_flag
        )

    @property
    def rules(self) -> PainRules:
        """The pain rules in force now (defaults before the first exercise)."""
        if self.perf is not None:
            return self.perf.rules
        upcoming = self.upcoming_index()
        if upcoming is not None:
            return self.loaded.items[upcoming].pain_rules
        return DEFAULT_PAIN_RULES

    def waiting_for(self) -> str:
        """The answer the timed step in progress waits for ('resume_offer', 'feeling'), or ''."""
        return self.running.step.tag if self.running is not None else ""

    def upcoming_index(self) -> int | None:
        """The routine item the session opens next (before the first: where it starts)."""
        index = max(self.item_index + 1, self.start_index)
        return index if index < len(self.loaded.items) else None

    def remaining_seconds(self) -> float:
        """A quick estimate of the session time left, from the plan (not a dry run)."""
        running = self.running
        left = max(0.0, running.end - (self.paused_at or self.now)) if running else 0.0
        after = self.steps[self.step_index + 1 :]
        return step_planning.planned_seconds(
            self.loaded, after, self.item_index + 1, self.rate_wpm, self.tempo_factor, start=left
        )

    # ------------------------------------------------------------ phases

    def _stamp(self) -> tuple[float, str, str | None]:
        return self.now, self._current_phase().value, self.exercise_id

    def _current_phase(self) -> Phase:
        if self.finished:
            return Phase.DONE
        if self.pain.question is not None:
            return Phase.PAIN_CHECK
        if self.paused_at is not None:
            return Phase.PAUSED
        return self.phase

    def _set_phase(self, phase: Phase) -> None:
        if phase is not self.phase:
            self.phase = phase
            self.out.log("phase")

    # ------------------------------------------------------------ flow

    def _start(self) -> None:
        if self._started:
            return
        self._started = True
        self.out.log("session_start", routine=self.loaded.routine.id, start_index=self.start_index)
        self.steps = step_planning.opening_steps(self.loaded, self.resume_offer, self.ask_feeling)
        self.step_index = 0
        self.begin_step()

    def _call_today(self) -> None:
        """Insert the day's plan: the exercises as they will be played, and how long."""
        plan = self.pain.start_plan
        replaced: dict[int, Exercise | None] = {}
        if plan is not None and (plan.decision == "skip" or plan.variant is not None):
            replaced[plan.index] = plan.variant
        seconds = self._estimate(self.loaded, self.start_index) if self._estimate else None
        text = step_planning.day_plan_text(self.loaded, self.start_index, replaced, seconds)
        self.steps.insert(self.step_index, SayStep(text, Phase.WELCOME))

    def _call_welcome(self) -> None:
        """Insert the welcome now that the day's plan is settled."""
        welcome = step_planning.welcome_steps(self.loaded, self.start_index, self.intro_lines)
        self.steps[self.step_index : self.step_index] = welcome
        self.item_index = self.start_index - 1

    def _answer_timed_out(self, tag: str) -> None:
        if tag == "resume_offer":
            self.out.log("resume_declined", reason="no answer")
        elif tag == "feeling":
            self.out.log("next_day_unanswered", reason="no answer")

    def end_wait(self) -> None:
        """An answer came: the wait for it is over."""
        self.running = None
        self.step_index += 1
        self.begin_step()

    def begin_step(self) -> None:
        """Start the step at step_index, or move on when the list is used up."""
        while self.step_index >= len(self.steps):
            if not self._next_exercise():
                return
        step = self.steps[self.step_index]
        if isinstance(step, CallStep):
            self.step_index += 1
            {"welcome": self._call_welcome, "today": self._call_today}[step.action]()
            self.begin_step()
            return
        if isinstance(step, SayStep):
            self._set_phase(step.phase)
            if step.cue_before:
                self.out.cue(step.cue_before)
            self.last_instruction = step.text
            self._waiting_id = self.out.say(step.text)
        else:
            self.start_timed(step, self.now)

    def start_timed(self, step: TimedStep, start: float) -> None:
        """Run a timed step from `start` (which may be a moment ago or to come)."""
        self._set_phase(step.phase)
        self._waiting_id = None
        if step.intro:
            self.last_instruction = step.intro
            self.out.say(step.intro)
        self.running = RunningStep(step, start, self.schedule(step))

    def schedule(self, step: TimedStep) -> list[ScheduledAction]:
        """The actions of a timed step now; form cues take turns from one hold to the next."""
        exercise = self.perf.exercise if self.perf else None
        actions, self._form_cue_turn = schedules.schedule(
            step, exercise, self.rate_wpm, self._form_cue_turn
        )
        return actions

    def finish_step(self) -> None:
        """The step in progress is over (or cut short): go on to the next."""
        self.step_index += 1
        self.begin_step()

    def forget_utterance(self) -> None:
        """Stop waiting for the end of what was being said (the plan was put back)."""
        self._waiting_id = None

    @property
    def saying_instruction(self) -> bool:
        """An instruction is being said and waited for (not paused, no timed step)."""
        return self.running is None and self._waiting_id is not None and self.paused_at is None

    def reissue_if_instruction(self) -> None:
        """After answering during an instruction, say the instruction again."""
        if self.saying_instruction:
            self.begin_step()

    def _on_speech_done(self, event: SpeechDone) -> None:
        self.red_flags.speech_done(event.utterance_id, event.t)
        if self.running is not None:
            self.running.words_done(event.utterance_id, event.t)
        if event.utterance_id != self._waiting_id or self.paused_at is not None:
            return
        self._waiting_id = None
        step = self.steps[self.step_index]
        assert isinstance(step, SayStep)
        if step.cue_after:
            self.out.cue(step.cue_after)
        self.finish_step()

    def _run_clock(self) -> None:
        """Carry out every scheduled action that is due; chain timed steps exactly."""
        while self.paused_at is None and self.running is not None and not self.finished:
            running = self.running
            if running.next_time() > self.now + 1e-9:
                break
            if running.words is not None:  # their end was never reported: go on anyway
                running.words_done(None, self.now)
                continue
            if running.index < len(running.actions):
                action = running.actions[running.index]
                running.index += 1
                self._do(action, running)
                continue
            self.running = None
            end = running.end
            self.step_index += 1
            while self.step_index >= len(self.steps):
                if not self._next_exercise():
                    return
            if running.step.tag:
                self._answer_timed_out(running.step.tag)
            step = self.steps[self.step_index]
            if isinstance(step, TimedStep):
                self.start_timed(step, end)  # back to back: no drift from late ticks
            else:
                self.begin_step()
        self._check_deadlines()

    def _check_deadlines(self) -> None:
        if self.red_flags.open is not None:
            self.red_flags.check_deadline()  # everything else waits for the answer
            return
        if self.stop_deadline is not None and self.now >= self.stop_deadline:
            self.stop_deadline = None
            if self.pause_reason is PauseReason.CONFIRM_STOP:
                self.out.say("Okay, carrying on.", Priority.RESPONSE)
                self.resume(announce=False)
        self.pain.check_deadline()

    def _do(self, action: ScheduledAction, running: RunningStep) -> None:
        if action.cue:
            self.out.cue(action.cue)
        if action.text and not (action.timely and running.answering(self.now)):
            self.out.say(action.text, action.priority, interruptible=action.interruptible)
        if action.complete and self.perf is not None:
            self.perf.completed.update(action.complete)

    # ------------------------------------------------------------ exercises

    def _next_exercise(self) -> bool:
        """Close the current exercise and open the next one; False when the routine is over."""
        arriving = not self.leaving_early
        self.close_exercise(left_early=self.leaving_early)
        self.leaving_early = False
        index = self.item_index + 1
        while index < len(self.loaded.items):
            item = self.loaded.items[index]
            plan = self.pain.take_start_plan(index)
            if plan is not None and plan.decision == "skip":
                # said when it was decided, before the first exercise
                self.records[index].outcome = Outcome.SKIPPED
                self.records[index].result = "skipped"
                index += 1
                arriving = False
                continue
            if item.exercise.id in self.pain.skip_for_session:
                self.records[index].outcome = Outcome.SKIPPED
                self.records[index].result = "skipped"
                self.out.say(f"Skipping {item.exercise.name} today, since it hurt earlier.")
                index += 1
                continue
            self.open_exercise(index, arriving=arriving, plan=plan)
            return True
        self.end_session()
        return False

    def open_exercise(
        self,
        index: int,
        *,
        arriving: bool,
        exercise: Exercise | None = None,
        plan: StartPlan | None = None,
    ) -> None:
        """Make the item at `index` the exercise in progress (as `exercise`, a variant, if
        given) and plan it from its start; the caller begins the first step."""
        self.item_index = index
        item = self.loaded.items[index]
        if plan is not None and plan.variant is not None:
            exercise = plan.variant
        self.perf = perf = Performance.of(item, exercise)
        record = self.records[index]
        if exercise is None or plan is not None:
            record.outcome = Outcome.NOT_REACHED
            record.done_as = None
            record.result = "not_reached"
        if plan is not None:
            plan.apply(perf, record)
        self.steps = step_planning.exercise_steps(
            perf, self.loaded, intro=True, arriving=arriving, tempo_factor=self.tempo_factor
        )
        self.step_index = 0
        self.running = None
        self.out.log("exercise_start", index=index)

    def close_exercise(self, *, left_early: bool = False) -> None:
        """Record how the exercise went; left_early means the user moved on from it."""
        perf = self.perf
        if perf is None:
            return
        record = self.records[perf.item.index]
        close_record(record, perf, left_early=left_early)
        self.out.log("outcome", index=perf.item.index, **record.outcome_fields())
        self.perf = None

    def rebuild(self) -> None:
        """Re-plan what is left of this exercise (after a change) and start it."""
        assert self.perf is not None
        self.running = None
        self.steps = step_planning.unit_steps(self.perf, tempo_factor=self.tempo_factor)
        self.step_index = 0
        self.begin_step()

    def swap_variant(self, variant: Exercise, outcome: Outcome) -> None:
        """Play `variant` instead of the exercise in progress, from its start."""
        assert self.perf is not None
        index = self.item_index
        self.records[index].outcome = outcome
        self.records[index].done_as = variant.id
        self.open_exercise(index, arriving=False, exercise=variant)
        self.begin_step()

    def leave_exercise(self) -> None:
        """Move on from the exercise in progress to the next one."""
        self.leaving_early = True
        self.drop_pause()
        self.running = None
        self.steps, self.step_index = [], 0
        self.begin_step()

    def end_session(self) -> None:
        """Say the summary and end; nothing happens after this."""
        self.running = None
        self.steps = []
        self._waiting_id = None
        summary = self.summary()
        self.out.say(summary_text(summary))
        self.finished = True
        self.phase = Phase.DONE
        self.out.log("session_end", summary=summary)
        self.out.add(SessionEnded(summary))

    def end_on_red_flag(self, flag: RedFlag) -> None:
        """A warning sign stands: urge medical care and end the session."""
        self.red_flag = flag
        self.out.stop_speech()
        self.out.say(red_flag_warning(flag), Priority.URGENT)
        self.out.log("red_flag", flag=flag.value)
        self.commands.undo_snapshot = None
        self.pain.question = None
        self.paused_at = None
        self.stop_deadline = None
        self.close_exercise()
        self.end_session()

    # ------------------------------------------------------------ pause and resume

    def pause(self, reason: PauseReason) -> None:
        """Stop the clock (if running) and what is being said."""
        if self.paused_at is None:
            if self.running is not None:
                self.running.words_done(None, self.now)  # the pause is counted from now
            self.paused_at = self.now
            self.out.log("paused", reason=reason.value)
        self.pause_reason = reason
        self.out.stop_speech()

    def drop_pause(self) -> None:
        """Take the clock off pause without resuming what was stopped (it is replaced)."""
        self.paused_at = None
        self.pause_reason = None

    def resume(self, *, announce: bool = True) -> None:
        """Start the clock again where it stopped; the deadlines move by exactly the pause."""
        if self.paused_at is None:
            return
        paused_for = self.now - self.paused_at
        self.drop_pause()
        self.stop_deadline = None
        if self.running is not None:
            self.running.start += paused_for
            if announce:
                self.say_where("Resuming")
        elif self._waiting_id is not None or self.step_index < len(self.steps):
            if announce:
                self.out.say("Resuming.", Priority.RESPONSE)
            self.begin_step()  # say the interrupted instruction again
        self.out.log("resumed", paused_seconds=round(paused_for, 3))

    def resume_silently(self) -> None:
        """Close any question and pause without a word (a command moves the session on)."""
        self.pain.question = None
        self.stop_deadline = None
        if self.paused_at is not None:
            self.drop_pause()

    def postpone_questions(self, seconds: float) -> None:
        """Move the deadlines of open questions (pain, "stop again?") on by this much."""
        if self.pain.question is not None:
            self.pain.question.deadline += seconds
        if self.stop_deadline is not None:
            self.stop_deadline += seconds

    def say_where(self, lead: str) -> None:
        """Say where it is ("Resuming: hold, 3 seconds left."); a hold's, rest's or reps' clock
        waits for the words (test_engine.py), a walk's goes on: the user walks meanwhile."""
        text = f"{lead}: {self.where_text()}"
        ident = self.out.say(text, Priority.RESPONSE)
        if self.running is not None and self.running.step.phase is not Phase.WALK:
            seconds = estimate_speech_seconds(text, self.rate_wpm)
            self.running.wait_for_words(ident, self.now, seconds)

    def where_text(self) -> str:
        """Where the session is, as said after "Resuming:" or "Carrying on:"."""
        if self.running is None:
            return f"{self.phase.value.replace('_', ' ')}."
        return self.running.where(self.paused_at if self.paused_at is not None else self.now)

    def still_waiting_text(self) -> str:
        """What the user was being asked when the clock was already stopped."""
        if self.pain.question is not None:
            return self.pain.question.text
        if self.stop_deadline is not None:
            return STOP_QUESTION
        return "We're paused. Say resume when you're ready."
