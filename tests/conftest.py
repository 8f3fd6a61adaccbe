"""Shared pytest fixtures; helpers live in their own modules beside this file."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from virtual_audio import VirtualAudio, VirtualAudioError, missing_tools


class VirtualAudioRestarted(UserWarning):
    """The shared virtual sound server had died and was started again before a test."""


@pytest.fixture(scope="session")
def virtual_audio() -> Iterator[VirtualAudio]:
    """A PulseAudio daemon with virtual mic ``vmic`` and speaker ``vspeaker``, per session.

    Sets PULSE_SERVER/XDG_RUNTIME_DIR in os.environ while it runs; import sounddevice after
    requesting it (an earlier import is re-initialized). Fails, never skips, without
    PulseAudio: scripts/test installs it. `_virtual_audio_alive` checks it before each test.
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
def _virtual_audio_alive(request: pytest.FixtureRequest) -> None:
    """Before each test that uses the shared sound server: is its daemon still there?

    Why: one CI run lost its daemon in the middle of a test, and every later live test in
    that process failed for it. A dead daemon is started again, with a warning that carries
    its log (the run's warnings summary shows it), so one loss costs at most the test it
    happened in, and says why.
    """
    if "virtual_audio" not in request.fixturenames:
        return
    audio = request.getfixturevalue("virtual_audio")
    if audio.is_running():
        return
    try:
        diagnosis = audio.restart()
    except VirtualAudioError as exc:
        pytest.fail(f"virtual_audio: the daemon died and did not restart: {exc}", pytrace=False)
    warnings.warn(VirtualAudioRestarted(diagnosis), stacklevel=1)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """A failed test that used the virtual sound server reports the daemon's state and log."""
    report = yield
    if report.failed and call.when == "call":
        for name, value in getattr(item, "funcargs", {}).items():
            if isinstance(value, VirtualAudio):
                report.sections.append((f"virtual sound server ({name})", value.diagnosis()))
    return report


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


@pytest.fixture(scope="session")
def _run_speech_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One speech cache for the whole run, shared by its xdist workers (the cache's writes
    are atomic): each phrase is rendered once a run, as on a fresh machine."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    return root / "speech-cache"


@pytest.fixture(autouse=True)
def _private_speech_cache(_run_speech_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Rendered speech goes to the run's own cache, never the user's ~/.cache (a run used to
    leave 44 MB there, and a warm cache there made local runs faster than CI's)."""
    monkeypatch.setenv("FLOORCOACH_CACHE_DIR", str(_run_speech_cache))
    return _run_speech_cache


def _expected_seconds(item: pytest.Item) -> float:
    """About how long a test runs: its `slow(seconds=N)` mark, a few seconds for device tests."""
    slow = item.get_closest_marker("slow")
    if slow is not None:
        return float(slow.kwargs.get("seconds", 30))
    if item.get_closest_marker("audio") is not None or "live" in item.path.parts:
        return 5.0
    return 0.0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Longest first. pytest-xdist deals its first tests to the workers in turn, so the long
    live runs spread over the workers instead of queueing on one (9 min of tests ran in
    6 min 45 s on 3 workers in file order; longest first, see scripts/test). The order
    within equal weights is kept."""
    del config
    items.sort(key=lambda item: -_expected_seconds(item))
