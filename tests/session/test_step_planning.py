"""Step planning and schedules on their own: routine + performance in, steps and actions out."""

from __future__ import annotations

import pytest

from floorcoach.content.catalog import LoadedRoutine
from floorcoach.content.routine import DEFAULT_PAIN_RULES
from floorcoach.session import schedules, step_planning
from floorcoach.session.events import CueKind, Phase, Priority
from floorcoach.session.steps import CallStep, Performance, SayStep, TimedStep


def _perf(shapes: LoadedRoutine, exercise: str) -> Performance:
    item = next(item for item in shapes.items if item.exercise.id == exercise)
    return Performance.of(item)


def _texts(steps: list) -> list[str]:
    return [step.text for step in steps if isinstance(step, SayStep)]


# ---------------------------------------------------------------- units and groups


def test_holds_are_planned_one_by_one_left_side_first(shapes: LoadedRoutine) -> None:
    groups = step_planning.group_units(_perf(shapes, "stretch"))
    assert groups[:3] == [[(0, "left", 0)], [(0, "left", 1)], [(0, "right", 0)]]
    assert len(groups) == 8  # 2 sets x 2 sides x 2 holds


def test_alternating_reps_are_one_block_per_set(shapes: LoadedRoutine) -> None:
    groups = step_planning.group_units(_perf(shapes, "lift"))
    assert len(groups) == 1
    assert groups[0][:3] == [(0, "left", 0), (0, "right", 0), (0, "left", 1)]
    assert len(groups[0]) == 8


def test_hold_steps_relax_between_holds_switch_sides_and_rest_between_sets(
    shapes: LoadedRoutine,
) -> None:
    steps = step_planning.unit_steps(_perf(shapes, "stretch"), tempo_factor=1.0)
    assert steps[0] == SayStep("Left side.", Phase.SWITCH_SIDE)
    assert steps[1] == SayStep("Ready, and begin.", Phase.INSTRUCT, cue_after=CueKind.START)
    hold = steps[2]
    assert isinstance(hold, TimedStep)
    assert (hold.phase, hold.seconds, hold.keys) == (Phase.HOLD, 30.0, ((0, "left", 0),))
    assert steps[3] == TimedStep(Phase.REST, 5.0)  # relax_seconds between holds
    switch = next(s for s in steps if isinstance(s, SayStep) and "right" in s.text)
    assert switch == SayStep("Now the right side.", Phase.SWITCH_SIDE, cue_before=CueKind.SWITCH)
    set_rest = next(s for s in steps if isinstance(s, TimedStep) and s.intro)
    assert set_rest.intro == "Rest for 20 seconds. Then set 2 of 2."
    assert (set_rest.seconds, set_rest.end_cue) == (20.0, CueKind.REST_OVER)


def test_done_units_are_not_planned_again(shapes: LoadedRoutine) -> None:
    perf = _perf(shapes, "stretch")
    perf.completed = {(0, "left", 0), (0, "left", 1)}
    steps = step_planning.unit_steps(perf, tempo_factor=1.0)
    assert steps[0] == SayStep("Right side.", Phase.SWITCH_SIDE)
    holds = [s for s in steps if isinstance(s, TimedStep) and s.phase is Phase.HOLD]
    assert len(holds) == 6


def test_a_walk_that_was_started_is_not_planned_again(shapes: LoadedRoutine) -> None:
    perf = _perf(shapes, "walk")
    steps = step_planning.unit_steps(perf, tempo_factor=1.0)
    assert _texts(steps) == ["Ready, and start walking."]
    assert steps[1] == TimedStep(
        Phase.WALK,
        180,
        keys=((0, "", 0),),
        end_cue=CueKind.END,
        end_text="Time's up. Well done; slow down and stop.",
    )
    perf.completed = {(0, "", 0)}
    assert step_planning.unit_steps(perf, tempo_factor=1.0) == []


def test_rep_blocks_count_on_the_tempo_factor_plus_the_hold_at_the_top(
    shapes: LoadedRoutine,
) -> None:
    perf = _perf(shapes, "lift")  # tempo 3 s, 2 s at the top
    keys = [(0, "left", 0), (0, "right", 0)]
    step = step_planning.rep_step(perf, keys, tempo_factor=1.25)
    assert step.period_seconds == pytest.approx(3 * 1.25 + 2)
    assert step.seconds == pytest.approx(2 * (3 * 1.25 + 2))
    assert (step.top_hold_seconds, step.keys) == (2.0, tuple(keys))


