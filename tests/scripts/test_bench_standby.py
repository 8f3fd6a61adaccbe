"""scripts/bench_standby --sweep: talk through standby's recognizer and requests said alone,
scored at every fit threshold from one decode; then the answers to "ready? say yes" in the
same talk and said alone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from floorcoach.audio.pcm import Pcm, write_wav
from speech_fixtures import espeak, to_int16, white_noise

REPO = Path(__file__).resolve().parents[2]


def _write(path: Path, samples: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_wav(path, Pcm(samples.astype(np.int16)))


def _recorded(text: str, tts: Path, seed: int) -> np.ndarray:
    """A synthetic clip as a recording comes: a quarter second of room noise either side."""
    pad = np.zeros(4000)
    audio = np.concatenate([pad, espeak(text, tts).astype(np.float64), pad])
    return to_int16(audio + white_noise(audio.size, -55.0, seed))


def test_talk_and_requests_are_scored(tmp_path: Path) -> None:
    tts = tmp_path / "tts"
    neg = tmp_path / "human-negatives"
    manifest = []
    utterances = (
        "i had toast for breakfast",
        "start my routine",
        "goodbye",
        "yes",
        "start reminders",
    )
    for i, text in enumerate(utterances):
        clip = _recorded(text, tts, i)
        _write(neg / "clips" / f"u{i}.wav", clip)
        manifest.append(
            {"file": f"clips/u{i}.wav", "speaker": f"spk-{i}", "duration": len(clip) / 16000}
        )
    (neg / "manifest.json").write_text(json.dumps(manifest))
    dev = tmp_path / "human-dev"
    _write(dev / "clips" / "start.wav", espeak("start", tts))
    _write(dev / "clips" / "yes.wav", espeak("yes", tts))
    (dev / "manifest.json").write_text(
        json.dumps(
            [
                {"file": "clips/start.wav", "word": "start", "speaker": "an4-x"},
                {"file": "clips/yes.wav", "word": "yes", "speaker": "an4-y"},
            ]
        )
    )
    stream = np.concatenate([np.zeros(16000), espeak("bed", tts), np.zeros(16000)])
    _write(dev / "noncmd_dev_01_clean.wav", stream)
    labels = [
        {"file": "noncmd_dev_01_clean.wav", "kind": "noncommand", "snr": None}
        | {"duration": len(stream) / 16000, "events": []}
    ]
    (dev / "labels.json").write_text(json.dumps(labels))

    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "bench_standby"),
            "--human-dir",
            str(tmp_path),
            "--snr",
            "clean",
            "--jobs",
            "1",
            "--sweep",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    lines = result.stdout.splitlines()
    talk = [line for line in lines if line.split(" | ")[1:2] == ["clean"]]
    assert len(talk) == 7  # one row per fit threshold
    untested = talk[0]
    assert untested.startswith("| -1 | clean |")
    assert untested.split(" | ")[3].startswith("1 ")  # "start my routine", said in the talk
    assert "start 1" in untested
    # "goodbye" and "start reminders": lasting changes, counted apart from spoken replies
    goodbyes, reminders_on, reminders_off = untested.split(" | ")[5].split(" / ")
    assert goodbyes.startswith("1 ("), untested
    assert reminders_on.startswith("1 ("), untested
    assert reminders_off.startswith("0 ("), untested
    recorded = [line for line in lines if line.startswith("| recorded: start (an4-x)")]
    assert len(recorded) == 1
    assert recorded[0].split(" | ")[1] == "1 / 1"  # heard, with no fit test
    (everyone,) = [line for line in lines if line.startswith("| synthetic, all |")]
    right, total = everyone.split(" | ")[1].split(" / ")
    assert int(total) == 27  # nine requests, three voices
    assert int(right) >= 20, result.stdout
    # the yes said in the talk is an answer that would play a mistaken start
    (answers,) = [line for line in lines if line.startswith("| clean |")]
    cells = answers.split(" | ")
    assert cells[2].startswith("1 ("), answers  # one yes-like answer
    assert float(cells[5]) > 0.0, answers  # some chance a start plays
    assert float(cells[6]) > 0.0, answers  # the goodbye and "start reminders" in the talk
    assert float(cells[7].rstrip(" |")) > 0.0, answers  # some chance it switches off
    assert "| recorded: yes | 1 / 1 |" in lines, result.stdout
    (synthetic_yes,) = [line for line in lines if line.startswith("| synthetic: yes |")]
    assert synthetic_yes.split(" | ")[1].split(" / ")[1].startswith("3")  # three voices
