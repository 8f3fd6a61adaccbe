"""`floorcoach demo` works with no sound hardware and tells what happened."""

from __future__ import annotations

from pathlib import Path

from floorcoach.audio.pcm import read_wav
from floorcoach_cli import run


def test_demo_writes_audio_and_a_transcript(tmp_path: Path) -> None:
    result = run("demo", "--log", "events.jsonl", cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    audio = read_wav(tmp_path / "demo.wav")
    assert audio.seconds > 30
    transcript = (tmp_path / "demo.txt").read_text()
    assert "PLAYER  Welcome to Quick test." in transcript
    assert "USER    pause" in transcript
    assert 'HEARD   "that hurts"  -> pain' in transcript
    # the pain decision is said before the next exercise is named (both are asked for at once)
    said = [line.split("PLAYER  ", 1)[1] for line in transcript.splitlines() if "PLAYER" in line]
    decision = next(i for i, text in enumerate(said) if "skip it for today" in text)
    assert said[decision + 1] == "Exercise 2 of 3: Pelvic tilts.", said[decision - 1 : decision + 2]
    lines = result.stdout.splitlines()
    assert lines[0].startswith("user spoke ")
    assert any(line.startswith("lines understood: ") for line in lines)
    assert lines[-1] == "wrote demo.wav and demo.txt"
