"""Synthetic histories for store, adaptation and CLI tests: sessions fed to the recorder the
way the engine's log records arrive."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from floorcoach.store.history_store import HistoryStore
from floorcoach.store.session_recorder import SessionRecorder

T0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
"""A Monday morning: synthetic histories count weeks from here, never from today."""


@dataclass
class Done:
    """One routine item in a synthetic session."""

    exercise: str
    outcome: str = "completed"
    pain: int | None = None
    location: str | None = None
    too_easy: bool = False
    played: str | None = None


def record_session(
    store: HistoryStore,
    started_at: datetime,
    items: Sequence[Done],
    *,
    routine_id: str = "core-routine",
    feeling: str | None = None,
    finish: bool = True,
) -> int:
    """Feed a session to the store as the engine's Log records would arrive."""
    ids = [item.exercise for item in items]
    recorder = SessionRecorder(store, base_exercise_ids=ids)
    recorder.start(routine_id, started_at=started_at)
    recorder.record({"t": 0.0, "kind": "session_start", "routine": routine_id})
    t = 30.0
    for index, item in enumerate(items):
        played = item.played or item.exercise
        base = {"phase": "instruct", "exercise": played}
        recorder.record({"t": t, "kind": "exercise_start", "index": index, **base})
        if item.too_easy:
            recorder.record(
                {"t": t + 10, "kind": "heard", "command": "too_easy", "text": "too easy", **base}
            )
        if item.pain is not None:
            recorder.record(
                {"t": t + 20, "kind": "heard", "command": "pain", "text": "ouch", **base}
            )
            recorder.record(
                {"t": t + 25, "kind": "pain", "level": item.pain, "location": item.location, **base}
            )
        recorder.record(
            {
                "t": t + 60,
                "kind": "outcome",
                "outcome": item.outcome,
                "units_done": 2,
                "units_planned": 2,
                **base,
            }
        )
        t += 90
    if finish:
        recorder.record({"t": t, "kind": "session_end", "summary": None})
    assert recorder.session_id is not None
    if feeling is not None:
        store.set_next_day_feeling(feeling, recorder.session_id)
    return recorder.session_id
