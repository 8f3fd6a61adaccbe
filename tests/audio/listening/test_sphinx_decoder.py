"""The decoder's own small dictionary: the grammar's words, every pronunciation, nothing else."""

from __future__ import annotations

from pathlib import Path

from floorcoach.audio.listening.sphinx_decoder import build_decoder, model_dir, write_dictionary
from floorcoach.commands import Command, Intent, ListenContext


def _wheel_lines(word: str) -> list[str]:
    source = Path(model_dir()) / "en-us" / "cmudict-en-us.dict"
    return [
        line.rstrip("\n")
        for line in source.read_text(encoding="utf-8").splitlines()
        if line.split(" ", 1)[0].split("(", 1)[0] == word
    ]


def test_the_dictionary_keeps_every_pronunciation_of_the_words_asked_and_no_other(
    tmp_path: Path,
) -> None:
    path = tmp_path / "words.dict"
    count = write_dictionary({"pause", "either", "hurts"}, path)
    lines = path.read_text(encoding="utf-8").splitlines()
    expected = _wheel_lines("pause") + _wheel_lines("either") + _wheel_lines("hurts")
    assert len(_wheel_lines("either")) >= 2  # a word with variants: either(2)
    assert sorted(lines) == sorted(expected)
    assert count == len(expected)


def test_the_decoder_knows_the_grammar_words_and_not_the_rest_of_english() -> None:
    decoder = build_decoder(
        {
            ListenContext.COMMANDS: {
                "pause": Intent(Command.PAUSE),
                "that hurts": Intent(Command.PAIN),
            }
        },
        bestpath=False,
        reject=True,
        absorb=False,
        phone_loop=False,
    )
    assert decoder.lookup_word("pause") is not None
    assert decoder.lookup_word("hurts") is not None
    assert decoder.lookup_word("thanks") is not None  # NOT_COMMANDS, with reject
    assert decoder.lookup_word("sciatica") is None  # extra, but not in this grammar
    assert decoder.lookup_word("elephant") is None  # the other 135,000 words: left out
