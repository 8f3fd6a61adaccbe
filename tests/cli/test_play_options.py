"""`play` options that shape the experience: --plain, --big, and settings changed by voice."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from floorcoach_cli import run


def _play(*extra: str, script: str = "", env: dict[str, str] | None = None) -> str:
    result = run(
        "play",
        "quick-test",
        "--text",
        "--time-scale",
        "50",
        "--no-history",
        *extra,
        input=script,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def test_plain_view_is_one_line_per_event_with_no_redrawing() -> None:
    out = _play("--plain", script="@40 pause\n@42 resume\n")
    lines = out.splitlines()
    assert "\x1b" not in out  # no escape codes for a screen reader to stumble on
    assert any(line.endswith("session started: quick-test") for line in lines)
    assert any("Welcome to Quick test." in line for line in lines)
    # each event once: nothing is repainted
    assert sum(line.endswith("session started: quick-test") for line in lines) == 1
    assert sum("Welcome to Quick test." in line for line in lines) == 1
    assert all(line[:6].strip().replace(":", "").isdigit() for line in lines if line.strip())


def test_big_view_falls_back_to_plain_when_not_a_terminal() -> None:
    out = _play("--big")
    assert "\x1b[" not in out
    assert any("Welcome to Quick test." in line for line in out.splitlines())


@pytest.mark.slow(seconds=9)
def test_speech_changed_by_voice_is_remembered(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("# my settings\n[speech]\nrate_wpm = 150\n# keep this comment\n")
    env = dict(os.environ, FLOORCOACH_CONFIG=str(config))
    _play(script="@30 speak slower\n@32 quieter\n", env=env)
    text = config.read_text()
    assert "# keep this comment" in text
    speech = tomllib.loads(text)["speech"]
    assert speech["rate_wpm"] == 130
    assert speech["volume"] == 0.85
    # and the next session starts at that rate
    out = _play("--plain", env=env)
    assert out  # it ran; the rate is read from the file
    assert "rate_wpm = 130" in config.read_text()


def test_a_bad_setting_is_named_and_the_default_used(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[speech]\nrate_wpm = "fast"\ncolour = "red"\n')
    result = run(
        "play",
        "quick-test",
        "--text",
        "--time-scale",
        "50",
        "--no-history",
        "--config",
        str(config),
        input="@3 stop\n@4 stop\n",
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "rate_wpm" in result.stderr
    assert "colour" in result.stderr
    assert "Traceback" not in result.stderr
