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

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate_hz

    def expected_end(self) -> float:
        assert self.started_at is not None
        return self.started_at + self.seconds

    def played(self) -> Played:
        assert self.started_at is not None
        end = self.ended_at if self.ended_at is not None else self.expected_end()
        return Played(self.id, self.label, self.started_at, end, self.interrupted)
