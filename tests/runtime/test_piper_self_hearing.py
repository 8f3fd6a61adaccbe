"""The player in the Piper voice never obeys itself: every shipped routine on the audio clock.

Its own speech goes back into the microphone as a room would send it (-10 dB, 30 ms late)
through the default echo canceller and the real recognizer; no one else speaks. A new voice
is a new sound for the recognizer, so this is checked for Piper as it was for espeak-ng.
"""

from __future__ import annotations

import numpy as np
import pytest

from floorcoach.audio.listening.recognizer_factory import make_recognizer
from floorcoach.audio.pcm import Pcm
from floorcoach.audio.speaking.speech_cache import CachedSynthesizer, SpeechCache
from floorcoach.audio.speaking.synth import make_synthesizer
from floorcoach.content.catalog import Catalog
from floorcoach.runtime.audio_sim import run_on_audio_clock

SECONDS = {  # measured here on 2 shared cores, rendering included
    "core-routine": 23,
    "first-week": 15,
    "quick-test": 3,
    "strengthening": 12,
    "stretch-by-region": 41,
    "walk": 9,
}


def test_every_shipped_routine_is_measured() -> None:
    assert sorted(Catalog.load().routine_ids()) == sorted(SECONDS)


@pytest.mark.parametrize(
    "routine",
    [pytest.param(r, marks=pytest.mark.slow(seconds=s)) for r, s in SECONDS.items()],
)
def test_the_piper_voice_fed_back_gives_no_false_command(routine: str) -> None:
    loaded = Catalog.load().find(routine)
    player = CachedSynthesizer(make_synthesizer("pyttsx3", "piper:joe"), SpeechCache())
    assert player.key.startswith("piper:joe:")
    result = run_on_audio_clock(
        loaded, player, Pcm(np.zeros(0, np.int16)), make_recognizer("pocketsphinx")
    )
    assert result.summary is not None  # the session ran to its end
    said = [r for r in result.records if r["kind"] == "say"]
    assert len(said) > 10
    assert sum(player.render(r["text"]).seconds for r in said) > 60  # minutes of own voice
    assert [r for r in result.records if r["kind"] == "heard"] == []
    assert result.heard == 0
    outcomes = {e["outcome"] for e in result.summary["exercises"]}
    assert outcomes == {"completed"}
