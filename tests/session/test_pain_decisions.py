"""The pain rules as pure decisions: what a level and a place do to an exercise, during it or
before the first one, and when the level is said back."""

from __future__ import annotations

from typing import Any

import pytest

from floorcoach.commands import Location
from floorcoach.content.catalog import LoadedRoutine
from floorcoach.content.routine import DEFAULT_PAIN_RULES, Exercise, PainRules
from floorcoach.session.events import Phase
from floorcoach.session.pain_decisions import (
    decide_before_start,
    decide_on_exercise,
    decision_rank,
    exercise_begun,
    pain_choice,
    pain_reason,
)
from floorcoach.session.steps import Performance, RunningStep, TimedStep


def _perf(shapes: LoadedRoutine, index: int) -> Performance:
    return Performance.of(shapes.items[index])


# ---------------------------------------------------------------- the rules


@pytest.mark.parametrize(
    ("level", "location", "choice"),
    [
        (0, None, "continue"),
        (3, Location.BACK, "continue"),
        (4, None, "reduce"),
        (5, Location.BACK, "reduce"),
        (6, None, "severe"),
        (1, Location.LEG, "severe"),  # spreading down the leg stops it whatever the level
    ],
)
def test_pain_choice_by_the_default_rules(
    level: int, location: Location | None, choice: str
) -> None:
    assert pain_choice(level, location, DEFAULT_PAIN_RULES) == choice


def test_a_routine_can_allow_pain_down_the_leg() -> None:
    rules = PainRules(ease_max_level=5, stop_if_spreads_down_leg=False)
    assert pain_choice(5, Location.LEG, rules) == "continue"
    assert pain_reason(7, Location.LEG, rules) == ("With pain at 7,", "severe")
    assert pain_reason(2, Location.LEG, DEFAULT_PAIN_RULES) == (
        "With pain spreading down your leg,",
        "spreading",
    )


def test_severe_ranks_as_the_variant_when_there_is_one_else_as_skip() -> None:
    assert decision_rank("severe", True) == decision_rank("easier_variant", False) == 2
    assert decision_rank("severe", False) == 3
    assert decision_rank("continue", True) < decision_rank("reduce", True)


def test_an_exercise_has_begun_once_a_unit_is_done_or_counting(shapes: LoadedRoutine) -> None:
    perf = _perf(shapes, 0)
    assert not exercise_begun(perf, None)
    resting = RunningStep(TimedStep(Phase.REST, 5), 0.0, [])
    assert not exercise_begun(perf, resting)
    assert exercise_begun(perf, RunningStep(TimedStep(Phase.HOLD, 30), 0.0, []))
    perf.completed.add((0, "left", 0))
    assert exercise_begun(perf, resting)


# ---------------------------------------------------------------- decisions during an exercise


def _decide(perf: Performance, level: int, location: Location | None = None, **kw: Any) -> Any:
    options: dict[str, Any] = {"repeated": False, "easier": None, "begun": False, "lead": ""}
    options.update(kw)
    return decide_on_exercise(perf, level, location, **options)


def test_severe_pain_switches_to_the_easier_variant(shapes: LoadedRoutine) -> None:
    perf = _perf(shapes, 0)
    easier = shapes.variant(perf.exercise, "easier")
    decision = _decide(perf, 7, easier=easier, begun=True)
    assert decision.decision == "easier_variant"
    assert decision.variant is easier
    assert (
        decision.said
        == "With pain at 7, let's stop this one and switch to the easier Gentle stretch."
    )
    assert decision.fields == {"reason": "severe", "variant": "gentle-stretch"}
    before = _decide(perf, 7, easier=easier, begun=False)
    assert before.said == "With pain at 7, let's do the easier Gentle stretch instead."


def test_severe_pain_without_a_variant_skips(shapes: LoadedRoutine) -> None:
    decision = _decide(_perf(shapes, 2), 2, Location.LEG, lead="Thanks. ")
    assert decision.decision == "skip"
    assert decision.said == (
        "Thanks. With pain spreading down your leg, let's skip this exercise for today. "
        "I'll note it for next time."
    )
    assert decision.fields == {"reason": "spreading"}


def test_moderate_pain_reduces_the_numbers_without_changing_them(shapes: LoadedRoutine) -> None:
    perf = _perf(shapes, 0)
    decision = _decide(perf, 5)
    assert decision.decision == "reduce"
    assert decision.numbers == (21, 1, 4.5)
    assert decision.said == "Let's make it gentler: holds of 21 seconds, once on each side."
    assert decision.fields == {
        "reason": "moderate",
        "hold_seconds": 21,
        "reps": 1,
        "tempo_seconds": 4.5,
    }
    assert (perf.hold_seconds, perf.reps) == (30, 2)  # carrying it out is the dialogue's job


