"""What the next session should do, from the history: pure functions, no clock, no files.

Four rules (issue 7, section 3), applied in this order for each routine item:

1. Progression (seed 002's weekly table, `guidance.yaml`): the stage follows the weeks of
   practice since the first session, never faster than the table, and a week only counts
   when it had a session and every pain report in it stayed at `max_pain_to_progress` or
   below (and no warning sign). Holds and reps are scaled by the stage, capped at each
   exercise's maximum.
2. Pain: an exercise that hurt above 5, or sent pain down the leg, the last time it was
   done starts at its easier variant, or at its reduced level when it has none.
3. Too easy: "too easy" said for an exercise in two sessions (since it last hurt) steps it
   up to its upper limit; two more move it to its harder variant.
4. Next day: "worse" after the last session takes the load down to 70 % today (the
   pain-monitoring model: symptoms worse the next morning mean too much load), and no
   exercise steps up.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Final

from floorcoach.commands import Command, Feeling, Location
from floorcoach.content.catalog import LoadedRoutine, ResolvedItem
from floorcoach.content.routine import Exercise, ExerciseKind, Guidance, ProgressionStage
from floorcoach.session.counting import number_word, spoken_seconds
from floorcoach.store.history_rows import HistorySnapshot, PainRow, SessionRow

_LOGGER = logging.getLogger(__name__)

WORSE_LOAD_FACTOR: Final = 0.7
"""Load after a "worse" next-day answer: the engine's own 30 % reduction, for the day."""
SEVERE_PAIN_ABOVE: Final = 5
"""Pain above this (the pain-monitoring model's limit) changes the exercise next time."""
TOO_EASY_SESSIONS_PER_STEP: Final = 2
DEFAULT_MAX_PAIN_TO_PROGRESS: Final = 3
DAYS_PER_WEEK: Final = 7


class Rule(StrEnum):
    """Why an exercise changed: only pain and too-easy changes are announced at the start."""

    STAGE = "stage"
    PAIN = "pain"
    TOO_EASY = "too_easy"
    LOAD = "load"


@dataclass(frozen=True)
class ExerciseAdjustment:
    """One routine item done differently today; values are for the exercise played."""

    item_index: int
    exercise_id: str
    """The routine's own exercise at this item."""
    hold_seconds: float | None = None
    reps: int | None = None
    duration_minutes: float | None = None
    use_variant: str | None = None
    """Play this library exercise instead (its own hold and reps unless set above)."""
    reason: str = ""
    """One sentence to say when the exercise is introduced."""
    rule: Rule = Rule.STAGE


@dataclass(frozen=True)
class SessionAdjustments:
    """Everything the next session changes, with the sentences that explain it."""

    load_factor: float = 1.0
    load_reason: str | None = None
    week: int = 1
    """Calendar week since the first session (1 = the first week)."""
    stage_week: int = 1
    """The week of the table the session is played at (below `week` when progress paused)."""
    stage: ProgressionStage | None = None
    stage_reason: str | None = None
    progression_held: bool = False
    exercises: tuple[ExerciseAdjustment, ...] = ()

    @property
    def strengthening(self) -> bool:
        """Whether strengthening exercises belong in this stage (True without a table)."""
        return self.stage.strengthening if self.stage is not None else True

    def for_item(self, index: int) -> ExerciseAdjustment | None:
        """The adjustment for a routine item, if it has one."""
        return next((adj for adj in self.exercises if adj.item_index == index), None)

    def sentences(self) -> list[str]:
        """What to say at the start: the day's load, the stage, and each changed exercise."""
        said = [text for text in (self.load_reason, self.stage_reason) if text]
        said.extend(adj.reason for adj in self.exercises if adj.rule in (Rule.PAIN, Rule.TOO_EASY))
        return said


# ---------------------------------------------------------------- the plan


