"""Shared pytest fixtures; helpers live in their own modules beside this file."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from virtual_audio import VirtualAudio, VirtualAudioError, missing_tools


@pytest.fixture(scope="session")
def virtual_audio() -> Iterator[VirtualAudio]:
    """A PulseAudio daemon with virtual mic ``vmic`` and speaker ``vspeaker``, per session.

    Sets PULSE_SERVER/XDG_RUNTIME_DIR in os.environ while it runs; import sounddevice after
    requesting it (an earlier import is re-initialized). Fails, never skips, without
    PulseAudio: scripts/test installs it.
    """
    missing = missing_tools()
    if missing:
        pytest.fail(
            f"virtual_audio: {', '.join(missing)} not found. Run scripts/test, which installs "
            "pulseaudio and pulseaudio-utils (or: apt-get install pulseaudio pulseaudio-utils).",
            pytrace=False,
        )
    audio = VirtualAudio()
    try:
        audio.start()
    except VirtualAudioError as exc:
        audio.stop()
        pytest.fail(f"virtual_audio: {exc}", pytrace=False)
    try:
        yield audio
    finally:
        audio.stop()


@pytest.fixture(autouse=True)
def _private_history(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Sessions played by tests write their history to a temporary file, never the user's."""
    path = tmp_path_factory.mktemp("history") / "history.sqlite3"
    monkeypatch.setenv("FLOORCOACH_HISTORY", str(path))
    return path


@pytest.fixture(autouse=True)
def _private_settings(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Tests never read or change the user's own settings file."""
    path = tmp_path_factory.mktemp("config") / "config.toml"
    monkeypatch.setenv("FLOORCOACH_CONFIG", str(path))
    return path


@pytest.fixture(autouse=True)
def _private_voice(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Enrolled phrases (`floorcoach enroll`) go to a temporary folder, never the user's."""
    path = tmp_path_factory.mktemp("voice")
    monkeypatch.setenv("FLOORCOACH_VOICE_DIR", str(path))
    return path
