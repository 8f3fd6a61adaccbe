"""pocketsphinx on real espeak-ng speech: commands found, sentences and noise rejected."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from floorcoach.audio.pcm import RATE_HZ
from floorcoach.audio.recognizer import Heard, make_recognizer
from floorcoach.audio.sphinx_recognizer import SphinxRecognizer, grammar_for
from floorcoach.commands import PHRASE_TABLE, Command, Intent, Location
from speech_fixtures import chunks, espeak, stream

pytestmark = pytest.mark.skipif(
    __import__("shutil").which("espeak-ng") is None, reason="espeak-ng is not installed"
)

SAID = [
    ("pause", Intent(command=Command.PAUSE)),
    ("next", Intent(command=Command.NEXT)),
    ("hold on", Intent(command=Command.PAUSE)),
    ("stop", Intent(command=Command.STOP)),
    ("that hurts", Intent(command=Command.PAIN)),
    ("continue", Intent(command=Command.RESUME)),
    ("four", Intent(number=4)),
    ("down my leg", Intent(location=Location.LEG)),
]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("espeak")


@pytest.fixture(scope="module")
def recognizer() -> SphinxRecognizer:
    return SphinxRecognizer()


def run(rec: SphinxRecognizer, audio: np.ndarray, chunk: int) -> list[Heard]:
    rec.reset()
    heard: list[Heard] = []
    for part in chunks(audio, chunk):
        heard += rec.accept(part)
    return heard + rec.flush()


@pytest.mark.parametrize("chunk", [160, 4000])
def test_commands_in_a_stream_are_heard_in_order(
    recognizer: SphinxRecognizer, cache: Path, chunk: int
) -> None:
    audio, spans = stream([espeak(text, cache) for text, _ in SAID], seed=chunk)
    heard = run(recognizer, audio, chunk)
    assert [h.intent for h in heard] == [intent for _, intent in SAID]
    for h, (start, end) in zip(heard, spans, strict=True):
        assert h.engine == "pocketsphinx"
        assert abs(h.start - start) < 0.15
        assert abs(h.end - end) < 0.15
        assert 0.0 <= h.confidence <= 1.0
        assert PHRASE_TABLE[h.text] == h.intent


def test_instruction_sentences_are_not_commands(recognizer: SphinxRecognizer, cache: Path) -> None:
    sentences = [
        "Lie on your back and bring one knee toward your chest",
        "stop if the pain spreads down your leg",
        "Breathe in slowly through your nose and let your back relax into the floor",
    ]
    audio, _ = stream([espeak(s, cache) for s in sentences])
    assert run(recognizer, audio, 320) == []


def test_silence_and_noise_give_nothing(recognizer: SphinxRecognizer) -> None:
    assert run(recognizer, np.zeros(30 * RATE_HZ, dtype=np.int16), 1600) == []
    rng = np.random.default_rng(0)
    noise = (rng.standard_normal(10 * RATE_HZ) * 300).astype(np.int16)
    assert run(recognizer, noise, 1600) == []


def test_grammar_leaves_out_unpronounceable_phrases() -> None:
    jsgf, skipped = grammar_for(["stop", "go 6", "hold on"], {"stop", "go", "hold", "on"})
    assert skipped == ["go 6"]
    assert "public <command> = stop | hold on;" in jsgf


def test_custom_phrase_map() -> None:
    rec = SphinxRecognizer(phrases={"stop": Intent(command=Command.STOP)})
    assert "1 phrases" in rec.description


def test_make_recognizer_chooses_pocketsphinx_without_english_vosk_model(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FLOORCOACH_VOSK_MODEL", str(tmp_path / "none"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    import floorcoach.models as models

    monkeypatch.setattr(models, "REPO_MODELS_DIR", tmp_path / "voice_models")
    assert make_recognizer("auto").engine == "pocketsphinx"
