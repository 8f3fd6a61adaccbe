"""How loud a sound is to a listener: K-weighted, gated loudness (ITU-R BS.1770) for short clips.

BS.1770 weights the spectrum the way the ear does (a high shelf of +4 dB above ~1.5 kHz and a
high-pass near 40 Hz), averages the power of 400 ms blocks and leaves out the quiet ones.
Phrases here are often a single word ("one", 0.3 s) and cue tones last 0.1-0.4 s, so the
blocks are 100 ms (50 % overlap) instead; everything else follows the standard. The
weighting is applied to each block's power spectrum (phase does not change power), so no
filter state and no SciPy is needed.
"""

from __future__ import annotations

import functools
from typing import Final

import numpy as np
import numpy.typing as npt

from floorcoach.audio.pcm import Pcm

BLOCK_SECONDS: Final = 0.1
_HOP_FRACTION: Final = 0.5
_ABSOLUTE_GATE_LUFS: Final = -70.0
_RELATIVE_GATE_LU: Final = -10.0
_OFFSET_DB: Final = -0.691
SILENT_LUFS: Final = -120.0
"""Reported for a clip with no block above the absolute gate."""

# The K-weighting biquads as BS.1770 gives them at 48 kHz (pre-filter shelf, RLB high-pass).
_SHELF: Final = ((1.53512485958697, -2.69169618940638, 1.19839281085285), (-1.69065929318241,))
_SHELF_A2: Final = 0.73248077421585
_HIGHPASS: Final = ((1.0, -2.0, 1.0), (-1.99004745483398,))
_HIGHPASS_A2: Final = 0.99007225036621
_DESIGN_RATE_HZ: Final = 48000


def _biquad_power(
    b: tuple[float, float, float], a1: float, a2: float, freqs_hz: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    z = np.exp(-1j * 2 * np.pi * freqs_hz / _DESIGN_RATE_HZ)
    num = b[0] + b[1] * z + b[2] * z * z
    den = 1.0 + a1 * z + a2 * z * z
    return np.asarray(np.abs(num / den) ** 2, dtype=np.float64)


@functools.cache
def _k_weights(n_fft: int, rate_hz: int) -> npt.NDArray[np.float64]:
    """|H_K(f)|^2 at the rfft bins of an n_fft block (valid below 24 kHz, so any rate <= 48k)."""
    freqs = np.asarray(np.fft.rfftfreq(n_fft, 1.0 / rate_hz), dtype=np.float64)
    shelf = _biquad_power(_SHELF[0], _SHELF[1][0], _SHELF_A2, freqs)
    highpass = _biquad_power(_HIGHPASS[0], _HIGHPASS[1][0], _HIGHPASS_A2, freqs)
    weights = shelf * highpass
    weights.flags.writeable = False
    return weights


def _block_powers(samples: npt.NDArray[np.float64], rate_hz: int) -> npt.NDArray[np.float64]:
    """K-weighted mean-square of each block (a short clip is one zero-padded block)."""
    n = round(BLOCK_SECONDS * rate_hz)
    hop = max(1, round(n * _HOP_FRACTION))
    if len(samples) < n:
        samples = np.concatenate([samples, np.zeros(n - len(samples))])
    starts = range(0, len(samples) - n + 1, hop)
    blocks = np.stack([samples[s : s + n] for s in starts])
    spectra = np.abs(np.fft.rfft(blocks, axis=1)) ** 2
    # Parseval for a real signal: mean square = (|X0|^2 + 2 sum |Xk|^2 (+ |X_N/2|^2)) / n^2
    spectra[:, 1:] *= 2.0
    if n % 2 == 0:
        spectra[:, -1] /= 2.0
    weighted = spectra * _k_weights(n, rate_hz)
    return np.asarray(weighted.sum(axis=1) / (n * n), dtype=np.float64)


def loudness_lufs(pcm: Pcm) -> float:
    """Gated K-weighted loudness in LUFS (full-scale sine at 1 kHz: about -3.0)."""
    if len(pcm.samples) == 0:
        return SILENT_LUFS
    powers = _block_powers(pcm.to_float().astype(np.float64), pcm.rate_hz)
    with np.errstate(divide="ignore"):
        levels = _OFFSET_DB + 10 * np.log10(powers)
    kept = powers[levels > _ABSOLUTE_GATE_LUFS]
    if len(kept) == 0:
        return SILENT_LUFS
    relative = _OFFSET_DB + 10 * np.log10(kept.mean()) + _RELATIVE_GATE_LU
    kept = powers[levels > max(relative, _ABSOLUTE_GATE_LUFS)]
    return float(_OFFSET_DB + 10 * np.log10(kept.mean()))


SPEECH_LUFS: Final = -20.0
"""The player's loudness: the median of espeak-ng's phrases at full volume
(scripts/bench_speech); Piper's phrases and the cue tones are set to it."""
PEAK_CEILING: Final = 0.95
"""Largest sample level (of full scale) a gain may reach: never clip to get louder."""


def level_to(pcm: Pcm, target_lufs: float) -> Pcm:
    """The clip scaled to `target_lufs`, or less when that would push a peak past the ceiling."""
    current = loudness_lufs(pcm)
    if current <= SILENT_LUFS:
        return pcm
    x = pcm.to_float().astype(np.float64)
    gain = 10 ** ((target_lufs - current) / 20)
    peak = float(np.max(np.abs(x))) if len(x) else 0.0
    if peak * gain > PEAK_CEILING:
        gain = PEAK_CEILING / peak
    samples = np.clip(np.round(x * gain * 32767.0), -32768, 32767).astype(np.int16)
    return Pcm(samples, pcm.rate_hz)
