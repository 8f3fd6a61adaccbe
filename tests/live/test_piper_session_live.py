"""A whole session in the Piper voice on the virtual speaker, its cache warmed before it starts."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from floorcoach.audio.speaking.piper_voice import PiperSynthesizer
from floorcoach.audio.speaking.speech_cache import SpeechCache
from floorcoach.audio.speaking.synth import make_synthesizer, normalize_text
from floorcoach.content.catalog import Catalog
from floorcoach.session.simulate import dry_run
from floorcoach_cli import command
from virtual_audio import VirtualAudio, best_match, cue_onsets, loud_seconds, read_wav_mono

LIVE = Path(__file__).parents[1] / "fixtures" / "live"


@pytest.mark.slow(seconds=42)
@pytest.mark.audio
def test_a_session_plays_in_the_piper_voice_with_its_cache_warmed_first(
    virtual_audio: VirtualAudio, tmp_path: Path
) -> None:
    cache_dir = tmp_path / "cache"  # empty: first use of the voice on this routine
    env = {**virtual_audio.env, "FLOORCOACH_CACHE_DIR": str(cache_dir)}
    config = tmp_path / "config.toml"
    config.write_text('[speech]\nvoice = "piper:joe"\n')  # the setting, not an option
    log = tmp_path / "events.jsonl"
    recording = virtual_audio.start_speaker_recording(tmp_path / "speaker.wav")
    result = subprocess.run(
        command(
            "play", "one-hold", "--routines-dir", LIVE, "--log", log, "--no-mic", "--config", config
        ),
        input="",
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        check=False,
    )
    recording.stop()
    assert result.returncode == 0, result.stderr
    assert "printed instead" not in result.stderr, result.stderr
    assert "espeak-ng" not in result.stderr, result.stderr  # no fallback

    # Every phrase the routine will say was rendered before the session began, with a bar
    loaded = Catalog.load(LIVE).find("one-hold")
    planned = list(dict.fromkeys(normalize_text(t) for t in dry_run(loaded).said()))
    bar = [line for line in result.stderr.splitlines() if line.startswith("Preparing the voice")]
    assert bar, result.stderr
    assert re.search(rf"\] {len(planned)}/{len(planned)} phrases$", bar[-1]), bar
    assert bar[0].endswith(f"] 0/{len(planned)} phrases")
    joe = make_synthesizer("pyttsx3", "piper:joe")
    assert isinstance(joe, PiperSynthesizer)
    cache = SpeechCache(cache_dir)
    assert all(cache.path_for(joe.key, text).exists() for text in planned)

    # The session was spoken in that voice, and its tones still mark the hold
    signal, rate = read_wav_mono(tmp_path / "speaker.wav")
    assert loud_seconds(signal, rate) > 10.0
    records = [json.loads(line) for line in log.read_text().splitlines()]
    said = [r["text"] for r in records if r["kind"] == "say"]
    welcome = cache.get(joe.key, said[0])
    assert welcome is not None
    assert best_match(signal, rate, welcome) > 0.9
    starts, ends = cue_onsets(signal, rate, "start"), cue_onsets(signal, rate, "end")
    assert len(starts) == 1, starts
    assert len(ends) == 1, ends
    assert ends[0] - starts[0] == pytest.approx(4.0, abs=0.1)
    assert said[-1].startswith("That's the end of today's session.")
    assert np.isfinite(signal).all()
