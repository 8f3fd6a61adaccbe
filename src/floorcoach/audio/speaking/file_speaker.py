"""Renders a session onto a virtual timeline and writes it as a WAV (`--speak-to FILE.wav`).

The same `Speaker` contract as the device, on simulated seconds instead of the monotonic
clock: sounds are mixed at exact sample positions, and on_done fires when the caller moves
time forward (`advance_to`), so a whole session renders faster than real time and the same
way every run.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Final

import numpy as np

from floorcoach.audio.pcm import RATE_HZ, Pcm, float_to_int16, resample, write_wav
from floorcoach.audio.speaking.playback import Playback
from floorcoach.audio.speaking.speaker import END_PADDING_SECONDS, DoneCallback, Played, Playing

_STOP_FADE_SECONDS: Final = 0.005


class FileSpeaker:
    """Renders a session onto a virtual timeline (seconds) for `--speak-to FILE.wav`."""

    def __init__(self, clock: Callable[[], float] | None = None, rate_hz: int = RATE_HZ) -> None:
        self.rate_hz = rate_hz
        self._clock = clock
        self._buffer = np.zeros(0, dtype=np.float32)
        self._items: list[Playback] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._end_seconds = 0.0

    def _now(self) -> float:
        if self._clock is None:
            raise ValueError("FileSpeaker without a clock needs explicit times (play_at/stop_at)")
        return self._clock()

    def play_at(
        self,
        pcm: Pcm,
        t_seconds: float,
        label: str,
        on_done: DoneCallback | None = None,
    ) -> int:
        """Mix `pcm` into the timeline starting exactly at sample round(t * rate)."""
        if t_seconds < 0:
            raise ValueError(f"cannot play at negative time {t_seconds}")
        samples = resample(pcm.samples, pcm.rate_hz, self.rate_hz).astype(np.float32) / 32768.0
        start = round(t_seconds * self.rate_hz)
        end = start + len(samples)
        with self._lock:
            if end > len(self._buffer):
                grown = np.zeros(max(end, 2 * len(self._buffer)), dtype=np.float32)
                grown[: len(self._buffer)] = self._buffer
                self._buffer = grown
            self._buffer[start:end] += samples
            item = Playback(next(self._ids), label, samples, self.rate_hz, t_seconds, on_done)
            item.started_at = start / self.rate_hz
            item.ended_at = end / self.rate_hz
            item.pos = len(samples)
            self._items.append(item)
            self._end_seconds = max(self._end_seconds, item.ended_at)
        return item.id

    def play(
        self,
        pcm: Pcm,
        label: str,
        on_done: DoneCallback | None = None,
        at: float | None = None,
    ) -> int:
        """Like DeviceSpeaker: after whatever is still sounding, not before `at` or now."""
        start = at if at is not None else self._now()
        with self._lock:
            busy_until = max(
                (i.ended_at or 0.0 for i in self._items if not i.interrupted), default=0.0
            )
        return self.play_at(pcm, max(start, busy_until), label, on_done)

    def stop_at(self, t_seconds: float) -> None:
        """Cut everything sounding at `t_seconds` (short fade) and drop what starts later."""
        cut = round(t_seconds * self.rate_hz)
        fade = round(_STOP_FADE_SECONDS * self.rate_hz)
        with self._lock:
            if cut < len(self._buffer):
                lo = max(0, cut - fade)
                self._buffer[lo:cut] *= np.linspace(1.0, 0.0, cut - lo, dtype=np.float32)
                self._buffer[cut:] = 0.0
            kept: list[Playback] = []
            stopped: list[Playback] = []
            for item in self._items:
                assert item.started_at is not None
                assert item.ended_at is not None
                if item.started_at >= t_seconds and item.ended_at > t_seconds:
                    item.interrupted = True  # never sounded: discarded like a queued item
                    stopped.append(item)
                    continue
                if item.ended_at > t_seconds:
                    item.interrupted = True
                    item.ended_at = t_seconds
                    stopped.append(item)
                kept.append(item)
            self._items = kept
            self._end_seconds = max((i.ended_at or 0.0 for i in kept), default=0.0)
            for item in stopped:
                item.notified = True
        for item in stopped:
            if item.on_done is not None:
                item.on_done(item.id, True)

    def stop(self) -> None:
        """stop_at(now) on the clock."""
        self.stop_at(self._now())

    def advance_to(self, t_seconds: float) -> None:
        """Fire on_done for every playback that ended by `t_seconds` (simulated time passing)."""
        with self._lock:
            due = [
                i
                for i in self._items
                if not i.notified and i.ended_at is not None and i.ended_at <= t_seconds
            ]
            for item in due:
                item.notified = True
        for item in due:
            if item.on_done is not None:
                item.on_done(item.id, item.interrupted)

    def now_playing(self, t_seconds: float | None = None) -> Playing | None:
        """The latest playback sounding at `t_seconds` (default: the clock's now)."""
        t = self._now() if t_seconds is None else t_seconds
        with self._lock:
            for item in reversed(self._items):
                assert item.started_at is not None
                assert item.ended_at is not None
                if item.started_at <= t < item.ended_at:
                    return Playing(item.id, item.label, item.started_at, item.ended_at)
        return None

    def history(self) -> list[Played]:
        """Every playback on the timeline, in the order played."""
        with self._lock:
            return [i.played() for i in self._items]

    def pcm(self) -> Pcm:
        """The whole timeline so far, as int16 PCM (mixing clipped, not wrapped)."""
        with self._lock:
            length = round(self._end_seconds * self.rate_hz)
            return Pcm(float_to_int16(self._buffer[:length]), self.rate_hz)

    def write(self, path: Path, pad_seconds: float = END_PADDING_SECONDS) -> Path:
        """Write the timeline as a WAV, with a little silence at the end."""
        pcm = self.pcm()
        padded = np.concatenate([pcm.samples, np.zeros(round(pad_seconds * pcm.rate_hz), np.int16)])
        write_wav(path, Pcm(padded, pcm.rate_hz))
        return path

    def close(self) -> None:
        """Nothing to release; the timeline stays readable."""
