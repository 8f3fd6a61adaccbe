"""The history file's format: its tables, how our file is told apart, how an old one is updated.

A change to the tables is a new entry at the end of MIGRATIONS, never an edit of an old one:
``PRAGMA user_version`` says how many have run on a file, and the rest run in one
transaction, so a file is at its old version or the new one, never half way. The checks
only read: a file this code cannot use is never written to.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Final

from floorcoach.errors import HistoryError
from floorcoach.store.history_rows import (
    HISTORY_ENV,
    OUTCOMES,
    REMINDER_ACTIONS,
    REMINDER_KINDS,
    STATUSES,
)

_LOGGER = logging.getLogger(__name__)

APPLICATION_ID: Final = 0x46434831
"""'FCH1' in the file header: tells our history apart from any other SQLite file."""

_OUTCOME_CHECK: Final = ", ".join(f"'{o}'" for o in OUTCOMES)
_REMINDER_KIND_CHECK: Final = ", ".join(f"'{k}'" for k in REMINDER_KINDS)
_REMINDER_ACTION_CHECK: Final = ", ".join(f"'{a}'" for a in REMINDER_ACTIONS)
_STATUS_CHECK: Final = ", ".join(f"'{s}'" for s in STATUSES)

MIGRATIONS: Final[tuple[str, ...]] = (
    # v1: sessions, outcomes, pain, red flags, and progress for resume
    f"""
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        routine_id TEXT NOT NULL,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        status TEXT NOT NULL DEFAULT 'in_progress' CHECK (status IN ({_STATUS_CHECK})),
        minutes REAL NOT NULL DEFAULT 0,
        last_item_index INTEGER,
        last_item_closed INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX sessions_started ON sessions (started_at);
    CREATE TABLE exercise_outcomes (
        session_id INTEGER NOT NULL REFERENCES sessions (id),
        item_index INTEGER NOT NULL,
        exercise_id TEXT NOT NULL,
        done_as TEXT,
        outcome TEXT NOT NULL CHECK (outcome IN ({_OUTCOME_CHECK})),
        hold_seconds REAL,
        reps INTEGER,
        units_done INTEGER,
        units_planned INTEGER,
        t REAL,
        recorded_at TEXT NOT NULL,
        PRIMARY KEY (session_id, item_index)
    );
    CREATE TABLE pain_reports (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions (id),
        item_index INTEGER,
        exercise_id TEXT,
        item_exercise_id TEXT,
        level INTEGER NOT NULL CHECK (level BETWEEN 0 AND 10),
        location TEXT,
        t REAL,
        recorded_at TEXT NOT NULL
    );
    CREATE INDEX pain_session ON pain_reports (session_id);
    CREATE TABLE red_flags (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions (id),
        flag TEXT NOT NULL,
        exercise_id TEXT,
        t REAL,
        recorded_at TEXT NOT NULL
    );
    """,
    # v2: the answer to the next-day question, and every command used
    """
    ALTER TABLE sessions ADD COLUMN next_day_feeling TEXT
        CHECK (next_day_feeling IN ('better', 'same', 'worse'));
    CREATE TABLE commands (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions (id),
        command TEXT NOT NULL,
        text TEXT,
        item_index INTEGER,
        exercise_id TEXT,
        item_exercise_id TEXT,
        t REAL,
        recorded_at TEXT NOT NULL
    );
    CREATE INDEX commands_session ON commands (session_id);
    """,
    # v3: daily-habit reminders given, snoozed and acted on, and turned off or on
    f"""
    CREATE TABLE reminders (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ({_REMINDER_KIND_CHECK})),
        action TEXT NOT NULL CHECK (action IN ({_REMINDER_ACTION_CHECK})),
        text TEXT,
        recorded_at TEXT NOT NULL
    );
    CREATE INDEX reminders_recorded ON reminders (recorded_at);
    """,
)
SCHEMA_VERSION: Final = len(MIGRATIONS)


def check_readable(conn: sqlite3.Connection, path: Path | str) -> None:
    """Read-only checks first: nothing is written to a file that fails them."""
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    if app_id != APPLICATION_ID and (version != 0 or tables):
        raise HistoryError(
            f"{path}: not a floorcoach history database (another program's file); "
            f"it was left untouched. Set {HISTORY_ENV} to use another file"
        )
    if version > SCHEMA_VERSION:
        raise HistoryError(
            f"{path}: written by a newer floorcoach (history schema v{version}; "
            f"this version reads up to v{SCHEMA_VERSION}); update floorcoach, or set "
            f"{HISTORY_ENV} to use another file"
        )
    if tables:
        check = " ".join(str(conn.execute("PRAGMA quick_check").fetchone()[0]).split())
        if check != "ok":
            raise HistoryError(
                f"{path}: the history database is damaged ({check}); it was left "
                f"untouched. Move it aside, or set {HISTORY_ENV} to use another file"
            )


def migrate(conn: sqlite3.Connection, path: Path | str) -> None:
    """Bring the schema to SCHEMA_VERSION in one transaction (all of it or none)."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == SCHEMA_VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        for target in range(version + 1, SCHEMA_VERSION + 1):
            _LOGGER.info("history: migrating %s to schema v%d", path, target)
            for statement in _statements(MIGRATIONS[target - 1]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {target}")
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # SQLite has already rolled back after e.g. a full disk
            conn.execute("ROLLBACK")
        raise


def _statements(script: str) -> list[str]:
    return [part.strip() for part in script.split(";") if part.strip()]
