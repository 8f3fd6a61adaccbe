"""The phrase verifier: its features, its NumPy network, and the shipped model on real speech.

The speech is espeak-ng with the benchmark's voices, which the model never trained on
(scripts/kws_data.py excludes their variants).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from floorcoach.audio.listening.phrase_verifier import (
    MODEL_DIR,
    OTHER,
    PhraseVerifier,
    Verdict,
    _conv1d,
    log_mel,
    verifier_phrases,
)
from floorcoach.audio.listening.sphinx_config import SphinxConfig
from floorcoach.audio.listening.sphinx_recognizer import SphinxRecognizer
from floorcoach.audio.listening.vad import Segment
from floorcoach.commands import Intent, ListenContext, parse, spoken_table
from floorcoach.errors import ModelNotFoundError
from speech_fixtures import ESPEAK, espeak, rms_db, white_noise

needs_espeak = pytest.mark.skipif(ESPEAK is None, reason="espeak-ng is not installed")

VOICE = ("en-gb-scotland+f2", 140, 70)
"""A held-out benchmark voice: never trained on."""


@pytest.fixture(scope="module")
def speech_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("speech")


@pytest.fixture(scope="module")
def verifier() -> PhraseVerifier:
    return PhraseVerifier()


def _segment(speech: np.ndarray, snr_db: float | None, seed: int) -> np.ndarray:
    """Shaped like a VAD segment: 0.2 s before, 0.3 s after, a faint floor, optional noise."""
    x = np.concatenate([np.zeros(3200), speech.astype(np.float64), np.zeros(4800)])
    x += white_noise(len(x), -50.0, seed)
    if snr_db is not None:
        x += white_noise(len(x), rms_db(speech) - snr_db, seed + 1)
    return np.clip(x, -32768, 32767).astype(np.int16)


def test_features_ignore_microphone_gain() -> None:
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(16000) * 1000).astype(np.int16)
    louder = (x.astype(np.int32) * 8).clip(-32768, 32767).astype(np.int16)
    a, b = log_mel(x), log_mel(louder)
    assert a.shape == (40, 98)
    assert np.allclose(a, b, atol=1e-3)
    assert np.allclose(a.mean(axis=1), 0.0, atol=1e-4)


def test_strided_convolution_matches_a_plain_loop() -> None:
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 11)).astype(np.float32)
    w = rng.standard_normal((2, 3, 5)).astype(np.float32)
    b = rng.standard_normal(2).astype(np.float32)
    for stride in (1, 2):
        got = _conv1d(x, w, b, stride)
        xp = np.pad(x, ((0, 0), (2, 2)))
        want = np.array(
            [
                [
                    float((xp[:, t * stride : t * stride + 5] * w[o]).sum() + b[o])
                    for t in range(got.shape[1])
                ]
                for o in range(2)
            ]
        )
        assert got.shape == (2, -(-11 // stride))
        assert np.allclose(got, want, atol=1e-4)


def test_shipped_model_knows_only_phrases_of_the_table(verifier: PhraseVerifier) -> None:
    assert set(verifier.classes[:-1]) <= set(verifier_phrases())
    assert verifier.classes[-1] == OTHER
    assert all(parse(p) is not None for p in verifier.classes[:-1])


def test_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="no phrase verifier in .*train_kws"):
        PhraseVerifier(tmp_path)


def test_model_for_other_phrases_is_refused(tmp_path: Path) -> None:
    shutil.copy(MODEL_DIR / "verifier.npz", tmp_path / "verifier.npz")
    meta = json.loads((MODEL_DIR / "verifier.json").read_text())
    meta["classes"] = ["hop skip and jump", *meta["classes"][1:]]
    (tmp_path / "verifier.json").write_text(json.dumps(meta))
    with pytest.raises(ModelNotFoundError, match="trained for other phrases"):
        PhraseVerifier(tmp_path)


COMMANDS = ["pause", "that hurts", "next", "stop", "hold on", "resume", "help", "how long"]
NOT_COMMANDS = [
    "Press your heels into the floor and lift your hips",
    "I think the kettle has boiled",
    "Keep your shoulders flat",
    "Where is the remote",
]


@needs_espeak
def test_commands_are_recognized_in_noise(verifier: PhraseVerifier, speech_cache: Path) -> None:
    voice, wpm, pitch = VOICE
    right = 0
    for i, phrase in enumerate(COMMANDS):
        speech = espeak(phrase, speech_cache, voice, wpm, pitch)
        for snr in (None, 20.0):
            verdict = verifier.judge(_segment(speech, snr, seed=10 * i + int(snr or 0)))
            right += verdict.phrase == phrase
    # Measured 16/16 with version 1; a broken network or feature change gives ~0.
    assert right >= 14, right


@needs_espeak
def test_other_speech_is_not_a_phrase(verifier: PhraseVerifier, speech_cache: Path) -> None:
    voice, wpm, pitch = VOICE
    allowed = set(verifier_phrases())
    verdicts = [
        verifier.judge(_segment(espeak(text, speech_cache, voice, wpm, pitch), 20.0, 7), allowed)
        for text in NOT_COMMANDS
    ]
    assert [v.phrase for v in verdicts] == [OTHER] * len(NOT_COMMANDS)


VERIFIED = SphinxConfig(verifier=True, second_opinion="verifier")
"""The fourth session's default: grammar decoder checked by this phrase verifier."""


