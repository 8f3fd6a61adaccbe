"""What the history says to a person: totals per exercise, "how am I doing?", the export.

Functions of a snapshot only, no database: the CLI tables, the spoken summary and the file
for the physio count the same rows the same way, and tests can feed them built snapshots.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from floorcoach.session.counting import number_word
from floorcoach.store.history_rows import DONE_OUTCOMES, HistorySnapshot, OutcomeRow, iso_time
from floorcoach.store.history_schema import SCHEMA_VERSION

SUMMARY_WINDOW_DAYS: Final = 28


@dataclass(frozen=True)
class ExerciseStats:
    """Completion and pain for one exercise over all sessions."""

    exercise_id: str
    sessions: int
    done: int
    eased: int
    skipped: int
    pain_reports: int
    max_pain: int | None
    mean_pain: float | None
    last_pain: int | None

    @property
    def completion(self) -> float:
        """Share of sessions in which the exercise was done (0..1)."""
        return self.done / self.sessions if self.sessions else 0.0


def exercise_stats(snapshot: HistorySnapshot) -> list[ExerciseStats]:
    """Per exercise (by the routine's exercise id): sessions, done, eased, skipped, pain."""
    by_exercise: dict[str, list[OutcomeRow]] = defaultdict(list)
    for row in snapshot.outcomes:
        if row.outcome != "not_reached":
            by_exercise[row.exercise_id].append(row)
    pains: dict[str, list[int]] = defaultdict(list)
    for pain in snapshot.pains:
        key = pain.item_exercise_id or pain.exercise_id
        if key:
            pains[key].append(pain.level)
    stats = []
    for exercise_id in sorted(set(by_exercise) | set(pains)):
        rows = by_exercise.get(exercise_id, [])
        levels = pains.get(exercise_id, [])
        stats.append(
            ExerciseStats(
                exercise_id=exercise_id,
                sessions=len({row.session_id for row in rows}),
                done=sum(1 for row in rows if row.outcome in DONE_OUTCOMES),
                eased=sum(1 for row in rows if row.outcome in ("reduced", "easier_variant")),
                skipped=sum(1 for row in rows if row.outcome == "skipped"),
                pain_reports=len(levels),
                max_pain=max(levels) if levels else None,
                mean_pain=sum(levels) / len(levels) if levels else None,
                last_pain=levels[-1] if levels else None,
            )
        )
    return stats


def summary_text(snapshot: HistorySnapshot, now: datetime) -> str:
    """Two spoken sentences: how much was done lately, and how the pain has gone."""
    since = now - timedelta(days=SUMMARY_WINDOW_DAYS)
    recent = [s for s in snapshot.sessions if since <= s.started_at <= now]
    if not recent:
        if snapshot.sessions:
            return (
                "You haven't done a session in the last four weeks. "
                "Starting again gently is fine; we'll begin where it feels comfortable."
            )
        return (
            "You haven't done a session yet. After your first one, I can tell you how you're doing."
        )
    ids = {s.id for s in recent}
    outcomes = [o for o in snapshot.outcomes if o.session_id in ids]
    reached = [o for o in outcomes if o.outcome != "not_reached"]
    planned = len(outcomes)
    done = sum(1 for o in reached if o.outcome in DONE_OUTCOMES)
    percent = round(100 * done / planned) if planned else 0
    minutes = round(sum(s.minutes for s in recent))
    weeks = max(1, -(-(now - recent[0].started_at).days // 7))
    span = "this week" if weeks == 1 else f"in the last {number_word(weeks)} weeks"
    sessions = "one session" if len(recent) == 1 else f"{number_word(len(recent))} sessions"
    first = (
        f"You've done {sessions} {span}, {_minutes_words(minutes)} in all, "
        f"and completed {number_word(percent)} percent of your exercises."
    )
    flags = [f for f in snapshot.red_flags if f.session_id in ids]
    if flags:
        return (
            first + " You reported a warning sign recently; "
            "please make sure a doctor has seen you before you carry on."
        )
    levels = [p for p in snapshot.pains if p.session_id in ids]
    if not levels:
        return first + " You haven't reported any pain in that time; well done."
    half = len(recent) // 2
    early_ids = {s.id for s in recent[:half]} if half else set()
    early = [p.level for p in levels if p.session_id in early_ids]
    late = [p.level for p in levels if p.session_id not in early_ids]
    late_mean = round(sum(late) / len(late)) if late else 0
    if early and late:
        early_mean = round(sum(early) / len(early))
        if late_mean < early_mean:
            return first + (
                f" Your pain reports have eased, from about {number_word(early_mean)} "
                f"to about {number_word(late_mean)} out of ten."
            )
        if late_mean > early_mean:
            return first + (
                f" Your pain reports have gone up, from about {number_word(early_mean)} "
                f"to about {number_word(late_mean)} out of ten, so we'll keep things gentle."
            )
    if not late:
        return first + " You haven't reported any pain lately; well done."
    return first + f" Your pain reports have stayed at about {number_word(late_mean)} out of ten."


def _minutes_words(minutes: int) -> str:
    if minutes < 60:
        return "one minute" if minutes == 1 else f"{number_word(minutes)} minutes"
    hours, rest = divmod(minutes, 60)
    hour_words = "one hour" if hours == 1 else f"{number_word(hours)} hours"
    return hour_words if rest == 0 else f"{hour_words} and {number_word(rest)} minutes"


def export_data(snapshot: HistorySnapshot) -> dict[str, Any]:
    """Everything as plain JSON-ready data, one list per table, sessions first."""

    def plain(row: Any) -> dict[str, Any]:
        data = dict(row.__dict__)
        for key, value in data.items():
            if isinstance(value, datetime):
                data[key] = iso_time(value)
        return data

    return {
        "schema_version": SCHEMA_VERSION,
        "sessions": [plain(s) for s in snapshot.sessions],
        "exercise_outcomes": [plain(o) for o in snapshot.outcomes],
        "pain_reports": [plain(p) for p in snapshot.pains],
        "red_flags": [plain(f) for f in snapshot.red_flags],
        "commands": [plain(c) for c in snapshot.commands],
        "reminders": [plain(r) for r in snapshot.reminders],
    }
