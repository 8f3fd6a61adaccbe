"""While the player talks, the commands context is decoded with only what counts then.

Over the player the echo canceller tears the user's words: torn "stop" was decoded as "help",
"pause" as "all done", commands the echo gate drops over the player anyway (BENCHMARKS.md,
eleventh session). So segments said over the player get a grammar of the barge-in phrases.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from floorcoach.audio.listening.phrase_verifier import Verdict
from floorcoach.audio.listening.self_voice import over_player_table
from floorcoach.audio.listening.sphinx_config import SphinxConfig, preset
from floorcoach.audio.listening.sphinx_decoder import over_player_search_name, search_name
from floorcoach.audio.listening.sphinx_recognizer import SphinxRecognizer
from floorcoach.audio.listening.vad import Segment
from floorcoach.commands import Command, Intent, ListenContext, parse, spoken_table
from speech_fixtures import espeak, stream

COMMANDS = ListenContext.COMMANDS


def test_the_over_player_table_holds_what_the_gate_takes_then() -> None:
    table = over_player_table(spoken_table(COMMANDS))
    kept = {i.command for i in table.values() if i.red_flag is None}
    assert kept == {Command.PAUSE, Command.STOP, Command.PAIN, Command.RESUME}
    assert any(i.red_flag is not None for i in table.values())
    assert not {"help", "next", "repeat"} & set(table)
    assert {"stop", "pause", "that hurts", "hold on"} <= set(table)


class _AgreeingHead:
    """Stands in for the command head: hears "help" when asked about it, else "stop"."""

    def __init__(self) -> None:
        self.allowed: list[set[str]] = []

    def judge(self, samples: np.ndarray, allowed: set[str] | None = None) -> Verdict:
        self.allowed.append(set(allowed or ()))
        phrase = "help" if "help" in self.allowed[-1] else "stop"
        return Verdict(phrase, 0.9, {phrase: 0.9, "<other>": 0.1})


def _recognizer(config: SphinxConfig, talking: bool | None) -> tuple[SphinxRecognizer, list[str]]:
    recognizer = SphinxRecognizer(config)
    head = _AgreeingHead()
    recognizer._verifier = head  # type: ignore[assignment]
    recognizer._rescuer = None
    recognizer._verified = set(ListenContext)
    searches: list[str] = []

    def fake_decode(samples: np.ndarray, search: str) -> tuple[str, float]:
        searches.append(search)
        return ("stop" if search == over_player_search_name(COMMANDS) else "help"), 0.5

    recognizer._decode = fake_decode  # type: ignore[method-assign]
    if talking is not None:
        recognizer.set_player_talking(lambda start, end: talking)
    return recognizer, searches


def _segment() -> Segment:
    return Segment(1.0, 1.5, 0.5, np.zeros(8000, dtype=np.int16), False, -60.0)


def test_a_segment_over_the_player_is_decoded_with_the_barge_in_grammar() -> None:
    recognizer, searches = _recognizer(SphinxConfig(), talking=True)
    heard = recognizer.decode_segment(_segment())
    assert searches == [over_player_search_name(COMMANDS)]
    assert heard is not None
    assert heard.intent == Intent(command=Command.STOP)
    # the head is asked about the same phrases as the decoder
    head = recognizer._verifier
    assert isinstance(head, _AgreeingHead)
    without = SphinxConfig().over_player_without
    assert head.allowed[-1] == set(over_player_table(spoken_table(COMMANDS), without))


@pytest.mark.parametrize("talking", [False, None])
def test_otherwise_the_whole_grammar_is_used(talking: bool | None) -> None:
    recognizer, searches = _recognizer(SphinxConfig(), talking=talking)
    heard = recognizer.decode_segment(_segment())
    assert searches == [search_name(COMMANDS)]
    assert heard is not None
    assert heard.intent == Intent(command=Command.HELP)


def test_the_preset_without_it_keeps_the_whole_grammar_over_the_player() -> None:
    recognizer, searches = _recognizer(preset("whole_grammar_over_player"), talking=True)
    recognizer.decode_segment(_segment())
    assert searches == [search_name(COMMANDS)]


def test_other_contexts_keep_their_grammar_over_the_player() -> None:
    """An answer may overlap the end of its question: the gate takes answers then."""
    recognizer, searches = _recognizer(SphinxConfig(), talking=True)
    recognizer.set_context(ListenContext.PAIN_LEVEL)
    recognizer.decode_segment(_segment())
    assert searches == [search_name(ListenContext.PAIN_LEVEL)]


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_the_real_over_player_grammar_hears_barge_in_words_and_no_other_command(
    tmp_path: Path,
) -> None:
    recognizer = SphinxRecognizer()
    over = over_player_search_name(COMMANDS)
    table = over_player_table(spoken_table(COMMANDS))
    for said in ("stop", "that hurts", "pause"):
        audio, _ = stream([espeak(said, tmp_path)], gap_seconds=0.3)
        text, _ = recognizer._decode(audio, over)
        assert table.get(text) == parse(said), (said, text)
    for said in ("help", "next", "repeat that"):
        audio, _ = stream([espeak(said, tmp_path)], gap_seconds=0.3)
        text, _ = recognizer._decode(audio, over)
        assert text not in spoken_table(COMMANDS) or text in table, (said, text)
        assert parse(said) != table.get(text), (said, text)


class _SureNotHead:
    """Stands in for the command head on a torn word: p = 0.999 that no phrase was said."""

    def judge(self, samples: np.ndarray, allowed: set[str] | None = None) -> Verdict:
        return Verdict("<other>", 0.999, {"<other>": 0.999, "stop": 0.0005, "pause": 0.0005})


@pytest.mark.parametrize(("talking", "heard"), [(True, True), (False, False)])
def test_stop_decoded_over_the_player_escapes_the_heads_veto(talking: bool, heard: bool) -> None:
    recognizer = SphinxRecognizer()
    recognizer._verifier = _SureNotHead()  # type: ignore[assignment]
    recognizer._rescuer = None
    recognizer._verified = set(ListenContext)
    recognizer._decode = lambda samples, search: ("stop", 0.5)  # type: ignore[method-assign]
    recognizer.set_player_talking(lambda start, end: talking)
    result = recognizer.decode_segment(_segment())
    assert (result is not None and result.intent == Intent(command=Command.STOP)) is heard


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
@pytest.mark.parametrize("word", ["four", "okay"])
def test_where_torn_barge_in_words_went_is_no_alternative_over_the_player(
    tmp_path: Path, word: str
) -> None:
    """Torn "pause" went to "four" and torn "stop" to "okay" over the player; "four" counts
    only as an answer to "how bad?", whose grammar keeps it."""
    over = over_player_search_name(COMMANDS)
    audio, _ = stream([espeak(word, tmp_path)], gap_seconds=0.3)
    text, _ = SphinxRecognizer()._decode(audio, over)
    assert text != word
    kept, _ = SphinxRecognizer(preset("every_alternative_over_player"))._decode(audio, over)
    assert kept == word
    if word == "four":
        answer, _ = SphinxRecognizer()._decode(audio, search_name(ListenContext.PAIN_LEVEL))
        assert answer == "four"


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_foot_drop_counts_with_the_player_silent_and_not_over_it(tmp_path: Path) -> None:
    """Over the player, torn "stop" went to "foot drop" (a red flag); the other foot phrases
    still count there, and "foot drop" counts whenever the player is silent."""
    table = over_player_table(spoken_table(COMMANDS), SphinxConfig().over_player_without)
    assert "foot drop" not in table
    foot = parse("foot drop")
    assert {p for p, i in table.items() if i == foot} >= {"i cannot lift my foot"}
    audio, _ = stream([espeak("foot drop", tmp_path)], gap_seconds=0.3)
    recognizer = SphinxRecognizer()
    over, _ = recognizer._decode(audio, over_player_search_name(COMMANDS))
    assert over != "foot drop"
    silent, _ = recognizer._decode(audio, search_name(COMMANDS))
    assert silent == "foot drop"
    kept, _ = SphinxRecognizer(preset("every_alternative_over_player"))._decode(
        audio, over_player_search_name(COMMANDS)
    )
    assert kept == "foot drop"
