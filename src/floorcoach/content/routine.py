"""The routine format: exercises, routines and guidance as frozen pydantic models."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Final

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

SLUG_PATTERN: Final = r"^[a-z0-9]+(-[a-z0-9]+)*$"

Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, min_length=2, max_length=60)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=80)]
Sentence = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=300)]

MAX_HOLD_SECONDS: Final = 300
MAX_REPS: Final = 50
MAX_SETS: Final = 10


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Position(StrEnum):
    """Where the body is, so the player can say how to get there."""

    LYING_ON_BACK = "lying_on_back"
    LYING_FACE_DOWN = "lying_face_down"
    SEATED = "seated"
    STANDING = "standing"
    ALL_FOURS = "all_fours"

    @property
    def spoken(self) -> str:
        """The position as said aloud."""
        return _SPOKEN_POSITIONS[self]


_SPOKEN_POSITIONS: Final = {
    Position.LYING_ON_BACK: "lying on your back",
    Position.LYING_FACE_DOWN: "lying face down",
    Position.SEATED: "sitting",
    Position.STANDING: "standing",
    Position.ALL_FOURS: "on your hands and knees",
}


class Sides(StrEnum):
    """How an exercise uses the two sides of the body."""

    NONE = "none"
    LEFT_THEN_RIGHT = "left_then_right"
    ALTERNATE = "alternate"


class ExerciseKind(StrEnum):
    """Holds are counted down, reps are counted up on a tempo, timed activities run for minutes."""

    HOLD = "hold"
    REPS = "reps"
    TIMED = "timed"


class PainRules(_Model):
    """How the player reacts to a pain report; every field may be left out to inherit."""

    ease_max_level: int | None = Field(default=None, ge=0, le=10)
    """Levels up to this one: carry on, with a reminder to ease into the stretch."""
    reduce_max_level: int | None = Field(default=None, ge=0, le=10)
    """Levels above ease_max_level up to this one: shorten holds, cut reps, slow the tempo."""
    reduce_fraction: float | None = Field(default=None, gt=0, lt=1)
    """How much of the hold and reps to take away when reducing (0.3 = 30 % less)."""
    tempo_slowdown: float | None = Field(default=None, ge=1, le=3)
    """Factor applied to tempo_seconds when reducing."""
    stop_if_spreads_down_leg: bool | None = None
    """Pain spreading down the leg stops this exercise (peripheralisation, McKenzie)."""
    answer_timeout_seconds: float | None = Field(default=None, ge=3, le=120)
    """With no answer to "how bad?" by then, treat it as moderate and go on gently."""
    skip_after_reports: int | None = Field(default=None, ge=1, le=5)
    """The same exercise hurting this many times in a session skips it for the rest."""
    stop_note: Sentence | None = None
    """An extra precaution said with this exercise, e.g. 'Stop if pain spreads down your leg.'"""

    @model_validator(mode="after")
    def _levels_ordered(self) -> PainRules:
        if (
            self.ease_max_level is not None
            and self.reduce_max_level is not None
            and self.reduce_max_level < self.ease_max_level
        ):
            raise ValueError(
                f"reduce_max_level ({self.reduce_max_level}) must not be below "
                f"ease_max_level ({self.ease_max_level})"
            )
        return self


DEFAULT_PAIN_RULES: Final = PainRules(
    ease_max_level=3,
    reduce_max_level=5,
    reduce_fraction=0.3,
    tempo_slowdown=1.5,
    stop_if_spreads_down_leg=True,
    answer_timeout_seconds=20,
    skip_after_reports=2,
)
"""Grounded in the pain-monitoring model (0-3 acceptable, 4-5 ease off, above 5 stop)."""


def merge_pain_rules(*layers: PainRules | None) -> PainRules:
    """Later layers override earlier ones field by field; the result is fully set."""
    merged: dict[str, object] = DEFAULT_PAIN_RULES.model_dump()
    for layer in layers:
        if layer is not None:
            merged.update(layer.model_dump(exclude_none=True))
    return PainRules.model_validate(merged)


class Exercise(_Model):
    """One exercise, written once in the library and used by many routines."""

    id: Slug
    name: Name
    kind: ExerciseKind
    position: Position
    setup: list[Sentence] = Field(min_length=1, max_length=12)
    """How to get into position: short sentences written to be heard."""
    form_cues: list[Sentence] = Field(default_factory=list, max_length=12)
    """Said during long holds and between reps."""
    precautions: list[Sentence] = Field(default_factory=list, max_length=6)
    sides: Sides = Sides.NONE
    sets: int = Field(default=1, ge=1, le=MAX_SETS)
    reps: int = Field(default=1, ge=1, le=MAX_REPS)
    """For holds: holds per side per set. For reps: repetitions per side per set."""
    hold_seconds: float = Field(default=0, ge=0, le=MAX_HOLD_SECONDS)
    """Holds: the hold. Reps: an optional pause at the top of each rep."""
    relax_seconds: float = Field(default=5, ge=0, le=120)
    """Between holds and before switching sides."""
    rest_seconds: float = Field(default=15, ge=0, le=600)
    """Between sets."""
    tempo_seconds: float = Field(default=3, ge=1, le=20)
    """Time for one rep's movement, so counting follows a steady beat."""
    duration_minutes: float | None = Field(default=None, gt=0, le=120)
    """Timed activities only."""
    time_check_every_seconds: float = Field(default=60, ge=15, le=900)
    """Timed activities: how often the elapsed time is said."""
    min_hold_seconds: float | None = Field(default=None, gt=0, le=MAX_HOLD_SECONDS)
    max_hold_seconds: float | None = Field(default=None, gt=0, le=MAX_HOLD_SECONDS)
    min_reps: int | None = Field(default=None, ge=1, le=MAX_REPS)
    max_reps: int | None = Field(default=None, ge=1, le=MAX_REPS)
    easier: Slug | None = None
    """An easier variant's id: used when this one hurts."""
    harder: Slug | None = None
    """A harder variant's id: used when this one is too easy at its upper limits."""
    pain_rules: PainRules | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Exercise:
        if self.kind is ExerciseKind.HOLD and self.hold_seconds <= 0:
            raise ValueError(
                f"hold_seconds must be > 0 for a hold exercise (got {self.hold_seconds:g})"
            )
        if self.kind is ExerciseKind.TIMED and self.duration_minutes is None:
            raise ValueError("duration_minutes is required for a timed exercise")
        if self.kind is not ExerciseKind.TIMED and self.duration_minutes is not None:
            raise ValueError("duration_minutes is only for timed exercises (kind: timed)")
        if self.easier == self.id or self.harder == self.id:
            raise ValueError(f"exercise '{self.id}' cannot be its own variant")
        if self.kind is ExerciseKind.HOLD:
            _check_range(
                "hold_seconds", self.hold_seconds, self.min_hold_seconds, self.max_hold_seconds
            )
        _check_range("reps", self.reps, self.min_reps, self.max_reps)
        return self

    @property
    def hold_range_seconds(self) -> tuple[float, float]:
        """Lowest and highest hold the player may adapt to (defaults: half and double)."""
        low = self.min_hold_seconds or max(3.0, round(self.hold_seconds / 2))
        high = self.max_hold_seconds or min(float(MAX_HOLD_SECONDS), self.hold_seconds * 2)
        return (min(low, self.hold_seconds), max(high, self.hold_seconds))

    @property
    def reps_range(self) -> tuple[int, int]:
        """Fewest and most reps the player may adapt to (defaults: half and one and a half)."""
        low = self.min_reps or max(1, self.reps // 2)
        high = self.max_reps or min(MAX_REPS, max(self.reps + 1, round(self.reps * 1.5)))
        return (min(low, self.reps), max(high, self.reps))

    @property
    def side_count(self) -> int:
        """How many sides each set works."""
        return 1 if self.sides is Sides.NONE else 2


def _check_range(field: str, value: float, low: float | None, high: float | None) -> None:
    if low is not None and value < low:
        raise ValueError(f"{field} ({value:g}) is below min ({low:g})")
    if high is not None and value > high:
        raise ValueError(f"{field} ({value:g}) is above max ({high:g})")


class ExerciseLibrary(_Model):
    """The shared exercise library file."""

    exercises: list[Exercise] = Field(min_length=1)


OVERRIDABLE_FIELDS: Final = (
    "sets",
    "reps",
    "hold_seconds",
    "relax_seconds",
    "rest_seconds",
    "tempo_seconds",
    "sides",
    "duration_minutes",
    "pain_rules",
)


class RoutineItem(_Model):
    """A reference to a library exercise, with optional overrides for this routine."""

    exercise: Slug
    sets: int | None = Field(default=None, ge=1, le=MAX_SETS)
    reps: int | None = Field(default=None, ge=1, le=MAX_REPS)
    hold_seconds: float | None = Field(default=None, gt=0, le=MAX_HOLD_SECONDS)
    relax_seconds: float | None = Field(default=None, ge=0, le=120)
    rest_seconds: float | None = Field(default=None, ge=0, le=600)
    tempo_seconds: float | None = Field(default=None, ge=1, le=20)
    sides: Sides | None = None
    duration_minutes: float | None = Field(default=None, gt=0, le=120)
    pain_rules: PainRules | None = None

    def overrides(self) -> dict[str, object]:
        """The fields this item sets, as a dict ready to update an exercise."""
        return {
            name: getattr(self, name)
            for name in OVERRIDABLE_FIELDS
            if getattr(self, name) is not None
        }


class Routine(_Model):
    """An ordered list of exercises with what is said at the start."""

    id: Slug
    name: Name
    description: Sentence
    """Said in the welcome, so written for the ear."""
    safety_notes: list[Sentence] = Field(default_factory=list, max_length=8)
    rest_between_exercises_seconds: float = Field(default=5, ge=0, le=300)
    pain_rules: PainRules | None = None
    items: list[RoutineItem] = Field(min_length=1, max_length=40)


class ProgressionStage(_Model):
    """One row of the weekly progression table (seed 002)."""

    weeks_from: int = Field(ge=1, le=520)
    weeks_to: int | None = Field(default=None, ge=1, le=520)
    goal: Sentence
    progress_marker: Sentence
    hold_factor: float = Field(default=1.0, ge=0.5, le=3)
    """Holds relative to the library values."""
    reps_factor: float = Field(default=1.0, ge=0.5, le=3)
    strengthening: bool = False
    """Whether strengthening exercises belong in this stage."""
    walk_minutes: float = Field(default=5, gt=0, le=120)


class WarningSign(_Model):
    """A symptom that means 'see a doctor now'."""

    id: Slug
    description: Sentence
    urgent: bool = True


class Guidance(_Model):
    """Facts from the seed guidance kept as data for progression and safety."""

    progression: list[ProgressionStage] = Field(min_length=1)
    warning_signs: list[WarningSign] = Field(min_length=1)
    avoid_during_flare_up: list[Sentence] = Field(min_length=1)
    max_pain_to_progress: int = Field(default=3, ge=0, le=10)

    @model_validator(mode="after")
    def _stages_ordered(self) -> Guidance:
        expected = 1
        for index, stage in enumerate(self.progression):
            if stage.weeks_from != expected:
                raise ValueError(
                    f"progression stage {index + 1} starts at week {stage.weeks_from}; "
                    f"expected week {expected} (stages must follow on without gaps)"
                )
            if stage.weeks_to is None:
                if index != len(self.progression) - 1:
                    raise ValueError("only the last progression stage may be open-ended")
                break
            if stage.weeks_to < stage.weeks_from:
                raise ValueError(f"progression stage {index + 1} ends before it starts")
            expected = stage.weeks_to + 1
        return self
