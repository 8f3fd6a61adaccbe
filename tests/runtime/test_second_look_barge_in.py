"""Barge-in over a loud echo, on the audio clock: the second look hears the words WebRTC tore.

The player's voice comes back into the microphone 3.5 dB louder than itself, 120 ms late, and a
user (espeak-ng) says pause, stop and that hurts over it every 12 s or so through the quick
test routine. With the real WebRTC canceller, the real linear one beside it and the real
recognizer, all but at most one command are heard; without the second look several are
lost. The live captures measure the same at length (`scripts/bench_session --part echo`).
Answers begun before their question ends are read again the same way.
"""

from __future__ import annotations

import numpy as np
import pytest

from barge_in_user import BargeInUser
from floorcoach.audio.listening.sphinx_config import SphinxConfig, preset
from floorcoach.audio.listening.sphinx_recognizer import SphinxRecognizer
from floorcoach.audio.pcm import Pcm
from floorcoach.audio.speaking.speech_cache import CachedSynthesizer, SpeechCache
from floorcoach.audio.speaking.synth import make_synthesizer
from floorcoach.content.catalog import Catalog
from floorcoach.runtime.audio_sim import run_on_audio_clock
from floorcoach.session.simulate import Simulation
from session_timeline import first_hold_start

ECHO_GAIN = 1.5
ECHO_DELAY_SECONDS = 0.12


def _barge_in(config: SphinxConfig) -> tuple[int, int]:
    user = BargeInUser(
        CachedSynthesizer(make_synthesizer("espeak", voice="en-us"), SpeechCache()),
        every_seconds=12.0,
        seed=0,
    )
    run_on_audio_clock(
        Catalog.load().find("quick-test"),
        CachedSynthesizer(make_synthesizer("pyttsx3"), SpeechCache()),
        Pcm(np.zeros(0, np.int16)),
        SphinxRecognizer(config),
        agent=user,
        echo_gain=ECHO_GAIN,
        echo_delay_seconds=ECHO_DELAY_SECONDS,
        echo_cancel="webrtc",
    )
    return user.barge_in()


@pytest.mark.slow(seconds=16)
def test_commands_said_over_a_loud_echo_are_heard_with_the_second_look() -> None:
    said, heard = _barge_in(SphinxConfig())
    assert said >= 15
    assert heard >= said - 1, (said, heard)  # 20 of 21 here; a stop over the welcome is lost
    said_before, heard_before = _barge_in(preset("no_second_look"))
    assert said_before >= 15
    assert said_before - heard_before >= 3, (said_before, heard_before)


class _EagerAnswerer:
    """Says "that hurts" in the first hold, then answers "how bad?" beginning `overlap`
    seconds before the question ends, then "in my back" when asked where."""

    def __init__(self, at: float, answer: str, overlap: float) -> None:
        self.voice = CachedSynthesizer(make_synthesizer("espeak", voice="en-us"), SpeechCache())
        self.at, self.answer, self.overlap = at, answer, overlap
        self.lines = ["that hurts", answer, "in my back"]

    def _due(self, sim: Simulation) -> bool:
        line = self.lines[0]
        current = sim.speaker.current  # type: ignore[attr-defined]
        if line == "that hurts":
            return sim.now >= self.at
        if line == self.answer:
            return (
                current is not None
                and "How bad" in current.say.text
                and current.end - sim.now <= self.overlap
            )
        asked = any(r["kind"] == "say" and "back, or" in r["text"] for r in sim.result.records)
        return asked and current is None and not sim.speaker.queue  # type: ignore[attr-defined]

    def __call__(self, sim: Simulation) -> Pcm | None:
        if not self.lines or not self._due(sim):
            return None
        return self.voice.render(self.lines.pop(0))


@pytest.mark.slow(seconds=8)
@pytest.mark.parametrize("overlap", [0.6, 0.9, 1.2])
def test_an_answer_begun_before_the_question_ends_is_heard_over_a_loud_echo(
    overlap: float,
) -> None:
    """People answer "how bad is it?" before it ends; over an echo as loud as the player,
    WebRTC tears the start of the answer, and the second look reads it whole. (Begun 0.6 s
    early, the averaged command head of the seventeenth session heard it without the second
    look too, and 0.9 s early only with it; the twentieth session's head, which also trained
    on a neural voice, hears it without the second look at 0.9-1.8 s but for 1.1 s. The
    second look's own contrast is the test above.)"""
    player = CachedSynthesizer(make_synthesizer("pyttsx3"), SpeechCache())
    user = _EagerAnswerer(first_hold_start(player) + 1.5, "seven", overlap=overlap)
    result = run_on_audio_clock(
        Catalog.load().find("quick-test"),
        player,
        Pcm(np.zeros(0, np.int16)),
        SphinxRecognizer(SphinxConfig()),
        agent=user,
        echo_gain=1.0,
        echo_delay_seconds=ECHO_DELAY_SECONDS,
        echo_cancel="webrtc",
    )
    numbers = [r["command"] for r in result.records if r["kind"] == "heard" and r["command"] == "7"]
    assert numbers
