"""A small neural phrase classifier that checks what the grammar decoder thinks it heard.

Why: pocketsphinx's acoustic model knows English, not our 127 phrases in a noisy room, and a
grammar forces almost any short utterance onto some phrase. This classifier was trained
(`scripts/train_kws`) on the spoken phrases and on a lot of speech that is not a command,
said by many synthetic voices with room noise, reverberation and cheap-microphone colouring
mixed in, so it can say "that was not a command" and "that was 'that hurts'" with a
calibrated probability. It runs in NumPy (no deep-learning framework at run time): a
one-dimensional residual convolution network over log-mel frames, ~20 M multiply-adds per
two-second segment (a few milliseconds on a Pi 4 class CPU).

The network and its features are defined here once; the training script imports both, so
what was trained is exactly what runs.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from floorcoach.audio.pcm import RATE_HZ
from floorcoach.blas_threads import one_blas_thread
from floorcoach.commands import ListenContext, normalize, spoken_table
from floorcoach.errors import ModelNotFoundError
from floorcoach.paths import VOICE_MODELS_DIR

N_MELS: Final = 40
WINDOW_SAMPLES: Final = 400
"""25 ms analysis window."""
HOP_SAMPLES: Final = 160
"""10 ms hop, the same frame rate as the VAD and pocketsphinx."""
N_FFT: Final = 512
OTHER: Final = "<other>"
"""The class for everything that is not one of the phrases."""

MODEL_DIR: Final = VOICE_MODELS_DIR / "floorcoach-verifier"


def verifier_dir() -> Path:
    """Where the model is: $FLOORCOACH_VERIFIER_DIR (benchmarks of other models) or MODEL_DIR."""
    override = os.environ.get("FLOORCOACH_VERIFIER_DIR")
    return Path(override) if override else MODEL_DIR


def verifier_phrases() -> list[str]:
    """Every phrase any listening context accepts, in a fixed order (the class order)."""
    phrases: set[str] = set()
    for context in ListenContext:
        phrases.update(spoken_table(context))
    return sorted(phrases)


@cache
def _mel_filters() -> npt.NDArray[np.float32]:
    """Triangular mel filters from 60 Hz to 7.6 kHz (HTK mel scale)."""

    def mel(f: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return 2595.0 * np.log10(1.0 + f / 700.0)

    def hz(m: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)

    edges = hz(np.linspace(mel(np.array(60.0)), mel(np.array(7600.0)), N_MELS + 2))
    bins = np.fft.rfftfreq(N_FFT, 1.0 / RATE_HZ)
    filters = np.zeros((N_MELS, len(bins)), dtype=np.float64)
    for i in range(N_MELS):
        lo, mid, hi = edges[i], edges[i + 1], edges[i + 2]
        rising = (bins - lo) / (mid - lo)
        falling = (hi - bins) / (hi - mid)
        filters[i] = np.maximum(0.0, np.minimum(rising, falling))
    return filters.astype(np.float32)


@cache
def _window() -> npt.NDArray[np.float32]:
    return np.hanning(WINDOW_SAMPLES).astype(np.float32)


def _warp_spectrum(power: npt.NDArray[np.float32], warp: float) -> npt.NDArray[np.float32]:
    """Power at bin k taken from bin k / warp (linear interpolation), edge bins held."""
    n_bins = power.shape[1]
    source = np.minimum(np.arange(n_bins, dtype=np.float32) / warp, n_bins - 1.0)
    low = np.floor(source).astype(np.int64)
    high = np.minimum(low + 1, n_bins - 1)
    frac = (source - low).astype(np.float32)
    return power[:, low] * (1.0 - frac) + power[:, high] * frac


def log_mel(
    samples: npt.NDArray[np.int16] | npt.NDArray[np.float32], warp: float = 1.0
) -> npt.NDArray[np.float32]:
    """(N_MELS, frames) log-mel energies, each band's mean over the segment removed.

    Removing the mean makes the features independent of microphone gain and of a fixed
    colouring of the channel, which differ from room to room. `warp` is for training only:
    a factor above 1 moves every formant up (a shorter vocal tract), below 1 down, so a few
    dozen synthetic voices stand in for many more speakers. The player always uses 1.
    """
    raw = np.asarray(samples)
    x = raw.astype(np.float32)
    if np.issubdtype(raw.dtype, np.integer):
        x /= 32768.0
    if len(x) < WINDOW_SAMPLES:
        x = np.pad(x, (0, WINDOW_SAMPLES - len(x)))
    frames = 1 + (len(x) - WINDOW_SAMPLES) // HOP_SAMPLES
    idx = np.arange(WINDOW_SAMPLES)[None, :] + HOP_SAMPLES * np.arange(frames)[:, None]
    spectrum = np.fft.rfft(x[idx] * _window(), n=N_FFT, axis=1)
    power = (spectrum.real**2 + spectrum.imag**2).astype(np.float32)
    if warp != 1.0:
        power = _warp_spectrum(power, warp)
    mel = np.log(power @ _mel_filters().T + 1e-8)
    mel -= mel.mean(axis=0, keepdims=True)
    return np.ascontiguousarray(mel.T)


def _conv1d(
    x: npt.NDArray[np.float32],
    weight: npt.NDArray[np.float32],
    bias: npt.NDArray[np.float32],
    stride: int,
) -> npt.NDArray[np.float32]:
    """'Same'-padded 1-D convolution: x (C_in, T), weight (C_out, C_in, K)."""
    c_out, c_in, k = weight.shape
    pad = k // 2
    xp = np.pad(x, ((0, 0), (pad, pad)))
    t_out = (x.shape[1] + stride - 1) // stride
    cols = np.lib.stride_tricks.sliding_window_view(xp, k, axis=1)[:, ::stride][:, :t_out]
    # cols: (C_in, T_out, K) -> (T_out, C_in * K)
    flat = cols.transpose(1, 0, 2).reshape(t_out, c_in * k)
    return (flat @ weight.reshape(c_out, c_in * k).T + bias).T


@dataclass(frozen=True)
class Verdict:
    """The classifier's view of one segment."""

    phrase: str
    """The most likely allowed phrase, or OTHER."""
    probability: float
    """Probability of `phrase` (of not-a-phrase when `phrase` is OTHER)."""
    probabilities: dict[str, float]
    """Every class's probability, for tests and the benchmark."""