def plan_session(
    history: HistorySnapshot,
    loaded: LoadedRoutine,
    guidance: Guidance | None,
    *,
    today: datetime,
    feeling: Feeling | None = None,
) -> SessionAdjustments:
    """The adjustments for a session of `loaded` starting at `today`.

    `feeling` is today's answer to the next-day question; without it, the answer stored
    on the last finished session is used.
    """
    past = [s for s in history.sessions if s.started_at <= today]
    feeling = feeling or _last_feeling(past)
    worse = feeling is Feeling.WORSE
    load = WORSE_LOAD_FACTOR if worse else 1.0
    load_reason = (
        "You said your back felt worse after last time, so today we'll go about a third "
        "easier, and nothing gets harder."
        if worse
        else None
    )
    max_pain = guidance.max_pain_to_progress if guidance else DEFAULT_MAX_PAIN_TO_PROGRESS
    week, stage_week, held_by_pain = progression_weeks(history, today, max_pain)
    stage = stage_for_week(guidance, stage_week) if guidance else None
    exercises = []
    for item in loaded.items:
        adjustment = _adjust_item(history, loaded, item, stage, load, max_pain, step_up=not worse)
        if adjustment is not None:
            exercises.append(adjustment)
    return SessionAdjustments(
        load_factor=load,
        load_reason=load_reason,
        week=week,
        stage_week=stage_week,
        stage=stage,
        stage_reason=_stage_reason(guidance, stage, stage_week, held_by_pain, max_pain),
        progression_held=stage_week < week,
        exercises=tuple(exercises),
    )


def apply_adjustments(loaded: LoadedRoutine, adjustments: SessionAdjustments) -> LoadedRoutine:
    """A copy of the routine with today's exercises swapped and resized (engine unchanged)."""
    items: list[ResolvedItem] = []
    for item in loaded.items:
        adj = adjustments.for_item(item.index)
        if adj is None:
            items.append(item)
            continue
        exercise = item.exercise
        if adj.use_variant is not None:
            exercise = loaded.library.get(adj.use_variant, exercise)
        update: dict[str, object] = {}
        if adj.hold_seconds is not None:
            update["hold_seconds"] = adj.hold_seconds
        if adj.reps is not None:
            update["reps"] = adj.reps
        if adj.duration_minutes is not None:
            update["duration_minutes"] = adj.duration_minutes
        items.append(ResolvedItem(exercise.model_copy(update=update), item.pain_rules, item.index))
    return dataclasses.replace(loaded, items=tuple(items))


# ---------------------------------------------------------------- progression


def _local_date(moment: datetime, like: datetime) -> date:
    return moment.astimezone(like.tzinfo).date() if like.tzinfo else moment.date()


def progression_weeks(
    history: HistorySnapshot, today: datetime, max_pain: int = DEFAULT_MAX_PAIN_TO_PROGRESS
) -> tuple[int, int, bool]:
    """(calendar week, week of the table to use, whether pain held it back last week)."""
    sessions = sorted(history.sessions, key=lambda s: s.started_at)
    sessions = [s for s in sessions if s.started_at <= today]
    if not sessions:
        return 1, 1, False
    first = _local_date(sessions[0].started_at, today)
    week = (_local_date(today, today) - first).days // DAYS_PER_WEEK + 1
    worst = _worst_pain_by_session(history)
    flagged = {flag.session_id for flag in history.red_flags}
    counted = 0
    held_by_pain = False
    for number in range(1, week):
        start = first + timedelta(days=(number - 1) * DAYS_PER_WEEK)
        end = start + timedelta(days=DAYS_PER_WEEK)
        in_week = [s for s in sessions if start <= _local_date(s.started_at, today) < end]
        hurt = any(worst.get(s.id, 0) > max_pain or s.id in flagged for s in in_week)
        if in_week and not hurt:
            counted += 1
        if number == week - 1:
            held_by_pain = hurt
    return week, 1 + counted, held_by_pain


def stage_for_week(guidance: Guidance, week: int) -> ProgressionStage:
    """The table's row for a week (the last, open-ended row beyond the table)."""
    for stage in guidance.progression:
        if stage.weeks_from <= week and (stage.weeks_to is None or week <= stage.weeks_to):
            return stage
    return guidance.progression[-1]


def _worst_pain_by_session(history: HistorySnapshot) -> dict[int, int]:
    worst: dict[int, int] = {}
    for pain in history.pains:
        worst[pain.session_id] = max(worst.get(pain.session_id, 0), pain.level)
    return worst


