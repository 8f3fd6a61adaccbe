"""The command head: its decision rule with the decoder, and the shipped model on speech.

The speech is espeak-ng with the benchmark's held-out voices, which the head never trained
on (scripts/kws_data.py excludes their variants). Recorded people are scored by
`scripts/bench_commands --human`, not here: ../shared/speech is not part of the product.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from floorcoach.audio.listening.command_head import (
    HEAD_DIR,
    OTHER,
    CommandHead,
    HeadRule,
    Layers,
    head_phrases,
    is_consequential,
    side_by_side,
)
from floorcoach.audio.listening.sphinx_config import SphinxConfig, preset
from floorcoach.audio.listening.sphinx_recognizer import SphinxRecognizer
from floorcoach.commands import Intent, ListenContext, parse
from floorcoach.errors import ModelNotFoundError
from speech_fixtures import ESPEAK, chunks, espeak, stream

needs_espeak = pytest.mark.skipif(ESPEAK is None, reason="espeak-ng is not installed")

HELD_OUT_VOICES = [("en-gb-scotland+f2", 140, 70), ("en-029+m5", 185, 35)]


def _intent(phrase: str) -> Intent:
    intent = parse(phrase)
    assert intent is not None
    return intent


PAUSE, NEXT, STOP, HELP, FIVE = (_intent(p) for p in ("pause", "next", "stop", "help", "five"))
NINE = _intent("nine")
PAIN_SIX = _intent("that hurts about a six")
PAIN = _intent("that hurts")
FLAG = _intent("i cannot feel my leg")


@pytest.mark.parametrize(
    ("decoded", "by_intent", "expected"),
    [
        # Agreement is judged on the head's vote among phrases, not its raw probability...
        (HELP, {HELP: 0.07, PAUSE: 0.02}, HELP),  # 78 % of a 9 % vote
        (HELP, {HELP: 0.05, PAUSE: 0.05}, None),  # 50 %: not enough
        # ...unless the head is all but sure it was no phrase (veto at 0.99).
        (HELP, {HELP: 0.009, PAUSE: 0.0}, None),
        (HELP, {HELP: 0.011, PAUSE: 0.0}, HELP),
        # The decoder heard another phrase: the head's own intent needs 0.5.
        (HELP, {PAUSE: 0.55, HELP: 0.05}, PAUSE),
        (HELP, {PAUSE: 0.45, HELP: 0.05}, None),
        # The decoder heard a filler word ("fine" for "five"): the head's intent needs 0.3.
        (None, {FIVE: 0.31}, FIVE),
        (None, {FIVE: 0.29}, None),
        # Pause and pain, said over the player's voice, need only a 10 % share (veto 0.999).
        (PAUSE, {PAUSE: 0.011, HELP: 0.089}, PAUSE),
        (PAUSE, {PAUSE: 0.009, HELP: 0.091}, None),
        (PAUSE, {PAUSE: 0.0009, HELP: 0.0}, None),
        (HELP, {HELP: 0.011, PAUSE: 0.089}, None),  # not for other commands
        # A number the decoder heard needs the head's first choice among phrases, whatever
        # the head thinks of "no phrase at all" (it says so of many unseen people's numbers).
        (FIVE, {FIVE: 0.00051, NINE: 0.00049}, FIVE),
        (FIVE, {FIVE: 0.00049, NINE: 0.00051}, None),
        (FIVE, {FIVE: 0.3, NINE: 0.4}, None),
        # Pain the decoder heard is never vetoed (said over the player, it comes out torn)...
        (PAIN_SIX, {PAIN_SIX: 0.0003, FIVE: 0.0002}, PAIN_SIX),
        (PAIN, {PAIN: 0.00002, HELP: 0.0}, PAIN),
        # ...but still needs its 10 % share of the head's vote among phrases.
        (PAIN, {PAIN: 0.009, HELP: 0.091}, None),
        # The head alone never stops, skips or raises a red flag: the decoder must agree.
        (None, {STOP: 0.99}, None),
        (HELP, {NEXT: 0.99, HELP: 0.0}, None),
        (None, {FLAG: 0.99}, None),
        (STOP, {STOP: 0.5, PAUSE: 0.1}, STOP),
        (None, {}, None),
    ],
)
def test_decision_of_decoder_and_head(
    decoded: Intent | None, by_intent: dict[Intent, float], expected: Intent | None
) -> None:
    assert HeadRule().decide(decoded, by_intent) == expected


def test_pain_in_longer_talk_keeps_the_gentle_veto() -> None:
    """Only a short segment's pain escapes the veto: "that hurts" takes under a second, and
    bystanders' longer talk decoded as pain was what the veto caught."""
    sure_not = {PAIN: 0.0003, HELP: 0.0002}
    assert HeadRule().decide(PAIN, sure_not, speech_seconds=0.9) == PAIN
    assert HeadRule().decide(PAIN, sure_not, speech_seconds=1.5) is None
    assert HeadRule().decide(PAIN, {PAIN: 0.003, HELP: 0.002}, speech_seconds=1.5) == PAIN


