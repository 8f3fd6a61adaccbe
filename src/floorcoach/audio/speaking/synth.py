"""Text to speech as 16 kHz PCM, so speech can be cached, scheduled and interrupted at once."""

from __future__ import annotations

import atexit
import contextlib
import logging
import shutil
import struct
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np

from floorcoach.audio.pcm import RATE_HZ, Pcm, read_wav, resample
from floorcoach.audio.speaking.synth_base import DEFAULT_RATE_WPM as DEFAULT_RATE_WPM
from floorcoach.audio.speaking.synth_base import DEFAULT_VOICE as DEFAULT_VOICE
from floorcoach.audio.speaking.synth_base import DEFAULT_VOLUME as DEFAULT_VOLUME
from floorcoach.audio.speaking.synth_base import Synthesizer as Synthesizer
from floorcoach.audio.speaking.synth_base import VoiceSettings as VoiceSettings
from floorcoach.audio.speaking.synth_base import normalize_text as normalize_text
from floorcoach.audio.speaking.synth_base import settings_key as settings_key
from floorcoach.audio.speaking.synth_base import text_hash as text_hash
from floorcoach.audio.speaking.synth_base import trim_silence as trim_silence
from floorcoach.errors import FloorcoachError

_LOGGER = logging.getLogger(__name__)

Backend = Literal["pyttsx3", "espeak"]
BACKENDS: Final[tuple[Backend, ...]] = ("pyttsx3", "espeak")
DEFAULT_BACKEND: Final[Backend] = "pyttsx3"
INSTALL_ESPEAK_HINT: Final = "install espeak-ng: sudo apt install espeak-ng"
_RENDER_TIMEOUT_SECONDS: Final = 10.0
_POLL_SECONDS: Final = 0.005
_WAV_HEADER_BYTES: Final = 44


def _wav_complete(path: Path) -> bool:
    """True once a WAV's header is written and its data chunk holds all the bytes it claims."""
    try:
        with path.open("rb") as f:
            head = f.read(4096)
            size = path.stat().st_size
    except OSError:
        return False
    if len(head) < _WAV_HEADER_BYTES or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return False
    pos = 12
    while pos + 8 <= len(head):
        chunk_id = head[pos : pos + 4]
        (chunk_bytes,) = struct.unpack("<I", head[pos + 4 : pos + 8])
        if chunk_id == b"data":
            return size >= pos + 8 + chunk_bytes
        pos += 8 + chunk_bytes + (chunk_bytes & 1)
    return False


def wait_for_wav(path: Path, timeout_seconds: float) -> None:
    """Wait until a WAV written by another party is complete (header and data) or time out."""
    deadline = time.monotonic() + timeout_seconds
    last_size = -1
    stable_polls = 0
    while True:
        if _wav_complete(path):
            return
        # A writer that never patches the header: accept a size that stopped growing.
        try:
            size = path.stat().st_size
        except OSError:
            size = -1
        stable_polls = stable_polls + 1 if size == last_size and size > _WAV_HEADER_BYTES else 0
        last_size = size
        if stable_polls >= 20:
            _LOGGER.debug("%s: header incomplete but size stable at %d bytes", path, size)
            return
        if time.monotonic() > deadline:
            raise FloorcoachError(
                f"speech synthesis wrote no audio within {timeout_seconds:g} s "
                "(try --backend espeak)"
            )
        time.sleep(_POLL_SECONDS)


# pyttsx3's espeak engine is one per process (espeak-ng's state is global), so every
# Pyttsx3Synthesizer shares it behind this lock and re-applies its own settings per phrase.
_PYTTSX3_LOCK: Final = threading.Lock()
_pyttsx3_engine: Any = None
_pyttsx3_errors: list[BaseException] = []


def _driver_print(*args: object, **_kwargs: object) -> None:
    """Route the espeak driver's stray stdout prints ("Audio saved to ...") to the log."""
    _LOGGER.debug("pyttsx3: %s", " ".join(str(a) for a in args))


