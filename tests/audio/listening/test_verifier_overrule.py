"""The phrase verifier overrules a slip that the decoder and the command head both made.

In noise, "count slower" sounds like "speak slower" to the grammar decoder and to the command
head alike; the phrase verifier (another network on other features) is sure it was "count
slower". The rule takes the verifier's intent then, but never takes away stop, pain or a red
flag, never puts a consequential command in, and never acts early on a segment it would
overrule.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from floorcoach.audio.listening.phrase_verifier import OTHER, Verdict
from floorcoach.audio.listening.sphinx_config import SphinxConfig, preset
from floorcoach.audio.listening.sphinx_recognizer import SphinxRecognizer
from floorcoach.audio.listening.vad import Segment
from floorcoach.audio.listening.verifier_overrule import Overrule
from floorcoach.commands import Command, Intent, ListenContext, RedFlag, spoken_table
from speech_fixtures import ESPEAK, chunks, espeak, rms_db, stream, to_int16, white_noise

SLOWER = Intent(Command.SLOWER)
SPEAK_SLOWER = Intent(Command.SPEAK_SLOWER)


@pytest.mark.parametrize(
    ("chosen", "verifier", "expected"),
    [
        # sure of another intent, and the chosen one under 5 %: overruled
        (SPEAK_SLOWER, {SLOWER: 0.97, SPEAK_SLOWER: 0.008}, SLOWER),
        (SPEAK_SLOWER, {SLOWER: 0.40, SPEAK_SLOWER: 0.049}, SLOWER),
        # not sure enough of the other, or the chosen one still likely: kept
        (SPEAK_SLOWER, {SLOWER: 0.39, SPEAK_SLOWER: 0.01}, None),
        (SPEAK_SLOWER, {SLOWER: 0.90, SPEAK_SLOWER: 0.05}, None),
        # the verifier agrees, or hears nothing it knows: kept
        (SLOWER, {SLOWER: 0.97}, None),
        (SLOWER, {}, None),
        # stop, pain and red flags are never taken away
        (Intent(Command.STOP), {SLOWER: 0.99, Intent(Command.STOP): 0.0}, None),
        (Intent(Command.PAIN), {SLOWER: 0.99, Intent(Command.PAIN): 0.0}, None),
        (Intent(red_flag=RedFlag.SADDLE_NUMBNESS), {SLOWER: 0.99}, None),
        # and no consequential command is put in
        (Intent(Command.PAUSE), {Intent(Command.NEXT): 0.99}, None),
        (Intent(Command.REPEAT), {Intent(Command.RESTART): 0.84}, None),
        (Intent(Command.REPEAT), {Intent(red_flag=RedFlag.SADDLE_NUMBNESS): 0.99}, None),
        # pain may be put in: a false one asks "how bad is it?"
        (Intent(Command.FASTER), {Intent(Command.PAIN): 0.42}, Intent(Command.PAIN)),
    ],
)
def test_the_rule(chosen: Intent, verifier: dict[Intent, float], expected: Intent | None) -> None:
    assert Overrule().decide(chosen, verifier) == expected


def test_a_rule_above_certainty_never_overrules() -> None:
    off = preset("no_overrule").overrule
    assert not off.active
    assert off.decide(SPEAK_SLOWER, {SLOWER: 1.0}) is None


class _Opinion:
    """Stands in for the head or the verifier: one fixed verdict."""

    def __init__(self, probabilities: dict[str, float]) -> None:
        self.probabilities = probabilities
        self.calls = 0

    def judge(self, samples: np.ndarray, allowed: set[str] | None = None) -> Verdict:
        self.calls += 1
        allowed_p = {p: v for p, v in self.probabilities.items() if allowed is None or p in allowed}
        best = max(allowed_p, key=lambda p: allowed_p[p])
        return Verdict(best, allowed_p[best], allowed_p)


def _recognizer(decoded: str, head: dict[str, float], verifier: dict[str, float]):  # type: ignore[no-untyped-def]
    """A recognizer whose decoder hears `decoded`, with a head and a verifier that say the
    given probabilities."""
    recognizer = SphinxRecognizer(SphinxConfig())
    recognizer._verifier = _Opinion(head)  # type: ignore[assignment]
    rescuer = _Opinion(verifier)
    recognizer._rescuer = rescuer  # type: ignore[assignment]
    recognizer._rescuer_knows = set(spoken_table(ListenContext.COMMANDS))
    recognizer._verified = set(ListenContext)
    recognizer._decode = lambda samples, search: (decoded, 0.5)  # type: ignore[method-assign]
    return recognizer, rescuer


def _segment() -> Segment:
    return Segment(1.0, 1.8, 0.8, np.zeros(12800, dtype=np.int16), False, -60.0)


HEAD_AGREES = {"speak slower": 0.9, "count slower": 0.05, OTHER: 0.05}
VERIFIER_SURE = {"count slower": 0.95, "speak slower": 0.01, OTHER: 0.04}


def test_the_verifiers_intent_is_heard_with_its_own_phrase() -> None:
    recognizer, _ = _recognizer("speak slower", HEAD_AGREES, VERIFIER_SURE)
    heard = recognizer.decode_segment(_segment())
    assert heard is not None
    assert (heard.intent, heard.text) == (SLOWER, "count slower")
    assert heard.confidence == pytest.approx(0.95)


def test_an_early_look_that_would_be_overruled_waits_for_the_end() -> None:
    recognizer, _ = _recognizer("speak slower", HEAD_AGREES, VERIFIER_SURE)
    assert recognizer.decode_segment(_segment(), early=True) is None
    recognizer, _ = _recognizer("speak slower", HEAD_AGREES, {"speak slower": 0.9, OTHER: 0.1})
    early = recognizer.decode_segment(_segment(), early=True)
    assert early is not None
    assert early.intent == SPEAK_SLOWER


def test_a_stop_heard_is_not_sent_to_the_verifier() -> None:
    recognizer, rescuer = _recognizer(
        "stop", {"stop": 0.9, OTHER: 0.1}, {"count slower": 0.99, OTHER: 0.01}
    )
    heard = recognizer.decode_segment(_segment())
    assert heard is not None
    assert heard.intent == Intent(Command.STOP)
    assert rescuer.calls == 0


def test_nothing_chosen_is_nothing_to_overrule() -> None:
    """A segment the head rule turned down goes to the rescue as before, not the overrule."""
    recognizer, _ = _recognizer("", {OTHER: 0.999, "speak slower": 0.001}, VERIFIER_SURE)
    heard = recognizer.decode_segment(_segment())
    # the rescue's own rule: the verifier's likeliest intent at its alone threshold
    assert heard is not None
    assert heard.intent == SLOWER


@pytest.mark.skipif(ESPEAK is None, reason="espeak-ng is not installed")
@pytest.mark.parametrize("seed", [0, 1])
def test_count_slower_in_noise_is_not_taken_for_speak_slower(tmp_path: Path, seed: int) -> None:
    """Real decoder, head and verifier: a held-out espeak-ng voice says "count slower" in
    white noise at 10 dB; decoder and head both hear "speak slower", the verifier does not."""
    clip = espeak("count slower", tmp_path, "en-gb-scotland+f2", 150, 50)
    audio, _ = stream([clip], gap_seconds=1.0, seed=seed)
    noise = white_noise(len(audio), rms_db(clip) - 10, seed + 100)
    noisy = to_int16(audio.astype(np.float64) + noise)

    def heard(config: SphinxConfig) -> list[Intent]:
        recognizer = SphinxRecognizer(config)
        out = [h for c in chunks(noisy, 320) for h in recognizer.accept(c)]
        return [h.intent for h in out + recognizer.flush()]

    assert heard(preset("no_overrule")) == [SPEAK_SLOWER]
    assert heard(SphinxConfig()) == [SLOWER]
