"""Telephone-band speech is found and given a high band (listening/bandwidth.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from floorcoach.audio.listening import bandwidth
from floorcoach.audio.listening.bandwidth import (
    BandwidthExtender,
    is_narrowband,
    low_pass,
    shared_extender,
    widened,
)
from floorcoach.audio.listening.sphinx_config import SphinxConfig, preset
from floorcoach.audio.listening.sphinx_recognizer import SphinxRecognizer
from floorcoach.audio.listening.vad import Segment
from floorcoach.errors import ModelNotFoundError
from speech_fixtures import espeak, pink_noise, to_int16, white_noise

SENTENCE = "She sells six fresh fish, seven times a session."
FREQS = np.fft.rfftfreq(bandwidth.FFT_SIZE, 1 / bandwidth.RATE_HZ)


@pytest.fixture(scope="module")
def wide(tmp_path_factory: pytest.TempPathFactory) -> npt.NDArray[np.int16]:
    """A wideband sentence full of fricatives, with silence either side and a faint floor."""
    speech = espeak(SENTENCE, tmp_path_factory.mktemp("espeak")).astype(np.float64)
    padded = np.concatenate([np.zeros(3200), speech, np.zeros(3200)])
    return to_int16(padded + white_noise(padded.size, -60.0, seed=1))


@pytest.fixture(scope="module")
def short_wide(tmp_path_factory: pytest.TempPathFactory) -> npt.NDArray[np.int16]:
    """A short one, the length of a command."""
    speech = espeak("six fresh fish", tmp_path_factory.mktemp("espeak")).astype(np.float64)
    padded = np.concatenate([np.zeros(3200), speech, np.zeros(4800)])
    return to_int16(padded + white_noise(padded.size, -60.0, seed=1))


def telephone(samples: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
    """The same audio through an 8 kHz channel, its own faint floor band-limited too."""
    return to_int16(low_pass(samples.astype(np.float64) / 32768.0) * 32768.0)


def band_db(samples: npt.NDArray[np.int16], low_hz: float, high_hz: float) -> npt.NDArray:
    power = bandwidth.power_frames(samples.astype(np.float64) / 32768.0)
    band = (FREQS > low_hz) & (FREQS < high_hz)
    return np.asarray(10 * np.log10(power[:, band].sum(axis=1) + 1e-12))


def test_wideband_speech_is_not_telephone_band_and_its_cut_is(
    wide: npt.NDArray[np.int16],
) -> None:
    assert not is_narrowband(wide)
    assert is_narrowband(telephone(wide))


def test_a_cut_under_loud_room_noise_is_left_alone(wide: npt.NDArray[np.int16]) -> None:
    # The low band's speech no longer stands 20 dB over the noise: too unsure to guess.
    speech_db = 10 * np.log10(np.mean(wide.astype(np.float64) ** 2) / 32768.0**2)
    noise = pink_noise(wide.size, speech_db - 5.0, seed=2)
    noisy = to_int16(telephone(wide).astype(np.float64) + low_pass(noise / 32768.0) * 32768.0)
    assert not is_narrowband(noisy)


def test_the_high_band_is_predicted_from_the_low_band(wide: npt.NDArray[np.int16]) -> None:
    cut = telephone(wide)
    extended = shared_extender().extend(cut)
    speech = band_db(wide, 100.0, 8000.0) > band_db(wide, 100.0, 8000.0).max() - 40.0
    # the telephone band is kept as it was
    low_change = np.abs(band_db(extended, 200.0, 3400.0) - band_db(cut, 200.0, 3400.0))
    assert np.median(low_change[speech]) < 0.1
    # above it, where the cut held nothing, the extension follows the real high band
    real, cut_high = band_db(wide, 4500.0, 7500.0), band_db(cut, 4500.0, 7500.0)
    predicted = band_db(extended, 4500.0, 7500.0)
    assert np.max(cut_high[speech]) < np.min(real[speech]) - 20.0
    assert np.corrcoef(real[speech], predicted[speech])[0, 1] > 0.45  # 0.59 when written
    assert np.median(predicted[speech]) > np.median(cut_high[speech]) + 30.0


def test_extension_is_repeatable(wide: npt.NDArray[np.int16]) -> None:
    cut = telephone(wide)
    assert np.array_equal(shared_extender().extend(cut), shared_extender().extend(cut))


def test_only_telephone_band_segments_are_widened(wide: npt.NDArray[np.int16]) -> None:
    assert widened(wide) is wide
    cut = telephone(wide)
    assert (
        np.median(band_db(widened(cut), 4500.0, 7500.0))
        > np.median(band_db(cut, 4500.0, 7500.0)) + 30.0
    )


def test_a_missing_or_wrong_map_names_the_script_that_makes_it(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="scripts/train_bandwidth"):
        BandwidthExtender.load(tmp_path)
    np.savez(tmp_path / "extension.npz", weights=np.zeros((3, 3)))
    with pytest.raises(ModelNotFoundError, match=r"\(3, 3\).*scripts/train_bandwidth"):
        BandwidthExtender.load(tmp_path)


def test_the_shipped_map_loads_and_has_its_training_summary() -> None:
    extender = BandwidthExtender.load()
    assert extender.weights.shape == (bandwidth.LOW_BANDS + 2, bandwidth.HIGH_BANDS)
    summary = (bandwidth.BANDWIDTH_DIR / "extension.json").read_text()
    assert "human-negatives" in summary


@pytest.mark.parametrize("extend", [True, False])
def test_the_decoder_hears_telephone_band_segments_widened_when_asked(
    short_wide: npt.NDArray[np.int16], extend: bool
) -> None:
    wide = short_wide
    recognizer = SphinxRecognizer(SphinxConfig(extend_narrowband=extend))
    heard: list[npt.NDArray[np.int16]] = []

    def keep(samples: npt.NDArray[np.int16], search: str) -> tuple[str, float]:
        heard.append(samples)
        return "", 0.0

    recognizer._decode = keep  # type: ignore[method-assign]
    cut = telephone(wide)
    for samples in (cut, wide):
        seconds = len(samples) / bandwidth.RATE_HZ
        recognizer.decode_segment(Segment(0.2, seconds - 0.3, 0.0, samples, False, -60.0))
    assert len(heard) == 2
    cut_heard, wide_heard = heard
    assert np.array_equal(wide_heard, wide)  # wideband: as it came, either way
    high = np.median(band_db(cut_heard, 4500.0, 7500.0))
    if extend:
        assert high > np.median(band_db(cut, 4500.0, 7500.0)) + 30.0
    else:
        assert np.array_equal(cut_heard, cut)


def test_the_default_widens_and_its_preset_without_does_not() -> None:
    assert SphinxConfig().extend_narrowband
    assert not preset("no_bandwidth_extension").extend_narrowband


def test_without_its_map_the_recognizer_hears_telephone_band_speech_as_it_comes(
    short_wide: npt.NDArray[np.int16],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(bandwidth, "BANDWIDTH_DIR", tmp_path)  # an install without the map
    bandwidth.shared_extender.cache_clear()
    bandwidth._usable_extender.cache_clear()
    try:
        cut = telephone(short_wide)
        with caplog.at_level("WARNING"):
            assert widened(cut) is cut
            assert widened(cut) is cut
        warnings = [r for r in caplog.records if "scripts/train_bandwidth" in r.getMessage()]
        assert len(warnings) == 1  # said once, not for every segment
    finally:
        bandwidth.shared_extender.cache_clear()
        bandwidth._usable_extender.cache_clear()
