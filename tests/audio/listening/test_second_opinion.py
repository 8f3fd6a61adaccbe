"""The second opinion: which one is chosen, and how its phrase probabilities add up per intent."""

from __future__ import annotations

import pytest

from floorcoach.audio.listening import second_opinion
from floorcoach.audio.listening.phrase_verifier import Verdict
from floorcoach.audio.listening.second_opinion import choose_second_opinion, intent_probabilities
from floorcoach.commands import Command, Intent
from floorcoach.errors import ModelNotFoundError, RecognizerError

PAUSE = Intent(command=Command.PAUSE)
STOP = Intent(command=Command.STOP)


def test_intent_probabilities_add_the_phrases_that_mean_the_same() -> None:
    table = {"pause": PAUSE, "hold on": PAUSE, "stop": STOP}
    verdict = Verdict("pause", 0.5, {"pause": 0.5, "hold on": 0.25, "stop": 0.125, "zzz": 0.1})
    assert intent_probabilities(verdict, table) == {PAUSE: 0.75, STOP: 0.125}


def test_intent_probabilities_give_every_intent_of_the_table() -> None:
    verdict = Verdict("pause", 0.9, {"pause": 0.9})
    assert intent_probabilities(verdict, {"pause": PAUSE, "stop": STOP}) == {PAUSE: 0.9, STOP: 0.0}


class FakeVerifier:
    classes = ["pause"]
    description = "fake phrase verifier"

    def __init__(self, directory: object) -> None:
        self.directory = directory


def missing(*args: object) -> None:
    raise ModelNotFoundError("no such model")


def test_a_missing_head_falls_back_to_the_phrase_verifier(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(second_opinion, "CommandHead", missing)
    monkeypatch.setattr(second_opinion, "PhraseVerifier", FakeVerifier)
    assert isinstance(choose_second_opinion("head"), FakeVerifier)
    assert isinstance(choose_second_opinion("verifier"), FakeVerifier)


def test_with_neither_model_the_head_is_reported_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    def head_missing() -> None:
        raise ModelNotFoundError("no command head")

    monkeypatch.setattr(second_opinion, "CommandHead", head_missing)
    monkeypatch.setattr(second_opinion, "PhraseVerifier", missing)
    with pytest.raises(ModelNotFoundError, match="no command head"):
        choose_second_opinion("head")


def test_an_unknown_second_opinion_names_the_choices() -> None:
    with pytest.raises(RecognizerError, match="choose head or verifier"):
        choose_second_opinion("oracle")
