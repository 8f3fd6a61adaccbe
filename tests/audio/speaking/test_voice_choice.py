"""A Piper voice that fails falls back to espeak-ng, says so once, and never mixes cache keys."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from floorcoach.audio.pcm import Pcm
from floorcoach.audio.speaking.piper_voice import PiperSynthesizer
from floorcoach.audio.speaking.speech_cache import CachedSynthesizer, SpeechCache
from floorcoach.audio.speaking.synth import Synthesizer, VoiceSettings, make_synthesizer
from floorcoach.audio.speaking.voice_choice import FallbackSynthesizer, VoiceFactory
from floorcoach.errors import FloorcoachError


class BreaksAfter:
    """The real Piper voice, made to fail from the n-th phrase on (as a broken model would)."""

    def __init__(self, real: Synthesizer, good_phrases: int) -> None:
        self._real = real
        self._left = good_phrases

    @property
    def settings(self) -> VoiceSettings:
        return self._real.settings

    @property
    def key(self) -> str:
        return self._real.key

    def render(self, text: str) -> Pcm:
        if self._left <= 0:
            raise RuntimeError("onnxruntime: bad allocation")
        self._left -= 1
        return self._real.render(text)


def _factory(notes: list[str], good_phrases: int) -> VoiceFactory:
    def make(backend: str, voice: str, rate: int) -> Synthesizer:
        synth = make_synthesizer(backend, voice, rate)
        return BreaksAfter(synth, good_phrases) if isinstance(synth, PiperSynthesizer) else synth

    return VoiceFactory("espeak", "piper:joe", note=notes.append, make=make)


def test_a_failure_mid_session_falls_back_to_espeak_and_says_so_once(tmp_path: Path) -> None:
    notes: list[str] = []
    factory = _factory(notes, good_phrases=1)
    synth = factory(150)
    assert isinstance(synth, FallbackSynthesizer)
    cached = CachedSynthesizer(synth, SpeechCache(tmp_path))
    piper_key = synth.key
    assert piper_key.startswith("piper:joe:")
    first = cached.render("Rest for ten seconds")  # Piper
    second = cached.render("Switch sides")  # Piper fails: espeak-ng
    third = cached.render("Relax")
    assert all(len(p.samples) and np.max(np.abs(p.samples)) > 1000 for p in (first, second, third))
    assert len(notes) == 1
    assert "piper:joe failed (onnxruntime: bad allocation)" in notes[0]
    assert "carrying on with espeak-ng (en-us)" in notes[0]
    assert synth.key.startswith("espeak:en-us:150wpm")
    cache = SpeechCache(tmp_path)
    # espeak-ng's audio is filed under espeak-ng's key, never under the Piper voice's
    assert cache.get(piper_key, "Rest for ten seconds") is not None
    assert cache.get(piper_key, "Switch sides") is None
    assert cache.get(synth.key, "Switch sides") is not None
    # a rate change ("speak slower") does not try the broken voice again, nor say so again
    slower = factory(120)
    assert not isinstance(slower, FallbackSynthesizer)
    assert slower.key.startswith("espeak:en-us:120wpm")
    assert len(notes) == 1


def test_a_voice_that_cannot_load_falls_back_at_once() -> None:
    notes: list[str] = []

    def make(backend: str, voice: str, rate: int) -> Synthesizer:
        if voice.startswith("piper:"):
            raise FloorcoachError("Piper cannot be loaded (No module named 'piper')")
        return make_synthesizer(backend, voice, rate)

    synth = VoiceFactory("espeak", "piper:joe", note=notes.append, make=make)(150)
    assert synth.key.startswith("espeak:en-us:150wpm")
    assert len(notes) == 1
    assert "No module named 'piper'" in notes[0]


def test_an_espeak_voice_is_used_as_it_is() -> None:
    notes: list[str] = []
    synth = VoiceFactory("espeak", "en-gb", note=notes.append)(150)
    assert synth.key.startswith("espeak:en-gb:150wpm")
    with pytest.raises(FloorcoachError, match="no espeak-ng voice"):
        VoiceFactory("espeak", "xx-nowhere", note=notes.append)(150)
    assert notes == []


def test_the_player_says_once_that_its_voice_changed(tmp_path: Path) -> None:
    """`play` hands the engine a Notice on the first failure; the engine says it aloud."""
    from floorcoach.audio.speaking.voice_choice import FALLBACK_SPOKEN
    from floorcoach.cli.play import voice_failure_note
    from floorcoach.content.catalog import Catalog
    from floorcoach.session.engine import Engine
    from floorcoach.session.events import Notice, Say

    posted: list[Notice] = []

    def make(backend: str, voice: str, rate: int) -> Synthesizer:
        synth = make_synthesizer(backend, voice, rate)
        return BreaksAfter(synth, 1) if isinstance(synth, PiperSynthesizer) else synth

    factory = VoiceFactory(
        "espeak", "piper:joe", note=voice_failure_note(posted.append, lambda: 2.5), make=make
    )
    cached = CachedSynthesizer(factory(150), SpeechCache(tmp_path))
    for text in ("Rest for ten seconds", "Switch sides", "Relax", "Breathe out"):
        cached.render(text)
    assert posted == [Notice(FALLBACK_SPOKEN, 2.5)]  # once, for the rest of the run
    engine = Engine(Catalog.load().find("quick-test"), announce_duration=False)
    effects = engine.handle(posted[0])
    assert any(isinstance(e, Say) and e.text == FALLBACK_SPOKEN for e in effects)
