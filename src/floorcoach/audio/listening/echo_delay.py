"""Keep the echo canceller's reference in step with the microphone's own clock.

The listener places each microphone sample in time by counting samples from the stream's
start, and the speaker places what it played by the monotonic clock. No microphone's clock
runs at exactly its nominal rate: on the virtual loopback of the benchmarks the echo of the
player's voice reached the microphone 70 ms after its reference at the start of an 11-minute
capture and 190 ms after it at the end (140-180 ppm). A canceller fed such a reference keeps
re-learning a moving echo path, and WebRTC's, meanwhile, suppresses hard: with the drift
taken out offline, the commands heard over the player went from 59 to 84 % (-10 dB echo)
and from 32 to 57 % (0 dB echo) on the same captures (BENCHMARKS.md).

`EchoDelayTracker` measures the echo's delay now and then from the microphone itself (the
cross-correlation of the raw microphone with what the player sounded, while the player
talks), fits a line through the recent measurements, and tells the listener how far to move
its reference so that the canceller always sees the delay of the first measurement. It
needs no extra device, runs only while the player talks (about 5 ms of NumPy per look, one
look every 5 s: 0.1 % of a core), and does nothing where there is no echo to measure
(headphones).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from floorcoach.audio.pcm import RATE_HZ

_LOGGER = logging.getLogger(__name__)

WINDOW_SECONDS: Final = 1.5
"""Microphone audio per look: long enough for a clear peak with a word of the user in it."""
EVERY_SECONDS: Final = 5.0
"""Between looks. At 200 ppm the delay moves 1 ms in 5 s, and the fitted line carries it."""
MAX_LAG_SECONDS: Final = 0.5
"""The longest echo delay searched (output and input latencies, the room, the drift)."""
MIN_PEAK: Final = 0.5
"""Normalized correlation a look needs to count: the echo alone gave 0.8-0.95 on the
benchmark's loopback, a user talking over it or a silent player far less."""
MIN_SOUNDING: Final = 0.5
"""Share of the window the player must be sounding in for a look."""
KEEP: Final = 12
"""Looks the line is fitted through (a minute of player speech)."""
AGREE_SECONDS: Final = 0.003
"""A look further than this from the line is an outlier, unless the next one agrees."""
MAX_DRIFT: Final = 1e-3
"""The fastest drift followed (1000 ppm, 1 ms a second): added to AGREE_SECONDS per second
since the last look, so a fast drift is followed before the line has a slope."""
FIT_MIN_SPAN_SECONDS: Final = 20.0
"""The line's slope is trusted once its looks span this long; before, the last look holds."""


@dataclass(frozen=True)
class DelayLook:
    """One measurement: at `at` (listener time) the echo lagged its reference by `delay`."""

    at: float
    delay: float
    peak: float


class EchoDelayTracker:
    """Follows the echo's delay; `shift(at)` is how much earlier to fetch the reference."""

    def __init__(
        self,
        *,
        window_seconds: float = WINDOW_SECONDS,
        every_seconds: float = EVERY_SECONDS,
        max_lag_seconds: float = MAX_LAG_SECONDS,
        min_peak: float = MIN_PEAK,
    ) -> None:
        self._window = round(window_seconds * RATE_HZ)
        self._every = every_seconds
        self._max_lag = round(max_lag_seconds * RATE_HZ)
        self._min_peak = min_peak
        self._mic = np.zeros(self._window, dtype=np.float32)
        self._filled = 0
        self._end = 0.0
        self._next_look = 0.0  # the first look as soon as the window is full
        self.looks: deque[DelayLook] = deque(maxlen=KEEP)
        """Measurements on the current line, oldest first."""
        self._doubt: DelayLook | None = None
        self.anchor: float | None = None
        """The first delay measured: the one the canceller is kept at."""
        self.rejected = 0
        self._line: tuple[float, float, float] | None = None
        """(time, delay at that time, slope) fitted through `looks`; None: not fitted yet."""

    def add(self, start: float, samples: npt.NDArray[np.int16]) -> None:
        """The raw microphone (before cancelling) from `start`, listener time."""
        count = len(samples)
        if count >= self._window:
            self._mic[:] = samples[-self._window :]
        else:
            self._mic[:-count] = self._mic[count:]
            self._mic[-count:] = samples
        self._filled = min(self._window, self._filled + count)
        self._end = start + count / RATE_HZ

    def due(self) -> bool:
        """Whether it is time for a look (the caller then calls `look`)."""
        return self._filled == self._window and self._end >= self._next_look

    def look(self, reference: Callable[[float, int], npt.NDArray[np.float32]]) -> DelayLook | None:
        """Measure the delay over the last window, if the player sounded enough in it."""
        self._next_look = self._end + self._every
        start = self._end - self._window / RATE_HZ
        lead = self._max_lag / RATE_HZ
        played = _exactly(
            reference(start - lead, self._window + self._max_lag), self._window + self._max_lag
        )
        sounding = np.mean(np.abs(played[self._max_lag :]) > 1e-3)
        if sounding < MIN_SOUNDING:
            return None
        found = _correlate(self._mic / 32768.0, played, self._max_lag)
        if found is None:
            return None
        lag, peak = found
        if peak < self._min_peak:
            return None
        look = DelayLook(self._end, lag / RATE_HZ, peak)
        self._take(look)
        return look

    def _take(self, look: DelayLook) -> None:
        """Add a look to the line, or hold it as a doubt until the next look agrees."""
        if self.anchor is None:
            self.anchor = look.delay
        if self.looks and not _agree(look, self.looks[-1].at, self.delay(look.at)):
            doubt, self._doubt = self._doubt, look
            if doubt is None or not _agree(look, doubt.at, doubt.delay):
                self.rejected += 1
                return
            # two looks agree on a new delay: the path changed (a device restart, a new
            # latency); start the line again from them
            _LOGGER.info("echo delay moved to %.1f ms", 1000 * look.delay)
            self.looks.clear()
            self.looks.append(doubt)
        self._doubt = None
        self.looks.append(look)
        self._line = self._fit()

    def _fit(self) -> tuple[float, float, float]:
        """The line through the looks: the last look alone until they span long enough."""
        last = self.looks[-1]
        if len(self.looks) < 3 or last.at - self.looks[0].at < FIT_MIN_SPAN_SECONDS:
            return (last.at, last.delay, 0.0)
        times = np.array([x.at for x in self.looks]) - last.at
        delays = np.array([x.delay for x in self.looks])
        slope, offset = np.polyfit(times, delays, 1)
        return (last.at, float(offset), float(slope))

    def delay(self, at: float) -> float:
        """The echo's delay at `at` by the fitted line (the anchor before any look)."""
        if self._line is None:
            return self.anchor or 0.0
        when, delay, slope = self._line
        return delay + slope * (at - when)

    def shift(self, at: float) -> float:
        """Seconds to fetch the reference earlier than the listener's clock says (can be < 0)."""
        if self.anchor is None:
            return 0.0
        return self.delay(at) - self.anchor


