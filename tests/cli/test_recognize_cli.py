"""`floorcoach recognize`: commands from WAV files, clear one-line errors for bad files."""

from __future__ import annotations

import json
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from floorcoach.audio.pcm import RATE_HZ
from floorcoach.cli import main
from speech_fixtures import ESPEAK, espeak, stream

needs_espeak = pytest.mark.skipif(ESPEAK is None, reason="espeak-ng is not installed")


def write(
    path: Path, frames: bytes, rate: int = RATE_HZ, channels: int = 1, width: int = 2
) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        wav.writeframes(frames)
    return path


@pytest.fixture(scope="module")
def commands_wav(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, list[tuple[float, float]]]:
    folder = tmp_path_factory.mktemp("cli")
    audio, spans = stream([espeak(t, folder) for t in ["hold on", "next", "stop"]], seed=5)
    return write(folder / "commands.wav", audio.astype("<i2").tobytes()), spans


@needs_espeak
@pytest.mark.parametrize("chunk_ms", ["10", "250"])
def test_json_lines(
    commands_wav: tuple[Path, list[tuple[float, float]]],
    capsys: pytest.CaptureFixture[str],
    chunk_ms: str,
) -> None:
    path, spans = commands_wav
    code = main(
        ["recognize", str(path), "--engine", "pocketsphinx", "--json", "--chunk-ms", chunk_ms]
    )
    out, err = capsys.readouterr()
    assert code == 0
    assert "pocketsphinx" in err  # the one start-up line names the engine
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["command"] for r in rows] == ["pause", "next", "stop"]
    assert [r["text"] for r in rows] == ["hold on", "next", "stop"]
    for row, (start, end) in zip(rows, spans, strict=True):
        assert list(row) == ["command", "text", "start", "end", "confidence", "engine"]
        assert row["engine"] == "pocketsphinx"
        assert abs(row["start"] - start) < 0.15
        assert abs(row["end"] - end) < 0.15
        assert 0.0 <= row["confidence"] <= 1.0


@needs_espeak
def test_48k_stereo_and_plain_output(
    commands_wav: tuple[Path, list[tuple[float, float]]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path, _ = commands_wav
    with wave.open(str(path), "rb") as wav:
        mono = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    up = np.interp(np.arange(len(mono) * 3) / 3, np.arange(len(mono)), mono).astype("<i2")
    stereo = np.stack([up, up], axis=1).reshape(-1)
    big = write(tmp_path / "stereo48k.wav", stereo.tobytes(), rate=48_000, channels=2)
    assert main(["recognize", str(big), "--engine", "pocketsphinx"]) == 0
    out = capsys.readouterr().out
    assert [line.split()[0] for line in out.splitlines()] == ["pause", "next", "stop"]


def test_ten_minutes_of_silence_is_no_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "silence.wav", bytes(2 * RATE_HZ * 600))
    assert (
        main(["recognize", str(path), "--engine", "pocketsphinx", "--json", "--chunk-ms", "500"])
        == 0
    )
    assert capsys.readouterr().out == ""


def test_eight_bit_file_is_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "u8.wav", bytes([128]) * 8000 * 3, rate=8000, width=1)
    assert main(["recognize", str(path), "--engine", "pocketsphinx"]) == 0
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("empty.wav", b""),
        ("text.wav", b"this is not audio at all, just words\n" * 10),
        ("truncated.wav", None),
        ("missing.wav", "missing"),
    ],
)
def test_bad_files_give_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: bytes | str | None
) -> None:
    path = tmp_path / name
    if content is None:
        good = write(tmp_path / "good.wav", bytes(2 * RATE_HZ))
        path.write_bytes(good.read_bytes()[:30])  # cut inside the header
    elif isinstance(content, bytes):
        path.write_bytes(content)
    code = main(["recognize", str(path), "--engine", "pocketsphinx"])
    out, err = capsys.readouterr()
    assert code in (1, 2)
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert str(path) in err
    assert "Traceback" not in err


def test_truncated_data_is_read_as_far_as_it_goes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write(tmp_path / "good.wav", bytes(2 * RATE_HZ * 2))
    cut = tmp_path / "cut.wav"
    cut.write_bytes(good.read_bytes()[:20_001])  # header says 2 s, data stops at 0.6 s, odd byte
    assert main(["recognize", str(cut), "--engine", "pocketsphinx"]) == 0
    assert capsys.readouterr().out == ""


