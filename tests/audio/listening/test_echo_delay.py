"""Following the echo's delay: the canceller's reference kept in step with the microphone."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from floorcoach.audio.listening.echo_delay import (
    DelayLook,
    EchoDelayTracker,
    _correlate,
    fractional_fetch,
)
from floorcoach.audio.listening.microphone import MicrophoneListener
from floorcoach.audio.listening.recognizer import Heard
from floorcoach.audio.listening.self_voice import EchoGate, LevelTrack
from floorcoach.audio.speaking.synth import make_synthesizer
from floorcoach.commands import Command, Intent
from recognizer_doubles import KeepingRecognizer

RATE = 16000
PLAYER_LINES = (
    "Lie on your back with both knees bent and your feet flat.",
    "Rest your head on a small pillow or a folded towel.",
    "Slowly draw one knee up toward your chest.",
    "Hold it with both hands, just below the kneecap.",
)


@pytest.fixture(scope="module")
def player() -> np.ndarray:
    """About 80 s of the player's speech with short pauses, as floats."""
    synth = make_synthesizer("espeak", voice="en-us")
    pieces = [np.concatenate([synth.render(t).to_float(), np.zeros(1600)]) for t in PLAYER_LINES]
    return np.concatenate(pieces * 6).astype(np.float64)


def _reference(player: np.ndarray) -> Callable[[float, int], np.ndarray]:
    """What the speaker sounded: the player from time 0 of the listener's clock."""

    def sounded(start: float, count: int) -> np.ndarray:
        out = np.zeros(count, np.float32)
        a = round(start * RATE)
        lo, hi = max(0, a), min(len(player), a + count)
        if hi > lo:
            out[lo - a : hi - a] = player[lo:hi]
        return out

    return sounded


