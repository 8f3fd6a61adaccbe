"""A whole hands-free session with a voice no model here ever trained on, and a neural one.

The recognizer's tuning saw espeak-ng, flite and festival voices and recorded people;
scripts/kws_data.py holds flite's awb out of every training set. Piper's joe (a neural voice
trained on a recorded person) passed this session before the command head was trained on it
too (twentieth session: its "neural" part); it stays here as the natural-sounding user. The
synthetic user of `floorcoach demo` speaks with each and answers like a person (says it
again when not understood); the player's own voice is in the microphone too, as in a room.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest

from floorcoach.audio.listening.recognizer_factory import make_recognizer
from floorcoach.audio.pcm import Pcm, read_wav
from floorcoach.audio.speaking.speech_cache import CachedSynthesizer, SpeechCache
from floorcoach.audio.speaking.synth import Synthesizer, VoiceSettings, make_synthesizer
from floorcoach.content.catalog import Catalog
from floorcoach.runtime.demo import run_demo

needs_flite = pytest.mark.skipif(
    shutil.which("flite") is None or shutil.which("sox") is None,
    reason="apt-get install flite sox (scripts/_bootstrap.sh installs them)",
)


class FliteVoice:
    """flite's awb voice, resampled to 16 kHz: a Synthesizer for the simulated user."""

    backend = "flite"

    def __init__(self, voice: str = "awb") -> None:
        self._voice = voice
        self._settings = VoiceSettings(voice=f"flite-{voice}")

    @property
    def settings(self) -> VoiceSettings:
        return self._settings

    @property
    def key(self) -> str:
        return f"flite:{self._voice}"

    def render(self, text: str) -> Pcm:
        with tempfile.TemporaryDirectory() as tmp:
            raw, out = Path(tmp) / "raw.wav", Path(tmp) / "16k.wav"
            subprocess.run(
                ["flite", "-voice", self._voice, "-t", text, "-o", str(raw)],
                check=True,
                capture_output=True,
            )
            subprocess.run(
                ["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(out)],
                check=True,
                capture_output=True,
            )
            return read_wav(out)


PIPER_SEED = 0
"""Piper samples noise on every render (onnxruntime's random ops), so its joe says each line a
little differently each time. With a shared session, what the user said depended on which tests
had rendered before in the same worker, and one "next" in four runs of the suite was missed
(fresh-clone CI, twenty-second session). Seeded, the session is the same every run."""


def _user_voice(name: str) -> Synthesizer:
    if name == "flite:awb":
        return FliteVoice("awb")
    import onnxruntime

    from floorcoach.audio.speaking.piper_voice import PiperSynthesizer

    # onnxruntime seeds a session's random ops when the session is made; threads=1 gives this
    # test a session of its own (load_piper_voice keeps one per model and thread count), made
    # right after the seed, so the user's lines sound the same in every run
    onnxruntime.set_seed(PIPER_SEED)
    return PiperSynthesizer(VoiceSettings(voice=name), threads=1)  # piper:joe, the extra


@pytest.mark.slow(seconds=9)
@pytest.mark.parametrize("voice", [pytest.param("flite:awb", marks=needs_flite), "piper:joe"])
def test_a_voice_never_trained_on_is_understood_through_a_whole_session(
    tmp_path: Path, voice: str
) -> None:
    loaded = Catalog.load(None).find("quick-test")
    player = CachedSynthesizer(make_synthesizer("espeak"), SpeechCache(tmp_path / "cache"))
    user = _user_voice(voice)
    result = run_demo(loaded, player, user, make_recognizer("pocketsphinx"), tmp_path / "s.wav")
    records = result.sim.records
    # What the recognizer understood: taken ("heard"), or recognized but set aside by the
    # player's barge-in policy ("next" said over its instructions is not taken then).
    understood = [r["command"] for r in records if r["kind"] == "heard"]
    set_aside = [
        r["text"]
        for r in records
        if r["kind"] == "ignored" and r["reason"].startswith("only pause, stop, pain")
    ]
    for command in ("pause", "resume", "pain", "4", "back", "stop"):
        assert command in understood, (command, understood)
    assert understood.count("stop") == 2
    # "next" is cued 3 s into the instructions, so the player is talking over it: then only
    # pause, stop, pain and red flags are taken, and since the eleventh session the
    # recognizer does not even listen for the others (the over-player grammar). Either it
    # was understood (or recognized and set aside), or every time it was said the player was
    # audibly talking.
    if "next" not in understood and "next" not in set_aside:
        player = result.sim.player_audio
        for at, text in result.script:
            if text == "next":
                start = round(at * player.rate_hz)
                stretch = player.samples[start : start + player.rate_hz // 2].astype(float)
                assert stretch.size > 0, at
                assert np.sqrt(np.mean(stretch**2)) > 300, (at, "the player was silent")
    # Nothing the user did not say was taken as a command.
    said = {"pause", "resume", "pain", "4", "back", "next", "how_long", "stop"}
    assert set(understood) <= said, understood
