"""Energy voice-activity detection with an adaptive noise floor, shared by every recognizer.

A command is short and spoken into a room whose noise changes (fans, traffic, the player's
own voice), so speech is "clearly louder than the recent floor", not "louder than X dBFS".
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from floorcoach.audio.pcm import RATE_HZ

_LOGGER = logging.getLogger(__name__)

FRAME_SAMPLES: Final = 160
"""10 ms frames at 16 kHz: fine enough for word edges, cheap enough for a Pi."""
FRAME_SECONDS: Final = FRAME_SAMPLES / RATE_HZ

_MIN_LEVEL_DB: Final = -90.0
"""Digital silence is clamped here so the floor never reaches minus infinity."""
_BLOCK_FRAMES: Final = 10
"""Levels are averaged over 100 ms blocks for the windowed minimum."""
_MIN_BLOCKS_FOR_WINDOW: Final = 5
_WARMUP_FRAMES: Final = 20
"""The first 200 ms only measure the room."""
_FLOOR_MIN_DB: Final = -65.0
"""The floor never goes below this: hiss from a quiet USB mic must not count as speech."""


@dataclass(frozen=True)
class VadConfig:
    """Thresholds of the energy VAD (decibels above the adaptive noise floor)."""

    start_db: float = 9.0
    continue_db: float = 5.0
    min_speech_seconds: float = 0.08
    hangover_seconds: float = 0.30
    pre_roll_seconds: float = 0.20
    max_segment_seconds: float = 2.0
    floor_rise_per_second_db: float = 2.0
    floor_rise_in_speech_per_second_db: float = 0.3
    floor_fall_fraction: float = 0.2
    min_window_seconds: float = 3.0
    """The floor is never below the quietest 100 ms of this window: steady noise is not speech."""
    early_seconds: float = 0.0
    """After this much silence inside an open segment (0: never), the segment so far is offered
    to `EnergyVad`'s `on_early` callback: a command that is already clear can act then instead
    of after the whole hangover (issue 15: 250 ms from the end of the word to the action)."""


@dataclass(frozen=True)
class Segment:
    """One stretch of speech: voiced bounds in stream seconds and the padded samples.

    `samples` starts at `padded_start_seconds` and includes pre-roll and hangover, so a
    decoder sees some noise on both sides. An overlong segment (more speech than
    `max_segment_seconds`) keeps only its first samples: it is never a command.
    """

    start_seconds: float
    end_seconds: float
    padded_start_seconds: float
    samples: npt.NDArray[np.int16]
    overlong: bool
    floor_db: float

    @property
    def speech_seconds(self) -> float:
        """Time from the first to the last voiced frame."""
        return self.end_seconds - self.start_seconds


def level_db(frame: npt.NDArray[np.int16]) -> float:
    """RMS level of a frame in dBFS, DC removed."""
    if len(frame) == 0:
        return _MIN_LEVEL_DB
    return frame_levels_db(np.asarray(frame).reshape(1, -1))[0]


def frame_levels_db(frames: npt.NDArray[np.int16]) -> list[float]:
    """`level_db` of each row of a 2-D block of frames, in one pass.

    Why one pass: the detector sees every 10 ms frame for as long as the player listens, and
    a NumPy `mean` per frame costs far more in Python dispatch than in arithmetic (issue 19).
    The same operations in the same order as one frame at a time, so the same bits.
    """
    n = frames.shape[1]
    x = frames.astype(np.float64)
    x -= x.sum(axis=1, keepdims=True) / n
    powers = ((x * x).sum(axis=1) / n / (32768.0 * 32768.0)).tolist()
    return [max(_MIN_LEVEL_DB, 10.0 * math.log10(power + 1e-20)) for power in powers]


EarlyDecision = Callable[[Segment], bool]
"""Offered the segment so far after `VadConfig.early_seconds` of silence; True ends it there."""


class EnergyVad:
    """Streaming speech segmenter: feed any chunk size, get finished segments.

    With `on_early` and `VadConfig.early_seconds`, an open segment is offered early once its
    speech has paused that long; when the callback takes it, the segment ends at that point
    and is not returned again.
    """

    def __init__(self, config: VadConfig | None = None, on_early: EarlyDecision | None = None):
        self.config = config or VadConfig()
        c = self.config
        self._on_early = on_early if c.early_seconds > 0 else None
        self._early_frames = max(1, round(c.early_seconds / FRAME_SECONDS))
        self._hangover_frames = max(1, round(c.hangover_seconds / FRAME_SECONDS))
        self._min_speech_frames = max(1, round(c.min_speech_seconds / FRAME_SECONDS))
        self._max_frames = max(1, round(c.max_segment_seconds / FRAME_SECONDS))
        self._pre_roll: deque[npt.NDArray[np.int16]] = deque(
            maxlen=max(1, round(c.pre_roll_seconds / FRAME_SECONDS))
        )
        self._rise_db = c.floor_rise_per_second_db * FRAME_SECONDS
        self._rise_speech_db = c.floor_rise_in_speech_per_second_db * FRAME_SECONDS
        self._block_minima: deque[float] = deque(
            maxlen=max(1, round(c.min_window_seconds / (_BLOCK_FRAMES * FRAME_SECONDS)))
        )
        self.reset()

    def reset(self) -> None:
        """Forget all audio and the noise floor; the next sample is time zero."""
        self._pending = np.zeros(0, dtype=np.int16)
        self._frame_index = 0
        self.floor_db: float | None = None
        self._pre_roll.clear()
        self._in_speech = False
        self._frames: list[npt.NDArray[np.int16]] = []
        self._seg_first_frame = 0
        self._first_voiced = 0
        self._last_voiced = 0
        self._voiced_count = 0
        self._silence_run = 0
        self._overlong = False
        self._block_minima.clear()
        self._warmup_left = _WARMUP_FRAMES
        self._block_sum_db = 0.0
        self._block_count = 0

    @property
    def in_speech(self) -> bool:
        """True while a segment is open."""
        return self._in_speech

    @property
    def stream_seconds(self) -> float:
        """Seconds of audio consumed so far (whole frames)."""
        return self._frame_index * FRAME_SECONDS

    def accept(self, samples: npt.NDArray[np.int16]) -> list[Segment]:
        """Consume samples; return the segments that ended inside them."""
        data = np.asarray(samples, dtype=np.int16).reshape(-1)
        if len(self._pending):
            data = np.concatenate([self._pending, data])
        n_frames = len(data) // FRAME_SAMPLES
        self._pending = data[n_frames * FRAME_SAMPLES :].copy()
        if n_frames == 0:
            return []
        # one private copy of the whole block: the frames kept below are views into it
        frames = data[: n_frames * FRAME_SAMPLES].reshape(n_frames, FRAME_SAMPLES).copy()
        levels = frame_levels_db(frames)
        out: list[Segment] = []
        for i in range(n_frames):
            seg = self._frame(frames[i], levels[i])
            if seg is not None:
                out.append(seg)
        return out

    def flush(self) -> list[Segment]:
        """End of stream: close an open segment (padding the last partial frame)."""
        out: list[Segment] = []
        if len(self._pending):
            frame = np.zeros(FRAME_SAMPLES, dtype=np.int16)
            frame[: len(self._pending)] = self._pending
            self._pending = np.zeros(0, dtype=np.int16)
            seg = self._frame(frame, level_db(frame))
            if seg is not None:
                out.append(seg)
        if self._in_speech:
            seg = self._close()
            if seg is not None:
                out.append(seg)
        return out

    def _frame(self, frame: npt.NDArray[np.int16], level: float) -> Segment | None:
        """One 10 ms frame (never changed afterwards: kept without copying) and its level."""
        c = self.config
        if level <= _MIN_LEVEL_DB and not self._in_speech:
            # Exact digital silence (a stream's zero-filled start, a dropout) says nothing
            # about the room's noise: it neither opens speech nor moves the floor.
            self._frame_index += 1
            self._pre_roll.append(frame)
            return None
        if self.floor_db is None:
            self.floor_db = max(level, _FLOOR_MIN_DB)
        index = self._frame_index
        self._frame_index += 1
        self._track_window(level)
        if self._warmup_left > 0:
            # The first frames set the floor; a click as a stream opens is not speech.
            self._warmup_left -= 1
            self.floor_db = max(self.floor_db + 0.3 * (level - self.floor_db), _FLOOR_MIN_DB)
            self._pre_roll.append(frame)
            return None
        floor = self.floor_db
        result: Segment | None = None
        if not self._in_speech:
            if level > floor + c.start_db:
                self._open(index, frame)
            else:
                self._pre_roll.append(frame)
                self._track_floor(level, self._rise_db)
        else:
            voiced = level > floor + c.continue_db
            self._track_floor(level, self._rise_speech_db)
            if not self._overlong:
                self._frames.append(frame)
            if voiced:
                self._last_voiced = index
                self._voiced_count += 1
                self._silence_run = 0
                if index - self._first_voiced + 1 > self._max_frames and not self._overlong:
                    self._overlong = True
            else:
                self._silence_run += 1
                if self._silence_run >= self._hangover_frames:
                    result = self._close()
                elif self._silence_run == self._early_frames and self._offer_early():
                    return None
        return result

    def _offer_early(self) -> bool:
        """Offer the segment so far to `on_early`; True when it was taken (and so ended)."""
        if self._on_early is None or self._overlong or self._voiced_count < self._min_speech_frames:
            return False
        if not self._on_early(self._segment(self._frames)):
            return False
        # Ended here: the silence after the words is the next segment's pre-roll.
        self._in_speech = False
        silence, self._frames = self._frames[-self._silence_run :], []
        self._pre_roll.clear()
        self._pre_roll.extend(silence)
        return True

    def _track_floor(self, level: float, rise_db: float) -> None:
        assert self.floor_db is not None
        if level < self.floor_db:
            self.floor_db += self.config.floor_fall_fraction * (level - self.floor_db)
        else:
            self.floor_db += min(rise_db, level - self.floor_db)
        self.floor_db = max(self.floor_db, _FLOOR_MIN_DB)

    def _track_window(self, level: float) -> None:
        self._block_sum_db += level
        self._block_count += 1
        if self._block_count < _BLOCK_FRAMES:
            return
        self._block_minima.append(self._block_sum_db / self._block_count)
        self._block_sum_db = 0.0
        self._block_count = 0
        # Half a second is enough to trust: a stream that starts with digital silence
        # (PulseAudio does) must not leave the floor far below the room's noise.
        if len(self._block_minima) >= _MIN_BLOCKS_FOR_WINDOW:
            assert self.floor_db is not None
            self.floor_db = max(self.floor_db, min(self._block_minima))

    def _open(self, index: int, frame: npt.NDArray[np.int16]) -> None:
        self._in_speech = True
        self._frames = list(self._pre_roll)
        self._pre_roll.clear()
        self._seg_first_frame = index - len(self._frames)
        self._frames.append(frame)
        self._first_voiced = index
        self._last_voiced = index
        self._voiced_count = 1
        self._silence_run = 0
        self._overlong = False

    def _close(self) -> Segment | None:
        self._in_speech = False
        frames, self._frames = self._frames, []
        if self._voiced_count < self._min_speech_frames:
            # A click or a bump: keep its frames as noise context for the next onset.
            for frame in frames[-(self._pre_roll.maxlen or 1) :]:
                self._pre_roll.append(frame)
            return None
        return self._segment(frames)

    def _segment(self, frames: list[npt.NDArray[np.int16]]) -> Segment:
        """The open segment's bounds with these frames as its samples."""
        samples = np.concatenate(frames) if frames else np.zeros(0, dtype=np.int16)
        assert self.floor_db is not None
        return Segment(
            start_seconds=self._first_voiced * FRAME_SECONDS,
            end_seconds=(self._last_voiced + 1) * FRAME_SECONDS,
            padded_start_seconds=self._seg_first_frame * FRAME_SECONDS,
            samples=samples,
            overlong=self._overlong,
            floor_db=self.floor_db,
        )