def test_the_pain_veto_can_be_set_back() -> None:
    """The `pain_veto` preset: the tenth session's rule, pain vetoed like pause."""
    assert HeadRule(pain_veto=0.999).decide(PAIN, {PAIN: 0.0003, HELP: 0.0002}) is None
    assert HeadRule(pain_veto=0.999).decide(PAIN, {PAIN: 0.003, HELP: 0.002}) == PAIN


def test_stop_over_the_player_in_a_short_segment_is_not_vetoed() -> None:
    """Torn by the echo canceller, "stop" over the player leaves the head sure it heard no
    phrase; there the decoder's stop is taken with a tenth of the vote, and asked back."""
    sure_not = {STOP: 0.0002, HELP: 0.0008}  # stop a fifth of the vote, p(no phrase) 0.999
    assert HeadRule().decide(STOP, sure_not, speech_seconds=0.5, over_player=True) == STOP
    assert HeadRule().decide(STOP, sure_not, speech_seconds=0.5) is None  # player silent
    assert HeadRule().decide(STOP, sure_not, speech_seconds=1.5, over_player=True) is None
    assert (
        HeadRule().decide(STOP, {STOP: 0.00005, HELP: 0.00095}, 0.5, over_player=True) is None
    )  # a twentieth of the vote


def test_the_stop_veto_over_the_player_can_be_set_back() -> None:
    """The `stop_vetoed_over_player` preset: the eleventh session's rule."""
    rule = preset("stop_vetoed_over_player").head_rule
    assert rule.decide(STOP, {STOP: 0.0002, HELP: 0.0008}, 0.5, over_player=True) is None
    assert rule.decide(STOP, {STOP: 0.8, HELP: 0.1}, 0.5, over_player=True) == STOP


def test_consequential_intents_are_the_ones_that_end_or_move_the_session() -> None:
    assert [is_consequential(i) for i in (STOP, NEXT, FLAG, _intent("restart"))] == [True] * 4
    assert not any(is_consequential(i) for i in (PAUSE, HELP, FIVE, _intent("that hurts")))


def test_shipped_head_matches_the_phrase_table() -> None:
    head = CommandHead()
    assert head.classes == [*head_phrases(), OTHER]


def test_missing_head_is_a_clear_error_and_the_recognizer_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ModelNotFoundError, match="no command head in .*train_command_head"):
        CommandHead(tmp_path)
    monkeypatch.setenv("FLOORCOACH_HEAD_DIR", str(tmp_path))
    # Without the head, the phrase verifier still checks what it knows...
    recognizer = SphinxRecognizer(SphinxConfig())
    assert "checked by the phrase verifier" in recognizer.description
    # ...and without either, the grammar decoder works alone and says so.
    monkeypatch.setenv("FLOORCOACH_VERIFIER_DIR", str(tmp_path))
    recognizer = SphinxRecognizer(SphinxConfig())
    assert "command head missing" in recognizer.description
    assert recognizer.accept(np.zeros(16000, dtype=np.int16)) == []


def test_a_head_trained_for_other_phrases_is_refused(tmp_path: Path) -> None:
    meta = json.loads((HEAD_DIR / "head.json").read_text())
    (tmp_path / "head.npz").write_bytes((HEAD_DIR / "head.npz").read_bytes())
    meta["classes"] = ["hop skip and jump", *meta["classes"][1:]]
    (tmp_path / "head.json").write_text(json.dumps(meta))
    with pytest.raises(ModelNotFoundError, match="trained for other phrases.*hop skip"):
        CommandHead(tmp_path)
    meta["classes"] = meta["classes"][:-1]
    (tmp_path / "head.json").write_text(json.dumps(meta))
    with pytest.raises(ModelNotFoundError, match="last class"):
        CommandHead(tmp_path)


def _network(rng: np.random.Generator, hidden: int, classes: int) -> Layers:
    return [
        (
            rng.standard_normal((577, hidden)).astype(np.float32),
            rng.standard_normal(hidden).astype(np.float32),
        ),
        (
            rng.standard_normal((hidden, classes)).astype(np.float32),
            rng.standard_normal(classes).astype(np.float32),
        ),
    ]


def _logits(layers: Layers, x: np.ndarray) -> np.ndarray:  # type: ignore[type-arg]
    (w0, b0), (w1, b1) = layers
    return np.maximum(x @ w0 + b0, 0.0) @ w1 + b1


