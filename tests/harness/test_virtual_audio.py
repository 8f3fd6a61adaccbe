"""Real PortAudio streams through the virtual PulseAudio devices of the virtual_audio fixture."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

import virtual_audio
from virtual_audio import (
    VirtualAudio,
    cleanup_stale_daemons,
    loud_seconds,
    read_wav_mono,
    tone_fraction,
    tone_samples,
    write_tone_wav,
)

pytestmark = pytest.mark.audio

TONE_HZ = 1000.0
TONE_SECONDS = 1.0
RATE_HZ = 16_000


def test_portaudio_lists_devices(virtual_audio: VirtualAudio) -> None:
    import sounddevice as sd

    devices = sd.query_devices()
    assert len(devices) > 0, "PortAudio sees no device although PulseAudio runs"
    names = {device["name"] for device in devices}
    assert names & {"pulse", "default"}, f"no ALSA pulse/default device in {sorted(names)}"
    assert sd.default.device[0] >= 0
    assert sd.default.device[1] >= 0


def test_wav_into_mic_reaches_input_stream(virtual_audio: VirtualAudio, tmp_path: Path) -> None:
    import sounddevice as sd

    wav = write_tone_wav(tmp_path / "tone.wav", TONE_HZ, TONE_SECONDS, rate_hz=RATE_HZ)
    chunks: queue.Queue[bytes] = queue.Queue(maxsize=1000)  # ~20 s of 320-sample blocks

    def callback(indata: memoryview, frames: int, time_info: object, status: object) -> None:
        chunks.put_nowait(bytes(indata))

    with sd.RawInputStream(
        samplerate=RATE_HZ, channels=1, dtype="int16", blocksize=320, callback=callback
    ):
        player = virtual_audio.play_into_mic(wav)
        assert player.wait(timeout=10) == 0
        time.sleep(0.3)

    captured = np.frombuffer(b"".join(chunks.queue), dtype="<i2").astype(np.float64) / 32768
    reference = np.frombuffer(tone_samples(TONE_HZ, TONE_SECONDS, RATE_HZ), dtype="<i2") / 32768
    assert captured.size > RATE_HZ, f"only {captured.size} samples captured"
    assert loud_seconds(captured, RATE_HZ) >= 0.8 * TONE_SECONDS
    assert tone_fraction(captured, RATE_HZ, TONE_HZ) > 0.9
    # Best normalized cross-correlation of the loud part with the reference tone.
    corr = np.correlate(captured, reference[: RATE_HZ // 2], mode="valid")
    norms = np.sqrt(np.convolve(captured**2, np.ones(RATE_HZ // 2), mode="valid"))
    best = float(np.max(corr / (norms * np.linalg.norm(reference[: RATE_HZ // 2]) + 1e-12)))
    assert best > 0.9


def test_output_stream_reaches_speaker_monitor(virtual_audio: VirtualAudio, tmp_path: Path) -> None:
    import sounddevice as sd

    out_rate_hz = 48_000
    tone = np.frombuffer(
        tone_samples(TONE_HZ, TONE_SECONDS, out_rate_hz, pad_seconds=0.2), dtype="<i2"
    )
    with virtual_audio.start_speaker_recording(tmp_path / "speaker.wav") as recording:
        time.sleep(0.2)
        with sd.OutputStream(samplerate=out_rate_hz, channels=1, dtype="int16", latency=0.1) as out:
            out.write(tone.reshape(-1, 1))
        time.sleep(0.3)

    samples, rate_hz = read_wav_mono(recording.path)
    assert rate_hz == RATE_HZ
    assert loud_seconds(samples, rate_hz) >= 0.8 * TONE_SECONDS, "tone missing or cut short"
    assert tone_fraction(samples, rate_hz, TONE_HZ) > 0.9


@pytest.mark.audio
def test_a_dead_daemon_is_diagnosed_and_started_again(tmp_path: Path) -> None:
    with VirtualAudio() as audio:  # a server of its own: killing it harms no other test
        assert audio.is_running()
        first_dir = audio.runtime_dir
        assert first_dir is not None
        pid = int((first_dir / "pulse" / "pid").read_text())
        os.kill(pid, signal.SIGKILL)  # as the CI run's daemon went: no goodbye
        deadline = time.monotonic() + 5
        while audio.is_running() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not audio.is_running()
        assert "NOT RUNNING" in audio.diagnosis()
        diagnosis = audio.restart()
        assert f"pid {pid}, NOT RUNNING" in diagnosis
        assert audio.is_running()
        assert audio.runtime_dir is not None
        assert int((audio.runtime_dir / "pulse" / "pid").read_text()) != pid
        wav = tmp_path / "tone.wav"
        write_tone_wav(wav, 440.0, 0.3)
        assert audio.play_into_mic(wav).wait(timeout=10) == 0  # the devices are back too
    assert not audio.is_running()


def test_clean_up_spares_a_dir_another_worker_has_only_just_made() -> None:
    # The moment after mkdtemp, before anything is written into the dir: a clean-up that read
    # an owner file then found none, took the dir for a stale one, and killed its daemon.
    root = Path(tempfile.mkdtemp(prefix="fc-", dir="/tmp"))  # short enough for a socket path
    try:
        fresh = virtual_audio._new_runtime_dir(str(root))
        assert not any(fresh.iterdir())
        assert cleanup_stale_daemons(root) == []
        assert fresh.is_dir()
    finally:
        shutil.rmtree(root)


def test_clean_up_removes_a_dir_whose_owner_has_died(tmp_path: Path) -> None:
    owner = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(owner.stdout)
    stale = tmp_path / f"{virtual_audio.RUNTIME_DIR_PREFIX}{dead_pid}-abcdefgh"
    stale.mkdir()
    assert cleanup_stale_daemons(tmp_path) == [stale]
    assert not stale.exists()
