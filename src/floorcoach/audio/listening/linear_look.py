"""A second look at words said over the player, through a canceller that does not tear them.

WebRTC's canceller (the default) takes the player's echo out by 35-40 dB on a real echo path,
but in double talk its suppressor takes the user's word down with the echo: a "stop" said
over the player comes out as a fifth of a second of torn sound, and the recognizer turns it
down. When that happens to a short segment said over the player, the recognizer decides the
same stretch once more from a linear canceller's output (`SphinxRecognizer.set_second_look`),
where the word is whole.

`LinearLook` (the default) keeps the last seconds of raw microphone and reference and cancels
only when asked, for the stretch asked: it fits a least-squares filter (`TAPS` taps around
the echo's delay, found by cross-correlation, each tap allowed to change linearly over the
stretch) on that stretch and the half second before it, and subtracts the echo it predicts.
Fitting on the stretch itself is safe because the user's word is not correlated with the
reference: with 128 unknowns and a second or more of samples, the fit takes out a few
hundredths of the word's energy and nearly all of the echo, however the echo path moved in
the seconds before. An adaptive (NLMS) filter instead must track the path as it goes and
freeze in double talk; it removed only about 10 dB on the loopback captures. Oracle check on
the 0 dB capture: the users' recorded words alone, fetched for the same stretches, are heard
178 of 180 times, so what a second look misses is echo left in its input.

Measured on the live echo captures (BENCHMARKS.md, fourteenth session), commands said over
the player heard, of 180: at 0 dB of echo 125 with no second look, 152 with `NlmsLook`, 168
with a fixed fitted filter of 256 taps, 174 with the sliding one of 64; at -10 dB 166, 174,
175, 176. `NlmsLook` is kept as the preset `nlms_second_look`.
"""

from __future__ import annotations

from typing import Final, Protocol

import numpy as np
import numpy.typing as npt

from floorcoach.audio.listening.echo_canceller import EchoCanceller
from floorcoach.audio.pcm import RATE_HZ

KEEP_SECONDS: Final = 8.0
"""What can be fetched: the longest segment looked at again, its padding and some slack."""
FIT_BEFORE_SECONDS: Final = 0.5
"""The fit also uses this much before the stretch asked for: where the word has not started,
the echo alone pins the filter down. 0 dB capture, 64 fixed taps: 167 of 180 heard with
0.5 s, 165 with 1.0 s; fitted on the half second before alone (not on the stretch): 155."""
MAX_LAG_SECONDS: Final = 0.5
"""The longest echo delay searched, as echo_delay.MAX_LAG_SECONDS."""
TAPS: Final = 64
"""The filter's length, 4 ms: the direct path and the earliest reflections. Each tap also has
a drift term (128 unknowns): on the 0 dB capture 174 of 180 heard, against 168 with 256 fixed
taps and 164-167 with 32-512 fixed ones. The cost is in the normal equations, (2 x TAPS)^2
per sample fitted: 17-22 ms per look here for 1-2 s stretches. Reflections later than 3 ms
after the direct sound are left in (a room's; the loopback captures have none)."""
TAPS_BEFORE_PEAK: Final = 16
"""Taps before the correlation's peak: a resampler's filter spreads the echo both ways."""
RIDGE: Final = 1e-3
"""Added to the reference's energy on the diagonal, so a quiet or narrow-band reference
cannot make the fit blow up."""
MIN_OVER_ECHO_DB: Final = 6.0
"""The stretch asked for must stand this far above what the filter left of the echo in the
half second before it, or there is no word in it, only echo (the fit then takes it out as
well as before). 0 dB capture, stretches the recognizer asked for: with a user's word in
them 8 to 30 dB (most over 16), with none -22 to +8.6 dB (most under 4)."""
MIN_BEFORE_SAMPLES: Final = RATE_HZ // 10
"""Less than this before the stretch (the stream's first moments) and it is not judged."""
SILENT_REFERENCE: Final = 1e-7
"""Mean square of a reference below which nothing was played: the microphone is passed on."""
_CHUNK: Final = 8000
"""Samples per block of the normal equations: 2 x TAPS x 8000 floats (8 MB) at a time."""


