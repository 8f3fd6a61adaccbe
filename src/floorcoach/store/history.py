"""Session history in SQLite: written as the session goes, so pulling the plug loses nothing.

One file (WAL journal, ``synchronous=FULL``: every commit is on disk before ``record``
returns, which is what "pulling the plug" needs; records come a few times a minute, so the
fsync costs nothing that matters). The schema is versioned with ``PRAGMA user_version`` and
migrated forward in one transaction. A file this code cannot read is never written to.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NamedTuple, TypeVar

from floorcoach.commands import Feeling
from floorcoach.errors import HistoryError
from floorcoach.session.counting import number_word

if TYPE_CHECKING:  # the recorder runs without loading pydantic models at import
    from floorcoach.content.catalog import LoadedRoutine

_LOGGER = logging.getLogger(__name__)
_Row = TypeVar("_Row")

HISTORY_ENV: Final = "FLOORCOACH_HISTORY"
HISTORY_FILE: Final = "history.sqlite3"
APPLICATION_ID: Final = 0x46434831
"""'FCH1' in the file header: tells our history apart from any other SQLite file."""
BUSY_TIMEOUT_SECONDS: Final = 2.0
"""How long a write waits for another program's lock before history is declared locked."""
RESUME_MAX_AGE_HOURS: Final = 24.0
"""An unfinished session older than this is history, not something to resume."""
SUMMARY_WINDOW_DAYS: Final = 28
HISTORY_OFF_SPOKEN: Final = "History is off today, so this session won't be remembered."

STATUSES: Final = ("in_progress", "completed", "stopped", "red_flag")
OUTCOMES: Final = (
    "completed",
    "reduced",
    "easier_variant",
    "harder_variant",
    "partial",
    "skipped",
    "not_reached",
)
DONE_OUTCOMES: Final = frozenset({"completed", "harder_variant", "reduced", "easier_variant"})
"""Outcomes that count as the exercise being done (gentler counts: the point is doing it)."""

REMINDER_KINDS: Final = ("stand", "walk", "stretch", "all")
REMINDER_ACTIONS: Final = ("given", "snoozed", "acted_on", "turned_off", "turned_on")
"""Match floorcoach.runtime.reminders' ReminderKind and ReminderAction (a test checks)."""

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


def default_history_path() -> Path:
    """`$FLOORCOACH_HISTORY`, else `$XDG_DATA_HOME/floorcoach/history.sqlite3`."""
    env = os.environ.get(HISTORY_ENV)
    if env:
        return Path(env).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "floorcoach" / HISTORY_FILE


def now_local() -> datetime:
    """Wall-clock time with its UTC offset, so stored times read right in any time zone."""
    return datetime.now(UTC).astimezone()


# ---------------------------------------------------------------- rows


class ResumePoint(NamedTuple):
    """An unfinished session and the routine item to continue from."""

    session_id: int
    routine_id: str
    item_index: int


@dataclass(frozen=True)
class SessionRow:
    """One session as stored."""

    id: int
    routine_id: str
    started_at: datetime
    ended_at: datetime | None
    status: str
    minutes: float
    last_item_index: int | None
    next_day_feeling: str | None


@dataclass(frozen=True)
class OutcomeRow:
    """How one routine item went in one session (the last attempt wins)."""

    session_id: int
    item_index: int
    exercise_id: str
    done_as: str | None
    outcome: str
    hold_seconds: float | None
    reps: int | None
    units_done: int | None
    units_planned: int | None
    t: float | None
    recorded_at: datetime


@dataclass(frozen=True)
class PainRow:
    """A pain report as decided by the engine (level 0-10, back or leg)."""

    session_id: int
    item_index: int | None
    exercise_id: str | None
    item_exercise_id: str | None
    level: int
    location: str | None
    t: float | None
    recorded_at: datetime


