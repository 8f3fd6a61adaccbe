"""The training scripts' augmentation: the telephone-band copies are what they claim to be."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from augment import RATE, augment, telephone  # noqa: E402


def _band_db(x: np.ndarray, lo: float, hi: float) -> float:
    power = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(len(x), 1.0 / RATE)
    return float(10 * np.log10(power[(f >= lo) & (f < hi)].sum() / power.sum()))


def test_a_telephone_copy_has_nothing_above_4_khz_and_keeps_the_speech_band() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal(RATE).astype(np.float32)
    assert _band_db(x, 4200, 8000) > -4  # white noise: 47.5 % of its power is up there
    for _ in range(20):
        y = telephone(x, rng)
        assert _band_db(y, 4200, 8000) < -30
        assert _band_db(y, 300, 3300) > -2.5


def test_augment_cuts_the_share_asked_for_and_no_band_when_none_is() -> None:
    rng = np.random.default_rng(2)
    clip = (rng.standard_normal(RATE // 2) * 3000).astype(np.int16)
    babble = [clip]

    def cut_share(share: float) -> float:
        copies = [augment(clip, rng, babble, share).astype(np.float32) for _ in range(200)]
        # a copy is telephone-band if almost nothing of the clip's power sits above 4.2 kHz
        # (the noise mixed after a cut is cut too; mixed before, it sits at least 2 dB under)
        return float(np.mean([_band_db(c, 4200, 8000) < -25 for c in copies]))

    assert cut_share(0.0) == 0.0
    assert 0.1 < cut_share(0.5) < 0.5