def _pyttsx3_engine_locked() -> Any:
    """The process's one pyttsx3 espeak engine (caller holds the lock)."""
    global _pyttsx3_engine
    if _pyttsx3_engine is not None:
        return _pyttsx3_engine
    try:
        import pyttsx3
        import pyttsx3.drivers.espeak as espeak_driver
    except ImportError as exc:
        raise FloorcoachError(
            f"pyttsx3 cannot be loaded ({exc}); {INSTALL_ESPEAK_HINT}, "
            "then pip install 'pyttsx3>=2.99'"
        ) from None
    except (OSError, RuntimeError) as exc:
        msg = f"pyttsx3 cannot load espeak-ng: {exc}; {INSTALL_ESPEAK_HINT}"
        raise FloorcoachError(msg) from None
    # The driver prints to stdout after every file; stdout belongs to the user's text output.
    espeak_driver.print = _driver_print
    try:
        engine = pyttsx3.init("espeak")
    except (OSError, RuntimeError) as exc:
        msg = f"pyttsx3 cannot start espeak-ng: {exc}; {INSTALL_ESPEAK_HINT}"
        raise FloorcoachError(msg) from None
    engine.connect("error", lambda name=None, exception=None: _pyttsx3_errors.append(exception))
    _pyttsx3_engine = engine
    # Release it while modules still exist: pyttsx3's __del__ fails at interpreter teardown.
    atexit.register(_release_pyttsx3_engine)
    return engine


def _release_pyttsx3_engine() -> None:
    global _pyttsx3_engine
    with _PYTTSX3_LOCK:
        _pyttsx3_engine = None


def _resolve_pyttsx3_voice(engine: Any, voice: str) -> str:
    """The espeak-ng identifier for a voice given as identifier, file, language or name.

    espeak-ng's SetVoiceByName (used by pyttsx3) rejects languages such as "en-gb" that the
    espeak-ng command accepts, so look the voice up the way users name it.
    """
    wanted = voice.strip().casefold().replace("_", " ")
    voices = engine.getProperty("voices")
    for match in (
        lambda v: v.id.casefold() == wanted,
        lambda v: v.id.casefold().rsplit("/", 1)[-1] == wanted,
        lambda v: wanted in (lang.casefold() for lang in v.languages),
        lambda v: str(v.name).casefold().replace("_", " ") == wanted,
    ):
        for candidate in voices:
            if match(candidate):
                return str(candidate.id)
    raise FloorcoachError(
        f"no espeak-ng voice '{voice}' (try 'en-us' or 'en-gb'; list: espeak-ng --voices)"
    )


SILENT_RENDER_RETRIES: Final = 3
SILENT_PEAK: Final = 30
"""int16 peak below which a render of real words counts as silence (about -60 dBFS)."""


