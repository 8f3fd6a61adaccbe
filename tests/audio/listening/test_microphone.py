"""The microphone listener on the PulseAudio virtual mic, and its queue rules without a device."""

from __future__ import annotations

import json
import threading
import time
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from floorcoach.audio.listening.microphone import QUIET_BATCH_CHUNKS, MicrophoneListener
from floorcoach.audio.listening.recognizer import Heard
from floorcoach.audio.listening.sphinx_recognizer import SphinxRecognizer
from floorcoach.audio.pcm import RATE_HZ, read_wav
from floorcoach.commands import Command, Intent
from floorcoach.errors import AudioDeviceError
from speech_fixtures import ESPEAK, espeak, stream
from virtual_audio import VirtualAudio

needs_espeak = pytest.mark.skipif(ESPEAK is None, reason="espeak-ng is not installed")


class Slow:
    """A recognizer that takes its time, to fill the queue."""

    engine = "slow"
    description = "slow"

    def __init__(self) -> None:
        self.seen = 0

    def accept(self, samples: np.ndarray) -> list[Heard]:
        self.seen += len(samples)
        return []

    def flush(self) -> list[Heard]:
        return []

    def reset(self) -> None:
        self.seen = 0


def test_full_queue_drops_the_oldest_and_counts() -> None:
    listener = MicrophoneListener(Slow(), queue_chunks=3)
    for i in range(5):
        listener._callback(bytes([i]) * 4, 2, None, None)
    assert listener.dropped_chunks == 2
    assert listener.pending_chunks == 3
    assert [listener._chunks.popleft()[0] for _ in range(3)] == [2, 3, 4]
    listener._callback(b"\0\0", 1, None, "input overflow")
    assert listener.status_flags == 1


