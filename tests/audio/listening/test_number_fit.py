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
from floorcoach.audio.listening.sphinx_decoder import PHONE_LOOP_SEARCH
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
