"""One protocol for the command recognizers, so the listener and tests need not know the engine."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Final, Literal, Protocol

import numpy as np
import numpy.typing as npt

from floorcoach.commands import Command, Intent, ListenContext

_LOGGER = logging.getLogger(__name__)

__all__ = ["ENGINES", "CommandRecognizer", "Heard", "ListenContext"]

EngineName = Literal["auto", "pocketsphinx", "vosk"]
SAFETY_COMMANDS: Final = frozenset({Command.STOP, Command.PAIN})


def is_safety(intent: Intent) -> bool:
    """Whether an engine's `safety_*` thresholds apply: stop, pain, and every red flag."""
    return intent.red_flag is not None or intent.command in SAFETY_COMMANDS


def is_number(intent: Intent | None) -> bool:
    """Whether an intent is a bare number (an answer to "how bad is it?")."""
    return intent is not None and intent.command is None and intent.number is not None


ENGINES: Final[tuple[str, ...]] = ("auto", "pocketsphinx", "vosk")


@dataclass(frozen=True)
class Heard:
    """A command understood in the audio stream (times in seconds from the stream start)."""

    intent: Intent
    text: str
    start: float
    end: float
    confidence: float
    engine: str

    def as_json(self) -> dict[str, object]:
        """The public JSON shape of `floorcoach recognize --json`."""
        return {
            "command": self.intent.value,
            "text": self.text,
            "start": round(self.start, 2),
            "end": round(self.end, 2),
            "confidence": round(self.confidence, 2),
            "engine": self.engine,
        }


class CommandRecognizer(Protocol):
    """Streaming recognizer: 16 kHz mono int16 chunks of any size in, commands out."""

    engine: str
    description: str
    """One line for the start-up banner: engine and model in use."""

    def accept(self, samples: npt.NDArray[np.int16]) -> list[Heard]:
        """Consume a chunk; return commands whose speech ended inside it."""
        ...

    def flush(self) -> list[Heard]:
        """End of stream: return commands still pending."""
        ...

    def reset(self) -> None:
        """Start a new stream at time zero (the listening context is kept)."""
        ...

    @property
    def context(self) -> ListenContext:
        """What the recognizer listens for now."""
        ...

    def set_context(self, context: ListenContext) -> None:
        """Listen for this context's phrases from the next utterance on.

        Cheap (no model or grammar work) and safe to call from any thread while another
        thread feeds audio; safety phrases (pause, stop, pain, red flags) are in every context.
        """
        ...