class PhraseVerifier:
    """The trained network, loaded from `voice_models/floorcoach-verifier/`."""

    def __init__(self, model_dir: Path | None = None) -> None:
        one_blas_thread()  # its products are small: threads only spin (blas_threads.py)
        directory = model_dir or MODEL_DIR
        weights_path = directory / "verifier.npz"
        meta_path = directory / "verifier.json"
        if not weights_path.is_file() or not meta_path.is_file():
            raise ModelNotFoundError(
                f"no phrase verifier in {directory} (verifier.npz and verifier.json); "
                "run scripts/train_kws to make one"
            )
        meta = json.loads(meta_path.read_text())
        self.classes: list[str] = list(meta["classes"])
        self.layers: list[dict[str, object]] = list(meta["layers"])
        self.description = f"phrase verifier {meta.get('version', '?')}"
        with np.load(weights_path) as data:
            self._weights = {name: data[name].astype(np.float32) for name in data.files}
        # Phrases added to the table since training are fine: a context holding one is
        # decoded without the verifier (SphinxRecognizer). A class that is no longer a phrase
        # means the model is for another phrase table.
        gone = sorted(set(self.classes[:-1]) - set(verifier_phrases()))
        if gone or not self.classes or self.classes[-1] != OTHER:
            raise ModelNotFoundError(
                f"the phrase verifier in {directory} was trained for other phrases "
                f"(no longer phrases: {gone[:5]}); retrain with scripts/train_kws"
            )

    def logits(self, samples: npt.NDArray[np.int16]) -> npt.NDArray[np.float32]:
        """Raw class scores of one segment."""
        x = log_mel(samples)
        w = self._weights
        saved: npt.NDArray[np.float32] | None = None
        for layer in self.layers:
            kind = layer["kind"]
            name = str(layer["name"])
            if kind == "conv":
                x = _conv1d(x, w[f"{name}.w"], w[f"{name}.b"], int(str(layer["stride"])))
                if layer.get("relu"):
                    x = np.maximum(x, 0.0)
            elif kind == "save":
                saved = x
            elif kind == "shortcut":
                assert saved is not None
                short = saved
                if f"{name}.w" in w:
                    short = _conv1d(
                        saved, w[f"{name}.w"], w[f"{name}.b"], int(str(layer["stride"]))
                    )
                x = np.maximum(x + short, 0.0)
            elif kind == "pool":
                x = np.concatenate([x.mean(axis=1), x.max(axis=1)])
            elif kind == "linear":
                x = w[f"{name}.w"] @ x + w[f"{name}.b"]
            else:  # pragma: no cover - checked by the tests on the shipped model
                raise ModelNotFoundError(f"unknown layer kind {kind!r} in the phrase verifier")
        return x

    def judge(self, samples: npt.NDArray[np.int16], allowed: set[str] | None = None) -> Verdict:
        """The likeliest allowed phrase; phrases not allowed count as "not a phrase"."""
        logits = self.logits(samples).astype(np.float64)
        probs = np.exp(logits - logits.max())
        probs /= probs.sum()
        return verdict_among(self.classes, probs, allowed)


def verdict_among(
    classes: list[str], probs: npt.NDArray[np.float64], allowed: set[str] | None
) -> Verdict:
    """The likeliest allowed phrase, or OTHER; phrases not allowed count as "not a phrase".

    `classes` ends with OTHER; `allowed` None means every phrase the classifier knows.
    """
    table = {c: float(p) for c, p in zip(classes, probs, strict=True)}
    allowed_set = set(classes[:-1]) if allowed is None else {normalize(a) for a in allowed}
    best, best_p = OTHER, 0.0
    for phrase in allowed_set:
        p = table.get(phrase, 0.0)
        if p > best_p:
            best, best_p = phrase, p
    other_p = 1.0 - sum(table.get(p, 0.0) for p in allowed_set)
    if other_p >= best_p:
        return Verdict(OTHER, other_p, table)
    return Verdict(best, best_p, table)
