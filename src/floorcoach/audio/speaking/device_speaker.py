"""Plays speech and cues through one sounddevice output stream, open for the whole session.

The PortAudio callback only copies queued samples and returns: conversion happens in
`play()` on the caller's thread and on_done callbacks on the notifier's thread
(playback_notifier.py), so nothing on the audio thread waits. It also timestamps when each
playback really starts and ends at the speaker, which is what `now_playing()`, `history()`
and `sounded()` (the echo canceller's reference) report.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from floorcoach.audio.devices import NO_OUTPUT_MESSAGE, find_device, import_sounddevice
from floorcoach.audio.pcm import RATE_HZ, Pcm, resample
from floorcoach.audio.speaking.playback import Playback
from floorcoach.audio.speaking.playback_notifier import PlaybackNotifier
from floorcoach.audio.speaking.speaker import END_PADDING_SECONDS, DoneCallback, Played, Playing
from floorcoach.errors import AudioDeviceError
from floorcoach.thread_names import name_this_thread

_LOGGER = logging.getLogger(__name__)

DEFAULT_LATENCY_SECONDS: Final = 0.1
"""Lower latencies underflowed through PulseAudio's ALSA plugin (lost up to 70 % of a tone)."""
BLOCK_SECONDS: Final = 0.04
"""PortAudio calls back once per 40 ms block (inside the 100 ms of output latency). Left to
itself it chose ~5 ms blocks (about 200 wake-ups a second, each one a Python call on the
audio thread) for no benefit here: start times are placed to the sample inside a block, and
stop() flushes the device."""
HISTORY_SIZE: Final = 64
RELEASE_AFTER_SECONDS: Final = 10.0
"""A playback's audio is let go this long after it ended: the echo canceller asks for the
reference of the last half second or so, and nothing else needs the samples."""
CLOCK_WINDOW_BLOCKS: Final = 50
"""Blocks (2 s) over which the smallest gap between the monotonic clock and PortAudio's
clock is taken as their true offset (see `_clock_offset`)."""
CLOCK_STEP_SECONDS: Final = 0.05
"""A gap this far from the window's smallest is a step of PortAudio's clock (it is the wall
clock here), not lateness: the window starts again."""
_STALL_SECONDS: Final = 2.0
"""No callback for this long while open means the device went away."""
_PRINTED: Final = "speech will be printed instead"

DeviceLostCallback = Callable[[str], None]


