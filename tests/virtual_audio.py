"""A user-space PulseAudio daemon with a virtual microphone and speaker, for device tests.

Follows shared/notes/virtual-audio.md: null sinks ``vspeaker`` (what the player plays ends
up on ``vspeaker.monitor``) and ``vmic_feed`` (WAVs played into it come out of the remap
source ``vmic``, the default microphone). ALSA's ``default``/``pulse`` devices reach the
daemon through libasound2-plugins, so PortAudio (sounddevice) sees them, but only if
sounddevice is imported, or re-initialized, after the daemon is up.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path
from typing import Any, Final

import numpy as np

from floorcoach.audio.pcm import Pcm
from floorcoach.audio.speaking.cues import render_cue

SPEAKER_SINK: Final = "vspeaker"
SPEAKER_MONITOR: Final = "vspeaker.monitor"
MIC_FEED_SINK: Final = "vmic_feed"
MIC_SOURCE: Final = "vmic"
RECORD_RATE_HZ: Final = 16_000
# Keep-alive streams need this long before the first captured block arrives on time.
SETTLE_SECONDS: Final = 2.2
REQUIRED_TOOLS: Final = ("pulseaudio", "pactl", "parec", "paplay")
RUNTIME_DIR_PREFIX: Final = "floorcoach-pulse-"
_OWNER_FILE: Final = "owner.pid"
_START_TIMEOUT_SECONDS: Final = 10.0
_MAX_SOCKET_PATH: Final = 100  # sun_path holds 108 bytes
_UNOWNED_GRACE_SECONDS: Final = 120.0


class VirtualAudioError(RuntimeError):
    """The virtual sound server could not be started or used."""


def missing_tools() -> list[str]:
    """Return the PulseAudio programs that are not on PATH."""
    return [tool for tool in REQUIRED_TOOLS if shutil.which(tool) is None]


def _pulse_env(runtime_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["XDG_RUNTIME_DIR"] = str(runtime_dir)
    env["PULSE_SERVER"] = f"unix:{runtime_dir}/pulse/native"
    return env


def _pid_alive(pid: int) -> bool:
    """True if the process runs; a zombie does not (a daemon whose reaper is slow or absent,
    as in containers whose first process reaps nothing, stays one after it died)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc: trust kill()
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _kill_daemon(runtime_dir: Path) -> None:
    """Stop the daemon whose runtime dir this is, politely and then firmly."""
    env = _pulse_env(runtime_dir)
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        subprocess.run(
            ["pulseaudio", "--kill"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=5,
            check=False,
        )
    pid = _read_pid(runtime_dir / "pulse" / "pid")
    if pid is None:
        return
    deadline = time.monotonic() + 3.0
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _pid_alive(pid):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _owner_of(runtime_dir: Path) -> int | None:
    """The pid of the test process that made this runtime dir.

    It is in the dir's name, so it exists from the dir's first instant: an owner file written
    after `mkdtemp` left a moment in which another worker's clean-up took a colleague's brand
    new dir for a stale one and killed the daemon started in it (CI lost its sound server
    twice that way). The owner file is still read for dirs named the older way.
    """
    match = re.fullmatch(re.escape(RUNTIME_DIR_PREFIX) + r"(\d+)-.+", runtime_dir.name)
    if match:
        return int(match.group(1))
    return _read_pid(runtime_dir / _OWNER_FILE)


def cleanup_stale_daemons(temp_root: Path | None = None) -> list[Path]:
    """Stop daemons left by test sessions that died without tearing down; return their dirs."""
    root = temp_root or Path(tempfile.gettempdir())
    cleaned = []
    for runtime_dir in root.glob(RUNTIME_DIR_PREFIX + "*"):
        owner = _owner_of(runtime_dir)
        if owner is not None and _pid_alive(owner):
            continue  # another live test session (e.g. a colleague's) owns it
        if owner is None and _age_seconds(runtime_dir) < _UNOWNED_GRACE_SECONDS:
            continue  # named the older way and still being set up
        _kill_daemon(runtime_dir)
        shutil.rmtree(runtime_dir, ignore_errors=True)
        cleaned.append(runtime_dir)
    return cleaned


def _age_seconds(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0


def _new_runtime_dir(base: str | None = None) -> Path:
    """A fresh runtime dir whose name carries this process's pid (see `_owner_of`)."""
    prefix = f"{RUNTIME_DIR_PREFIX}{os.getpid()}-"
    for folder in (base,) if base else (tempfile.gettempdir(), "/tmp"):
        if len(folder) + len("/" + prefix + "xxxxxxxx/pulse/native") < _MAX_SOCKET_PATH:
            return Path(tempfile.mkdtemp(prefix=prefix, dir=folder))
    raise VirtualAudioError("no temporary directory short enough for a unix socket path")


class SpeakerRecording:
    """A running capture of ``vspeaker.monitor`` into a 16 kHz mono s16le WAV file."""

    def __init__(self, path: Path, process: subprocess.Popen[bytes]) -> None:
        self.path = path
        self.process = process

    def stop(self) -> Path:
        """Stop recording, let parec finish the WAV header, and return the file's path."""
        if self.process.poll() is None:
            # SIGINT makes parec close the file properly (header sizes written).
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if not self.path.exists():
            raise VirtualAudioError(f"parec wrote no file at {self.path}")
        return self.path

    def __enter__(self) -> SpeakerRecording:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class VirtualAudio:
    """One PulseAudio daemon with the virtual devices, private to this process."""

    def __init__(self) -> None:
        self.runtime_dir: Path | None = None
        self._pulse_vars: dict[str, str] = {}
        self._keepalive: list[subprocess.Popen[bytes]] = []
        self._saved_environ: dict[str, str | None] = {}
        self.startup_seconds = 0.0

    def __enter__(self) -> VirtualAudio:
        """Start (and clean up a half-started daemon if that fails): `with VirtualAudio() as a`
        gives a test a server of its own."""
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def env(self) -> dict[str, str]:
        """The current environment pointed at this server (read at each use, so settings a
        test made after the server started, such as FLOORCOACH_HISTORY, reach subprocesses)."""
        pulse = {
            key: self._pulse_vars[key]
            for key in ("XDG_RUNTIME_DIR", "PULSE_SERVER")
            if key in self._pulse_vars
        }
        return {**os.environ, **pulse}

    @property
    def pulse_server(self) -> str:
        """The ``PULSE_SERVER`` value clients use to reach this daemon."""
        return self.env["PULSE_SERVER"]

    @property
    def log_path(self) -> Path:
        """The daemon's own log file."""
        assert self.runtime_dir is not None, "not started"
        return self.runtime_dir / "pulseaudio.log"

    def start(self) -> None:
        """Start the daemon and devices, then point os.environ (and sounddevice) at it."""
        started = time.monotonic()
        missing = missing_tools()
        if missing:
            raise VirtualAudioError(
                f"{', '.join(missing)} not installed: run scripts/test, which installs the "
                "apt packages pulseaudio and pulseaudio-utils"
            )
        cleanup_stale_daemons()
        self.runtime_dir = _new_runtime_dir()
        self.runtime_dir.chmod(0o700)
        (self.runtime_dir / _OWNER_FILE).write_text(f"{os.getpid()}\n")
        self._pulse_vars = _pulse_env(self.runtime_dir)
        # A fresh dir holds no daemon; this mirrors the recipe and costs little.
        _kill_daemon(self.runtime_dir)

        command = [
            "pulseaudio",
            "-D",
            "-n",
            "--exit-idle-time=-1",
            # PulseAudio's CPU load limiter ends a daemon that seems to hog the CPU; on a
            # loaded CI machine that is a test failure with no cause of ours
            "--no-cpu-limit",
            # info: the log says why a daemon went away (a signal, a crash, a limit)
            "--log-level=info",
            "--log-time",
            f"--log-target=file:{self.log_path}",
            "--load=module-native-protocol-unix",
            f"--load=module-null-sink sink_name={SPEAKER_SINK}",
            f"--load=module-null-sink sink_name={MIC_FEED_SINK}",
            f"--load=module-remap-source master={MIC_FEED_SINK}.monitor source_name={MIC_SOURCE}",
        ]
        try:
            result = subprocess.run(
                command,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=_START_TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise VirtualAudioError(f"pulseaudio -D did not return: {self._log_tail()}") from exc
        if result.returncode != 0:
            raise VirtualAudioError(
                f"pulseaudio -D failed (exit {result.returncode}): "
                f"{result.stderr.strip()} {self._log_tail()}"
            )
        self._wait_until_up()
        self.pactl("set-default-sink", SPEAKER_SINK)
        self.pactl("set-default-source", MIC_SOURCE)
        self._verify_devices()

        # Keep both clocks running; otherwise the first captured block arrives 1-2 s late.
        for source in (MIC_SOURCE, SPEAKER_MONITOR):
            self._keepalive.append(
                subprocess.Popen(
                    ["parec", "-d", source, "--latency-msec=10"],
                    env=self.env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    stdin=subprocess.DEVNULL,
                )
            )
        time.sleep(SETTLE_SECONDS)
        dead = [p.args for p in self._keepalive if p.poll() is not None]
        if dead:
            raise VirtualAudioError(f"keep-alive recorders exited early: {dead}")

        for key in ("XDG_RUNTIME_DIR", "PULSE_SERVER"):
            self._saved_environ[key] = os.environ.get(key)
            os.environ[key] = self.env[key]
        _reinitialize_sounddevice()
        self.startup_seconds = time.monotonic() - started

    def stop(self) -> None:
        """Stop the recorders and the daemon, restore os.environ, remove the runtime dir."""
        for process in self._keepalive:
            if process.poll() is None:
                process.terminate()
        for process in self._keepalive:
            try:
                process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._keepalive.clear()
        restored = bool(self._saved_environ)
        for key, value in self._saved_environ.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_environ.clear()
        if restored:
            _reinitialize_sounddevice()  # back to the server this process used before
        if self.runtime_dir is not None:
            _kill_daemon(self.runtime_dir)
            shutil.rmtree(self.runtime_dir, ignore_errors=True)
            self.runtime_dir = None

    def pactl(self, *args: str) -> str:
        """Run ``pactl`` against this daemon and return its standard output."""
        result = subprocess.run(
            ["pactl", *args], env=self.env, capture_output=True, text=True, timeout=10, check=False
        )
        if result.returncode != 0:
            raise VirtualAudioError(
                f"pactl {' '.join(args)} failed: {result.stderr.strip()} {self._log_tail()}"
            )
        return result.stdout

    def play_into_mic(self, wav_path: str | os.PathLike[str]) -> subprocess.Popen[bytes]:
        """Start playing a WAV into the virtual microphone (real-time paced); wait() on it."""
        return subprocess.Popen(
            ["paplay", f"--device={MIC_FEED_SINK}", os.fspath(wav_path)],
            env=self.env,
            stdin=subprocess.DEVNULL,
        )

    def start_speaker_recording(self, path: str | os.PathLike[str]) -> SpeakerRecording:
        """Start recording the virtual speaker to a 16 kHz mono s16le WAV; call .stop()."""
        out = Path(path)
        process = subprocess.Popen(
            [
                "parec",
                f"--device={SPEAKER_MONITOR}",
                f"--rate={RECORD_RATE_HZ}",
                "--channels=1",
                "--format=s16le",
                "--file-format=wav",
                "--latency-msec=10",
                str(out),
            ],
            env=self.env,
            stdin=subprocess.DEVNULL,
        )
        return SpeakerRecording(out, process)

    def record_speaker(self, path: str | os.PathLike[str], seconds: float) -> Path:
        """Record the virtual speaker for ``seconds`` (blocking) and return the WAV path."""
        recording = self.start_speaker_recording(path)
        time.sleep(seconds)
        return recording.stop()

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + _START_TIMEOUT_SECONDS
        while True:
            result = subprocess.run(
                ["pactl", "info"], env=self.env, capture_output=True, timeout=5, check=False
            )
            if result.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise VirtualAudioError(
                    f"pulseaudio did not answer within {_START_TIMEOUT_SECONDS:.0f} s: "
                    f"{self._log_tail()}"
                )
            time.sleep(0.1)

    def _verify_devices(self) -> None:
        sinks = {line.split("\t")[1] for line in self.pactl("list", "short", "sinks").splitlines()}
        sources = {
            line.split("\t")[1] for line in self.pactl("list", "short", "sources").splitlines()
        }
        missing = ({SPEAKER_SINK, MIC_FEED_SINK} - sinks) | ({MIC_SOURCE} - sources)
        if missing:
            raise VirtualAudioError(
                f"virtual devices missing after start: {sorted(missing)} "
                f"(sinks {sorted(sinks)}, sources {sorted(sources)})"
            )

    def is_running(self) -> bool:
        """True while the daemon's process lives and answers ``pactl info``."""
        if self.runtime_dir is None:
            return False
        pid = _read_pid(self.runtime_dir / "pulse" / "pid")
        if pid is None or not _pid_alive(pid):
            return False
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            result = subprocess.run(
                ["pactl", "info"], env=self.env, capture_output=True, timeout=5, check=False
            )
            return result.returncode == 0
        return False

    def diagnosis(self, lines: int = 30) -> str:
        """What a failed test's report needs: is the daemon alive, and its log's last lines."""
        if self.runtime_dir is None:
            return "virtual sound server: not started"
        pid = _read_pid(self.runtime_dir / "pulse" / "pid")
        alive = pid is not None and _pid_alive(pid)
        recorders = [p.poll() for p in self._keepalive]
        tail = self._log_lines(lines)
        return "\n".join(
            [
                f"virtual sound server in {self.runtime_dir}: pid {pid}, "
                f"{'alive' if alive else 'NOT RUNNING'}; keep-alive recorders' exit codes "
                f"{recorders} (None: running)",
                *tail,
            ]
        )

    def restart(self) -> str:
        """Start a fresh daemon in place of a dead one; return the dead one's diagnosis."""
        diagnosis = self.diagnosis()
        self.stop()
        self.start()
        return diagnosis

    def _log_lines(self, lines: int) -> list[str]:
        """The daemon log's last lines, without the clients' property lines
        (".c:     application.name = ...")."""
        try:
            log = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ["(no daemon log)"]
        return [line for line in log if ".c:     " not in line][-lines:]

    def _log_tail(self, lines: int = 8) -> str:
        if self.runtime_dir is None:
            return ""
        return "daemon log: " + " | ".join(self._log_lines(lines))


def _reinitialize_sounddevice() -> None:
    """Make an already imported sounddevice re-enumerate devices (PortAudio lists them once)."""
    sd = sys.modules.get("sounddevice")
    if sd is None:
        return
    sd._terminate()
    sd._initialize()


def write_tone_wav(
    path: str | os.PathLike[str],
    frequency_hz: float,
    seconds: float,
    *,
    rate_hz: int = RECORD_RATE_HZ,
    amplitude: float = 0.5,
    pad_seconds: float = 0.0,
) -> Path:
    """Write a mono int16 sine WAV, with ``pad_seconds`` of silence after it."""
    out = Path(path)
    with wave.open(str(out), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate_hz)
        wav.writeframes(tone_samples(frequency_hz, seconds, rate_hz, amplitude, pad_seconds))
    return out


def tone_samples(
    frequency_hz: float,
    seconds: float,
    rate_hz: int,
    amplitude: float = 0.5,
    pad_seconds: float = 0.0,
) -> bytes:
    """Return int16 little-endian samples of a sine followed by silence."""
    t = np.arange(int(seconds * rate_hz)) / rate_hz
    tone = (amplitude * 32767 * np.sin(2 * np.pi * frequency_hz * t)).astype("<i2")
    silence = np.zeros(int(pad_seconds * rate_hz), dtype="<i2")
    return np.concatenate([tone, silence]).tobytes()


def read_wav_mono(path: str | os.PathLike[str]) -> tuple[np.ndarray, int]:
    """Read a 16-bit WAV; return its first channel as float samples in [-1, 1] and the rate."""
    with wave.open(os.fspath(path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise ValueError(f"{path}: expected 16-bit samples, got {8 * wav.getsampwidth()}")
        frames = wav.readframes(wav.getnframes())
        channels = wav.getnchannels()
        rate_hz = wav.getframerate()
    samples = np.frombuffer(frames, dtype="<i2").reshape(-1, channels)[:, 0]
    return samples.astype(np.float64) / 32768.0, rate_hz


def tone_fraction(
    samples: np.ndarray, rate_hz: int, frequency_hz: float, bandwidth_hz: float = 50.0
) -> float:
    """Fraction of the signal's energy within ``bandwidth_hz`` of ``frequency_hz`` (0..1)."""
    x = np.asarray(samples, dtype=np.float64)
    if x.size == 0:
        return 0.0
    power = np.abs(np.fft.rfft(x * np.hanning(x.size))) ** 2
    freqs = np.fft.rfftfreq(x.size, 1.0 / rate_hz)
    total = float(power.sum())
    if total == 0.0:
        return 0.0
    band = np.abs(freqs - frequency_hz) <= bandwidth_hz
    return float(power[band].sum()) / total


def loud_seconds(
    samples: np.ndarray, rate_hz: int, threshold: float = 0.05, window_seconds: float = 0.01
) -> float:
    """Total duration of ``window_seconds`` windows whose RMS exceeds ``threshold``."""
    window = max(1, int(rate_hz * window_seconds))
    x = np.asarray(samples, dtype=np.float64)
    usable = x[: x.size // window * window].reshape(-1, window)
    rms = np.sqrt((usable**2).mean(axis=1)) if usable.size else np.zeros(0)
    return float((rms > threshold).sum() * window / rate_hz)


def cue_onsets(signal: np.ndarray, rate: int, cue: str, threshold: float = 0.7) -> list[float]:
    """Times where the cue's tone starts, by normalized cross-correlation with its PCM."""
    template = render_cue(cue).to_rate(rate).to_float().astype(np.float64)
    n = len(template)
    corr = np.correlate(signal, template, mode="valid")
    energy = np.sqrt(np.convolve(signal**2, np.ones(n), mode="valid")) * np.linalg.norm(template)
    score = np.divide(corr, energy, out=np.zeros_like(corr), where=energy > 1e-6)
    found: list[float] = []
    index = 0
    while index < len(score):
        if score[index] >= threshold:
            window = score[index : index + n]
            best = index + int(np.argmax(window))
            found.append(best / rate)
            index = best + n
        else:
            index += 1
    return found


def best_match(signal: np.ndarray, rate: int, reference: Pcm) -> float:
    """Highest normalized cross-correlation of `reference` anywhere in `signal` (0..1)."""
    template = reference.to_rate(rate).to_float().astype(np.float64)
    n = len(template)
    size = 1 << int(np.ceil(np.log2(len(signal) + n)))
    corr = np.fft.irfft(np.fft.rfft(signal, size) * np.conj(np.fft.rfft(template, size)), size)
    corr = corr[: len(signal) - n + 1]
    energy = np.sqrt(np.convolve(signal**2, np.ones(n), mode="valid")) * np.linalg.norm(template)
    score = np.divide(corr, energy, out=np.zeros_like(corr), where=energy > 1e-6)
    return float(score.max())


def keep_raw_microphone(listener: Any) -> list[np.ndarray]:
    """Keep every block a microphone listener processes, as it arrived (before its echo
    canceller), so a live test can compare the raw microphone with what was recognized."""
    raw: list[np.ndarray] = []
    process = listener.process

    def keep_raw(samples: np.ndarray) -> None:
        raw.append(samples.copy())
        process(samples)

    listener.process = keep_raw
    return raw