class Recording(Slow):
    """A recognizer that keeps every sample it is given, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.samples: list[int] = []

    def accept(self, samples: np.ndarray) -> list[Heard]:
        self.samples.extend(int(x) for x in samples)
        return super().accept(samples)


def test_the_worker_takes_every_chunk_in_order_however_the_wake_ups_fall() -> None:
    # Chunks arrive in bursts and one at a time, while the worker is busy and while it
    # waits: a wake-up signalled twice before the worker runs must not lose a chunk.
    recognizer = Recording()
    listener = MicrophoneListener(recognizer, queue_chunks=1000)
    worker = threading.Thread(target=listener._work, daemon=True)
    worker.start()
    sent: list[int] = []
    for burst in range(40):
        for _ in range(1 + burst % 4):
            chunk = np.arange(len(sent), len(sent) + 4, dtype=np.int16)
            sent.extend(int(x) for x in chunk)
            listener._callback(chunk.tobytes(), len(chunk), None, None)
        time.sleep(0.002 * (burst % 3))
    deadline = time.monotonic() + 10.0
    while len(recognizer.samples) < len(sent) and time.monotonic() < deadline:
        time.sleep(0.01)
    listener._stop.set()
    worker.join(timeout=5.0)
    assert not worker.is_alive(), "the worker did not stop"
    assert recognizer.samples == sent
    assert listener.pending_chunks == 0
    assert listener.dropped_chunks == 0


class Listening(Recording):
    """A recording recognizer that says whether it is inside speech."""

    in_speech = False


def test_while_nobody_speaks_every_second_chunk_wakes_the_worker() -> None:
    listener = MicrophoneListener(Listening())
    listener._wake_after = QUIET_BATCH_CHUNKS
    listener._callback(b"\1\0" * 4, 4, None, None)
    assert listener._arrived.locked(), "woken for a single chunk while nobody speaks"
    listener._callback(b"\2\0" * 4, 4, None, None)
    assert not listener._arrived.locked(), "two chunks waiting and the worker not woken"
    listener._wake_after = 1
    listener._arrived.acquire()
    listener._callback(b"\3\0" * 4, 4, None, None)
    assert not listener._arrived.locked(), "inside speech every chunk must wake the worker"


def test_the_worker_batches_only_outside_speech_and_never_strands_a_chunk() -> None:
    recognizer = Listening()
    listener = MicrophoneListener(recognizer)
    worker = threading.Thread(target=listener._work, daemon=True)
    worker.start()

    def send(*values: int) -> None:
        for value in values:
            listener._callback(np.full(4, value, np.int16).tobytes(), 4, None, None)

    def soon(condition: Callable[[], bool]) -> bool:
        deadline = time.monotonic() + 5.0
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.01)
        return condition()

    send(1, 2)
    assert soon(lambda: len(recognizer.samples) == 8)
    assert soon(lambda: listener._wake_after == QUIET_BATCH_CHUNKS)
    send(3)  # half a batch: taken at the next poll (0.1 s), not left behind
    assert soon(lambda: len(recognizer.samples) == 12)
    recognizer.in_speech = True
    send(4, 5)
    assert soon(lambda: listener._wake_after == 1)
    listener._stop.set()
    worker.join(timeout=5.0)
    assert recognizer.samples == [v for v in (1, 2, 3, 4, 5) for _ in range(4)]


def test_the_recognizer_says_when_it_is_inside_speech() -> None:
    recognizer = SphinxRecognizer()
    rng = np.random.default_rng(3)
    quiet = (rng.standard_normal(RATE_HZ) * 30).astype(np.int16)
    recognizer.accept(quiet)
    assert not recognizer.in_speech
    t = np.arange(RATE_HZ // 4) / RATE_HZ
    loud = (np.sin(2 * np.pi * 300 * t) * 8000).astype(np.int16)
    recognizer.accept(loud)
    assert recognizer.in_speech
    recognizer.accept(quiet)
    assert not recognizer.in_speech


def test_player_echo_is_dropped_but_safety_words_of_the_user_pass() -> None:
    got: list[Heard] = []
    listener = MicrophoneListener(Slow(), on_heard=got.append)
    t0 = listener._stream_t0 = 100.0
    listener.note_player_speech(t0 + 1.0, t0 + 4.0, "Next is the bridge. Stop if it hurts.")

    def heard(text: str, command: Command, start: float) -> Heard:
        return Heard(Intent(command=command), text, start, start + 0.4, 0.9, "test")

    listener._deliver(heard("next", Command.NEXT, 1.5))  # the player's own word
    listener._deliver(heard("help", Command.HELP, 2.0))  # over the player: not trusted
    listener._deliver(heard("pause", Command.PAUSE, 2.2))  # barge-in: passes
    listener._deliver(heard("that hurts", Command.PAIN, 2.5))  # the user, safety: passes
    listener._deliver(heard("next", Command.NEXT, 6.0))  # after the player stopped
    assert [(h.text, h.start) for h in got] == [
        ("pause", 2.2),
        ("that hurts", 2.5),
        ("next", 6.0),
    ]
    assert listener.heard.qsize() == 3


@pytest.mark.audio
def test_unknown_device_is_one_clear_error(virtual_audio: VirtualAudio) -> None:
    listener = MicrophoneListener(Slow(), device="no such microphone")
    with pytest.raises(AudioDeviceError) as info:
        listener.start()
    assert "no such microphone" in str(info.value)
    assert "\n" not in str(info.value)
    assert not listener.retry()


@pytest.mark.audio
@needs_espeak
@pytest.mark.parametrize("device", [None, "pulse"])
def test_commands_spoken_into_the_virtual_mic_are_heard(
    virtual_audio: VirtualAudio, tmp_path: Path, device: str | None
) -> None:
    # words this recognizer hears reliably (12/12 offline through a 44.1 kHz round trip);
    # its accuracy on harder words is measured by scripts/bench_commands, not asserted here
    said = ["resume", "how long", "that hurts"]
    # generous gaps: the VAD measures the room first, and no two words share a segment
    audio, _ = stream([espeak(t, tmp_path) for t in said], gap_seconds=1.5)
    wav_path = tmp_path / "said.wav"
    with wave.open(str(wav_path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE_HZ)
        wav.writeframes(audio.astype("<i2").tobytes())
    got: list[Heard] = []
    listener = MicrophoneListener(
        SphinxRecognizer(), on_heard=got.append, device=device, record_dir=tmp_path / "rec"
    )
    listener.start()
    try:
        assert listener.running
        # 40 ms blocks: half the wake-ups of 20 ms (issue 19)
        assert listener._stream.blocksize == round(listener.device_rate_hz * 0.04)
        player = virtual_audio.play_into_mic(wav_path)
        assert player.wait(timeout=20) == 0
        deadline = time.monotonic() + 3.0
        while len(got) < len(said) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        listener.stop()
    assert listener.dropped_chunks == 0
    # --record-dir kept what the microphone heard; the same recognizer on that file finds
    # exactly what the live listener delivered, at the same times (nothing lost or late).
    [recording] = sorted((tmp_path / "rec").glob("mic-*.wav"))
    assert read_wav(recording).seconds >= len(audio) / RATE_HZ - 0.5
    offline = SphinxRecognizer()
    samples = read_wav(recording).samples
    again = offline.accept(samples) + offline.flush()
    assert [(h.text, round(h.start, 2)) for h in got] == [
        (h.text, round(h.start, 2)) for h in again
    ]
    # One command per word spoken, each the right one, the safety phrase last.
    assert [h.text for h in got] == said
    assert got[-1].intent == Intent(command=Command.PAIN)
    lines = recording.with_suffix(".heard.jsonl").read_text().splitlines()
    assert [json.loads(line)["command"] for line in lines] == [h.intent.value for h in got]


@pytest.mark.audio
def test_a_reopened_stream_measures_the_echo_delay_afresh(virtual_audio: VirtualAudio) -> None:
    """The microphone's timeline restarts with the stream, so the old delay line is wrong."""
    listener = MicrophoneListener(
        Slow(), reference=lambda start, count: np.zeros(count, np.float32), echo_cancel="nlms"
    )
    assert listener.echo_delay is not None
    listener.echo_delay.anchor = 0.07  # as if measured on the first stream
    listener.start()
    try:
        assert listener.retry()
        assert listener.echo_delay is not None
        assert listener.echo_delay.anchor is None
        assert listener.echo_delay.shift(1.0) == 0.0
    finally:
        listener.stop()


@pytest.mark.audio
def test_retry_reopens_after_stop(virtual_audio: VirtualAudio) -> None:
    listener = MicrophoneListener(Slow())
    listener.start()
    try:
        assert listener.running
        assert listener.retry()
        assert listener.running
        time.sleep(0.3)
    finally:
        listener.stop()
    assert not listener.running


def test_the_recognizer_is_told_when_the_player_was_talking() -> None:
    """The listener hands a recognizer that asks (`set_player_talking`) its own test, on the
    recognizer's stream clock, so segments said over the player get the over-player grammar."""

    class Asking(Slow):
        def set_player_talking(self, talking: Callable[[float, float], bool]) -> None:
            self.talking = talking

    recognizer = Asking()
    listener = MicrophoneListener(recognizer)
    t0 = listener._stream_t0 = 100.0
    listener.note_player_speech(t0 + 1.0, t0 + 4.0, "Next is the bridge.")
    assert recognizer.talking(2.0, 2.4)
    assert recognizer.talking(4.2, 4.6)  # the echo's tail still counts
    assert not recognizer.talking(5.0, 5.4)
    assert not recognizer.talking(0.2, 0.6)
