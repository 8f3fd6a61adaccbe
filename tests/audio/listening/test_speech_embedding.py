"""The speech embedding front end: the shipped ONNX models on real (espeak-ng) speech."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from floorcoach.audio.listening.speech_embedding import (
    EMBEDDING_DIM,
    MIN_SAMPLES,
    MODEL_DIR,
    STEP_FRAMES,
    WINDOW_FRAMES,
    SpeechEmbedder,
    pad_segment,
)
from floorcoach.audio.pcm import RATE_HZ
from floorcoach.errors import ModelNotFoundError
from speech_fixtures import ESPEAK, espeak, white_noise

needs_espeak = pytest.mark.skipif(ESPEAK is None, reason="espeak-ng is not installed")


@pytest.fixture(scope="module")
def embedder() -> SpeechEmbedder:
    return SpeechEmbedder()


@pytest.fixture(scope="module")
def speech_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("speech")


def _with_floor(samples: np.ndarray, seed: int) -> np.ndarray:
    x = samples.astype(np.float64) + white_noise(len(samples), -50.0, seed)
    return np.clip(x, -32768, 32767).astype(np.int16)


def test_a_short_segment_is_padded_to_a_second_with_its_own_floor() -> None:
    floor = white_noise(RATE_HZ // 5, -50.0, 1)
    samples = np.clip(floor, -32768, 32767).astype(np.int16)
    padded = pad_segment(samples)
    assert len(padded) == MIN_SAMPLES
    # Padding is as quiet as the segment's own background, never louder, never digital zero.
    pad = padded[: (MIN_SAMPLES - len(samples)) // 2].astype(np.float64)
    own_rms = np.sqrt(np.mean(samples.astype(np.float64) ** 2))
    assert 0.3 * own_rms < np.sqrt(np.mean(pad**2)) < 2.0 * own_rms


@needs_espeak
def test_embeddings_are_one_per_80_ms(embedder: SpeechEmbedder, speech_cache: Path) -> None:
    short = _with_floor(espeak("stop", speech_cache), 2)
    long = _with_floor(espeak("i cannot control my bladder", speech_cache, speed_wpm=110), 3)
    e_short, e_long = embedder.embed(short), embedder.embed(long)
    assert e_short.shape[1] == e_long.shape[1] == EMBEDDING_DIM
    # (frames - 76) // 8 + 1 with 10 ms frames: ~12.5 per second after the first 0.76 s.
    expected = (len(long) / RATE_HZ - 0.76) / 0.08
    assert abs(e_long.shape[0] - expected) <= 3
    assert e_short.shape[0] >= 3
    assert np.all(np.isfinite(e_long))


@needs_espeak
def test_the_same_word_by_two_voices_is_nearer_than_another_word(
    embedder: SpeechEmbedder, speech_cache: Path
) -> None:
    def mean_embedding(text: str, voice: str, seed: int) -> np.ndarray:
        e = embedder.embed(_with_floor(espeak(text, speech_cache, voice=voice), seed))
        v = e.mean(axis=0)
        return v / np.linalg.norm(v)

    stop_a = mean_embedding("stop", "en-us", 4)
    stop_b = mean_embedding("stop", "en-gb-scotland+f2", 5)
    seven = mean_embedding("seven", "en-us", 6)
    assert float(stop_a @ stop_b) > float(stop_a @ seven)


def test_a_missing_model_names_the_folder(tmp_path: Path) -> None:
    shutil.copy(MODEL_DIR / "melspectrogram.onnx", tmp_path / "melspectrogram.onnx")
    with pytest.raises(ModelNotFoundError, match=r"embedding_model\.onnx") as info:
        SpeechEmbedder(tmp_path)
    assert str(tmp_path) in info.value.message


def test_windows_embedded_one_at_a_time_match_one_batch_of_all(embedder: SpeechEmbedder) -> None:
    """Run by run (for memory) gives what one batch of every window gives, bit for bit."""
    samples = white_noise(int(2.6 * RATE_HZ), -25.0, seed=4).astype(np.int16)
    frames = embedder.mel(samples)
    starts = range(0, frames.shape[0] - WINDOW_FRAMES + 1, STEP_FRAMES)
    batch = np.stack([frames[s : s + WINDOW_FRAMES] for s in starts])[..., None]
    whole = embedder._embed.run(None, {embedder._embed_input: batch})[0]
    got = embedder.embed(samples)
    assert got.shape == (len(starts), EMBEDDING_DIM)
    assert len(starts) >= 20
    assert np.array_equal(got, whole.reshape(len(starts), EMBEDDING_DIM))
