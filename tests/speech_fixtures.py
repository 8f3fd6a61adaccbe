"""Test speech made with espeak-ng at run time (cached), plus noise mixing: no big WAVs in git."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from floorcoach.audio.pcm import RATE_HZ, read_wav

ESPEAK: Final = shutil.which("espeak-ng")
NOISE_FLOOR_DB: Final = -45.0


def espeak(
    text: str,
    cache_dir: Path,
    voice: str = "en-us",
    speed_wpm: int = 150,
    pitch: int = 50,
) -> npt.NDArray[np.int16]:
    """Speech for `text` at 16 kHz, trimmed of espeak's silent edges, cached by its arguments."""
    if ESPEAK is None:
        raise RuntimeError("espeak-ng is not installed")
    key = hashlib.sha1(f"{voice}|{speed_wpm}|{pitch}|{text}".encode()).hexdigest()[:16]
    path = cache_dir / f"espeak-{key}.wav"
    if not path.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.wav")
        subprocess.run(
            [ESPEAK, "-v", voice, "-s", str(speed_wpm), "-p", str(pitch), "-w", str(tmp), text],
            check=True,
            capture_output=True,
        )
        tmp.replace(path)
    samples = read_wav(path).samples
    voiced = np.flatnonzero(np.abs(samples.astype(np.int32)) > 64)
    if len(voiced) == 0:
        return samples
    return samples[voiced[0] : voiced[-1] + 1]


def white_noise(n: int, level_db: float, seed: int) -> npt.NDArray[np.float64]:
    """Gaussian noise with an RMS of `level_db` dBFS."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal(n) * (10 ** (level_db / 20.0) * 32768.0)


def pink_noise(n: int, level_db: float, seed: int) -> npt.NDArray[np.float64]:
    """1/f noise with an RMS of `level_db` dBFS (closer to a room than white noise)."""
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(len(spectrum), dtype=np.float64)
    f[0] = 1.0
    x = np.fft.irfft(spectrum / np.sqrt(f), n)
    x /= np.sqrt(np.mean(x * x)) + 1e-12
    return x * (10 ** (level_db / 20.0) * 32768.0)


def rms_db(samples: npt.NDArray[np.generic]) -> float:
    """RMS level in dBFS."""
    x = np.asarray(samples, dtype=np.float64)
    return float(10 * np.log10(np.mean(x * x) / 32768.0**2 + 1e-20))


def to_int16(x: npt.NDArray[np.floating]) -> npt.NDArray[np.int16]:
    """Round and clip to int16."""
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def stream(
    parts: list[npt.NDArray[np.int16]],
    gap_seconds: float = 1.0,
    noise_db: float = NOISE_FLOOR_DB,
    seed: int = 0,
) -> tuple[npt.NDArray[np.int16], list[tuple[float, float]]]:
    """Parts separated by gaps over a faint noise floor; returns audio and each part's span."""
    gap = int(gap_seconds * RATE_HZ)
    total = gap + sum(len(p) + gap for p in parts)
    out = np.zeros(total, dtype=np.float64)
    spans: list[tuple[float, float]] = []
    pos = gap
    for part in parts:
        out[pos : pos + len(part)] += part
        spans.append((pos / RATE_HZ, (pos + len(part)) / RATE_HZ))
        pos += len(part) + gap
    out += white_noise(total, noise_db, seed)
    return to_int16(out), spans


def chunks(samples: npt.NDArray[np.int16], chunk_samples: int) -> list[npt.NDArray[np.int16]]:
    """Split audio the way a sound card delivers it."""
    return [samples[i : i + chunk_samples] for i in range(0, len(samples), chunk_samples)]
