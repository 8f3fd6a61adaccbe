"""No sound devices, or devices lost mid-session: one clear message, the session goes on."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from floorcoach_cli import command, run
from virtual_audio import VirtualAudio

LIVE = Path(__file__).parents[1] / "fixtures" / "live"


def _records(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.mark.slow(seconds=15)
def test_no_sound_server_means_printed_speech_and_typed_commands(tmp_path: Path) -> None:
    env = dict(os.environ)
    env["PULSE_SERVER"] = f"unix:{tmp_path}/no-such-server"
    env["XDG_RUNTIME_DIR"] = str(tmp_path)
    result = run(
        "play", "tiny", "--routines-dir", str(LIVE), input="@3 stop\n@4 stop\n", env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "speech will be printed instead" in result.stderr
    assert "commands can be typed" in result.stderr
    assert "Welcome to Tiny." in result.stdout
    assert "That's the end of today's session." in result.stdout


@pytest.mark.slow(seconds=32)
@pytest.mark.audio
def test_losing_the_sound_server_mid_session_carries_on_in_text(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    with VirtualAudio() as audio:  # a server of its own, so killing it harms no other test
        process = subprocess.Popen(
            # spoken faster than the default 150 words a minute: sooner to its hold
            command(
                "play", "tiny", "--routines-dir", str(LIVE), "--log", str(log), "--rate-wpm", "220"
            ),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=audio.env,
        )
        deadline = time.monotonic() + 90
        while not any(r.get("cue") == "start" for r in _records(log)):
            assert time.monotonic() < deadline, "the session never reached its hold"
            assert process.poll() is None, process.communicate()
            time.sleep(0.1)
        subprocess.run(["pulseaudio", "--kill"], env=audio.env, check=False, timeout=10)
        deadline = time.monotonic() + 20
        while not any(r.get("kind") == "notice" for r in _records(log)):
            assert time.monotonic() < deadline, "the loss was never noticed"
            time.sleep(0.1)
        time.sleep(3.0)  # the session goes on in text; then the user ends it by typing
        out, err = process.communicate("stop\nstop\n", timeout=60)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert "speech will be printed instead" in err
    assert "That's the end of today's session." in out
    records = _records(log)
    lost_at = next(r["t"] for r in records if r["kind"] == "notice")
    assert any(r["kind"] == "say" and r["t"] > lost_at + 2.0 for r in records)  # went on
    said = [r["text"] for r in _records(log) if r["kind"] == "say"]
    assert "I can't hear the microphone. You can type commands; I'll keep trying." in said


@pytest.mark.slow(seconds=30)
@pytest.mark.audio
def test_standby_outlives_losing_the_sound_server(tmp_path: Path) -> None:
    """Standby runs all day as a service (no keyboard): a microphone lost under it is noticed
    and tried again, and standby stays up instead of listening to nothing or ending."""
    import queue
    import signal
    import threading

    errors: queue.Queue[str] = queue.Queue()
    with VirtualAudio() as audio:  # a server of its own, so killing it harms no other test
        process = subprocess.Popen(
            command("standby", "--no-history", "--engine", "pocketsphinx"),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=audio.env,
        )

        def pump() -> None:
            assert process.stderr is not None
            for line in process.stderr:
                errors.put(line)

        threading.Thread(target=pump, daemon=True).start()
        try:
            assert process.stdout is not None
            first = process.stdout.readline()  # said once the speaker and microphone are open
            assert first.startswith("I'm ready when you are."), first
            subprocess.run(["pulseaudio", "--kill"], env=audio.env, check=False, timeout=10)
            seen: list[str] = []
            deadline = time.monotonic() + 20
            while not any("the microphone was lost" in line for line in seen):
                assert time.monotonic() < deadline, "".join(seen)
                try:
                    seen.append(errors.get(timeout=0.5))
                except queue.Empty:
                    pass
            time.sleep(6.0)  # past a retry, which finds no server
            still_running = process.poll() is None
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)
    while not errors.empty():
        seen.append(errors.get())
    assert still_running, "".join(seen)
    assert "Traceback" not in "".join(seen)
    assert process.returncode == 130, "".join(seen)
