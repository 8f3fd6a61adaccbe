"""scripts/bench_soak: the real standby command, run on the virtual devices while recorded
talk plays into its microphone, sampled for memory, threads and open files."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from floorcoach.audio.pcm import Pcm, write_wav
from speech_fixtures import espeak, to_int16, white_noise

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow(seconds=30)
@pytest.mark.audio
def test_standby_is_sampled_while_talk_plays(tmp_path: Path) -> None:
    tts = tmp_path / "tts"
    neg = tmp_path / "human-negatives"
    (neg / "clips").mkdir(parents=True)
    manifest = []
    for i, text in enumerate(("i had toast for breakfast", "the bus was late again")):
        pad = np.zeros(4000)
        audio = np.concatenate([pad, espeak(text, tts).astype(np.float64), pad])
        clip = to_int16(audio + white_noise(audio.size, -55.0, i))
        write_wav(neg / "clips" / f"u{i}.wav", Pcm(clip))
        manifest.append({"file": f"clips/u{i}.wav", "speaker": f"s{i}", "duration": 2.0})
    (neg / "manifest.json").write_text(json.dumps(manifest))
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "bench_soak"), "--human-dir", str(tmp_path)]
        + ["--minutes", "0.25", "--every", "3", "--warmup", "0", "--python-heap"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    row = r"^\| ([\d.]+) \| ([\d.]+) \| (\d+) \| (\d+) \| ([\d.]+) \|$"
    rows = re.findall(row, result.stdout, re.M)
    assert len(rows) >= 4, result.stdout
    # after start-up: the recognizer, the voice and their threads are loaded
    assert float(rows[-1][1]) > 50, result.stdout
    assert int(rows[-1][2]) > 3, result.stdout
    assert re.search(r"^\| [+-][\d.]+ \| [+-][\d.]+ \| [+-][\d.]+ \|$", result.stdout, re.M)
    assert "exit 0 on SIGTERM" in result.stdout  # stopped the way systemd stops it
    # --python-heap: standby ran under tracemalloc, and its heap was sampled apart from RSS
    heap = re.findall(r"^\| ([\d.]+) \| ([\d.]+) \|$", result.stdout, re.M)
    assert heap, result.stdout  # one at least: a snapshot took seconds in a loaded CI run
    assert all(float(mb) > 5 for _, mb in heap), result.stdout  # the loaded code, at least
    assert re.search(r"^Python heap growth after 0 min: [+-][\d.]+ MB / h$", result.stdout, re.M)
    assert re.search(r"^\| .+:\d+ \| [+-][\d.]+ \| [+-]\d+ \|$", result.stdout, re.M)