@dataclass(frozen=True)
class CommandRow:
    """A command heard during a session."""

    session_id: int
    command: str
    text: str | None
    item_index: int | None
    exercise_id: str | None
    item_exercise_id: str | None
    t: float | None
    recorded_at: datetime


@dataclass(frozen=True)
class RedFlagRow:
    """A warning sign reported during a session."""

    session_id: int
    flag: str
    exercise_id: str | None
    t: float | None
    recorded_at: datetime


@dataclass(frozen=True)
class ReminderRow:
    """A habit reminder given, snoozed or acted on (kind 'all': reminders turned off/on)."""

    kind: str
    action: str
    text: str | None
    recorded_at: datetime


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


@dataclass(frozen=True)
class HistorySnapshot:
    """Everything stored, read at once: the input of the adaptation rules and the CLI."""

    sessions: tuple[SessionRow, ...] = ()
    outcomes: tuple[OutcomeRow, ...] = ()
    pains: tuple[PainRow, ...] = ()
    commands: tuple[CommandRow, ...] = ()
    red_flags: tuple[RedFlagRow, ...] = ()
    reminders: tuple[ReminderRow, ...] = ()

    def session(self, session_id: int) -> SessionRow | None:
        """The session with this id."""
        return next((s for s in self.sessions if s.id == session_id), None)


# ---------------------------------------------------------------- errors


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


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return moment.isoformat(timespec="milliseconds")


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _timed_row(make: Callable[..., _Row], row: tuple[Any, ...]) -> _Row:
    """A row dataclass from a query whose last column is the ISO wall-clock time."""
    return make(*row[:-1], _parse_time(row[-1]))


