"""Audio augmentation shared by the training scripts: noise, rooms, cheap microphones, speed.

Plain NumPy, so scripts that do not need a deep-learning framework can import it.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

RATE = 16000
Array = npt.NDArray[np.float32]


def coloured_noise(n: int, colour: str, rng: np.random.Generator) -> Array:
    """Unit-RMS noise: white, pink (1/f) or brown (1/f^2)."""
    white = rng.standard_normal(n).astype(np.float32)
    if colour == "white":
        return white
    spectrum = np.fft.rfft(white)
    f = np.arange(len(spectrum), dtype=np.float32)
    f[0] = 1.0
    spectrum /= np.sqrt(f) if colour == "pink" else f
    noise = np.fft.irfft(spectrum, n).astype(np.float32)
    return noise / (np.sqrt(np.mean(noise**2)) + 1e-9)


def band_edges(x: Array, high_pass: float, low_pass: float, low_order: int, tilt: float) -> Array:
    """x through a gentle high-pass, a low-pass whose steepness `low_order` sets (4: a cheap
    microphone's roll-off, 48: a telephone channel's wall) and a spectral tilt."""
    spectrum = np.fft.rfft(x)
    f = np.fft.rfftfreq(len(x), 1.0 / RATE)
    gain = 1.0 / np.sqrt(1.0 + (high_pass / np.maximum(f, 1.0)) ** 4)
    gain *= 1.0 / np.sqrt(1.0 + (f / low_pass) ** low_order)
    if tilt:
        gain *= (np.maximum(f, 50.0) / 1000.0) ** tilt
    return np.fft.irfft(spectrum * gain, len(x)).astype(np.float32)


def fft_filter(x: Array, rng: np.random.Generator) -> Array:
    """A cheap microphone: a random high-pass and low-pass edge, and a tilt."""
    hp = rng.uniform(80, 400)
    lp = rng.uniform(3000, 7500)
    return band_edges(x, hp, lp, 4, rng.uniform(-0.3, 0.3))


def telephone(x: Array, rng: np.random.Generator) -> Array:
    """A telephone-band channel (an 8 kHz microphone, a headset's hands-free profile): nothing
    above 3.4-3.95 kHz, a gentle high-pass below 50-300 Hz."""
    top = rng.uniform(3400, 3950)
    return band_edges(x, rng.uniform(50, 300), top, 48, 0.0)


def reverb(x: Array, rng: np.random.Generator) -> Array:
    """A synthetic room: direct sound plus exponentially decaying noise (RT60 0.15-0.7 s)."""
    rt60 = rng.uniform(0.15, 0.7)
    length = int(RATE * rt60)
    t = np.arange(length) / RATE
    tail = rng.standard_normal(length).astype(np.float32) * np.exp(-6.9 * t / rt60)
    tail[: int(0.002 * RATE)] = 0.0
    direct_to_reverb = 10 ** (rng.uniform(-3, 12) / 20)
    rir = tail / (np.sqrt(np.sum(tail**2)) + 1e-9)
    rir[0] += direct_to_reverb
    n = len(x) + length - 1
    size = 1 << (n - 1).bit_length()
    out = np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(rir, size), size)[: len(x) + length // 3]
    return out.astype(np.float32) / (1.0 + direct_to_reverb)


def speed(x: Array, factor: float) -> Array:
    """Resample so the clip plays `factor` times faster (pitch moves too)."""
    n = max(16, int(len(x) / factor))
    return np.interp(np.linspace(0, len(x) - 1, n), np.arange(len(x)), x).astype(np.float32)


def augment(
    clip: npt.NDArray[np.int16],
    rng: np.random.Generator,
    babble: list[npt.NDArray[np.int16]],
    telephone_share: float = 0.0,
) -> npt.NDArray[np.int16]:
    """One randomly mixed version of a clean clip, shaped like a VAD segment.

    `telephone_share` of the copies are telephone-band: half with the band cut before the
    noise (a narrowband recording played into a room), half after (a narrowband microphone).
    """
    x = clip.astype(np.float32) / 32768.0
    band_cut = telephone_share > 0 and rng.random() < telephone_share
    cut_after_noise = band_cut and rng.random() < 0.5
    if rng.random() < 0.8:
        x = speed(x, rng.uniform(0.9, 1.12))
    if rng.random() < 0.15 and len(x) > 2000:
        # The VAD sometimes cuts a weak onset or ending.
        a = int(rng.uniform(0, 0.05) * RATE)
        b = int(rng.uniform(0, 0.05) * RATE)
        x = x[a : len(x) - b]
    if rng.random() < 0.4:
        x = reverb(x, rng)
    if band_cut and not cut_after_noise:
        x = telephone(x, rng)
    elif rng.random() < 0.5:
        x = fft_filter(x, rng)
    speech_rms = float(np.sqrt(np.mean(x**2))) + 1e-9
    level = 10 ** (rng.uniform(-35, -12) / 20)
    x *= level / speech_rms
    pre = int(rng.uniform(0.08, 0.3) * RATE)
    post = int(rng.uniform(0.2, 0.4) * RATE)
    y = np.concatenate([np.zeros(pre, np.float32), x, np.zeros(post, np.float32)])
    roll = rng.random()
    if roll < 0.8:
        snr = rng.uniform(-2, 30)
        kind = rng.choice(["white", "pink", "brown", "babble"], p=[0.35, 0.35, 0.1, 0.2])
        if kind == "babble":
            noise = np.zeros(len(y), np.float32)
            for _ in range(3):
                other = babble[rng.integers(len(babble))].astype(np.float32)
                reps = int(np.ceil(len(y) / max(1, len(other))))
                noise += np.tile(other, reps)[: len(y)]
            noise /= np.sqrt(np.mean(noise**2)) + 1e-9
        else:
            noise = coloured_noise(len(y), str(kind), rng)
        y += noise * level * 10 ** (-snr / 20)
    else:
        y += coloured_noise(len(y), "white", rng) * 10 ** (rng.uniform(-65, -45) / 20)
    if cut_after_noise:
        y = telephone(y, rng)
    return np.clip(y * 32768.0, -32768, 32767).astype(np.int16)


def noise_only(rng: np.random.Generator) -> npt.NDArray[np.int16]:
    """Non-speech: noise with knocks or clicks (class OTHER)."""
    n = int(rng.uniform(0.4, 1.6) * RATE)
    y = coloured_noise(n, str(rng.choice(["white", "pink", "brown"])), rng)
    y *= 10 ** (rng.uniform(-60, -30) / 20)
    for _ in range(rng.integers(0, 4)):
        at = rng.integers(0, n - 800)
        burst = rng.standard_normal(800).astype(np.float32) * np.exp(-np.arange(800) / 120)
        y[at : at + 800] += burst * 10 ** (rng.uniform(-30, -8) / 20)
    return np.clip(y * 32768.0, -32768, 32767).astype(np.int16)
