"""What every voice shares: its settings, the Synthesizer protocol, cache keys and trimming."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Final, Protocol, runtime_checkable

import numpy as np

from floorcoach.audio.pcm import Pcm
from floorcoach.errors import FloorcoachError

DEFAULT_VOICE: Final = "en-us"
DEFAULT_RATE_WPM: Final = 150
"""Slower than espeak's 175 wpm: the listener is lying down, maybe in pain, not hurrying."""
DEFAULT_VOLUME: Final = 1.0

# Trimming: espeak adds ~0.4 s of end-of-sentence silence; counts must land on the beat and
# the listener must know when the voice really stops, so keep only short margins.
_SILENCE_THRESHOLD: Final = 200
"""Absolute int16 level below which a sample counts as silence (about -44 dBFS)."""
_KEEP_HEAD_SECONDS: Final = 0.01
_KEEP_TAIL_SECONDS: Final = 0.06


@dataclass(frozen=True)
class VoiceSettings:
    """What a voice sounds like; part of every cache key."""

    voice: str = DEFAULT_VOICE
    rate_wpm: int = DEFAULT_RATE_WPM
    volume: float = DEFAULT_VOLUME
    """0.0 to 1.0 (espeak amplitude 0 to 100)."""

    def __post_init__(self) -> None:
        if not self.voice.strip():
            raise FloorcoachError("voice name is empty (try 'en-us'; list: espeak-ng --voices)")
        if not 80 <= self.rate_wpm <= 450:
            raise FloorcoachError(f"speech rate {self.rate_wpm} wpm is outside 80..450")
        if not 0.0 <= self.volume <= 1.0:
            raise FloorcoachError(f"speech volume {self.volume} is outside 0.0..1.0")


@runtime_checkable
class Synthesizer(Protocol):
    """Renders text to 16 kHz mono PCM; `key` names backend, voice, rate and volume."""

    @property
    def settings(self) -> VoiceSettings: ...

    @property
    def key(self) -> str: ...

    def render(self, text: str) -> Pcm: ...


def settings_key(backend: str, settings: VoiceSettings) -> str:
    """Stable text identifying everything but the words that shapes the rendered audio."""
    return f"{backend}:{settings.voice}:{settings.rate_wpm}wpm:{settings.volume:.2f}"


def text_hash(key: str, text: str) -> str:
    """Hex digest naming one phrase rendered with one voice setup."""
    return hashlib.sha256(f"{key}\n{normalize_text(text)}".encode()).hexdigest()


def normalize_text(text: str) -> str:
    """Whitespace-collapsed text: line breaks and double spaces do not change speech."""
    return " ".join(text.split())


def trim_silence(pcm: Pcm) -> Pcm:
    """Cut leading and trailing silence down to short margins, so timing follows the voice."""
    loud = np.flatnonzero(np.abs(pcm.samples.astype(np.int32)) > _SILENCE_THRESHOLD)
    if len(loud) == 0:
        return Pcm(pcm.samples[:0].copy(), pcm.rate_hz)
    start = max(0, int(loud[0]) - round(_KEEP_HEAD_SECONDS * pcm.rate_hz))
    end = min(len(pcm.samples), int(loud[-1]) + 1 + round(_KEEP_TAIL_SECONDS * pcm.rate_hz))
    samples = pcm.samples[start:end].astype(np.float32)
    # Short fades so the cut edges do not click.
    fade = min(len(samples) // 2, round(0.005 * pcm.rate_hz))
    if fade > 0:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        samples[:fade] *= ramp
        samples[-fade:] *= ramp[::-1]
    return Pcm(np.round(samples).astype(np.int16), pcm.rate_hz)