# ---------------------------------------------------------------- what is said about it


@pytest.mark.parametrize(
    ("exercise", "said"),
    [
        ("stretch", "Hold for 30 seconds, twice on each side, left side first, two sets."),
        (
            "lift",
            "4 reps on each side, alternating sides, holding 2 seconds at the top. I'll count.",
        ),
        ("tilt", "6 reps. I'll count."),
        (
            "walk",
            "Walk for 3 minutes at a comfortable pace. I'll tell you the time every 1 minute.",
        ),
    ],
)
def test_work_description_says_the_current_numbers(
    shapes: LoadedRoutine, exercise: str, said: str
) -> None:
    assert step_planning.work_description(_perf(shapes, exercise)) == said


def test_the_description_follows_changed_numbers(shapes: LoadedRoutine) -> None:
    perf = _perf(shapes, "stretch")
    perf.hold_seconds, perf.reps, perf.sets = 21, 1, 1
    assert step_planning.work_description(perf) == (
        "Hold for 21 seconds, once on each side, left side first."
    )


def test_an_exercise_arrived_at_rests_first_and_names_itself(shapes: LoadedRoutine) -> None:
    perf = _perf(shapes, "lift")
    steps = step_planning.exercise_steps(perf, shapes, intro=True, arriving=True, tempo_factor=1.0)
    assert steps[0] == TimedStep(
        Phase.REST, 4, intro="Well done. Rest for 4 seconds; next is Test lift."
    )
    assert _texts(steps)[:3] == [
        "Exercise 2 of 4: Test lift.",
        "For this one, you'll be on your hands and knees.",
        "Get on your hands and knees.",
    ]
    moved_to = step_planning.exercise_steps(
        perf, shapes, intro=True, arriving=False, tempo_factor=1.0
    )
    assert moved_to == steps[1:]  # "next" or "go back": no rest first


def test_without_intro_only_the_units_are_planned(shapes: LoadedRoutine) -> None:
    perf = _perf(shapes, "tilt")
    steps = step_planning.exercise_steps(perf, shapes, intro=False, arriving=True, tempo_factor=1.0)
    assert steps == step_planning.unit_steps(perf, tempo_factor=1.0)


# ---------------------------------------------------------------- the session around exercises


def test_opening_asks_resume_and_feeling_only_when_wanted(shapes: LoadedRoutine) -> None:
    assert step_planning.opening_steps(shapes, None, False) == [CallStep("welcome")]
    steps = step_planning.opening_steps(shapes, 2, True)
    assert [getattr(step, "tag", None) for step in steps if isinstance(step, TimedStep)] == [
        "resume_offer",
        "feeling",
    ]
    assert _texts(steps)[0].startswith("Welcome back. Last time you stopped at Test tilt.")
    # an offer to resume at the first item (or past the end) is no offer
    assert step_planning.opening_steps(shapes, 0, False) == [CallStep("welcome")]
    assert step_planning.opening_steps(shapes, 4, False) == [CallStep("welcome")]


def test_welcome_from_a_later_item_says_where_it_picks_up(shapes: LoadedRoutine) -> None:
    steps = step_planning.welcome_steps(shapes, 2, ["A line from history."])
    assert _texts(steps)[:2] == [
        "Welcome back to All shapes. We'll pick up at exercise 3 of 4: Test tilt.",
        "A line from history.",
    ]
    assert CallStep("today") in steps


def test_day_plan_names_what_will_be_played(shapes: LoadedRoutine) -> None:
    text = step_planning.day_plan_text(shapes, 0, {}, None)
    assert text == "Today: test stretch, test lift, test tilt, and test walk."
    gentle = shapes.variant(shapes.items[0].exercise, "easier")
    swapped = step_planning.day_plan_text(shapes, 0, {0: gentle, 1: None}, 600.0)
    assert swapped == "Today: gentle stretch, test tilt, and test walk. It takes about 10 minutes."
    assert step_planning.day_plan_text(shapes, 3, {3: None}, None) == "Nothing more today."


# ---------------------------------------------------------------- gentler numbers


def test_reduced_numbers_shorten_holds_and_drop_reps_within_range(shapes: LoadedRoutine) -> None:
    perf = _perf(shapes, "stretch")
    reduced = step_planning.reduced_numbers(perf.exercise, 30, 2, 3.0, DEFAULT_PAIN_RULES)
    assert reduced == (21, 1, 4.5)
    assert step_planning.gentler_plan(perf.exercise, perf, 21, 1, 4.5) == (
        "holds of 21 seconds, once on each side"
    )


