"""Telephone-band speech made wideband again for the grammar decoder.

Why: pocketsphinx's en-us acoustic model was trained on 16 kHz speech, and its front end's
filters reach 6.8 kHz. A microphone that delivers only the telephone band (a Bluetooth
headset in its hands-free profile, an 8 kHz USB microphone, recordings like the Free Spoken
Digit Dataset's) leaves the top filters empty: the decoder heard 54 of 100 recorded
telephone-band digits right, and 22 of 29 recorded wideband numbers cut to 3.8 kHz, where it
heard 26 of them whole (scripts/bench_narrowband).

What this does: a segment whose speech has nothing above 4 kHz (`is_narrowband`) gets a high
band predicted from its low band: per 8 ms frame, a linear map from the low band's 24 mel log
energies to 10 high-band log energies (`scripts/train_bandwidth`, fitted on recorded people's
ordinary wideband speech cut to 3.8 kHz; `voice_models/bandwidth/`), filled with noise of that
envelope. Only the decoder hears it; the command head reads the segment as it came.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from floorcoach.errors import ModelNotFoundError
from floorcoach.paths import VOICE_MODELS_DIR

__all__ = [
    "BANDWIDTH_DIR",
    "BandwidthExtender",
    "band_features",
    "band_ranges_db",
    "band_targets",
    "is_narrowband",
    "low_pass",
    "power_frames",
    "shared_extender",
    "widened",
]

_LOGGER = logging.getLogger(__name__)

BANDWIDTH_DIR: Final = VOICE_MODELS_DIR / "bandwidth"
RATE_HZ: Final = 16_000
FFT_SIZE: Final = 512
HOP: Final = 128
EDGE_HZ: Final = 3800.0
"""Where the telephone band's own filters roll off; above it the band is predicted."""
LOW_BANDS: Final = 24
HIGH_BANDS: Final = 10
NARROW_MAX_HIGH_RANGE_DB: Final = 3.0
"""A segment is telephone-band when its 4.5-7.5 kHz energy moves at most this much over the
segment (95th against 10th percentile of its frames): recorded telephone-band digits 1.4-2.2
dB; recorded wideband words, clean, 13 dB or more for nine in ten (one noisy 1 s clip 1.8)..."""
NARROW_MIN_LOW_RANGE_DB: Final = 20.0
"""...while its 0.3-3.4 kHz energy moves at least this much: the speech stands clear of the
room's noise there. Wideband speech whose high band is buried in noise passes too, and loses
nothing: its high band held no speech."""

_FREQS: Final = np.fft.rfftfreq(FFT_SIZE, 1 / RATE_HZ)
_WINDOW: Final = np.hanning(FFT_SIZE + 1)[:-1]

Float = npt.NDArray[np.float64]


def _mel(hz: Float | float) -> Float:
    return np.asarray(2595.0 * np.log10(1.0 + np.asarray(hz) / 700.0))


def _low_filters() -> Float:
    """Triangular mel filters from 60 Hz to the edge."""
    mels = np.linspace(_mel(60.0), _mel(EDGE_HZ), LOW_BANDS + 2)
    edges = 700.0 * (10.0 ** (mels / 2595.0) - 1.0)
    filters = np.zeros((LOW_BANDS, _FREQS.size))
    for i in range(LOW_BANDS):
        left, centre, right = edges[i], edges[i + 1], edges[i + 2]
        rising = (_FREQS - left) / (centre - left)
        falling = (right - _FREQS) / (right - centre)
        filters[i] = np.clip(np.minimum(rising, falling), 0.0, None)
    return filters


def _high_filters() -> Float:
    """Equal-width rectangular bands from the edge to 8 kHz, normalized to a mean."""
    edges = np.linspace(EDGE_HZ, RATE_HZ / 2, HIGH_BANDS + 1)
    bands = np.stack(
        [((_FREQS >= edges[i]) & (_FREQS < edges[i + 1])).astype(float) for i in range(HIGH_BANDS)]
    )
    bands[-1, _FREQS >= edges[-1]] = 1.0  # Nyquist's bin
    return bands


_LOW: Final = _low_filters()
_HIGH: Final = _high_filters()
_HIGH_MEAN: Final = _HIGH / _HIGH.sum(axis=1, keepdims=True)
_ABOVE_EDGE: Final = _FREQS > EDGE_HZ


def _spectrum(samples: Float) -> npt.NDArray[np.complex128]:
    """Hann-windowed frames every 8 ms (the last frame zero-padded)."""
    frames = 1 + max(0, samples.size - FFT_SIZE + HOP - 1) // HOP
    padded = np.concatenate([samples, np.zeros(frames * HOP + FFT_SIZE - samples.size)])
    index = np.arange(FFT_SIZE)[None, :] + HOP * np.arange(frames)[:, None]
    return np.fft.rfft(padded[index] * _WINDOW, axis=1)


def _overlap_add(spectrum: npt.NDArray[np.complex128], length: int) -> Float:
    frames = np.fft.irfft(spectrum, FFT_SIZE, axis=1) * _WINDOW
    out = np.zeros(spectrum.shape[0] * HOP + FFT_SIZE)
    norm = np.zeros_like(out)
    for i, frame in enumerate(frames):
        out[i * HOP : i * HOP + FFT_SIZE] += frame
        norm[i * HOP : i * HOP + FFT_SIZE] += _WINDOW**2
    return np.asarray((out / np.maximum(norm, 1e-3))[:length])


