"""What a session plan is made of: steps, the actions timed inside them, and the exercise.

Kept apart from the engine so that planning, the pain dialogue, the summary and the engine
share one vocabulary without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from floorcoach.content.catalog import ResolvedItem
from floorcoach.content.routine import Exercise, PainRules, Sides
from floorcoach.session.counting import counted, spoken_seconds
from floorcoach.session.events import CueKind, Phase, Priority


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


@dataclass
class ScheduledAction:
    """Something done at an offset into a timed step: a count, a cue, units marked done."""

    offset: float
    text: str | None = None
    cue: CueKind | None = None
    complete: tuple[UnitKey, ...] = ()
    priority: Priority = Priority.COUNT
    interruptible: bool = False
    timely: bool = False
    """Worth saying only when due (a hold's count, a form cue, a walk's time check): left out
    while an answer is being said, rather than queued behind it and said late."""


WORDS_QUEUED_SECONDS: Final = 20.0
"""How much longer than the words themselves a clock waits for them: they may wait behind
others (a pain decision). This only guards a lost report: every speaker reports each line's
end, cut or not."""


ANSWER_SLACK_SECONDS: Final = 1.0
"""How much longer than its estimate an answer is taken to last, should its end never be
reported (an answer cuts what is sounding, so it starts at once)."""


@dataclass
class RunningStep:
    """The timed step in progress: when it started and what is still to happen."""

    step: TimedStep
    start: float
    actions: list[ScheduledAction]
    index: int = 0
    words: int | None = None
    """The utterance its clock waits for ("Resuming: hold, 3 seconds left."), if any."""
    words_since: float = 0.0
    words_until: float = 0.0
    """The latest the clock waits, should the end of the words never be reported."""
    answer: int | None = None
    """An answer being said over the running clock (a hold's "how long"), if any."""
    answer_until: float = 0.0
    """When that answer is taken to be over, should its end never be reported."""

    @property
    def end(self) -> float:
        return self.start + self.step.seconds

    def wait_for_words(self, utterance_id: int, now: float, seconds: float) -> None:
        """Hold the clock until these words (about `seconds` long) end, so that the time they
        say is left is left when they end, and the count after them comes on time: said over
        a running clock, 'hold, 3 seconds left' took those 3 seconds, and the count and 'And
        relax' queued behind it were 1-2 s late."""
        self.words_done(None, now)  # a wait already under way counts up to now
        self.words, self.words_since = utterance_id, now
        self.words_until = now + seconds + WORDS_QUEUED_SECONDS

    def meet_answer(self, utterance_id: int, now: float, seconds: float) -> None:
        """An answer (about `seconds` long: "how long", "help") is said during the step.

        Reps stand still while it is said, then go on at their pace: the count drives the
        movement, and queued behind a 4.4 s answer 'Two.' came 4.3 s late in `floorcoach
        demo`. Any other clock goes on (waiting would lengthen a hold) and leaves out the
        timely counts due until the answer ends: queued behind it, they came late and
        bunched ("four" 4.6 s late, after "one" was due).
        """
        if utterance_id == self.words:
            return  # the clock already waits for these words (`Engine.say_where`: "Resuming")
        if self.step.phase is Phase.REP:
            self.wait_for_words(utterance_id, now, seconds)
        else:
            self.answer, self.answer_until = utterance_id, now + seconds + ANSWER_SLACK_SECONDS

    def answering(self, now: float) -> bool:
        """An answer is still being said at `now`."""
        return self.answer is not None and now < self.answer_until

    def words_done(self, utterance_id: int | None, now: float) -> None:
        """The words ended (None: stop waiting anyway): the clock goes on from `now`."""
        if utterance_id is not None and utterance_id == self.answer:
            self.answer = None
        if self.words is not None and utterance_id in (None, self.words):
            self.start += self.waited(now)
            self.words = None

    def waited(self, now: float) -> float:
        """How long the clock has stood still so far for the words it waits for."""
        if self.words is None:
            return 0.0
        return min(now, self.words_until) - self.words_since

    def end_at(self, now: float) -> float:
        """When it ends as it stands at `now` (a countdown on screen stands still with it)."""
        return self.end + self.waited(now)

    def copy_at(self, now: float) -> RunningStep:
        """A copy as it stands at `now` (for an undo): a wait for words so far counts as time
        the clock stood still, and the copy waits for nothing."""
        start = self.start + self.waited(now)
        return RunningStep(self.step, start, list(self.actions), self.index)

    def next_time(self) -> float:
        """When something next happens: the longest wait for words, the next action, the end."""
        if self.words is not None:
            return self.words_until
        if self.index < len(self.actions):
            return self.start + self.actions[self.index].offset
        return self.end

    def where(self, at: float) -> str:
        """Where the step is at time `at`, as said: 'hold, 12 seconds left.'."""
        phase = self.step.phase
        if phase is Phase.REP:
            remaining = self.step.keys[self.beats_done() :]
            return f"reps, {counted(len(remaining), 'rep')} to go."
        name = {Phase.HOLD: "hold", Phase.REST: "rest", Phase.WALK: "walk"}.get(phase, "")
        return f"{name}, {spoken_seconds(max(1.0, self.end - at))} left."

    def beats_done(self) -> int:
        """Reps counted to the end: each beat after the first closes the rep before it."""
        done = sum(1 for action in self.actions[: self.index] if action.cue is CueKind.BEAT)
        return max(0, done - 1)


@dataclass
class Performance:
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
    def of(cls, item: ResolvedItem, exercise: Exercise | None = None) -> Performance:
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
