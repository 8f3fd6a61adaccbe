"""The microphone cut into voice segments for `floorcoach enroll`: one take at a time.

It stands in for a recognizer in `MicrophoneListener` (same callback, queue and worker thread
as the player), so a take is segmented exactly as the recognizer will segment the command
later: the same energy voice detector and settings. Only segments that begin after `arm()`
count (the prompt the player just spoke is not a take).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from floorcoach.audio.listening.recognizer import Heard
from floorcoach.audio.listening.vad import EnergyVad, Segment, VadConfig, level_db
from floorcoach.commands import ListenContext

PIECE_WAIT_SECONDS: Final = 0.5
"""After a segment ends, wait this long for a second piece (a phrase said with a pause)."""
OVERTIME_SECONDS: Final = 3.0
"""Speech still going at the deadline may finish within this much more."""
POLL_SECONDS: Final = 0.05


@dataclass(frozen=True)
class Listened:
    """What the microphone picked up during one listening window."""

    segments: tuple[Segment, ...]
    """Complete voice segments that began in the window, in order."""
    loudest_db: float
    """The loudest chunk's RMS level (dBFS), speech or not."""
    floor_db: float
    """The voice detector's background level at the end (dBFS)."""
    still_speaking: bool = False
    """Speech had not ended when listening stopped."""


class TakeCatcher:
    """A `CommandRecognizer` that hears no commands: it keeps voice segments for takes."""

    engine = "enroll"
    description = "voice segments for enrollment"

    def __init__(self, vad: VadConfig | None = None) -> None:
        self._vad = EnergyVad(vad)
        self._lock = threading.Lock()
        self._armed_at = float("inf")
        self._segments: list[Segment] = []
        self._loudest_db = -120.0

    # -- the recognizer protocol (called from the microphone's worker thread) -------------------
    def accept(self, samples: npt.NDArray[np.int16]) -> list[Heard]:
        """Segment a chunk; keep finished segments that began after arming."""
        with self._lock:
            segments = self._vad.accept(samples)
            if self._vad.stream_seconds >= self._armed_at and len(samples):
                self._loudest_db = max(self._loudest_db, level_db(samples))
            self._segments.extend(s for s in segments if s.start_seconds >= self._armed_at)
        return []

    def flush(self) -> list[Heard]:
        """End of stream: nothing to report."""
        return []

    def reset(self) -> None:
        """A new stream (the device reopened): forget everything."""
        with self._lock:
            self._vad.reset()
            self._segments.clear()
            self._armed_at = float("inf")

    @property
    def context(self) -> ListenContext:
        """Takes are not commands; the context does not matter."""
        return ListenContext.COMMANDS

    def set_context(self, context: ListenContext) -> None:
        """Nothing to switch."""

    # -- the enrollment side (main thread) ---------------------------------------------------
    def arm(self) -> None:
        """From now on, new segments are takes."""
        with self._lock:
            self._armed_at = self._vad.stream_seconds
            self._segments.clear()
            self._loudest_db = -120.0

    def state(self) -> tuple[list[Segment], bool, float, float]:
        """Segments so far, whether speech is going on, the loudest level and the floor."""
        with self._lock:
            floor = self._vad.floor_db if self._vad.floor_db is not None else -90.0
            return list(self._segments), self._vad.in_speech, self._loudest_db, floor

    def listen(
        self,
        seconds: float,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> Listened:
        """Arm, then wait for a take: a segment, a short wait for a second piece, or timeout."""
        self.arm()
        start = clock()
        ended_at: float | None = None
        count = 0
        while True:
            segments, speaking, loudest, floor = self.state()
            now = clock()
            if len(segments) != count:
                count, ended_at = len(segments), now
            if speaking:
                ended_at = None
            elif segments and ended_at is not None and now - ended_at >= PIECE_WAIT_SECONDS:
                break
            if now - start >= seconds and not speaking:
                break
            if now - start >= seconds + OVERTIME_SECONDS:
                break
            sleep(POLL_SECONDS)
        return Listened(tuple(segments), loudest, floor, still_speaking=speaking)
