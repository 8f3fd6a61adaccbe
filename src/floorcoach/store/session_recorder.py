"""Recording a session as it happens: each engine Log record is rows on disk before the next.

The engine only logs; this turns its records into rows, one committed transaction per
record, so a crash or a pulled plug at any moment leaves a session that reads back as far
as it got and can be resumed from there (the crash tests kill a recording process at random
points). Records carry the engine's session seconds; the wall clock is derived from when
the session (or its resumed part) began.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from floorcoach.errors import HistoryError
from floorcoach.store.history_rows import ResumePoint, iso_time
from floorcoach.store.history_store import HistoryStore

if TYPE_CHECKING:  # the recorder runs without loading pydantic models at import
    from floorcoach.content.catalog import LoadedRoutine

_LOGGER = logging.getLogger(__name__)


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
                (routine_id, iso_time(moment)),
            )
        self.session_id = int(cursor.lastrowid or 0)
        self._started_at = self._segment_start = moment
        self._base_minutes = 0.0
        return self.session_id

    def _continue(self, session_id: int) -> None:
        stored = self.store.session(session_id)
        if stored is None:
            raise HistoryError(f"{self.store.path}: no session {session_id} to resume")
        if stored.status != "in_progress":
            raise HistoryError(
                f"{self.store.path}: session {session_id} is already {stored.status}"
            )
        self.session_id = session_id
        self._started_at = stored.started_at
        self._segment_start = self.store.clock()
        self._base_minutes = stored.minutes

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
            return {"recorded_at": iso_time(moment), "minutes": round(minutes, 3)}
        moment = self._segment_start + timedelta(seconds=t)
        return {
            "recorded_at": iso_time(moment),
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
