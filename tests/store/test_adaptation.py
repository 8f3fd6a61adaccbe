"""Adaptation rules over multi-week synthetic histories (explicit dates, never today's)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from floorcoach.commands import Feeling
from floorcoach.content.catalog import Catalog, LoadedRoutine
from floorcoach.content.routine import Guidance
from floorcoach.session.simulate import dry_run
from floorcoach.store.adaptation import (
    WORSE_LOAD_FACTOR,
    Rule,
    SessionAdjustments,
    apply_adjustments,
    plan_session,
    progression_weeks,
)
from floorcoach.store.history_store import HistoryStore
from floorcoach.store.session_recorder import SessionRecorder
from history_builders import T0, Done, record_session

CORE = ("knee-to-chest", "pelvic-tilt", "cat-cow", "prone-press-up", "seated-piriformis-stretch")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load()


@pytest.fixture(scope="module")
def guidance(catalog: Catalog) -> Guidance:
    assert catalog.guidance is not None
    return catalog.guidance


@pytest.fixture(scope="module")
def core(catalog: Catalog) -> LoadedRoutine:
    return catalog.find("core-routine")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[HistoryStore]:
    with HistoryStore(tmp_path / "h.sqlite3") as opened:
        yield opened


def core_session(
    store: HistoryStore,
    day: float,
    changes: dict[str, Done] | None = None,
    *,
    feeling: str | None = None,
) -> int:
    """A core-routine session `day` days after T0, every item done unless changed."""
    items = [(changes or {}).get(ex, Done(ex)) for ex in CORE]
    return record_session(store, T0 + timedelta(days=day), items, feeling=feeling)


def three_a_week(store: HistoryStore, weeks: int, *, pain: int | None = 2) -> None:
    """Mon/Wed/Fri sessions for `weeks` weeks, mild pain on the first exercise."""
    for week in range(weeks):
        for weekday in (0, 2, 4):
            core_session(store, week * 7 + weekday, {"knee-to-chest": Done(CORE[0], pain=pain)})


def plan(
    store: HistoryStore,
    loaded: LoadedRoutine,
    guidance: Guidance,
    day: float,
    feeling: Feeling | None = None,
) -> SessionAdjustments:
    return plan_session(
        store.snapshot(), loaded, guidance, today=T0 + timedelta(days=day), feeling=feeling
    )


# ---------------------------------------------------------------- progression


def test_no_history_is_week_one_as_written(
    store: HistoryStore, core: LoadedRoutine, guidance: Guidance
) -> None:
    adjustments = plan(store, core, guidance, 0)
    assert (adjustments.week, adjustments.stage_week) == (1, 1)
    assert adjustments.stage == guidance.progression[0]
    assert adjustments.exercises == ()
    assert adjustments.load_factor == 1.0
    assert adjustments.sentences() == []
    assert not adjustments.strengthening


def test_stages_follow_the_table_over_ten_weeks(
    store: HistoryStore, core: LoadedRoutine, guidance: Guidance
) -> None:
    three_a_week(store, 10)
    expected = {
        # day: (stage week, knee-to-chest hold, pelvic-tilt reps)
        13: (2, None, None),  # still weeks 1-2: as written
        14: (3, 45.0, None),  # weeks 3-4: holds x1.5 (30 -> 45, max 60)
        28: (5, 45.0, 18),  # weeks 5-8: reps x1.2 (15 -> 18), strengthening
        56: (9, 45.0, 22),  # week 9 on: reps x1.5 (15 -> 22, max 25)
        70: (11, 45.0, 22),
    }
    for day, (week, hold, reps) in expected.items():
        adjustments = plan(store, core, guidance, day)
        assert adjustments.stage_week == week == adjustments.week, day
        assert not adjustments.progression_held
        knee = adjustments.for_item(0)
        assert (knee.hold_seconds if knee else None) == hold, day
        tilt = adjustments.for_item(1)
        assert (tilt.reps if tilt else None) == reps, day
        # prone press up is already at its maximum in this routine: never past it
        press = adjustments.for_item(3)
        assert press is None or (press.hold_seconds or 0) <= 120
    assert plan(store, core, guidance, 28).strengthening
    reason = plan(store, core, guidance, 14).stage_reason
    assert reason == f"This is week three, a new stage: {guidance.progression[1].goal}"


def test_never_faster_than_the_table(
    store: HistoryStore, core: LoadedRoutine, guidance: Guidance
) -> None:
    for day in range(13):  # every day, twice a day, for nearly two weeks
        core_session(store, day)
        core_session(store, day + 0.5)
    adjustments = plan(store, core, guidance, 13)
    assert adjustments.stage_week == 2
    assert adjustments.stage == guidance.progression[0]
    assert adjustments.exercises == ()


def test_weeks_without_practice_do_not_count(
    store: HistoryStore, core: LoadedRoutine, guidance: Guidance
) -> None:
    three_a_week(store, 1)
    week, stage_week, held = progression_weeks(store.snapshot(), T0 + timedelta(days=30))
    assert (week, stage_week, held) == (5, 2, False)
    adjustments = plan(store, core, guidance, 30)
    assert adjustments.stage == guidance.progression[0]
    assert adjustments.progression_held


def test_pain_above_three_holds_progression(
    store: HistoryStore, core: LoadedRoutine, guidance: Guidance
) -> None:
    three_a_week(store, 1)  # week 1: fine
    core_session(store, 7, {"cat-cow": Done("cat-cow", pain=4)})  # week 2: a 4
    core_session(store, 9)
    adjustments = plan(store, core, guidance, 14)  # calendar week 3
    assert adjustments.week == 3
    assert adjustments.stage_week == 2
    assert adjustments.stage == guidance.progression[0]
    assert adjustments.progression_held
    assert adjustments.for_item(0) is None  # knee-to-chest stays at 30 s
    assert adjustments.stage_reason is not None
    assert "above three last week" in adjustments.stage_reason
    # a calm week 3 lets it move on, one week later than the calendar
    for day in (14, 16, 18):
        core_session(store, day)
    later = plan(store, core, guidance, 21)
    assert (later.week, later.stage_week) == (4, 3)
    knee = later.for_item(0)
    assert knee is not None
    assert knee.hold_seconds == 45
    assert knee.rule is Rule.STAGE


def test_walk_minutes_follow_the_stage(
    store: HistoryStore, catalog: Catalog, guidance: Guidance
) -> None:
    walk = catalog.find("walk")
    for day in range(0, 28, 2):
        record_session(store, T0 + timedelta(days=day), [Done("walking")], routine_id="walk")
    assert (
        plan(store, walk, guidance, 0).for_item(0) or pytest.fail("no adjustment")
    ).duration_minutes == 5
    assert (
        plan(store, walk, guidance, 14).for_item(0) or pytest.fail("no adjustment")
    ).duration_minutes == 15
    assert (
        plan(store, walk, guidance, 28).for_item(0) or pytest.fail("no adjustment")
    ).duration_minutes == 20


# ---------------------------------------------------------------- pain


def test_severe_pain_starts_next_time_on_the_easier_variant(
    store: HistoryStore, core: LoadedRoutine, guidance: Guidance
) -> None:
    three_a_week(store, 2)
    core_session(store, 15, {"prone-press-up": Done("prone-press-up", pain=7, outcome="skipped")})
    adjustments = plan(store, core, guidance, 16)
    press = adjustments.for_item(3)
    assert press is not None
    assert press.use_variant == "prone-lying"
    assert press.rule is Rule.PAIN
    assert press.reason == (
        "Last time the press up on your elbows hurt, "
        "so today we'll do the easier version: resting face down."
    )
    assert press.reason in adjustments.sentences()
    # it went well on the easier version, so the time after is back to normal
    core_session(store, 16, {"prone-press-up": Done("prone-press-up", played="prone-lying")})
    again = plan(store, core, guidance, 17).for_item(3)
    assert again is None or again.rule is not Rule.PAIN


def test_pain_down_the_leg_reduces_an_exercise_without_easier_variant(
    store: HistoryStore, core: LoadedRoutine, guidance: Guidance
) -> None:
    three_a_week(store, 2)
    core_session(
        store,
        15,
        {"knee-to-chest": Done("knee-to-chest", pain=3, location="leg", outcome="partial")},
    )
    knee = plan(store, core, guidance, 16).for_item(0)
    assert knee is not None
    assert knee.rule is Rule.PAIN
    assert knee.use_variant is None
    # reduced level from the routine's own values (30 s, 3 reps), not the stage's 45 s
    assert knee.hold_seconds == 21
    assert knee.reps == 2
    assert knee.reason.startswith("Last time the knee to chest stretch sent pain down your leg")
    assert knee.reason.endswith("gentler: holds of 21 seconds, two times.")


def test_moderate_pain_changes_nothing_next_time(
    store: HistoryStore, core: LoadedRoutine, guidance: Guidance
) -> None:
    three_a_week(store, 1)
    core_session(store, 8, {"prone-press-up": Done("prone-press-up", pain=5, location="back")})
    assert plan(store, core, guidance, 9).for_item(3) is None


def test_when_the_easier_variant_hurt_it_is_reduced(
    store: HistoryStore, catalog: Catalog, guidance: Guidance
) -> None:
    routine = catalog.find("first-week")
    items = [Done(item.exercise.id) for item in routine.items]
    record_session(store, T0, items, routine_id="first-week")
    items[6] = Done("prone-press-up", played="prone-lying", pain=8)
    record_session(store, T0 + timedelta(days=2), items, routine_id="first-week")
    press = plan(store, routine, guidance, 3).for_item(6)
    assert press is not None
    assert press.use_variant == "prone-lying"
    assert press.hold_seconds == 42  # prone lying 60 s, reduced by 30 %


# ---------------------------------------------------------------- too easy


def test_too_easy_in_two_sessions_steps_up_to_the_limit_then_the_harder_variant(
    store: HistoryStore, core: LoadedRoutine, guidance: Guidance
) -> None:
    tilt = {"pelvic-tilt": Done("pelvic-tilt", too_easy=True)}
    core_session(store, 0, tilt)
    core_session(store, 2)
    assert plan(store, core, guidance, 3).for_item(1) is None  # once is not enough
    core_session(store, 4, tilt)
    step = plan(store, core, guidance, 5).for_item(1)
    assert step is not None
    assert step.rule is Rule.TOO_EASY
    assert step.reps == 25
    assert step.use_variant is None
    assert step.reason == (
        "You said the pelvic tilts felt too easy twice, so today it's twenty-five reps."
    )
    core_session(store, 7, tilt)
    core_session(store, 9, tilt)
    harder = plan(store, core, guidance, 10).for_item(1)
    assert harder is not None
    assert harder.use_variant == "bridge"
    assert "move up to the bridge" in harder.reason


def test_too_easy_twice_in_one_session_counts_once(
    store: HistoryStore, core: LoadedRoutine, guidance: Guidance
) -> None:
    recorder = SessionRecorder(store, routine=core)
    recorder.start("core-routine", started_at=T0)
    recorder.record({"t": 1, "kind": "exercise_start", "index": 0, "exercise": "knee-to-chest"})
    for t in (2, 3):
        recorder.record({"t": t, "kind": "heard", "command": "too_easy", "text": "too easy"})
    recorder.finish(None, t=10)
    assert plan(store, core, guidance, 1).for_item(0) is None
    core_session(store, 2, {"knee-to-chest": Done("knee-to-chest", too_easy=True)})
    assert plan(store, core, guidance, 3).for_item(0) is not None


def test_hold_at_its_limit_moves_to_the_harder_variant(
    store: HistoryStore, core: LoadedRoutine, guidance: Guidance
) -> None:
    knee = {"knee-to-chest": Done("knee-to-chest", too_easy=True)}
    core_session(store, 0, knee)
    core_session(store, 2, knee)
    step = plan(store, core, guidance, 3).for_item(0)
    assert step is not None
    assert step.hold_seconds == 60  # the library's max hold
    press = {"prone-press-up": Done("prone-press-up", too_easy=True)}
    core_session(store, 4, press)
    core_session(store, 5, press)
    at_top = plan(store, core, guidance, 6).for_item(3)
    assert at_top is not None
    assert at_top.use_variant == "modified-cobra"  # 120 s is already its limit


def test_pain_resets_the_too_easy_count(
    store: HistoryStore, core: LoadedRoutine, guidance: Guidance
) -> None:
    tilt = {"pelvic-tilt": Done("pelvic-tilt", too_easy=True)}
    core_session(store, 0, tilt)
    core_session(store, 2, {"pelvic-tilt": Done("pelvic-tilt", pain=4)})
    core_session(store, 4, tilt)
    assert plan(store, core, guidance, 5).for_item(1) is None
    core_session(store, 7, tilt)
    assert plan(store, core, guidance, 8).for_item(1) is not None


def test_pain_wins_over_too_easy(
    store: HistoryStore, core: LoadedRoutine, guidance: Guidance
) -> None:
    core_session(store, 0, {"prone-press-up": Done("prone-press-up", too_easy=True)})
    core_session(store, 2, {"prone-press-up": Done("prone-press-up", too_easy=True, pain=6)})
    press = plan(store, core, guidance, 3).for_item(3)
    assert press is not None
    assert press.rule is Rule.PAIN
    assert press.use_variant == "prone-lying"


# ---------------------------------------------------------------- next day


def test_worse_next_day_reduces_load_and_stops_step_ups(
    store: HistoryStore, core: LoadedRoutine, guidance: Guidance
) -> None:
    three_a_week(store, 3)
    tilt = {"pelvic-tilt": Done("pelvic-tilt", too_easy=True)}
    core_session(store, 21, tilt)
    core_session(store, 23, tilt, feeling="worse")
    adjustments = plan(store, core, guidance, 24)
    assert adjustments.load_factor == WORSE_LOAD_FACTOR
    assert adjustments.load_reason is not None
    assert adjustments.sentences()[0] == adjustments.load_reason
    knee = adjustments.for_item(0)
    assert knee is not None
    assert knee.hold_seconds == 32  # stage 2: 45 s, times 0.7
    assert knee.rule is Rule.LOAD
    tilt_adj = adjustments.for_item(1)
    assert tilt_adj is not None
    assert tilt_adj.reps == 10  # 15 x 0.7, and no step up to 25 today
    assert tilt_adj.rule is Rule.LOAD
    # the same history with a "better" answer today
    better = plan(store, core, guidance, 24, feeling=Feeling.BETTER)
    assert better.load_factor == 1.0
    assert (better.for_item(1) or pytest.fail("no adjustment")).reps == 25


def test_today_answer_overrides_and_old_answers_do_not_linger(
    store: HistoryStore, core: LoadedRoutine, guidance: Guidance
) -> None:
    core_session(store, 0, feeling="worse")
    core_session(store, 2, feeling="same")
    assert plan(store, core, guidance, 3).load_factor == 1.0
    assert plan(store, core, guidance, 3, Feeling.WORSE).load_factor == WORSE_LOAD_FACTOR


# ---------------------------------------------------------------- into the engine


def test_adjusted_routine_plays_and_is_recorded_against_the_routine(
    store: HistoryStore, core: LoadedRoutine, guidance: Guidance
) -> None:
    three_a_week(store, 2)
    core_session(store, 15, {"prone-press-up": Done("prone-press-up", pain=7, outcome="skipped")})
    adjustments = plan(store, core, guidance, 16)
    adjusted = apply_adjustments(core, adjustments)
    assert [i.exercise.id for i in adjusted.items][3] == "prone-lying"
    run = dry_run(adjusted)
    said = " ".join(run.said())
    assert "Exercise 4 of 5: Resting face down." in said
    assert "Hold for 45 seconds, three times on each side" in said  # stage 2 knee to chest
    recorder = SessionRecorder(
        store, routine=adjusted, base_exercise_ids=[i.exercise.id for i in core.items]
    )
    recorder.start("core-routine", started_at=T0 + timedelta(days=16))
    for record in run.records:
        recorder.record(record)
    rows = store.outcomes(recorder.session_id)
    assert [row.exercise_id for row in rows] == list(CORE)
    assert rows[3].done_as == "prone-lying"
    assert rows[0].hold_seconds == 45
    # done on the easier version without pain: the next plan goes back to the press up
    after = plan(store, core, guidance, 17).for_item(3)
    assert after is None or after.use_variant is None
