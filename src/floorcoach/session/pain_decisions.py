"""What pain does to an exercise, as pure functions of the report and the pain rules.

A level (0 to 10) and a place (back or down the leg) decide, by the item's pain rules: carry on
gently, reduce the numbers, switch to the easier variant, or skip (also when the exercise has
hurt before today). Before the first exercise the decision is a plan for it (`StartPlan`).

Kept apart from the conversation (`pain_dialogue.PainDialogue`) so that each choice is made in
one place, including whether the level is said back: a level the user said is said with any
decision that does not already say it ("Pain at 4. Let's make it gentler: ..."), because the
recognizer can mishear a number (2 of 100 recorded telephone-band digits were heard as
another) and "Thanks for telling me" after a "nine" heard as "one" would hide the slip.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from floorcoach.commands import Location
from floorcoach.content.catalog import LoadedRoutine
from floorcoach.content.routine import Exercise, PainRules
from floorcoach.session.events import Phase
from floorcoach.session.step_planning import cannot_reduce, gentler_plan, reduced_numbers
from floorcoach.session.steps import Outcome, Performance, RunningStep
from floorcoach.session.summary import ExerciseRecord

PAIN_RANKS: Final[dict[str, int]] = {"continue": 0, "reduce": 1, "easier_variant": 2, "skip": 3}
"""Decisions on pain, gentlest first: a late answer to "where?" may only move up this list."""


@dataclass
class StartPlan:
    """What pain reported before the first exercise does to it, applied when it opens."""

    index: int
    decision: str
    variant: Exercise | None = None
    hold_seconds: float = 0.0
    reps: int = 0
    tempo_seconds: float = 0.0

    def apply(self, perf: Performance, record: ExerciseRecord) -> None:
        """Make the opening exercise what was planned (a variant is already in `perf`)."""
        if self.variant is not None:
            record.outcome = Outcome.EASIER_VARIANT
            record.done_as = self.variant.id
        elif self.decision == "reduce":
            perf.hold_seconds, perf.reps = self.hold_seconds, self.reps
            perf.tempo_seconds = self.tempo_seconds
            perf.outcome = record.outcome = Outcome.REDUCED


@dataclass(frozen=True)
class PainDecision:
    """A decision as said and logged, with what it changes."""

    decision: str
    """'continue', 'reduce', 'easier_variant' or 'skip'."""
    said: str
    fields: dict[str, Any] = field(default_factory=dict)
    """Logged after decision and said, in this order."""
    variant: Exercise | None = None
    numbers: tuple[float, int, float] | None = None
    """Reduce: the new hold seconds, reps and tempo seconds."""


def pain_choice(level: int, location: Location | None, rules: PainRules) -> str:
    """'severe' (easier variant or skip), 'reduce' or 'continue', by the pain rules."""
    spreading = location is Location.LEG and bool(rules.stop_if_spreads_down_leg)
    if level > (rules.reduce_max_level or 5) or spreading:
        return "severe"
    if level > (rules.ease_max_level or 3):
        return "reduce"
    return "continue"


def pain_reason(level: int, location: Location | None, rules: PainRules) -> tuple[str, str]:
    """The reason for easing off, as said ("With pain at 7,") and as logged."""
    if location is Location.LEG and rules.stop_if_spreads_down_leg:
        return "With pain spreading down your leg,", "spreading"
    return f"With pain at {level},", "severe"


def said_back(level: int, choice: str, level_said: bool) -> str:
    """ "Pain at 2. " before a decision on a level the user said, unless the decision says it
    itself ("With pain at 8, ...") or was taken on the place ("spreading down your leg"):
    every severe choice does one or the other."""
    return f"Pain at {level}. " if level_said and choice != "severe" else ""


def decision_rank(choice: str, has_easier: bool) -> int:
    """Where a choice lands on PAIN_RANKS ('severe': the variant if there is one, else skip)."""
    if choice == "severe":
        return PAIN_RANKS["easier_variant" if has_easier else "skip"]
    return PAIN_RANKS[choice]


def exercise_begun(perf: Performance, running: RunningStep | None) -> bool:
    """Whether any of the exercise has been done (a hold or rep begun or finished)."""
    counting = running is not None and running.step.phase in (Phase.HOLD, Phase.REP, Phase.WALK)
    return bool(perf.completed) or counting


def decide_on_exercise(
    perf: Performance,
    level: int,
    location: Location | None,
    *,
    repeated: bool,
    easier: Exercise | None,
    begun: bool,
    lead: str = "",
    level_said: bool = False,
) -> PainDecision:
    """What pain during an exercise does to it.

    repeated: it has hurt often enough today to skip. easier: its easier variant, if any.
    begun: some of it has been done. lead: said first ("Thanks. " for a late answer).
    level_said: the user said the level (not assumed): it is said back unless the decision
    says it.
    """
    rules = perf.rules
    choice = pain_choice(level, location, rules)
    lead += said_back(level, choice, level_said)
    if repeated:
        return PainDecision(
            "skip",
            lead + "This exercise has hurt twice now, so we'll skip it for the rest of today.",
            {"reason": "repeated_pain"},
        )
    if choice == "severe":
        opening, reason = pain_reason(level, location, rules)
        return _ease_off(opening, reason, easier=easier, begun=begun, lead=lead)
    if choice == "reduce":
        ex = perf.exercise
        reduced = reduced_numbers(ex, perf.hold_seconds, perf.reps, perf.tempo_seconds, rules)
        if reduced is None:
            opening = f"This one {cannot_reduce(ex)}, so"
            return _ease_off(opening, "cannot_reduce", easier=easier, begun=begun, lead=lead)
        hold, reps, tempo = reduced
        return PainDecision(
            "reduce",
            f"{lead}Let's make it gentler: {gentler_plan(ex, perf, hold, reps, tempo)}.",
            {
                "reason": "moderate",
                "hold_seconds": hold,
                "reps": reps,
                "tempo_seconds": round(tempo, 2),
            },
            numbers=reduced,
        )
    return PainDecision(
        "continue",
        lead + "Okay. Ease into it, and only go as far as is comfortable.",
        {"reason": "mild"},
    )


def _ease_off(
    opening: str, reason: str, *, easier: Exercise | None, begun: bool, lead: str
) -> PainDecision:
    """Switch to the easier variant, or skip the exercise when there is none."""
    if easier is not None:
        if reason == "cannot_reduce":
            action = f"let's switch to the easier {easier.name}."
        elif begun:
            action = f"let's stop this one and switch to the easier {easier.name}."
        else:
            action = f"let's do the easier {easier.name} instead."
        return PainDecision(
            "easier_variant",
            f"{lead}{opening} {action}",
            {"reason": reason, "variant": easier.id},
            variant=easier,
        )
    if reason == "cannot_reduce":
        action = "let's skip it for today."
    else:
        action = "let's skip this exercise for today. I'll note it for next time."
    return PainDecision("skip", f"{lead}{opening} {action}", {"reason": reason})


def decide_before_start(
    loaded: LoadedRoutine,
    index: int | None,
    level: int,
    location: Location | None,
    *,
    lead: str = "",
    level_said: bool = False,
) -> tuple[PainDecision, StartPlan | None]:
    """Pain before the first exercise: what the exercise at `index` will be when it opens.

    lead and level_said as for `decide_on_exercise`.
    """
    if index is None:
        lead += said_back(level, "continue", level_said)
        return PainDecision("continue", lead + "Thanks for telling me.", {"reason": "mild"}), None
    item = loaded.items[index]
    ex, rules = item.exercise, item.pain_rules
    choice = pain_choice(level, location, rules)
    lead += said_back(level, choice, level_said)
    if choice == "severe":
        opening, reason = pain_reason(level, location, rules)
        return _start_ease_off(loaded, index, opening, reason, lead=lead)
    if choice == "reduce":
        reduced = reduced_numbers(ex, ex.hold_seconds, ex.reps, ex.tempo_seconds, rules)
        if reduced is None:
            opening = f"{ex.name} {cannot_reduce(ex)}, so"
            return _start_ease_off(loaded, index, opening, "cannot_reduce", lead=lead)
        hold, reps, tempo = reduced
        plan = gentler_plan(ex, Performance.of(item), hold, reps, tempo)
        fields = {
            "reason": "moderate",
            "index": index,
            "hold_seconds": hold,
            "reps": reps,
            "tempo_seconds": round(tempo, 2),
        }
        decision = PainDecision("reduce", f"{lead}Let's make {ex.name} gentler: {plan}.", fields)
        return decision, StartPlan(index, "reduce", None, hold, reps, tempo)
    said = lead + "Thanks for telling me. Go gently, and say that hurts at any time."
    return PainDecision("continue", said, {"reason": "mild"}), None


def _start_ease_off(
    loaded: LoadedRoutine, index: int, opening: str, reason: str, *, lead: str
) -> tuple[PainDecision, StartPlan]:
    items = loaded.items
    name = items[index].exercise.name
    easier = loaded.variant(items[index].exercise, "easier")
    if easier is not None:
        said = f"{lead}{opening} we'll start with the easier {easier.name} instead of {name}."
        fields = {"reason": reason, "variant": easier.id, "index": index}
        return PainDecision("easier_variant", said, fields), StartPlan(
            index, "easier_variant", easier
        )
    then = f" and start with {items[index + 1].exercise.name}" if index + 1 < len(items) else ""
    said = f"{lead}{opening} we'll skip {name} today{then}."
    return PainDecision("skip", said, {"reason": reason, "index": index}), StartPlan(index, "skip")
