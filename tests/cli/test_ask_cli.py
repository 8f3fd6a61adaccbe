"""`floorcoach ask`: prints the answer, speaks it when a speaker works, says why when not."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from floorcoach.cli import questions as cli_questions
from floorcoach.content.questions import load_questions
from virtual_audio import VirtualAudio, loud_seconds, read_wav_mono

ICE_OR_HEAT = load_questions().get("ice-or-heat")


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "floorcoach", "ask", *args]


def _run_in_process(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="floorcoach")
    cli_questions.register(parser.add_subparsers())
    args = parser.parse_args(["ask", *argv])
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_ask_prints_the_answer_and_exits_0() -> None:
    result = subprocess.run(
        _command("should I use ice or heat", "--no-voice"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ICE_OR_HEAT.spoken + "\n"
    assert result.stderr == ""


def test_without_a_speaker_it_prints_and_says_why(tmp_path: Path) -> None:
    result = subprocess.run(
        _command("when should I see a doctor", "--output-device", "no-such-speaker-xyz"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("I can't tell what is causing your pain")
    assert "Get medical help straight away" in result.stdout
    assert result.stderr.startswith("floorcoach: not spoken: ")
    assert "output device" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unknown_question_gets_the_fallback(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run_in_process(capsys, "can", "I", "eat", "chocolate", "--no-voice")
    assert code == 0
    assert out.startswith("I don't know that one; you can ask me: should I use ice or heat,")


def test_words_need_no_quotes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run_in_process(capsys, "how", "should", "I", "sleep?", "--no-voice")
    assert code == 0
    assert out.startswith("If you sleep on your side")


def test_list_shows_every_question(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run_in_process(capsys, "--list")
    assert code == 0
    lines = out.strip().splitlines()
    book = load_questions()
    assert [line.split()[0] for line in lines] == book.ids()
    doctor = next(line for line in lines if line.startswith("see-a-doctor"))
    assert doctor.endswith("when should I see a doctor  (+ warning signs)")


def test_no_question_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run_in_process(capsys)
    assert code == 2
    assert out == ""
    assert "--list" in err


@pytest.mark.slow(seconds=11)
@pytest.mark.audio
def test_ask_speaks_on_the_virtual_speaker(virtual_audio: VirtualAudio, tmp_path: Path) -> None:
    recording = virtual_audio.start_speaker_recording(tmp_path / "speaker.wav")
    result = subprocess.run(
        _command("should I use ice or heat"),
        capture_output=True,
        text=True,
        env=virtual_audio.env,
        timeout=120,
        check=False,
    )
    recording.stop()
    assert result.returncode == 0, result.stderr
    assert result.stdout == ICE_OR_HEAT.spoken + "\n"
    assert "not spoken" not in result.stderr, result.stderr
    signal, rate = read_wav_mono(tmp_path / "speaker.wav")
    # twenty-odd words at 150 a minute: several seconds of speech really came out
    assert loud_seconds(signal.astype(np.float64), rate) > 3.0
