"""The user's own voice: few-shot matching of a segment against enrolled examples.

Why: the general recognizer has learned what most people sound like; some people it hears
badly, and a phrase of the user's own ("hang on", said their way) is not in its grammar at
all. `floorcoach enroll` records each phrase three times; here a segment is compared with those
examples in the speech-embedding space (listening/speech_embedding.py, trained on real speech):
the cosine distance from the segment's summary to each enrolled phrase's prototype (the mean
of its examples). Nothing is trained, so enrolling or teaching a phrase takes effect at once.

The summary is the mean and the maximum of the segment's 96-number embeddings over time (the
first 192 numbers of `pool_embeddings`), less 0.9 times the command head's input mean over a
large set of speech (which removes what every segment shares), scaled to unit length.
`scripts/bench_enroll --compare 0.7` measured the choices on recorded people (BENCHMARKS.md,
2026-11-30), each at the loosest threshold adding at most 0.7 false commands an hour of other
people's speech: this summary hears 99 / 96 / 82 % of enrolled telephone-band digits (clean,
20 dB, 10 dB) and 61 / 42 / 22 % of taught phrases; without centring 95 / 88 / 72 % of digits
and about as many taught phrases; the whole pooled vector (with the time profile and the
length) 99 / 93 / 78 % of digits but 22 / 15 / 12 % of taught phrases; the mean alone or the
time profile alone do worse. A frame-by-frame alignment (DTW) of the embeddings did worse in a
first look at the same takes (not kept in the benchmark). Prototypes and nearest examples are
within a point or two.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Final

import numpy as np
import numpy.typing as npt

from floorcoach.audio.listening.command_head import is_consequential
from floorcoach.commands import Intent

_LOGGER = logging.getLogger(__name__)

FEATURE: Final = "meanmax-centred-v1"
"""The summary's name; stored examples keep the pooled vector, so this can change later."""
SUMMARY_DIMS: Final = 192
"""Mean (96) and max (96): the first numbers of command_head.pool_embeddings' vector."""
CENTRE_WEIGHT: Final = 0.9
"""How much of the speech-wide mean is taken off (0.75-0.9 measured best, 1.0 worse)."""


@cache
def centre() -> npt.NDArray[np.float32]:
    """The command head's input mean (over its whole training set), mean and max part."""
    from floorcoach.audio.listening.command_head import head_dir

    path = head_dir() / "head.npz"
    try:
        with np.load(path) as data:
            mean = np.asarray(data["mean"], dtype=np.float32)[:SUMMARY_DIMS]
    except (OSError, KeyError, ValueError) as exc:
        # Still comparable (examples and segments alike), only less sharp.
        _LOGGER.warning("few-shot matching without centring (%s: %s)", path, exc)
        return np.zeros(SUMMARY_DIMS, dtype=np.float32)
    if mean.shape != (SUMMARY_DIMS,):
        _LOGGER.warning("few-shot matching without centring (%s: unexpected shape)", path)
        return np.zeros(SUMMARY_DIMS, dtype=np.float32)
    return np.asarray(CENTRE_WEIGHT * mean, dtype=np.float32)


def summary(pooled: npt.NDArray[np.floating]) -> npt.NDArray[np.float32]:
    """The unit-length vector compared by cosine distance, from `pool_embeddings` output(s).

    Accepts one pooled vector (d,) or a stack of them (n, d).
    """
    x = np.asarray(pooled, dtype=np.float32)[..., :SUMMARY_DIMS] - centre()
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    return np.asarray(x / np.maximum(norm, 1e-9), dtype=np.float32)


