"""How each exercise ended, and the session summary: logged, stored and said at the end.

The summary dict is what the history stores and `SessionEnded` carries, so its fields are a
contract; the spoken summary is built from that dict alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from floorcoach.commands import RedFlag
from floorcoach.content.routine import ExerciseKind
from floorcoach.session.counting import counted, number_word, times_word
from floorcoach.session.steps import Outcome, Performance


@dataclass
class ExerciseRecord:
    """One routine item in the summary."""

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

    def outcome_fields(self) -> dict[str, Any]:
        """How it went, as logged when it closes and in the session summary."""
        return {
            "outcome": self.outcome.value,
            "done_as": self.done_as,
            "hold_seconds": self.hold_seconds,
            "reps": self.reps,
            "units_done": self.units_done,
            "units_planned": self.units_planned,
        }


def close_record(record: ExerciseRecord, perf: Performance, *, left_early: bool) -> None:
    """Fill in how the exercise went; left_early means the user moved on from it."""
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


def session_summary(
    routine_id: str,
    records: Sequence[ExerciseRecord],
    pain_reports: Sequence[dict[str, Any]],
    red_flag: RedFlag | None,
) -> dict[str, Any]:
    """Done, reduced, skipped and pain reports, as logged at the end."""
    counts = Counter(record.outcome.value for record in records)
    return {
        "routine": routine_id,
        "exercises": [
            {
                "exercise": record.exercise,
                **record.outcome_fields(),
                "pain_reports": record.pain_reports,
                "result": record.result,
            }
            for record in records
        ],
        "counts": dict(counts),
        "pain_reports": list(pain_reports),
        "red_flag": red_flag.value if red_flag else None,
    }


def summary_text(summary: dict[str, Any]) -> str:
    """The last thing said: what was done, made gentler, skipped, and the pain reported."""
    if summary["red_flag"] is not None:
        return "The session has ended."
    results = Counter(item["result"] for item in summary["exercises"])
    done = results["completed"]
    gentler = sum(
        1
        for item in summary["exercises"]
        if item["result"] == "completed"
        and item["outcome"] in (Outcome.REDUCED, Outcome.EASIER_VARIANT)
    )
    parts = [f"That's the end of today's session. You completed {counted(done, 'exercise')}"]
    if gentler and gentler == done == 1:
        parts.append("made gentler")
    elif gentler:
        parts.append(f"{'all' if gentler == done else number_word(gentler)} of them made gentler")
    if results["partial"]:
        parts.append(f"{number_word(results['partial'])} done in part")
    if results["skipped"]:
        parts.append(f"{number_word(results['skipped'])} skipped")
    if results["not_reached"]:
        parts.append(f"{number_word(results['not_reached'])} not reached")
    text = ", ".join(parts) + "."
    reports = len(summary["pain_reports"])
    if reports:
        text += f" You reported pain {times_word(reports)}; I'll remember that next time."
    if done == 0:
        return text + " Rest well, and come back when you're ready."
    return text + " Well done."
