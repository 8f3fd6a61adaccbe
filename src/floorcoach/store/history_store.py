"""The history file opened for use: one connection, one lock, every read and write of rows.

One file (WAL journal, ``synchronous=FULL``: every commit is on disk before the call that
made it returns, which is what "pulling the plug loses nothing" needs; records come a few
times a minute, so the fsync costs nothing that matters). Opening is where a file that
cannot be used is caught, explained in one line and left untouched; a failed call later is
explained the same way (locked, disk full, read-only), so a session can carry on without
history instead of stopping.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final, TypeVar

from floorcoach.commands import Feeling
from floorcoach.errors import HistoryError
from floorcoach.store.history_reports import ExerciseStats, exercise_stats, summary_text
from floorcoach.store.history_rows import (
    HISTORY_ENV,
    REMINDER_ACTIONS,
    REMINDER_KINDS,
    CommandRow,
    HistorySnapshot,
    OutcomeRow,
    PainRow,
    RedFlagRow,
    ReminderRow,
    ResumePoint,
    SessionRow,
    default_history_path,
    iso_time,
    now_local,
    parse_time,
)
from floorcoach.store.history_schema import check_readable, migrate

_LOGGER = logging.getLogger(__name__)
_Row = TypeVar("_Row")

BUSY_TIMEOUT_SECONDS: Final = 2.0
"""How long a write waits for another program's lock before history is declared locked."""
RESUME_MAX_AGE_HOURS: Final = 24.0
"""An unfinished session older than this is history, not something to resume."""