@dataclass(frozen=True)
class FewShotRule:
    """When an enrolled phrase is taken: near enough to it, and clearly nearer than to others.

    Chosen by `scripts/bench_enroll --sweep` on recorded people (BENCHMARKS.md, 2026-11-30):
    each speaker enrolled with 3 takes of a word, scored on their other takes (clean, 20 and
    10 dB), and each enrollment run over 4.5 h of everyone else's ordinary speech. At 0.30 an
    enrolled user adds 0.5 false commands an hour to the general recognizer's 12.3 (commands
    context; 0.02 consequential; 0.8 an hour in the pain-level context), and enrolled digits
    are heard 99 / 96 / 86 % instead of 80 / 75 / 71 %, taught phrases 67 / 46 / 25 %. At 0.35
    taught phrases gain 10 points but the false commands grow sixfold (3.2 an hour); at 0.25
    they almost vanish (0.12) but taught phrases fall to 51 % clean. The figures are in
    sample: the rule's four numbers were chosen on the same takes.
    """

    threshold: float = 0.30
    """Cosine distance from the segment to the phrase's prototype (or nearest example)."""
    margin: float = 0.03
    """The nearest phrase of another intent must be at least this much farther away (at 0.03:
    -0.3 points clean, +1 point at 10 dB and slightly fewer consequential false commands than
    none; 0.06 costs another point clean)."""
    nearest: bool = False
    """Compare with the nearest example instead of the prototype (the mean of the examples):
    measured the same within a point or two, with a few more consequential false commands."""
    consequential_threshold: float = 0.25
    """Stop, next, previous, restart and red flags must be this near: the synthetic users'
    enrolled stop and next added 0.36 consequential false commands an hour at 0.30, 0.04 at
    0.25, and were heard as often."""
    overrule: float = 0.25
    """When the general model heard another intent, the enrolled phrase wins only this near
    (farther, the general model's answer stands): clean takes are far from the same words
    said in noise, and "that hurts" at 20 dB came nearer a clean "pause" (0.25-0.29) than its
    own. Synthetic users 96 -> 99 % at 20 dB, digits within a point."""


@dataclass(frozen=True)
class EnrolledPhrase:
    """One phrase the user enrolled: what it means, what they say, their examples."""

    intent: Intent
    phrase: str
    """What the user says: "pause", or a taught phrase such as "hang on"."""
    pooled: npt.NDArray[np.float32]
    """(n, d) `pool_embeddings` vectors, one per take."""
    taught: bool = False


@dataclass(frozen=True)
class Match:
    """The enrolled phrase a segment matched, and how clearly."""

    phrase: EnrolledPhrase
    distance: float
    runner_up: float
    """Distance to the nearest phrase of another intent (inf when there is none)."""
    threshold: float

    @property
    def confidence(self) -> float:
        """1 at distance 0, 0 at the threshold."""
        return max(0.0, min(1.0, 1.0 - self.distance / self.threshold))


