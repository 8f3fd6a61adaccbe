"""The microphone listener: PortAudio callback -> bounded queue -> recognizer worker -> Heard.

The callback only copies bytes into a queue (dropping the oldest chunk when full, counted),
so a slow recognizer never stalls the sound card; everything else runs in one worker thread.

The queue is a bounded `deque` and the wake-up a bare lock used as a binary semaphore, not
`queue.Queue`: a chunk arrives 25 times a second for as long as the player listens, and
`Queue.put`/`get` run a `Condition` in Python (a new lock per wait) on both threads each
time, where two C calls do. What did measurably cut the worker's CPU (issue 19) is waking it
less often: see QUIET_BATCH_CHUNKS.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import wave
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from floorcoach.audio.listening.echo_canceller import (
    DEFAULT_ECHO_CANCEL,
    EchoCancelling,
    make_echo_canceller,
)
from floorcoach.audio.listening.echo_delay import EchoDelayTracker, fractional_fetch
from floorcoach.audio.listening.linear_look import attach_linear_look
from floorcoach.audio.listening.recognizer import CommandRecognizer, Heard
from floorcoach.audio.listening.self_voice import EchoGate
from floorcoach.audio.pcm import RATE_HZ, resample
from floorcoach.errors import AudioDeviceError, FloorcoachError
from floorcoach.thread_names import name_this_thread

_LOGGER = logging.getLogger(__name__)

CHUNK_SECONDS: Final = 0.04
"""40 ms blocks: half the wake-ups of 20 ms (callback, queue, per-chunk NumPy work) for a
command decided at most 20 ms later; the voice detector still works in its own frames."""
QUEUE_CHUNKS: Final = 125
"""5 s of 40 ms chunks; when full the oldest chunk is dropped (and counted)."""
HEARD_QUEUE_SIZE: Final = 64
"""Commands waiting for the runtime; when full the oldest is dropped (it is stale anyway)."""
_POLL_SECONDS: Final = 0.1
QUIET_BATCH_CHUNKS: Final = 2
"""While nobody speaks, the worker is woken for every second chunk only: each wake-up costs
far more than the chunk's own work on a cold cache (issue 19), and a word's first 40 ms
wait at most one chunk longer. Once the recognizer hears speech, every chunk wakes it, so
the end of a word is seen as soon as before."""
ECHO_LEARN_SECONDS: Final = 4.0
REFERENCE_LEAD_SECONDS: Final = 0.05


class MicrophoneListener:
    """Listens on one input device and hands each Heard to a callback and a bounded queue."""

    def __init__(
        self,
        recognizer: CommandRecognizer,
        on_heard: Callable[[Heard], None] | None = None,
        device: str | int | None = None,
        record_dir: Path | None = None,
        queue_chunks: int = QUEUE_CHUNKS,
        on_error: Callable[[AudioDeviceError], None] | None = None,
        gate: EchoGate | None = None,
        reference: Callable[[float, int], npt.NDArray[np.float32]] | None = None,
        echo_cancel: str = DEFAULT_ECHO_CANCEL,
        follow_echo_delay: bool = True,
        on_unclear: Callable[[float], None] | None = None,
    ) -> None:
        self.recognizer = recognizer
        listen_over_player = getattr(recognizer, "set_player_talking", None)
        if callable(listen_over_player):
            listen_over_player(self._player_talking)
        self.on_unclear = on_unclear
        """Called with the seconds of speech of words not placed, said while the player was
        silent (the worker thread calls it: post, do not block)."""
        report_unclear = getattr(recognizer, "set_on_unclear", None)
        if callable(report_unclear):
            report_unclear(self._unclear)
        self.on_heard = on_heard
        self.on_error = on_error
        self.device_spec = device
        self.record_dir = record_dir
        self.heard: queue.Queue[Heard] = queue.Queue(maxsize=HEARD_QUEUE_SIZE)
        self._chunks: deque[bytes] = deque(maxlen=max(1, queue_chunks))
        self._arrived = threading.Lock()
        """Released by the callback when chunks wait, acquired by the worker: a binary
        semaphore (only the callback releases, only the worker acquires, so `locked()`
        then `release()` cannot race)."""
        self._arrived.acquire()
        self._wake_after = 1
        """Chunks that may gather before the callback wakes the worker (set by the worker)."""
        self.dropped_chunks = 0
        self.status_flags = 0
        self.device_name = ""
        self.device_rate_hz = RATE_HZ
        self._stream: Any = None
        self._worker: threading.Thread | None = None
        self._stop = threading.Event()
        self._lost = False
        self._stream_t0 = 0.0
        self._first_block_at: float | None = None
        self._opening_rate_hz = RATE_HZ
        self._samples_done = 0
        self.gate = gate or EchoGate()
        self._reference = reference
        """What the player sounded (monotonic start, sample count at 16 kHz): with it, the
        player's echo is cancelled before anyone listens."""
        self.echo_cancel = echo_cancel if reference is not None else "none"
        self._canceller: EchoCancelling | None = None
        if self.echo_cancel != "none":
            self._canceller = _canceller(self.echo_cancel)
            if self._canceller is None:
                self.echo_cancel = "nlms"
                self._canceller = make_echo_canceller("nlms")
        self._linear = attach_linear_look(recognizer, self.echo_cancel)
        """The linear canceller beside WebRTC's, for the recognizer's second look."""
        self.echo_delay: EchoDelayTracker | None = (
            EchoDelayTracker() if self._canceller is not None and follow_echo_delay else None
        )
        """Keeps the reference in step with the microphone's clock (echo_delay.py)."""
        self._quiet_since = 0.0
        self._learned_at = 0.0
        self._wav: wave.Wave_write | None = None
        self._heard_log: Any = None

    # -- life cycle -----------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """True while the stream delivers audio."""
        return self._stream is not None and not self._lost and bool(self._stream.active)

    def start(self) -> None:
        """Open the device and start listening; raises AudioDeviceError with one clear line."""
        if self._stream is not None:
            return
        self._open_stream()
        self._open_recording()
        self._stop.clear()
        self._worker = threading.Thread(target=self._work, name="mic-recognizer", daemon=True)
        self._worker.start()

    def stop(self) -> None:
        """Stop listening, decode what is left, close the recording."""
        self._stop.set()
        self._close_stream()
        if self._worker is not None:
            self._worker.join(timeout=5.0)
            self._worker = None
        self._close_recording()

    def retry(self) -> bool:
        """Try to reopen a lost or missing device; True when listening again."""
        self.stop()
        self._lost = False
        try:
            self.start()
        except AudioDeviceError as exc:
            _LOGGER.info("microphone still unavailable: %s", exc)
            return False
        return True

    def __enter__(self) -> MicrophoneListener:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- self-voice ------------------------------------------------------------------------
    def note_player_speech(self, start_monotonic: float, end_monotonic: float, text: str) -> None:
        """Tell the listener the player speaks `text` in this interval (time.monotonic())."""
        self.gate.note(start_monotonic, end_monotonic, text)

    def _sample_zero_at(self) -> float:
        """When sample 0 of the stream was heard: sample time starts with the first block
        delivered, which a sound server may hold back for a second or two after the start."""
        return self._first_block_at if self._first_block_at is not None else self._stream_t0

    def _on_gate_clock(self, stream_seconds: float) -> float:
        """A time of the recognizer's stream as the echo gate must see it."""
        return self._on_player_clock(self._sample_zero_at() + stream_seconds)

    def _player_talking(self, start: float, end: float) -> bool:
        """Whether the player was talking during this stretch of the recognizer's stream
        (seconds since its start): asked by the recognizer for each segment it decodes."""
        return self.gate.talking(self._on_gate_clock(start), self._on_gate_clock(end))

    def _unclear(self, start: float, end: float, speech_seconds: float) -> None:
        """Words the recognizer could not place, passed on when they are the user's
        (`EchoGate.users_unclear`: not within the player's speech and its echo)."""
        if self.on_unclear is None:
            return
        if not self.gate.users_unclear(self._on_gate_clock(start), self._on_gate_clock(end)):
            _LOGGER.debug(
                "unclear words at %.2f-%.2f s: over the player, not passed on", start, end
            )
            return
        _LOGGER.debug("unclear words at %.2f-%.2f s (%.2f s of speech)", start, end, speech_seconds)
        try:
            self.on_unclear(speech_seconds)
        except Exception:
            _LOGGER.exception("on_unclear callback failed")

    def _is_player_echo(self, heard: Heard) -> bool:
        start = self._on_gate_clock(heard.start)
        end = self._on_gate_clock(heard.end)
        context = getattr(self.recognizer, "context", "commands")
        reason = self.gate.verdict(
            start,
            end,
            heard.intent,
            heard.text,
            heard.confidence,
            answer_expected=str(context) != "commands",
        )
        if reason is not None:
            _LOGGER.info("ignored %r: %s", heard.text, reason)
            _LOGGER.debug(
                "heard %.2f-%.2f (now %.2f); player: %s",
                start,
                end,
                time.monotonic(),
                [(round(p.start, 2), round(p.end, 2), p.text) for p in self.gate.speech()],
            )
        return reason is not None

    # -- device ---------------------------------------------------------------------------
    def _open_stream(self) -> None:
        from floorcoach.audio.devices import find_device, import_sounddevice

        sd = import_sounddevice()
        info = find_device(self.device_spec, "input")
        self.device_name = info.name
        last_error: Exception | None = None
        for rate in dict.fromkeys([RATE_HZ, info.default_rate_hz]):
            self._opening_rate_hz = int(rate)
            self._first_block_at = None
            try:
                stream = sd.RawInputStream(
                    device=info.index,
                    samplerate=rate,
                    channels=1,
                    dtype="int16",
                    blocksize=max(1, round(rate * CHUNK_SECONDS)),
                    callback=self._callback,
                    finished_callback=self._finished,
                )
                stream.start()
            except (sd.PortAudioError, ValueError) as exc:
                last_error = exc
                _LOGGER.debug("input at %d Hz refused: %s", rate, exc)
                continue
            self._stream = stream
            self.device_rate_hz = int(rate)
            self._stream_t0 = time.monotonic()
            self._samples_done = 0
            if self.echo_delay is not None:  # a new timeline: the old line no longer applies
                self.echo_delay = EchoDelayTracker()
            if self._linear is not None:
                self._linear.reset()
            self.recognizer.reset()
            _LOGGER.info("listening on %d %s at %d Hz", info.index, info.name, rate)
            return
        raise AudioDeviceError(f"cannot open microphone '{info.name}': {last_error}")

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        try:
            stream.stop()
            stream.close()
        except Exception as exc:  # a lost device fails here too; nothing more to do
            _LOGGER.debug("closing the input stream: %s", exc)

    def _callback(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        # Real-time thread: copy, enqueue, count, signal; never block or log.
        if self._first_block_at is None:
            self._first_block_at = time.monotonic() - frames / self._opening_rate_hz
            name_this_thread("fc-mic-cb")
        if status:
            self.status_flags += 1
        chunks = self._chunks
        if len(chunks) == chunks.maxlen:
            self.dropped_chunks += 1  # the append below lets the oldest go
        chunks.append(bytes(indata))
        if len(chunks) >= self._wake_after and self._arrived.locked():
            self._arrived.release()

    @property
    def pending_chunks(self) -> int:
        """Chunks the worker has not taken yet (a loaded machine lets them pile up)."""
        return len(self._chunks)

    def _finished(self) -> None:
        if not self._stop.is_set():
            self._lost = True

    # -- worker ---------------------------------------------------------------------------
    def _work(self) -> None:
        name_this_thread("fc-mic-worker")
        reported = False
        chunks = self._chunks
        while True:
            signalled = self._arrived.acquire(timeout=_POLL_SECONDS)
            while chunks:  # after a time-out too: a batch short of its size waits no longer
                data = chunks.popleft()
                self.process(np.frombuffer(data, dtype="<i2").astype(np.int16))
            self._wake_after = (
                1 if getattr(self.recognizer, "in_speech", True) else QUIET_BATCH_CHUNKS
            )
            if signalled:
                continue
            if self._stop.is_set():
                break
            if self._lost and not reported:
                reported = True
                self._report(AudioDeviceError(f"the microphone '{self.device_name}' was lost"))
        for heard in self.recognizer.flush():
            self._deliver(heard)

    def process(self, samples: npt.NDArray[np.int16]) -> None:
        """Run one chunk at the device rate through resampling, recording and the recognizer."""
        if self.device_rate_hz != RATE_HZ:
            samples = resample(samples, self.device_rate_hz, RATE_HZ)
        if self._wav is not None:
            self._wav.writeframes(samples.astype("<i2").tobytes())
        t0 = self._sample_zero_at()
        start = t0 + self._samples_done / RATE_HZ
        arrived = len(samples)
        if self._canceller is not None and self._reference is not None:
            # asked for a little early, so the echo always lags its reference (causal)
            played = self._played(start, samples)
            mic = samples.astype(np.float32) / 32768.0
            cleaned = self._canceller.process(mic, played)
            if self._linear is not None:
                self._linear.process(mic, played)
            samples = np.clip(np.round(cleaned * 32768.0), -32768, 32767).astype(np.int16)
        if self.gate.mic is not None:
            at = self._on_player_clock(start)
            self.gate.mic.add(at, samples.astype(np.float32) / 32768.0, RATE_HZ)
        self._samples_done += arrived
        end = t0 + self._samples_done / RATE_HZ
        heard_any = False
        for heard in self.recognizer.accept(samples):
            heard_any = True
            self._deliver(heard)
        # stretches with nothing recognized teach the gate how loud the room's echo is
        if heard_any:
            self._quiet_since = end
        elif end - max(self._quiet_since, self._learned_at) >= ECHO_LEARN_SECONDS:
            learn_end = self._on_player_clock(end)
            self.gate.learn_echo(learn_end - ECHO_LEARN_SECONDS, learn_end)
            self._learned_at = end

    def _on_player_clock(self, at: float) -> float:
        """A microphone time as the echo gate must see it, beside what the player sounded.

        The microphone's sample count drifts from the player's clock (echo_delay.py); the
        gate compares heard words with the player's speech and the echo's level with what
        was played, which only works on one clock once the drift has grown past its
        tolerances (0.35 s of tail, 0.25 s of alignment: 30 minutes at 180 ppm).
        """
        tracker = self.echo_delay
        return at if tracker is None else at - tracker.shift(at)

    def _played(self, start: float, samples: npt.NDArray[np.int16]) -> npt.NDArray[np.float32]:
        """The reference for a chunk, moved with the echo's measured delay when followed."""
        assert self._reference is not None
        fetch = start - REFERENCE_LEAD_SECONDS
        tracker = self.echo_delay
        if tracker is None:
            return self._reference(fetch, len(samples))
        tracker.add(start, samples)
        if tracker.due():
            tracker.look(self._reference)
        shift = tracker.shift(start) * RATE_HZ
        return fractional_fetch(self._reference, fetch, len(samples), shift)

    def _deliver(self, heard: Heard) -> None:
        if self._is_player_echo(heard):
            _LOGGER.debug("ignored %r: the player's own voice", heard.text)
            return
        if self._heard_log is not None:
            self._heard_log.write(json.dumps(heard.as_json(), ensure_ascii=False) + "\n")
            self._heard_log.flush()
        try:
            self.heard.put_nowait(heard)
        except queue.Full:
            self.heard.get_nowait()
            self.heard.put_nowait(heard)
        if self.on_heard is not None:
            try:
                self.on_heard(heard)
            except Exception:
                _LOGGER.exception("on_heard callback failed")

    def _report(self, error: AudioDeviceError) -> None:
        _LOGGER.warning("%s", error)
        if self.on_error is not None:
            self.on_error(error)

    # -- --record-dir ---------------------------------------------------------------------
    def _open_recording(self) -> None:
        if self.record_dir is None:
            return
        self.record_dir.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        base = self.record_dir / f"mic-{stamp}"
        n = 1
        while base.with_suffix(".wav").exists():
            n += 1
            base = self.record_dir / f"mic-{stamp}-{n}"
        wav = wave.open(str(base.with_suffix(".wav")), "wb")
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE_HZ)
        self._wav = wav
        self._heard_log = base.with_suffix(".heard.jsonl").open("w", encoding="utf-8")
        self.recording_path: Path | None = base.with_suffix(".wav")

    def _close_recording(self) -> None:
        if self._wav is not None:
            self._wav.close()
            self._wav = None
        if self._heard_log is not None:
            self._heard_log.close()
            self._heard_log = None


def _canceller(kind: str) -> EchoCancelling | None:
    """The echo canceller asked for, or None when it cannot load here (the caller falls back)."""
    try:
        return make_echo_canceller(kind)
    except FloorcoachError as exc:
        _LOGGER.warning("%s; using the NLMS echo canceller", exc)
        return None
