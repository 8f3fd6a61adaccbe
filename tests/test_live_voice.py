"""A whole (tiny) session spoken through a real PortAudio stream on the virtual speaker."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from floorcoach.audio.speaking.cues import render_cue
from floorcoach_cli import command
from virtual_audio import VirtualAudio, loud_seconds, read_wav_mono

LIVE = Path(__file__).parent / "fixtures" / "live"


def _onsets(signal: np.ndarray, rate: int, cue: str, threshold: float = 0.7) -> list[float]:
    """Times where the cue's tone starts, by normalized cross-correlation with its PCM."""
    template = render_cue(cue).to_rate(rate).to_float().astype(np.float64)
    n = len(template)
    corr = np.correlate(signal, template, mode="valid")
    energy = np.sqrt(np.convolve(signal**2, np.ones(n), mode="valid")) * np.linalg.norm(template)
    score = np.divide(corr, energy, out=np.zeros_like(corr), where=energy > 1e-6)
    found: list[float] = []
    index = 0
    while index < len(score):
        if score[index] >= threshold:
            window = score[index : index + n]
            best = index + int(np.argmax(window))
            found.append(best / rate)
            index = best + n
        else:
            index += 1
    return found


@pytest.mark.audio
def test_session_is_spoken_on_schedule(virtual_audio: VirtualAudio, tmp_path: Path) -> None:
    recording = virtual_audio.start_speaker_recording(tmp_path / "speaker.wav")
    log = tmp_path / "events.jsonl"
    result = subprocess.run(
        command("play", "tiny", "--routines-dir", str(LIVE), "--log", str(log)),
        input="",
        capture_output=True,
        text=True,
        env=virtual_audio.env,
        timeout=240,
        check=False,
    )
    recording.stop()
    assert result.returncode == 0, result.stderr
    assert "printed instead" not in result.stderr, result.stderr
    signal, rate = read_wav_mono(tmp_path / "speaker.wav")
    signal = signal.astype(np.float64)
    assert loud_seconds(signal, rate) > 10.0  # the session was really spoken

    starts = _onsets(signal, rate, "start")
    ends = _onsets(signal, rate, "end")
    beats = _onsets(signal, rate, "beat")
    assert len(starts) == 1, starts  # the hold (reps start on their first beat)
    assert len(ends) == 2, ends
    # the 4 s hold, measured between its tones in the captured audio
    assert ends[0] - starts[0] == pytest.approx(4.0, abs=0.1)
    # three reps on a 1.5 s beat
    assert len(beats) == 3, beats
    assert np.diff(beats) == pytest.approx([1.5, 1.5], abs=0.1)
    assert ends[1] - beats[0] == pytest.approx(4.5, abs=0.1)

    records = [json.loads(line) for line in log.read_text().splitlines()]
    said = [r["text"] for r in records if r["kind"] == "say"]
    assert said[0].startswith("Welcome to Tiny.")
    assert said[-1].startswith("That's the end of today's session.")