class FewShot:
    """Enrolled phrases, ready to compare: built once, then only read (safe across threads)."""

    def __init__(self, phrases: Iterable[EnrolledPhrase], rule: FewShotRule | None = None) -> None:
        self.rule = rule or FewShotRule()
        self.phrases: tuple[EnrolledPhrase, ...] = tuple(p for p in phrases if len(p.pooled))
        self._examples = [summary(p.pooled) for p in self.phrases]
        prototypes = [e.mean(axis=0) for e in self._examples]
        self._prototypes = (
            summary_of_unit(np.stack(prototypes))
            if prototypes
            else np.zeros((0, SUMMARY_DIMS), np.float32)
        )
        intents = list(dict.fromkeys(p.intent for p in self.phrases))
        self._intent_ids = np.array([intents.index(p.intent) for p in self.phrases], dtype=int)
        self._thresholds = [
            self.rule.consequential_threshold if is_consequential(p.intent) else self.rule.threshold
            for p in self.phrases
        ]

    def __len__(self) -> int:
        return len(self.phrases)

    @property
    def examples(self) -> int:
        """How many takes in all."""
        return sum(len(p.pooled) for p in self.phrases)

    def distances(self, pooled: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
        """Cosine distance from segments to each phrase (its prototype, or nearest example).

        One pooled vector (d,) gives (phrases,); a stack (n, d) gives (n, phrases).
        """
        x = summary(pooled)
        if self.rule.nearest:
            cols = [(1.0 - x @ e.T).min(axis=-1) for e in self._examples]
            return np.asarray(np.stack(cols, axis=-1), dtype=np.float64)
        return np.asarray(1.0 - x @ self._prototypes.T, dtype=np.float64)

    def match(
        self, pooled: npt.NDArray[np.floating], allowed: set[Intent] | None = None
    ) -> Match | None:
        """The enrolled phrase this segment is, by the rule, or None.

        The nearest phrase of all is found first; when its intent is not `allowed` (a number
        while the player listens for commands) the answer is None, so the general recognizer
        decides as it would without enrolment.
        """
        return self.matches(np.asarray(pooled)[None, :], allowed)[0]

    def matches(
        self, pooled: npt.NDArray[np.floating], allowed: set[Intent] | None = None
    ) -> list[Match | None]:
        """`match` for a stack of segments (n, d) at once (benchmarks)."""
        if not self.phrases:
            return [None] * len(pooled)
        d = self.distances(np.asarray(pooled))
        best = d.argmin(axis=1)
        same_intent = self._intent_ids[None, :] == self._intent_ids[best][:, None]
        runner_up = np.where(same_intent, np.inf, d).min(axis=1)
        nearest = d[np.arange(len(d)), best]
        out: list[Match | None] = []
        for i, k in enumerate(best):
            phrase = self.phrases[int(k)]
            threshold = self._thresholds[int(k)]
            if (
                nearest[i] > threshold
                or runner_up[i] - nearest[i] < self.rule.margin
                or (allowed is not None and phrase.intent not in allowed)
            ):
                out.append(None)
            else:
                out.append(Match(phrase, float(nearest[i]), float(runner_up[i]), threshold))
        return out

    def wins(self, match: Match | None, general: Intent | str | None) -> bool:
        """Whether an enrolled match is the answer, given what the general model heard (its
        intent or the intent's value; None: nothing): it is, unless the general model heard
        another intent and the match is farther than `FewShotRule.overrule`."""
        if match is None:
            return False
        value = general.value if isinstance(general, Intent) else general
        if value is None or value == match.phrase.intent.value:
            return True
        return match.distance <= self.rule.overrule


def summary_of_unit(x: npt.NDArray[np.floating]) -> npt.NDArray[np.float32]:
    """Rows scaled to unit length (a prototype is the normalized mean of unit examples)."""
    x = np.asarray(x, dtype=np.float32)
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    return np.asarray(x / np.maximum(norm, 1e-9), dtype=np.float32)


ODD_DISTANCE: Final = 0.5
"""A take this far (cosine) from the prototype of the others is not like them. Measured with
`scripts/bench_enroll`: no set of 3 good takes of the recorded digit speakers (one sitting each)
or the synthetic voices is asked again, and 85-90 % of sets with one take of another word are
caught, that take named; a good take is typically 0.17 from the other two (0.42 at the 99th
percentile). Takes recorded weeks apart in other rooms (the wake-word recordings) vary more:
16 % of good sets are asked again there, and 41 % of wrong words caught."""
ODD_LENGTH_RATIO: Final = 2.5
"""...nor one whose speech is 2.5 times as long, or as short, as the others' on average."""


@dataclass(frozen=True)
class OddTake:
    """Which take is not like the others, and why (a sentence that can be spoken)."""

    index: int
    why: str


def odd_take(
    pooled: Sequence[npt.NDArray[np.floating]], speech_seconds: Sequence[float]
) -> OddTake | None:
    """The take least like the others, when it is too unlike them (three or more takes).

    Measured on recorded people (scripts/bench_enroll): see ODD_DISTANCE.
    """
    n = len(pooled)
    if n < 3 or len(speech_seconds) != n:
        return None
    x = summary(np.stack([np.asarray(p, dtype=np.float32) for p in pooled]))
    far: list[float] = []
    for i in range(n):
        rest = np.delete(x, i, axis=0).mean(axis=0)
        rest = rest / max(float(np.linalg.norm(rest)), 1e-9)
        far.append(float(1.0 - x[i] @ rest))
    lengths = np.asarray(speech_seconds, dtype=np.float64)
    ratios = [lengths[i] / max(1e-3, float(np.delete(lengths, i).mean())) for i in range(n)]
    worst = int(np.argmax(far))
    if far[worst] > ODD_DISTANCE:
        return OddTake(worst, "did not sound like the others")
    longest = int(np.argmax(ratios))
    if ratios[longest] > ODD_LENGTH_RATIO:
        return OddTake(longest, "was much longer than the others")
    shortest = int(np.argmin(ratios))
    if ratios[shortest] < 1.0 / ODD_LENGTH_RATIO:
        return OddTake(shortest, "was much shorter than the others")
    return None
