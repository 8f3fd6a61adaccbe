"""Events into the session engine and effects out of it: the engine's whole vocabulary."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any

from floorcoach.commands import Intent


class Phase(StrEnum):
    """Where the session is; logged with every record."""

    WELCOME = "welcome"
    ANNOUNCE = "announce"
    INSTRUCT = "instruct"
    HOLD = "hold"
    REP = "rep"
    REST = "rest"
    SWITCH_SIDE = "switch_side"
    WALK = "walk"
    PAUSED = "paused"
    PAIN_CHECK = "pain_check"
    DONE = "done"


class CueKind(StrEnum):
    """Tones; values match the speaker's cue names."""

    START = "start"
    END = "end"
    BEAT = "beat"
    SWITCH = "switch"
    REST_OVER = "rest_over"


class Priority(IntEnum):
    """Higher interrupts lower when the lower one is interruptible."""

    CUE = 0
    INSTRUCTION = 1
    COUNT = 2
    RESPONSE = 3
    URGENT = 4


# ---------------------------------------------------------------- events


@dataclass(frozen=True)
class Start:
    """Begin the session at time t."""

    t: float


@dataclass(frozen=True)
class Tick:
    """Time has reached t (seconds on the session's monotonic clock)."""

    t: float


@dataclass(frozen=True)
class SpeechDone:
    """Utterance `utterance_id` finished (or was cut off) at t."""

    utterance_id: int
    t: float


class InputSource(StrEnum):
    """How words reached the player: a misheard word is possible only by voice."""

    VOICE = "voice"
    TYPED = "typed"


@dataclass(frozen=True)
class Heard:
    """The user said (or typed) something that means `intent`."""

    intent: Intent
    t: float
    text: str = ""
    source: InputSource = InputSource.TYPED
    """Voice: consequential commands can be undone, red flags are checked back first."""


@dataclass(frozen=True)
class Notice:
    """Something the user must be told that did not come from the routine (a lost device)."""

    text: str
    t: float


@dataclass(frozen=True)
class Unclear:
    """The user said something short that the recognizer could not place.

    Only words of command length, said while the player was silent (so neither its echo nor
    words torn by the echo canceller), are reported: an open question is asked again, since
    a missed answer is otherwise taken as moderate pain when the question times out.
    """

    t: float
    seconds: float = 0.0
    """How much speech the words held."""


Event = Start | Tick | SpeechDone | Heard | Notice | Unclear


# ---------------------------------------------------------------- effects


@dataclass(frozen=True)
class Say:
    """Speak `text`. Speech-paced steps wait for SpeechDone of this id."""

    text: str
    utterance_id: int
    priority: Priority = Priority.INSTRUCTION
    interruptible: bool = True


@dataclass(frozen=True)
class PlayCue:
    """Play a short tone."""

    cue: CueKind


@dataclass(frozen=True)
class StopSpeech:
    """Silence whatever is being said now and drop what is queued."""


@dataclass(frozen=True)
class ChangeSpeech:
    """New speech settings: rate in words per minute, volume 0..1."""

    rate_wpm: int
    volume: float


@dataclass(frozen=True)
class Log:
    """A structured record for the event log and the history."""

    record: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SessionEnded:
    """The session is over; `summary` says how it went."""

    summary: dict[str, Any]


Effect = Say | PlayCue | StopSpeech | ChangeSpeech | Log | SessionEnded
