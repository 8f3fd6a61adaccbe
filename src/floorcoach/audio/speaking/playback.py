"""The record of one sound given to a speaker, from queued to ended.

Both speakers keep one per `play()`: `DeviceSpeaker` fills in when it really started and
ended from the audio callback, `FileSpeaker` from its timeline. `Playing` and `Played` are
the read-only views handed out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from floorcoach.audio.speaking.speaker import DoneCallback, Played

_NO_SAMPLES: npt.NDArray[np.float32] = np.zeros(0, dtype=np.float32)


@dataclass(eq=False)
class Playback:
    """A queued, sounding or ended playback; mutated only under its speaker's lock."""

    id: int
    label: str
    samples: npt.NDArray[np.float32]
    rate_hz: int
    at: float | None
    on_done: DoneCallback | None
    pos: int = 0
    started_at: float | None = None
    ended_at: float | None = None
    interrupted: bool = False
    notified: bool = field(default=False)
    reference: npt.NDArray[np.float32] | None = None
    """The same sound at 16 kHz as it was given (before resampling to the device)."""
    frames: int = field(init=False)
    """How long it is, in device frames; kept when the samples are released."""

    def __post_init__(self) -> None:
        self.frames = len(self.samples)

    @property
    def seconds(self) -> float:
        return self.frames / self.rate_hz

    def release(self) -> None:
        """Let go of the audio of a playback long over; its record (times, label) stays.

        A speaker keeps its last 64 playbacks for `history()`; with their audio (device-rate
        float32 plus the 16 kHz reference, 240 kB per second at 44.1 kHz) that was up to
        30 MB for nothing (issue 19).
        """
        self.samples = _NO_SAMPLES
        self.reference = None

    def expected_end(self) -> float:
        assert self.started_at is not None
        return self.started_at + self.seconds

    def played(self) -> Played:
        assert self.started_at is not None
        end = self.ended_at if self.ended_at is not None else self.expected_end()
        return Played(self.id, self.label, self.started_at, end, self.interrupted)
