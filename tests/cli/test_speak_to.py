"""`--speak-to`: a session's audio rendered to a file, speech and tones at their times."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from floorcoach.audio.pcm import read_wav
from floorcoach_cli import run
from virtual_audio import cue_onsets


def test_a_session_is_rendered_to_a_wav_with_tones_on_schedule(tmp_path: Path) -> None:
    out = tmp_path / "session.wav"
    log = tmp_path / "events.jsonl"
    script = tmp_path / "user.txt"
    script.write_text("# what the user says\n@40 pause\n@44 resume\n")
    result = run(
        "play",
        "quick-test",
        "--speak-to",
        str(out),
        "--script",
        str(script),
        "--log",
        str(log),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stdout
    records = [json.loads(line) for line in log.read_text().splitlines()]
    pcm = read_wav(out)
    end = max(r["t"] for r in records)
    assert pcm.seconds == pytest.approx(end, abs=8.0)
    signal = pcm.to_float().astype(np.float64)
    assert np.sqrt(np.mean(signal**2)) > 0.01  # speech, not silence
    scheduled = [r["t"] for r in records if r["kind"] == "cue" and r["cue"] == "start"]
    found = cue_onsets(signal, pcm.rate_hz, "start")
    assert len(scheduled) == 2  # the knee-to-chest hold, left then right
    assert found == pytest.approx(scheduled, abs=0.01)
    heard = [r["command"] for r in records if r["kind"] == "heard"]
    assert heard == ["pause", "resume"]


def test_bad_script_lines_are_one_clear_error(tmp_path: Path) -> None:
    script = tmp_path / "user.txt"
    script.write_text("pause at some point\n")
    result = run(
        "play",
        "quick-test",
        "--speak-to",
        str(tmp_path / "x.wav"),
        "--script",
        str(script),
        timeout=60,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "expected '@SECONDS words'" in result.stderr