def _tables_it_knows(verifier: PhraseVerifier) -> dict[ListenContext, dict[str, Intent]]:
    """The phrase table as it was when the verifier was trained (phrases added since left out)."""
    known = set(verifier.classes)
    return {
        ctx: {p: i for p, i in spoken_table(ctx).items() if p in known} for ctx in ListenContext
    }


@needs_espeak
def test_recognizer_with_verifier_hears_commands_and_ignores_chatter(
    verifier: PhraseVerifier, speech_cache: Path
) -> None:
    recognizer = SphinxRecognizer(VERIFIED, contexts=_tables_it_knows(verifier))
    voice, wpm, pitch = VOICE
    gap = np.zeros(24000, dtype=np.float64)
    parts: list[np.ndarray] = [gap]
    said = [
        "that hurts",
        "Keep your shoulders flat",
        "pause",
        "I think the kettle has boiled",
        "next",
    ]
    for text in said:
        parts += [espeak(text, speech_cache, voice, wpm, pitch).astype(np.float64), gap]
    stream = np.concatenate(parts)
    stream += white_noise(len(stream), -50.0, 2)
    stream = np.clip(stream, -32768, 32767).astype(np.int16)
    heard = []
    for start in range(0, len(stream), 320):
        heard += recognizer.accept(stream[start : start + 320])
    heard += recognizer.flush()
    assert [h.intent for h in heard] == [parse("that hurts"), parse("pause"), parse("next")]
    assert all(0.0 < h.confidence <= 1.0 for h in heard)


def test_context_limits_what_the_verifier_may_answer(verifier: PhraseVerifier) -> None:
    allowed = set(spoken_table(ListenContext.PAIN_LEVEL))
    rng = np.random.default_rng(1)
    noise = (rng.standard_normal(16000) * 300).astype(np.int16)
    verdict = verifier.judge(noise, allowed)
    assert verdict.phrase == OTHER or verdict.phrase in allowed


def test_recognizer_without_its_verifier_says_so_and_still_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOORCOACH_VERIFIER_DIR", str(tmp_path))
    recognizer = SphinxRecognizer(VERIFIED)
    assert "phrase verifier missing" in recognizer.description
    silence = np.zeros(16000, dtype=np.int16)
    assert recognizer.accept(silence) == []


@needs_espeak
def test_grammar_the_verifier_does_not_know_is_decoded_without_it(speech_cache: Path) -> None:
    """Standby's own phrases are not the verifier's classes: it must not veto them."""
    table = {"goodbye": Intent(query="standby"), "start walking": Intent(query="standby")}
    recognizer = SphinxRecognizer(VERIFIED, contexts={ListenContext.COMMANDS: table})
    assert "does not know these phrases" in recognizer.description
    voice, wpm, pitch = VOICE
    gap = np.zeros(16000, dtype=np.float64)
    speech = espeak("goodbye", speech_cache, voice, wpm, pitch).astype(np.float64)
    stream = np.concatenate([gap, speech, gap])
    stream += white_noise(len(stream), -50.0, 4)
    heard = recognizer.accept(np.clip(stream, -32768, 32767).astype(np.int16))
    heard += recognizer.flush()
    assert [h.text for h in heard] == ["goodbye"]


class _FixedVerifier:
    """Stands in for the network: the same probabilities for every segment."""

    def __init__(self, probabilities: dict[str, float]) -> None:
        self.probabilities = probabilities

    def judge(self, samples: np.ndarray, allowed: set[str] | None = None) -> Verdict:
        phrase, p = max(self.probabilities.items(), key=lambda item: item[1])
        return Verdict(phrase, p, self.probabilities)


RULE = SphinxConfig(
    second_opinion="verifier",
    agree_probability=0.3,
    safety_agree_probability=0.2,
    alone_probability=0.45,
    safety_alone_probability=0.35,
)


@pytest.mark.parametrize(
    ("decoded", "probabilities", "expected"),
    [
        # The decoder and the verifier agree: the verifier's vote needs the agree threshold.
        ("next", {"next": 0.31, OTHER: 0.69}, "next"),
        ("next", {"next": 0.29, OTHER: 0.71}, None),
        ("stop", {"stop": 0.21, OTHER: 0.79}, "stop"),
        ("stop", {"stop": 0.19, OTHER: 0.81}, None),
        # The decoder heard something else: the verifier's likeliest intent counts even when
        # "not a phrase" is likelier, summed over the phrases that mean it.
        ("two", {"help": 0.46, OTHER: 0.54}, "help"),
        ("two", {"help": 0.44, OTHER: 0.56}, None),
        ("no", {"ouch": 0.2, "that hurts": 0.16, OTHER: 0.64}, "ouch"),
        ("no", {"ouch": 0.3, OTHER: 0.7}, None),
        ("all done", {"pause": 0.46, "all done": 0.05, OTHER: 0.49}, "pause"),
        ("", {OTHER: 0.9, "next": 0.1}, None),
    ],
)
def test_decision_between_the_decoder_and_the_verifier(
    decoded: str, probabilities: dict[str, float], expected: str | None
) -> None:
    recognizer = SphinxRecognizer(RULE)
    recognizer._verifier = _FixedVerifier(probabilities)  # type: ignore[assignment]
    recognizer._verified = set(ListenContext)
    recognizer._decode = lambda samples, search: (decoded, 1.0)  # type: ignore[method-assign]
    segment = Segment(1.0, 1.4, 0.8, np.zeros(12000, dtype=np.int16), False, -60.0)
    heard = recognizer.decode_segment(segment)
    assert (heard.text if heard else None) == expected
    if heard is not None:
        assert heard.intent == parse(expected or "")
