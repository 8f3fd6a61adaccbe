"""Speech out loud: the engine's Say and PlayCue effects rendered and played on a speaker."""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final, TextIO

import numpy as np

from floorcoach.audio.pcm import Pcm
from floorcoach.audio.speaking.cues import render_cue
from floorcoach.audio.speaking.speaker import Speaker
from floorcoach.audio.speaking.speech_cache import CachedSynthesizer
from floorcoach.audio.speaking.synth import Synthesizer
from floorcoach.errors import FloorcoachError
from floorcoach.session.events import CueKind, Say, SpeechDone

_LOGGER = logging.getLogger(__name__)

AUDIO_KEPT: Final = 64
FIRST_PHRASES: Final = 4
"""Rendered before the session starts, so the first words come within a second or two."""


def should_cut(current: Say | None, new: Say) -> bool:
    """The one queueing policy: cut the current utterance, or let the new one wait?"""
    if current is None:
        return False
    return current.interruptible or new.priority > current.priority


@dataclass
class _Sounding:
    say: Say
    playback_id: int


class VoiceOutput:
    """Renders text (cached), plays it on one open speaker, reports when each line ends.

    SpeechDone events are posted from the speaker's notifier thread through `post`, with
    the session clock's time, so the engine waits exactly as long as the voice speaks.
    """

    def __init__(
        self,
        synth: CachedSynthesizer,
        speaker: Speaker,
        post: Callable[[SpeechDone], None],
        clock: Callable[[], float],
        *,
        make_synth: Callable[[int], Synthesizer] | None = None,
        on_lost: Callable[[str], None] | None = None,
    ) -> None:
        self._synth = synth
        self._speaker = speaker
        self._post = post
        self._clock = clock
        self._make_synth = make_synth
        self._on_lost = on_lost
        self._volume = 1.0
        self._lock = threading.Lock()
        self._sounding: dict[int, Say] = {}
        self._order: list[int] = []
        self._audio: dict[int, Pcm] = {}
        """What each recent playback sounded like, for the echo gate (bounded)."""
        self.lost: str | None = None

    # ------------------------------------------------------------ preparing

    def prerender(
        self, texts: Iterable[str], *, background: bool = True
    ) -> threading.Thread | None:
        """Render the first phrases now and the rest on a background thread."""
        phrases = list(dict.fromkeys(texts))
        self._synth.prerender(phrases[:FIRST_PHRASES])
        rest = phrases[FIRST_PHRASES:]
        if not background:
            self._synth.prerender(rest)
            return None
        thread = threading.Thread(
            target=self._prerender_quietly, args=(rest,), name="floorcoach-prerender", daemon=True
        )
        thread.start()
        return thread

    def warm(self, texts: Iterable[str], stream: TextIO | None = None) -> int:
        """Render every phrase not yet cached, now, with a progress bar; returns how many.

        For a slow voice (Piper on a Raspberry Pi may need minutes for a new routine): the
        whole routine is in the cache before the first exercise, so nothing waits mid-count.
        """
        missing = self._synth.missing(texts)
        if missing:
            self._synth.prerender(missing, RenderProgress(stream or sys.stderr, len(missing)))
        return len(missing)

    def _prerender_quietly(self, texts: list[str]) -> None:
        try:
            self._synth.prerender(texts)
        except FloorcoachError as exc:  # the session renders on demand instead
            _LOGGER.warning("pre-rendering stopped: %s", exc)

    # ------------------------------------------------------------ SpeechOutput

    def say(self, say: Say, now: float) -> None:
        """Render and play, cutting or queueing behind what is sounding per `should_cut`."""
        if self.lost is not None:
            self._post(SpeechDone(say.utterance_id, now))
            return
        current = self._current()
        if should_cut(current, say):
            self._speaker.stop()
        try:
            pcm = self._scaled(self._synth.render(say.text))
        except FloorcoachError as exc:  # the voice failed: the session goes on in text
            self._lose(str(exc))
            self._post(SpeechDone(say.utterance_id, now))
            return
        self._play(pcm, say, say.text)

    def cue(self, cue: CueKind, now: float) -> None:
        """Play a tone (queued behind speech already sounding)."""
        if self.lost is not None:
            return
        self._play(self._scaled(render_cue(cue.value)), None, f"cue:{cue.value}")

    def stop(self, now: float) -> None:
        """Silence at once; the speaker reports every cut line as done."""
        if self.lost is None:
            self._speaker.stop()

    def change(self, rate_wpm: int, volume: float) -> None:
        """New rate (a new synthesizer over the same cache) and volume (applied to samples)."""
        self._volume = volume
        if self._make_synth is not None and rate_wpm != self._synth.settings.rate_wpm:
            self._synth = CachedSynthesizer(self._make_synth(rate_wpm), self._synth.cache)

    def next_deadline(self) -> float | None:
        """Ends are reported by the speaker, not predicted."""
        return None

    def poll(self, now: float) -> list[SpeechDone]:
        """Ends arrive through `post`."""
        return []

    @property
    def speaker(self) -> Speaker:
        """The speaker this voice plays on."""
        return self._speaker

    def audio_of(self, playback_id: int) -> Pcm | None:
        """The audio a recent playback sounded (as played, volume applied)."""
        with self._lock:
            return self._audio.get(playback_id)

    def busy(self) -> bool:
        """Whether anything is still sounding or queued."""
        with self._lock:
            return bool(self._sounding) and self.lost is None

    def close(self) -> None:
        """Let the last words finish, then close the stream."""
        self._speaker.close()

    # ------------------------------------------------------------ internals

    def _current(self) -> Say | None:
        with self._lock:
            for playback_id in self._order:
                say = self._sounding.get(playback_id)
                if say is not None:
                    return say
        return None

    def _scaled(self, pcm: Pcm) -> Pcm:
        if self._volume >= 0.999:
            return pcm
        samples = np.round(pcm.samples.astype(np.float32) * self._volume).astype(np.int16)
        return Pcm(samples, pcm.rate_hz)

    def _play(self, pcm: Pcm, say: Say | None, label: str) -> None:
        try:
            with self._lock:
                playback_id = self._speaker.play(pcm, label, on_done=self._done)
                self._audio[playback_id] = pcm
                while len(self._audio) > AUDIO_KEPT:
                    del self._audio[next(iter(self._audio))]
                if say is not None:
                    self._sounding[playback_id] = say
                    self._order.append(playback_id)
        except FloorcoachError as exc:
            self._lose(str(exc))
            if say is not None:
                self._post(SpeechDone(say.utterance_id, self._clock()))

    def _done(self, playback_id: int, interrupted: bool) -> None:
        with self._lock:
            say = self._sounding.pop(playback_id, None)
            if playback_id in self._order:
                self._order.remove(playback_id)
        if say is not None:
            self._post(SpeechDone(say.utterance_id, self._clock()))

    def _lose(self, reason: str) -> None:
        if self.lost is None:
            self.lost = reason
            _LOGGER.warning("speaker lost: %s", reason)
            if self._on_lost is not None:
                self._on_lost(reason)


