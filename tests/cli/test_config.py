"""The settings file: XDG lookup, one line per bad key with defaults used, safe write-back."""

from __future__ import annotations

import argparse
import os
import re
import stat
import tomllib
from pathlib import Path

import pytest

from floorcoach.cli import config as cli_config
from floorcoach.runtime.config_effective import fill_args
from floorcoach.runtime.config_load import config_path, load_config
from floorcoach.runtime.config_model import DEFAULT_CONFIG_TEXT, Config
from floorcoach.runtime.config_save import (
    rewrite_speech_table,
    save_speech_settings,
    speech_change_saver,
)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_no_file_means_the_documented_defaults(tmp_path: Path) -> None:
    loaded = load_config(tmp_path / "absent.toml", warn=None)
    assert not loaded.exists
    assert not loaded.problems
    config = loaded.config
    assert (config.speech.rate_wpm, config.speech.volume) == (150, 1.0)
    assert (config.speech.voice, config.speech.backend) == ("en-us", "pyttsx3")
    assert (config.devices.input_device, config.devices.output_device) == (None, None)
    assert config.recognition.engine == "auto"
    assert config.routine.default == "first-week"
    assert config.display.mode == "normal"
    assert config.reminders == {}


def test_the_template_documents_exactly_the_defaults(tmp_path: Path) -> None:
    # Uncomment every documented setting (not the device examples): nothing may change.
    lines = []
    for line in DEFAULT_CONFIG_TEXT.splitlines():
        match = re.match(r"^# ([a-z_]+ = .*)$", line)
        if match and not match.group(1).startswith(("input_device", "output_device")):
            line = match.group(1)
        lines.append(line)
    path = _write(tmp_path / "config.toml", "\n".join(lines))
    loaded = load_config(path, warn=None)
    assert not loaded.problems
    assert len(loaded.from_file) == 9
    assert loaded.config == Config()


def test_path_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("FLOORCOACH_CONFIG", raising=False)
    assert config_path() == (tmp_path / "home/.config/floorcoach/config.toml", "~/.config")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config_path() == (tmp_path / "xdg/floorcoach/config.toml", "$XDG_CONFIG_HOME")
    monkeypatch.setenv("FLOORCOACH_CONFIG", str(tmp_path / "env.toml"))
    assert config_path() == (tmp_path / "env.toml", "$FLOORCOACH_CONFIG")
    assert config_path(tmp_path / "cli.toml") == (tmp_path / "cli.toml", "--config")


def test_bad_keys_are_reported_one_line_each_and_defaults_used(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(
        tmp_path / "config.toml",
        """
[speech]
rate_wpm = 500
volume = "loud"
voice = "en-gb"
colour = "red"
[devices]
input_device = "USB mic"
output_device = -1
[recognition]
engine = "whisper"
[display]
mode = "big"
[routine]
default = 7
[standby]
ready_check = "yes"
[extras]
x = 1
""",
    )
    loaded = load_config(path)
    err = capsys.readouterr().err.splitlines()
    expected = {
        "speech.rate_wpm": "a whole number from 80 to 260; using the default 150",
        "speech.volume": "a number from 0.2 to 1.0; using the default 1.0",
        "speech.colour": "accepted in [speech]: rate_wpm, volume, voice, backend",
        "devices.output_device": "a device index (0, 1, ...), a name substring",
        "recognition.engine": '"auto", "pocketsphinx" or "vosk"; using the default "auto"',
        "routine.default": "a routine name",
        "standby.ready_check": "true or false; using the default true",
        "extras": "accepted tables: speech, devices, recognition, routine, standby, display, "
        "reminders",
    }
    assert len(err) == len(expected)
    for key, accepted in expected.items():
        [line] = [line for line in err if f"{key} " in line or f"'{key}'" in line]
        assert line.startswith("floorcoach: config.toml: ")
        assert accepted in line
    assert sorted(p.key for p in loaded.problems) == sorted(expected)
    config = loaded.config
    # good values next to bad ones are kept
    assert config.speech.voice == "en-gb"
    assert config.devices.input_device == "USB mic"
    assert config.display.mode == "big"
    assert config.speech.rate_wpm == 150
    assert config.recognition.engine == "auto"
    assert loaded.source_of("speech.voice") == "config.toml"
    assert loaded.source_of("speech.rate_wpm") == "default"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[speech\nrate_wpm = 1", "not valid TOML"),
        ("speech = 3", "'speech' must be a table"),
        ("reminders = 3", "'reminders' = 3 is not allowed; accepted: a table"),
        ("[speech]\nrate_wpm = 150.5", "speech.rate_wpm = 150.5"),
        ("[speech]\nrate_wpm = true", "speech.rate_wpm = true"),
        ('[speech]\nvoice = "en us; rm -rf"', "speech.voice"),
    ],
)
def test_broken_files_never_crash(tmp_path: Path, text: str, fragment: str) -> None:
    lines: list[str] = []
    loaded = load_config(_write(tmp_path / "config.toml", text), warn=lines.append)
    assert len(lines) == 1
    assert fragment in lines[0]
    assert loaded.config == Config()


