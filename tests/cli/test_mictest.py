"""`floorcoach mic-test`: level per second, verdicts, and what it heard on the virtual mic."""

from __future__ import annotations

import argparse
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from floorcoach.audio.listening.sphinx_recognizer import SphinxRecognizer
from floorcoach.audio.pcm import RATE_HZ
from floorcoach.cli import mictest as cli_mictest
from floorcoach.cli.mictest import LevelMeter, SecondLevel, judge, level_line, listen
from speech_fixtures import ESPEAK, espeak, stream
from virtual_audio import VirtualAudio

needs_espeak = pytest.mark.skipif(ESPEAK is None, reason="espeak-ng is not installed")


def _tone(seconds: float, amplitude: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE_HZ)) / RATE_HZ
    return np.round(amplitude * 32767 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)


def test_meter_measures_each_second_whatever_the_chunk_size() -> None:
    audio = np.concatenate([_tone(1.0, 0.1), np.zeros(RATE_HZ, np.int16), _tone(0.5, 1.0)])
    meter = LevelMeter()
    for start in range(0, len(audio), 333):  # chunks that straddle the second boundaries
        meter.add(audio[start : start + 333])
    meter.finish()
    first, second, third = meter.snapshot()
    # a sine of amplitude A has RMS A/sqrt(2): 0.1 -> -23.0 dBFS, peak -20.0 dBFS
    assert first.rms_db == pytest.approx(-23.0, abs=0.1)
    assert first.peak_db == pytest.approx(-20.0, abs=0.1)
    assert (first.clipped, second.clipped) == (0, 0)
    assert second.peak_db < -100
    assert third.clipped >= cli_mictest.CLIPPED_SAMPLES_PER_SECOND  # full scale
    assert [level.index for level in (first, second, third)] == [1, 2, 3]


def test_a_short_tail_is_not_counted_as_a_second() -> None:
    meter = LevelMeter()
    meter.add(_tone(1.2, 0.1))
    meter.finish()
    assert len(meter.snapshot()) == 1


def _levels(*rms_db: float, clipped: int = 0, peak_gap_db: float = 10.0) -> list[SecondLevel]:
    return [SecondLevel(i + 1, db, db + peak_gap_db, clipped) for i, db in enumerate(rms_db)]


@pytest.mark.parametrize(
    ("levels", "heard", "status", "words"),
    [
        ([], 0, "no_audio", "no sound at all"),
        (_levels(-120, -120), 0, "silent", "only silence"),
        (_levels(-50, -20, clipped=40), 1, "clipping", "further from the microphone"),
        (_levels(-60, -48), 1, "quiet", "closer"),
        (_levels(-50, -46, -49), 0, "quiet", "closer"),
        (_levels(-40, -38, -41), 0, "no_speech", "say a command"),
        (_levels(-40, -38, -41), 1, "ok", "good"),
        (_levels(-55, -30, -52), 0, "ok", "good"),
    ],
)
def test_verdicts(levels: list[SecondLevel], heard: int, status: str, words: str) -> None:
    verdict = judge(levels, heard)
    assert verdict.status == status
    assert words in verdict.hint
    assert verdict.ok == (status == "ok")
    # spoken-friendly: a plain sentence, no symbols a speech synthesizer would read out
    assert not set(verdict.hint) & set("#|[]()_=<>/")
    assert verdict.hint.endswith(".")


def test_level_line_bar_and_clipping_mark() -> None:
    quiet = level_line(SecondLevel(1, -70.0, -60.0, 0))
    loud = level_line(SecondLevel(2, -10.0, -0.1, 50))
    assert quiet.startswith("  1 s  rms  -70.0 dBFS  peak  -60.0 dBFS  [")
    assert loud.count("#") > 25 > quiet.count("#")
    assert loud.endswith("CLIPPING")
    assert not quiet.endswith("CLIPPING")
    assert len(quiet.split("[")[1].split("]")[0]) == cli_mictest.BAR_WIDTH


def _write_wav(path: Path, samples: np.ndarray) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE_HZ)
        wav.writeframes(samples.astype("<i2").tobytes())
    return path


@pytest.mark.audio
@needs_espeak
def test_a_word_said_into_the_virtual_mic_is_heard_and_the_level_is_good(
    virtual_audio: VirtualAudio, tmp_path: Path
) -> None:
    # a room is never digitally silent: the word over a faint noise floor, as a mic hears it
    # (the recognizer measures the room for its first second, hence the 1 s lead-in)
    audio, _spans = stream([espeak("that hurts", tmp_path)], gap_seconds=1.0)
    wav = _write_wav(tmp_path / "pause.wav", audio)
    players: list[subprocess.Popen[bytes]] = []
    lines: list[str] = []
    result = listen(
        seconds=4.0,
        engine="pocketsphinx",
        out=lines.append,
        before=lambda: players.append(virtual_audio.play_into_mic(wav)),
    )
    assert players[0].wait(timeout=10) == 0
    assert result.device_name
    # What it heard is what the same recognizer finds in the file: the audio came through
    # whole (pocketsphinx's accuracy itself is measured by scripts/bench_commands).
    offline = SphinxRecognizer()
    expected = [h.text for h in offline.accept(audio) + offline.flush()]
    assert len(expected) == 1
    assert [h.text for h in result.heard] == expected, lines
    assert result.verdict.status == "ok", lines
    assert len(result.levels) == 4
    loudest = max(level.rms_db for level in result.levels)
    assert loudest > -40  # espeak-ng's voice at full level
    assert sum(line.startswith(("  1 s", "  2 s", "  3 s", "  4 s")) for line in lines) == 4
    assert any(line.startswith(f"heard: {result.heard[0].intent.value} (") for line in lines)
    assert lines[-1] == "OK: The microphone level is good."
    assert result.spoken_summary() == f"The microphone level is good. I heard: {expected[0]}."


@pytest.mark.audio
def test_a_silent_mic_fails_with_a_hint(
    virtual_audio: VirtualAudio, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser()
    cli_mictest.register(parser.add_subparsers())
    args = parser.parse_args(["mic-test", "--seconds", "1.5", "--engine", "pocketsphinx"])
    assert args.func(args) == 1
    out = capsys.readouterr().out
    assert "No commands heard." in out
    assert out.rstrip().endswith(
        "PROBLEM: The microphone sends only silence. It may be muted, or it is not the one you "
        "speak into. Run floorcoach devices to choose it by name."
    )


@pytest.mark.audio
def test_an_unknown_device_is_one_clear_line(virtual_audio: VirtualAudio) -> None:
    from floorcoach.errors import AudioDeviceError

    with pytest.raises(AudioDeviceError, match="no input device matches 'no such mic'"):
        listen(seconds=1.0, device="no such mic", engine="pocketsphinx", out=lambda _l: None)
