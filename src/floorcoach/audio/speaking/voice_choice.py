"""The session's voice: the one asked for, or espeak-ng when a Piper voice fails (said once).

A session must never go silent because the optional neural voice broke: a Piper voice that
cannot load, or fails on a phrase mid-session, is replaced by espeak-ng for the rest of the
run, and the user is told once. Rate changes ("speak slower") build a new synthesizer
through the same factory, so a voice that failed is not tried again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from floorcoach.audio.pcm import Pcm
from floorcoach.audio.speaking.piper_voice import is_piper_voice
from floorcoach.audio.speaking.synth import (
    DEFAULT_BACKEND,
    DEFAULT_VOICE,
    Synthesizer,
    VoiceSettings,
    make_synthesizer,
)
from floorcoach.errors import FloorcoachError

_LOGGER = logging.getLogger(__name__)

FALLBACK_VOICE = DEFAULT_VOICE
FALLBACK_SPOKEN = "My natural voice stopped working, so I'll carry on in my basic voice."
"""Said once when a Piper voice fails: someone with eyes shut hears the voice change, and why."""


class VoiceFactory:
    """`factory(rate_wpm)` -> the synthesizer to use now; remembers a fallback for good."""

    def __init__(
        self,
        backend: str,
        voice: str,
        note: Callable[[str], None] | None = None,
        make: Callable[[str, str, int], Synthesizer] | None = None,
    ) -> None:
        self.backend = backend or DEFAULT_BACKEND
        self.voice = voice
        self._note = note
        self._make = make or (lambda backend, voice, rate: make_synthesizer(backend, voice, rate))
        self._lock = threading.Lock()
        self.fell_back: str | None = None
        """Why the asked-for voice was replaced, once it was."""

    def __call__(self, rate_wpm: int) -> Synthesizer:
        """Rendered at full volume: the voice output scales it, so "louder" is instant."""
        if self.fell_back is None and is_piper_voice(self.voice):
            try:
                primary = self._make(self.backend, self.voice, rate_wpm)
            except FloorcoachError as exc:
                self.fall_back(str(exc))
            else:
                return FallbackSynthesizer(primary, lambda: self._fallback(rate_wpm), self)
        voice = FALLBACK_VOICE if self.fell_back is not None else self.voice
        return self._make(self.backend, voice, rate_wpm)

    def _fallback(self, rate_wpm: int) -> Synthesizer:
        return self._make(self.backend, FALLBACK_VOICE, rate_wpm)

    def fall_back(self, reason: str) -> None:
        """Give up the asked-for voice for the rest of the run; tell the user the first time."""
        with self._lock:
            first = self.fell_back is None
            if first:
                self.fell_back = reason
        if first:
            message = (
                f"the voice {self.voice} failed ({reason}); carrying on with espeak-ng "
                f"({FALLBACK_VOICE})"
            )
            _LOGGER.warning("%s", message)
            if self._note is not None:
                self._note(message)


class FallbackSynthesizer:
    """The primary voice until it fails, then espeak-ng; `key` always names the one in use."""

    def __init__(
        self,
        primary: Synthesizer,
        make_fallback: Callable[[], Synthesizer],
        factory: VoiceFactory,
    ) -> None:
        self._primary = primary
        self._make_fallback = make_fallback
        self._fallback: Synthesizer | None = None
        self._factory = factory
        self._lock = threading.Lock()

    def _current(self) -> Synthesizer:
        if self._factory.fell_back is None:
            return self._primary
        with self._lock:
            if self._fallback is None:
                self._fallback = self._make_fallback()
            return self._fallback

    @property
    def settings(self) -> VoiceSettings:
        """The settings of the voice in use."""
        return self._current().settings

    @property
    def key(self) -> str:
        """The cache key of the voice in use (espeak-ng audio never lands under Piper's key)."""
        return self._current().key

    def render(self, text: str) -> Pcm:
        """The primary voice's audio; on its failure, espeak-ng's from now on."""
        if self._factory.fell_back is None:
            try:
                return self._primary.render(text)
            except Exception as exc:  # any failure of the optional voice: keep talking
                self._factory.fall_back(str(exc) or type(exc).__name__)
        return self._current().render(text)
