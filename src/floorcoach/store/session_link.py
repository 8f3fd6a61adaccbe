"""A live session's link to the history file: the day's plan from it, every record into it.

The runtime deals with history through this one object, which keeps two promises the store
and the recorder do not make on their own: a history file that cannot be used turns history
off with one spoken line and never stops the session, and nothing is written until the
session has settled whether it is a new one or the resumption of an unfinished one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from floorcoach.commands import Feeling
from floorcoach.content.catalog import Catalog, LoadedRoutine
from floorcoach.store.adaptation import apply_adjustments, plan_session
from floorcoach.store.history_rows import ResumePoint, now_local
from floorcoach.store.history_store import HistoryStore, open_history_or_none
from floorcoach.store.session_recorder import SessionRecorder

_LOGGER = logging.getLogger(__name__)

HISTORY_OFF_SPOKEN: Final = "History is off today, so this session won't be remembered."
"""Said at the start in place of the day's changes when the history file cannot be used."""

DECIDING_KINDS: Final = frozenset({"exercise_start", "session_end", "red_flag", "resume_declined"})
"""Records after which it is settled whether this is a new session or a resumed one."""


@dataclass
class SessionPlan:
    """What the engine needs from history: the adapted routine and how to talk about it."""

    loaded: LoadedRoutine
    options: dict[str, Any] = field(default_factory=dict)


class HistoryLink:
    """Plans a session from the history and records it as it happens (or says history is off).

    Records are held back until the session has settled whether it is new or a resumed one
    (the user may say "resume" at the start); after that each is committed at once.
    """

    def __init__(
        self,
        store: HistoryStore | None,
        off_reason: str | None = None,
        *,
        note: Callable[[str], None] = print,
    ) -> None:
        self.store = store
        self.off_reason = off_reason
        self._note = note
        self._recorder: SessionRecorder | None = None
        self._pending: list[dict[str, Any]] = []
        self._resume: ResumePoint | None = None
        self._base_ids: list[str] = []
        self._loaded: LoadedRoutine | None = None

    @classmethod
    def open(cls, path: Path | None, *, note: Callable[[str], None] = print) -> HistoryLink:
        """Open the history file; a file that cannot be used turns history off, never fails."""
        store, reason = open_history_or_none(path)
        if reason:
            note(reason)
        return cls(store, reason, note=note)

    def plan(
        self, catalog: Catalog, loaded: LoadedRoutine, *, resume: ResumePoint | None = None
    ) -> SessionPlan:
        """The day's routine and engine options: resume offer, next-day question, changes."""
        self._base_ids = [item.exercise.id for item in loaded.items]
        if self.store is None:
            self._loaded = loaded
            return SessionPlan(loaded, {"intro_lines": [HISTORY_OFF_SPOKEN]})
        store = self.store
        snapshot = store.snapshot()
        today = now_local()
        adjustments = plan_session(snapshot, loaded, catalog.guidance, today=today)
        adjusted = apply_adjustments(loaded, adjustments)
        self._loaded = adjusted
        options: dict[str, Any] = {
            "intro_lines": adjustments.sentences(),
            "progress_text": store.summary_text,
        }
        if resume is not None:
            self._resume = resume
            options["start_index"] = min(resume.item_index, len(loaded.items) - 1)
            options["intro_lines"] = []
            return SessionPlan(adjusted, options)
        offer = store.resumable_session(routine_id=loaded.routine.id)
        if offer is not None and 0 < offer.item_index < len(loaded.items):
            self._resume = offer
            options["resume_offer"] = offer.item_index
        if store.last_session(finished_only=True) is not None:

            def replan(feeling: Feeling | None) -> tuple[LoadedRoutine, list[str]]:
                again = plan_session(
                    store.snapshot(), loaded, catalog.guidance, today=today, feeling=feeling
                )
                self._loaded = apply_adjustments(loaded, again)
                return self._loaded, again.sentences()

            options["ask_feeling"] = True
            options["on_feeling"] = replan
        return SessionPlan(adjusted, options)

    def record(self, record: dict[str, Any]) -> None:
        """Take one engine Log record."""
        if self.store is None:
            return
        if self._recorder is None:
            kind = record.get("kind")
            if kind == "resume_accepted":
                self._begin(resume=self._resume)
            elif kind in DECIDING_KINDS or self._resume is None:
                self._begin(resume=None)
            if self._recorder is None:
                self._pending.append(record)
                return
        self._feed(record)

    def resume_now(self, point: ResumePoint) -> None:
        """Continue this stored session from the first record on (`floorcoach resume`)."""
        self._resume = point
        self._begin(resume=point)

    def _begin(self, resume: ResumePoint | None) -> None:
        assert self.store is not None
        self._recorder = SessionRecorder(
            self.store,
            routine=self._loaded,
            base_exercise_ids=self._base_ids,
            resume=resume,
            on_error=self._failed,
        )
        pending, self._pending = self._pending, []
        for record in pending:
            self._feed(record)

    def _feed(self, record: dict[str, Any]) -> None:
        if self._recorder is None or self._recorder.failed:
            return
        try:
            self._recorder.record(record)
        except Exception as exc:  # noqa: BLE001 - history must never stop a session
            _LOGGER.exception("history record failed")
            self._recorder.failed = str(exc)
            self._failed(f"{type(exc).__name__}: {exc}")

    def _failed(self, message: str) -> None:
        self._note(f"history is off from now on: {message}")

    def close(self) -> None:
        """Record what is still held back, then close the file."""
        if self.store is None:
            return
        if self._recorder is None and self._pending:
            self._begin(resume=None)
        self.store.close()