def power_frames(samples: Float) -> Float:
    """Power spectrum per frame of float samples in [-1, 1]."""
    return np.asarray(np.abs(_spectrum(samples)) ** 2)


def low_pass(samples: Float) -> Float:
    """The telephone band alone: everything above the edge removed (for training and tests)."""
    spectrum = np.fft.rfft(samples)
    spectrum[np.fft.rfftfreq(samples.size, 1 / RATE_HZ) > EDGE_HZ] = 0.0
    return np.asarray(np.fft.irfft(spectrum, samples.size))


def band_features(power: Float) -> tuple[Float, Float]:
    """The regression's inputs per frame (low-band log energies about their mean, the mean,
    a constant) and that mean, which the targets are relative to."""
    low = np.log(power @ _LOW.T + 1e-10)
    level = low.mean(axis=1, keepdims=True)
    return np.concatenate([low - level, level, np.ones_like(level)], axis=1), level


def band_targets(power: Float, level: Float) -> Float:
    """Mean power per high band, as ln relative to the low band's mean log energy."""
    return np.asarray(np.log(power @ _HIGH_MEAN.T + 1e-10) - level)


def _band_db(power: Float, low_hz: float, high_hz: float) -> Float:
    band = (_FREQS > low_hz) & (_FREQS < high_hz)
    return np.asarray(10.0 * np.log10(power[:, band].sum(axis=1) + 1e-12))


def band_ranges_db(samples: Float) -> tuple[float, float]:
    """How much the 4.5-7.5 kHz and the 0.3-3.4 kHz energies move over the segment: the 95th
    percentile of its frames against the 10th, in dB. (Not the high band in the low band's
    loudest frames: fricatives are loud above 4 kHz and quiet below.)"""
    power = power_frames(samples)
    high = _band_db(power, 4500.0, 7500.0)
    low = _band_db(power, 300.0, 3400.0)
    return (
        float(np.percentile(high, 95) - np.percentile(high, 10)),
        float(np.percentile(low, 95) - np.percentile(low, 10)),
    )


def is_narrowband(samples: npt.NDArray[np.int16]) -> bool:
    """True when the segment's speech is clear in the telephone band and absent above it."""
    high_range, low_range = band_ranges_db(samples.astype(np.float64) / 32768.0)
    return low_range >= NARROW_MIN_LOW_RANGE_DB and high_range <= NARROW_MAX_HIGH_RANGE_DB


@dataclass(frozen=True)
class BandwidthExtender:
    """The fitted map from the low band's envelope to the high band's (scripts/train_bandwidth)."""

    weights: Float
    """(LOW_BANDS + 2) x HIGH_BANDS: `band_features` -> `band_targets`."""

    @classmethod
    def load(cls, folder: Path = BANDWIDTH_DIR) -> BandwidthExtender:
        path = folder / "extension.npz"
        try:
            with np.load(path) as data:
                weights = np.asarray(data["weights"], dtype=np.float64)
        except (OSError, KeyError, ValueError) as exc:
            raise ModelNotFoundError(
                f"no bandwidth extension in {folder} ({exc}); rebuild it with "
                "scripts/train_bandwidth"
            ) from None
        if weights.shape != (LOW_BANDS + 2, HIGH_BANDS):
            raise ModelNotFoundError(
                f"{path} holds a {weights.shape} map, not {(LOW_BANDS + 2, HIGH_BANDS)}; "
                "rebuild it with scripts/train_bandwidth"
            )
        return cls(weights)

    def save(self, folder: Path, summary: dict[str, object]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        np.savez(folder / "extension.npz", weights=self.weights.astype(np.float32))
        (folder / "extension.json").write_text(json.dumps(summary, indent=2) + "\n")

    def extend(self, samples: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
        """The segment with its high band predicted; the same segment gives the same output."""
        audio = samples.astype(np.float64) / 32768.0
        spectrum = _spectrum(audio)
        features, level = band_features(np.abs(spectrum) ** 2)
        band_power = np.exp(features @ self.weights + level)
        amplitude = np.sqrt(band_power) @ _HIGH  # per bin
        phase = np.random.default_rng(len(samples)).uniform(0, 2 * np.pi, spectrum.shape)
        spectrum[:, _ABOVE_EDGE] = amplitude[:, _ABOVE_EDGE] * np.exp(1j * phase[:, _ABOVE_EDGE])
        out = _overlap_add(spectrum, audio.size) * 32768.0
        return np.clip(np.round(out), -32768, 32767).astype(np.int16)


@lru_cache(maxsize=1)
def shared_extender() -> BandwidthExtender:
    """One extender per process: the map is 1 KB, but there is no reason to read it twice."""
    return BandwidthExtender.load(BANDWIDTH_DIR)


@lru_cache(maxsize=1)
def _usable_extender() -> BandwidthExtender | None:
    """The shared extender, or None (said once) when its map is missing or damaged: the
    recognizer then hears telephone-band speech as it comes, as before the extension."""
    try:
        return shared_extender()
    except ModelNotFoundError as exc:
        _LOGGER.warning("%s; telephone-band speech is decoded as it comes", exc)
        return None


def widened(samples: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
    """The segment with a predicted high band when it is telephone-band, else as it is."""
    if not is_narrowband(samples):
        return samples
    extender = _usable_extender()
    return samples if extender is None else extender.extend(samples)