class Pyttsx3Synthesizer:
    """pyttsx3 over espeak-ng via save_to_file (never say(): it plays through aplay, unreliably)."""

    backend: Final = "pyttsx3"

    def __init__(
        self,
        settings: VoiceSettings | None = None,
        timeout_seconds: float = _RENDER_TIMEOUT_SECONDS,
    ) -> None:
        self._settings = settings or VoiceSettings()
        self._timeout_seconds = timeout_seconds
        with _PYTTSX3_LOCK:
            engine = _pyttsx3_engine_locked()
            self._voice_id = _resolve_pyttsx3_voice(engine, self._settings.voice)
        self._tmp_dir = Path(tempfile.mkdtemp(prefix="floorcoach-tts-"))

    @property
    def settings(self) -> VoiceSettings:
        """Voice, rate and volume used for every phrase."""
        return self._settings

    @property
    def key(self) -> str:
        """Backend and settings, for cache keys."""
        return settings_key(self.backend, self._settings)

    def render(self, text: str) -> Pcm:
        """Speak `text` into a temporary WAV and return it trimmed, at 16 kHz.

        pyttsx3 now and then hands back a file of the right length that is all silence
        (seen once in ~900 renders); such a render is tried again, never returned, since
        the cache would keep the silence for good.
        """
        words = normalize_text(text)
        if not words:
            return Pcm.silence(0.0)
        for _attempt in range(SILENT_RENDER_RETRIES):
            pcm = self._render_once(words)
            if len(pcm.samples) and int(np.max(np.abs(pcm.samples))) > SILENT_PEAK:
                return pcm
            _LOGGER.warning("pyttsx3 rendered silence for %r; trying again", words)
        raise FloorcoachError(
            f"pyttsx3 keeps rendering silence for {words!r}; try --speech-backend espeak"
        )

    def _render_once(self, words: str) -> Pcm:
        path = self._tmp_dir / f"{uuid.uuid4().hex}.wav"
        try:
            with _PYTTSX3_LOCK:
                engine = _pyttsx3_engine_locked()
                _pyttsx3_errors.clear()
                # espeak-ng ignores a rate set right after a voice change (measured), so set
                # rate and volume on both sides of the voice.
                engine.setProperty("rate", self._settings.rate_wpm)
                engine.setProperty("volume", self._settings.volume)
                engine.setProperty("voice", self._voice_id)
                engine.setProperty("rate", self._settings.rate_wpm)
                engine.setProperty("volume", self._settings.volume)
                engine.save_to_file(words, str(path))
                engine.runAndWait()
                errors = list(_pyttsx3_errors)
            if errors:
                raise FloorcoachError(
                    f"pyttsx3 failed for voice '{self._settings.voice}': {errors[0]} "
                    "(list voices: espeak-ng --voices)"
                )
            # save_to_file can return before the file exists (measured): wait for it.
            wait_for_wav(path, self._timeout_seconds)
            return trim_silence(read_wav(path, RATE_HZ))
        finally:
            path.unlink(missing_ok=True)

    def close(self) -> None:
        """Remove the temporary directory."""
        shutil.rmtree(self._tmp_dir, ignore_errors=True)

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()


