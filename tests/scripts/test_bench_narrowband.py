"""scripts/bench_narrowband: telephone-band clips, wideband clips and their cut, each scored."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt

from floorcoach.audio.listening.bandwidth import low_pass
from floorcoach.audio.pcm import Pcm, write_wav
from speech_fixtures import espeak, to_int16

REPO = Path(__file__).resolve().parents[2]


def _write(path: Path, samples: npt.NDArray[np.int16]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_wav(path, Pcm(samples))


def test_each_set_is_scored_for_each_preset(tmp_path: Path) -> None:
    dev = tmp_path / "human-dev"
    four = espeak("four", tmp_path / "tts")
    _write(dev / "clips/fsdd/four.wav", to_int16(low_pass(four / 32768.0) * 32768.0))
    _write(dev / "clips/sc/six.wav", espeak("six", tmp_path / "tts"))
    _write(dev / "clips/sc/bed.wav", espeak("bed", tmp_path / "tts"))  # not a number
    manifest = [
        {"file": "clips/fsdd/four.wav", "word": "four", "speaker": "fsdd-x", "orig_rate": 8000},
        {"file": "clips/sc/six.wav", "word": "six", "speaker": "sc-1", "orig_rate": 16000},
        {"file": "clips/sc/bed.wav", "word": "bed", "speaker": "sc-1", "orig_rate": 16000},
    ]
    (dev / "manifest.json").write_text(json.dumps(manifest))
    (dev / "labels.json").write_text("[]")
    (tmp_path / "human-negatives").mkdir()
    (tmp_path / "human-negatives" / "manifest.json").write_text("[]")

    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "bench_narrowband"),
            "--human-dir",
            str(tmp_path),
            "--show",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ")][1:]
    names = [row.split(" | ")[0] for row in rows]
    assert names == [
        f"| {preset}: {name}"
        for preset in ("default", "no_bandwidth_extension")
        for name in ("telephone band (recorded at 8 kHz)", "wideband", "wideband cut to 3.8 kHz")
    ]
    assert all(row.split(" | ")[1] == "1" for row in rows)  # one clip in each set
    assert "shipped head" in result.stdout
    assert "bed" not in result.stdout
