"""The command head: which phrase (or none) a segment holds, judged on a real-speech embedding.

Why: the grammar decoder forces almost any short utterance onto some phrase, so every segment
it maps to a command is checked by a second opinion. The first second opinion (the phrase
verifier) was trained from scratch on synthesizers and turned recorded people down. This one
reads Google's speech embedding (listening/speech_embedding.py, trained on real speech) and is a
one-hidden-layer network (the shipped one: four averaged, see `side_by_side`) trained by
`scripts/train_command_head` on synthetic voices saying every phrase, the recorded people we
have, and a lot of recorded ordinary speech labelled "not a command". Its answer has the same
shape as the verifier's (`Verdict`), so the recognizer's decision rule serves both.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from floorcoach.audio.listening.phrase_verifier import (
    OTHER,
    Verdict,
    verdict_among,
    verifier_phrases,
)
from floorcoach.audio.listening.recognizer import is_number
from floorcoach.audio.listening.speech_embedding import SpeechEmbedder, shared_embedder
from floorcoach.blas_threads import one_blas_thread
from floorcoach.commands import Command, Intent
from floorcoach.errors import ModelNotFoundError
from floorcoach.paths import VOICE_MODELS_DIR

__all__ = [
    "HEAD_DIR",
    "OTHER",
    "CommandHead",
    "HeadRule",
    "Layers",
    "head_phrases",
    "is_consequential",
    "pool_embeddings",
    "side_by_side",
]

HEAD_DIR: Final = VOICE_MODELS_DIR / "command-head"
PROFILE_POINTS: Final = 4
"""The embedding sequence is also sampled at this many evenly spaced times, so word order
counts ("that hurts" is not "hurts that")."""


def head_dir() -> Path:
    """Where the head is: $FLOORCOACH_HEAD_DIR (benchmarks of other heads) or HEAD_DIR."""
    override = os.environ.get("FLOORCOACH_HEAD_DIR")
    return Path(override) if override else HEAD_DIR


def head_phrases() -> list[str]:
    """The phrases the head is trained on: every phrase of every listening context."""
    return verifier_phrases()


def pool_embeddings(embeddings: npt.NDArray[np.floating]) -> npt.NDArray[np.float32]:
    """A fixed-size summary of a segment's embeddings: mean, max, and a coarse time profile."""
    e = np.asarray(embeddings, dtype=np.float32)
    n = e.shape[0]
    at = np.linspace(0, n - 1, PROFILE_POINTS) if n > 1 else np.zeros(PROFILE_POINTS)
    lo = np.floor(at).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    frac = (at - lo)[:, None].astype(np.float32)
    profile = e[lo] * (1.0 - frac) + e[hi] * frac
    length = np.array([np.log(n)], dtype=np.float32)
    return np.concatenate([e.mean(axis=0), e.max(axis=0), profile.reshape(-1), length])


Layers = list[tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]]
"""A network's layers, each (weights in x out, bias); ReLU between them."""


def side_by_side(members: list[Layers]) -> Layers:
    """One-hidden-layer networks made into one wider network that averages their logits.

    Why: heads trained on the same examples with different seeds disagree on people they
    never heard (out of sample, a second seed moved the streams' figures by a word or two and
    false commands by 2.5 an hour). Their average is steadier; put side by side in one hidden
    layer it is still a single network, loaded and run like any head.
    """
    if not members or any(len(layers) != 2 for layers in members):
        raise ValueError("side_by_side needs one or more networks of exactly two layers")
    if len(members) == 1:
        return members[0]
    n = len(members)
    w0 = np.concatenate([layers[0][0] for layers in members], axis=1)
    b0 = np.concatenate([layers[0][1] for layers in members])
    w1 = np.concatenate([layers[1][0] for layers in members], axis=0) / n
    b1 = np.mean([layers[1][1] for layers in members], axis=0)
    return [(w0, b0), (w1.astype(np.float32), b1.astype(np.float32))]


CONSEQUENTIAL_COMMANDS: Final = frozenset(
    {Command.STOP, Command.NEXT, Command.PREVIOUS, Command.RESTART}
)


GENTLE_COMMANDS: Final = frozenset({Command.PAUSE, Command.PAIN})
"""Safety commands whose false acceptance costs little: a pause, or "how bad is it?"."""


