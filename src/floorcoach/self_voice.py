"""Not hearing itself: what the microphone picks up while the player speaks is judged here.

The player knows exactly what it is saying and when (the speaker reports when sound left
it), so a command recognized over its own voice is dropped when its words are the player's
own, and otherwise only barge-in commands (pause, stop, that hurts, red flags) are taken
while it speaks, with a stricter confidence. One gate serves the live listener (monotonic
seconds) and the audio-clock simulation (session seconds): only the time base differs.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from floorcoach.commands import Command, Intent

BARGE_IN: Final = frozenset({Command.PAUSE, Command.STOP, Command.PAIN})
"""Commands that must get through while the player is talking."""
TAIL_SECONDS: Final = 0.35
"""Room echo and recognizer segment edges: speech ending this soon after still counts."""
KEEP_SECONDS: Final = 30.0


@dataclass(frozen=True)
class PlayerSpeech:
    """The player sounded `text` between `start` and `end` (in the gate's time base)."""

    start: float
    end: float
    text: str


def _words(text: str) -> set[str]:
    return set(re.sub(r"[^a-z0-9' ]+", " ", text.lower()).replace("'", "").split())


class EchoGate:
    """Decides whether something heard is the user or the player's own voice."""

    def __init__(
        self,
        source: Callable[[], list[PlayerSpeech]] | None = None,
        *,
        tail_seconds: float = TAIL_SECONDS,
        barge_in_min_confidence: float = 0.0,
    ) -> None:
        self._source = source
        self._tail = tail_seconds
        self._min_confidence = barge_in_min_confidence
        self._noted: list[PlayerSpeech] = []
        self._lock = threading.Lock()
        self.ignored = 0

    def note(self, start: float, end: float, text: str) -> None:
        """The player will sound `text` from start to end."""
        with self._lock:
            self._noted = [p for p in self._noted if p.end > start - KEEP_SECONDS]
            self._noted.append(PlayerSpeech(start, end, text))

    def cut(self, at: float) -> None:
        """Everything the player was saying stopped at `at`."""
        with self._lock:
            self._noted = [
                PlayerSpeech(p.start, min(p.end, at), p.text) for p in self._noted if p.start < at
            ]

    def _speech(self) -> list[PlayerSpeech]:
        with self._lock:
            noted = list(self._noted)
        return noted + (self._source() if self._source is not None else [])

    def verdict(
        self, start: float, end: float, intent: Intent, text: str, confidence: float = 1.0
    ) -> str | None:
        """Why this should be ignored as the player's own voice, or None to accept it."""
        overlapping = [p for p in self._speech() if start < p.end + self._tail and end > p.start]
        if not overlapping:
            return None
        spoken: set[str] = set()
        for speech in overlapping:
            spoken |= _words(speech.text)
        reason: str | None = None
        if _words(text) <= spoken:
            reason = "the player's own words"
        elif intent.command not in BARGE_IN and intent.red_flag is None:
            reason = "only pause, stop, pain and red flags are taken while the player speaks"
        elif confidence < self._min_confidence:
            reason = "too unsure over the player's voice"
        if reason is not None:
            self.ignored += 1
        return reason
