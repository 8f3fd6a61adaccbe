"""Standby's speaker and microphone: kept open between sessions, tried again when they fail.

A Pi service starts at boot, before a USB microphone has settled or the sound server is up,
and a device can be unplugged or the server restarted under it: standby must outlive all of
that (no keyboard is there to start it again), so each device is retried on its own clock.
"""

from __future__ import annotations

import argparse
import queue
import sys
import time
from typing import Any, Final

from floorcoach.audio.listening.echo_canceller import DEFAULT_ECHO_CANCEL
from floorcoach.errors import FloorcoachError
from floorcoach.runtime.standby import make_standby_recognizer

MIC_RETRY_SECONDS: Final = 5.0
"""How often standby tries again for a microphone or speaker that would not open (a USB
device still settling at boot, or plugged in later)."""


class StandbyVoice:
    """Says standby's replies (printed too); released while a session has the speaker."""

    def __init__(self, args: argparse.Namespace) -> None:
        self._args = args
        self._speaker: Any = None
        self._synth: Any = None
        self._failed_at: float | None = None
        """When the speaker last failed to open (monotonic); None: no failure to retry."""

    def retry(self) -> bool:
        """Try a speaker that would not open again, at most every MIC_RETRY_SECONDS (a sound
        server still starting at boot); True when it opened now."""
        if self._speaker is not None or self._failed_at is None:
            return False
        if time.monotonic() - self._failed_at < MIC_RETRY_SECONDS:
            return False
        self.open(quiet=True)
        if self._speaker is None:
            return False
        print("floorcoach: the speaker is working again", file=sys.stderr, flush=True)
        return True

    def open(self, quiet: bool = False) -> None:
        """Open the speaker. A failure is printed (unless `quiet`) and retried later; it does
        not silence the sessions standby starts, which open their own."""
        if self._args.no_voice or self._speaker is not None:
            return
        try:
            from floorcoach.audio.speaking.device_speaker import DeviceSpeaker
            from floorcoach.audio.speaking.speech_cache import CachedSynthesizer, SpeechCache
            from floorcoach.audio.speaking.voice_choice import VoiceFactory

            make = VoiceFactory(self._args.speech_backend, self._args.voice, note=_note)
            self._synth = CachedSynthesizer(make(self._args.rate_wpm), SpeechCache())
            self._speaker = DeviceSpeaker(self._args.output_device)
            self._failed_at = None
        except FloorcoachError as exc:
            if not quiet:
                print(
                    f"floorcoach: {exc}; replies will be printed (trying again every "
                    f"{MIC_RETRY_SECONDS:g} s)",
                    file=sys.stderr,
                    flush=True,
                )
            self._failed_at = time.monotonic()
            self._speaker = None

    def say(self, text: str) -> None:
        print(text, flush=True)
        if self._speaker is None:
            return
        try:
            self._speaker.play(self._synth.render(text), text)
            self._speaker.wait_idle(timeout_seconds=60.0)
        except FloorcoachError as exc:
            print(f"floorcoach: {exc}", file=sys.stderr, flush=True)
            self.close()
            self._failed_at = time.monotonic()

    def close(self) -> None:
        if self._speaker is not None:
            self._speaker.close()
            self._speaker = None

    def reference(self) -> Any:
        """What the speaker sounded, for the ears' echo canceller (None: no speaker)."""
        return getattr(self._speaker, "sounded", None)

    def said(self) -> list[Any]:
        """What standby said lately and says now, for the ears' echo gate: its own "say
        yes" heard through the air is not the user's answer."""
        from floorcoach.runtime.live_listener import player_speech

        speaker = self._speaker
        return [] if speaker is None else player_speech(speaker)


class StandbyEars:
    """The microphone while in standby (closed while a session listens for itself)."""

    def __init__(
        self,
        args: argparse.Namespace,
        inbox: queue.Queue[Any],
        names: dict[str, str],
        voice: StandbyVoice | None = None,
    ):
        self._args = args
        self._inbox = inbox
        self._names = names
        self._voice = voice
        self._mic: Any = None
        self._recognizer: Any = None
        self._failed_at: float | None = None
        """When the microphone last failed to open (monotonic); None: no failure reported."""
        self._answering = False

    @property
    def wanted(self) -> bool:
        """Standby listens by voice (not --text or --no-mic)."""
        return not (self._args.text or self._args.no_mic)

    def retry(self) -> None:
        """Try the microphone again if it would not open or was lost (unplugged, the sound
        server restarted), at most every MIC_RETRY_SECONDS."""
        if not self.wanted:
            return
        mic = self._mic
        if mic is not None and not mic.running and self._failed_at is None:
            print(
                f"floorcoach: the microphone was lost; trying again every {MIC_RETRY_SECONDS:g} s",
                file=sys.stderr,
                flush=True,
            )
            self._failed_at = time.monotonic()
            return
        if self._failed_at is None or time.monotonic() - self._failed_at < MIC_RETRY_SECONDS:
            return
        if mic is not None:
            back = mic.retry()
        else:
            self.open(quiet=True)
            back = self._mic is not None
        if back:
            self._failed_at = None
            print("floorcoach: the microphone is working again", file=sys.stderr, flush=True)
        else:
            self._failed_at = time.monotonic()

    def open(self, quiet: bool = False) -> None:
        """Open the microphone; a failure is printed (unless `quiet`) and retried later."""
        if not self.wanted or self._mic is not None:
            return
        try:
            from floorcoach.audio.listening.microphone import MicrophoneListener
            from floorcoach.audio.listening.self_voice import EchoGate

            if self._recognizer is None:
                self._recognizer = make_standby_recognizer(self._args.engine, self._names)
            recognizer = self._recognizer
            self._mic = MicrophoneListener(
                recognizer,
                on_heard=lambda heard: self._inbox.put(("heard", heard.text)),
                device=self._args.input_device,
                # its own replies are taken out of what it hears, as in a session
                reference=self._voice.reference() if self._voice is not None else None,
                gate=EchoGate(source=self._voice.said) if self._voice is not None else None,
                on_unclear=self._unclear,
                echo_cancel=getattr(self._args, "echo_cancel", None) or DEFAULT_ECHO_CANCEL,
            )
            self._mic.start()
            self._failed_at = None
        except FloorcoachError as exc:
            if not quiet:
                print(
                    f"floorcoach: {exc}; type instead (trying again every {MIC_RETRY_SECONDS:g} s)",
                    file=sys.stderr,
                    flush=True,
                )
            self._failed_at = time.monotonic()
            self._mic = None

    def close(self) -> None:
        if self._mic is not None:
            self._mic.stop()
            self._mic = None

    def _unclear(self, speech_seconds: float) -> None:
        """The user's words not placed: passed on only while an answer is awaited (other
        talk in the room is none of standby's business)."""
        if self._answering:
            self._inbox.put(("unclear", f"{speech_seconds:.1f} s"))

    def listen_for_answer(self, answering: bool) -> None:
        """Listen for the answers to "ready?" (True) or for standby's requests (False)."""
        from floorcoach.commands import ListenContext

        self._answering = answering
        if self._recognizer is not None:
            self._recognizer.set_context(
                ListenContext.CONFIRM if answering else ListenContext.COMMANDS
            )


def _note(text: str) -> None:
    print(f"floorcoach: {text}", file=sys.stderr, flush=True)
