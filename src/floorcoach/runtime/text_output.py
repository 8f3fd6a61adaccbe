"""Speech as printed lines: text mode, screen readers, and machines with no speaker."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import IO

from floorcoach.session.counting import estimate_speech_seconds
from floorcoach.session.events import CueKind, Say, SpeechDone
from floorcoach.session.simulate import SimulatedSpeaker


class PrintedSpeech:
    """Prints what would be said; "finishes" each line after the time it would take to say.

    Pacing printed speech like real speech keeps text mode's timing the same as a voice's.
    """

    def __init__(
        self,
        stream: IO[str] | None = None,
        *,
        rate_wpm: int = 150,
        stamp: Callable[[float], str] | None = None,
    ) -> None:
        self._stream = stream or sys.stdout
        self._rate_wpm = rate_wpm
        self._stamp = stamp or _clock
        self._speaker = SimulatedSpeaker(self._duration)

    def _duration(self, text: str) -> float:
        return estimate_speech_seconds(text, self._rate_wpm)

    def _print(self, now: float, text: str) -> None:
        try:
            print(f"[{self._stamp(now)}] {text}", file=self._stream, flush=True)
        except (BrokenPipeError, ValueError):
            pass  # the reader went away; the session itself goes on

    def say(self, say: Say, now: float) -> None:
        """Print now and pace it as speech."""
        self._print(now, say.text)
        self._speaker.say(say, now)

    def cue(self, cue: CueKind, now: float) -> None:
        """Show a tone as a word."""
        self._print(now, f"(tone: {cue.value.replace('_', ' ')})")

    def stop(self, now: float) -> None:
        """Cut the current line short."""
        self._speaker.stop(now)

    def change(self, rate_wpm: int, volume: float) -> None:
        """Follow the speech rate so pacing stays like a voice's."""
        self._rate_wpm = rate_wpm

    def next_deadline(self) -> float | None:
        """When the current line will have been 'said'."""
        return self._speaker.next_end()

    def poll(self, now: float) -> list[SpeechDone]:
        """Lines finished by now."""
        self._speaker.advance(now)
        done, self._speaker.done = self._speaker.done, []
        return done

    def busy(self) -> bool:
        """Whether a line is still being 'said'."""
        return self._speaker.current is not None or bool(self._speaker.queue)

    def close(self) -> None:
        """Nothing to release."""


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(max(0.0, seconds)), 60)
    return f"{minutes:2d}:{secs:02d}"
