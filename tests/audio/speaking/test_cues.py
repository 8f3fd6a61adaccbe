"""Cue tones sound at their design pitch, stay short, differ from each other and never click."""

from __future__ import annotations

import numpy as np
import pytest

from floorcoach.audio.pcm import RATE_HZ
from floorcoach.audio.speaking.cues import CUE_DESIGN_HZ, PEAK_LEVEL, Cue, render_cue
from floorcoach.audio.speaking.loudness import SPEECH_LUFS, loudness_lufs


def _peak_hz(samples: np.ndarray, rate_hz: int) -> float:
    """Spectral peak with zero padding and parabolic interpolation (sub-Hz precision)."""
    x = samples.astype(np.float64) * np.hanning(len(samples))
    n_fft = 1 << 18
    spectrum = np.abs(np.fft.rfft(x, n_fft))
    k = int(np.argmax(spectrum))
    a, b, c = np.log(spectrum[k - 1 : k + 2] + 1e-12)
    return (k + 0.5 * (a - c) / (a - 2 * b + c)) * rate_hz / n_fft


def test_the_cue_set() -> None:
    assert {c.value for c in Cue} == {"start", "end", "beat", "switch", "rest_over", "pain"}
    assert set(CUE_DESIGN_HZ) == set(Cue)


@pytest.mark.parametrize("cue", list(Cue))
def test_cue_has_its_design_frequency(cue: Cue) -> None:
    pcm = render_cue(cue)
    assert _peak_hz(pcm.samples, pcm.rate_hz) == pytest.approx(CUE_DESIGN_HZ[cue], abs=3.0)


@pytest.mark.parametrize("cue", list(Cue))
def test_cue_is_short_soft_and_click_free(cue: Cue) -> None:
    pcm = render_cue(cue)
    assert pcm.rate_hz == RATE_HZ
    assert 0.08 <= pcm.seconds <= 0.4
    peak = int(np.max(np.abs(pcm.samples.astype(np.int32))))
    assert peak <= PEAK_LEVEL * 32767  # never louder than drawn: gentle
    assert loudness_lufs(pcm) == pytest.approx(SPEECH_LUFS, abs=0.3)  # as loud as speech
    # Raised-cosine edges: start and end at zero, no sudden step anywhere.
    assert abs(int(pcm.samples[0])) <= 50
    assert abs(int(pcm.samples[-1])) <= 50
    steps = np.abs(np.diff(pcm.samples.astype(np.int32)))
    # The steepest a sine of the highest partial can move per sample, with headroom.
    top_hz = 3 * CUE_DESIGN_HZ[cue] * 1.4
    assert steps.max() <= 2 * np.pi * top_hz / RATE_HZ * peak
    # 8 ms attack and 25 ms release instead of starting or ending at full level.
    assert np.max(np.abs(pcm.samples[: round(0.002 * RATE_HZ)])) < 0.3 * peak
    assert np.max(np.abs(pcm.samples[-round(0.005 * RATE_HZ) :])) < 0.3 * peak


def test_cues_are_distinct() -> None:
    peaks = sorted(CUE_DESIGN_HZ.values())
    # At least a semitone (6 %) apart, so each is recognizable by pitch alone.
    assert all(b / a > 1.06 for a, b in zip(peaks, peaks[1:], strict=False))
    rendered = [render_cue(c).samples for c in Cue]
    for i, a in enumerate(rendered):
        for b in rendered[i + 1 :]:
            assert len(a) != len(b) or not np.array_equal(a, b)


def test_start_rises_and_end_falls() -> None:
    def halves(cue: Cue) -> tuple[float, float]:
        s = render_cue(cue).samples
        return _peak_hz(s[: len(s) // 4], RATE_HZ), _peak_hz(s[-len(s) // 2 :], RATE_HZ)

    first, last = halves(Cue.START)
    assert first < last
    first, last = halves(Cue.END)
    assert first > last


def test_render_cue_accepts_names_and_other_rates() -> None:
    assert render_cue("beat") is render_cue(Cue.BEAT)
    at_48k = render_cue(Cue.BEAT, rate_hz=48_000)
    assert at_48k.rate_hz == 48_000
    assert _peak_hz(at_48k.samples, 48_000) == pytest.approx(1046.5, abs=3.0)
    with pytest.raises(ValueError, match="bong"):
        render_cue("bong")
    assert not render_cue(Cue.BEAT).samples.flags.writeable
