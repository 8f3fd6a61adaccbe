"""A number the command head turns down is still taken when the grammar fits it well.

The head says "no phrase" with p >= 0.99 for many numbers said by people it never heard, where
the grammar decoder heard them right (BENCHMARKS.md, eleventh session); the decoder's own
measure of fit, its path against a free phone loop, decides those.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from floorcoach.audio.listening.phrase_verifier import OTHER, Verdict
from floorcoach.audio.listening.sphinx_config import SphinxConfig, preset
from floorcoach.audio.listening.sphinx_decoder import NUMBERS_SEARCH, PHONE_LOOP_SEARCH
from floorcoach.audio.listening.sphinx_recognizer import SphinxRecognizer
from floorcoach.audio.listening.vad import Segment
from floorcoach.commands import Intent, ListenContext
from speech_fixtures import espeak, stream

FRAMES = 100
"""The fake segment's length in 10 ms frames: the fit is a per-frame figure."""


class _VetoingHead:
    """Stands in for the command head: sure that no phrase was said, and among phrases
    voting for another one (so the number rule of `HeadRule` turns "eight" down)."""

    def judge(self, samples: np.ndarray, allowed: set[str] | None = None) -> Verdict:
        return Verdict(OTHER, 0.999, {OTHER: 0.999, "eight": 0.0002, "stop": 0.0008})


def _recognizer(config: SphinxConfig, decoded: str, fit: float) -> SphinxRecognizer:
    """A recognizer whose decoder hears `decoded`, fitting `fit` per frame worse than free
    phones, and whose head vetoes everything."""
    recognizer = SphinxRecognizer(config)
    recognizer._verifier = _VetoingHead()  # type: ignore[assignment]
    recognizer._rescuer = None
    recognizer._verified = set(ListenContext)
    free_score = 0.5
    grammar_score = free_score * math.exp(fit * FRAMES)

    def fake_decode(samples: np.ndarray, search: str) -> tuple[str, float]:
        if search == PHONE_LOOP_SEARCH:
            return "SIL EY T SIL", free_score
        return decoded, grammar_score

    recognizer._decode = fake_decode  # type: ignore[method-assign]
    recognizer.set_context(ListenContext.PAIN_LEVEL)
    return recognizer


def _segment(speech_seconds: float) -> Segment:
    samples = np.zeros(FRAMES * 160, dtype=np.int16)
    return Segment(1.0, 1.0 + speech_seconds, speech_seconds, samples, False, -60.0)


@pytest.mark.parametrize(
    ("decoded", "fit", "speech_seconds", "expected"),
    [
        ("eight", -0.0010, 0.6, Intent(number=8)),  # fits well: the decoder is trusted
        ("eight", -0.0013, 0.6, Intent(number=8)),  # exactly at the line
        ("eight", -0.0016, 0.6, None),  # fits badly: the head's veto stands
        ("eight", -0.0010, 1.5, None),  # too much speech for one number
        ("stop", -0.0005, 0.6, None),  # only numbers: the veto on commands stands
    ],
)
def test_a_vetoed_number_is_taken_when_the_grammar_fits_it(
    decoded: str, fit: float, speech_seconds: float, expected: Intent | None
) -> None:
    heard = _recognizer(SphinxConfig(), decoded, fit).decode_segment(_segment(speech_seconds))
    assert (heard.intent if heard else None) == expected


def test_without_the_fit_the_head_veto_stands_as_before() -> None:
    recognizer = _recognizer(preset("no_number_fit"), "eight", -0.0001)
    assert recognizer.decode_segment(_segment(0.6)) is None


def test_the_fit_never_acts_early() -> None:
    """A number waits for the end of its segment, as before: "two" may be "too much"."""
    recognizer = _recognizer(SphinxConfig(), "eight", -0.0001)
    assert recognizer.decode_segment(_segment(0.6), early=True) is None


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_the_real_decoder_fits_a_spoken_number_better_than_talk_forced_onto_the_grammar(
    tmp_path: Path,
) -> None:
    """The fit the rule reads, from the real decoder and phone loop on real synthesis."""
    recognizer = SphinxRecognizer()
    recognizer.set_context(ListenContext.PAIN_LEVEL)
    search = recognizer._search(ListenContext.PAIN_LEVEL)
    fits = {}
    for text in ("zero", "the weather is fine today"):
        audio, _ = stream([espeak(text, tmp_path)], gap_seconds=0.3)
        words, score = recognizer._decode(audio, search)
        assert words, f"the grammar heard nothing in {text!r}"
        fits[text] = recognizer._fit.ratio(audio, score)
    assert fits["zero"] >= SphinxConfig().number_fit_ratio
    assert fits["the weather is fine today"] < 2 * SphinxConfig().number_fit_ratio


class _UnsureHead:
    """Stands in for the command head: sure that no phrase was said, yet among the numbers
    all but sure it was `number` (how it judges many numbers of people it never heard)."""

    def __init__(self, number: str, vote: float, share: float) -> None:
        rest = vote * (1.0 - share)
        self.probabilities = {OTHER: 1.0 - vote, number: vote * share, "two": rest}

    def judge(self, samples: np.ndarray, allowed: set[str] | None = None) -> Verdict:
        return Verdict(OTHER, self.probabilities[OTHER], dict(self.probabilities))