def is_consequential(intent: Intent) -> bool:
    """Commands whose false acceptance ends or moves the session: stop, next, previous,
    restart, and every red flag (the benchmark counts these apart)."""
    return intent.red_flag is not None or intent.command in CONSEQUENTIAL_COMMANDS


@dataclass(frozen=True)
class HeadRule:
    """How the grammar decoder and the command head decide together.

    Chosen on recorded people, out of sample (scripts/tune_head: each speaker judged by a
    head that never heard them), between commands heard and false commands per hour. Two
    findings shaped it: the head's choice *among* phrases carries to new voices far better
    than its "not a command" (unseen voices are pushed towards not-a-command), so agreement
    with the decoder is judged on the head's vote among phrases; and the decoder often hears
    a filler word ("fine", "thanks") where a person said "five" or "six", where the head's
    own answer is then worth taking.
    """

    agree_share: float = 0.7
    """The decoder's intent is taken when it has this share of the head's vote among phrases
    (not-a-phrase left out)..."""
    veto: float = 0.99
    """...unless the head is at least this sure it was not a phrase at all."""
    alone: float = 0.5
    """The head's likeliest intent is taken at this probability when the decoder heard a
    different phrase of the context..."""
    filler: float = 0.3
    """...and at this one when the decoder heard a filler word or nothing."""
    gentle_share: float = 0.1
    """For pause and pain ("hold on", "that hurts"), the decoder's intent needs only this share
    of the vote, with the veto at `gentle_veto`: people say them over the player's voice, and
    the mixed segment makes the head unsure; a false one costs a pause or a question."""
    gentle_veto: float = 0.999
    pain_veto: float = 1.01
    """Pain ("that hurts", "ouch") the decoder heard in a short segment is never vetoed: said
    over the player's voice, the words come out of the echo canceller torn, and the head was
    p >= 0.999 sure "no phrase" for 10 of the 13 "that hurts" missed on the -10 dB capture
    that the decoder heard right. A missed "that hurts" is worse than an extra "how bad is
    it?" (BENCHMARKS.md, eleventh session)."""
    pain_veto_seconds: float = 1.0
    """...in a segment with at most this much speech; in longer ones `gentle_veto` applies.
    "that hurts" takes 0.5-0.9 s; bystanders' talk decoded as pain over the player ("it hurts
    so much when...") asked 9 pain questions in 86 minutes with the over-player grammar and no
    bound (1 with the whole grammar), 3 with it, for one barge-in "that hurts" of 180 at 0 dB."""
    over_player_stop_share: float = 0.1
    """Stop the decoder heard over the player's voice (the over-player grammar), in a segment
    with at most `pain_veto_seconds` of speech, needs only this share of the vote..."""
    over_player_stop_veto: float = 1.01
    """...and is never vetoed. At 0 dB of echo the head was p >= 0.99 sure "no phrase" for 5
    of the torn "stop"s the decoder heard right (33 of 60 stops heard instead of 28); a false
    one asks "say stop again" (bystanders: once in 86 minutes). Only over the player: without
    it, recorded people's non-command talk gave 6 more false stops in 4.45 hours (twelfth
    session, BENCHMARKS.md)."""
    number_share: float = 0.5
    """A number the decoder heard (only the pain-level question listens for numbers) is taken
    when it is the head's first choice among phrases (at least half its vote there)..."""
    number_veto: float = 1.01
    """...however sure the head is that no phrase was said: it says so with p >= 0.99 for many
    numbers said by people it never heard (Speech Commands clips, telephone-band digits). On
    non-command speech decoded in the pain-level context, the 162 numbers the decoder heard had
    under 5 % of the head's vote among phrases every time (out of sample, eighth session)."""
    consequential_alone: float = 1.01
    """The head alone never stops, skips, restarts or raises a red flag: for those the
    decoder must agree (out of sample this halved consequential false commands for ~1 point
    of commands heard)."""

    def decide(
        self,
        decoded: Intent | None,
        by_intent: dict[Intent, float],
        speech_seconds: float = 0.0,
        over_player: bool = False,
    ) -> Intent | None:
        """The intent to act on, or None; `by_intent` is the head's probability per intent of
        the context (their sum is the probability that the segment was a phrase);
        `speech_seconds`, the segment's speech (for `pain_veto_seconds`); `over_player`, whether
        it was decoded with the over-player grammar."""
        if not by_intent:
            return None
        vote = sum(by_intent.values())
        if decoded is not None and vote > 0.0:
            share = by_intent.get(decoded, 0.0) / vote
            gentle = decoded.command in GENTLE_COMMANDS
            need_share = self.gentle_share if gentle else self.agree_share
            veto = self.gentle_veto if gentle else self.veto
            short = speech_seconds <= self.pain_veto_seconds
            if decoded.command is Command.PAIN and short:
                veto = self.pain_veto
            if decoded.command is Command.STOP and over_player and short:
                need_share, veto = self.over_player_stop_share, self.over_player_stop_veto
            if is_number(decoded):
                need_share, veto = self.number_share, self.number_veto
            if share >= need_share and 1.0 - vote < veto:
                return decoded
        guess, p = max(by_intent.items(), key=lambda item: item[1])
        need = self.alone if decoded is not None else self.filler
        if is_consequential(guess):
            need = max(need, self.consequential_alone)
        return guess if p >= need else None


