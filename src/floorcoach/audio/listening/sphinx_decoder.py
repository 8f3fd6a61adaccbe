"""Builds and runs the pocketsphinx decoder: one JSGF grammar search per listening context.

Everything that speaks pocketsphinx's API is here: the grammars built from the phrase table
(with NOT_COMMANDS and the other contexts' phrases as places for non-commands to go), the
extra pronunciations, the free phone loop the grammar's score is compared with, and one
decode of a segment. The recognizer (sphinx_recognizer.py) decides what the text means.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from floorcoach.commands import Intent, ListenContext, grammar_phrases
from floorcoach.errors import RecognizerError

_LOGGER = logging.getLogger(__name__)

PHONE_LOOP_SEARCH: Final = "phones"
"""The free phone loop's search (built with `phone_loop`): how well any sounds fit."""

NUMBERS_SEARCH: Final = "numbers"
"""A grammar of the numbers alone (built with `numbers`): the number a segment sounds most
like, for one the other rules turned down (grammar_fit.GrammarFit.forced_number)."""

EXTRA_PRONUNCIATIONS: Final[dict[str, tuple[str, ...]]] = {
    # Alternatives for words people say loosely or the dictionary spells one way only.
    "ouch": ("AW T CH",),
    # Not in cmudict, but people ask about it by name.
    "sciatica": ("S AY AE T IH K AH",),
}
"""Extra pronunciations added to the dictionary (the phrase table itself stays in commands.py)."""


NOT_COMMANDS: Final[tuple[str, ...]] = (
    # Common short replies and sounds (a generic list, not taken from the benchmark): in the
    # grammar they give short other speech somewhere to go besides a command.
    "yes",
    "yeah",
    "no",
    "okay",
    "thank you",
    "thanks",
    "right",
    "alright",
    "fine",
    "oh",
    "hmm",
    "well",
    "sorry",
    "please",
)
"""Whole utterances that are decoded like phrases but mean nothing (SphinxConfig.reject)."""


def model_dir() -> str:
    """The en-us acoustic model and dictionary shipped inside the pocketsphinx wheel."""
    from pocketsphinx import get_model_path

    return str(get_model_path())


def search_name(context: ListenContext) -> str:
    """The decoder search holding one context's grammar."""
    return f"ctx_{context.value}"


def over_player_search_name(context: ListenContext) -> str:
    """The decoder search for one context while the player talks (`build_decoder`)."""
    return f"ctx_{context.value}_over_player"


def grammar_for(
    phrases: list[str], has_word: set[str], others: list[str] | None = None
) -> tuple[str, list[str]]:
    """A JSGF grammar of the phrases whose words are all pronounceable, and those left out.

    `others` are extra alternatives that are not phrases: when one of them fits the audio
    best, the segment is not a command.
    """
    usable: list[str] = []
    skipped: list[str] = []
    for phrase in phrases:
        if all(word in has_word for word in phrase.split()):
            usable.append(phrase)
        else:
            skipped.append(phrase)
    extra = [o for o in others or [] if o not in usable and all(w in has_word for w in o.split())]
    body = " | ".join(usable + extra)
    return f"#JSGF V1.0;\ngrammar commands;\npublic <command> = {body};\n", skipped


def add_pronunciations(decoder: Any, word: str, prons: tuple[str, ...]) -> None:
    """Add pronunciations as word, word(2), ... skipping ones the dictionary already has."""
    have: list[str] = []
    index = 1
    while True:
        name = word if index == 1 else f"{word}({index})"
        pron = decoder.lookup_word(name)
        if pron is None:
            break
        have.append(" ".join(pron.split()))
        index += 1
    for pron in prons:
        if pron in have:
            continue
        name = word if index == 1 else f"{word}({index})"
        decoder.add_word(name, pron, False)
        have.append(pron)
        index += 1


def pronunciations(decoder: Any, phrase: str) -> list[tuple[str, ...]]:
    """Every phone sequence the decoder's dictionary allows for `phrase` (none: a word unknown)."""
    sequences: list[tuple[str, ...]] = [()]
    for word in phrase.split():
        variants: list[tuple[str, ...]] = []
        index = 1
        while (pron := decoder.lookup_word(word if index == 1 else f"{word}({index})")) is not None:
            variants.append(tuple(pron.split()))
            index += 1
        sequences = [done + variant for done in sequences for variant in variants]
    return sequences


def sounds_like_a_start(decoder: Any, table: dict[str, Intent]) -> set[str]:
    """Phrases that sound like the beginning of a phrase meaning something else.

    "two" is how "too much" begins, "my leg" how "my leg is dead" begins: heard before the
    speaker has finished, such a phrase may be the wrong intent, so it never acts early.
    """
    sounds = {phrase: pronunciations(decoder, phrase) for phrase in table}
    starts: set[str] = set()
    for short, short_sounds in sounds.items():
        for long, long_sounds in sounds.items():
            if table[short] == table[long]:
                continue
            if any(len(a) < len(b) and b[: len(a)] == a for a in short_sounds for b in long_sounds):
                starts.add(short)
    return starts