class RenderProgress:
    """`Preparing the voice [#####.....] 120/240 phrases, 1 min left` on stderr.

    Redrawn in place on a terminal; elsewhere (the journal of the Pi service) one line at
    the start and at each quarter, so a log is not flooded.
    """

    WIDTH: Final = 30

    def __init__(self, stream: TextIO, total: int, clock: Callable[[], float] = time.monotonic):
        self._stream = stream
        self._total = total
        self._clock = clock
        self._started = clock()
        self._tty = bool(getattr(stream, "isatty", lambda: False)())
        self._quarter = -1
        self._line(0)

    def __call__(self, done: int, total: int, text: str) -> None:
        """One more phrase rendered."""
        self._line(done)

    def _line(self, done: int) -> None:
        total = max(1, self._total)
        filled = round(self.WIDTH * done / total)
        bar = "#" * filled + "." * (self.WIDTH - filled)
        elapsed = self._clock() - self._started
        left = ""
        if 0 < done < total:
            seconds = elapsed / done * (total - done)
            left = f", {seconds / 60:.0f} min left" if seconds >= 90 else f", {seconds:.0f} s left"
        line = f"Preparing the voice [{bar}] {done}/{self._total} phrases{left}"
        if self._tty:
            end = "\n" if done >= self._total else ""
            self._stream.write(f"\r{line}{end}")
        else:
            quarter = 4 * done // total
            if quarter == self._quarter:
                return
            self._quarter = quarter
            self._stream.write(line + "\n")
        self._stream.flush()


class TeeOutput:
    """Prints every line and speaks it; the voice (not the printout) paces the session.

    When the voice is lost mid-session, the printed pacing takes over, so the session
    carries on in text.
    """

    def __init__(self, printed: object, voice: VoiceOutput) -> None:
        from floorcoach.runtime.text_output import PrintedSpeech

        assert isinstance(printed, PrintedSpeech)
        self._printed = printed
        self._voice = voice

    def _voiced(self) -> bool:
        return self._voice.lost is None

    def say(self, say: Say, now: float) -> None:
        """Both print and speak."""
        self._printed.say(say, now)
        if self._voiced():
            self._voice.say(say, now)

    def cue(self, cue: CueKind, now: float) -> None:
        """Both show and sound the tone."""
        self._printed.cue(cue, now)
        if self._voiced():
            self._voice.cue(cue, now)

    def stop(self, now: float) -> None:
        """Stop both."""
        self._printed.stop(now)
        self._voice.stop(now)

    def change(self, rate_wpm: int, volume: float) -> None:
        """Both follow the new settings."""
        self._printed.change(rate_wpm, volume)
        self._voice.change(rate_wpm, volume)

    def next_deadline(self) -> float | None:
        """The printout's pacing counts only once the voice is gone."""
        return None if self._voiced() else self._printed.next_deadline()

    def poll(self, now: float) -> list[SpeechDone]:
        """Printed lines' ends count only once the voice is gone."""
        done = self._printed.poll(now)
        return [] if self._voiced() else done

    def busy(self) -> bool:
        """Busy while the pacing source is."""
        return self._voice.busy() if self._voiced() else self._printed.busy()

    def close(self) -> None:
        """Close the voice."""
        self._voice.close()
