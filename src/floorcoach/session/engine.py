"""The session engine: a pure state machine that plays a routine from events to effects.

It never reads a clock, sleeps or touches a device: time arrives in events, and what
should happen comes out as effects. Holds, reps and rests run on absolute deadlines
(start + offset) so that speech length and late ticks never make the schedule drift.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Final

from floorcoach.commands import (
    Command,
    Feeling,
    Intent,
    ListenContext,
    Location,
    RedFlag,
    Reply,
    spoken_table,
)
from floorcoach.content.catalog import LoadedRoutine, ResolvedItem
from floorcoach.content.routine import Exercise, ExerciseKind, PainRules, Sides
from floorcoach.session.counting import (
    estimate_speech_seconds,
    hold_countdown,
    number_word,
    spoken_minutes,
    spoken_seconds,
)
from floorcoach.session.events import (
    ChangeSpeech,
    CueKind,
    Effect,
    Event,
    Heard,
    InputSource,
    Log,
    Notice,
    Phase,
    PlayCue,
    Priority,
    Say,
    SessionEnded,
    SpeechDone,
    Start,
    StopSpeech,
    Tick,
)

STOP_CONFIRM_SECONDS: Final = 10.0
DEFAULT_RATE_WPM: Final = 150
RATE_STEP_WPM: Final = 20
RATE_RANGE_WPM: Final = (90, 230)
VOLUME_STEP: Final = 0.15
VOLUME_RANGE: Final = (0.2, 1.0)
TEMPO_STEP: Final = 1.25
LENGTH_STEP: Final = 1.25
FORM_CUE_MIN_HOLD_SECONDS: Final = 15.0
BREATHING_REMINDER: Final = "Keep breathing slowly. Never hold your breath."

RED_FLAG_REASONS: Final[dict[RedFlag, str]] = {
    RedFlag.SADDLE_NUMBNESS: "Numbness between the legs or in the saddle area",
    RedFlag.BLADDER_BOWEL: "New trouble controlling your bladder or bowels",
    RedFlag.WEAK_LEGS: "Weakness in both legs",
    RedFlag.CANT_FEEL_LEG: "Losing feeling in your leg",
    RedFlag.FOOT_WEAKNESS: "Severe weakness lifting your foot",
    RedFlag.BOTH_LEGS: "Pain spreading to both legs",
}
RED_FLAG_QUESTIONS: Final[dict[RedFlag, str]] = {
    RedFlag.SADDLE_NUMBNESS: "you're numb between your legs",
    RedFlag.BLADDER_BOWEL: "you have bladder or bowel problems",
    RedFlag.WEAK_LEGS: "both your legs are weak",
    RedFlag.CANT_FEEL_LEG: "you can't feel your leg",
    RedFlag.FOOT_WEAKNESS: "you can't lift your foot",
    RedFlag.BOTH_LEGS: "you have pain in both legs",
}
"""Each warning sign as the user said it, turned round: "Did you say you can't feel your leg?"."""
RED_FLAG_ANSWER_SECONDS: Final = 8.0
"""No answer this long after the question: the warning sign stands (missing one is worse)."""
UNDO_SECONDS: Final = 10.0
"""After next, previous or restart heard by voice, "go back" restores for this long."""


def _deny_word() -> str:
    """How to say "I didn't say that" in words the recognizer listens for in that moment.

    "no" when the confirm grammar has it; otherwise "carry on", which it always has.
    """
    return "no" if "no" in spoken_table(ListenContext.CONFIRM) else "carry on"


DENY_WORD: Final = _deny_word()


class Outcome(StrEnum):
    """How an exercise went; stored in the summary and the history."""

    COMPLETED = "completed"
    REDUCED = "reduced"
    EASIER_VARIANT = "easier_variant"
    HARDER_VARIANT = "harder_variant"
    PARTIAL = "partial"
    SKIPPED = "skipped"
    NOT_REACHED = "not_reached"


class PauseReason(StrEnum):
    """Why the clock is stopped."""

    USER = "user"
    PAIN = "pain"
    CONFIRM_STOP = "confirm_stop"
    RED_FLAG = "red_flag"


UnitKey = tuple[int, str, int]
"""(set index, side: '' / 'left' / 'right', rep index): one hold or one rep."""


# ---------------------------------------------------------------- steps


@dataclass(frozen=True)
class SayStep:
    """Say something and wait until it has been said."""

    text: str
    phase: Phase
    cue_before: CueKind | None = None
    cue_after: CueKind | None = None


@dataclass(frozen=True)
class TimedStep:
    """A stretch of clock time with things said at fixed offsets."""

    phase: Phase
    seconds: float
    keys: tuple[UnitKey, ...] = ()
    intro: str | None = None
    end_cue: CueKind | None = None
    end_text: str | None = None
    period_seconds: float = 0.0
    """Reps only: seconds from one beat to the next."""
    top_hold_seconds: float = 0.0
    tag: str = ""
    """Marks a wait for an answer ('resume_offer', 'feeling'); empty for exercise time."""


@dataclass(frozen=True)
class CallStep:
    """Work to do when the plan reaches this point (plans that depend on earlier answers)."""

    action: str


Step = SayStep | TimedStep | CallStep

FeelingPlanner = Callable[[Feeling | None], tuple[LoadedRoutine, list[str]]]
"""Given the next-day answer, the routine as adapted for today and what to say about it."""
RESUME_OFFER_SECONDS: Final = 10.0
FEELING_WAIT_SECONDS: Final = 12.0
PAIN_FOLLOWUP_SECONDS: Final = 10.0
"""A location said this soon after a pain decision answers "where?" and the decision is retaken."""


@dataclass
class _Action:
    offset: float
    text: str | None = None
    cue: CueKind | None = None
    complete: tuple[UnitKey, ...] = ()
    priority: Priority = Priority.COUNT
    interruptible: bool = False


@dataclass
class _Running:
    """The timed step in progress: when it started and what is still to happen."""

    step: TimedStep
    start: float
    actions: list[_Action]
    index: int = 0

    @property
    def end(self) -> float:
        return self.start + self.step.seconds


# ---------------------------------------------------------------- per-exercise state


@dataclass
class _Performance:
    """One exercise as it is being done now, with what has been adapted."""

    item: ResolvedItem
    exercise: Exercise
    hold_seconds: float
    reps: int
    sets: int
    tempo_seconds: float
    completed: set[UnitKey] = field(default_factory=set)
    outcome: Outcome = Outcome.COMPLETED
    notes: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, item: ResolvedItem, exercise: Exercise | None = None) -> _Performance:
        ex = exercise or item.exercise
        return cls(item, ex, ex.hold_seconds, ex.reps, ex.sets, ex.tempo_seconds)

    @property
    def rules(self) -> PainRules:
        return self.item.pain_rules

    def units(self) -> list[UnitKey]:
        """Every hold or rep in the order they are done."""
        sides = [""] if self.exercise.sides is Sides.NONE else ["left", "right"]
        order: list[UnitKey] = []
        for set_index in range(self.sets):
            if self.exercise.sides is Sides.ALTERNATE:
                order.extend((set_index, s, r) for r in range(self.reps) for s in sides)
            else:
                order.extend((set_index, s, r) for s in sides for r in range(self.reps))
        return order

    def remaining(self) -> list[UnitKey]:
        return [unit for unit in self.units() if unit not in self.completed]


@dataclass
class _PainDialog:
    level: int | None
    location: Location | None
    deadline: float
    asking: str = "level"


PAIN_RANKS: Final[dict[str, int]] = {"continue": 0, "reduce": 1, "easier_variant": 2, "skip": 3}
"""Decisions on pain, gentlest first: a late answer to "where?" may only move up this list."""


@dataclass
class _PainFollowup:
    """The last pain decision, open for a while to a late answer to "where?"."""

    until: float
    level: int
    location: Location | None
    report: dict[str, Any]
    decision: str
    item_index: int | None
    """The routine item decided on; None before the first exercise."""


@dataclass
class _StartPlan:
    """What pain reported before the first exercise does to it, applied when it opens."""

    index: int
    decision: str
    variant: Exercise | None = None
    hold_seconds: float = 0.0
    reps: int = 0
    tempo_seconds: float = 0.0


@dataclass
class _Snapshot:
    """The session just before a command heard by voice, for "go back" to restore."""

    command: Command
    taken_at: float
    until: float
    fields: dict[str, Any]


@dataclass
class _RedFlagCheck:
    """A warning sign heard by voice, asked back before the session ends on it."""

    flag: RedFlag
    question_id: int
    deadline: float
    paused_here: bool
    """The check stopped the clock (False: it was already stopped, by a pause or pain)."""
    started: float
    said: bool = False
    """The question has been said (until then a repeat of the warning sign is its echo)."""


@dataclass
class _ExerciseRecord:
    index: int
    exercise: str
    outcome: Outcome = Outcome.NOT_REACHED
    done_as: str | None = None
    hold_seconds: float = 0.0
    reps: int = 0
    units_done: int = 0
    units_planned: int = 0
    pain_reports: int = 0
    result: str = "not_reached"
    """How it ended, whatever was changed: completed, partial, skipped or not_reached."""


# ---------------------------------------------------------------- the engine


class Engine:
    """Plays a routine: `handle(event) -> list[Effect]`, nothing else touches the world."""

    def __init__(
        self,
        loaded: LoadedRoutine,
        *,
        rate_wpm: int = DEFAULT_RATE_WPM,
        volume: float = 1.0,
        announce_duration: bool = True,
        start_index: int = 0,
        intro_lines: Sequence[str] = (),
        resume_offer: int | None = None,
        ask_feeling: bool = False,
        on_feeling: FeelingPlanner | None = None,
        progress_text: Callable[[], str] | None = None,
    ) -> None:
        """Set up a session; history-driven options come from the caller, already computed.

        start_index: begin at this item (resuming). resume_offer: offer, by voice, to carry
        on from this item (a session cut off last time). ask_feeling: ask how the back felt
        after last time, and let `on_feeling` re-plan the day from the answer.
        """
        if not 0 <= start_index < len(loaded.items):
            raise ValueError(f"start_index {start_index} is outside the routine")
        self.loaded = loaded
        self._start_index = start_index
        self._intro_lines = list(intro_lines)
        self._resume_offer = resume_offer
        self._ask_feeling = ask_feeling
        self._on_feeling = on_feeling
        self._progress_text = progress_text
        self.rate_wpm = rate_wpm
        self.volume = volume
        self.now = 0.0
        self.phase = Phase.WELCOME
        self.finished = False
        self._announce_duration = announce_duration
        self._effects: list[Effect] = []
        self._next_id = 1
        self._item_index = -1
        self._perf: _Performance | None = None
        self._steps: list[Step] = []
        self._step_index = 0
        self._waiting_id: int | None = None
        self._running: _Running | None = None
        self._paused_at: float | None = None
        self._pause_reason: PauseReason | None = None
        self._pain: _PainDialog | None = None
        self._stop_deadline: float | None = None
        self._last_instruction = ""
        self._tempo_factor = 1.0
        self._pain_counts: Counter[str] = Counter()
        self._skip_for_session: set[str] = set()
        self._records = [_ExerciseRecord(item.index, item.exercise.id) for item in loaded.items]
        self._pain_reports: list[dict[str, Any]] = []
        self._red_flag: RedFlag | None = None
        self._followup: _PainFollowup | None = None
        self._start_plan: _StartPlan | None = None
        self._start_pain: tuple[int, Location | None] | None = None
        self._undo_snapshot: _Snapshot | None = None
        self._check: _RedFlagCheck | None = None
        self._by_voice = False
        self._started = False
        self._form_cue_turn = 0
        self._leaving_early = False

    # ------------------------------------------------------------ public API

    def handle(self, event: Event) -> list[Effect]:
        """Advance the session by one event and return what should happen."""
        self._effects = []
        if self.finished:
            if isinstance(event, Heard):
                self._say("The session has ended.", Priority.RESPONSE)
            return self._take()
        self.now = max(self.now, event.t)
        if isinstance(event, Start):
            self._start()
        elif isinstance(event, Tick):
            pass
        elif isinstance(event, SpeechDone):
            self._on_speech_done(event)
        elif isinstance(event, Heard):
            self._on_heard(event)
        elif isinstance(event, Notice):
            self._say(event.text, Priority.RESPONSE)
            self._log("notice", text=event.text)
        self._run_clock()
        return self._take()

    def next_deadline(self) -> float | None:
        """The next time a Tick would change something (None: waiting on speech or words)."""
        if self._check is not None:
            return self._check.deadline  # everything else waits for the answer
        deadlines: list[float] = []
        if self._stop_deadline is not None:
            deadlines.append(self._stop_deadline)
        if self._pain is not None:
            deadlines.append(self._pain.deadline)
        if self._paused_at is None and self._running is not None:
            running = self._running
            if running.index < len(running.actions):
                deadlines.append(running.start + running.actions[running.index].offset)
            else:
                deadlines.append(running.end)
        return min(deadlines) if deadlines else None

    @property
    def exercise_id(self) -> str | None:
        """The exercise being played now (a variant's id when one was swapped in)."""
        return self._perf.exercise.id if self._perf else None

    @property
    def paused(self) -> bool:
        """Whether the session clock is stopped."""
        return self._paused_at is not None

    @property
    def timed_step_end(self) -> float | None:
        """When the hold, rest or reps in progress end (None: none, or waiting for an answer)."""
        running = self._running
        return None if running is None or running.step.tag else running.end

    @property
    def listen_context(self) -> str:
        """What the player is waiting to hear, so a recognizer can narrow its grammar.

        One of 'commands', 'pain_level', 'pain_location', 'confirm', 'feeling'.
        """
        if self._check is not None:
            return "confirm"
        if self._pain is not None:
            return "pain_level" if self._pain.asking == "level" else "pain_location"
        if self._stop_deadline is not None:
            return "confirm"
        waiting = self._waiting_for()
        if waiting == "resume_offer":
            return "confirm"
        if waiting == "feeling":
            return "feeling"
        return "commands"

    @property
    def waiting_for_speech(self) -> int | None:
        """The utterance whose end the engine waits for, if any."""
        return self._waiting_id

    def summary(self) -> dict[str, Any]:
        """Done, reduced, skipped and pain reports, as logged at the end."""
        counts = Counter(record.outcome.value for record in self._records)
        return {
            "routine": self.loaded.routine.id,
            "exercises": [
                {
                    "exercise": record.exercise,
                    "outcome": record.outcome.value,
                    "done_as": record.done_as,
                    "hold_seconds": record.hold_seconds,
                    "reps": record.reps,
                    "units_done": record.units_done,
                    "units_planned": record.units_planned,
                    "pain_reports": record.pain_reports,
                    "result": record.result,
                }
                for record in self._records
            ],
            "counts": dict(counts),
            "pain_reports": list(self._pain_reports),
            "red_flag": self._red_flag.value if self._red_flag else None,
        }

    # ------------------------------------------------------------ effects helpers

    def _take(self) -> list[Effect]:
        effects, self._effects = self._effects, []
        return effects

    def _say(
        self,
        text: str,
        priority: Priority = Priority.INSTRUCTION,
        *,
        interruptible: bool = False,
    ) -> int:
        ident = self._next_id
        self._next_id += 1
        self._effects.append(Say(text, ident, priority, interruptible))
        return ident

    def _respond(self, text: str) -> None:
        """Answer a command: cut what is being said, say the answer at once."""
        self._effects.append(StopSpeech())
        self._say(text, Priority.RESPONSE)

    def _cue(self, cue: CueKind) -> None:
        self._effects.append(PlayCue(cue))

    def _log(self, kind: str, **fields: Any) -> None:
        record: dict[str, Any] = {
            "t": round(self.now, 3),
            "kind": kind,
            "phase": self._current_phase().value,
        }
        if self.exercise_id:
            record["exercise"] = self.exercise_id
        record.update(fields)
        self._effects.append(Log(record))

    def _current_phase(self) -> Phase:
        if self.finished:
            return Phase.DONE
        if self._pain is not None:
            return Phase.PAIN_CHECK
        if self._paused_at is not None:
            return Phase.PAUSED
        return self.phase

    def _set_phase(self, phase: Phase) -> None:
        if phase is not self.phase:
            self.phase = phase
            self._log("phase")

    # ------------------------------------------------------------ flow

    def _start(self) -> None:
        if self._started:
            return
        self._started = True
        self._log("session_start", routine=self.loaded.routine.id, start_index=self._start_index)
        self._steps = self._opening_steps()
        self._step_index = 0
        self._begin_step()

    def _opening_steps(self) -> list[Step]:
        """Questions that shape the day (resume? how was your back?), then the welcome."""
        steps: list[Step] = []
        offer = self._resume_offer
        if offer is not None and 0 < offer < len(self.loaded.items):
            name = self.loaded.items[offer].exercise.name
            steps.append(
                SayStep(
                    f"Welcome back. Last time you stopped at {name}. Say resume to carry on "
                    "from there, or next to start from the beginning.",
                    Phase.WELCOME,
                )
            )
            steps.append(TimedStep(Phase.WELCOME, RESUME_OFFER_SECONDS, tag="resume_offer"))
        if self._ask_feeling:
            steps.append(
                SayStep(
                    "Before we start: how did your back feel after last time? "
                    "Better, the same, or worse?",
                    Phase.WELCOME,
                )
            )
            steps.append(TimedStep(Phase.WELCOME, FEELING_WAIT_SECONDS, tag="feeling"))
        steps.append(CallStep("welcome"))
        return steps

    def _waiting_for(self) -> str:
        running = self._running
        return running.step.tag if running is not None else ""

    def _welcome_steps(self) -> list[Step]:
        routine = self.loaded.routine
        items = self.loaded.items[self._start_index :]
        if self._start_index > 0:
            first = items[0].exercise.name
            number, total = self._start_index + 1, len(self.loaded.items)
            text = (
                f"Welcome back to {routine.name}. "
                f"We'll pick up at exercise {number} of {total}: {first}."
            )
        else:
            text = f"Welcome to {routine.name}. {routine.description}"
        steps: list[Step] = [SayStep(text, Phase.WELCOME)]
        steps.extend(SayStep(line, Phase.WELCOME) for line in self._intro_lines)
        steps.append(CallStep("today"))  # said as planned by then (pain may change the start)
        steps.extend(SayStep(note, Phase.WELCOME) for note in routine.safety_notes)
        steps.append(
            SayStep(
                "Say pause, next, or that hurts at any time. Say help to hear more.",
                Phase.WELCOME,
            )
        )
        return steps

    def _call_today(self) -> None:
        """Insert the day's plan: the exercises as they will be played, and how long."""
        plan = self._start_plan
        names: list[str] = []
        for item in self.loaded.items[self._start_index :]:
            if plan is not None and plan.index == item.index:
                if plan.decision == "skip":
                    continue
                if plan.variant is not None:
                    names.append(plan.variant.name.lower())
                    continue
            names.append(item.exercise.name.lower())
        text = f"Today: {_join_words(_unique(names))}." if names else "Nothing more today."
        if self._announce_duration:
            seconds = estimate_total_seconds(self.loaded, start_index=self._start_index)
            text += f" It takes {spoken_minutes(seconds)}."
        self._steps.insert(self._step_index, SayStep(text, Phase.WELCOME))

    def _call_welcome(self) -> None:
        """Insert the welcome now that the day's plan is settled."""
        self._steps[self._step_index : self._step_index] = self._welcome_steps()
        self._item_index = self._start_index - 1

    def _answer_timed_out(self, tag: str) -> None:
        if tag == "resume_offer":
            self._log("resume_declined", reason="no answer")
        elif tag == "feeling":
            self._log("next_day_unanswered", reason="no answer")

    def _end_wait(self) -> None:
        """An answer came: the wait for it is over."""
        self._running = None
        self._step_index += 1
        self._begin_step()

    def _begin_step(self) -> None:
        """Start the step at _step_index, or move on when the list is used up."""
        while self._step_index >= len(self._steps):
            if not self._next_exercise():
                return
        step = self._steps[self._step_index]
        if isinstance(step, CallStep):
            self._step_index += 1
            getattr(self, f"_call_{step.action}")()
            self._begin_step()
            return
        if isinstance(step, SayStep):
            self._set_phase(step.phase)
            if step.cue_before:
                self._cue(step.cue_before)
            self._last_instruction = step.text
            self._waiting_id = self._say(step.text)
        else:
            self._start_timed(step, self.now)

    def _start_timed(self, step: TimedStep, start: float) -> None:
        self._set_phase(step.phase)
        self._waiting_id = None
        if step.intro:
            self._last_instruction = step.intro
            self._say(step.intro)
        self._running = _Running(step, start, self._schedule(step))

    def _finish_step(self) -> None:
        self._step_index += 1
        self._begin_step()

    def _on_speech_done(self, event: SpeechDone) -> None:
        check = self._check
        if check is not None and event.utterance_id == check.question_id and not check.said:
            check.said = True  # the time to answer starts when the question has been said
            check.deadline = event.t + RED_FLAG_ANSWER_SECONDS
        if event.utterance_id != self._waiting_id or self._paused_at is not None:
            return
        self._waiting_id = None
        step = self._steps[self._step_index]
        assert isinstance(step, SayStep)
        if step.cue_after:
            self._cue(step.cue_after)
        self._finish_step()

    def _run_clock(self) -> None:
        """Carry out every scheduled action that is due; chain timed steps exactly."""
        while self._paused_at is None and self._running is not None and not self.finished:
            running = self._running
            if running.index < len(running.actions):
                action = running.actions[running.index]
                if running.start + action.offset > self.now + 1e-9:
                    break
                running.index += 1
                self._do(action)
                continue
            if running.end > self.now + 1e-9:
                break
            self._running = None
            end = running.end
            self._step_index += 1
            while self._step_index >= len(self._steps):
                if not self._next_exercise():
                    return
            if running.step.tag:
                self._answer_timed_out(running.step.tag)
            step = self._steps[self._step_index]
            if isinstance(step, TimedStep):
                self._start_timed(step, end)  # back to back: no drift from late ticks
            else:
                self._begin_step()
        self._check_deadlines()

    def _check_deadlines(self) -> None:
        if self._check is not None:
            if self.now >= self._check.deadline - 1e-9:
                self._confirm_red_flag(self._check.flag, "no_answer")
            return
        if self._stop_deadline is not None and self.now >= self._stop_deadline:
            self._stop_deadline = None
            if self._pause_reason is PauseReason.CONFIRM_STOP:
                self._say("Okay, carrying on.", Priority.RESPONSE)
                self._resume(announce=False)
        if self._pain is not None and self.now >= self._pain.deadline:
            self._log("pain_no_answer", asking=self._pain.asking)
            if self._pain.level is None:
                self._pain.level = self.rules.reduce_max_level
            self._say(
                "I didn't hear an answer, so I'll treat it as moderate and go gently.",
                Priority.RESPONSE,
            )
            self._decide_pain()

    def _do(self, action: _Action) -> None:
        if action.cue:
            self._cue(action.cue)
        if action.text:
            self._say(action.text, action.priority, interruptible=action.interruptible)
        if action.complete and self._perf is not None:
            self._perf.completed.update(action.complete)

    # ------------------------------------------------------------ schedules

    def _schedule(self, step: TimedStep) -> list[_Action]:
        actions: list[_Action] = []
        if step.phase is Phase.HOLD:
            marks = hold_countdown(step.seconds)
            actions = [_Action(offset, text) for offset, text in marks]
            if step.seconds >= FORM_CUE_MIN_HOLD_SECONDS:
                actions = self._with_form_cues(actions, step.seconds)
        elif step.phase is Phase.REP:
            actions = self._rep_actions(step)
        elif step.phase is Phase.WALK:
            actions = self._walk_actions(step.seconds)
        end = _Action(step.seconds, step.end_text, step.end_cue, step.keys)
        if step.phase is Phase.REP:
            end.complete = step.keys[-1:]
        return [*actions, end]

    def _with_form_cues(self, marks: list[_Action], seconds: float) -> list[_Action]:
        """Put form cues and breathing reminders into the quiet gaps of a long hold."""
        cues = [*(self._perf.exercise.form_cues if self._perf else []), BREATHING_REMINDER]
        result: list[_Action] = []
        previous_end = 2.0  # let "begin" settle first
        for mark in [*marks, _Action(seconds)]:
            text = cues[self._form_cue_turn % len(cues)]
            length = estimate_speech_seconds(text, self.rate_wpm)
            if mark.offset - previous_end >= length + 2.0:
                result.append(
                    _Action(previous_end + 0.5, text, priority=Priority.CUE, interruptible=True)
                )
                self._form_cue_turn += 1
            if mark.text is not None:
                result.append(mark)
                previous_end = mark.offset + estimate_speech_seconds(mark.text, self.rate_wpm)
        return result

    def _rep_actions(self, step: TimedStep) -> list[_Action]:
        actions: list[_Action] = []
        alternate = self._perf is not None and self._perf.exercise.sides is Sides.ALTERNATE
        for beat, key in enumerate(step.keys):
            offset = beat * step.period_seconds
            count = number_word(key[2] + 1)
            if alternate and key[1]:
                count = f"{count}, {key[1]}"
            done = step.keys[beat - 1 : beat] if beat > 0 else ()
            actions.append(_Action(offset, count.capitalize() + ".", CueKind.BEAT, done))
            if step.top_hold_seconds > 0:
                tempo = step.period_seconds - step.top_hold_seconds
                actions.append(_Action(offset + tempo / 2, "Hold."))
                actions.append(_Action(offset + tempo / 2 + step.top_hold_seconds, "And down."))
        return actions

    def _walk_actions(self, seconds: float) -> list[_Action]:
        every = self._perf.exercise.time_check_every_seconds if self._perf else 60.0
        actions: list[_Action] = []
        elapsed = every
        while elapsed < seconds - 5:
            left = seconds - elapsed
            text = f"{spoken_seconds(elapsed)} done, {spoken_seconds(left)} to go."
            actions.append(_Action(elapsed, text))
            elapsed += every
        return actions

    # ------------------------------------------------------------ building exercises

    def _next_exercise(self) -> bool:
        """Close the current exercise and open the next one; False when the routine is over."""
        arriving = not self._leaving_early
        self._close_exercise(left_early=self._leaving_early)
        self._leaving_early = False
        index = self._item_index + 1
        while index < len(self.loaded.items):
            item = self.loaded.items[index]
            plan = (
                self._start_plan if self._start_plan and self._start_plan.index == index else None
            )
            self._start_plan = None
            if plan is not None and plan.decision == "skip":
                # said when it was decided, before the first exercise
                self._records[index].outcome = Outcome.SKIPPED
                self._records[index].result = "skipped"
                index += 1
                arriving = False
                continue
            if item.exercise.id in self._skip_for_session:
                self._records[index].outcome = Outcome.SKIPPED
                self._records[index].result = "skipped"
                self._say(f"Skipping {item.exercise.name} today, since it hurt earlier.")
                index += 1
                continue
            self._open_exercise(index, arriving=arriving, plan=plan)
            return True
        self._end_session()
        return False

    def _open_exercise(
        self,
        index: int,
        *,
        arriving: bool,
        exercise: Exercise | None = None,
        plan: _StartPlan | None = None,
    ) -> None:
        self._item_index = index
        item = self.loaded.items[index]
        if plan is not None and plan.variant is not None:
            exercise = plan.variant
        self._perf = _Performance.of(item, exercise)
        record = self._records[index]
        if exercise is None or plan is not None:
            record.outcome = Outcome.NOT_REACHED
            record.done_as = None
            record.result = "not_reached"
        if plan is not None and plan.variant is not None:
            record.outcome = Outcome.EASIER_VARIANT
            record.done_as = plan.variant.id
        elif plan is not None and plan.decision == "reduce":
            perf = self._perf
            perf.hold_seconds, perf.reps, perf.tempo_seconds = (
                plan.hold_seconds,
                plan.reps,
                plan.tempo_seconds,
            )
            perf.outcome = record.outcome = Outcome.REDUCED
        self._steps = self._exercise_steps(self._perf, intro=True, arriving=arriving)
        self._step_index = 0
        self._running = None
        self._log("exercise_start", index=index)

    def _close_exercise(self, *, left_early: bool = False) -> None:
        """Record how the exercise went; left_early means the user moved on from it."""
        perf = self._perf
        if perf is None:
            return
        record = self._records[perf.item.index]
        finished = not perf.remaining()
        if record.outcome is Outcome.NOT_REACHED:
            if finished:
                record.outcome = perf.outcome
            elif perf.completed:
                record.outcome = Outcome.PARTIAL
            elif left_early:
                record.outcome = Outcome.SKIPPED
        if record.outcome is Outcome.SKIPPED:
            record.result = "skipped"
        elif finished:
            record.result = "completed"
        elif perf.completed:
            record.result = "partial"
        else:
            record.result = "skipped" if left_early else "not_reached"
        units = perf.units()
        record.units_done = len(perf.completed.intersection(units))
        record.units_planned = len(units)
        record.hold_seconds = perf.hold_seconds if perf.exercise.kind is ExerciseKind.HOLD else 0
        record.reps = perf.reps
        self._log(
            "outcome",
            index=perf.item.index,
            outcome=record.outcome.value,
            done_as=record.done_as,
            hold_seconds=record.hold_seconds,
            reps=record.reps,
            units_done=record.units_done,
            units_planned=record.units_planned,
        )
        self._perf = None

    def _exercise_steps(self, perf: _Performance, *, intro: bool, arriving: bool) -> list[Step]:
        ex = perf.exercise
        steps: list[Step] = []
        if intro:
            number, total = perf.item.index + 1, len(self.loaded.items)
            rest = self.loaded.routine.rest_between_exercises_seconds
            if arriving and number > 1 and rest:
                text = f"Well done. Rest for {spoken_seconds(rest)}; next is {ex.name}."
                steps.append(TimedStep(Phase.REST, rest, intro=text))
            steps.append(SayStep(f"Exercise {number} of {total}: {ex.name}.", Phase.ANNOUNCE))
            steps.append(SayStep(f"For this one, you'll be {ex.position.spoken}.", Phase.ANNOUNCE))
            steps.extend(SayStep(line, Phase.INSTRUCT) for line in ex.setup)
            steps.extend(SayStep(line, Phase.INSTRUCT) for line in ex.precautions)
            if perf.rules.stop_note:
                steps.append(SayStep(perf.rules.stop_note, Phase.INSTRUCT))
            steps.append(SayStep(self._work_description(perf), Phase.INSTRUCT))
        steps.extend(self._unit_steps(perf))
        return steps

    def _work_description(self, perf: _Performance) -> str:
        ex = perf.exercise
        if ex.kind is ExerciseKind.TIMED:
            minutes = (ex.duration_minutes or 0) * 60
            return (
                f"Walk for {spoken_seconds(minutes)} at a comfortable pace. "
                f"I'll tell you the time every {spoken_seconds(ex.time_check_every_seconds)}."
            )
        sides = {
            Sides.NONE: "",
            Sides.LEFT_THEN_RIGHT: " on each side, left side first",
            Sides.ALTERNATE: " on each side, alternating sides",
        }[ex.sides]
        sets = f", {number_word(perf.sets)} sets" if perf.sets > 1 else ""
        if ex.kind is ExerciseKind.HOLD:
            times = _times(perf.reps)
            return f"Hold for {spoken_seconds(perf.hold_seconds)}, {times}{sides}{sets}."
        top = (
            f", holding {spoken_seconds(perf.hold_seconds)} at the top"
            if perf.hold_seconds > 0
            else ""
        )
        reps = "1 rep" if perf.reps == 1 else f"{perf.reps} reps"
        return f"{reps}{sides}{sets}{top}. I'll count."

    def _unit_steps(self, perf: _Performance) -> list[Step]:
        ex = perf.exercise
        if ex.kind is ExerciseKind.TIMED:
            seconds = (ex.duration_minutes or 0) * 60
            if perf.completed:
                return []
            return [
                SayStep("Ready, and start walking.", Phase.INSTRUCT, cue_after=CueKind.START),
                TimedStep(
                    Phase.WALK,
                    seconds,
                    keys=((0, "", 0),),
                    end_cue=CueKind.END,
                    end_text="Time's up. Well done; slow down and stop.",
                ),
            ]
        groups = _group_units(perf)
        steps: list[Step] = []
        previous: UnitKey | None = None
        for group in groups:
            first = group[0]
            if previous is not None:
                if previous[0] != first[0]:
                    rest = ex.rest_seconds
                    text = (
                        f"Rest for {spoken_seconds(rest)}. Then set {first[0] + 1} of {perf.sets}."
                    )
                    steps.append(TimedStep(Phase.REST, rest, intro=text, end_cue=CueKind.REST_OVER))
                elif ex.relax_seconds > 0:
                    steps.append(TimedStep(Phase.REST, ex.relax_seconds))
            counted_sides = ex.kind is ExerciseKind.REPS and ex.sides is Sides.ALTERNATE
            if first[1] and not counted_sides:
                if previous is None or previous[0] != first[0]:
                    steps.append(SayStep(f"{first[1].capitalize()} side.", Phase.SWITCH_SIDE))
                elif previous[1] != first[1]:
                    steps.append(
                        SayStep(
                            f"Now the {first[1]} side.",
                            Phase.SWITCH_SIDE,
                            cue_before=CueKind.SWITCH,
                        )
                    )
            # reps start on their first beat; a start tone as well would push that beat late
            start_cue = CueKind.START if ex.kind is ExerciseKind.HOLD else None
            steps.append(SayStep("Ready, and begin.", Phase.INSTRUCT, cue_after=start_cue))
            if ex.kind is ExerciseKind.HOLD:
                steps.append(
                    TimedStep(
                        Phase.HOLD,
                        perf.hold_seconds,
                        keys=tuple(group),
                        end_cue=CueKind.END,
                        end_text="And relax.",
                    )
                )
            else:
                steps.append(self._rep_step(perf, group))
            previous = group[-1]
        return steps

    def _rep_step(self, perf: _Performance, keys: list[UnitKey]) -> TimedStep:
        """A block of reps counted on the current tempo (with any hold at the top)."""
        period = perf.tempo_seconds * self._tempo_factor + perf.hold_seconds
        return TimedStep(
            Phase.REP,
            period * len(keys),
            keys=tuple(keys),
            end_cue=CueKind.END,
            end_text="And relax.",
            period_seconds=period,
            top_hold_seconds=perf.hold_seconds,
        )

    def _rebuild(self, *, intro: bool = False, lead: str | None = None) -> None:
        """Re-plan what is left of this exercise (after a change) and start it."""
        assert self._perf is not None
        self._running = None
        self._steps = []
        if lead:
            self._steps.append(SayStep(lead, Phase.INSTRUCT))
        self._steps.extend(self._exercise_steps(self._perf, intro=intro, arriving=False))
        self._step_index = 0
        self._begin_step()

    def _end_session(self) -> None:
        self._running = None
        self._steps = []
        self._waiting_id = None
        summary = self.summary()
        self._say(self._summary_text(summary))
        self.finished = True
        self.phase = Phase.DONE
        self._log("session_end", summary=summary)
        self._effects.append(SessionEnded(summary))

    def _summary_text(self, summary: dict[str, Any]) -> str:
        if self._red_flag is not None:
            return "The session has ended."
        results = Counter(item["result"] for item in summary["exercises"])
        done = results["completed"]
        gentler = sum(
            1
            for item in summary["exercises"]
            if item["result"] == "completed"
            and item["outcome"] in (Outcome.REDUCED, Outcome.EASIER_VARIANT)
        )
        parts = [f"That's the end of today's session. You completed {_count(done, 'exercise')}"]
        if gentler and gentler == done == 1:
            parts.append("made gentler")
        elif gentler:
            parts.append(
                f"{'all' if gentler == done else number_word(gentler)} of them made gentler"
            )
        if results["partial"]:
            parts.append(f"{number_word(results['partial'])} done in part")
        if results["skipped"]:
            parts.append(f"{number_word(results['skipped'])} skipped")
        if results["not_reached"]:
            parts.append(f"{number_word(results['not_reached'])} not reached")
        text = ", ".join(parts) + "."
        reports = len(summary["pain_reports"])
        if reports:
            text += f" You reported pain {_times(reports)}; I'll remember that next time."
        if done == 0:
            return text + " Rest well, and come back when you're ready."
        return text + " Well done."

    # ------------------------------------------------------------ pause and resume

    def _pause(self, reason: PauseReason) -> None:
        if self._paused_at is None:
            self._paused_at = self.now
            self._log("paused", reason=reason.value)
        self._pause_reason = reason
        self._effects.append(StopSpeech())

    def _resume(self, *, announce: bool = True) -> None:
        if self._paused_at is None:
            return
        paused_for = self.now - self._paused_at
        self._paused_at = None
        self._pause_reason = None
        self._stop_deadline = None
        if self._running is not None:
            self._running.start += paused_for  # the deadlines move by exactly the pause
            if announce:
                self._say(f"Resuming: {self._where_text()}", Priority.RESPONSE)
        elif self._waiting_id is not None or self._step_index < len(self._steps):
            if announce:
                self._say("Resuming.", Priority.RESPONSE)
            self._begin_step()  # say the interrupted instruction again
        self._log("resumed", paused_seconds=round(paused_for, 3))

    def _where_text(self) -> str:
        running = self._running
        if running is None:
            return f"{self.phase.value.replace('_', ' ')}."
        left = running.end - (self._paused_at if self._paused_at is not None else self.now)
        phase = running.step.phase
        if phase is Phase.REP:
            remaining = running.step.keys[self._beats_done(running) :]
            return f"reps, {_count(len(remaining), 'rep')} to go."
        name = {Phase.HOLD: "hold", Phase.REST: "rest", Phase.WALK: "walk"}.get(phase, "")
        return f"{name}, {spoken_seconds(max(1.0, left))} left."

    def _beats_done(self, running: _Running) -> int:
        done = sum(1 for action in running.actions[: running.index] if action.cue is CueKind.BEAT)
        return max(0, done - 1)

    # ------------------------------------------------------------ commands

    @property
    def rules(self) -> PainRules:
        """The pain rules in force now (defaults before the first exercise)."""
        if self._perf is not None:
            return self._perf.rules
        upcoming = self._upcoming_index()
        if upcoming is not None:
            return self.loaded.items[upcoming].pain_rules
        from floorcoach.content.routine import DEFAULT_PAIN_RULES

        return DEFAULT_PAIN_RULES

    def _on_heard(self, event: Heard) -> None:
        intent = event.intent
        voice = event.source is InputSource.VOICE
        self._log("heard", command=intent.value, text=event.text, source=event.source.value)
        if self._check is not None:
            self._answer_red_flag_check(intent)
            return
        if intent.red_flag is not None:
            if voice:
                self._ask_red_flag(intent.red_flag)  # it may have been misheard
            else:
                self._on_red_flag(intent.red_flag)  # typed: meant
            return
        if self._undo_wanted(intent):
            self._undo()
            return
        if self._pain is not None and self._answer_pain(intent):
            return
        if intent.reply is Reply.NO and self._stop_deadline is not None:
            intent = Intent(command=Command.RESUME)  # "Say stop again ...": "no"
        if intent.command is None:
            self._on_stray_answer(intent)
            return
        command = intent.command
        if command in (Command.PAIN, Command.STOP):
            self._undo_snapshot = None
        if self._stop_deadline is not None and command is not Command.STOP:
            self._stop_deadline = None
            if command is Command.RESUME or self._pause_reason is PauseReason.CONFIRM_STOP:
                if command is Command.RESUME:
                    self._resume()
                    return
                self._resume(announce=False)
        handler = getattr(self, f"_cmd_{command.value}")
        self._by_voice = voice
        try:
            handler(intent)
        finally:
            self._by_voice = False

    def _on_stray_answer(self, intent: Intent) -> None:
        if intent.feeling is not None and self._waiting_for() == "feeling":
            self._take_feeling(intent.feeling)
            return
        if intent.query == "progress":
            text = self._progress_text() if self._progress_text else ""
            self._respond(text or "I don't have any history to go on yet.")
            self._reissue_if_instruction()
            return
        if intent.feeling is not None:
            self._respond("Thanks. If something hurts, say 'that hurts'.")
            return
        if intent.reply is not None:
            self._respond("Okay.")
            self._reissue_if_instruction()
            return
        if intent.location is not None:
            if self._late_location(intent.location):
                return
            # "it's in my leg" out of the blue is a pain report with its answer
            self._cmd_pain(Intent(command=Command.PAIN), location=intent.location)
            return
        self._respond("If something hurts, say 'that hurts'. Say help to hear what you can say.")

    def _cmd_pause(self, intent: Intent) -> None:
        if self._paused_at is not None:
            self._respond("Still paused. Say resume when you're ready.")
            return
        self._pause(PauseReason.USER)
        self._say("Paused. Say resume when you're ready.", Priority.RESPONSE)

    def _cmd_resume(self, intent: Intent) -> None:
        if self._waiting_for() == "resume_offer" and self._paused_at is None:
            offer = self._resume_offer or 0
            self._start_index = offer
            self._ask_feeling = False
            self._log("resume_accepted", index=offer)
            self._respond(f"Carrying on from {self.loaded.items[offer].exercise.name}.")
            if self._start_pain is not None:
                self._plan_start(*self._start_pain)  # the first exercise is another one now
            self._steps = [*self._steps[: self._step_index + 1], CallStep("welcome")]
            self._end_wait()
            return
        if self._paused_at is None:
            self._respond("We're already going.")
            return
        self._effects.append(StopSpeech())
        self._resume()

    def _cmd_next(self, intent: Intent) -> None:
        if self._waiting_for() in ("resume_offer", "feeling") and self._paused_at is None:
            tag = self._waiting_for()
            self._log(
                "resume_declined" if tag == "resume_offer" else "next_day_unanswered", reason="next"
            )
            self._respond("Okay.")
            self._end_wait()
            return
        snapshot = self._snapshot(Command.NEXT) if self._by_voice else None
        self._resume_silently()
        if self._item_index < 0:
            self._respond("Let's start.")
            self._steps, self._step_index = [], 0
            self._begin_step()
            return
        last = self._item_index + 1 >= len(self.loaded.items)
        if snapshot is not None and self._perf is not None:
            # say what was skipped, and how to have it back: a misheard "next" costs nothing
            self._undo_snapshot = snapshot
            name = self._perf.exercise.name
            self._respond(
                f"Skipping {name}{', the last exercise' if last else ''}. "
                "Say go back to return to it."
            )
            self._log("decision", decision="next", reason="asked", undo_seconds=UNDO_SECONDS)
            if last:
                # the session ends once "go back" can no longer bring the exercise back
                self._leaving_early = True
                self._running = None
                self._steps = [TimedStep(Phase.REST, UNDO_SECONDS, tag="undo")]
                self._step_index = 0
                self._begin_step()
                return
            self._leave_exercise()
            return
        if not last:
            nxt = self.loaded.items[self._item_index + 1].exercise.name
            self._respond(f"Moving on to {nxt}.")
        else:
            self._respond("That was the last exercise.")
        self._log("decision", decision="next", reason="asked")
        self._leave_exercise()

    def _cmd_previous(self, intent: Intent) -> None:
        snapshot = self._snapshot(Command.PREVIOUS) if self._by_voice else None
        self._resume_silently()
        target = max(0, self._item_index - 1)
        leaving = self._perf.exercise.name if self._perf is not None else None
        undo = ""
        if snapshot is not None and leaving is not None:
            self._undo_snapshot = snapshot
            undo = f" Say go back to return to {leaving}."
        if self._item_index <= 0:
            if undo:
                undo = " Say go back to return to where you were."
            self._respond(f"This is the first exercise, so let's start it again.{undo}")
            target = 0
        else:
            self._respond(f"Going back to {self.loaded.items[target].exercise.name}.{undo}")
        if self._perf is not None:
            self._close_exercise()
        self._records[target].outcome = Outcome.NOT_REACHED
        self._open_exercise(target, arriving=False)
        self._begin_step()

    def _cmd_repeat(self, intent: Intent) -> None:
        text = self._last_instruction or "Nothing to repeat yet."
        if self._running is None and self._waiting_id is not None and self._paused_at is None:
            self._effects.append(StopSpeech())
            self._begin_step()  # re-say the instruction and wait for it again
            return
        self._respond(text)

    def _cmd_restart(self, intent: Intent) -> None:
        snapshot = self._snapshot(Command.RESTART) if self._by_voice else None
        self._resume_silently()
        if self._perf is None:
            self._respond("Starting from the beginning.")
            self._steps, self._step_index = self._welcome_steps(), 0
            self._begin_step()
            return
        index = self._item_index
        undo = ""
        if snapshot is not None:
            self._undo_snapshot = snapshot
            undo = " Say go back to return to where you were."
        self._respond(f"Starting {self._perf.exercise.name} again.{undo}")
        swapped = self._perf.exercise.id != self._perf.item.exercise.id
        variant = self._perf.exercise if swapped else None
        self._perf = None
        self._open_exercise(index, arriving=False, exercise=variant)
        self._begin_step()

    def _cmd_slower(self, intent: Intent) -> None:
        self._change_tempo(TEMPO_STEP, "slower")

    def _cmd_faster(self, intent: Intent) -> None:
        self._change_tempo(1 / TEMPO_STEP, "faster")

    def _change_tempo(self, factor: float, word: str) -> None:
        new = min(3.0, max(0.5, self._tempo_factor * factor))
        if math.isclose(new, self._tempo_factor):
            self._respond(f"That's as {word.removesuffix('er')} as I count.")
            return
        self._tempo_factor = new
        self._log("decision", decision=f"tempo_{word}", tempo_factor=round(new, 3))
        running = self._running
        if running is not None and running.step.phase is Phase.REP and self._perf is not None:
            self._respond(f"Counting {word}.")
            self._restart_reps_from_now()
        else:
            self._respond(f"Okay, I'll count the reps {word}.")

    def _restart_reps_from_now(self) -> None:
        """Re-plan the remaining reps of this block on the new tempo, from this moment."""
        assert self._perf is not None
        assert self._running is not None
        running = self._running
        self._running = None
        done = running.step.keys[: self._beats_done(running)]
        self._perf.completed.update(done)
        remaining = [key for key in running.step.keys if key not in self._perf.completed]
        if not remaining:
            self._finish_step()
            return
        step = self._rep_step(self._perf, remaining)
        self._steps[self._step_index] = step
        self._start_timed(step, self.now + 1.0)

    def _cmd_shorter(self, intent: Intent) -> None:
        self._change_length(1 / LENGTH_STEP)

    def _cmd_longer(self, intent: Intent) -> None:
        self._change_length(LENGTH_STEP)

    def _change_length(self, factor: float) -> None:
        perf = self._perf
        if perf is None or perf.exercise.kind is ExerciseKind.TIMED:
            self._respond("There's nothing to make shorter or longer right now.")
            return
        ex = perf.exercise
        word = "longer" if factor > 1 else "shorter"
        if ex.kind is ExerciseKind.HOLD:
            low, high = ex.hold_range_seconds
            new = min(high, max(low, round(perf.hold_seconds * factor)))
            if new == perf.hold_seconds:
                self._respond(f"That's already the {word.removesuffix('er')}est hold for this one.")
                return
            perf.hold_seconds = new
            self._respond(f"Holds are now {spoken_seconds(new)}.")
            self._log("decision", decision=word, hold_seconds=new)
            self._retime_hold()
        else:
            low_reps, high_reps = ex.reps_range
            step = 2 if factor > 1 else -2
            new_reps = min(high_reps, max(low_reps, perf.reps + step))
            if new_reps == perf.reps:
                most = "most" if factor > 1 else "fewest"
                self._respond(f"That's already the {most} reps for this one.")
                return
            perf.reps = new_reps
            self._respond(f"Okay, {number_word(new_reps)} reps.")
            self._log("decision", decision=word, reps=new_reps)
            self._replan_rest_of_exercise()

    def _retime_hold(self) -> None:
        """Apply a new hold length to the hold in progress and to the holds still to come."""
        assert self._perf is not None
        running = self._running
        if running is not None and running.step.phase is Phase.HOLD:
            elapsed = (self._paused_at or self.now) - running.start
            seconds = max(self._perf.hold_seconds, elapsed + 3.0)
            step = TimedStep(
                Phase.HOLD,
                seconds,
                keys=running.step.keys,
                end_cue=running.step.end_cue,
                end_text=running.step.end_text,
            )
            actions = [a for a in self._schedule(step) if a.offset > elapsed + 1e-6]
            self._running = _Running(step, running.start, actions)
            self._steps[self._step_index] = step
        self._replan_rest_of_exercise(keep_current=True)

    def _replan_rest_of_exercise(self, *, keep_current: bool = True) -> None:
        """Swap the steps after the current one for a fresh plan of what is left."""
        assert self._perf is not None
        current = self._steps[: self._step_index + 1] if keep_current else []
        running_keys = set(self._running.step.keys) if self._running is not None else set()
        saved = set(self._perf.completed)
        self._perf.completed |= running_keys
        rest = self._unit_steps(self._perf)
        self._perf.completed = saved
        self._steps = current + rest if keep_current else rest

    def _cmd_louder(self, intent: Intent) -> None:
        self._change_volume(VOLUME_STEP, "Louder.", "That's as loud as I go.")

    def _cmd_quieter(self, intent: Intent) -> None:
        self._change_volume(-VOLUME_STEP, "Quieter.", "That's as quiet as I go.")

    def _change_volume(self, step: float, said: str, at_limit: str) -> None:
        new = round(min(VOLUME_RANGE[1], max(VOLUME_RANGE[0], self.volume + step)), 2)
        if new == self.volume:
            self._respond(at_limit)
            return
        self.volume = new
        self._effects.append(StopSpeech())
        self._effects.append(ChangeSpeech(self.rate_wpm, self.volume))
        self._say(f"{said} Is this better?", Priority.RESPONSE)
        self._log("decision", decision="volume", volume=new)

    def _cmd_speak_slower(self, intent: Intent) -> None:
        self._change_rate(-RATE_STEP_WPM, "I'll speak more slowly.", "This is my slowest.")

    def _cmd_speak_faster(self, intent: Intent) -> None:
        self._change_rate(RATE_STEP_WPM, "I'll speak a little faster.", "This is my fastest.")

    def _change_rate(self, step: int, said: str, at_limit: str) -> None:
        new = min(RATE_RANGE_WPM[1], max(RATE_RANGE_WPM[0], self.rate_wpm + step))
        if new == self.rate_wpm:
            self._respond(at_limit)
            return
        self.rate_wpm = new
        self._effects.append(StopSpeech())
        self._effects.append(ChangeSpeech(self.rate_wpm, self.volume))
        self._say(said, Priority.RESPONSE)
        self._log("decision", decision="speech_rate", rate_wpm=new)
        if self._running is None and self._waiting_id is not None and self._paused_at is None:
            self._begin_step()

    def _cmd_how_long(self, intent: Intent) -> None:
        left = estimate_remaining_seconds(self)
        where = self._where_text() if self._running is not None else ""
        total = f"About {spoken_minutes(left).removeprefix('about ')} left in the session."
        if left < 60:
            total = "Less than a minute left in the session."
        self._respond(f"{where[0].upper() + where[1:]} {total}" if where else total)
        self._reissue_if_instruction()

    def _cmd_whats_next(self, intent: Intent) -> None:
        following = self._item_index + 1
        if following < len(self.loaded.items):
            text = f"Next is {self.loaded.items[following].exercise.name}."
        else:
            text = "This is the last exercise."
        self._respond(text)
        self._reissue_if_instruction()

    def _cmd_help(self, intent: Intent) -> None:
        if self._paused_at is not None:
            text = "We're paused. Say resume to go on, next to skip, or stop to end."
        elif self.phase in (Phase.HOLD, Phase.REP, Phase.WALK):
            text = (
                "You can say pause, shorter, longer, slower, how long, that hurts, "
                "too easy, next, or stop."
            )
        else:
            text = "You can say pause, repeat, next, go back, how long, that hurts, or stop."
        self._respond(text)
        self._reissue_if_instruction()

    def _cmd_done(self, intent: Intent) -> None:
        running = self._running
        if self._paused_at is not None:
            self._respond("We're paused. Say resume to go on.")
            return
        if running is not None and running.step.phase in (Phase.HOLD, Phase.REP, Phase.WALK):
            self._respond("Okay, relax.")
            if self._perf is not None:
                self._perf.completed.update(running.step.keys)
            self._running = None
            self._finish_step()
            return
        if running is not None:
            self._respond("Okay.")
            self._running = None
            self._finish_step()
            return
        self._effects.append(StopSpeech())
        self._cue(CueKind.BEAT)
        self._waiting_id = None
        self._finish_step()

    def _cmd_stop(self, intent: Intent) -> None:
        if self._stop_deadline is not None:
            self._stop_deadline = None
            self._effects.append(StopSpeech())
            self._log("decision", decision="stop", reason="confirmed")
            self._paused_at = None
            self._pain = None
            self._close_exercise()
            self._end_session()
            return
        self._pause(PauseReason.CONFIRM_STOP)
        self._stop_deadline = self.now + STOP_CONFIRM_SECONDS
        self._say("Say stop again to end the session, or resume to carry on.", Priority.RESPONSE)

    def _cmd_too_easy(self, intent: Intent) -> None:
        perf = self._perf
        if perf is None:
            self._respond("Let's see how the first exercise feels.")
            return
        ex = perf.exercise
        if ex.kind is ExerciseKind.HOLD and perf.hold_seconds < ex.hold_range_seconds[1]:
            perf.hold_seconds = min(ex.hold_range_seconds[1], round(perf.hold_seconds * 1.25))
            self._respond(f"Let's hold longer: {spoken_seconds(perf.hold_seconds)}.")
            self._log("decision", decision="harder", hold_seconds=perf.hold_seconds)
            self._retime_hold()
            return
        if ex.kind is ExerciseKind.REPS and perf.reps < ex.reps_range[1]:
            perf.reps = min(ex.reps_range[1], perf.reps + 2)
            self._respond(f"Let's do more: {number_word(perf.reps)} reps.")
            self._log("decision", decision="harder", reps=perf.reps)
            self._replan_rest_of_exercise()
            return
        harder = self.loaded.variant(ex, "harder")
        if harder is not None:
            self._respond(f"You're at the top of this one. Let's move up to {harder.name}.")
            self._log("decision", decision="harder_variant", variant=harder.id)
            self._swap_variant(harder, Outcome.HARDER_VARIANT)
            return
        self._respond("You're at the top of this exercise; I'll note that for next time.")
        self._log("decision", decision="at_top", reason="too_easy")

    def _take_feeling(self, feeling: Feeling) -> None:
        self._log("next_day_feeling", feeling=feeling.value)
        if self._on_feeling is not None:
            loaded, lines = self._on_feeling(feeling)
            self.loaded = loaded
            self._records = [_ExerciseRecord(item.index, item.exercise.id) for item in loaded.items]
            self._intro_lines = list(lines)
        self._respond(f"Thanks. {feeling.value.capitalize()}, noted.")
        self._end_wait()

    def _swap_variant(self, variant: Exercise, outcome: Outcome) -> None:
        assert self._perf is not None
        index = self._item_index
        self._records[index].outcome = outcome
        self._records[index].done_as = variant.id
        self._open_exercise(index, arriving=False, exercise=variant)
        self._begin_step()

    def _resume_silently(self) -> None:
        self._pain = None
        self._stop_deadline = None
        if self._paused_at is not None:
            self._paused_at = None
            self._pause_reason = None

    def _reissue_if_instruction(self) -> None:
        """After answering during an instruction, say the instruction again."""
        if self._running is None and self._waiting_id is not None and self._paused_at is None:
            self._begin_step()

    # ------------------------------------------------------------ pain

    def _cmd_pain(self, intent: Intent, location: Location | None = None) -> None:
        self._pause(PauseReason.PAIN)
        self._followup = None
        rules = self.rules
        deadline = self.now + float(rules.answer_timeout_seconds or 20)
        self._pain = _PainDialog(intent.number, location, deadline)
        self._log("pain_reported", level=intent.number, location=location)
        if intent.number is not None and self._decides_at_once(intent.number):
            self._decide_pain()
            return
        if intent.number is None:
            self._say("Let's stop for a moment. How bad is it, from 0 to 10?", Priority.RESPONSE)
        else:
            self._ask_location()

    def _decides_at_once(self, level: int) -> bool:
        """Severe pain during an exercise stops it without asking where; before one, ask."""
        return self._perf is not None and level > (self.rules.reduce_max_level or 5)

    def _ask_location(self) -> None:
        assert self._pain is not None
        self._pain.asking = "location"
        self._pain.deadline = self.now + float(self.rules.answer_timeout_seconds or 20)
        self._say("Is it in your back, or spreading down your leg?", Priority.RESPONSE)

    def _answer_pain(self, intent: Intent) -> bool:
        """Take an answer to the pain questions; False when the words were something else."""
        dialog = self._pain
        assert dialog is not None
        if intent.number is not None and intent.command in (None, Command.PAIN):
            dialog.level = intent.number
            self._effects.append(StopSpeech())
            if dialog.location is not None or self._decides_at_once(dialog.level):
                self._decide_pain()
            else:
                self._ask_location()
            return True
        if intent.location is not None:
            dialog.location = intent.location
            self._effects.append(StopSpeech())
            if dialog.level is not None or intent.location is Location.LEG:
                self._decide_pain()
            else:
                dialog.asking = "level"
                self._say("And how bad, from 0 to 10?", Priority.RESPONSE)
            return True
        if intent.command is Command.PAIN:
            self._respond("How bad is it, from 0 to 10?")
            return True
        if intent.command is Command.RESUME:
            # "I'm fine, carry on": treat as mild
            dialog.level = dialog.level if dialog.level is not None else 0
            dialog.location = dialog.location or Location.BACK
            self._decide_pain()
            return True
        if intent.command in (Command.REPEAT, Command.HELP):
            question = (
                "How bad is it, from 0 to 10?"
                if dialog.asking == "level"
                else "Is it in your back, or spreading down your leg?"
            )
            self._respond(question)
            return True
        if intent.command is Command.PAUSE:
            self._respond("We're stopped. Tell me how bad it is, from 0 to 10.")
            return True
        return False

    def _decide_pain(self) -> None:
        dialog = self._pain
        assert dialog is not None
        self._pain = None
        rules = self.rules
        level = dialog.level if dialog.level is not None else rules.reduce_max_level or 5
        perf = self._perf
        report = {
            "t": round(self.now, 3),
            "level": level,
            "location": dialog.location.value if dialog.location else None,
            "exercise": perf.exercise.id if perf else None,
        }
        self._pain_reports.append(report)
        self._log("pain", level=level, location=report["location"])
        self._effects.append(StopSpeech())
        if perf is None:
            decision = self._plan_start(level, dialog.location)
            self._resume(announce=False)
        else:
            record = self._records[perf.item.index]
            record.pain_reports += 1
            self._pain_counts[perf.item.exercise.id] += 1
            repeated = self._pain_counts[perf.item.exercise.id] >= (rules.skip_after_reports or 2)
            decision = self._act_on_pain(perf, level, dialog.location, repeated=repeated)
        self._followup = _PainFollowup(
            self.now + PAIN_FOLLOWUP_SECONDS,
            level,
            dialog.location,
            report,
            decision,
            perf.item.index if perf else None,
        )

    @staticmethod
    def _pain_choice(level: int, location: Location | None, rules: PainRules) -> str:
        """'severe' (easier variant or skip), 'reduce' or 'continue', by the pain rules."""
        spreading = location is Location.LEG and bool(rules.stop_if_spreads_down_leg)
        if level > (rules.reduce_max_level or 5) or spreading:
            return "severe"
        if level > (rules.ease_max_level or 3):
            return "reduce"
        return "continue"

    @staticmethod
    def _why(level: int, location: Location | None, rules: PainRules) -> tuple[str, str]:
        """The reason as said ("With pain at 7,") and as logged."""
        if location is Location.LEG and rules.stop_if_spreads_down_leg:
            return "With pain spreading down your leg,", "spreading"
        return f"With pain at {level},", "severe"

    def _act_on_pain(
        self,
        perf: _Performance,
        level: int,
        location: Location | None,
        *,
        repeated: bool = False,
        lead: str = "",
    ) -> str:
        """Carry out the pain rules on the exercise in progress; returns the decision."""
        rules = perf.rules
        if repeated:
            self._skip_for_session.add(perf.item.exercise.id)
            self._decision(
                "skip",
                lead + "This exercise has hurt twice now, so we'll skip it for the rest of today.",
                reason="repeated_pain",
            )
            self._records[perf.item.index].outcome = Outcome.SKIPPED
            self._leave_exercise()
            return "skip"
        choice = self._pain_choice(level, location, rules)
        if choice == "severe":
            opening, reason = self._why(level, location, rules)
            return self._ease_off(perf, opening, reason, lead=lead)
        if choice == "reduce":
            return self._reduce(perf, rules, lead=lead)
        self._decision(
            "continue",
            lead + "Okay. Ease into it, and only go as far as is comfortable.",
            reason="mild",
        )
        self._resume(announce=False)
        if self._running is not None:
            self._say(f"Carrying on: {self._where_text()}", Priority.RESPONSE)
        return "continue"

    def _exercise_begun(self, perf: _Performance) -> bool:
        """Whether any of the exercise has been done (a hold or rep begun or finished)."""
        running = self._running
        counting = running is not None and running.step.phase in (Phase.HOLD, Phase.REP, Phase.WALK)
        return bool(perf.completed) or counting

    def _ease_off(self, perf: _Performance, opening: str, reason: str, *, lead: str = "") -> str:
        """Switch to the easier variant, or skip the exercise when there is none."""
        easier = self.loaded.variant(perf.exercise, "easier")
        record = self._records[perf.item.index]
        if easier is not None:
            if reason == "cannot_reduce":
                action = f"let's switch to the easier {easier.name}."
            elif self._exercise_begun(perf):
                action = f"let's stop this one and switch to the easier {easier.name}."
            else:
                action = f"let's do the easier {easier.name} instead."
            self._decision(
                "easier_variant", f"{lead}{opening} {action}", reason=reason, variant=easier.id
            )
            self._paused_at = None
            self._pause_reason = None
            self._swap_variant(easier, Outcome.EASIER_VARIANT)
            return "easier_variant"
        if reason == "cannot_reduce":
            action = "let's skip it for today."
        else:
            action = "let's skip this exercise for today. I'll note it for next time."
        self._decision("skip", f"{lead}{opening} {action}", reason=reason)
        record.outcome = Outcome.SKIPPED
        self._leave_exercise()
        return "skip"

    def _reduce(self, perf: _Performance, rules: PainRules, *, lead: str = "") -> str:
        ex = perf.exercise
        reduced = _reduced_numbers(ex, perf.hold_seconds, perf.reps, perf.tempo_seconds, rules)
        if reduced is None:
            return self._ease_off(
                perf, f"This one {_cannot_reduce(ex)}, so", "cannot_reduce", lead=lead
            )
        hold, reps, tempo = reduced
        plan = _gentler_plan(ex, perf, hold, reps, tempo)
        perf.hold_seconds, perf.reps, perf.tempo_seconds = hold, reps, tempo
        perf.outcome = Outcome.REDUCED
        record = self._records[perf.item.index]
        if record.outcome is Outcome.NOT_REACHED:
            record.outcome = Outcome.REDUCED
        self._decision(
            "reduce",
            f"{lead}Let's make it gentler: {plan}.",
            reason="moderate",
            hold_seconds=perf.hold_seconds,
            reps=perf.reps,
            tempo_seconds=round(perf.tempo_seconds, 2),
        )
        self._paused_at = None
        self._pause_reason = None
        # the hold or rep block that hurt starts again, at the new size
        if self._running is not None:
            perf.completed -= set(self._running.step.keys)
        self._rebuild()
        return "reduce"

    # ------------------------------------------------------------ pain before the first exercise

    def _upcoming_index(self) -> int | None:
        """The routine item the session opens next (before the first: where it starts)."""
        index = max(self._item_index + 1, self._start_index)
        return index if index < len(self.loaded.items) else None

    def _plan_start(self, level: int, location: Location | None, *, lead: str = "") -> str:
        """Pain before the first exercise: decide now what the first exercise will be."""
        self._start_plan = None
        self._start_pain = (level, location)
        index = self._upcoming_index()
        if index is None:
            self._decision("continue", lead + "Thanks for telling me.", reason="mild")
            return "continue"
        item = self.loaded.items[index]
        ex, rules = item.exercise, item.pain_rules
        choice = self._pain_choice(level, location, rules)
        if choice == "severe":
            opening, reason = self._why(level, location, rules)
            return self._plan_start_ease_off(index, opening, reason, lead=lead)
        if choice == "reduce":
            reduced = _reduced_numbers(ex, ex.hold_seconds, ex.reps, ex.tempo_seconds, rules)
            if reduced is None:
                opening = f"{ex.name} {_cannot_reduce(ex)}, so"
                return self._plan_start_ease_off(index, opening, "cannot_reduce", lead=lead)
            hold, reps, tempo = reduced
            plan = _gentler_plan(ex, _Performance.of(item), hold, reps, tempo)
            self._start_plan = _StartPlan(index, "reduce", None, hold, reps, tempo)
            self._decision(
                "reduce",
                f"{lead}Let's make {ex.name} gentler: {plan}.",
                reason="moderate",
                index=index,
                hold_seconds=hold,
                reps=reps,
                tempo_seconds=round(tempo, 2),
            )
            return "reduce"
        self._decision(
            "continue",
            lead + "Thanks for telling me. Go gently, and say that hurts at any time.",
            reason="mild",
        )
        return "continue"

    def _plan_start_ease_off(self, index: int, opening: str, reason: str, *, lead: str) -> str:
        items = self.loaded.items
        name = items[index].exercise.name
        easier = self.loaded.variant(items[index].exercise, "easier")
        if easier is not None:
            self._start_plan = _StartPlan(index, "easier_variant", easier)
            self._decision(
                "easier_variant",
                f"{lead}{opening} we'll start with the easier {easier.name} instead of {name}.",
                reason=reason,
                variant=easier.id,
                index=index,
            )
            return "easier_variant"
        self._start_plan = _StartPlan(index, "skip")
        then = f" and start with {items[index + 1].exercise.name}" if index + 1 < len(items) else ""
        self._decision(
            "skip", f"{lead}{opening} we'll skip {name} today{then}.", reason=reason, index=index
        )
        return "skip"

    # ------------------------------------------------------------ a late answer to "where?"

    def _late_location(self, location: Location) -> bool:
        """A location said soon after a pain decision answers "where?"; False if too late."""
        followup = self._followup
        if followup is None or self.now > followup.until + 1e-9:
            return False
        self._followup = None
        place = "Down your leg" if location is Location.LEG else "In your back"
        if location is not followup.location:
            followup.report["location"] = location.value
            self._log("pain", level=followup.level, location=location.value, corrected=True)
        perf = self._perf
        before_start = followup.item_index is None and perf is None
        on_same = perf is not None and followup.item_index in (None, perf.item.index)
        decision = followup.decision
        if before_start:
            item = self.loaded.items[self._upcoming_index() or 0]
            new = self._rank_of(self._pain_choice(followup.level, location, item.pain_rules), item)
            if new > PAIN_RANKS[decision]:
                self._effects.append(StopSpeech())
                self._plan_start(followup.level, location, lead="Thanks. ")
                self._reissue_if_instruction()  # the welcome line that was cut off
                return True
        elif on_same and perf is not None and decision != "skip":
            choice = self._pain_choice(followup.level, location, perf.rules)
            if self._rank_of(choice, perf.item) > PAIN_RANKS[decision]:
                self._effects.append(StopSpeech())
                if choice == "severe":
                    opening, reason = self._why(followup.level, location, perf.rules)
                    self._ease_off(perf, opening, reason, lead="Thanks. ")
                else:
                    self._reduce(perf, perf.rules, lead="Thanks. ")
                return True
        stay = (
            f"we'll stay with {perf.exercise.name}"
            if on_same and perf is not None and decision != "skip"
            else "we'll keep to that"
        )
        self._respond(f"Thanks. {place}, noted; {stay}.")
        self._reissue_if_instruction()
        return True

    def _rank_of(self, choice: str, item: ResolvedItem) -> int:
        if choice == "severe":
            easier = self.loaded.variant(item.exercise, "easier")
            return PAIN_RANKS["easier_variant" if easier is not None else "skip"]
        return PAIN_RANKS[choice]

    def _decision(self, decision: str, sentence: str, **fields: Any) -> None:
        self._say(sentence, Priority.RESPONSE)
        self._log("decision", decision=decision, said=sentence, **fields)

    def _leave_exercise(self) -> None:
        self._leaving_early = True
        self._paused_at = None
        self._pause_reason = None
        self._running = None
        self._steps, self._step_index = [], 0
        self._begin_step()

    # ------------------------------------------------------------ red flags

    def _on_red_flag(self, flag: RedFlag) -> None:
        self._red_flag = flag
        self._effects.append(StopSpeech())
        reason = RED_FLAG_REASONS[flag]
        self._say(
            f"Stop the exercise now. {reason} can be a sign of a serious nerve problem. "
            "Please get urgent medical care: call your doctor or emergency services now. "
            "I'm ending the session.",
            Priority.URGENT,
        )
        self._log("red_flag", flag=flag.value)
        self._undo_snapshot = None
        self._pain = None
        self._paused_at = None
        self._stop_deadline = None
        self._close_exercise()
        self._end_session()

    def _ask_red_flag(self, flag: RedFlag) -> None:
        """A warning sign heard by voice: stop everything, then ask once whether it was said."""
        self._undo_snapshot = None
        paused_here = self._paused_at is None
        if paused_here:
            self._pause(PauseReason.RED_FLAG)
        self._effects.append(StopSpeech())
        question = f"Did you say {RED_FLAG_QUESTIONS[flag]}? Say yes or {DENY_WORD}."
        ident = self._say(question, Priority.URGENT)
        # until the question has been said, the time to answer is at most this
        longest = self.now + estimate_speech_seconds(question, self.rate_wpm)
        self._check = _RedFlagCheck(
            flag, ident, longest + RED_FLAG_ANSWER_SECONDS, paused_here, self.now
        )
        self._log("red_flag_question", flag=flag.value, said=question)

    def _answer_red_flag_check(self, intent: Intent) -> None:
        """Yes (or the warning sign again, or stop) ends the session; no carries on."""
        check = self._check
        assert check is not None
        if intent.red_flag is not None:
            if check.said:
                self._confirm_red_flag(intent.red_flag, "repeated")
            # while the question is being said, its own words may come back: not an answer
        elif intent.reply is Reply.YES:
            self._confirm_red_flag(check.flag, "yes")
        elif intent.command is Command.STOP:
            self._confirm_red_flag(check.flag, "stop")
        elif intent.reply is Reply.NO or intent.command in (Command.RESUME, Command.UNDO):
            self._withdraw_red_flag(intent.reply.value if intent.reply else intent.value)
        # anything else: the question is asked once; no answer in time means yes

    def _confirm_red_flag(self, flag: RedFlag, answer: str) -> None:
        check = self._check
        assert check is not None
        self._check = None
        self._log(
            "red_flag_answer",
            flag=flag.value,
            answer=answer,
            outcome="confirmed",
            seconds=round(self.now - check.started, 3),
        )
        self._on_red_flag(flag)

    def _withdraw_red_flag(self, answer: str) -> None:
        check = self._check
        assert check is not None
        self._check = None
        self._log(
            "red_flag_answer",
            flag=check.flag.value,
            answer=answer,
            outcome="withdrawn",
            seconds=round(self.now - check.started, 3),
        )
        self._effects.append(StopSpeech())
        if not check.paused_here:
            # it was stopped before (a pause, a pain question): that carries on as it was
            asked_for = self.now - check.started
            if self._pain is not None:
                self._pain.deadline += asked_for
            if self._stop_deadline is not None:
                self._stop_deadline += asked_for
            self._say(f"Sorry, I misheard. {self._still_waiting_text()}", Priority.RESPONSE)
            return
        if self._running is not None:
            self._resume(announce=False)
            self._say(f"Sorry, I misheard. Carrying on: {self._where_text()}", Priority.RESPONSE)
            return
        self._say("Sorry, I misheard.", Priority.RESPONSE)
        self._resume(announce=False)  # says the interrupted instruction again

    def _still_waiting_text(self) -> str:
        """What the user was being asked when the clock was already stopped."""
        if self._pain is not None:
            if self._pain.asking == "level":
                return "How bad is it, from 0 to 10?"
            return "Is it in your back, or spreading down your leg?"
        if self._stop_deadline is not None:
            return "Say stop again to end the session, or resume to carry on."
        return "We're paused. Say resume when you're ready."

    # ------------------------------------------------------------ undo

    def _snapshot(self, command: Command) -> _Snapshot:
        """The session as it is, before a consequential command heard by voice."""
        perf = self._perf
        running = self._running
        fields: dict[str, Any] = {
            "_item_index": self._item_index,
            "_perf": replace(perf, completed=set(perf.completed), notes=list(perf.notes))
            if perf is not None
            else None,
            "_steps": list(self._steps),
            "_step_index": self._step_index,
            "_running": _Running(running.step, running.start, list(running.actions), running.index)
            if running is not None
            else None,
            "_paused_at": self._paused_at,
            "_pause_reason": self._pause_reason,
            "_pain": replace(self._pain) if self._pain is not None else None,
            "_stop_deadline": self._stop_deadline,
            "_records": [replace(record) for record in self._records],
            "phase": self.phase,
            "_last_instruction": self._last_instruction,
            "_leaving_early": self._leaving_early,
            "_pain_counts": Counter(self._pain_counts),
            "_skip_for_session": set(self._skip_for_session),
            "_start_plan": self._start_plan,
        }
        return _Snapshot(command, self.now, self.now + UNDO_SECONDS, fields)

    def _undo_wanted(self, intent: Intent) -> bool:
        snapshot = self._undo_snapshot
        if snapshot is None or self.now > snapshot.until + 1e-9:
            self._undo_snapshot = None
            return False
        return intent.command in (Command.UNDO, Command.PREVIOUS) or intent.reply is Reply.NO

    def _cmd_undo(self, intent: Intent) -> None:
        self._respond("There's nothing to undo.")
        self._reissue_if_instruction()

    def _undo(self) -> None:
        """Put the session back where it was before the command, as if paused meanwhile."""
        snapshot = self._undo_snapshot
        assert snapshot is not None
        self._undo_snapshot = None
        for name, value in snapshot.fields.items():
            setattr(self, name, value)
        away = self.now - snapshot.taken_at
        if self._paused_at is None and self._running is not None:
            self._running.start += away
        if self._pain is not None:
            self._pain.deadline += away
        if self._stop_deadline is not None:
            self._stop_deadline += away
        self._waiting_id = None
        self._effects.append(StopSpeech())
        self._log("undo", command=snapshot.command.value, index=self._item_index)
        if self._perf is not None:
            self._log("exercise_start", index=self._item_index, restored=True)
        name = self._perf.exercise.name if self._perf is not None else "where we were"
        if self._paused_at is not None:
            self._say(f"Back to {name}. {self._still_waiting_text()}", Priority.RESPONSE)
        elif self._running is not None:
            self._say(f"Back to {name}: {self._where_text()}", Priority.RESPONSE)
        else:
            self._say(f"Back to {name}.", Priority.RESPONSE)
            self._begin_step()  # the instruction that was cut off, again


# ---------------------------------------------------------------- helpers


def _group_units(perf: _Performance) -> list[list[UnitKey]]:
    """Holds are one unit each; reps are grouped into blocks counted in one go."""
    remaining = perf.remaining()
    if perf.exercise.kind is ExerciseKind.HOLD:
        return [[unit] for unit in remaining]
    groups: list[list[UnitKey]] = []
    for unit in remaining:
        same_block = groups and groups[-1][-1][0] == unit[0]
        if same_block and perf.exercise.sides is not Sides.ALTERNATE:
            same_block = groups[-1][-1][1] == unit[1]
        if same_block:
            groups[-1].append(unit)
        else:
            groups.append([unit])
    return groups


def _reduced_numbers(
    ex: Exercise, hold_seconds: float, reps: int, tempo_seconds: float, rules: PainRules
) -> tuple[float, int, float] | None:
    """Hold, reps and tempo made gentler by the pain rules; None when nothing would change."""
    keep = 1 - (rules.reduce_fraction or 0.3)
    new_reps = min(reps, max(ex.reps_range[0], math.floor(reps * keep))) if reps > 1 else reps
    new_hold = hold_seconds
    if ex.kind is ExerciseKind.HOLD:
        new_hold = min(hold_seconds, max(ex.hold_range_seconds[0], round(hold_seconds * keep)))
    new_tempo = max(tempo_seconds, min(20.0, tempo_seconds * (rules.tempo_slowdown or 1.5)))
    if ex.kind is ExerciseKind.HOLD:
        changed = new_hold != hold_seconds or new_reps != reps
    elif ex.kind is ExerciseKind.REPS:
        changed = new_reps != reps or not math.isclose(new_tempo, tempo_seconds)
    else:
        changed = True  # a walk is eased by its pace
    return (new_hold, new_reps, new_tempo) if changed else None


def _gentler_plan(
    ex: Exercise, before: _Performance, hold_seconds: float, reps: int, tempo_seconds: float
) -> str:
    """What a reduction changes, as said: only numbers that are now true."""
    sides = "" if ex.sides is Sides.NONE else " on each side"
    if ex.kind is ExerciseKind.HOLD:
        plan = f"holds of {spoken_seconds(hold_seconds)}"
        if reps != before.reps:
            plan += f", {_times(reps)}{sides}"
        return plan
    if ex.kind is ExerciseKind.REPS:
        plan = f"{_count(reps, 'rep')}{sides}"
        if not math.isclose(tempo_seconds, before.tempo_seconds):
            plan += " with a slower count"
        return plan
    return "an easier pace"


def _cannot_reduce(ex: Exercise) -> str:
    return (
        "can't be made any shorter" if ex.kind is ExerciseKind.HOLD else "can't be made any gentler"
    )


def _unique(names: list[str]) -> list[str]:
    seen: list[str] = []
    for name in names:
        if name not in seen:
            seen.append(name)
    return seen


def _join_words(words: list[str]) -> str:
    if len(words) <= 2:
        return " and ".join(words)
    return ", ".join(words[:-1]) + f", and {words[-1]}"


def _count(n: int, noun: str) -> str:
    return f"{number_word(n)} {noun}{'' if n == 1 else 's'}"


def _times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{number_word(n)} times")


def estimate_total_seconds(
    loaded: LoadedRoutine, rate_wpm: int = DEFAULT_RATE_WPM, start_index: int = 0
) -> float:
    """How long the routine takes, from a dry run of the engine with estimated speech."""
    from floorcoach.session.simulate import dry_run

    return dry_run(loaded, rate_wpm=rate_wpm, start_index=start_index).total_seconds


def estimate_remaining_seconds(engine: Engine) -> float:
    """A quick estimate of the session time left, from the plan (not a dry run)."""
    total = 0.0
    if engine._running is not None:
        total += max(0.0, engine._running.end - (engine._paused_at or engine.now))
    for step in engine._steps[engine._step_index + 1 :]:
        total += _step_seconds(step, engine.rate_wpm)
    for item in engine.loaded.items[engine._item_index + 1 :]:
        total += _exercise_seconds(engine, item)
    return total


def _step_seconds(step: Step, rate_wpm: int) -> float:
    if isinstance(step, SayStep):
        return estimate_speech_seconds(step.text, rate_wpm)
    if isinstance(step, CallStep):
        return 0.0
    return step.seconds


def _exercise_seconds(engine: Engine, item: ResolvedItem) -> float:
    perf = _Performance.of(item)
    steps = engine._exercise_steps(perf, intro=True, arriving=True)
    return sum(_step_seconds(step, engine.rate_wpm) for step in steps)


def iter_steps(engine: Engine) -> Iterator[Step]:
    """The steps planned for the current exercise (for `show` and tests)."""
    yield from engine._steps