# ---------------------------------------------------------------- the store


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
            self._check(conn)
            self._configure(conn, memory)
            self._migrate(conn)
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

    def _check(self, conn: sqlite3.Connection) -> None:
        """Read-only checks first: nothing is written to a file that fails them."""
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        if app_id != APPLICATION_ID and (version != 0 or tables):
            raise HistoryError(
                f"{self.path}: not a floorcoach history database (another program's file); "
                f"it was left untouched. Set {HISTORY_ENV} to use another file"
            )
        if version > SCHEMA_VERSION:
            raise HistoryError(
                f"{self.path}: written by a newer floorcoach (history schema v{version}; "
                f"this version reads up to v{SCHEMA_VERSION}); update floorcoach, or set "
                f"{HISTORY_ENV} to use another file"
            )
        if tables:
            check = " ".join(str(conn.execute("PRAGMA quick_check").fetchone()[0]).split())
            if check != "ok":
                raise HistoryError(
                    f"{self.path}: the history database is damaged ({check}); it was left "
                    f"untouched. Move it aside, or set {HISTORY_ENV} to use another file"
                )

    def _configure(self, conn: sqlite3.Connection, memory: bool) -> None:
        if not memory:
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                _LOGGER.warning("history: WAL journal not available here (got %s)", mode)
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")

    def _migrate(self, conn: sqlite3.Connection) -> None:
        """Bring the schema to SCHEMA_VERSION in one transaction (all of it or none)."""
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            for target in range(version + 1, SCHEMA_VERSION + 1):
                _LOGGER.info("history: migrating %s to schema v%d", self.path, target)
                for statement in _statements(MIGRATIONS[target - 1]):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {target}")
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:  # SQLite has already rolled back after e.g. a full disk
                conn.execute("ROLLBACK")
            raise

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

    def start_session(
        self,
        routine_id: str,
        *,
        started_at: datetime | None = None,
        routine: LoadedRoutine | None = None,
        base_exercise_ids: Sequence[str] | None = None,
    ) -> SessionRecorder:
        """A new session row and the recorder that fills it."""
        recorder = SessionRecorder(self, routine=routine, base_exercise_ids=base_exercise_ids)
        recorder.start(routine_id, started_at=started_at)
        return recorder

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
                (kind, action, text, _iso(at or self.clock())),
            )

    # ------------------------------------------------------------ reading

    def sessions(self, routine_id: str | None = None) -> list[SessionRow]:
        """Sessions, oldest first."""
        sql = (
            "SELECT id, routine_id, started_at, ended_at, status, minutes, last_item_index, "
            "next_day_feeling FROM sessions"
        )
        params: tuple[Any, ...] = ()
        if routine_id is not None:
            sql += " WHERE routine_id = ?"
            params = (routine_id,)
        rows = self._query(sql + " ORDER BY started_at, id", params)
        return [
            SessionRow(
                id=r[0],
                routine_id=r[1],
                started_at=_parse_time(r[2]),
                ended_at=_parse_time(r[3]) if r[3] else None,
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
            age = (now or self.clock()) - _parse_time(started)
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
            params = (_iso(since),)
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


def _statements(script: str) -> list[str]:
    return [part.strip() for part in script.split(";") if part.strip()]


# ---------------------------------------------------------------- recording


class SessionRecorder:
    """Turns the engine's Log records into rows, one committed transaction per record.

    Feed it every Log record (`record(effect.record)`): `session_start` opens the session
    (or continues one being resumed), `session_end` closes it, kinds it does not store
    (`say`, `cue`, `phase`, ...) cost nothing. With `on_error`, the first failure is
    reported once and recording stops (history off) instead of raising.
    """

    STORED_KINDS: Final = frozenset(
        {
            "session_start",
            "exercise_start",
            "outcome",
            "pain",
            "red_flag",
            "heard",
            "decision",
            "session_end",
            "next_day_feeling",
            "red_flag_answer",
            "undo",
        }
    )

    def __init__(
        self,
        store: HistoryStore,
        *,
        routine: LoadedRoutine | None = None,
        base_exercise_ids: Sequence[str] | None = None,
        resume: ResumePoint | int | None = None,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.session_id: int | None = None
        self.failed: str | None = None
        self.finished = False
        self.status: str | None = None
        """Set by finish(): completed, stopped or red_flag."""
        self._routine = routine
        self._base_ids = list(base_exercise_ids) if base_exercise_ids is not None else None
        self._on_error = on_error
        self._started_at: datetime | None = None
        self._segment_start: datetime | None = None
        self._base_minutes = 0.0
        self._item_index: int | None = None
        self._played: str | None = None
        self._item_base: dict[int, str] = {}
        self._hold: dict[int, float | None] = {}
        self._reps: dict[int, int | None] = {}
        if resume is not None:
            session_id = resume.session_id if isinstance(resume, ResumePoint) else resume
            self._continue(session_id)

    # ------------------------------------------------------------ lifecycle

    @property
    def active(self) -> bool:
        """Whether records are being written now."""
        return self.session_id is not None and not self.finished and self.failed is None

    def start(self, routine_id: str, *, started_at: datetime | None = None) -> int:
        """Open a new session row; returns its id."""
        moment = started_at or self.store.clock()
        with self.store.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO sessions (routine_id, started_at) VALUES (?, ?)",
                (routine_id, _iso(moment)),
            )
        self.session_id = int(cursor.lastrowid or 0)
        self._started_at = self._segment_start = moment
        self._base_minutes = 0.0
        return self.session_id

    def _continue(self, session_id: int) -> None:
        rows = self.store._query(
            "SELECT started_at, minutes, status FROM sessions WHERE id = ?", (session_id,)
        )
        if not rows:
            raise HistoryError(f"{self.store.path}: no session {session_id} to resume")
        started, minutes, status = rows[0]
        if status != "in_progress":
            raise HistoryError(f"{self.store.path}: session {session_id} is already {status}")
        self.session_id = session_id
        self._started_at = _parse_time(started)
        self._segment_start = self.store.clock()
        self._base_minutes = float(minutes)

    def finish(self, summary: Mapping[str, Any] | None = None, *, t: float | None = None) -> str:
        """Close the session from the engine's summary; returns the status stored."""
        if self.session_id is None:
            raise HistoryError(f"{self.store.path}: no session has been started to finish")
        if self.status is not None:
            return self.status
        session_id = self.session_id
        with self.store.transaction() as conn:
            if summary is not None:
                self._reconcile(conn, summary)
            rows = conn.execute(
                "SELECT outcome FROM exercise_outcomes WHERE session_id = ?", (session_id,)
            ).fetchall()
            flagged = conn.execute(
                "SELECT COUNT(*) FROM red_flags WHERE session_id = ?", (session_id,)
            ).fetchone()[0]
            if flagged or (summary is not None and summary.get("red_flag")):
                status = "red_flag"
            elif any(row[0] == "not_reached" for row in rows):
                status = "stopped"
            else:
                status = "completed"
            fields = self._time_fields(t)
            conn.execute(
                "UPDATE sessions SET status = ?, ended_at = ?, minutes = MAX(minutes, ?) "
                "WHERE id = ?",
                (status, fields["recorded_at"], fields["minutes"], session_id),
            )
        self.finished = True
        self.status = status
        return status

    def _reconcile(self, conn: sqlite3.Connection, summary: Mapping[str, Any]) -> None:
        """Fill holds, reps and variants from the summary; never undo a recorded outcome."""
        for index, item in enumerate(summary.get("exercises") or []):
            outcome = str(item.get("outcome") or "not_reached")
            existing = conn.execute(
                "SELECT outcome FROM exercise_outcomes WHERE session_id = ? AND item_index = ?",
                (self.session_id, index),
            ).fetchone()
            if existing is not None and outcome == "not_reached":
                continue  # a resumed engine never reached the items done before the crash
            hold = item.get("hold_seconds") or None
            base = self._base_for(index, str(item.get("exercise")))
            done_as = item.get("done_as") or (
                item.get("exercise") if item.get("exercise") != base else None
            )
            conn.execute(
                "INSERT INTO exercise_outcomes (session_id, item_index, exercise_id, done_as, "
                "outcome, hold_seconds, reps, units_done, units_planned, t, recorded_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?) "
                "ON CONFLICT (session_id, item_index) DO UPDATE SET done_as = excluded.done_as, "
                "outcome = excluded.outcome, hold_seconds = excluded.hold_seconds, "
                "reps = excluded.reps, units_done = excluded.units_done, "
                "units_planned = excluded.units_planned",
                (
                    self.session_id,
                    index,
                    base,
                    done_as,
                    outcome,
                    hold,
                    item.get("reps"),
                    item.get("units_done"),
                    item.get("units_planned"),
                    self._time_fields(None)["recorded_at"],
                ),
            )

    # ------------------------------------------------------------ records

    def record(self, log_record: Mapping[str, Any]) -> None:
        """Store one engine Log record, committed before this returns."""
        kind = log_record.get("kind")
        if kind not in self.STORED_KINDS or self.failed is not None:
            return
        try:
            self._record(str(kind), log_record)
        except HistoryError as exc:
            if self._on_error is None:
                raise
            self.failed = exc.message
            _LOGGER.error("history off: %s", exc.message)
            self._on_error(exc.message)

    def _record(self, kind: str, rec: Mapping[str, Any]) -> None:
        if kind == "session_start":
            if self.session_id is None:
                self.start(str(rec.get("routine") or "unknown"))
            return
        if kind == "next_day_feeling":
            self.store.set_next_day_feeling(str(rec["feeling"]), rec.get("session_id"))
            return
        if self.session_id is None or self.finished:
            return
        t = _float_or_none(rec.get("t"))
        if kind == "session_end":
            self.finish(rec.get("summary"), t=t)
        elif kind == "exercise_start":
            self._exercise_start(rec, t)
        elif kind == "decision":
            self._decision(rec)
        elif kind == "outcome":
            self._outcome(rec, t)
        elif kind == "pain" and rec.get("corrected"):
            self._correct_pain(rec)
        elif kind == "pain":
            self._insert(
                "pain_reports",
                t,
                item_index=self._item_index,
                exercise_id=rec.get("exercise"),
                item_exercise_id=self._current_base(),
                level=int(rec["level"]),
                location=rec.get("location"),
            )
        elif kind == "red_flag":
            self._insert("red_flags", t, flag=str(rec["flag"]), exercise_id=rec.get("exercise"))
        elif kind in ("red_flag_answer", "undo"):
            # a warning sign heard by voice and asked back (confirmed or withdrawn), and a
            # command taken back: kept with the commands, in their own words
            command = f"red_flag_{rec['outcome']}" if kind == "red_flag_answer" else "undo"
            text = f"{rec['flag']}: {rec['answer']}" if kind == "red_flag_answer" else None
            self._insert(
                "commands",
                t,
                command=command,
                text=text or str(rec.get("command")),
                item_index=self._item_index,
                exercise_id=rec.get("exercise"),
                item_exercise_id=self._current_base(),
            )
        elif kind == "heard":
            self._insert(
                "commands",
                t,
                command=str(rec.get("command")),
                text=rec.get("text"),
                item_index=self._item_index,
                exercise_id=rec.get("exercise"),
                item_exercise_id=self._current_base(),
            )

    def _correct_pain(self, rec: Mapping[str, Any]) -> None:
        """A late answer to "where?": the session's last pain report gets its location."""
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE pain_reports SET level = ?, location = ? WHERE id = "
                "(SELECT MAX(id) FROM pain_reports WHERE session_id = ?)",
                (int(rec["level"]), rec.get("location"), self.session_id),
            )

    def _exercise_start(self, rec: Mapping[str, Any], t: float | None) -> None:
        index = int(rec["index"])
        played = str(rec.get("exercise") or "")
        self._item_index = index
        self._played = played
        base = self._base_for(index, played)
        self._hold[index], self._reps[index] = self._planned(index, played)
        _LOGGER.debug("history: item %d (%s as %s)", index, base, played)
        fields = self._time_fields(t)
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE sessions SET last_item_index = ?, last_item_closed = 0, "
                "minutes = MAX(minutes, ?) WHERE id = ?",
                (index, fields["minutes"], self.session_id),
            )

    def _decision(self, rec: Mapping[str, Any]) -> None:
        """Holds and reps changed during the exercise: remembered for its outcome row."""
        if self._item_index is None:
            return
        if rec.get("hold_seconds") is not None:
            self._hold[self._item_index] = float(rec["hold_seconds"])
        if rec.get("reps") is not None:
            self._reps[self._item_index] = int(rec["reps"])

    def _outcome(self, rec: Mapping[str, Any], t: float | None) -> None:
        index = int(rec["index"]) if rec.get("index") is not None else self._item_index
        if index is None:
            return
        played = str(rec.get("exercise") or self._played or "")
        base = str(rec.get("item_exercise") or self._base_for(index, played))
        done_as = rec.get("done_as") or (played if played and played != base else None)
        hold = rec.get("hold_seconds", self._hold.get(index))
        reps = rec.get("reps", self._reps.get(index))
        fields = self._time_fields(t)
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO exercise_outcomes (session_id, item_index, exercise_id, done_as, "
                "outcome, hold_seconds, reps, units_done, units_planned, t, recorded_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (session_id, item_index) DO UPDATE SET "
                "exercise_id = excluded.exercise_id, done_as = excluded.done_as, "
                "outcome = excluded.outcome, hold_seconds = excluded.hold_seconds, "
                "reps = excluded.reps, units_done = excluded.units_done, "
                "units_planned = excluded.units_planned, t = excluded.t, "
                "recorded_at = excluded.recorded_at",
                (
                    self.session_id,
                    index,
                    base,
                    done_as,
                    str(rec["outcome"]),
                    hold,
                    reps,
                    rec.get("units_done"),
                    rec.get("units_planned"),
                    t,
                    fields["recorded_at"],
                ),
            )
            conn.execute(
                "UPDATE sessions SET last_item_closed = CASE WHEN last_item_index = ? "
                "THEN 1 ELSE last_item_closed END, minutes = MAX(minutes, ?) WHERE id = ?",
                (index, fields["minutes"], self.session_id),
            )

    def _insert(self, table: str, t: float | None, **values: Any) -> None:
        fields = self._time_fields(t)
        values = {"session_id": self.session_id, **values, "t": t}
        values["recorded_at"] = fields["recorded_at"]
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        with self.store.transaction() as conn:
            conn.execute(
                f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuple(values.values())
            )
            conn.execute(
                "UPDATE sessions SET minutes = MAX(minutes, ?), "
                "status = CASE WHEN ? THEN 'red_flag' ELSE status END WHERE id = ?",
                (fields["minutes"], table == "red_flags", self.session_id),
            )

    # ------------------------------------------------------------ helpers

    def _time_fields(self, t: float | None) -> dict[str, Any]:
        """Wall clock of a record: the segment's start plus the engine's session seconds."""
        if t is None or self._segment_start is None:
            moment = self.store.clock()
            minutes = self._base_minutes
            if self._segment_start is not None:
                minutes += max(0.0, (moment - self._segment_start).total_seconds()) / 60
            return {"recorded_at": _iso(moment), "minutes": round(minutes, 3)}
        moment = self._segment_start + timedelta(seconds=t)
        return {
            "recorded_at": _iso(moment),
            "minutes": round(self._base_minutes + t / 60, 3),
        }

    def _base_for(self, index: int, played: str) -> str:
        """The routine's own exercise at an item (a variant may have been played instead)."""
        if self._base_ids is not None and 0 <= index < len(self._base_ids):
            return self._base_ids[index]
        if self._routine is not None and 0 <= index < len(self._routine.items):
            return self._routine.items[index].exercise.id
        return self._item_base.setdefault(index, played)

    def _current_base(self) -> str | None:
        if self._item_index is None:
            return None
        return self._base_for(self._item_index, self._played or "")

    def _planned(self, index: int, played: str) -> tuple[float | None, int | None]:
        if self._routine is None or not 0 <= index < len(self._routine.items):
            return None, None
        item = self._routine.items[index].exercise
        exercise = item if played in ("", item.id) else self._routine.library.get(played, item)
        hold = exercise.hold_seconds if exercise.kind == "hold" else None
        return hold, exercise.reps


def _float_or_none(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None


# ---------------------------------------------------------------- opening for a session


def open_history_or_none(
    path: Path | str | None = None, *, timeout_seconds: float = BUSY_TIMEOUT_SECONDS
) -> tuple[HistoryStore | None, str | None]:
    """The store, or None and one line saying why history is off (the session still runs)."""
    try:
        return HistoryStore(path, timeout_seconds=timeout_seconds), None
    except HistoryError as exc:
        _LOGGER.warning("history off: %s", exc.message)
        return None, f"history is off: {exc.message}"


# ---------------------------------------------------------------- summaries


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
                data[key] = _iso(value)
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


__all__ = [
    "HISTORY_OFF_SPOKEN",
    "SCHEMA_VERSION",
    "CommandRow",
    "ExerciseStats",
    "HistorySnapshot",
    "HistoryStore",
    "OutcomeRow",
    "PainRow",
    "REMINDER_ACTIONS",
    "REMINDER_KINDS",
    "RedFlagRow",
    "ReminderRow",
    "ResumePoint",
    "SessionRecorder",
    "SessionRow",
    "default_history_path",
    "exercise_stats",
    "export_data",
    "open_history_or_none",
    "summary_text",
]