def _stage_reason(
    guidance: Guidance | None,
    stage: ProgressionStage | None,
    stage_week: int,
    held_by_pain: bool,
    max_pain: int,
) -> str | None:
    if guidance is None or stage is None:
        return None
    if held_by_pain:
        return (
            f"Your pain went above {number_word(max_pain)} last week, so we'll stay at "
            "this level until it settles."
        )
    if stage_week == stage.weeks_from and stage_week > 1:
        return f"This is week {number_word(stage_week)}, a new stage: {stage.goal}"
    return None


# ---------------------------------------------------------------- one exercise


def _adjust_item(
    history: HistorySnapshot,
    loaded: LoadedRoutine,
    item: ResolvedItem,
    stage: ProgressionStage | None,
    load: float,
    max_pain: int,
    *,
    step_up: bool,
) -> ExerciseAdjustment | None:
    base = item.exercise
    name = base.name.lower()
    played = base
    hold, reps, minutes = _stage_plan(base, stage)
    reason = ""
    rule = Rule.STAGE
    severe = _severe_last_time(history, base.id)
    if severe is not None:
        hurt_as, leg = severe
        rule = Rule.PAIN
        why = (
            f"Last time the {name} sent pain down your leg" if leg else f"Last time the {name} hurt"
        )
        easier = loaded.variant(base, "easier")
        if easier is not None and easier.id != hurt_as:
            played = easier
            hold, reps, minutes = _own_plan(easier)
            reason = f"{why}, so today we'll do the easier version: {easier.name.lower()}."
        else:
            if easier is not None:
                played = easier
            hold, reps, minutes = _reduced(played, item.pain_rules.reduce_fraction or 0.3)
            reason = f"{why}, so today we'll start it gentler: {_plan_words(played, hold, reps)}."
    elif step_up:
        steps = _too_easy_sessions(history, base.id, max_pain) // TOO_EASY_SESSIONS_PER_STEP
        if steps >= 1:
            harder = loaded.variant(base, "harder")
            top_hold, top_reps = base.hold_range_seconds[1], base.reps_range[1]
            at_top = (base.kind is ExerciseKind.HOLD and (hold or 0) >= top_hold) or (
                base.kind is ExerciseKind.REPS and (reps or 0) >= top_reps
            )
            said = f"You said the {name} felt too easy {_times(steps * 2)}"
            if harder is not None and (steps >= 2 or at_top or base.kind is ExerciseKind.TIMED):
                played = harder
                hold, reps, minutes = _own_plan(harder)
                rule = Rule.TOO_EASY
                reason = f"{said}, so today we'll move up to the {harder.name.lower()}."
            elif not at_top and base.kind is not ExerciseKind.TIMED:
                if base.kind is ExerciseKind.HOLD:
                    hold = top_hold
                else:
                    reps = top_reps
                rule = Rule.TOO_EASY
                reason = f"{said}, so today it's {_plan_words(base, hold, reps)}."
    if load < 1.0:
        hold, reps, minutes = _scaled(played, hold, reps, minutes, load)
        if rule is Rule.STAGE:
            rule = Rule.LOAD
            reason = (
                f"Today we'll go gentler on the {played.name.lower()}: "
                f"{_plan_words(played, hold, reps, minutes)}."
            )
    changed = (
        played.id != base.id
        or _differs(hold, base.hold_seconds if base.kind is ExerciseKind.HOLD else None)
        or reps != base.reps
        or _differs(minutes, base.duration_minutes)
    )
    if not changed:
        return None
    if not reason:
        reason = f"This week, the {name}: {_plan_words(played, hold, reps, minutes)}."
    return ExerciseAdjustment(
        item_index=item.index,
        exercise_id=base.id,
        hold_seconds=hold if played.kind is ExerciseKind.HOLD else None,
        reps=reps,
        duration_minutes=minutes,
        use_variant=played.id if played.id != base.id else None,
        reason=reason,
        rule=rule,
    )


Plan = tuple[float | None, int, float | None]
"""(hold seconds for holds, reps, minutes for timed exercises)."""


def _own_plan(exercise: Exercise) -> Plan:
    hold = exercise.hold_seconds if exercise.kind is ExerciseKind.HOLD else None
    return hold, exercise.reps, exercise.duration_minutes


