"""The one audio type used inside floorcoach: mono int16 PCM with its sample rate."""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from floorcoach.errors import FloorcoachError

RATE_HZ: Final = 16_000
"""Everything inside runs at 16 kHz mono; conversion happens at the edges."""


@dataclass(frozen=True)
class Pcm:
    """Mono 16-bit samples at `rate_hz`."""

    samples: npt.NDArray[np.int16]
    rate_hz: int = RATE_HZ

    @property
    def seconds(self) -> float:
        """Duration in seconds."""
        return len(self.samples) / self.rate_hz

    @classmethod
    def silence(cls, seconds: float, rate_hz: int = RATE_HZ) -> Pcm:
        """Silence of the given length."""
        return cls(np.zeros(round(seconds * rate_hz), dtype=np.int16), rate_hz)

    def to_rate(self, rate_hz: int) -> Pcm:
        """Resampled copy (linear interpolation: fine for speech and cue tones)."""
        return Pcm(resample(self.samples, self.rate_hz, rate_hz), rate_hz)

    def to_float(self) -> npt.NDArray[np.float32]:
        """Samples as float32 in [-1, 1)."""
        return self.samples.astype(np.float32) / 32768.0


_RESAMPLE_BLOCK: Final = 1 << 15
"""Output samples worked out at a time (0.7 s at 44.1 kHz)."""


def resample(samples: npt.NDArray[np.int16], from_hz: int, to_hz: int) -> npt.NDArray[np.int16]:
    """Linear-interpolation resampling of int16 mono samples.

    Worked out in blocks of output: done whole, a 15 s sentence going to a 44.1 kHz speaker
    needed ~20 MB of float64 temporaries at once, the session's peak memory (issue 19).
    """
    if from_hz == to_hz or len(samples) == 0:
        return samples.copy()
    n_out = max(1, round(len(samples) * to_hz / from_hz))
    positions = np.arange(len(samples), dtype=np.float64)
    values = samples.astype(np.float64)
    out = np.empty(n_out, dtype=np.int16)
    for start in range(0, n_out, _RESAMPLE_BLOCK):
        stop = min(n_out, start + _RESAMPLE_BLOCK)
        t_out = np.arange(start, stop, dtype=np.float64) * (from_hz / to_hz)
        block = np.interp(t_out, positions, values)
        out[start:stop] = np.clip(np.round(block), -32768, 32767)
    return out


def float_to_int16(samples: npt.NDArray[np.floating]) -> npt.NDArray[np.int16]:
    """Float samples in [-1, 1] to int16, clipped."""
    return np.clip(np.round(samples * 32767.0), -32768, 32767).astype(np.int16)


def read_wav(path: Path, rate_hz: int = RATE_HZ) -> Pcm:
    """Read a PCM WAV of any rate and channel count, as mono at `rate_hz`.

    Raises FloorcoachError with a one-line reason for files that are not usable audio.
    """
    try:
        with wave.open(str(path), "rb") as wav:
            channels = wav.getnchannels()
            width = wav.getsampwidth()
            source_hz = wav.getframerate()
            frames = wav.readframes(wav.getnframes())
    except FileNotFoundError:
        raise FloorcoachError(f"{path}: no such file") from None
    except (wave.Error, EOFError) as exc:
        raise FloorcoachError(f"{path}: not a PCM WAV file ({exc})") from None
    if width == 1:
        data = (np.frombuffer(frames, dtype=np.uint8).astype(np.int16) - 128) * 256
    elif width == 2:
        data = np.frombuffer(frames[: len(frames) // 2 * 2], dtype="<i2").astype(np.int16)
    elif width == 4:
        data = (np.frombuffer(frames[: len(frames) // 4 * 4], dtype="<i4") >> 16).astype(np.int16)
    else:
        raise FloorcoachError(f"{path}: {8 * width}-bit samples are not supported")
    if channels < 1:
        raise FloorcoachError(f"{path}: has no audio channels")
    usable = len(data) // channels * channels
    mono = data[:usable].reshape(-1, channels).astype(np.int32).mean(axis=1)
    return Pcm(resample(mono.astype(np.int16), source_hz, rate_hz), rate_hz)


def write_wav(path: Path, pcm: Pcm) -> None:
    """Write mono int16 PCM as a WAV file."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(pcm.rate_hz)
        wav.writeframes(pcm.samples.astype("<i2").tobytes())
