"""Acoustic echo cancellation: take the player's own voice out of the microphone signal.

The player knows exactly what it played, so the echo the room adds to the microphone can be
predicted by an adaptive filter and subtracted before recognition. What is left is the
user, and a barge-in "pause" spoken over the player is no longer buried in its speech.

Three choices behind one interface (`make_echo_canceller`, `--echo-cancel`): "webrtc", the
default, is WebRTC's AEC3 through livekit (on a real echo path it removes 23-34 dB where the
filter below removes almost nothing once someone talks over the player: BENCHMARKS.md);
"nlms" is the hand-written filter below; "none" passes the microphone through.

The NLMS filter: a partitioned-block frequency-domain adaptive filter (the MDF family, as
in Speex and WebRTC): 256-sample blocks, 16 partitions (256 ms of echo path at 16 kHz, enough for
output latency plus a room), normalized per-bin steps and the gradient constraint. Double
talk (the user speaking over the player) is handled with two filters, so the output never
follows a filter that has just learned the user's voice.
"""

from __future__ import annotations

from typing import Any, Final, Protocol

import numpy as np
import numpy.typing as npt

from floorcoach.audio.listening.webrtc_calls import DirectApmCalls
from floorcoach.audio.pcm import RATE_HZ
from floorcoach.errors import FloorcoachError

BLOCK: Final = 256
PARTITIONS: Final = 16
STEP: Final = 0.8
POWER_SMOOTHING: Final = 0.9
_EPS: Final = 1e-10

FloatArray = npt.NDArray[np.float64]


class EchoCanceller:
    """Streaming: feed equal-length chunks of microphone and played (reference) audio.

    Two filters, as in Speex: a background filter adapts on every block; the foreground
    filter, which makes the output, takes the background's weights only when they cancel
    clearly better. Double talk can then spoil the background for a moment but never the
    output, and a spoilt background is reset from the foreground.
    """

    def __init__(self, partitions: int = PARTITIONS, block: int = BLOCK) -> None:
        self.block = block
        self.partitions = partitions
        bins = block + 1
        self._background = np.zeros((partitions, bins), dtype=np.complex128)
        self._foreground = np.zeros((partitions, bins), dtype=np.complex128)
        self._spectra = np.zeros((partitions, bins), dtype=np.complex128)
        self._power = np.full(bins, 1e-4)
        self._prev_ref = np.zeros(block)
        self._mic_pending = np.zeros(0)
        self._ref_pending = np.zeros(0)
        self._fg_energy = 0.0
        self._bg_energy = 0.0
        self.blocks = 0
        self.copies = 0
        self.resets = 0

    def process(
        self, mic: npt.NDArray[np.floating], reference: npt.NDArray[np.floating]
    ) -> FloatArray:
        """Return the microphone signal with the echo of `reference` taken out.

        Output lags input by less than one block: samples are returned as whole blocks
        complete, so the output may be shorter or longer than this call's input.
        """
        self._mic_pending = np.concatenate([self._mic_pending, np.asarray(mic, np.float64)])
        self._ref_pending = np.concatenate([self._ref_pending, np.asarray(reference, np.float64)])
        out: list[FloatArray] = []
        while len(self._mic_pending) >= self.block and len(self._ref_pending) >= self.block:
            mic_block = self._mic_pending[: self.block]
            ref_block = self._ref_pending[: self.block]
            self._mic_pending = self._mic_pending[self.block :]
            self._ref_pending = self._ref_pending[self.block :]
            out.append(self._block(mic_block, ref_block))
        return np.concatenate(out) if out else np.zeros(0)

    def _filter(self, weights: npt.NDArray[np.complex128]) -> FloatArray:
        return np.fft.irfft((weights * self._spectra).sum(axis=0))[self.block :]

    def _block(self, mic: FloatArray, ref: FloatArray) -> FloatArray:
        self.blocks += 1
        spectrum = np.fft.rfft(np.concatenate([self._prev_ref, ref]))
        self._prev_ref = ref
        self._spectra = np.roll(self._spectra, 1, axis=0)
        self._spectra[0] = spectrum
        if not np.any(self._spectra):
            return mic.copy()  # nothing played lately: nothing to cancel or learn
        out = mic - self._filter(self._foreground)
        background_error = mic - self._filter(self._background)
        smoothing = 0.8
        self._fg_energy = smoothing * self._fg_energy + float(np.sum(out**2))
        self._bg_energy = smoothing * self._bg_energy + float(np.sum(background_error**2))
        if self._bg_energy < 0.7 * self._fg_energy:
            self._foreground = self._background.copy()
            self._fg_energy = self._bg_energy
            self.copies += 1
        elif self._bg_energy > 4.0 * self._fg_energy + 1e-6:
            self._background = self._foreground.copy()
            self._bg_energy = self._fg_energy
            self.resets += 1
        self._adapt(background_error, spectrum)
        return out

    def echo_return_loss_db(self, mic: FloatArray, cleaned: FloatArray) -> float:
        """How much quieter the output is than the input (ERLE), in dB."""
        n = min(len(mic), len(cleaned))
        if n == 0:
            return 0.0
        before = float(np.mean(np.asarray(mic[:n]) ** 2)) + _EPS
        after = float(np.mean(np.asarray(cleaned[:n]) ** 2)) + _EPS
        return float(10 * np.log10(before / after))

    def _adapt(self, error: FloatArray, spectrum: npt.NDArray[np.complex128]) -> None:
        block = self.block
        self._power = POWER_SMOOTHING * self._power + (1 - POWER_SMOOTHING) * np.abs(spectrum) ** 2
        regularized = self.partitions * self._power + 1e-2 * float(np.mean(self._power)) + _EPS
        error_spectrum = np.fft.rfft(np.concatenate([np.zeros(block), error]))
        gradient = np.conj(self._spectra) * (error_spectrum * (STEP / regularized))
        # the gradient constraint: keep each partition's filter causal and block-long
        taps = np.fft.irfft(gradient, axis=1)
        taps[:, block:] = 0.0
        self._background += np.fft.rfft(taps, axis=1)