def _stage_plan(exercise: Exercise, stage: ProgressionStage | None) -> Plan:
    """The exercise at the stage's factors, never past its own maximum."""
    hold, reps, minutes = _own_plan(exercise)
    if stage is None:
        return hold, reps, minutes
    top_hold, top_reps = exercise.hold_range_seconds[1], exercise.reps_range[1]
    if hold is not None:
        hold = max(hold, min(top_hold, float(round(hold * stage.hold_factor))))
    if exercise.kind is ExerciseKind.REPS:
        reps = max(reps, min(top_reps, round(reps * stage.reps_factor)))
    if exercise.kind is ExerciseKind.TIMED:
        minutes = float(stage.walk_minutes)
    return hold, reps, minutes


def _reduced(exercise: Exercise, fraction: float) -> Plan:
    """The exercise's reduced level: the engine's own reduction, from its routine values."""
    return _scaled(exercise, *_own_plan(exercise), 1 - fraction)


def _scaled(
    exercise: Exercise, hold: float | None, reps: int, minutes: float | None, factor: float
) -> Plan:
    low_hold, low_reps = exercise.hold_range_seconds[0], exercise.reps_range[0]
    if hold is not None:
        hold = max(low_hold, float(round(round(hold * factor, 6))))
    if exercise.kind is ExerciseKind.REPS or reps > 1:
        reps = max(low_reps, math.floor(round(reps * factor, 6)))
    if minutes is not None:
        minutes = max(1.0, round(minutes * factor, 1))
    return hold, reps, minutes


def _differs(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is not b
    return not math.isclose(a, b)


# ---------------------------------------------------------------- reading the history


def _sessions_by_time(history: HistorySnapshot) -> list[SessionRow]:
    return sorted(history.sessions, key=lambda s: (s.started_at, s.id))


def _severe_last_time(history: HistorySnapshot, exercise_id: str) -> tuple[str, bool] | None:
    """(what was played, whether in the leg) if the exercise hurt badly the last time."""
    with_exercise = {
        o.session_id
        for o in history.outcomes
        if o.exercise_id == exercise_id and o.outcome != "not_reached"
    }
    with_exercise |= {p.session_id for p in history.pains if _pain_item(p) == exercise_id}
    last = next((s.id for s in reversed(_sessions_by_time(history)) if s.id in with_exercise), None)
    if last is None:
        return None
    for pain in history.pains:
        if pain.session_id != last or _pain_item(pain) != exercise_id:
            continue
        leg = pain.location == Location.LEG.value
        if pain.level > SEVERE_PAIN_ABOVE or leg:
            return pain.exercise_id or exercise_id, leg
    return None


def _pain_item(pain: PainRow) -> str | None:
    return pain.item_exercise_id or pain.exercise_id


def _too_easy_sessions(history: HistorySnapshot, exercise_id: str, max_pain: int) -> int:
    """Sessions with "too easy" for the exercise, counted since it last hurt above max_pain."""
    order = {s.id: n for n, s in enumerate(_sessions_by_time(history))}
    hurt = [
        order.get(p.session_id, -1)
        for p in history.pains
        if _pain_item(p) == exercise_id and p.level > max_pain
    ]
    since = max(hurt, default=-1)
    sessions = {
        c.session_id
        for c in history.commands
        if c.command == Command.TOO_EASY.value
        and (c.item_exercise_id or c.exercise_id) == exercise_id
        and order.get(c.session_id, -1) > since
    }
    return len(sessions)


def _last_feeling(sessions: Iterable[SessionRow]) -> Feeling | None:
    finished = [s for s in sessions if s.status != "in_progress"]
    if not finished:
        return None
    last = max(finished, key=lambda s: (s.started_at, s.id))
    return Feeling(last.next_day_feeling) if last.next_day_feeling else None


# ---------------------------------------------------------------- words


def _plan_words(
    exercise: Exercise, hold: float | None, reps: int, minutes: float | None = None
) -> str:
    if exercise.kind is ExerciseKind.TIMED:
        return f"{spoken_seconds((minutes or exercise.duration_minutes or 0) * 60)} of walking"
    if exercise.kind is ExerciseKind.HOLD:
        times = "once" if reps == 1 else f"{number_word(reps)} times"
        return f"holds of {spoken_seconds(hold or exercise.hold_seconds)}, {times}"
    return f"{number_word(reps)} reps"


def _times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{number_word(n)} times")
