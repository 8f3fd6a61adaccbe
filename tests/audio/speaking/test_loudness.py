"""K-weighted gated loudness: the standard's reference points, and leveling to a target."""

from __future__ import annotations

import numpy as np
import pytest

from floorcoach.audio.pcm import Pcm, float_to_int16
from floorcoach.audio.speaking.loudness import SILENT_LUFS, level_to, loudness_lufs

RATE = 16000


def _sine(freq_hz: float, amplitude: float, seconds: float = 1.0) -> Pcm:
    t = np.arange(round(seconds * RATE)) / RATE
    return Pcm(float_to_int16(amplitude * np.sin(2 * np.pi * freq_hz * t)), RATE)


def test_a_full_scale_1khz_sine_is_minus_3_lufs() -> None:
    assert loudness_lufs(_sine(1000, 1.0)) == pytest.approx(-3.01, abs=0.05)
    assert loudness_lufs(_sine(1000, 0.1)) == pytest.approx(-23.01, abs=0.05)


def test_high_frequencies_weigh_more_and_lows_less() -> None:
    # K-weighting: about +4 dB at 4 kHz, about -1 dB at 100 Hz relative to 1 kHz... and a
    # high-pass below 40 Hz
    k1 = loudness_lufs(_sine(1000, 0.5))
    assert loudness_lufs(_sine(4000, 0.5)) - k1 == pytest.approx(3.7, abs=0.5)
    assert loudness_lufs(_sine(20, 0.5)) < k1 - 10


def test_silence_is_gated_out() -> None:
    tone = _sine(1000, 0.5, 0.5)
    padded = Pcm(np.concatenate([tone.samples, np.zeros(RATE * 2, np.int16)]), RATE)
    assert loudness_lufs(padded) == pytest.approx(loudness_lufs(tone), abs=0.3)
    assert loudness_lufs(Pcm(np.zeros(RATE, np.int16), RATE)) == SILENT_LUFS


def test_level_to_reaches_the_target_without_clipping() -> None:
    assert loudness_lufs(level_to(_sine(1000, 0.05), -20.0)) == pytest.approx(-20.0, abs=0.05)
    loud = level_to(_sine(1000, 0.05), 0.0)  # would need a peak above full scale
    assert np.max(np.abs(loud.samples.astype(np.int32))) <= round(0.95 * 32767) + 1