def test_moderate_pain_with_nothing_left_to_reduce_eases_off(shapes: LoadedRoutine) -> None:
    gentle = shapes.variant(shapes.items[0].exercise, "easier")
    assert gentle is not None
    perf = Performance.of(shapes.items[0], gentle)
    perf.hold_seconds, perf.reps = gentle.hold_range_seconds[0], 1
    harder_way_down = Exercise.model_validate(
        {**gentle.model_dump(), "id": "gentlest", "name": "Gentlest"}
    )
    decision = _decide(perf, 4, easier=harder_way_down)
    assert decision.decision == "easier_variant"
    assert decision.said == (
        "This one can't be made any shorter, so let's switch to the easier Gentlest."
    )
    assert decision.fields["reason"] == "cannot_reduce"
    assert (
        _decide(perf, 4).said == "This one can't be made any shorter, so let's skip it for today."
    )


def test_mild_pain_carries_on_and_repeated_pain_skips(shapes: LoadedRoutine) -> None:
    perf = _perf(shapes, 1)
    mild = _decide(perf, 2)
    assert (mild.decision, mild.fields) == ("continue", {"reason": "mild"})
    assert mild.said == "Okay. Ease into it, and only go as far as is comfortable."
    repeated = _decide(perf, 2, repeated=True)
    assert repeated.decision == "skip"
    assert repeated.fields == {"reason": "repeated_pain"}


# ---------------------------------------------------------------- decisions before the first


def test_before_the_start_moderate_pain_plans_a_gentler_first_exercise(
    shapes: LoadedRoutine,
) -> None:
    decision, plan = decide_before_start(shapes, 0, 4, Location.BACK)
    assert (
        decision.said == "Let's make Test stretch gentler: holds of 21 seconds, once on each side."
    )
    assert decision.fields["index"] == 0
    assert plan is not None
    assert (plan.index, plan.decision, plan.hold_seconds, plan.reps) == (0, "reduce", 21, 1)


def test_before_the_start_severe_pain_plans_the_variant_or_a_skip(shapes: LoadedRoutine) -> None:
    decision, plan = decide_before_start(shapes, 0, 8, None)
    assert decision.said == (
        "With pain at 8, we'll start with the easier Gentle stretch instead of Test stretch."
    )
    assert plan is not None
    assert plan.variant is not None
    assert plan.variant.id == "gentle-stretch"
    decision, plan = decide_before_start(shapes, 2, 8, None)
    assert decision.said == "With pain at 8, we'll skip Test tilt today and start with Test walk."
    assert plan is not None
    assert plan.decision == "skip"


def test_before_the_start_mild_pain_or_no_exercise_left_plans_nothing(
    shapes: LoadedRoutine,
) -> None:
    decision, plan = decide_before_start(shapes, 0, 1, Location.BACK)
    assert plan is None
    assert decision.said == "Thanks for telling me. Go gently, and say that hurts at any time."
    decision, plan = decide_before_start(shapes, None, 9, Location.LEG, lead="Thanks. ")
    assert plan is None
    assert decision.said == "Thanks. Thanks for telling me."


# ---------------------------------------------------------------- the level said back


@pytest.mark.parametrize(
    ("level", "location", "repeated", "first_words"),
    [
        (2, None, False, "Pain at 2. Okay. Ease into it"),
        (4, Location.BACK, False, "Pain at 4. Let's make it gentler:"),
        (2, None, True, "Pain at 2. This exercise has hurt twice now"),
        (8, None, False, "With pain at 8, "),  # the decision says it: not twice
        (8, None, True, "This exercise has hurt twice now"),  # severe: as it always was
        (2, Location.LEG, False, "With pain spreading down your leg,"),  # taken on the place
    ],
)
def test_a_level_the_user_said_is_said_back_unless_the_decision_says_it(
    shapes: LoadedRoutine,
    level: int,
    location: Location | None,
    repeated: bool,
    first_words: str,
) -> None:
    perf = _perf(shapes, 0)
    said = decide_on_exercise(
        perf, level, location, repeated=repeated, easier=None, begun=False, level_said=True
    ).said
    assert said.startswith(first_words), said
    assert said.count("ain at") <= 1
    assumed = decide_on_exercise(
        perf, level, location, repeated=repeated, easier=None, begun=False, level_said=False
    ).said
    assert "Pain at" not in assumed
    assert said == assumed if first_words.startswith(("With", "This")) else assumed in said


def test_before_the_start_a_level_said_is_said_back_the_same_way(shapes: LoadedRoutine) -> None:
    mild, _ = decide_before_start(shapes, 0, 1, Location.BACK, level_said=True)
    assert mild.said.startswith("Pain at 1. Thanks for telling me.")
    severe, _ = decide_before_start(shapes, 0, 8, None, level_said=True)
    assert severe.said.startswith("With pain at 8,")
    nothing_left, _ = decide_before_start(shapes, None, 9, None, level_said=True)
    assert nothing_left.said == "Pain at 9. Thanks for telling me."
