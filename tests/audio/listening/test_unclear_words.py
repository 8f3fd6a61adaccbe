"""Words the recognizer hears and cannot place are reported (SphinxRecognizer.set_on_unclear),
so the player can ask an open question again; the listener passes on only those said while
the player was silent."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from floorcoach.audio.listening.microphone import MicrophoneListener
from floorcoach.audio.listening.recognizer import Heard
from floorcoach.audio.listening.sphinx_recognizer import SphinxRecognizer
from floorcoach.audio.listening.vad import Segment
from floorcoach.commands import Intent, ListenContext
from speech_fixtures import chunks, espeak, stream, white_noise

needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng is not installed"
)


def _run(recognizer: SphinxRecognizer, audio: np.ndarray) -> list[Heard]:
    heard: list[Heard] = []
    for chunk in chunks(audio, 640):
        heard += recognizer.accept(chunk)
    return heard + recognizer.flush()


@needs_espeak
def test_the_real_recognizer_reports_words_it_cannot_place_and_not_an_answer(
    tmp_path: Path,
) -> None:
    recognizer = SphinxRecognizer()
    recognizer.set_context(ListenContext.PAIN_LEVEL)
    unclear: list[tuple[float, float, float]] = []
    recognizer.set_on_unclear(lambda *span: unclear.append(span))
    words = [espeak("purple elephant", tmp_path), espeak("four", tmp_path)]
    audio, spans = stream(words, gap_seconds=1.2)
    heard = _run(recognizer, audio)
    assert [h.intent for h in heard] == [Intent(number=4)]
    assert len(unclear) == 1
    start, end, speech = unclear[0]
    assert start < spans[0][1]
    assert end > spans[0][0]
    assert 0.2 <= speech <= end - start


@needs_espeak
def test_talk_longer_than_a_command_and_clicks_are_not_reported(tmp_path: Path) -> None:
    recognizer = SphinxRecognizer()
    recognizer.set_context(ListenContext.PAIN_LEVEL)
    unclear: list[tuple[float, float, float]] = []
    recognizer.set_on_unclear(lambda *span: unclear.append(span))
    talk = espeak(
        "well I went to the shops this morning and the bus was late again so I walked home",
        tmp_path,
    )
    click = np.clip(white_noise(800, -12.0, seed=3), -32768, 32767).astype(np.int16)  # 50 ms
    audio, _ = stream([talk, click], gap_seconds=1.5)
    assert len(talk) / 16000 > recognizer.config.max_command_seconds
    _run(recognizer, audio)
    assert unclear == []


class _Unplaced:
    """A recognizer double that reports one unplaced stretch of words per chunk."""

    engine = "test"
    description = "test"
    context = ListenContext.PAIN_LEVEL

    def __init__(self, span: tuple[float, float]) -> None:
        self.span = span
        self.report = None

    def set_on_unclear(self, report) -> None:  # type: ignore[no-untyped-def]
        self.report = report

    def accept(self, samples: np.ndarray) -> list[Heard]:
        assert self.report is not None
        self.report(*self.span, 0.5)
        return []

    def flush(self) -> list[Heard]:
        return []

    def reset(self) -> None:
        pass

    def set_context(self, context: ListenContext) -> None:
        pass


@pytest.mark.parametrize(
    ("player", "words", "passed_on"),
    [
        (None, (1.0, 1.5), [0.5]),  # the player silent
        ((0.8, 1.6), (1.0, 1.5), []),  # within the player's speech
        ((0.3, 1.0), (0.8, 1.5), []),  # past its end, but within the echo's tail and margin
        ((0.3, 1.0), (0.8, 1.7), [0.5]),  # an answer begun over the question, running on
        ((0.3, 2.0), (0.8, 1.7), []),  # the player still talking when the words end
    ],
)
def test_the_listener_passes_on_unplaced_words_only_when_they_are_the_users(
    player: tuple[float, float] | None, words: tuple[float, float], passed_on: list[float]
) -> None:
    """Words over the player may be its echo or torn by the canceller: not asked again for.
    Words that run on past the player's speech and its echo's tail (0.35 s) by 0.3 s are the
    user's, as when someone starts answering a question before it ends."""
    recognizer = _Unplaced(words)
    told: list[float] = []
    listener = MicrophoneListener(recognizer, on_unclear=told.append)  # type: ignore[arg-type]
    listener._first_block_at = 100.0
    if player is not None:
        listener.note_player_speech(100 + player[0], 100 + player[1], "How bad is it?")
    listener.process(np.zeros(320, np.int16))
    assert told == passed_on


def test_a_failing_unclear_callback_does_not_stop_the_listener() -> None:
    def broken(seconds: float) -> None:
        raise RuntimeError("boom")

    listener = MicrophoneListener(_Unplaced((1.0, 1.5)), on_unclear=broken)  # type: ignore[arg-type]
    listener.process(np.zeros(320, np.int16))  # logged, not raised


def test_a_segment_shorter_than_a_word_or_overlong_is_not_words() -> None:
    recognizer = SphinxRecognizer()

    def segment(speech: float, overlong: bool = False) -> Segment:
        return Segment(1.0, 1.0 + speech, speech, np.zeros(16, np.int16), overlong, -60.0)

    assert not recognizer._could_be_words(segment(0.05))
    assert recognizer._could_be_words(segment(0.15))
    assert recognizer._could_be_words(segment(0.5))
    assert not recognizer._could_be_words(segment(3.5))
    assert not recognizer._could_be_words(segment(1.0, overlong=True))