class EchoCancelling(Protocol):
    """What the microphone listener and the simulation need from an echo canceller."""

    def process(
        self, mic: npt.NDArray[np.floating], reference: npt.NDArray[np.floating]
    ) -> FloatArray:
        """The microphone signal (floats in [-1, 1]) with the echo of `reference` taken out."""
        ...


ECHO_CANCELLERS: Final = ("webrtc", "nlms", "none")
"""The choices for `--echo-cancel` and `echo_cancel` in the config file."""
DEFAULT_ECHO_CANCEL: Final = "webrtc"

WEBRTC_FRAME: Final = 160
"""WebRTC's audio processing takes exactly 10 ms frames (160 samples at 16 kHz)."""


class WebRtcEchoCanceller:
    """WebRTC's echo canceller (AEC3) through livekit's `rtc.AudioProcessingModule`.

    Field-proven where the NLMS filter is hand-written: it finds the echo's delay itself,
    follows a changing echo path and suppresses what a linear filter leaves. Both signals go
    through in 10 ms frames, the reference first (`process_reverse_stream`), then the
    microphone (`process_stream`, changed in place). Output lags input by under 10 ms.
    """

    def __init__(
        self, *, high_pass: bool = True, noise_suppression: bool = False, direct: bool = True
    ) -> None:
        try:
            from livekit import rtc
        except ImportError as exc:  # an optional wheel missing on this machine
            raise FloorcoachError(
                "the WebRTC echo canceller needs the livekit package "
                "(pip install livekit); use --echo-cancel nlms meanwhile"
            ) from exc
        self._rtc = rtc
        self._apm = rtc.AudioProcessingModule(
            echo_cancellation=True,
            high_pass_filter=high_pass,
            noise_suppression=noise_suppression,
        )
        # The reference is already placed at the time it sounded: no extra delay to report.
        # WebRTC keeps the delay until it is set again, so once is enough.
        self._apm.set_stream_delay_ms(0)
        self._direct = DirectApmCalls.attach(self._apm, WEBRTC_FRAME, RATE_HZ) if direct else None
        """livekit's calls without their per-call Python overhead (webrtc_calls.py)."""
        self._mic_pending = np.zeros(0, dtype=np.int16)
        self._ref_pending = np.zeros(0, dtype=np.int16)
        self.frames = 0

    def process(
        self, mic: npt.NDArray[np.floating], reference: npt.NDArray[np.floating]
    ) -> FloatArray:
        """Return the microphone signal with the echo of `reference` taken out (10 ms steps)."""
        self._mic_pending = np.concatenate([self._mic_pending, _to_int16(mic)])
        self._ref_pending = np.concatenate([self._ref_pending, _to_int16(reference)])
        count = min(len(self._mic_pending), len(self._ref_pending)) // WEBRTC_FRAME
        out = np.empty(count * WEBRTC_FRAME, dtype=np.int16)
        direct = self._direct
        for i in range(count):
            span = slice(i * WEBRTC_FRAME, (i + 1) * WEBRTC_FRAME)
            if direct is not None:
                direct.far[:] = self._ref_pending[span]
                direct.reverse()
                direct.near[:] = self._mic_pending[span]
                direct.capture()
                out[span] = direct.near
                continue
            self._apm.process_reverse_stream(self._frame(self._ref_pending[span]))
            near = self._frame(self._mic_pending[span])
            self._apm.process_stream(near)
            out[span] = np.frombuffer(near.data, dtype=np.int16)
        done = count * WEBRTC_FRAME
        self._mic_pending = self._mic_pending[done:]
        self._ref_pending = self._ref_pending[done:]
        self.frames += count
        return out.astype(np.float64) / 32768.0

    def _frame(self, samples: npt.NDArray[np.int16]) -> Any:
        return self._rtc.AudioFrame(
            bytearray(samples.astype("<i2").tobytes()), RATE_HZ, 1, WEBRTC_FRAME
        )


class NoEchoCanceller:
    """Passes the microphone through untouched (`--echo-cancel none`)."""

    def process(
        self, mic: npt.NDArray[np.floating], reference: npt.NDArray[np.floating]
    ) -> FloatArray:
        """The microphone signal as it came."""
        return np.asarray(mic, dtype=np.float64)


def make_echo_canceller(kind: str) -> EchoCancelling:
    """The echo canceller called `kind` (one of ECHO_CANCELLERS).

    Raises ValueError naming the valid choices for an unknown kind, and FloorcoachError when
    the WebRTC one cannot load (livekit missing).
    """
    if kind == "webrtc":
        return WebRtcEchoCanceller()
    if kind == "nlms":
        return EchoCanceller()
    if kind == "none":
        return NoEchoCanceller()
    raise ValueError(f"unknown echo canceller {kind!r}; choose one of {', '.join(ECHO_CANCELLERS)}")


def _to_int16(samples: npt.NDArray[np.floating]) -> npt.NDArray[np.int16]:
    scaled = np.round(np.asarray(samples, dtype=np.float64) * 32768.0)
    return np.clip(scaled, -32768, 32767).astype(np.int16)
