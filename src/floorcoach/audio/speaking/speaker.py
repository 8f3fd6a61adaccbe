"""Plays speech and cues through one open output stream, and always knows what it is saying.

The listener uses `now_playing()` and `history()` to ignore the player's own voice, so every
start and end time here is the estimated moment the sound leaves the speaker (monotonic
seconds for `DeviceSpeaker`, virtual-timeline seconds for `FileSpeaker`).
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from floorcoach.audio.devices import NO_OUTPUT_MESSAGE, find_device, import_sounddevice
from floorcoach.audio.pcm import RATE_HZ, Pcm, float_to_int16, resample, write_wav
from floorcoach.errors import AudioDeviceError

_LOGGER = logging.getLogger(__name__)

DEFAULT_LATENCY_SECONDS: Final = 0.1
"""Lower latencies underflowed through PulseAudio's ALSA plugin (lost up to 70 % of a tone)."""
END_PADDING_SECONDS: Final = 0.2
"""Silence played before closing: PortAudio drops about the last `latency` seconds on stop."""
HISTORY_SIZE: Final = 64
_STALL_SECONDS: Final = 2.0
"""No callback for this long while open means the device went away."""
_NOTIFY_POLL_SECONDS: Final = 0.05
_STOP_FADE_SECONDS: Final = 0.005
_PRINTED: Final = "speech will be printed instead"

DoneCallback = Callable[[int, bool], None]
"""on_done(playback_id, interrupted): from a notifier thread, never the audio callback."""
DeviceLostCallback = Callable[[str], None]


@dataclass(frozen=True)
class Playing:
    """What the speaker is sounding now: `started_at` and `expected_end` on its clock."""

    id: int
    label: str
    started_at: float
    expected_end: float


@dataclass(frozen=True)
class Played:
    """One playback that reached the speaker, with when it really started and ended."""

    id: int
    label: str
    started_at: float
    ended_at: float
    interrupted: bool


@runtime_checkable
class Speaker(Protocol):
    """Where rendered speech and cue tones go."""

    def play(
        self,
        pcm: Pcm,
        label: str,
        on_done: DoneCallback | None = None,
        at: float | None = None,
    ) -> int: ...

    def stop(self) -> None: ...

    def now_playing(self) -> Playing | None: ...

    def history(self) -> list[Played]: ...

    def close(self) -> None: ...


@dataclass(eq=False)
class _Item:
    """A queued or sounding playback; mutated only under the speaker's lock."""

    id: int
    label: str
    samples: npt.NDArray[np.float32]
    rate_hz: int
    at: float | None
    on_done: DoneCallback | None
    pos: int = 0
    started_at: float | None = None
    ended_at: float | None = None
    interrupted: bool = False
    notified: bool = field(default=False)
    reference: npt.NDArray[np.float32] | None = None
    """The same sound at 16 kHz as it was given (before resampling to the device)."""

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate_hz

    def expected_end(self) -> float:
        assert self.started_at is not None
        return self.started_at + self.seconds

    def played(self) -> Played:
        assert self.started_at is not None
        end = self.ended_at if self.ended_at is not None else self.expected_end()
        return Played(self.id, self.label, self.started_at, end, self.interrupted)


class _Notifier:
    """Calls on_done when each playback's sound has really ended, on its own thread."""

    def __init__(self, name: str) -> None:
        self._inbox: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, item: _Item) -> None:
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
        pending: list[_Item] = []
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
            wait = _NOTIFY_POLL_SECONDS
            if pending:
                soonest = min((i.ended_at or now) for i in pending)
                wait = max(0.0, min(wait, soonest - now))
            try:
                new = self._inbox.get(timeout=wait) if wait > 0 else self._inbox.get_nowait()
            except queue.Empty:
                continue
            if new is not None and new not in pending:
                pending.append(new)

    def _fire(self, item: _Item) -> None:
        if item.notified or item.on_done is None:
            item.notified = True
            return
        item.notified = True
        try:
            item.on_done(item.id, item.interrupted)
        except Exception:
            _LOGGER.exception("on_done callback for playback %d (%s) failed", item.id, item.label)


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
        self._queue: deque[_Item] = deque()
        self._current: _Item | None = None
        self._history: deque[_Item] = deque(maxlen=history_size)
        self._ids = itertools.count(1)
        self._closing = False
        self._flushing = False
        self._lost_reason: str | None = None
        self._last_callback_at = time.monotonic()
        self.underflows = 0
        self.overflows = 0
        self.callbacks = 0
        self.flushes = 0
        self._notifier = _Notifier("floorcoach-speaker-notify")
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
        item = _Item(next(self._ids), label, samples, self.rate_hz, at, on_done)
        item.reference = pcm.to_rate(RATE_HZ).to_float()
        with self._lock:
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
        if status:
            if status.output_underflow:
                self.underflows += 1
            if status.output_overflow:
                self.overflows += 1
        # When the first frame of this block will sound, on the monotonic clock.
        delay = time_info.outputBufferDacTime - time_info.currentTime
        if not 0.0 <= delay < 1.0:
            delay = self.latency_seconds
        block_start = now + delay
        rate = self.rate_hz
        outdata.fill(0)
        filled = 0
        with self._lock:
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


class FileSpeaker:
    """Renders a session onto a virtual timeline (seconds) for `--speak-to FILE.wav`."""

    def __init__(self, clock: Callable[[], float] | None = None, rate_hz: int = RATE_HZ) -> None:
        self.rate_hz = rate_hz
        self._clock = clock
        self._buffer = np.zeros(0, dtype=np.float32)
        self._items: list[_Item] = []
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
            item = _Item(next(self._ids), label, samples, self.rate_hz, t_seconds, on_done)
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
            kept: list[_Item] = []
            stopped: list[_Item] = []
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