def test_networks_side_by_side_are_one_head_that_averages_their_logits(tmp_path: Path) -> None:
    """scripts/train_command_head ships several seeds as one head: the loader must run it as
    the average of its members, not as any one of them."""
    classes = [*head_phrases(), OTHER]
    rng = np.random.default_rng(7)
    members = [_network(rng, 16, len(classes)) for _ in range(3)]
    merged = side_by_side(members)
    arrays = {"mean": np.zeros(577, np.float32), "scale": np.ones(577, np.float32)}
    for i, (w, b) in enumerate(merged):
        arrays[f"w{i}"], arrays[f"b{i}"] = w, b
    np.savez(tmp_path / "head.npz", **arrays)
    meta = {"version": "t", "classes": classes, "layers": 2, "trained": {"members": 3}}
    (tmp_path / "head.json").write_text(json.dumps(meta))
    head = CommandHead(tmp_path)
    x = rng.standard_normal(577).astype(np.float32)
    mean_logits = np.mean([_logits(m, x) for m in members], axis=0).astype(np.float64)
    expected = np.exp(mean_logits - mean_logits.max())
    expected /= expected.sum()
    got = head.probabilities_of_pooled(x)
    assert np.allclose(got, expected, atol=1e-5)
    for member in members:
        alone = np.exp(_logits(member, x) - _logits(member, x).max())
        assert not np.allclose(got, alone / alone.sum(), atol=1e-3)
    assert "3 networks averaged" in head.description
    assert side_by_side(members[:1]) is members[0]
    with pytest.raises(ValueError, match="exactly two layers"):
        side_by_side([members[0] + members[1]])


@pytest.fixture(scope="module")
def speech_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("speech")


@needs_espeak
@pytest.mark.parametrize("voice", HELD_OUT_VOICES, ids=lambda v: v[0])
def test_default_recognizer_hears_commands_and_ignores_chatter_in_voices_it_never_heard(
    voice: tuple[str, int, int], speech_cache: Path
) -> None:
    recognizer = SphinxRecognizer()
    assert "command head" in recognizer.description
    name, wpm, pitch = voice
    said = [
        "that hurts",
        "Keep your shoulders flat",
        "pause",
        "I think the kettle has boiled",
        "next",
        "Breathe in slowly through your nose",
        "stop",
    ]
    samples, _ = stream(
        [espeak(text, speech_cache, name, wpm, pitch) for text in said],
        gap_seconds=1.5,
        noise_db=-50.0,
        seed=3,
    )
    heard = []
    for chunk in chunks(samples, 320):
        heard += recognizer.accept(chunk)
    heard += recognizer.flush()
    assert [h.intent for h in heard] == [
        _intent(p) for p in ("that hurts", "pause", "next", "stop")
    ]


@needs_espeak
def test_numbers_are_heard_in_the_pain_level_context(speech_cache: Path) -> None:
    """The context mechanism, in the voice of the synthetic benchmark's tuning set (accuracy on
    other voices and on people is the benchmark's job)."""
    recognizer = SphinxRecognizer(context=ListenContext.PAIN_LEVEL)
    name, wpm, pitch = ("en-us", 150, 50)
    numbers = ["seven", "two", "ten", "four"]
    samples, _ = stream(
        [espeak(text, speech_cache, name, wpm, pitch) for text in numbers],
        gap_seconds=1.25,
        noise_db=-50.0,
        seed=4,
    )
    heard = recognizer.accept(samples) + recognizer.flush()
    assert [h.intent.number for h in heard] == [7, 2, 10, 4]


@pytest.mark.parametrize(("speech_seconds", "heard"), [(0.7, True), (1.6, False)])
def test_the_recognizer_gives_the_rule_the_segments_speech(
    speech_seconds: float, heard: bool
) -> None:
    from floorcoach.audio.listening.phrase_verifier import OTHER, Verdict
    from floorcoach.audio.listening.vad import Segment

    class SureNot:
        def judge(self, samples: np.ndarray, allowed: set[str] | None = None) -> Verdict:
            return Verdict(OTHER, 0.9995, {OTHER: 0.9995, "that hurts": 0.0005})

    recognizer = SphinxRecognizer(SphinxConfig(verifier_rescues=False))
    recognizer._verifier = SureNot()  # type: ignore[assignment]
    recognizer._decode = lambda samples, search: ("that hurts", 0.5)  # type: ignore[method-assign]
    samples = np.zeros(int(speech_seconds * 16000) + 3200, dtype=np.int16)
    segment = Segment(1.0, 1.0 + speech_seconds, speech_seconds, samples, False, -60.0)
    result = recognizer.decode_segment(segment)
    assert (result is not None) == heard