def segment_all(samples: npt.NDArray[np.int16], config: VadConfig | None = None) -> list[Segment]:
    """All segments of a whole recording (a convenience for tests and tools)."""
    vad = EnergyVad(config)
    return vad.accept(samples) + vad.flush()


def wiener_denoise(
    samples: npt.NDArray[np.int16],
    noise_seconds: tuple[float, float] = (0.2, 0.25),
    gain_floor: float = 0.1,
    smoothing: float = 0.98,
) -> npt.NDArray[np.int16]:
    """Decision-directed Wiener filter for one padded segment.

    The noise spectrum comes from the segment's own edges (pre-roll at the start, hangover
    at the end), which the VAD guarantees are not speech; measured to cut false commands.
    """
    n_fft, hop = 512, 128
    x = samples.astype(np.float64)
    if len(x) < n_fft * 2:
        return samples
    window = np.sqrt(np.hanning(n_fft + 1)[:n_fft])
    pad = np.concatenate([np.zeros(n_fft), x, np.zeros(n_fft)])
    n_frames = (len(pad) - n_fft) // hop + 1
    idx = np.arange(n_fft)[None, :] + hop * np.arange(n_frames)[:, None]
    spec = np.fft.rfft(pad[idx] * window, axis=1)
    power = np.abs(spec) ** 2
    head = max(1, int(noise_seconds[0] * RATE_HZ / hop))
    tail = max(1, int(noise_seconds[1] * RATE_HZ / hop))
    edge_frames = n_fft // hop
    noise_rows = np.concatenate(
        [power[edge_frames : edge_frames + head], power[-edge_frames - tail : -edge_frames]]
    )
    noise = np.maximum(noise_rows.mean(axis=0), 1e-10)
    gains = np.empty_like(power)
    prev = np.ones(power.shape[1])
    for i in range(n_frames):
        gamma = power[i] / noise
        xi = smoothing * prev + (1 - smoothing) * np.maximum(gamma - 1.0, 0.0)
        gain = np.maximum(xi / (1.0 + xi), gain_floor)
        gains[i] = gain
        prev = (gain * gain) * gamma
    frames = np.fft.irfft(spec * gains, n_fft, axis=1) * window
    out = np.zeros(len(pad))
    norm = np.zeros(len(pad))
    for i in range(n_frames):
        out[i * hop : i * hop + n_fft] += frames[i]
        norm[i * hop : i * hop + n_fft] += window * window
    out = out / np.maximum(norm, 1e-8)
    y = out[n_fft : n_fft + len(x)]
    return np.clip(np.round(y), -32768, 32767).astype(np.int16)
