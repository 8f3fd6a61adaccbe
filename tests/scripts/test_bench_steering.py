"""scripts/bench_steering: recorded takes and synthetic voices, each row scored."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from floorcoach.audio.pcm import Pcm, write_wav
from speech_fixtures import espeak

REPO = Path(__file__).resolve().parents[2]


def test_every_row_is_scored_and_a_recorded_stop_ends_the_session(tmp_path: Path) -> None:
    dev = tmp_path / "human-dev"
    clips = {"four": "sc-1", "stop": "sc-2", "bed": "sc-1"}  # a number, stop, other words
    manifest = []
    for word, speaker in clips.items():
        path = dev / "clips" / f"{word}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_wav(path, Pcm(espeak(word, tmp_path / "tts")))
        manifest.append({"file": f"clips/{word}.wav", "word": word, "speaker": speaker})
    (dev / "manifest.json").write_text(json.dumps(manifest))
    (dev / "labels.json").write_text("[]")
    (tmp_path / "human-negatives").mkdir()
    (tmp_path / "human-negatives" / "manifest.json").write_text("[]")

    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "bench_steering"), "--human-dir", str(tmp_path)],
        check=True,
        capture_output=True,
        text=True,
    )
    rows = {
        line.split(" | ")[0][2:]: line.split(" | ")[1:]
        for line in result.stdout.splitlines()
        if line.startswith("| ") and not line.startswith("| takes")
    }
    # four and stop, each as a take of itself; bed as a take of pause; stop asked for four
    assert rows["recorded: a key phrase as a take of itself"][0] == "2"
    assert rows["recorded: other words as a take of pause"][0] == "1"
    assert rows['recorded: "stop" said when asked for four'] == ["1", "1 (100.0 %) |"]
    assert rows["synthetic: a key phrase as a take of itself"][0] == "51"  # 17 phrases x 3
    assert "shipped head" in result.stdout
