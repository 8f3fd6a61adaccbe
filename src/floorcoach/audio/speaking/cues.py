"""Short, distinct, gentle tones that mark phases without words (someone lying down, eyes shut)."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import numpy as np
import numpy.typing as npt

from floorcoach.audio.pcm import RATE_HZ, Pcm, float_to_int16
from floorcoach.audio.speaking.loudness import SPEECH_LUFS, level_to

_LOGGER = logging.getLogger(__name__)

PEAK_LEVEL: Final = 0.3
"""Peak amplitude (about -10 dBFS) each tone is drawn at, before it is set to the speech's
loudness (SPEECH_LUFS): measured, the tones were 0.3-3.5 dB louder than speech."""
_PARTIALS: Final = ((1.0, 1.0), (2.0, 0.25), (3.0, 0.08))
"""(frequency multiple, relative amplitude): a soft, warm, bell-like timbre."""
_ATTACK_SECONDS: Final = 0.008
_RELEASE_SECONDS: Final = 0.025
_DECAY_PER_SECOND: Final = 4.0
"""Exponential decay rate of each note: a struck-bell shape rather than a beep."""


class Cue(StrEnum):
    """What the tone means; the runtime plays these instead of, or before, words."""

    START = "start"
    END = "end"
    BEAT = "beat"
    SWITCH = "switch"
    REST_OVER = "rest_over"
    PAIN = "pain"


@dataclass(frozen=True)
class _Note:
    freq_hz: float
    seconds: float
    gap_after_seconds: float = 0.0


# Each cue's design frequency is its loudest, longest note: the peak of its spectrum.
_SCORES: Final[dict[Cue, tuple[_Note, ...]]] = {
    # Rising fourth E5 -> A5: "begin". Design 880 Hz.
    Cue.START: (_Note(659.26, 0.10), _Note(880.0, 0.22)),
    # Falling fourth A5 -> E5: "let go". Design 659.26 Hz.
    Cue.END: (_Note(880.0, 0.10), _Note(659.26, 0.24)),
    # One short, high, soft tick on each count. Design 1046.5 Hz (C6).
    Cue.BEAT: (_Note(1046.5, 0.09),),
    # Two equal D5 pulses: "other side". Design 587.33 Hz.
    Cue.SWITCH: (_Note(587.33, 0.12, gap_after_seconds=0.05), _Note(587.33, 0.12)),
    # Rising fifth G4 -> C5: "time to move again". Design 523.25 Hz.
    Cue.REST_OVER: (_Note(392.0, 0.09), _Note(523.25, 0.26)),
    # One low, calm E4: "I heard you; we stop". Design 329.63 Hz.
    Cue.PAIN: (_Note(329.63, 0.36),),
}

CUE_DESIGN_HZ: Final[dict[Cue, float]] = {
    Cue.START: 880.0,
    Cue.END: 659.26,
    Cue.BEAT: 1046.5,
    Cue.SWITCH: 587.33,
    Cue.REST_OVER: 523.25,
    Cue.PAIN: 329.63,
}
"""The frequency a listener hears as each cue's pitch (its spectral peak)."""


def _raised_cosine(n: int) -> npt.NDArray[np.float64]:
    """0 -> 1 over n samples along half a cosine: no discontinuity in value or slope."""
    if n <= 0:
        return np.ones(0)
    return 0.5 - 0.5 * np.cos(np.pi * np.arange(n) / n)


def _note(note: _Note, rate_hz: int) -> npt.NDArray[np.float64]:
    n = round(note.seconds * rate_hz)
    t = np.arange(n) / rate_hz
    wave = np.zeros(n)
    for multiple, amplitude in _PARTIALS:
        freq_hz = note.freq_hz * multiple
        if freq_hz < rate_hz / 2:
            wave += amplitude * np.sin(2 * np.pi * freq_hz * t)
    envelope = np.exp(-_DECAY_PER_SECOND * t)
    attack = min(n, round(_ATTACK_SECONDS * rate_hz))
    release = min(n - attack, round(_RELEASE_SECONDS * rate_hz))
    envelope[:attack] *= _raised_cosine(attack)
    envelope[n - release :] *= _raised_cosine(release)[::-1]
    gap = np.zeros(round(note.gap_after_seconds * rate_hz))
    return np.concatenate([wave * envelope, gap])


@functools.cache
def _render(cue: Cue, rate_hz: int) -> Pcm:
    wave = np.concatenate([_note(note, rate_hz) for note in _SCORES[cue]])
    wave *= PEAK_LEVEL / max(float(np.max(np.abs(wave))), 1e-9)
    samples = level_to(Pcm(float_to_int16(wave), rate_hz), SPEECH_LUFS).samples
    samples.flags.writeable = False  # shared between callers
    return Pcm(samples, rate_hz)


def render_cue(cue: Cue | str, rate_hz: int = RATE_HZ) -> Pcm:
    """The cue's tone as PCM (computed once per rate, then shared read-only)."""
    return _render(Cue(cue), rate_hz)
