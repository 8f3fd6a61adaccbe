"""Calls each playback's on_done at the moment its sound has really ended, on its own thread.

The PortAudio callback must never block, so it only hands a finished playback over
(`submit`: a put on a lock-free queue) and returns. The notifier waits until the playback's
`ended_at` (its last sample still sits in the device buffer when it is submitted), then calls
on_done, which may take locks, speak again, or be slow, without holding up the audio.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Final

from floorcoach.audio.speaking.playback import Playback
from floorcoach.thread_names import name_this_thread

_LOGGER = logging.getLogger(__name__)

_NOTIFY_POLL_SECONDS: Final = 0.05


class PlaybackNotifier:
    """Calls on_done when each playback's sound has really ended, on its own thread."""

    def __init__(self, name: str) -> None:
        self._inbox: queue.SimpleQueue[Playback | None] = queue.SimpleQueue()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, item: Playback) -> None:
        """Hand over a finished or interrupted item (safe from the audio callback)."""
        self._inbox.put_nowait(item)

    def nudge(self) -> None:
        """Re-check due times now (an item's end moved earlier)."""
        self._inbox.put_nowait(None)

    def close(self) -> None:
        """Fire everything pending now and stop the thread."""
        self._closed = True
        self._inbox.put_nowait(None)
        self._thread.join(timeout=2.0)

    def _run(self) -> None:
        name_this_thread("fc-notifier")
        pending: list[Playback] = []
        while True:
            now = time.monotonic()
            due = [i for i in pending if self._closed or (i.ended_at or 0.0) <= now]
            for done in due:
                pending.remove(done)
                self._fire(done)
            if self._closed and not pending:
                # Drain anything submitted during close.
                while True:
                    try:
                        late = self._inbox.get_nowait()
                    except queue.Empty:
                        return
                    if late is not None:
                        self._fire(late)
            try:
                if not pending:  # nothing to time: sleep until submit, nudge or close
                    new = self._inbox.get()
                else:
                    soonest = min((i.ended_at or now) for i in pending)
                    wait = max(0.0, min(_NOTIFY_POLL_SECONDS, soonest - now))
                    new = self._inbox.get(timeout=wait) if wait > 0 else self._inbox.get_nowait()
            except queue.Empty:
                continue
            if new is not None and new not in pending:
                pending.append(new)

    def _fire(self, item: Playback) -> None:
        if item.notified or item.on_done is None:
            item.notified = True
            return
        item.notified = True
        try:
            item.on_done(item.id, item.interrupted)
        except Exception:
            _LOGGER.exception("on_done callback for playback %d (%s) failed", item.id, item.label)