def _describe(exc: BaseException, path: Path | str, action: str) -> HistoryError:
    """One clear line for a failed database call (the exception's SQLite code decides)."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = " ".join(str(exc).split())
    if name in ("SQLITE_NOTADB", "SQLITE_CORRUPT") or "not a database" in text:
        return HistoryError(
            f"{path}: not a readable history database ({text}); it was left untouched. "
            f"Move it aside, or set {HISTORY_ENV} to use another file"
        )
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
        return HistoryError(
            f"{path}: the history database is locked by another program "
            "(is another floorcoach running?)"
        )
    if name == "SQLITE_FULL" or "full" in text:
        return HistoryError(f"{path}: the disk is full, so history cannot be saved")
    if name.startswith("SQLITE_READONLY") or "readonly" in text:
        return HistoryError(f"{path}: the history file is read-only, so it cannot be saved")
    if name.startswith("SQLITE_CANTOPEN") or "unable to open" in text:
        return HistoryError(f"{path}: cannot open the history database ({text})")
    if isinstance(exc, OSError):
        reason = exc.strerror or str(exc)
        return HistoryError(f"{path}: cannot {action} ({reason})")
    return HistoryError(f"{path}: history database error while trying to {action}: {text}")


def _timed_row(make: Callable[..., _Row], row: tuple[Any, ...]) -> _Row:
    """A row dataclass from a query whose last column is the ISO wall-clock time."""
    return make(*row[:-1], parse_time(row[-1]))


class HistoryStore:
    """The history file: opened (and migrated) once, then written one record at a time."""

    def __init__(
        self,
        path: Path | str | None = None,
        *,
        timeout_seconds: float = BUSY_TIMEOUT_SECONDS,
        clock: Callable[[], datetime] = now_local,
    ) -> None:
        self.path: Path | str = default_history_path() if path is None else path
        self.clock = clock
        self._lock = threading.RLock()
        self._conn = self._open(timeout_seconds)

    @classmethod
    def in_memory(cls, *, clock: Callable[[], datetime] = now_local) -> HistoryStore:
        """A store that lives only as long as the process (history off, same API)."""
        return cls(":memory:", clock=clock)

    # ------------------------------------------------------------ opening

    def _open(self, timeout_seconds: float) -> sqlite3.Connection:
        memory = self.path == ":memory:"
        path = Path(self.path)
        try:
            if memory:
                conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
            else:
                conn = self._connect_file(path, timeout_seconds)
        except (sqlite3.Error, OSError) as exc:
            raise _describe(exc, self.path, "open the history file") from exc
        try:
            check_readable(conn, self.path)
            self._configure(conn, memory)
            migrate(conn, self.path)
        except HistoryError:
            conn.close()
            raise
        except sqlite3.Error as exc:
            conn.close()
            raise _describe(exc, self.path, "open the history file") from exc
        return conn

    def _connect_file(self, path: Path, timeout_seconds: float) -> sqlite3.Connection:
        if path.is_dir():
            raise HistoryError(f"{path}: is a folder, not a history file")
        exists = path.exists()
        if exists and not os.access(path, os.R_OK | os.W_OK):
            raise HistoryError(f"{path}: the history file is read-only, so it cannot be saved")
        if not exists:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise HistoryError(
                    f"{path.parent}: cannot create the history folder ({exc.strerror or exc})"
                ) from exc
        if not os.access(path.parent, os.W_OK):
            # WAL needs its -wal and -shm files beside the database
            raise HistoryError(f"{path.parent}: the history folder is read-only")
        mode = "rw" if exists else "rwc"
        uri = f"{path.resolve().as_uri()}?mode={mode}"
        return sqlite3.connect(
            uri,
            uri=True,
            timeout=timeout_seconds,
            isolation_level=None,
            check_same_thread=False,
        )

    def _configure(self, conn: sqlite3.Connection, memory: bool) -> None:
        if not memory:
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                _LOGGER.warning("history: WAL journal not available here (got %s)", mode)
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")

    # ------------------------------------------------------------ plumbing

    def close(self) -> None:
        """Close the file (WAL is checkpointed by SQLite on the last close)."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        """The schema version of the open file."""
        return int(self._query("PRAGMA user_version")[0][0])

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, committed (and synced) when the block ends."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise _describe(exc, self.path, "write history") from exc
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException as exc:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise _describe(exc, self.path, "write history") from exc
                raise

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise _describe(exc, self.path, "read history") from exc

    # ------------------------------------------------------------ writing

    def set_next_day_feeling(self, feeling: Feeling | str, session_id: int | None = None) -> int:
        """Store "better/same/worse" on a session (default: the last one that ended)."""
        value = Feeling(feeling).value
        if session_id is None:
            last = self.last_session(finished_only=True)
            if last is None:
                raise HistoryError("there is no earlier session to attach the answer to")
            session_id = last.id
        with self.transaction() as conn:
            conn.execute(
                "UPDATE sessions SET next_day_feeling = ? WHERE id = ?", (value, session_id)
            )
        return session_id

    def abandon(self, session_id: int) -> None:
        """Mark an unfinished session as stopped (it will not be offered for resume)."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE sessions SET status = 'stopped' WHERE id = ? AND status = 'in_progress'",
                (session_id,),
            )

    def record_reminder(
        self, kind: str, action: str, *, at: datetime | None = None, text: str | None = None
    ) -> None:
        """Keep one reminder event (kind in REMINDER_KINDS, action in REMINDER_ACTIONS)."""
        if kind not in REMINDER_KINDS:
            raise HistoryError(
                f"unknown reminder kind '{kind}' (known: {', '.join(REMINDER_KINDS)})"
            )
        if action not in REMINDER_ACTIONS:
            raise HistoryError(
                f"unknown reminder action '{action}' (known: {', '.join(REMINDER_ACTIONS)})"
            )
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO reminders (kind, action, text, recorded_at) VALUES (?, ?, ?, ?)",
                (kind, action, text, iso_time(at or self.clock())),
            )

    # ------------------------------------------------------------ reading

    def sessions(self, routine_id: str | None = None) -> list[SessionRow]:
        """Sessions, oldest first."""
        if routine_id is None:
            return self._sessions("", ())
        return self._sessions(" WHERE routine_id = ?", (routine_id,))

    def session(self, session_id: int) -> SessionRow | None:
        """The session with this id, if there is one."""
        rows = self._sessions(" WHERE id = ?", (session_id,))
        return rows[0] if rows else None

    def _sessions(self, where: str, params: tuple[Any, ...]) -> list[SessionRow]:
        sql = (
            "SELECT id, routine_id, started_at, ended_at, status, minutes, last_item_index, "
            "next_day_feeling FROM sessions"
        )
        rows = self._query(sql + where + " ORDER BY started_at, id", params)
        return [
            SessionRow(
                id=r[0],
                routine_id=r[1],
                started_at=parse_time(r[2]),
                ended_at=parse_time(r[3]) if r[3] else None,
                status=r[4],
                minutes=float(r[5]),
                last_item_index=r[6],
                next_day_feeling=r[7],
            )
            for r in rows
        ]

    def last_session(
        self, routine_id: str | None = None, *, finished_only: bool = False
    ) -> SessionRow | None:
        """The most recent session (finished_only: one that did not stop half way by crash)."""
        rows = self.sessions(routine_id)
        if finished_only:
            rows = [row for row in rows if row.status != "in_progress"]
        return rows[-1] if rows else None

    def resumable_session(
        self,
        routine_id: str | None = None,
        *,
        now: datetime | None = None,
        max_age_hours: float | None = RESUME_MAX_AGE_HOURS,
    ) -> ResumePoint | None:
        """The newest session, if it was left in progress (a crash), and where to go on.

        `item_index` is the routine item that was in progress: the last one started, or the
        one after it when its outcome had already been recorded (it may equal the number of
        items: everything was done, only the goodbye was lost).
        """
        sql = (
            "SELECT id, routine_id, started_at, last_item_index, last_item_closed, status "
            "FROM sessions"
        )
        params: tuple[Any, ...] = ()
        if routine_id is not None:
            sql += " WHERE routine_id = ?"
            params = (routine_id,)
        rows = self._query(sql + " ORDER BY started_at DESC, id DESC LIMIT 1", params)
        if not rows or rows[0][5] != "in_progress":
            return None  # only the newest session: once a new one started, the old is done
        session_id, routine, started, last_index, closed, _status = rows[0]
        if max_age_hours is not None:
            age = (now or self.clock()) - parse_time(started)
            if age > timedelta(hours=max_age_hours):
                return None
        index = 0 if last_index is None else int(last_index) + int(closed)
        return ResumePoint(int(session_id), str(routine), index)

    def outcomes(self, session_id: int | None = None) -> list[OutcomeRow]:
        """Exercise outcomes, in session and item order."""
        sql = (
            "SELECT o.session_id, o.item_index, o.exercise_id, o.done_as, o.outcome, "
            "o.hold_seconds, o.reps, o.units_done, o.units_planned, o.t, o.recorded_at "
            "FROM exercise_outcomes o JOIN sessions s ON s.id = o.session_id"
        )
        params: tuple[Any, ...] = ()
        if session_id is not None:
            sql += " WHERE o.session_id = ?"
            params = (session_id,)
        rows = self._query(sql + " ORDER BY s.started_at, s.id, o.item_index", params)
        return [_timed_row(OutcomeRow, r) for r in rows]

    def pain_reports(self, session_id: int | None = None) -> list[PainRow]:
        """Pain reports in the order they were made."""
        sql = (
            "SELECT session_id, item_index, exercise_id, item_exercise_id, level, location, t, "
            "recorded_at FROM pain_reports"
        )
        params: tuple[Any, ...] = ()
        if session_id is not None:
            sql += " WHERE session_id = ?"
            params = (session_id,)
        rows = self._query(sql + " ORDER BY recorded_at, id", params)
        return [_timed_row(PainRow, r) for r in rows]

    def commands(self, session_id: int | None = None) -> list[CommandRow]:
        """Commands heard, in order."""
        sql = (
            "SELECT session_id, command, text, item_index, exercise_id, item_exercise_id, t, "
            "recorded_at FROM commands"
        )
        params: tuple[Any, ...] = ()
        if session_id is not None:
            sql += " WHERE session_id = ?"
            params = (session_id,)
        rows = self._query(sql + " ORDER BY recorded_at, id", params)
        return [_timed_row(CommandRow, r) for r in rows]

    def red_flags(self) -> list[RedFlagRow]:
        """Warning signs reported, in order."""
        rows = self._query(
            "SELECT session_id, flag, exercise_id, t, recorded_at FROM red_flags "
            "ORDER BY recorded_at, id"
        )
        return [_timed_row(RedFlagRow, r) for r in rows]

    def reminders(self, since: datetime | None = None) -> list[ReminderRow]:
        """Reminder events in order (since: only those at or after this time)."""
        sql = "SELECT kind, action, text, recorded_at FROM reminders"
        params: tuple[Any, ...] = ()
        if since is not None:
            sql += " WHERE recorded_at >= ?"
            params = (iso_time(since),)
        rows = self._query(sql + " ORDER BY recorded_at, id", params)
        return [_timed_row(ReminderRow, r) for r in rows]

    def snapshot(self) -> HistorySnapshot:
        """Everything, read in one go (history files stay small: a few KB a session)."""
        with self._lock:
            return HistorySnapshot(
                sessions=tuple(self.sessions()),
                outcomes=tuple(self.outcomes()),
                pains=tuple(self.pain_reports()),
                commands=tuple(self.commands()),
                red_flags=tuple(self.red_flags()),
                reminders=tuple(self.reminders()),
            )

    def exercise_stats(self) -> list[ExerciseStats]:
        """Per exercise: sessions, done, eased, skipped, and pain reported."""
        return exercise_stats(self.snapshot())

    def summary_text(self, now: datetime | None = None) -> str:
        """The spoken answer to "how am I doing?": two sentences."""
        return summary_text(self.snapshot(), now or self.clock())


def open_history_or_none(
    path: Path | str | None = None, *, timeout_seconds: float = BUSY_TIMEOUT_SECONDS
) -> tuple[HistoryStore | None, str | None]:
    """The store, or None and one line saying why history is off (the session still runs)."""
    try:
        return HistoryStore(path, timeout_seconds=timeout_seconds), None
    except HistoryError as exc:
        _LOGGER.warning("history off: %s", exc.message)
        return None, f"history is off: {exc.message}"