class CommandHead:
    """The trained head, loaded from `voice_models/command-head/` (head.json + head.npz)."""

    def __init__(self, model_dir: Path | None = None, embedder: SpeechEmbedder | None = None):
        one_blas_thread()  # its products are small: threads only spin (blas_threads.py)
        directory = model_dir or head_dir()
        meta_path = directory / "head.json"
        weights_path = directory / "head.npz"
        if not meta_path.is_file() or not weights_path.is_file():
            raise ModelNotFoundError(
                f"no command head in {directory} (head.json and head.npz); "
                "run scripts/train_command_head to make one"
            )
        meta = json.loads(meta_path.read_text())
        self.classes: list[str] = list(meta["classes"])
        if not self.classes or self.classes[-1] != OTHER:
            raise ModelNotFoundError(f"{meta_path}: the last class must be {OTHER!r}")
        expected = head_phrases()
        if self.classes[:-1] != expected:
            missing = sorted(set(expected) - set(self.classes))
            extra = sorted(set(self.classes[:-1]) - set(expected))
            raise ModelNotFoundError(
                f"the command head in {directory} was trained for other phrases (missing "
                f"{missing[:5]}, extra {extra[:5]}); retrain with scripts/train_command_head"
            )
        members = meta.get("trained", {}).get("members", 1)
        averaged = (
            f" ({members} networks averaged)" if isinstance(members, int) and members > 1 else ""
        )
        self.description = (
            f"command head {meta.get('version', '?')}{averaged} on a speech embedding"
        )
        with np.load(weights_path) as data:
            self._mean = data["mean"].astype(np.float32)
            self._scale = data["scale"].astype(np.float32)
            self._layers = [
                (data[f"w{i}"].astype(np.float32), data[f"b{i}"].astype(np.float32))
                for i in range(int(meta["layers"]))
            ]
        self._embedder = embedder or shared_embedder()

    @property
    def known(self) -> set[str]:
        """Phrases the head was trained on (a phrase added since is not judged by it)."""
        return set(self.classes[:-1])

    def probabilities(self, samples: npt.NDArray[np.int16]) -> npt.NDArray[np.float64]:
        """Every class's probability for one segment."""
        return self.probabilities_of_embeddings(self._embedder.embed(samples))

    def probabilities_of_embeddings(
        self, embeddings: npt.NDArray[np.floating]
    ) -> npt.NDArray[np.float64]:
        """The same from embeddings already computed (training and benchmarks)."""
        return self.probabilities_of_pooled(pool_embeddings(embeddings))

    def probabilities_of_pooled(self, pooled: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """The same from a pooled vector (`pool_embeddings`)."""
        x = (pooled - self._mean) / self._scale
        for i, (w, b) in enumerate(self._layers):
            x = x @ w + b
            if i < len(self._layers) - 1:
                x = np.maximum(x, 0.0)
        z = x.astype(np.float64)
        p = np.exp(z - z.max())
        return p / p.sum()

    def judge(self, samples: npt.NDArray[np.int16], allowed: set[str] | None = None) -> Verdict:
        """The likeliest allowed phrase; phrases not allowed count as "not a phrase"."""
        return self.verdict(self.probabilities(samples), allowed)

    def verdict(self, probs: npt.NDArray[np.float64], allowed: set[str] | None) -> Verdict:
        """A Verdict from class probabilities, restricted to the allowed phrases."""
        return verdict_among(self.classes, probs, allowed)
