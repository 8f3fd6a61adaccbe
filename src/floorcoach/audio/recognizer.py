"""One protocol for the command recognizers, so the listener and tests need not know the engine."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal, Protocol

import numpy as np
import numpy.typing as npt

from floorcoach.commands import Intent, ListenContext
from floorcoach.errors import ModelNotFoundError, RecognizerError

_LOGGER = logging.getLogger(__name__)

__all__ = ["ENGINES", "CommandRecognizer", "Heard", "ListenContext", "make_recognizer"]

EngineName = Literal["auto", "pocketsphinx", "vosk"]
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


def make_recognizer(
    engine: str = "auto", model_path: Path | str | None = None, *, enrolled: bool = True
) -> CommandRecognizer:
    """Build an engine; auto is Vosk when an English model is found, else pocketsphinx.

    With `enrolled`, pocketsphinx also hears the user's enrolled phrases (`floorcoach
    enroll`, audio/enrollment_store.py); benchmarks of the general model turn it off.
    """
    if engine not in ENGINES:
        raise RecognizerError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if engine == "pocketsphinx":
        return _sphinx(enrolled)
    if engine == "vosk":
        from floorcoach.audio.vosk_recognizer import VoskRecognizer

        _enrollment_unused(enrolled)
        return VoskRecognizer(model_path=model_path)
    from floorcoach.models import find_vosk_model

    try:
        path = find_vosk_model(model_path)
    except ModelNotFoundError as exc:
        _LOGGER.info("no English Vosk model (%s); using pocketsphinx", exc)
        return _sphinx(enrolled)
    from floorcoach.audio.vosk_recognizer import VoskRecognizer

    _enrollment_unused(enrolled)
    return VoskRecognizer(model_path=path)


def _sphinx(enrolled: bool) -> CommandRecognizer:
    from floorcoach.audio.sphinx_recognizer import SphinxRecognizer

    recognizer = SphinxRecognizer()
    if enrolled:
        from floorcoach.audio.enrollment_store import load_enrolled

        recognizer.set_enrollment(load_enrolled())
    return recognizer


def _enrollment_unused(enrolled: bool) -> None:
    """Enrolled phrases are compared on pocketsphinx's voice segments only: say so."""
    if not enrolled:
        return
    from floorcoach.audio.enrollment_store import EnrollmentStore

    if EnrollmentStore().exists():
        _LOGGER.warning(
            "your enrolled phrases are used with the pocketsphinx engine only "
            '(--engine pocketsphinx, or engine = "pocketsphinx" in the settings file)'
        )
