"""History schema v3 (reminders): a v2 file migrates keeping everything, or is left as it was."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from floorcoach.errors import HistoryError
from floorcoach.store import history_schema
from floorcoach.store.history_reports import export_data
from floorcoach.store.history_schema import APPLICATION_ID, SCHEMA_VERSION
from floorcoach.store.history_store import HistoryStore
from floorcoach.store.session_recorder import SessionRecorder

V2_SCHEMA = """
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY, routine_id TEXT NOT NULL, started_at TEXT NOT NULL, ended_at TEXT,
    status TEXT NOT NULL DEFAULT 'in_progress'
        CHECK (status IN ('in_progress', 'completed', 'stopped', 'red_flag')),
    minutes REAL NOT NULL DEFAULT 0, last_item_index INTEGER,
    last_item_closed INTEGER NOT NULL DEFAULT 0,
    next_day_feeling TEXT CHECK (next_day_feeling IN ('better', 'same', 'worse')));
CREATE INDEX sessions_started ON sessions (started_at);
CREATE TABLE exercise_outcomes (
    session_id INTEGER NOT NULL REFERENCES sessions (id), item_index INTEGER NOT NULL,
    exercise_id TEXT NOT NULL, done_as TEXT, outcome TEXT NOT NULL, hold_seconds REAL,
    reps INTEGER, units_done INTEGER, units_planned INTEGER, t REAL, recorded_at TEXT NOT NULL,
    PRIMARY KEY (session_id, item_index));
CREATE TABLE pain_reports (
    id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions (id),
    item_index INTEGER, exercise_id TEXT, item_exercise_id TEXT,
    level INTEGER NOT NULL CHECK (level BETWEEN 0 AND 10), location TEXT, t REAL,
    recorded_at TEXT NOT NULL);
CREATE INDEX pain_session ON pain_reports (session_id);
CREATE TABLE red_flags (
    id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions (id),
    flag TEXT NOT NULL, exercise_id TEXT, t REAL, recorded_at TEXT NOT NULL);
CREATE TABLE commands (
    id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions (id),
    command TEXT NOT NULL, text TEXT, item_index INTEGER, exercise_id TEXT,
    item_exercise_id TEXT, t REAL, recorded_at TEXT NOT NULL);
CREATE INDEX commands_session ON commands (session_id);
INSERT INTO sessions VALUES (1, 'core-routine', '2025-03-03T08:00:00.000+00:00',
    '2025-03-03T08:20:00.000+00:00', 'completed', 20.0, 4, 1, 'better');
INSERT INTO exercise_outcomes VALUES (1, 0, 'knee-to-chest', NULL, 'completed', 30, 3, 6, 6,
    120.0, '2025-03-03T08:02:00.000+00:00');
INSERT INTO commands VALUES (1, 1, 'pause', 'wait', 0, 'knee-to-chest', 'knee-to-chest', 40.0,
    '2025-03-03T08:01:00.000+00:00');
PRAGMA user_version = 2;
"""
"""The v2 schema as it shipped, frozen here so a later edit of MIGRATIONS cannot hide a break."""

MORNING = datetime(2025, 3, 4, 9, 25, tzinfo=UTC)


def _write_v2(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(V2_SCHEMA)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.commit()
    conn.close()


def test_schema_is_v3() -> None:
    assert SCHEMA_VERSION == 3


def test_v2_file_migrates_to_v3_keeping_everything(tmp_path: Path) -> None:
    path = tmp_path / "v2.sqlite3"
    _write_v2(path)
    with HistoryStore(path) as store:
        assert store.schema_version == 3
        assert [(s.id, s.next_day_feeling) for s in store.sessions()] == [(1, "better")]
        assert store.outcomes()[0].hold_seconds == 30
        assert [c.text for c in store.commands()] == ["wait"]
        assert store.reminders() == []
        # what v3 added works on the migrated file, beside what was there
        store.record_reminder("stand", "given", at=MORNING, text="Time to stand up.")
        store.record_reminder("stand", "snoozed", at=MORNING.replace(minute=26))
        recorder = SessionRecorder(store)
        recorder.start("core-routine")
        recorder.record({"t": 3.0, "kind": "heard", "command": "next", "text": "next"})
        assert [c.command for c in store.commands()] == ["pause", "next"]
        rows = store.reminders()
        assert [(r.kind, r.action, r.text) for r in rows] == [
            ("stand", "given", "Time to stand up."),
            ("stand", "snoozed", None),
        ]
        assert rows[0].recorded_at == MORNING
        assert store.reminders(since=MORNING.replace(minute=26)) == rows[1:]
        exported = json.loads(json.dumps(export_data(store.snapshot())))
    assert exported["schema_version"] == 3
    assert [r["action"] for r in exported["reminders"]] == ["given", "snoozed"]
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
    conn.close()


def test_failed_v3_migration_leaves_the_v2_file_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "v2.sqlite3"
    _write_v2(path)
    migrations = history_schema.MIGRATIONS
    broken = (*migrations[:2], migrations[2] + "\nCREATE TABLE sessions (x);")
    monkeypatch.setattr(history_schema, "MIGRATIONS", broken)
    with pytest.raises(HistoryError):
        HistoryStore(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert "reminders" not in tables
    assert conn.execute("SELECT COUNT(*) FROM commands").fetchone()[0] == 1
    conn.close()


def test_bad_reminder_values_are_refused(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "h.sqlite3") as store:
        with pytest.raises(HistoryError, match="unknown reminder kind 'nap'"):
            store.record_reminder("nap", "given")
        with pytest.raises(HistoryError, match="unknown reminder action 'ignored'"):
            store.record_reminder("walk", "ignored")
        with pytest.raises(HistoryError):  # the CHECK constraint guards the file too
            with store.transaction() as conn:
                conn.execute(
                    "INSERT INTO reminders (kind, action, recorded_at) VALUES ('x', 'given', 'now')"
                )
        assert store.reminders() == []
