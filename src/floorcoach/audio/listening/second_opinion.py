"""The second opinion that checks the grammar decoder's guess, and which one to use.

Either the command head (a classifier on a real-speech embedding, command_head.py) or the
phrase verifier trained on synthesizers (phrase_verifier.py); both answer with a `Verdict`
over phrases, which `intent_probabilities` reads per intent.
"""

from __future__ import annotations

import logging
from typing import Protocol

import numpy as np
import numpy.typing as npt

from floorcoach.audio.listening.command_head import CommandHead
from floorcoach.audio.listening.phrase_verifier import PhraseVerifier, Verdict, verifier_dir
from floorcoach.commands import Intent
from floorcoach.errors import ModelNotFoundError, RecognizerError

_LOGGER = logging.getLogger(__name__)


class SecondOpinion(Protocol):
    """What checks the grammar decoder's guess: the phrase verifier or the command head."""

    classes: list[str]
    description: str

    def judge(self, samples: npt.NDArray[np.int16], allowed: set[str] | None = None) -> Verdict:
        """The likeliest allowed phrase of a segment, or OTHER."""
        ...


def choose_second_opinion(kind: str) -> SecondOpinion:
    """The second opinion named by `SphinxConfig.second_opinion`: "head" or "verifier"."""
    if kind == "head":
        try:
            return CommandHead()
        except ModelNotFoundError as exc:
            # A head out of step with the phrase table (a phrase added, not yet retrained):
            # the phrase verifier still checks the contexts whose phrases it knows.
            try:
                verifier = PhraseVerifier(verifier_dir())
            except ModelNotFoundError:
                raise exc from None
            _LOGGER.warning("command head not used (%s); using the %s", exc, verifier.description)
            return verifier
    if kind == "verifier":
        return PhraseVerifier(verifier_dir())
    raise RecognizerError(f"unknown second opinion {kind!r}: choose head or verifier")


def intent_probabilities(verdict: Verdict, table: dict[str, Intent]) -> dict[Intent, float]:
    """The verifier's probability of each intent: the sum over the phrases that mean it."""
    by_intent: dict[Intent, float] = {}
    for phrase, intent in table.items():
        by_intent[intent] = by_intent.get(intent, 0.0) + verdict.probabilities.get(phrase, 0.0)
    return by_intent


def likeliest_phrase(intent: Intent, verdict: Verdict, table: dict[str, Intent]) -> str:
    """The phrase meaning `intent` that the second opinion found likeliest."""
    return max(
        (phrase for phrase, meant in table.items() if meant == intent),
        key=lambda phrase: verdict.probabilities.get(phrase, 0.0),
    )