class DeviceSpeaker:
    """One sounddevice OutputStream for the whole session; the callback only copies samples."""

    def __init__(
        self,
        device: str | int | None = None,
        latency_seconds: float = DEFAULT_LATENCY_SECONDS,
        on_device_lost: DeviceLostCallback | None = None,
        history_size: int = HISTORY_SIZE,
        flush_on_stop: bool = True,
    ) -> None:
        """Open `device` (index, name substring, None: default) and start the stream.

        `flush_on_stop` makes stop() discard what the device has buffered (abort + start:
        silence in about 5 ms instead of up to `latency`); turn it off for a device that
        misbehaves when its stream restarts.
        """
        sd = import_sounddevice()
        info = find_device(device, "output")
        self.device_name = info.name
        self.rate_hz = info.default_rate_hz
        self.latency_seconds = latency_seconds
        self._on_device_lost = on_device_lost
        self._flush_on_stop = flush_on_stop
        self._lock = threading.Lock()  # guards the queue and items; held only briefly
        self._control_lock = threading.Lock()  # serializes stop/close (stream control)
        self._queue: deque[Playback] = deque()
        self._current: Playback | None = None
        self._history: deque[Playback] = deque(maxlen=history_size)
        self._ids = itertools.count(1)
        self._closing = False
        self._flushing = False
        self._lost_reason: str | None = None
        self._last_callback_at = time.monotonic()
        self._offsets: deque[float] = deque(maxlen=CLOCK_WINDOW_BLOCKS)
        self._follows: float | None = None
        """When the last block's final sample ended a playback: the time its successor
        starts at, sample for sample, if it begins the very next block (no underflow)."""
        self.underflows = 0
        self.overflows = 0
        self.callbacks = 0
        self.flushes = 0
        self._notifier = PlaybackNotifier("floorcoach-speaker-notify")
        self._stream = self._open(sd, info.index)
        self._watchdog_stop = threading.Event()
        self._watchdog = threading.Thread(
            target=self._watch, name="floorcoach-speaker-watchdog", daemon=True
        )
        self._watchdog.start()
        _LOGGER.info(
            "speaker: %s at %d Hz, latency %.3f s", self.device_name, self.rate_hz, self.latency
        )

    def _open(self, sd: Any, index: int) -> Any:
        last_error: Exception | None = None
        # Mono first; some hardware devices only accept stereo.
        for channels in (1, 2):
            try:
                stream = None
                stream = sd.OutputStream(
                    samplerate=self.rate_hz,
                    device=index,
                    channels=channels,
                    dtype="float32",
                    latency=self.latency_seconds,
                    blocksize=max(1, round(self.rate_hz * BLOCK_SECONDS)),
                    callback=self._callback,
                    finished_callback=self._stream_finished,
                )
                stream.start()
            except (sd.PortAudioError, ValueError) as exc:
                last_error = exc
                if stream is not None:
                    stream.close()
                continue
            return stream
        self._notifier.close()
        raise AudioDeviceError(
            f"cannot open sound output '{self.device_name}' ({last_error}); {NO_OUTPUT_MESSAGE}"
        )

    @property
    def latency(self) -> float:
        """The stream's reported output latency in seconds."""
        return float(self._stream.latency)

    @property
    def lost(self) -> str | None:
        """Why the device stopped working, or None while it works."""
        return self._lost_reason

    def play(
        self,
        pcm: Pcm,
        label: str,
        on_done: DoneCallback | None = None,
        at: float | None = None,
    ) -> int:
        """Queue `pcm` after what is already queued; `at` (monotonic) delays its start."""
        if self._lost_reason is not None:
            raise AudioDeviceError(self._lost_reason)
        if self._closing:
            raise AudioDeviceError(f"the speaker '{self.device_name}' is closed")
        # Conversion happens here, on the caller's thread, so the callback only copies.
        samples = resample(pcm.samples, pcm.rate_hz, self.rate_hz).astype(np.float32) / 32768.0
        item = Playback(next(self._ids), label, samples, self.rate_hz, at, on_done)
        item.reference = pcm.to_rate(RATE_HZ).to_float()
        with self._lock:
            self._release_old(time.monotonic())
            self._queue.append(item)
        return item.id

    def stop(self) -> None:
        """Silence now (the device buffer is flushed) and discard everything queued."""
        with self._control_lock:
            now = time.monotonic()
            with self._lock:
                dropped = list(self._queue)
                self._queue.clear()
                current = self._current
                self._current = None
                self._follows = None  # flushed: what comes next does not follow it
                audible = [i for i in self._history if i.ended_at is not None and i.ended_at > now]
                if current is not None:
                    audible.append(current)
                for item in audible:
                    item.interrupted = True
                    # Committed but not yet sounding (scheduled ahead): it never sounded.
                    item.ended_at = max(now, item.started_at or now)
                for item in dropped:
                    item.interrupted = True
            if audible and self._flush_on_stop and not self._closing and not self._lost_reason:
                self._flush()
            for item in dropped:
                self._notifier.submit(item)
            if current is not None:
                self._notifier.submit(current)
            self._notifier.nudge()

    def _release_old(self, now: float) -> None:
        """Let go of the audio of playbacks that ended long ago (under the lock)."""
        for old in self._history:
            if old.ended_at is not None and old.ended_at < now - RELEASE_AFTER_SECONDS:
                old.release()

    def _flush(self) -> None:
        """Drop samples already handed to the device: abort() discards them, start() resumes."""
        sd = import_sounddevice()
        self._flushing = True
        try:
            self._stream.abort()
            self._stream.start()
            self.flushes += 1
        except sd.PortAudioError as exc:
            self._device_lost(f"the speaker '{self.device_name}' failed ({exc}); {_PRINTED}")
        finally:
            self._flushing = False

    def sounded(self, start: float, samples: int) -> npt.NDArray[np.float32]:
        """What the speaker sounded from `start` (monotonic) for `samples` at 16 kHz.

        Built from each playback's own 16 kHz samples placed at the time it started
        sounding (and cut where it was stopped): one continuous, unaliased signal per
        utterance, which is what an echo canceller needs as its reference.
        """
        out = np.zeros(samples, dtype=np.float32)
        end = start + samples / RATE_HZ
        with self._lock:
            items = list(self._history)
        for item in items:
            if item.started_at is None or item.reference is None:
                continue
            stop = item.ended_at if item.interrupted and item.ended_at else item.expected_end()
            if item.started_at >= end or stop <= start:
                continue
            offset = round((item.started_at - start) * RATE_HZ)
            length = min(len(item.reference), round((stop - item.started_at) * RATE_HZ))
            a, b = max(0, offset), min(samples, offset + length)
            if a < b:
                out[a:b] += item.reference[a - offset : b - offset]
        return out

    def now_playing(self) -> Playing | None:
        """The playback sounding now, or committed to the device and about to sound."""
        now = time.monotonic()
        with self._lock:
            item = self._current
            if item is None:
                # Fully written to the device but still sounding from its buffer.
                for old in reversed(self._history):
                    if old.ended_at is not None and old.ended_at > now and not old.interrupted:
                        item = old
                        break
            if item is None or item.started_at is None:
                return None
            return Playing(item.id, item.label, item.started_at, item.expected_end())

    def history(self) -> list[Played]:
        """Recent playbacks that reached the device, oldest first (bounded)."""
        with self._lock:
            return [i.played() for i in self._history if i.started_at is not None]

    def pending(self) -> int:
        """Playbacks queued or sounding."""
        with self._lock:
            return len(self._queue) + (1 if self._current is not None else 0)

    def wait_idle(self, timeout_seconds: float) -> bool:
        """Wait until everything queued has been heard; False on timeout."""
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            with self._lock:
                busy = bool(self._queue) or self._current is not None
                last_end = max((i.ended_at or 0.0 for i in self._history), default=0.0)
            if not busy and time.monotonic() >= last_end:
                return True
            if self._lost_reason is not None:
                return False
            time.sleep(0.01)
        return False

    def close(self, drain: bool = True) -> None:
        """Let queued audio finish (if `drain`), pad with silence, then close the stream."""
        if self._closing:
            return
        if drain and self._lost_reason is None:
            self.wait_idle(timeout_seconds=self._queued_seconds() + 2.0)
            time.sleep(END_PADDING_SECONDS)
        else:
            self.stop()
        with self._control_lock:
            self._closing = True
            self._watchdog_stop.set()
            try:
                self._stream.stop()
                self._stream.close()
            except Exception as exc:  # noqa: BLE001 - the device may already be gone
                _LOGGER.debug("closing output stream: %s", exc)
        with self._lock:
            leftovers = list(self._queue) + ([self._current] if self._current else [])
            self._queue.clear()
            self._current = None
        for item in leftovers:
            item.interrupted = True
            self._notifier.submit(item)
        self._notifier.close()
        if self.underflows or self.overflows:
            _LOGGER.info(
                "speaker closed: %d underflows, %d overflows in %d callbacks",
                self.underflows,
                self.overflows,
                self.callbacks,
            )

    def _queued_seconds(self) -> float:
        """How long until everything queued has played (scheduled starts included)."""
        with self._lock:
            items = list(self._queue) + ([self._current] if self._current else [])
        now = time.monotonic()
        last_at = max((i.at for i in items if i.at is not None), default=now)
        return max(0.0, last_at - now) + sum(i.seconds for i in items)

    def __enter__(self) -> DeviceSpeaker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _callback(self, outdata: Any, frames: int, time_info: Any, status: Any) -> None:
        """PortAudio's thread: copy queued samples into `outdata`; nothing else."""
        now = time.monotonic()
        self._last_callback_at = now
        self.callbacks += 1
        if self.callbacks == 1:
            name_this_thread("fc-speaker-cb")
        if status:
            if status.output_underflow:
                self.underflows += 1
            if status.output_overflow:
                self.overflows += 1
        # When the first frame of this block will sound, on the monotonic clock.
        dac_time, current_time = time_info.outputBufferDacTime, time_info.currentTime
        if 0.0 <= dac_time - current_time < 1.0:
            block_start = dac_time + self._clock_offset(now - current_time)
        else:  # a host API without timestamps
            block_start = now + self.latency_seconds
        rate = self.rate_hz
        outdata.fill(0)
        filled = 0
        gap = bool(status) and bool(status.output_underflow)
        with self._lock:
            follows, self._follows = (None if gap else self._follows), None
            while filled < frames:
                item = self._current
                if item is None:
                    if not self._queue:
                        break
                    item = self._queue[0]
                    if item.at is not None:
                        offset = round((item.at - block_start) * rate)
                        if offset >= frames:
                            break  # starts in a later block
                        filled = max(filled, offset)
                    self._queue.popleft()
                    if filled == 0 and follows is not None:
                        # the stream carries on from the last block's final sample: exact
                        item.started_at = follows
                    else:
                        item.started_at = block_start + filled / rate
                    self._current = item
                    self._history.append(item)
                count = min(frames - filled, len(item.samples) - item.pos)
                outdata[filled : filled + count] = item.samples[item.pos : item.pos + count, None]
                item.pos += count
                filled += count
                if item.pos >= len(item.samples):
                    # Exact in samples; later blocks' delay estimates only add jitter.
                    item.ended_at = item.expected_end()
                    self._current = None
                    self._notifier.submit(item)
                    if filled == frames:
                        self._follows = item.ended_at

    def _clock_offset(self, seen: float) -> float:
        """The monotonic clock minus PortAudio's, without this callback's lateness.

        PortAudio stamps a block (`currentTime`) before Python runs the callback, which may
        first wait for the GIL (up to the 5 ms switch interval while another thread runs
        Python): `now - currentTime` is the clocks' offset plus that wait, never less. The
        smallest over the last 2 s is the offset itself, so consecutive playbacks and
        scheduled starts keep their spacing to within a millisecond whatever the load.
        """
        offsets = self._offsets
        if offsets and abs(seen - min(offsets)) > CLOCK_STEP_SECONDS:
            offsets.clear()
        offsets.append(seen)
        return min(offsets)

    def _stream_finished(self) -> None:
        """PortAudio ended the stream: expected on close or flush, a lost device otherwise."""
        if self._closing or self._flushing:
            return
        # Not from PortAudio's thread: _device_lost takes locks and calls back.
        threading.Thread(
            target=self._device_lost,
            args=(f"the speaker '{self.device_name}' stopped working; {_PRINTED}",),
            daemon=True,
        ).start()

    def _watch(self) -> None:
        """Notice a stream that stopped calling back (device unplugged, sound server gone)."""
        name_this_thread("fc-spk-watchdog")
        while not self._watchdog_stop.wait(0.25):
            if self._closing or self._lost_reason is not None:
                return
            silent_for = time.monotonic() - self._last_callback_at
            if silent_for > _STALL_SECONDS:
                self._device_lost(f"the speaker '{self.device_name}' stopped working; {_PRINTED}")
                return

    def _device_lost(self, reason: str) -> None:
        if self._lost_reason is not None:
            return
        self._lost_reason = reason
        _LOGGER.warning("%s", reason)
        with self._lock:
            items = list(self._queue) + ([self._current] if self._current else [])
            self._queue.clear()
            self._current = None
        now = time.monotonic()
        for item in items:
            item.interrupted = True
            item.ended_at = now
            self._notifier.submit(item)
        if self._on_device_lost is not None:
            callback = self._on_device_lost
            threading.Thread(target=callback, args=(reason,), daemon=True).start()
