"""What every speaker promises: play, stop, and always know what it is saying.

The listener uses `now_playing()` and `history()` to ignore the player's own voice, so every
start and end time is the estimated moment the sound leaves the speaker (monotonic seconds for
`DeviceSpeaker`, virtual-timeline seconds for `FileSpeaker`). Kept apart from both
implementations so code that only talks to a speaker imports neither PortAudio nor a timeline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Protocol, runtime_checkable

from floorcoach.audio.pcm import Pcm

END_PADDING_SECONDS: Final = 0.2
"""Silence after the last sound: played before closing a device (PortAudio drops about the
last `latency` seconds on stop), and written at the end of a WAV."""

DoneCallback = Callable[[int, bool], None]
"""on_done(playback_id, interrupted): from a notifier thread, never the audio callback."""


@dataclass(frozen=True)
class Playing:
    """What the speaker is sounding now: `started_at` and `expected_end` on its clock."""

    id: int
    label: str
    started_at: float
    expected_end: float


@dataclass(frozen=True)
class Played:
    """One playback that reached the speaker, with when it really started and ended."""

    id: int
    label: str
    started_at: float
    ended_at: float
    interrupted: bool


@runtime_checkable
class Speaker(Protocol):
    """Where rendered speech and cue tones go."""

    def play(
        self,
        pcm: Pcm,
        label: str,
        on_done: DoneCallback | None = None,
        at: float | None = None,
    ) -> int: ...

    def stop(self) -> None: ...

    def now_playing(self) -> Playing | None: ...

    def history(self) -> list[Played]: ...

    def close(self) -> None: ...