def test_bad_chunk_size_and_engine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "s.wav", bytes(2 * RATE_HZ))
    assert main(["recognize", str(path), "--chunk-ms", "0"]) == 2
    assert "--chunk-ms" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["recognize", str(path), "--engine", "whisper"])


def test_vosk_without_model_names_the_install_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "s.wav", bytes(2 * RATE_HZ))
    code = main(["recognize", str(path), "--engine", "vosk", "--model", str(tmp_path / "nothing")])
    err = capsys.readouterr().err
    assert code == 1
    assert "floorcoach models install" in err
    assert len(err.strip().splitlines()) == 1


CONTEXT_PHRASES = ["my back", "better", "seven", "that hurts"]
CONTEXT_HEARS = {
    # What each listening context reports for CONTEXT_PHRASES: its own answers, plus the
    # safety phrases ("that hurts") that every context hears.
    "commands": ["pain"],
    "pain_level": ["7", "pain"],
    "pain_location": ["back", "pain"],
    "feeling": ["better", "pain"],
    "confirm": ["pain"],
}


@pytest.fixture(scope="module")
def context_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ctx")
    audio, _ = stream([espeak(t, folder) for t in CONTEXT_PHRASES], seed=7)
    return write(folder / "contexts.wav", audio.astype("<i2").tobytes())


def test_every_listening_context_is_a_choice() -> None:
    from floorcoach.commands import ListenContext

    assert set(CONTEXT_HEARS) == {c.value for c in ListenContext}


@needs_espeak
@pytest.mark.parametrize("context", sorted(CONTEXT_HEARS))
def test_context_decides_what_is_heard(
    context_wav: Path, capsys: pytest.CaptureFixture[str], context: str
) -> None:
    code = main(
        ["recognize", str(context_wav), "--engine", "pocketsphinx", "--json", "--context", context]
    )
    out, err = capsys.readouterr()
    assert code == 0
    assert f"context {context}" in err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["command"] for r in rows] == CONTEXT_HEARS[context]
    for row in rows:  # the JSON shape does not depend on the context
        assert list(row) == ["command", "text", "start", "end", "confidence", "engine"]


@needs_espeak
def test_seven_is_a_pain_level_and_not_a_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    audio, spans = stream([espeak("seven", tmp_path)], seed=3)
    path = write(tmp_path / "seven.wav", audio.astype("<i2").tobytes())
    assert main(["recognize", str(path), "--json", "--engine", "pocketsphinx"]) == 0
    assert capsys.readouterr().out == ""  # default context: commands
    args = ["recognize", str(path), "--json", "--engine", "pocketsphinx", "--context"]
    assert main([*args, "pain_level"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["command"], r["text"]) for r in rows] == [("7", "seven")]
    assert abs(rows[0]["start"] - spans[0][0]) < 0.15


def test_bad_context_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "s.wav", bytes(2 * RATE_HZ))
    with pytest.raises(SystemExit) as exc:
        main(["recognize", str(path), "--context", "pain"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--context" in err
    assert "invalid choice: 'pain'" in err
    assert "pain_level" in err
    assert "confirm" in err


def test_preset_configures_pocketsphinx(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from floorcoach.audio.listening import sphinx_config, sphinx_recognizer

    built: list[sphinx_config.SphinxConfig | None] = []
    real_init = sphinx_recognizer.SphinxRecognizer.__init__

    def spy(
        self: sphinx_recognizer.SphinxRecognizer,
        config: sphinx_config.SphinxConfig | None = None,
        **kwargs: Any,
    ) -> None:
        built.append(config)
        real_init(self, config, **kwargs)

    monkeypatch.setattr(sphinx_recognizer.SphinxRecognizer, "__init__", spy)
    path = write(tmp_path / "s.wav", bytes(2 * RATE_HZ))
    assert main(["recognize", str(path), "--preset", "grammar", "--context", "pain_level"]) == 0
    err = capsys.readouterr().err
    assert built == [sphinx_config.preset("grammar")]
    assert "preset grammar" in err
    assert "context pain_level" in err


def test_bad_preset_lists_the_valid_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "s.wav", bytes(2 * RATE_HZ))
    code = main(["recognize", str(path), "--preset", "grammer"])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert "'grammer'" in err
    for name in ("default", "grammar", "verify_2s", "verifier_only"):
        assert name in err


def test_preset_needs_pocketsphinx(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "s.wav", bytes(2 * RATE_HZ))
    assert main(["recognize", str(path), "--engine", "vosk", "--preset", "grammar"]) == 2
    assert "--preset" in capsys.readouterr().err
