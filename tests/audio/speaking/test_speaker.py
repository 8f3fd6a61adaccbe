"""The speaker plays at the scheduled times, stops within a buffer, and knows what it says.

Device tests play through PortAudio into the PulseAudio virtual speaker and record its
monitor. Times are derived from audio samples: each captured sample is mapped onto the
monotonic clock by counting samples from the capture's start (`MonitorCapture`).
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from floorcoach.audio.pcm import RATE_HZ, Pcm, read_wav
from floorcoach.audio.speaking.cues import Cue, render_cue
from floorcoach.audio.speaking.device_speaker import CLOCK_WINDOW_BLOCKS, DeviceSpeaker
from floorcoach.audio.speaking.file_speaker import FileSpeaker
from floorcoach.audio.speaking.playback import Playback
from floorcoach.audio.speaking.speaker import Played, Speaker
from floorcoach.audio.speaking.synth import Pyttsx3Synthesizer
from virtual_audio import SPEAKER_MONITOR, VirtualAudio

CAPTURE_RATE_HZ = 16_000
MAX_OFFSET_SECONDS = 0.1
"""The issue's bound for both start offsets and stop latency."""


class MonitorCapture:
    """Records the virtual speaker's monitor, mapping every sample to the monotonic clock.

    parec delivers samples no earlier than they were captured, so the smallest
    (arrival time - samples so far / rate) over all reads is the capture clock's origin,
    accurate to the fastest delivery (about one 10 ms fragment).
    """

    def __init__(self, env: dict[str, str]) -> None:
        self._lock = threading.Lock()
        self._chunks: list[bytes] = []
        self._count = 0
        self._origin = float("inf")
        self._process = subprocess.Popen(
            [
                "parec",
                f"--device={SPEAKER_MONITOR}",
                f"--rate={CAPTURE_RATE_HZ}",
                "--channels=1",
                "--format=s16le",
                "--raw",
                "--latency-msec=10",
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
        )
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 5.0
        while self.samples_so_far() < CAPTURE_RATE_HZ * 0.1:
            assert time.monotonic() < deadline, "parec delivered no audio from the monitor"
            time.sleep(0.01)

    def _read(self) -> None:
        assert self._process.stdout is not None
        pending = b""
        while True:
            data = os.read(self._process.stdout.fileno(), 65536)
            if not data:
                return
            arrived = time.monotonic()
            pending += data
            usable = len(pending) // 2 * 2
            with self._lock:
                self._chunks.append(pending[:usable])
                self._count += usable // 2
                self._origin = min(self._origin, arrived - self._count / CAPTURE_RATE_HZ)
            pending = pending[usable:]

    def samples_so_far(self) -> int:
        with self._lock:
            return self._count

    def stop(self) -> tuple[npt.NDArray[np.float64], float]:
        """All samples as floats in [-1, 1), and the monotonic time of sample 0."""
        self._process.terminate()
        self._process.wait(timeout=5)
        self._thread.join(timeout=5)
        with self._lock:
            data = b"".join(self._chunks)
            origin = self._origin
        return np.frombuffer(data, dtype="<i2").astype(np.float64) / 32768.0, origin


def locate(
    capture: npt.NDArray[np.float64], ref: npt.NDArray[np.float64], lo: int, hi: int
) -> tuple[int, float]:
    """Where `ref` starts in capture[lo:hi] (normalized cross-correlation peak), and its score."""
    lo = max(0, lo)
    segment = capture[lo : min(len(capture), hi + len(ref))]
    n_fft = 1 << int(np.ceil(np.log2(len(segment) + len(ref))))
    corr = np.fft.irfft(np.fft.rfft(segment, n_fft) * np.conj(np.fft.rfft(ref, n_fft)), n_fft)
    corr = corr[: len(segment) - len(ref) + 1]
    energy = np.sqrt(np.convolve(segment**2, np.ones(len(ref)), "valid") * np.sum(ref**2))
    score = corr / (energy + 1e-12)
    best = int(np.argmax(score))
    return lo + best, float(score[best])


def loud_windows(x: npt.NDArray[np.float64], window: int, threshold: float) -> npt.NDArray[Any]:
    usable = x[: len(x) // window * window].reshape(-1, window)
    return np.sqrt(np.mean(usable**2, axis=1)) > threshold


def tone(freq_hz: float, seconds: float, level: float = 0.3) -> Pcm:
    t = np.arange(round(seconds * RATE_HZ)) / RATE_HZ
    return Pcm(np.round(level * 32767 * np.sin(2 * np.pi * freq_hz * t)).astype(np.int16))


@pytest.fixture(scope="module")
def speaker(virtual_audio: VirtualAudio) -> Iterator[DeviceSpeaker]:
    """One stream for the module, as for a session."""
    device_speaker = DeviceSpeaker()
    yield device_speaker
    device_speaker.close()


@pytest.fixture
def monitor(virtual_audio: VirtualAudio) -> MonitorCapture:
    return MonitorCapture(virtual_audio.env)


@pytest.fixture(scope="module")
def phrases() -> dict[str, Pcm]:
    synth = Pyttsx3Synthesizer()
    return {text: synth.render(text) for text in ("one", "two", "three", "hold", "and relax")}


def test_device_speaker_is_a_speaker(speaker: DeviceSpeaker) -> None:
    assert isinstance(speaker, Speaker)
    assert speaker.latency == pytest.approx(0.1, abs=0.02)
    assert speaker.rate_hz > 0
    # 40 ms blocks, not the ~5 ms PortAudio picks by itself (8x the wake-ups: issue 19)
    assert speaker._stream.blocksize == round(speaker.rate_hz * 0.04)


def test_speech_is_heard_at_the_scheduled_times(
    speaker: DeviceSpeaker, monitor: MonitorCapture, phrases: dict[str, Pcm]
) -> None:
    done: list[tuple[int, bool, str]] = []

    def on_done(playback_id: int, interrupted: bool) -> None:
        done.append((playback_id, interrupted, threading.current_thread().name))

    schedule: dict[str, float] = {}
    t_next = time.monotonic() + 0.3  # scheduled ahead of the output latency
    for text, pcm in phrases.items():
        schedule[text] = t_next
        t_next += pcm.seconds + 0.2  # gaps of 0.2 s, like counting
    ids = {text: speaker.play(phrases[text], text, on_done, at=t) for text, t in schedule.items()}
    assert speaker.wait_idle(timeout_seconds=10.0)
    time.sleep(0.15)
    capture, origin = monitor.stop()

    history = {p.id: p for p in speaker.history()}
    for text, t_scheduled in schedule.items():
        played = history[ids[text]]
        assert played.label == text
        assert not played.interrupted
        assert played.started_at == pytest.approx(t_scheduled, abs=0.002)
        expected = round((t_scheduled - origin) * CAPTURE_RATE_HZ)
        window = round(0.3 * CAPTURE_RATE_HZ)
        ref = phrases[text].to_float().astype(np.float64)
        found, score = locate(capture, ref, expected - window, expected + window)
        heard_at = origin + found / CAPTURE_RATE_HZ
        heard = capture[found : found + len(ref)]
        assert score > 0.8, f"{text!r} not found in the capture (score {score:.2f})"
        assert np.sqrt(np.mean(heard**2)) > 0.02, f"{text!r} was silent"
        assert abs(heard_at - t_scheduled) <= MAX_OFFSET_SECONDS, (text, heard_at - t_scheduled)
        # The speaker's own account (what the listener uses) matches what was heard.
        assert abs(heard_at - played.started_at) <= 0.05, (text, heard_at - played.started_at)
        assert played.ended_at - played.started_at == pytest.approx(
            phrases[text].seconds, abs=0.001
        )
    assert sorted(d[0] for d in done) == sorted(ids.values())
    assert all(not interrupted for _, interrupted, _ in done)
    assert {name for _, _, name in done} == {"floorcoach-speaker-notify"}


def test_stop_silences_within_one_buffer(speaker: DeviceSpeaker, monitor: MonitorCapture) -> None:
    done: dict[int, bool] = {}
    done_event = threading.Event()

    def on_done(playback_id: int, interrupted: bool) -> None:
        done[playback_id] = interrupted
        if len(done) == 2:
            done_event.set()

    long_tone = tone(440.0, 3.0)
    first = speaker.play(long_tone, "long tone", on_done)
    queued = speaker.play(tone(880.0, 1.0), "queued tone", on_done)
    deadline = time.monotonic() + 2.0
    while (playing := speaker.now_playing()) is None or time.monotonic() < playing.started_at + 0.6:
        assert time.monotonic() < deadline, "the tone never started"
        time.sleep(0.005)
    assert playing.id == first
    assert playing.label == "long tone"
    assert playing.expected_end == pytest.approx(playing.started_at + 3.0, abs=0.001)
    t_stop = time.monotonic()
    speaker.stop()
    assert speaker.now_playing() is None
    assert done_event.wait(1.0)
    assert done == {first: True, queued: True}
    time.sleep(0.4)
    capture, origin = monitor.stop()

    window = round(0.005 * CAPTURE_RATE_HZ)
    loud = loud_windows(capture, window, threshold=0.01)
    loud_times = origin + (np.flatnonzero(loud) + 1) * window / CAPTURE_RATE_HZ
    assert len(loud_times) > 0, "the tone was never heard"
    silent_after = loud_times.max()
    assert silent_after - t_stop <= MAX_OFFSET_SECONDS, (
        f"sound went on {silent_after - t_stop:.3f} s"
    )
    # It really was playing until the stop: heard within 50 ms before stop().
    assert silent_after > t_stop - 0.05
    played = {p.id: p for p in speaker.history()}
    assert played[first].interrupted
    assert played[first].ended_at == pytest.approx(t_stop, abs=0.01)
    assert queued not in played  # never reached the device


def test_now_playing_follows_the_audio(speaker: DeviceSpeaker) -> None:
    beat = render_cue(Cue.BEAT)
    start = time.monotonic() + 0.25
    playback_id = speaker.play(beat, "cue:beat", at=start)
    early = speaker.now_playing()
    assert early is None or early.id != playback_id
    seen: list[int] = []
    deadline = start + 1.0
    while time.monotonic() < deadline:
        playing = speaker.now_playing()
        if playing is not None:
            seen.append(playing.id)
            assert playing.started_at == pytest.approx(start, abs=0.002)
            assert playing.expected_end == pytest.approx(start + beat.seconds, abs=0.001)
        time.sleep(0.005)
    assert playback_id in seen
    assert speaker.now_playing() is None
    last: Played = speaker.history()[-1]
    assert (last.id, last.label, last.interrupted) == (playback_id, "cue:beat", False)


def test_playbacks_follow_each_other_to_the_sample_while_python_is_busy(
    speaker: DeviceSpeaker,
) -> None:
    # Another thread running Python makes the audio callback wait for the GIL (up to 5 ms):
    # a start time read from the clock in the callback would move with that wait, and even
    # PortAudio's DAC time moves by a millisecond or two when the suite loads both cores.
    # Each 0.2 s tone fills five 40 ms blocks, so the next one begins the very next block:
    # the stream carries on sample for sample, and its record must say so exactly.
    stop = threading.Event()

    def busy() -> None:
        while not stop.is_set():
            sum(i * i for i in range(2000))

    worker = threading.Thread(target=busy, daemon=True)
    worker.start()
    try:
        ids = [speaker.play(tone(400.0 + 100 * i, 0.2), f"t{i}") for i in range(8)]
        assert speaker.wait_idle(timeout_seconds=5.0)
    finally:
        stop.set()
        worker.join()
    history = {p.id: p for p in speaker.history()}
    gaps = [history[b].started_at - history[a].ended_at for a, b in itertools.pairwise(ids)]
    assert max(abs(gap) for gap in gaps) < 1e-6, [f"{1000 * g:.3f} ms" for g in gaps]


class _Stamp:
    """PortAudio's time stamps of one block."""

    def __init__(self, dac: float) -> None:
        self.outputBufferDacTime = dac
        self.currentTime = dac - 0.1


class _Flags:
    def __init__(self, underflow: bool) -> None:
        self.output_underflow = underflow
        self.output_overflow = False

    def __bool__(self) -> bool:
        return self.output_underflow


def test_a_playback_that_begins_the_next_block_starts_where_the_last_one_ended() -> None:
    # Unless the device ran dry in between (an underflow is a gap of silence).
    class Notifier:
        def submit(self, item: object) -> None:
            pass

    speaker = DeviceSpeaker.__new__(DeviceSpeaker)
    speaker.__dict__.update(
        _last_callback_at=0.0, callbacks=1, underflows=0, overflows=0, latency_seconds=0.1,
        rate_hz=1000, _lock=threading.Lock(), _queue=deque(), _current=None,
        _history=deque(), _follows=None, _notifier=Notifier(),
        _offsets=deque(maxlen=CLOCK_WINDOW_BLOCKS),
    )  # fmt: skip
    block = np.zeros((10, 1), np.float32)

    def play(label: str) -> Playback:
        item = Playback(len(speaker._history), label, np.ones(10, np.float32), 1000, None, None)
        speaker._queue.append(item)
        return item

    first, second = play("first"), play("second")
    speaker._callback(block, 10, _Stamp(100.0), _Flags(False))
    # the next block's stamp is 0.3 ms off, as a loaded machine's are
    speaker._callback(block, 10, _Stamp(100.0103), _Flags(False))
    assert first.started_at is not None
    assert first.ended_at == pytest.approx(first.started_at + 0.01)
    assert second.started_at == first.ended_at
    third = play("third")
    speaker._callback(block, 10, _Stamp(100.0303), _Flags(True))
    assert third.started_at != second.ended_at  # after a gap: placed by the stamp


def test_the_block_clock_ignores_a_late_callback_and_follows_a_clock_step() -> None:
    speaker = DeviceSpeaker.__new__(DeviceSpeaker)
    speaker._offsets = deque(maxlen=CLOCK_WINDOW_BLOCKS)
    rng = np.random.default_rng(5)
    offset = 1234.5
    lateness = rng.uniform(0.0, 0.005, 200)
    lateness[::10] = 0.0001  # now and then the callback runs at once
    got = [speaker._clock_offset(offset + late) for late in lateness]
    assert max(abs(g - offset) for g in got[10:]) <= 0.0001
    # PortAudio's clock (the wall clock) steps back and forth by a second: followed at once
    assert speaker._clock_offset(offset + 1.0) == pytest.approx(offset + 1.0)
    assert speaker._clock_offset(offset - 1.0) == pytest.approx(offset - 1.0)


def test_play_converts_rates_and_queues_in_order(speaker: DeviceSpeaker) -> None:
    at_8k = Pcm(tone(500.0, 0.2).samples[::2], 8000)
    a = speaker.play(at_8k, "a")
    b = speaker.play(render_cue(Cue.START), "b")
    assert speaker.wait_idle(timeout_seconds=3.0)
    history = {p.id: p for p in speaker.history()}
    assert history[a].ended_at - history[a].started_at == pytest.approx(0.2, abs=0.001)
    assert history[b].started_at == pytest.approx(history[a].ended_at, abs=0.001)
    assert speaker.pending() == 0


def test_audio_of_old_playbacks_is_let_go_and_their_record_kept(
    speaker: DeviceSpeaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    import floorcoach.audio.speaking.device_speaker as device_speaker

    first = speaker.play(tone(500.0, 0.2), "first")
    assert speaker.wait_idle(timeout_seconds=3.0)
    [kept] = [i for i in speaker._history if i.id == first]
    assert len(kept.samples) > 0
    assert kept.reference is not None
    # the echo canceller still asks for what just sounded: nothing let go yet
    speaker.play(tone(600.0, 0.05), "second")
    assert len(kept.samples) > 0
    assert kept.reference is not None
    assert speaker.wait_idle(timeout_seconds=3.0)
    monkeypatch.setattr(device_speaker, "RELEASE_AFTER_SECONDS", 0.0)
    speaker.play(tone(700.0, 0.05), "third")
    assert len(kept.samples) == 0
    assert kept.reference is None
    played = {p.id: p for p in speaker.history()}[first]
    assert played.ended_at - played.started_at == pytest.approx(0.2, abs=0.001)
    assert not speaker.sounded(played.started_at, 1600).any()  # nothing left to give
    assert speaker.wait_idle(timeout_seconds=3.0)


# ------------------------------------------------------------------ FileSpeaker


def test_file_speaker_places_audio_at_the_exact_sample(tmp_path: Path) -> None:
    speaker = FileSpeaker()
    click = Pcm(np.full(160, 1000, dtype=np.int16))
    speaker.play_at(click, 0.5, "a")
    speaker.play_at(click, 1.23456, "b")
    speaker.play_at(click, 1.23456, "c")  # overlapping audio is mixed
    samples = speaker.pcm().samples
    nonzero = np.flatnonzero(samples)
    assert nonzero[0] == 8000
    assert np.all(samples[8000:8160] == 1000)
    second = round(1.23456 * RATE_HZ)
    assert np.all(samples[second : second + 160] == 2000)
    assert samples[second - 1] == 0
    assert len(samples) == second + 160

    path = speaker.write(tmp_path / "out.wav")
    back = read_wav(path)
    assert np.array_equal(back.samples[: len(samples)], samples)
    assert back.seconds == pytest.approx(len(samples) / RATE_HZ + 0.2)


def test_file_speaker_mixing_clips_instead_of_wrapping() -> None:
    speaker = FileSpeaker()
    loud = Pcm(np.full(10, 30000, dtype=np.int16))
    speaker.play_at(loud, 0.0, "a")
    speaker.play_at(loud, 0.0, "b")
    assert np.all(speaker.pcm().samples == 32767)


def test_file_speaker_stop_at_truncates_and_discards() -> None:
    speaker = FileSpeaker()
    calls: list[tuple[int, bool]] = []

    def on_done(playback_id: int, interrupted: bool) -> None:
        calls.append((playback_id, interrupted))

    speech = tone(300.0, 2.0)
    first = speaker.play_at(speech, 1.0, "long", on_done)
    later = speaker.play_at(speech, 4.0, "later", on_done)
    speaker.stop_at(2.0)
    samples = speaker.pcm().samples
    assert len(samples) == 2 * RATE_HZ
    assert np.any(samples[RATE_HZ : 2 * RATE_HZ - 100] != 0)
    assert abs(int(samples[-1])) < 100  # faded, not clipped off mid-wave
    assert calls == [(first, True), (later, True)]
    assert [(p.id, p.started_at, p.ended_at, p.interrupted) for p in speaker.history()] == [
        (first, 1.0, 2.0, True)
    ]
    assert speaker.now_playing(1.5) == speaker.now_playing(1.999)
    assert speaker.now_playing(2.0) is None


def test_file_speaker_play_queues_like_the_device_and_fires_done_on_advance() -> None:
    now = [0.0]
    speaker = FileSpeaker(clock=lambda: now[0])
    assert isinstance(speaker, Speaker)
    calls: list[tuple[int, bool]] = []
    cue = render_cue(Cue.START)
    one = tone(400.0, 1.0)
    a = speaker.play(one, "a", lambda i, x: calls.append((i, x)))
    b = speaker.play(cue, "b", lambda i, x: calls.append((i, x)))
    c = speaker.play(one, "c", lambda i, x: calls.append((i, x)), at=5.0)
    history = {p.id: p for p in speaker.history()}
    assert history[b].started_at == pytest.approx(1.0)
    assert history[c].started_at == pytest.approx(5.0)
    playing = speaker.now_playing(1.1)
    assert playing is not None
    assert (playing.id, playing.label) == (b, "b")
    speaker.advance_to(1.0)
    assert calls == [(a, False)]
    now[0] = 5.5
    speaker.stop()
    assert calls == [(a, False), (c, True)]
    speaker.advance_to(10.0)
    assert calls == [(a, False), (c, True), (b, False)]


def test_file_speaker_without_clock_needs_times() -> None:
    with pytest.raises(ValueError, match="explicit times"):
        FileSpeaker().play(tone(300.0, 0.1), "x")


_DEVICE_LOST_SCRIPT = """
import sys, threading, time
sys.path.insert(0, sys.argv[1])
from virtual_audio import VirtualAudio, _kill_daemon
import numpy as np
audio = VirtualAudio()
audio.start()
try:
    from floorcoach.audio.pcm import Pcm
    from floorcoach.audio.speaking.device_speaker import DeviceSpeaker
    from floorcoach.errors import AudioDeviceError
    lost = threading.Event()
    done = []
    speaker = DeviceSpeaker(on_device_lost=lambda reason: (print("lost:", reason), lost.set()))
    speaker.play(Pcm(np.full(5 * 16000, 1000, np.int16)), "long", lambda i, x: done.append(x))
    time.sleep(0.3)
    _kill_daemon(audio.runtime_dir)
    print("noticed:", lost.wait(5.0))
    time.sleep(0.1)
    print("done:", done)
    try:
        speaker.play(Pcm(np.zeros(10, np.int16)), "after")
    except AudioDeviceError as exc:
        print("play:", exc)
    speaker.close()
finally:
    audio.stop()
"""


def test_lost_device_is_reported_not_raised_mid_session() -> None:
    """The sound server dies mid-phrase (a private one, not the shared fixture's)."""
    done = subprocess.run(
        [sys.executable, "-c", _DEVICE_LOST_SCRIPT, str(Path(__file__).parents[2])],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    message = "the speaker 'default' stopped working; speech will be printed instead"
    assert lines == [
        f"lost: {message}",
        "noticed: True",
        "done: [True]",
        f"play: {message}",
    ]
    assert "Traceback" not in done.stderr


def test_say_plays_on_the_virtual_speaker(
    virtual_audio: VirtualAudio,
    monitor: MonitorCapture,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from floorcoach.cli import main

    monkeypatch.setenv("FLOORCOACH_CACHE_DIR", str(tmp_path))
    assert main(["say", "Breathe out", "--backend", "espeak", "--cue", "beat"]) == 0
    capture, _origin = monitor.stop()
    window = round(0.01 * CAPTURE_RATE_HZ)
    assert loud_windows(capture, window, threshold=0.01).sum() * 0.01 > 0.5
