"""Choosing and building the command recognizer: Vosk when an English model is found, else
pocketsphinx with the user's enrolled phrases.

Kept apart from the `CommandRecognizer` protocol so the protocol module imports no engine
(the engines import the protocol).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Final

from floorcoach.audio.listening.recognizer import ENGINES, CommandRecognizer
from floorcoach.errors import ModelNotFoundError, RecognizerError

_LOGGER: Final = logging.getLogger(__name__)


def make_recognizer(
    engine: str = "auto", model_path: Path | str | None = None, *, enrolled: bool = True
) -> CommandRecognizer:
    """Build an engine; auto is Vosk when an English model is found, else pocketsphinx.

    With `enrolled`, pocketsphinx also hears the user's enrolled phrases (`floorcoach
    enroll`, audio/listening/enrollment_store.py); benchmarks of the general model turn it off.
    """
    if engine not in ENGINES:
        raise RecognizerError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if engine == "pocketsphinx":
        return _sphinx(enrolled)
    if engine == "vosk":
        from floorcoach.audio.listening.vosk_recognizer import VoskRecognizer

        _enrollment_unused(enrolled)
        return VoskRecognizer(model_path=model_path)
    from floorcoach.audio.listening.vosk_models import find_vosk_model

    try:
        path = find_vosk_model(model_path)
    except ModelNotFoundError as exc:
        _LOGGER.info("no English Vosk model (%s); using pocketsphinx", exc)
        return _sphinx(enrolled)
    from floorcoach.audio.listening.vosk_recognizer import VoskRecognizer

    _enrollment_unused(enrolled)
    return VoskRecognizer(model_path=path)


def _sphinx(enrolled: bool) -> CommandRecognizer:
    from floorcoach.audio.listening.sphinx_recognizer import SphinxRecognizer

    recognizer = SphinxRecognizer()
    if enrolled:
        from floorcoach.audio.listening.enrollment_store import load_enrolled

        recognizer.set_enrollment(load_enrolled())
    return recognizer


def _enrollment_unused(enrolled: bool) -> None:
    """Enrolled phrases are compared on pocketsphinx's voice segments only: say so."""
    if not enrolled:
        return
    from floorcoach.audio.listening.enrollment_store import EnrollmentStore

    if EnrollmentStore().exists():
        _LOGGER.warning(
            "your enrolled phrases are used with the pocketsphinx engine only "
            '(--engine pocketsphinx, or engine = "pocketsphinx" in the settings file)'
        )
