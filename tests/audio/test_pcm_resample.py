"""Linear resampling, worked out in blocks: the same samples as in one go, any length."""

from __future__ import annotations

import numpy as np
import pytest

from floorcoach.audio.pcm import resample


def _in_one_go(samples: np.ndarray, from_hz: int, to_hz: int) -> np.ndarray:
    n_out = max(1, round(len(samples) * to_hz / from_hz))
    t_out = np.arange(n_out, dtype=np.float64) * (from_hz / to_hz)
    out = np.interp(t_out, np.arange(len(samples)), samples.astype(np.float64))
    return np.clip(np.round(out), -32768, 32767).astype(np.int16)


@pytest.mark.parametrize(
    ("seconds", "from_hz", "to_hz"),
    [
        (15.0, 16_000, 44_100),
        (2.0, 22_050, 16_000),
        (3.0, 44_100, 16_000),
        (0.0001, 16_000, 48_000),
    ],
)
def test_blocks_give_the_samples_of_one_go(seconds: float, from_hz: int, to_hz: int) -> None:
    rng = np.random.default_rng(3)
    samples = rng.integers(-32768, 32767, max(1, int(seconds * from_hz))).astype(np.int16)
    got = resample(samples, from_hz, to_hz)
    assert got.dtype == np.int16
    assert np.array_equal(got, _in_one_go(samples, from_hz, to_hz))


def test_a_tone_keeps_its_pitch_and_level() -> None:
    t = np.arange(16_000) / 16_000
    tone = np.round(10_000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    up = resample(tone, 16_000, 44_100).astype(np.float64)
    assert len(up) == 44_100
    spectrum = np.abs(np.fft.rfft(up))
    assert np.argmax(spectrum) == pytest.approx(440, abs=1)  # 1 Hz bins over one second
    assert np.sqrt(np.mean(up**2)) == pytest.approx(10_000 / np.sqrt(2), rel=0.01)