def write_dictionary(words: set[str], path: Path) -> int:
    """Write the wheel's pronunciations of `words` (all variants) to `path`; return the count.

    The whole cmudict (135,000 words) costs the decoder 22 MB of memory; the grammars use a
    few hundred words, and with only those the decoder takes 6 MB (BENCHMARKS.md, resource
    budget). The pronunciations are the same lines, so decoding is unchanged.
    """
    source = Path(model_dir()) / "en-us" / "cmudict-en-us.dict"
    kept = []
    with source.open(encoding="utf-8") as lines:
        for line in lines:
            head = line.split(" ", 1)[0]
            if head.split("(", 1)[0] in words:
                kept.append(line if line.endswith("\n") else line + "\n")
    path.write_text("".join(kept), encoding="utf-8")
    return len(kept)


def _in_order(table: dict[str, Intent], order: list[str]) -> list[str]:
    """The table's phrases in grammar order (`grammar_phrases`), then any others."""
    return [p for p in order if p in table] + [p for p in table if p not in order]


def build_decoder(
    tables: dict[ListenContext, dict[str, Intent]],
    *,
    bestpath: bool,
    reject: bool,
    absorb: bool,
    phone_loop: bool,
    over_player: dict[ListenContext, dict[str, Intent]] | None = None,
    over_player_without: frozenset[str] = frozenset(),
    numbers: list[str] | None = None,
) -> Any:
    """A decoder with a grammar search per context (`search_name`) and, with `phone_loop`,
    the free phone loop (`PHONE_LOOP_SEARCH`); with `numbers` (phrases of the tables), a
    search of those alone (`NUMBERS_SEARCH`).

    `reject` adds NOT_COMMANDS to every grammar; `absorb` adds the other contexts' phrases,
    so they are decoded and then ignored instead of forced onto one of this context's.
    `over_player` gives contexts a second search (`over_player_search_name`) holding only
    those of its phrases that count while the player talks; its alternatives are the same
    others, but not the context's own phrases left out, nor `over_player_without` (which the
    caller also leaves out of the over-player tables).
    """
    try:
        from pocketsphinx import Decoder
    except ImportError as exc:  # pragma: no cover - a dependency
        raise RecognizerError(f"pocketsphinx is not installed ({exc})") from None
    over_player = over_player or {}
    used_words = {w for t in tables.values() for p in t for w in p.split()}
    others = list(NOT_COMMANDS) if reject else []
    other_words = {w for o in others for w in o.split()}
    with tempfile.TemporaryDirectory(prefix="floorcoach-dict-") as folder:
        dictionary = Path(folder) / "words.dict"
        write_dictionary(used_words | other_words, dictionary)
        try:
            decoder = Decoder(lm=None, dict=str(dictionary), bestpath=bestpath, logfn=os.devnull)
        except (RuntimeError, ValueError) as exc:
            raise RecognizerError(f"pocketsphinx could not start: {exc}") from None
    known = {w for w in used_words | other_words if decoder.lookup_word(w) is not None}
    for word, prons in EXTRA_PRONUNCIATIONS.items():
        if word in used_words:
            add_pronunciations(decoder, word, prons)
            known.add(word)
    order = grammar_phrases()
    everything = [p for t in tables.values() for p in t]
    for context, table in tables.items():
        phrases = _in_order(table, order)
        ignored = [p for p in everything if p not in table] if absorb else []
        jsgf, skipped = grammar_for(phrases, known, list(dict.fromkeys(others + ignored)))
        if skipped:
            # Digits ("6") are typed forms of words already in the grammar.
            _LOGGER.debug("%s: phrases with unknown words left out: %s", context, skipped)
        decoder.add_jsgf_string(search_name(context), jsgf)
    for context, table in over_player.items():
        phrases = _in_order(table, order)
        elsewhere = [p for c, t in tables.items() if c != context for p in t]
        ignored = [p for p in elsewhere if p not in table] if absorb else []
        kept = [p for p in others + ignored if p not in over_player_without]
        jsgf, _ = grammar_for(phrases, known, list(dict.fromkeys(kept)))
        decoder.add_jsgf_string(over_player_search_name(context), jsgf)
    if numbers:
        jsgf, _ = grammar_for(numbers, known)
        decoder.add_jsgf_string(NUMBERS_SEARCH, jsgf)
    if phone_loop:
        decoder.add_allphone_file(
            PHONE_LOOP_SEARCH, os.path.join(model_dir(), "en-us-phone.lm.bin")
        )
    return decoder


def decode(decoder: Any, samples: npt.NDArray[np.int16], search: str) -> tuple[str, float]:
    """Text and score (pocketsphinx reports exp of the log score) of one search."""
    decoder.activate_search(search)
    decoder.start_utt()
    decoder.process_raw(samples.astype("<i2").tobytes(), False, True)
    decoder.end_utt()
    hyp = decoder.hyp()
    if hyp is None:
        return "", 0.0
    text = " ".join(hyp.hypstr.split())
    return text, float(hyp.score)