def test_undecodable_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xff\xfe[speech]")
    lines: list[str] = []
    assert load_config(path, warn=lines.append).config == Config()
    assert lines == [f"{path}: it is not UTF-8 text; using the defaults for everything in it"]


def test_device_spellings(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.toml", '[devices]\ninput_device = "3"\noutput_device = "default"')
    devices = load_config(path, warn=None).config.devices
    assert (devices.input_device, devices.output_device) == (3, None)


def test_reminders_pass_through(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.toml", '[reminders]\ntime = "09:00"\ndays = ["mon"]\n')
    assert load_config(path, warn=None).config.reminders == {"time": "09:00", "days": ["mon"]}


USER_FILE = """\
# My floorcoach settings -- keep this comment
[devices]
input_device = "USB"   # the webcam mic

[speech]   # how it talks
voice = "en-gb"        # I like this one
rate_wpm = 140         # slow please

[display]
mode = "big"
"""


def test_saving_rewrites_only_the_speech_lines(tmp_path: Path) -> None:
    path = _write(tmp_path / "config.toml", USER_FILE)
    path.chmod(0o600)
    assert save_speech_settings(120, 0.85, None, path=path) == path
    new = path.read_text()
    old_lines, new_lines = USER_FILE.splitlines(), new.splitlines()
    # the one new key is inserted right under the header; every other line is as it was
    assert new_lines[:5] == old_lines[:5]
    assert new_lines[5] == "volume = 0.85"
    assert new_lines[6] == 'voice = "en-gb"        # I like this one'
    assert new_lines[7] == "rate_wpm = 120         # slow please"
    assert new_lines[8:] == old_lines[7:]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["config.toml"]  # no temporary left over
    loaded = load_config(path, warn=None)
    assert (loaded.config.speech.rate_wpm, loaded.config.speech.volume) == (120, 0.85)
    assert loaded.config.devices.input_device == "USB"
    assert loaded.config.display.mode == "big"


def test_saving_with_no_file_writes_the_documented_template(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "config.toml"
    save_speech_settings(170, None, None, path=path)
    text = path.read_text()
    assert "# volume = 1.0" in text  # the documentation stays for the user to find
    assert load_config(path, warn=None).config.speech.rate_wpm == 170


def test_saving_adds_a_speech_table_when_there_is_none(tmp_path: Path) -> None:
    path = _write(tmp_path / "config.toml", '[display]\nmode = "plain"')
    save_speech_settings(None, 0.5, "en+f3", path=path)
    parsed = tomllib.loads(path.read_text())
    assert parsed == {"display": {"mode": "plain"}, "speech": {"volume": 0.5, "voice": "en+f3"}}


@pytest.mark.parametrize(
    "text",
    [
        "speech = { rate_wpm = 150 }  # inline table\n",
        "speech.rate_wpm = 150\n",
        "[speech\nbroken",
    ],
)
def test_unusual_or_broken_files_are_left_alone_and_state_toml_is_used(
    tmp_path: Path, text: str
) -> None:
    path = _write(tmp_path / "config.toml", text)
    written = save_speech_settings(110, None, None, path=path)
    assert written == tmp_path / "state.toml"
    assert path.read_text() == text
    loaded = load_config(path, warn=None)
    assert loaded.config.speech.rate_wpm == 110
    assert loaded.source_of("speech.rate_wpm") == "state.toml"


def test_a_later_direct_save_clears_the_state_override(tmp_path: Path) -> None:
    path = _write(tmp_path / "config.toml", "speech = { rate_wpm = 150 }\n")
    save_speech_settings(110, 0.7, None, path=path)
    _write(path, "[speech]\nrate_wpm = 150\n")  # the user fixed the file by hand
    save_speech_settings(120, None, None, path=path)
    state = tomllib.loads((tmp_path / "state.toml").read_text())
    assert state == {"speech": {"volume": 0.7}}  # rate_wpm no longer overridden
    loaded = load_config(path, warn=None)
    assert (loaded.config.speech.rate_wpm, loaded.config.speech.volume) == (120, 0.7)
    assert loaded.source_of("speech.rate_wpm") == "config.toml"


def test_saving_through_a_symlink_keeps_the_link(tmp_path: Path) -> None:
    real = _write(tmp_path / "dotfiles" / "floorcoach.toml", "[speech]\nrate_wpm = 150\n")
    link = tmp_path / "config.toml"
    link.symlink_to(real)
    save_speech_settings(130, None, None, path=link)
    assert link.is_symlink()
    assert "rate_wpm = 130" in real.read_text()


def test_out_of_range_values_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="out of range"):
        save_speech_settings(20, None, None, path=tmp_path / "c.toml")
    assert not (tmp_path / "c.toml").exists()


def test_rewrite_keeps_crlf_line_ends() -> None:
    new = rewrite_speech_table("[speech]\r\nrate_wpm = 150\r\n", {"rate_wpm": 160})
    assert new == "[speech]\r\nrate_wpm = 160\r\n"


def test_fill_args_only_fills_what_the_command_line_left_unset(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.toml", '[speech]\nrate_wpm = 120\nvoice = "en-gb"\n')
    args = argparse.Namespace(rate_wpm=None, voice="en-us", engine=None, unrelated=None)
    fill_args(args, load_config(path, warn=None).config)
    assert (args.rate_wpm, args.voice, args.engine, args.unrelated) == (120, "en-us", "auto", None)


def _run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    cli_config.register(parser.add_subparsers())
    args = parser.parse_args(["config", *argv])
    return int(args.func(args))


def test_cli_show_marks_where_each_value_came_from(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path / "config.toml", "[speech]\nrate_wpm = 130\nvolume = 7\n")
    monkeypatch.setenv("FLOORCOACH_CONFIG", str(path))
    assert _run_cli("--show") == 1
    out, err = capsys.readouterr()
    assert f"# config file: {path} (found; chosen by $FLOORCOACH_CONFIG)" in out
    assert "rate_wpm = 130  # config.toml" in out
    assert "volume = 1.0  # default" in out
    assert '# input_device = "default"  # the system default (default)' in out
    assert "speech.volume = 7 is not allowed" in err
    assert tomllib.loads(out)["speech"] == {  # the output itself is TOML
        "rate_wpm": 130,
        "volume": 1.0,
        "voice": "en-us",
        "backend": "pyttsx3",
    }
    assert _run_cli("--path") == 0
    assert capsys.readouterr().out == f"{path}\n"


def test_cli_init_writes_the_template_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "new" / "config.toml"
    assert _run_cli("--init", "--config", str(path)) == 0
    assert path.read_text() == DEFAULT_CONFIG_TEXT
    path.write_text("# mine\n")
    assert _run_cli("--init", "--config", str(path)) == 0
    assert path.read_text() == "# mine\n"
    assert "already exists" in capsys.readouterr().out
    assert _run_cli("--config", str(path)) == 0
    assert os.path.exists(path)


def test_voice_decisions_from_a_session_are_saved(tmp_path: Path) -> None:
    from floorcoach.content.catalog import Catalog
    from floorcoach.session.simulate import ScriptedLine, dry_run

    path = _write(tmp_path / "config.toml", USER_FILE)
    script = [ScriptedLine(10.0, "speak slower"), ScriptedLine(12.0, "quieter")]
    records = dry_run(Catalog.load().find("quick-test"), script, rate_wpm=140).records
    save = speech_change_saver(path)
    for record in records:
        save(record)
    speech = load_config(path, warn=None).config.speech
    assert (speech.rate_wpm, speech.volume) == (120, 0.85)
    assert "# I like this one" in path.read_text()


def test_a_failed_save_is_noted_once_and_never_raises(tmp_path: Path) -> None:
    blocker = _write(tmp_path / "file", "")
    notes: list[str] = []
    save = speech_change_saver(blocker / "config.toml", note=notes.append)
    for _ in range(2):
        save({"kind": "decision", "decision": "volume", "volume": 0.5})
    assert len(notes) == 1
    assert "they last this session only" in notes[0]
