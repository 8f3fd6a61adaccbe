"""A whole (tiny) session spoken through a real PortAudio stream on the virtual speaker."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from floorcoach_cli import command
from virtual_audio import VirtualAudio, cue_onsets, loud_seconds, read_wav_mono

LIVE = Path(__file__).parents[1] / "fixtures" / "live"
FAST_SPEECH = ("--rate-wpm", "220")


@pytest.mark.slow(seconds=45)
@pytest.mark.audio
def test_session_is_spoken_on_schedule(virtual_audio: VirtualAudio, tmp_path: Path) -> None:
    recording = virtual_audio.start_speaker_recording(tmp_path / "speaker.wav")
    log = tmp_path / "events.jsonl"
    result = subprocess.run(
        # the words faster than the default 150: the schedule under test is the tones'
        command("play", "tiny", "--routines-dir", str(LIVE), "--log", str(log), *FAST_SPEECH),
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

    starts = cue_onsets(signal, rate, "start")
    ends = cue_onsets(signal, rate, "end")
    beats = cue_onsets(signal, rate, "beat")
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