def _forcing_recognizer(
    config: SphinxConfig, head: _UnsureHead, decoded: str, forced: str, fit: float
) -> SphinxRecognizer:
    """A recognizer whose decoder hears `decoded` with the context's grammar (fitting badly)
    and `forced` with the numbers alone, fitting `fit` per frame worse than free phones."""
    recognizer = _recognizer(config, decoded, -0.01)
    recognizer._verifier = head  # type: ignore[assignment]
    free_score = 0.5

    def fake_decode(samples: np.ndarray, search: str) -> tuple[str, float]:
        if search == PHONE_LOOP_SEARCH:
            return "SIL S EH V AH N SIL", free_score
        if search == NUMBERS_SEARCH:
            return forced, free_score * math.exp(fit * FRAMES)
        return decoded, free_score * math.exp(-0.01 * FRAMES)

    recognizer._decode = fake_decode  # type: ignore[method-assign]
    return recognizer


@pytest.mark.parametrize(
    ("forced", "fit", "vote", "share", "speech_seconds", "expected"),
    [
        ("seven", -0.0010, 0.01, 0.999, 0.5, Intent(number=7)),  # the head's number, fitting
        ("seven", -0.0013, 0.01, 0.99, 0.5, Intent(number=7)),  # exactly at both lines
        ("seven", -0.0016, 0.01, 0.999, 0.5, None),  # the numbers fit badly: talk
        ("eight", -0.0010, 0.01, 0.999, 0.5, None),  # the decoder's number is not the head's
        ("seven", -0.0010, 0.01, 0.95, 0.5, None),  # the head is torn between numbers
        ("seven", -0.0010, 0.001, 0.999, 0.5, None),  # the head all but sure it was no phrase
        ("seven", -0.0010, 0.01, 0.999, 1.5, None),  # too much speech for one number
    ],
)
def test_a_segment_turned_down_is_taken_as_the_number_head_and_decoder_agree_on(
    forced: str,
    fit: float,
    vote: float,
    share: float,
    speech_seconds: float,
    expected: Intent | None,
) -> None:
    """The decoder heard the filler "fine" where a person said "seven"."""
    head = _UnsureHead("seven", vote, share)
    recognizer = _forcing_recognizer(SphinxConfig(), head, "fine", forced, fit)
    heard = recognizer.decode_segment(_segment(speech_seconds))
    assert (heard.intent if heard else None) == expected
    if heard is not None:
        assert heard.text == "seven"


def test_a_number_that_fails_the_fit_and_is_then_forced_decodes_the_phone_loop_once() -> None:
    """The decoder heard "eight" fitting badly (the fit test decodes the phone loop); the
    segment is then tried as a forced number, whose fit needs the same phone-loop score."""
    head = _UnsureHead("seven", 0.01, 0.999)
    recognizer = _forcing_recognizer(SphinxConfig(), head, "eight", "seven", -0.0010)
    decode = recognizer._decode
    searches: list[str] = []

    def counting(samples: np.ndarray, search: str) -> tuple[str, float]:
        searches.append(search)
        return decode(samples, search)

    recognizer._decode = counting  # type: ignore[method-assign]
    heard = recognizer.decode_segment(_segment(0.5))
    assert heard is not None
    assert heard.intent == Intent(number=7)
    assert NUMBERS_SEARCH in searches
    assert searches.count(PHONE_LOOP_SEARCH) == 1
    searches.clear()
    recognizer.decode_segment(_segment(0.5))  # another segment: decoded afresh
    assert searches.count(PHONE_LOOP_SEARCH) == 1


def test_forced_numbers_are_off_in_their_preset_and_never_early() -> None:
    head = _UnsureHead("seven", 0.01, 0.999)
    off = _forcing_recognizer(preset("no_forced_number"), head, "fine", "seven", -0.0010)
    assert off.decode_segment(_segment(0.5)) is None
    on = _forcing_recognizer(SphinxConfig(), head, "fine", "seven", -0.0010)
    assert on.decode_segment(_segment(0.5), early=True) is None


def test_forced_numbers_only_where_numbers_are_listened_for() -> None:
    """In the commands context a number means nothing: the numbers are never tried there."""
    head = _UnsureHead("seven", 0.01, 0.999)
    recognizer = _forcing_recognizer(SphinxConfig(), head, "fine", "seven", -0.0010)
    recognizer.set_context(ListenContext.COMMANDS)
    assert recognizer.decode_segment(_segment(0.5)) is None


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_the_real_numbers_search_hears_a_spoken_number_and_fits_talk_badly(
    tmp_path: Path,
) -> None:
    """The numbers-only grammar of the real decoder: a spoken "seven" comes out as "seven"
    and fits at the line; a sentence forced onto the numbers fits far below it."""
    recognizer = SphinxRecognizer()
    fits = {}
    for text in ("seven", "the weather is fine today"):
        audio, _ = stream([espeak(text, tmp_path)], gap_seconds=0.3)
        words, score = recognizer._decode(audio, NUMBERS_SEARCH)
        if text == "seven":
            assert words == "seven"
        fits[text] = recognizer._fit.ratio(audio, score)
    assert fits["seven"] >= SphinxConfig().number_fit_ratio
    assert fits["the weather is fine today"] < 2 * SphinxConfig().number_fit_ratio