def _exactly(samples: npt.NDArray[np.floating], count: int) -> npt.NDArray[np.float64]:
    """`count` samples: a reference that returns fewer (its end, a test's stand-in) is padded
    with silence, so a short answer never shifts or breaks the arithmetic."""
    out = np.zeros(count, dtype=np.float64)
    got = np.asarray(samples, dtype=np.float64)[:count]
    out[: len(got)] = got
    return out


def _agree(look: DelayLook, since: float, expected: float) -> bool:
    """Whether a look is where the delay could be `look.at - since` seconds later."""
    return abs(look.delay - expected) <= AGREE_SECONDS + MAX_DRIFT * abs(look.at - since)


def _correlate(
    mic: npt.NDArray[np.floating], played: npt.NDArray[np.floating], max_lag: int
) -> tuple[float, float] | None:
    """The lag (samples, sub-sample) at which `played` best explains `mic`, and its peak.

    `played` starts `max_lag` samples before `mic`; lag L means mic[n] ~ played[n + max_lag - L].
    """
    n = len(mic)
    energy_mic = float(np.dot(mic, mic))
    if energy_mic <= 0.0:
        return None
    size = 1 << int(np.ceil(np.log2(n + len(played))))
    spectrum = np.fft.rfft(played, size) * np.conj(np.fft.rfft(mic, size))
    corr = np.fft.irfft(spectrum, size)[: max_lag + 1][::-1]  # index = lag
    # the played energy under each lag's window: a running sum of squares
    squares = np.concatenate([[0.0], np.cumsum(np.asarray(played, np.float64) ** 2)])
    lags = np.arange(max_lag + 1)
    starts = max_lag - lags
    energy_played = squares[starts + n] - squares[starts]
    norm = np.sqrt(np.maximum(energy_mic * energy_played, 1e-18))
    score = np.abs(corr) / norm
    best = int(np.argmax(score))
    lag = float(best)
    if 0 < best < max_lag:  # a parabola through the peak: the delay between samples
        a, b, c = score[best - 1], score[best], score[best + 1]
        bend = a - 2 * b + c
        if bend < 0:
            lag += 0.5 * (a - c) / bend
    return lag, float(score[best])


def fractional_fetch(
    reference: Callable[[float, int], npt.NDArray[np.float32]],
    start: float,
    count: int,
    shift_samples: float,
) -> npt.NDArray[np.float32]:
    """`count` reference samples from `start`, moved `shift_samples` earlier (a fraction too).

    The reference is fetched on the listener's own sample grid (whole-sample moves keep the
    speaker's placement of each playback stable) and the fraction is taken by cubic
    (Lagrange) interpolation, which stays within 0.5 dB up to 4 kHz where a linear one
    loses 3 dB at half a sample.
    """
    whole = int(np.floor(shift_samples))
    t = 1.0 - (shift_samples - whole)  # position past x[i] of the sample wanted
    if t >= 1.0:
        return reference(start - whole / RATE_HZ, count)
    block = _exactly(reference(start - (whole + 2) / RATE_HZ, count + 4), count + 4)
    # out[j] lies at block index j + 1 + t (between x[j+1] and x[j+2])
    x0, x1, x2, x3 = (block[k : k + count] for k in range(4))
    c0 = -t * (t - 1) * (t - 2) / 6
    c1 = (t + 1) * (t - 1) * (t - 2) / 2
    c2 = -(t + 1) * t * (t - 2) / 2
    c3 = (t + 1) * t * (t - 1) / 6
    return (c0 * x0 + c1 * x1 + c2 * x2 + c3 * x3).astype(np.float32)
