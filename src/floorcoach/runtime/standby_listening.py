"""Standby acts on a request said on its own, not on words inside other people's talk.

Standby listens all day, and its grammar forces any short piece of talk onto one of its
phrases. A person asking standby for something says it alone; a piece cut from a longer
sentence has speech right before or after it. So a phrase heard is held until
`QUIET_SECONDS` after its end and dropped when speech began within that time, or had ended
within it before the phrase began. Standby need not answer within a quarter second: the wait
costs a reply's start, not a count.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import numpy.typing as npt

from floorcoach.audio.listening.recognizer import Heard
from floorcoach.audio.listening.sphinx_recognizer import SphinxRecognizer
from floorcoach.audio.listening.vad import Segment
from floorcoach.audio.pcm import RATE_HZ

QUIET_SECONDS: Final = 0.8
"""Quiet needed before and after a request. Recorded talk, per hour, clean / 20 / 10 dB, with
the fit test: sessions or enrollments started 6.1 / 20.8 / 12.1 -> 2.0 / 6.7 / 3.4, spoken
replies 65 / 78 / 112 -> 39 / 39 / 50; every request said alone still heard (recorded 2 / 2,
synthetic 26 / 27; scripts/bench_standby, BENCHMARKS.md twenty-first session). Chosen from an
offline look at the talk's voice segments (0.5 s removed far fewer); not swept."""


ONSET_DELAY_SECONDS: Final = 0.1
"""The voice detector opens a segment about this long after its speech began."""
KEPT: Final = 8
"""Segments remembered: enough to judge the quiet around any phrase still held."""


class SaidAloneRecognizer(SphinxRecognizer):
    """Standby's recognizer: a phrase counts only with `quiet_seconds` of quiet around it."""

    def __init__(self, *args: Any, quiet_seconds: float = QUIET_SECONDS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.quiet_seconds = quiet_seconds
        self._now = 0.0
        self._speech: list[tuple[float, float]] = []
        """(start, end) of the last voice segments' speech, in stream seconds."""
        self._held: list[Heard] = []

    def reset(self) -> None:
        super().reset()
        self._now = 0.0
        self._speech.clear()
        self._held.clear()

    def accept(self, samples: npt.NDArray[np.int16]) -> list[Heard]:
        self._now += len(samples) / RATE_HZ
        return self._release(super().accept(samples), at_end=False)

    def flush(self) -> list[Heard]:
        return self._release(super().flush(), at_end=True)

    def _decode_all(self, segments: list[Segment]) -> list[Heard]:
        for segment in segments:
            if segment.speech_seconds > 0:
                self._speech = [*self._speech[-KEPT:], (segment.start_seconds, segment.end_seconds)]
        return super()._decode_all(segments)

    def _alone(self, heard: Heard) -> bool | None:
        """True: quiet all round; False: other speech too near; None: not known yet."""
        quiet = self.quiet_seconds
        for start, end in self._speech:
            if end < heard.start - 1e-6 and heard.start - end < quiet:
                return False  # speech ended just before
            if start > heard.end + 1e-6 and start - heard.end < quiet:
                return False  # speech began just after
        if self.in_speech:  # a segment is open: its speech began a little before now
            began = self._now - ONSET_DELAY_SECONDS
            if began > heard.end and began - heard.end < quiet:
                return False
        return True if self._now - heard.end >= quiet else None

    def _release(self, new: list[Heard], at_end: bool) -> list[Heard]:
        """Hold the new phrases; give back the ones heard alone once their quiet has passed."""
        ready: list[Heard] = []
        held: list[Heard] = []
        for heard in [*self._held, *new]:
            alone = self._alone(heard)
            if alone or (alone is None and at_end):
                ready.append(heard)
            elif alone is None:
                held.append(heard)
        self._held = held
        return ready
