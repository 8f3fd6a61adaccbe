"""What the history holds, as plain values: the rows, a snapshot of them, where the file lives.

Kept apart from the database so that the adaptation rules, the reports and the CLI work on a
snapshot (and tests build one) without SQLite, and so that the store, the recorder and the
reports share one spelling of a stored time: ISO 8601 with the UTC offset, which reads
right in any time zone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, NamedTuple

HISTORY_ENV: Final = "FLOORCOACH_HISTORY"
HISTORY_FILE: Final = "history.sqlite3"

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


def iso_time(moment: datetime) -> str:
    """How a time is stored (a naive time is taken as local)."""
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return moment.isoformat(timespec="milliseconds")


def parse_time(text: str) -> datetime:
    """A stored time read back."""
    return datetime.fromisoformat(text)


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
