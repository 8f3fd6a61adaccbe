"""Devices are found by index or name; with none, one clear line instead of a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from floorcoach.audio.devices import (
    INSTALL_PORTAUDIO_MESSAGE,
    NO_OUTPUT_MESSAGE,
    find_device,
    list_devices,
)
from floorcoach.cli import main
from floorcoach.errors import AudioDeviceError
from virtual_audio import VirtualAudio


def _without_sound_server(tmp_path: Path) -> dict[str, str]:
    """Environment of a machine with no sound card and no sound server."""
    runtime_dir = tmp_path / "xdg"
    runtime_dir.mkdir(mode=0o700)
    env = dict(os.environ)
    env["XDG_RUNTIME_DIR"] = str(runtime_dir)
    env["PULSE_SERVER"] = f"unix:{runtime_dir}/no-such-server"
    return env


def _python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30
    )


def test_lists_the_virtual_devices(virtual_audio: VirtualAudio) -> None:
    devices = {d.name: d for d in list_devices()}
    assert {"pulse", "default"} <= set(devices)
    default = devices["default"]
    assert default.is_default_output
    assert default.is_default_input
    assert default.output_channels > 0
    assert default.input_channels > 0
    assert default.default_rate_hz > 0
    assert "(default)" in default.describe("output")
    assert default.describe("input").strip().startswith(str(default.index))


def test_find_device_by_default_index_and_name(virtual_audio: VirtualAudio) -> None:
    devices = {d.name: d for d in list_devices()}
    pulse, default = devices["pulse"], devices["default"]
    assert find_device(None, "output") == default
    assert find_device("", "input") == default
    assert find_device(pulse.index, "output") == pulse
    assert find_device(str(pulse.index), "output") == pulse
    assert find_device("PULS", "output") == pulse
    assert find_device("Default", "input") == default  # exact name beats substring matches


def test_unknown_device_lists_what_is_available(virtual_audio: VirtualAudio) -> None:
    available = ", ".join(f"{d.index} {d.name}" for d in list_devices())
    with pytest.raises(AudioDeviceError) as caught:
        find_device("usb", "output")
    assert str(caught.value) == f"no output device matches 'usb' (available: {available})"
    with pytest.raises(AudioDeviceError, match=r"no input device has index 99 \(available: "):
        find_device(99, "input")


def test_devices_command_lists_inputs_and_outputs(
    virtual_audio: VirtualAudio, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["devices"]) == 0
    out = capsys.readouterr().out
    inputs, outputs = out.split("Output devices (speakers):")
    assert inputs.startswith("Input devices (microphones):")
    assert "pulse" in inputs
    assert "default" in outputs
    assert "(default)" in outputs


def test_no_sound_server_gives_one_clear_line(tmp_path: Path) -> None:
    env = _without_sound_server(tmp_path)
    done = _python(
        "from floorcoach.audio.devices import find_device, list_devices\n"
        "from floorcoach.audio.speaking.device_speaker import DeviceSpeaker\n"
        "from floorcoach.errors import AudioDeviceError\n"
        "print(len(list_devices()))\n"
        "for make in (lambda: find_device(None, 'output'), DeviceSpeaker):\n"
        "    try:\n"
        "        make()\n"
        "    except AudioDeviceError as exc:\n"
        "        print(exc)\n",
        env,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["0", NO_OUTPUT_MESSAGE, NO_OUTPUT_MESSAGE]


def test_cli_without_devices_prints_message_and_text(tmp_path: Path) -> None:
    env = _without_sound_server(tmp_path)
    env["FLOORCOACH_CACHE_DIR"] = str(tmp_path / "cache")
    devices = subprocess.run(
        [sys.executable, "-m", "floorcoach", "devices"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert devices.returncode == 0
    assert NO_OUTPUT_MESSAGE in devices.stdout
    assert "Traceback" not in devices.stderr

    say = subprocess.run(
        [sys.executable, "-m", "floorcoach", "say", "Bend your knees", "--backend", "espeak"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert say.returncode == 1
    assert say.stdout == "Bend your knees\n"
    assert say.stderr.strip() == f"floorcoach: {NO_OUTPUT_MESSAGE}"


def test_missing_portaudio_library_names_the_package(tmp_path: Path) -> None:
    # sounddevice raises OSError("PortAudio library not found") when libportaudio2 is absent.
    done = _python(
        "import sys\n"
        "class NoPortAudio:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'sounddevice':\n"
        "            raise OSError('PortAudio library not found')\n"
        "sys.meta_path.insert(0, NoPortAudio())\n"
        "from floorcoach.cli import main\n"
        "from floorcoach.audio.devices import list_devices\n"
        "try:\n"
        "    list_devices()\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__, exc)\n"
        "sys.exit(main(['devices']))\n",
        dict(os.environ),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"AudioDeviceError {INSTALL_PORTAUDIO_MESSAGE}",
        INSTALL_PORTAUDIO_MESSAGE,
    ]
    assert "sudo apt install libportaudio2" in INSTALL_PORTAUDIO_MESSAGE


def test_say_writes_a_wav_with_speak_to(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from floorcoach.audio.pcm import read_wav

    monkeypatch.setenv("FLOORCOACH_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "say.wav"
    code = main(["say", "Relax", "--backend", "espeak", "--cue", "start", "--speak-to", str(out)])
    assert code == 0
    assert f"wrote {out}" in capsys.readouterr().out
    pcm = read_wav(out)
    assert pcm.seconds > 0.6
