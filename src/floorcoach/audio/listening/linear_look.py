"""A second look at words said over the player, through a canceller that does not tear them.

WebRTC's canceller (the default) takes the player's echo out by 35-40 dB on a real echo path,
but in double talk its suppressor takes the user's word down with the echo: a "stop" said
over the player comes out as a fifth of a second of torn sound, and the recognizer turns it
down. The linear (NLMS) canceller removes only about 10 dB there, so its output is no use for
finding words (the echo left keeps the voice detector open), but it leaves the user's word
whole. `LinearLook` runs it beside WebRTC's and keeps its last seconds of output; when the
recognizer turns down a short segment said over the player, it decodes the same stretch
once more from here (`SphinxRecognizer.set_second_look`). Measured on the live echo
captures (BENCHMARKS.md): barge-in commands heard went from 164 to 172 of 180 at -10 dB of
echo and from 132 to 161 at 0 dB, with no false command from the player's own speech.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from floorcoach.audio.listening.echo_canceller import EchoCanceller
from floorcoach.audio.pcm import RATE_HZ

KEEP_SECONDS: Final = 8.0
"""Output kept: the longest segment looked at again, its padding and some slack."""


class LinearLook:
    """The NLMS canceller's output, kept beside the main canceller's for a second look.

    Fed the same microphone and reference chunks as the main canceller; sample k of its
    output is sample k of the stream (the filter only delays delivery by under a block), so
    a stretch of the recognizer's stream can be fetched by its stream seconds. Fed and
    fetched from the listener's worker thread only (the recognizer fetches inside `accept`),
    so it needs no lock.
    """

    def __init__(self, keep_seconds: float = KEEP_SECONDS) -> None:
        self._keep = round(keep_seconds * RATE_HZ)
        self._canceller = EchoCanceller()
        self._ring = np.zeros(self._keep, dtype=np.int16)
        self._done = 0
        """Output samples produced since the stream started."""

    def process(self, mic: npt.NDArray[np.floating], reference: npt.NDArray[np.floating]) -> None:
        """Cancel one chunk (floats in [-1, 1]) and keep the result."""
        out = self._canceller.process(mic, reference)
        if len(out) == 0:
            return
        samples = np.clip(np.round(out * 32768.0), -32768, 32767).astype(np.int16)
        if len(samples) >= self._keep:
            samples = samples[-self._keep :]
            self._done += len(out) - len(samples)
        at = self._done % self._keep
        first = min(len(samples), self._keep - at)
        self._ring[at : at + first] = samples[:first]
        self._ring[: len(samples) - first] = samples[first:]
        self._done += len(samples)

    def fetch(
        self, start_seconds: float, end_seconds: float
    ) -> tuple[float, npt.NDArray[np.int16]] | None:
        """The output between two stream times, cut to what exists, with the stream time it
        starts at; None when none of it is kept any more (or produced yet)."""
        start = max(round(start_seconds * RATE_HZ), self._done - self._keep, 0)
        end = min(round(end_seconds * RATE_HZ), self._done)
        if end <= start:
            return None
        index = np.arange(start, end) % self._keep
        return start / RATE_HZ, self._ring[index].copy()

    def reset(self) -> None:
        """A new stream: its times start again at zero, and the filter learns afresh."""
        self._canceller = EchoCanceller()
        self._ring[:] = 0
        self._done = 0


def attach_linear_look(recognizer: object, echo_cancel: str) -> LinearLook | None:
    """A `LinearLook` handed to the recognizer, when it takes second looks and the main
    canceller is WebRTC's (the one whose suppressor tears words); else None, and no cost."""
    if echo_cancel != "webrtc" or not getattr(recognizer, "wants_second_look", False):
        return None
    look = LinearLook()
    recognizer.set_second_look(look.fetch)  # type: ignore[attr-defined]
    return look