def test_reduced_reps_slow_the_count_and_the_plan_says_so(shapes: LoadedRoutine) -> None:
    perf = _perf(shapes, "tilt")
    reduced = step_planning.reduced_numbers(perf.exercise, 0, 6, 2.0, DEFAULT_PAIN_RULES)
    assert reduced == (0, 4, 3.0)
    assert step_planning.gentler_plan(perf.exercise, perf, *reduced) == (
        "four reps with a slower count"
    )


def test_nothing_to_reduce_at_the_shortest_single_hold(shapes: LoadedRoutine) -> None:
    gentle = shapes.variant(shapes.items[0].exercise, "easier")
    assert gentle is not None
    low = gentle.hold_range_seconds[0]
    assert step_planning.reduced_numbers(gentle, low, 1, 3.0, DEFAULT_PAIN_RULES) is None
    assert step_planning.reduced_numbers(gentle, low + 2, 1, 3.0, DEFAULT_PAIN_RULES) is not None
    assert step_planning.cannot_reduce(gentle) == "can't be made any shorter"


# ---------------------------------------------------------------- schedules


def test_a_long_hold_gets_a_form_cue_and_the_next_hold_the_breathing_reminder(
    shapes: LoadedRoutine,
) -> None:
    stretch = _perf(shapes, "stretch").exercise
    hold = TimedStep(Phase.HOLD, 30, keys=((0, "left", 0),), end_text="And relax.")
    first, turn = schedules.schedule(hold, stretch, 150, 0)
    cues = [a for a in first if a.priority is Priority.CUE]
    assert [a.text for a in cues] == ["Keep your shoulders soft."]
    assert cues[0].interruptible
    assert turn == 1
    second, turn = schedules.schedule(hold, stretch, 150, turn)
    assert [a.text for a in second if a.priority is Priority.CUE] == [schedules.BREATHING_REMINDER]
    assert turn == 2
    assert (second[-1].offset, second[-1].text, second[-1].complete) == (
        30,
        "And relax.",
        ((0, "left", 0),),
    )


def test_a_short_hold_is_only_counted_down(shapes: LoadedRoutine) -> None:
    stretch = _perf(shapes, "stretch").exercise
    actions, turn = schedules.schedule(TimedStep(Phase.HOLD, 10), stretch, 150, 0)
    assert turn == 0
    assert [a.text for a in actions] == ["five", "four", "three", "two", "one", None]


def test_rep_beats_count_sides_when_alternating_and_mark_the_rep_before_done(
    shapes: LoadedRoutine,
) -> None:
    lift = _perf(shapes, "lift")
    keys = [(0, "left", 0), (0, "right", 0)]
    step = step_planning.rep_step(lift, keys, tempo_factor=1.0)  # period 5 s, 2 s at the top
    actions, _ = schedules.schedule(step, lift.exercise, 150, 0)
    said = [(a.offset, a.text) for a in actions]
    assert said[:4] == [(0, "One, left."), (1.5, "Hold."), (3.5, "And down."), (5, "One, right.")]
    assert actions[3].complete == ((0, "left", 0),)
    assert actions[-1].complete == ((0, "right", 0),)  # the last rep is done at the end


def test_a_walk_says_the_time_every_minute_but_not_near_the_end(shapes: LoadedRoutine) -> None:
    walk = _perf(shapes, "walk").exercise
    actions, _ = schedules.schedule(TimedStep(Phase.WALK, 180), walk, 150, 0)
    assert [(a.offset, a.text) for a in actions[:-1]] == [
        (60, "1 minute done, 2 minutes to go."),
        (120, "2 minutes done, 1 minute to go."),
    ]


def test_planned_seconds_add_the_steps_then_the_items_left(shapes: LoadedRoutine) -> None:
    steps = [TimedStep(Phase.REST, 7), CallStep("today")]
    only_steps = step_planning.planned_seconds(shapes, steps, 4, 150, 1.0, start=3.0)
    assert only_steps == 10.0
    walk = step_planning.exercise_seconds(shapes.items[3], shapes, 150, 1.0)
    assert walk > 180  # the walk itself, and what is said around it
    assert step_planning.planned_seconds(shapes, [], 3, 150, 1.0) == walk