def _parse_wav_bytes(data: bytes) -> Pcm:
    """Mono int16 PCM from WAV bytes whose sizes may be placeholders (streamed to stdout)."""
    if len(data) < _WAV_HEADER_BYTES or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise FloorcoachError("espeak-ng produced no WAV audio")
    pos = 12
    rate_hz = 0
    channels = 1
    while pos + 8 <= len(data):
        chunk_id = data[pos : pos + 4]
        (chunk_bytes,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        body = pos + 8
        if chunk_id == b"fmt ":
            _fmt, channels, rate_hz = struct.unpack("<HHI", data[body : body + 8])
        elif chunk_id == b"data":
            # espeak-ng --stdout writes 0x7ffff000 as the size: take what is there.
            payload = data[body : min(len(data), body + chunk_bytes)]
            samples = np.frombuffer(payload[: len(payload) // 2 * 2], dtype="<i2")
            if channels > 1:
                usable = len(samples) // channels * channels
                samples = samples[:usable].reshape(-1, channels).mean(axis=1).astype(np.int16)
            if rate_hz <= 0:
                raise FloorcoachError("espeak-ng WAV has no format chunk")
            return Pcm(resample(samples.astype(np.int16), rate_hz, RATE_HZ), RATE_HZ)
        pos = body + chunk_bytes + (chunk_bytes & 1)
    raise FloorcoachError("espeak-ng WAV has no data chunk")


class EspeakSynthesizer:
    """Runs `espeak-ng --stdout` per phrase: no shared engine state, so nothing to work around."""

    backend: Final = "espeak"

    def __init__(
        self,
        settings: VoiceSettings | None = None,
        executable: str = "espeak-ng",
        timeout_seconds: float = _RENDER_TIMEOUT_SECONDS,
    ) -> None:
        self._settings = settings or VoiceSettings()
        found = shutil.which(executable)
        if found is None:
            raise FloorcoachError(f"'{executable}' was not found; {INSTALL_ESPEAK_HINT}")
        self._executable = found
        self._timeout_seconds = timeout_seconds
        self._check_voice()

    def _check_voice(self) -> None:
        """Fail at construction, not mid-session, when the voice does not exist."""
        try:
            done = subprocess.run(
                [self._executable, "-q", "-v", self._settings.voice],
                input=b"",
                capture_output=True,
                timeout=self._timeout_seconds,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise FloorcoachError(f"espeak-ng cannot run ({exc}); {INSTALL_ESPEAK_HINT}") from None
        if done.returncode != 0:
            raise FloorcoachError(
                f"no espeak-ng voice '{self._settings.voice}' "
                "(try 'en-us' or 'en-gb'; list: espeak-ng --voices)"
            )

    @property
    def settings(self) -> VoiceSettings:
        """Voice, rate and volume used for every phrase."""
        return self._settings

    @property
    def key(self) -> str:
        """Backend and settings, for cache keys."""
        return settings_key(self.backend, self._settings)

    def render(self, text: str) -> Pcm:
        """Run espeak-ng once, text on stdin (never argv: a leading '-' would be an option)."""
        words = normalize_text(text)
        if not words:
            return Pcm.silence(0.0)
        cmd = [
            self._executable,
            "--stdout",
            "-z",  # no final sentence pause; trim_silence keeps a short tail
            "-v",
            self._settings.voice,
            "-s",
            str(self._settings.rate_wpm),
            "-a",
            str(round(self._settings.volume * 100)),
        ]
        try:
            done = subprocess.run(
                cmd,
                input=words.encode(),
                capture_output=True,
                timeout=self._timeout_seconds,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise FloorcoachError(
                f"espeak-ng took over {self._timeout_seconds:g} s for one phrase"
            ) from None
        except OSError as exc:
            raise FloorcoachError(f"espeak-ng cannot run ({exc}); {INSTALL_ESPEAK_HINT}") from None
        if done.returncode != 0:
            reason = done.stderr.decode(errors="replace").strip() or f"exit {done.returncode}"
            raise FloorcoachError(
                f"espeak-ng failed for voice '{self._settings.voice}': {reason} "
                "(list voices: espeak-ng --voices)"
            )
        return trim_silence(_parse_wav_bytes(done.stdout))


def make_synthesizer(
    backend: str = DEFAULT_BACKEND,
    voice: str = DEFAULT_VOICE,
    rate_wpm: int = DEFAULT_RATE_WPM,
    volume: float = DEFAULT_VOLUME,
) -> Synthesizer:
    """Build the named backend; FloorcoachError says what to install when it cannot work.

    A voice named `piper:NAME` is a Piper voice whatever the backend (the optional extra).
    """
    settings = VoiceSettings(voice=voice, rate_wpm=rate_wpm, volume=volume)
    if voice.strip().casefold().startswith("piper:"):
        from floorcoach.audio.speaking.piper_voice import PiperSynthesizer

        return PiperSynthesizer(settings)
    if backend == "pyttsx3":
        return Pyttsx3Synthesizer(settings)
    if backend == "espeak":
        return EspeakSynthesizer(settings)
    raise FloorcoachError(f"unknown speech backend '{backend}' (choose: {', '.join(BACKENDS)})")


@dataclass(frozen=True)
class EspeakVoice:
    """One espeak-ng voice as `espeak-ng --voices=LANG` lists it."""

    name: str
    """What `--voice` takes: the language code, such as en-us."""
    description: str
    gender: str


def espeak_voices(language: str = "en", executable: str = "espeak-ng") -> list[EspeakVoice]:
    """espeak-ng's own voices for a language (mbrola voices left out: they need mbrola)."""
    found = shutil.which(executable)
    if found is None:
        raise FloorcoachError(f"'{executable}' was not found; {INSTALL_ESPEAK_HINT}")
    try:
        done = subprocess.run(
            [found, f"--voices={language}"],
            capture_output=True,
            text=True,
            timeout=_RENDER_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise FloorcoachError(f"espeak-ng cannot run ({exc}); {INSTALL_ESPEAK_HINT}") from None
    voices: dict[str, EspeakVoice] = {}
    for line in done.stdout.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 5 or not fields[4].startswith("gmw/"):
            continue
        name, gender, description = fields[1], fields[2].rpartition("/")[2], fields[3]
        voices.setdefault(name, EspeakVoice(name, description.replace("_", " "), gender))
    return list(voices.values())