class SecondLookSource(Protocol):
    """A canceller beside the main one, fed the same chunks, asked for stretches of output."""

    def process(
        self, mic: npt.NDArray[np.floating], reference: npt.NDArray[np.floating]
    ) -> None: ...

    def fetch(
        self, start_seconds: float, end_seconds: float
    ) -> tuple[float, npt.NDArray[np.int16]] | None: ...

    def reset(self) -> None: ...


class _Ring:
    """The last samples of a stream, addressed by their index since the stream started."""

    def __init__(self, length: int) -> None:
        self.length = length
        self._samples: npt.NDArray[np.float32] = np.zeros(length, dtype=np.float32)

    def write(self, at: int, samples: npt.NDArray[np.generic]) -> None:
        if len(samples) >= self.length:
            at += len(samples) - self.length
            samples = samples[-self.length :]
        index = np.arange(at, at + len(samples)) % self.length
        self._samples[index] = samples

    def clear(self) -> None:
        self._samples[:] = 0.0

    def read(self, start: int, end: int) -> npt.NDArray[np.float64]:
        """Samples [start, end); indices before the stream's start read as silence."""
        out = np.zeros(end - start, dtype=np.float64)
        first = max(start, 0)
        if end > first:
            out[first - start :] = self._samples[np.arange(first, end) % self.length]
        return out


def _int16(samples: npt.NDArray[np.floating]) -> npt.NDArray[np.int16]:
    return np.clip(np.round(samples * 32768.0), -32768, 32767).astype(np.int16)


def _over_db(signal: npt.NDArray[np.float64], floor: npt.NDArray[np.float64]) -> float:
    """How far (dB) the mean power of `signal` stands above that of `floor`."""
    return float(10 * np.log10((np.mean(signal**2) + 1e-12) / (np.mean(floor**2) + 1e-12)))


def _correlate(short: npt.NDArray[np.float64], long: npt.NDArray[np.float64]) -> np.ndarray:
    """c[m] = sum_i short[i] * long[i + m] for m = 0 .. len(long) - len(short), by FFT."""
    size = 1 << (len(long) + len(short) - 1).bit_length()
    spectrum = np.fft.rfft(long, size) * np.conj(np.fft.rfft(short, size))
    return np.fft.irfft(spectrum, size)[: len(long) - len(short) + 1]


class LinearLook:
    """Raw microphone and reference kept by stream time; a least-squares fit per fetch.

    Fed from the listener's worker thread and fetched from it too (the recognizer fetches
    inside `accept`), so it needs no lock. Feeding costs a copy; a fetch, only made for a
    short segment turned down over the player, one FFT correlation, the normal equations of
    128 unknowns over the stretch, and their solve.
    """

    def __init__(self, keep_seconds: float = KEEP_SECONDS) -> None:
        self._fetchable = round(keep_seconds * RATE_HZ)
        history = round((FIT_BEFORE_SECONDS + MAX_LAG_SECONDS) * RATE_HZ) + TAPS
        self._mic = _Ring(self._fetchable + history)
        self._reference = _Ring(self._fetchable + history)
        self._done = 0
        """Samples fed since the stream started."""

    def process(self, mic: npt.NDArray[np.floating], reference: npt.NDArray[np.floating]) -> None:
        """Keep one chunk (floats in [-1, 1]) of the microphone and of what was played."""
        self._mic.write(self._done, mic)
        self._reference.write(self._done, reference[: len(mic)])
        self._done += len(mic)

    def fetch(
        self, start_seconds: float, end_seconds: float
    ) -> tuple[float, npt.NDArray[np.int16]] | None:
        """The microphone between two stream times with the echo fitted and taken out, cut
        to what can be fetched, with the stream time it starts at; None when none of it is
        kept any more (or fed yet), or when it holds nothing but what the fit left of the
        echo (`MIN_OVER_ECHO_DB`)."""
        start = max(round(start_seconds * RATE_HZ), self._done - self._fetchable, 0)
        end = min(round(end_seconds * RATE_HZ), self._done)
        if end <= start:
            return None
        fit_start = max(start - round(FIT_BEFORE_SECONDS * RATE_HZ), 0)
        mic = self._mic.read(fit_start, end)
        max_lag = round(MAX_LAG_SECONDS * RATE_HZ)
        reference = self._reference.read(fit_start - max_lag - TAPS, end)
        if float(np.mean(reference**2)) < SILENT_REFERENCE:
            return start / RATE_HZ, _int16(mic[start - fit_start :])
        left = mic - _fitted_echo(mic, reference, max_lag)
        before, asked = left[: start - fit_start], left[start - fit_start :]
        if len(before) >= MIN_BEFORE_SAMPLES and _over_db(asked, before) < MIN_OVER_ECHO_DB:
            return None  # only what the filter left of the echo: no word to read
        return start / RATE_HZ, _int16(asked)

    def reset(self) -> None:
        """A new stream: its times start again at zero."""
        self._mic.clear()
        self._reference.clear()
        self._done = 0


