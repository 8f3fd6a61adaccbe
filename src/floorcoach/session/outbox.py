"""The effects gathered while one event is handled.

The engine and its units (pain dialogue, red-flag check, commands) all speak, play cues and
log through one outbox, so utterance ids stay in sequence and every log record is stamped
the same way (time, kind, phase, exercise) whoever wrote it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from floorcoach.session.events import CueKind, Effect, Log, PlayCue, Priority, Say, StopSpeech

Stamp = Callable[[], tuple[float, str, str | None]]
"""The time, phase and exercise id (None: between exercises) a log record is stamped with."""


class Outbox:
    """Collects effects in order; `take` hands them over and starts afresh."""

    def __init__(self, stamp: Stamp) -> None:
        self._stamp = stamp
        self._effects: list[Effect] = []
        self._next_id = 1
        self.last_response: tuple[int, str] | None = None
        """The id and text of the last answer said (a RESPONSE or URGENT line)."""

    def take(self) -> list[Effect]:
        """The effects gathered since the last take."""
        effects, self._effects = self._effects, []
        return effects

    def add(self, effect: Effect) -> None:
        self._effects.append(effect)

    def say(
        self, text: str, priority: Priority = Priority.INSTRUCTION, *, interruptible: bool = False
    ) -> int:
        """Say text; returns the utterance id its SpeechDone will carry."""
        ident = self._next_id
        self._next_id += 1
        self._effects.append(Say(text, ident, priority, interruptible))
        if priority >= Priority.RESPONSE:
            self.last_response = (ident, text)
        return ident

    def respond(self, text: str) -> None:
        """Answer the user: cut what is being said, say the answer at once."""
        self._effects.append(StopSpeech())
        self.say(text, Priority.RESPONSE)

    def stop_speech(self) -> None:
        self._effects.append(StopSpeech())

    def cue(self, cue: CueKind) -> None:
        self._effects.append(PlayCue(cue))

    def log(self, kind: str, **fields: Any) -> None:
        now, phase, exercise = self._stamp()
        record: dict[str, Any] = {"t": round(now, 3), "kind": kind, "phase": phase}
        if exercise:
            record["exercise"] = exercise
        record.update(fields)
        self._effects.append(Log(record))
