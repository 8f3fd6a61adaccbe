"""The red-flag question end to end: a synthetic user talks to the hands-free player.

The session runs on the audio clock (as `floorcoach play --mic-wav` and `floorcoach demo`
do): the user's voice (a different espeak-ng voice) is mixed with the player's own voice
coming back from the room, and the real pocketsphinx recognizer, echo gate and engine decide.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pytest

from floorcoach.audio.listening.recognizer import CommandRecognizer
from floorcoach.audio.listening.recognizer_factory import make_recognizer
from floorcoach.audio.pcm import Pcm
from floorcoach.audio.speaking.speech_cache import CachedSynthesizer, SpeechCache
from floorcoach.audio.speaking.synth import make_synthesizer
from floorcoach.commands import Intent, ListenContext, Reply, parse, spoken_table
from floorcoach.content.catalog import Catalog
from floorcoach.runtime.audio_sim import AudioSimResult, run_on_audio_clock
from floorcoach.runtime.demo import USER_VOICE, DemoLine, DemoUser, _after_question, _in_phase
from floorcoach.session.events import Phase
from floorcoach.session.red_flag_check import DENY_WORD


@cache
def _voices() -> tuple[CachedSynthesizer, CachedSynthesizer]:
    player = CachedSynthesizer(make_synthesizer("pyttsx3"), SpeechCache())
    user = CachedSynthesizer(make_synthesizer("espeak", voice=USER_VOICE), SpeechCache())
    return player, user


def _yes_no_recognizer() -> CommandRecognizer:
    """pocketsphinx listening for yes and no as well when it asks something back.

    The shipped grammar has no "yes" or "no" yet (its phrase verifier was trained without
    them), so the question asks for "carry on" instead; this is how it works once they are in.
    """
    from floorcoach.audio.listening.sphinx_recognizer import SphinxRecognizer

    contexts = {context: spoken_table(context) for context in ListenContext}
    contexts[ListenContext.CONFIRM] = {
        **contexts[ListenContext.CONFIRM],
        "yes": Intent(reply=Reply.YES),
        "no": Intent(reply=Reply.NO),
    }
    return SphinxRecognizer(contexts=contexts)


def _session(answer: str | None, recognizer: CommandRecognizer) -> tuple[AudioSimResult, Any]:
    """quick-test, "I can't feel my leg" half a second into the first hold, then `answer`."""
    player, voice = _voices()
    lines = [DemoLine("I can't feel my leg", "red_flag", _in_phase(Phase.HOLD, 0.5))]
    if answer is not None:
        expect = (parse(answer) or Intent()).value
        lines.append(
            DemoLine(
                answer,
                expect,
                _after_question("confirm", 0.8),
                needed=lambda sim: sim.engine.listen_context == "confirm",
            )
        )
    user = DemoUser(lines, voice)
    loaded = Catalog.load().find("quick-test")
    silence = Pcm(np.zeros(0, dtype=np.int16))
    return run_on_audio_clock(loaded, player, silence, recognizer, agent=user), user


def _kinds(result: AudioSimResult, kind: str) -> list[dict[str, Any]]:
    return [r for r in result.records if r["kind"] == kind]


def _said(result: AudioSimResult) -> list[str]:
    return [r["text"] for r in result.records if r["kind"] == "say"]


def _check_resumed(result: AudioSimResult) -> None:
    (question,) = _kinds(result, "red_flag_question")
    assert question["flag"] == "cant_feel_leg"
    (answer,) = _kinds(result, "red_flag_answer")
    assert answer["outcome"] == "withdrawn"
    assert any(text.startswith("Sorry, I misheard. Carrying on: hold, ") for text in _said(result))
    assert result.summary is not None
    assert result.summary["red_flag"] is None
    # the session went on to its end (what the recognizer made of the rest is not this test's)
    outcomes = [e["outcome"] for e in result.summary["exercises"]]
    assert outcomes[0] == "completed"
    assert "not_reached" not in outcomes
    assert not _kinds(result, "red_flag")


def _check_ended(result: AudioSimResult, answer: str) -> None:
    (outcome,) = _kinds(result, "red_flag_answer")
    assert (outcome["outcome"], outcome["answer"]) == ("confirmed", answer)
    assert any("urgent medical care" in text for text in _said(result))
    assert result.summary is not None
    assert result.summary["red_flag"] == "cant_feel_leg"
    assert result.summary["exercises"][1]["outcome"] == "not_reached"


def test_the_shipped_recognizer_hears_the_red_flag_and_the_answer_it_asks_for() -> None:
    result, user = _session(DENY_WORD, make_recognizer("pocketsphinx"))
    assert [text for _, text in user.said] == ["I can't feel my leg", DENY_WORD]
    question = f"Did you say you can't feel your leg? Say yes or {DENY_WORD}."
    assert question in _said(result)
    _check_resumed(result)


def test_no_answer_to_the_red_flag_question_ends_the_session() -> None:
    result, _user = _session(None, make_recognizer("pocketsphinx"))
    _check_ended(result, "no_answer")
    (asked,) = _kinds(result, "red_flag_question")
    (answered,) = _kinds(result, "red_flag_answer")
    assert 8.0 < answered["t"] - asked["t"] < 8.0 + 6.0  # 8 s after the question was said


@pytest.mark.parametrize("answer", ["no", "yes"])
def test_a_spoken_no_resumes_and_a_spoken_yes_ends(answer: str) -> None:
    result, user = _session(answer, _yes_no_recognizer())
    assert [text for _, text in user.said][-1] == answer
    if answer == "no":
        _check_resumed(result)
    else:
        _check_ended(result, "yes")
