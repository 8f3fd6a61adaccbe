"""How well the grammar decoder's path fits a segment, and the numbers taken on that fit.

The grammar decoder always answers with some phrase; its score against a free phone loop over
the same audio says whether the phrase explains the sounds or was forced onto them. That is
the `strict` presets' rejection test, and it decides numbers the command head turned down.
Only the pain-level question listens for numbers, and the head says "no phrase" with
p >= 0.99 for many numbers said by people it never heard (Speech Commands clips,
telephone-band digits), where the decoder heard them right (BENCHMARKS.md, eleventh session).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from floorcoach.audio.listening.recognizer import is_number
from floorcoach.audio.listening.sphinx_config import SphinxConfig
from floorcoach.audio.listening.sphinx_decoder import NUMBERS_SEARCH, PHONE_LOOP_SEARCH
from floorcoach.commands import Intent

_LOGGER = logging.getLogger(__name__)

Decode = Callable[[npt.NDArray[np.int16], str], "tuple[str, float]"]
"""(samples, search) -> the search's text and score (SphinxRecognizer._decode)."""

SAMPLES_PER_FRAME = 160
"""The decoder's 10 ms frame at 16 kHz: the fit is a per-frame figure."""


class GrammarFit:
    """The phone-loop fit test, and the two number rules built on it."""

    def __init__(self, config: SphinxConfig, decode: Decode) -> None:
        self._config = config
        self._decode = decode
        self._free: tuple[npt.NDArray[np.int16], float] | None = None
        """The last segment decoded with the phone loop, and its score."""

    def ratio(self, samples: npt.NDArray[np.int16], grammar_score: float) -> float:
        """How well the grammar's path fits: its ln score minus a free phone loop's, per 10 ms
        frame (0 when the grammar's words explain the sounds as well as any phones do)."""
        free_score = self._free_score(samples)
        frames = max(1, len(samples) // SAMPLES_PER_FRAME)
        return (math.log(max(grammar_score, 1e-300)) - math.log(max(free_score, 1e-300))) / frames

    def _free_score(self, samples: npt.NDArray[np.int16]) -> float:
        """The phone loop's score, decoded once a segment: a number that fails the fit test
        is then tried as a forced number, which needs the same score again."""
        if self._free is None or self._free[0] is not samples:
            self._free = (samples, self._decode(samples, PHONE_LOOP_SEARCH)[1])
        return self._free[1]

    @property
    def fits_numbers(self) -> bool:
        """Whether a number the head rule turned down gets the fit test."""
        return self._config.number_fit_ratio > -1.0

    def number_fits(
        self,
        speech_seconds: float,
        decoded: Intent | None,
        samples: npt.NDArray[np.int16],
        score: float,
    ) -> bool:
        """A number the decoder heard and the head rule turned down is taken when the grammar
        fits it well (`SphinxConfig.number_fit_ratio`)."""
        c = self._config
        if not self.fits_numbers or not is_number(decoded):
            return False
        if speech_seconds > c.number_fit_max_seconds:
            return False
        ratio = self.ratio(samples, score)
        _LOGGER.debug("number %s fits the grammar at %.5f per frame", decoded, ratio)
        return ratio >= c.number_fit_ratio

    @property
    def forces_numbers(self) -> bool:
        """Whether a segment turned down is tried as a number (`forced_number`)."""
        return self.fits_numbers and self._config.forced_number_share <= 1.0

    def forced_number(
        self,
        speech_seconds: float,
        samples: npt.NDArray[np.int16],
        by_intent: dict[Intent, float],
        table: dict[str, Intent],
    ) -> tuple[Intent, str, float] | None:
        """(number, phrase, the head's probability of it) for a short segment every other
        rule turned down, or None (`SphinxConfig.forced_number_share`).

        `by_intent` is the head's probability per intent of the context; `table` the
        context's phrases. The head is asked first: most talk ends there, undecoded.
        """
        c = self._config
        if not self.forces_numbers or speech_seconds > c.number_fit_max_seconds:
            return None
        numbers = {intent: p for intent, p in by_intent.items() if is_number(intent)}
        among = sum(numbers.values())
        if not numbers or among <= 0.0 or sum(by_intent.values()) < c.forced_number_vote:
            return None
        guess, p = max(numbers.items(), key=lambda item: item[1])
        if p < c.forced_number_share * among:
            return None
        text, score = self._decode(samples, NUMBERS_SEARCH)
        if table.get(text) != guess:
            return None
        ratio = self.ratio(samples, score)
        _LOGGER.debug("%r forced as the number %s: fit %.5f per frame", text, guess, ratio)
        return (guess, text, p) if ratio >= c.number_fit_ratio else None