def _fitted_echo(
    mic: npt.NDArray[np.float64], reference: npt.NDArray[np.float64], max_lag: int
) -> npt.NDArray[np.float64]:
    """The echo in `mic` predicted from `reference` by a least-squares filter fitted on `mic`.

    `reference` starts `max_lag + TAPS` samples before `mic`, so sample i of `mic` lines up
    with sample i + max_lag + TAPS - L of `reference` at a delay of L samples. The filter's
    taps change linearly over the stretch (w0 + t * w1): the echo's path slides by a few
    samples in two seconds where the drift is not yet followed or the sound server moved it.
    """
    ahead = max_lag + TAPS
    delays = _correlate(mic, reference)[ahead - np.arange(max_lag + 1)]
    first_tap = max(int(np.argmax(np.abs(delays))) - TAPS_BEFORE_PEAK, 0)
    base = ahead - first_tap  # tap k reads reference[i + base - k]
    count = len(mic)
    starts = base - np.arange(TAPS)
    middle = (count - 1) / 2
    gram = np.zeros((2 * TAPS, 2 * TAPS))
    right = np.zeros(2 * TAPS)
    for lo in range(0, count, _CHUNK):
        hi = min(lo + _CHUNK, count)
        block = _regressors(reference, starts, lo, hi, middle)
        gram += block @ block.T
        right += block @ mic[lo:hi]
    gram[np.diag_indices_from(gram)] += RIDGE * float(np.trace(gram)) / (2 * TAPS) + 1e-12
    weights = np.linalg.solve(gram, right)
    # echo[i] = sum_k (w0[k] + t_i * w1[k]) * reference[i + base - k]: two convolutions
    window = reference[base - TAPS + 1 : base + count]
    fixed = np.convolve(window, weights[:TAPS], mode="valid")
    drift = np.convolve(window, weights[TAPS:], mode="valid")
    return fixed + drift * (np.arange(count) - middle) / RATE_HZ


def _regressors(
    reference: npt.NDArray[np.float64],
    starts: npt.NDArray[np.intp],
    lo: int,
    hi: int,
    middle: float,
) -> npt.NDArray[np.float64]:
    """The filter's inputs for samples [lo, hi): tap k's is reference[starts[k] + i]; then
    the same times the time from the stretch's middle (seconds), for the taps' drift."""
    first = int(starts.min())
    span = reference[first + lo : int(starts.max()) + hi]
    taps = np.lib.stride_tricks.sliding_window_view(span, hi - lo)[starts - first]
    seconds = (np.arange(lo, hi) - middle) / RATE_HZ
    return np.concatenate([taps, taps * seconds])


class NlmsLook:
    """The NLMS canceller's output, kept beside the main canceller's for a second look (the
    thirteenth session's; preset `nlms_second_look`).

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


def attach_linear_look(recognizer: object, echo_cancel: str) -> SecondLookSource | None:
    """A second-look canceller handed to the recognizer, when it takes second looks and the
    main canceller is WebRTC's (the one whose suppressor tears words); else None, and no
    cost. `LinearLook`, or `NlmsLook` for a recognizer whose config's `second_look_fitted`
    is off."""
    if echo_cancel != "webrtc" or not getattr(recognizer, "wants_second_look", False):
        return None
    fitted = getattr(getattr(recognizer, "config", None), "second_look_fitted", True)
    look: SecondLookSource = LinearLook() if fitted else NlmsLook()
    recognizer.set_second_look(look.fetch)  # type: ignore[attr-defined]
    return look
