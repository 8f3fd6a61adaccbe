"""The pocketsphinx tuning: every named preset exists, and safety intents are told apart."""

from __future__ import annotations

import pytest

from floorcoach.audio.listening.recognizer import is_safety
from floorcoach.audio.listening.sphinx_config import SphinxConfig, preset
from floorcoach.commands import Command, Intent, RedFlag
from floorcoach.errors import RecognizerError

NAMES = (
    "default grammar contexts reject typed_grammar strict verify verify_2s verifier_only head "
    "head_only plain gate nobestpath denoise ratio ratio_denoise denoise_always denoise30 "
    "ratio_denoise30"
).split()


@pytest.mark.parametrize("name", NAMES)
def test_every_preset_is_a_config(name: str) -> None:
    assert isinstance(preset(name), SphinxConfig)


def test_default_is_the_plain_config_and_grammar_turns_the_verifier_off() -> None:
    assert preset("default") == SphinxConfig()
    grammar = preset("grammar")
    assert not grammar.verifier
    assert grammar.max_command_seconds == 2.0


def test_an_unknown_preset_lists_the_names() -> None:
    with pytest.raises(RecognizerError, match="default, grammar, contexts"):
        preset("fastest")


def test_stop_pain_and_red_flags_are_safety_intents() -> None:
    assert is_safety(Intent(command=Command.STOP))
    assert is_safety(Intent(command=Command.PAIN))
    assert is_safety(Intent(red_flag=RedFlag.WEAK_LEGS))
    assert not is_safety(Intent(command=Command.PAUSE))
    assert not is_safety(Intent(number=6))