def _echo(player: np.ndarray, delay: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """The player's voice at -10 dB, `delay(t)` seconds late at each time t, in faint noise."""
    t = np.arange(len(player)) / RATE
    src = (t - delay(t)) * RATE
    echo = 0.3 * np.interp(src, np.arange(len(player)), player, left=0, right=0)
    return echo + np.random.default_rng(0).normal(0, 10 ** (-50 / 20), len(player))


def _track(mic: np.ndarray, player: np.ndarray) -> EchoDelayTracker:
    tracker = EchoDelayTracker()
    pcm = np.round(np.clip(mic, -1, 1) * 32767).astype(np.int16)
    reference = _reference(player)
    for i in range(0, len(pcm), 640):
        tracker.add(i / RATE, pcm[i : i + 640])
        if tracker.due():
            tracker.look(reference)
    return tracker


def test_the_delay_is_measured_to_a_fraction_of_a_sample(player: np.ndarray) -> None:
    true_lag = 1234.37
    played = player[16000 : 16000 + 8000 + 24000]
    positions = np.arange(24000) + 8000 - true_lag
    mic = np.interp(positions, np.arange(len(played)), played)
    found = _correlate(mic, played, 8000)
    assert found is not None
    lag, peak = found
    assert abs(lag - true_lag) < 0.15
    assert peak > 0.95


def test_a_drifting_echo_is_followed(player: np.ndarray) -> None:
    drift = 200e-6  # the microphone's clock 200 ppm slow: 16 ms more delay over 80 s
    mic = _echo(player, lambda t: 0.07 + drift * t)
    tracker = _track(mic, player)
    end = len(player) / RATE
    assert tracker.anchor is not None
    assert abs(tracker.anchor - 0.07) < 0.002
    assert len(tracker.looks) >= 8
    assert tracker.rejected == 0
    assert abs(tracker.delay(end) - (0.07 + drift * end)) < 0.0002
    assert tracker.shift(end) == pytest.approx(tracker.delay(end) - tracker.anchor)
    assert tracker.shift(end) > 0.012  # the reference is fetched that much earlier


def test_a_user_talking_over_the_player_does_not_move_the_line(player: np.ndarray) -> None:
    mic = _echo(player, lambda t: 0.09 + 0 * t)
    voice = make_synthesizer("espeak", voice="en-gb-x-rp+f3")
    words = voice.render("that hurts, please stop, pause").to_float().astype(np.float64)
    for at in range(5 * RATE, len(mic) - 3 * RATE, 7 * RATE):  # loud words every 7 s
        mic[at : at + len(words)] += 1.5 * words
    tracker = _track(mic, player)
    assert tracker.looks
    assert all(abs(look.delay - 0.09) < 0.0005 for look in tracker.looks)
    assert abs(tracker.shift(len(player) / RATE)) < 0.0005


def test_with_no_echo_nothing_moves(player: np.ndarray) -> None:
    """Headphones: the microphone hears someone else, never the player."""
    voice = make_synthesizer("espeak", voice="en-gb-x-rp+f3")
    other = np.concatenate([voice.render(t).to_float() for t in PLAYER_LINES[::-1]] * 6)
    mic = np.zeros(len(player))
    mic[: min(len(other), len(mic))] = 0.3 * other[: len(mic)]
    tracker = _track(mic, player)
    assert tracker.anchor is None
    assert not tracker.looks
    assert tracker.shift(10.0) == 0.0


def test_a_changed_echo_path_is_taken_after_two_looks_agree(player: np.ndarray) -> None:
    mic = _echo(player, lambda t: np.where(t < 40, 0.06, 0.10))  # a new latency at 40 s
    tracker = _track(mic, player)
    end = len(player) / RATE
    assert tracker.anchor == pytest.approx(0.06, abs=0.001)
    assert tracker.delay(end) == pytest.approx(0.10, abs=0.0005)
    assert tracker.shift(end) == pytest.approx(0.04, abs=0.001)
    assert tracker.rejected == 1  # the first look at the new delay waited for the second


def test_a_fractional_fetch_is_the_signal_between_samples() -> None:
    t = np.arange(4000) / RATE
    signal = np.sin(2 * np.pi * 1000 * t).astype(np.float32)
    sounded = _reference(signal.astype(np.float64))
    whole = fractional_fetch(sounded, 0.05, 1000, 3.0)
    assert np.array_equal(whole, sounded(0.05 - 3 / RATE, 1000))
    half = fractional_fetch(sounded, 0.05, 1000, 2.5)
    expected = np.sin(2 * np.pi * 1000 * (0.05 + (np.arange(1000) - 2.5) / RATE))
    assert np.max(np.abs(half - expected)) < 0.01
    later = fractional_fetch(sounded, 0.05, 1000, -1.25)  # a shrinking delay: fetched later
    expected = np.sin(2 * np.pi * 1000 * (0.05 + (np.arange(1000) + 1.25) / RATE))
    assert np.max(np.abs(later - expected)) < 0.01


class _SpyCanceller:
    """Keeps what the listener hands the canceller, passes the microphone through."""

    def __init__(self) -> None:
        self.mic: list[np.ndarray] = []
        self.reference: list[np.ndarray] = []

    def process(self, mic: np.ndarray, reference: np.ndarray) -> np.ndarray:
        self.mic.append(np.asarray(mic, np.float64))
        self.reference.append(np.asarray(reference, np.float64))
        return np.asarray(mic, np.float64)


@pytest.mark.parametrize("follow", [True, False])
def test_the_canceller_sees_a_steady_delay_when_followed(player: np.ndarray, follow: bool) -> None:
    drift = 300e-6
    mic = _echo(player, lambda t: 0.08 + drift * t)
    reference = _reference(player)
    listener = MicrophoneListener(
        KeepingRecognizer(), reference=reference, echo_cancel="nlms", follow_echo_delay=follow
    )
    spy = _SpyCanceller()
    listener._canceller = spy
    listener._first_block_at = 0.0
    pcm = np.round(mic * 32767).astype(np.int16)
    for i in range(0, len(pcm), 640):
        listener.process(pcm[i : i + 640])
    got_mic, got_ref = np.concatenate(spy.mic), np.concatenate(spy.reference)

    def delay_at(second: float) -> float:
        a = round(second * RATE)
        found = _correlate(got_mic[a : a + 2 * RATE], got_ref[a - 8000 : a + 2 * RATE], 8000)
        assert found is not None
        return found[0] / RATE

    early, late = delay_at(30.0), delay_at(len(player) / RATE - 5.0)  # line fitted by 30 s
    moved = late - early
    if follow:
        assert abs(moved) < 0.0003  # the canceller sees one echo path throughout
        assert listener.echo_delay is not None
        assert listener.echo_delay.looks
    else:
        assert moved == pytest.approx(drift * (len(player) / RATE - 35.0), abs=0.0005)
        assert listener.echo_delay is None


class _SpyGate(EchoGate):
    """The real gate, keeping the times it is asked about."""

    def __init__(self) -> None:
        super().__init__(mic=LevelTrack(), played=LevelTrack())
        self.asked: list[tuple[float, float]] = []

    def verdict(self, start: float, end: float, *args: object, **kwargs: object) -> str | None:
        self.asked.append((start, end))
        return None


def test_the_echo_gate_sees_the_microphone_on_the_players_clock() -> None:
    """After 30 minutes at 180 ppm the echo comes 0.3 s later than at the start: the gate,
    which matches heard words with the player's speech, must see them where they belong."""
    gate = _SpyGate()
    listener = MicrophoneListener(
        KeepingRecognizer(),
        reference=lambda start, count: np.zeros(count, np.float32),
        echo_cancel="nlms",
        gate=gate,
    )
    tracker = listener.echo_delay
    assert tracker is not None
    drift = 180e-6
    for at in (1000.0, 1010.0, 1020.0):  # 180 ppm, as on the benchmark's loopback
        tracker._take(DelayLook(at, 0.07 + drift * (at - 1000.0), 0.9))
    late = 1000.0 + 0.3 / drift  # 28 minutes on
    assert tracker.shift(late) == pytest.approx(0.3)
    listener._first_block_at = 0.0
    heard = Heard(Intent(Command.PAUSE), "pause", late, late + 0.5, 1.0, "test")
    listener._is_player_echo(heard)
    start, end = gate.asked[-1]
    assert start == pytest.approx(late - 0.3, abs=1e-6)
    assert end == pytest.approx(late + 0.5 - 0.3 - drift * 0.5, abs=1e-6)
    # the microphone's level track too: a chunk heard at `late` is placed 0.3 s earlier
    listener._samples_done = round(late * RATE)
    listener.process(np.full(640, 1000, np.int16))
    at = listener._samples_done / RATE - 0.04
    assert gate.mic is not None
    assert gate.mic.energy(at - 0.3, at - 0.26) > 0.0
    assert gate.mic.energy(at, at + 0.04) == 0.0


def test_a_reference_that_answers_short_is_padded_not_fatal(player: np.ndarray) -> None:
    """Near its end (or from a stand-in) the reference may give fewer samples than asked."""
    tracker = EchoDelayTracker()
    pcm = np.round(0.3 * player[: 2 * RATE] * 32767).astype(np.int16)
    tracker.add(0.0, pcm)

    def short(start: float, count: int) -> np.ndarray:
        return player[: count // 3].astype(np.float32)

    assert tracker.due()
    tracker.look(short)  # no exception; whatever it measures is on the padded signal
    got = fractional_fetch(short, 1.0, 640, 2.5)
    assert len(got) == 640
