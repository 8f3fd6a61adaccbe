"""The microphone in a live session: commands to the runtime, its own voice ignored, retries."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from floorcoach.audio.listening.echo_canceller import DEFAULT_ECHO_CANCEL
from floorcoach.audio.listening.recognizer import Heard as RecognizedHeard
from floorcoach.audio.listening.recognizer_factory import make_recognizer
from floorcoach.audio.listening.self_voice import EchoGate, LevelTrack, PlayerSpeech
from floorcoach.commands import ListenContext
from floorcoach.errors import AudioDeviceError, RecognizerError, with_fallback
from floorcoach.runtime.event_loop import Clock, Runtime
from floorcoach.session.events import Heard, InputSource, Notice, Unclear

_LOGGER = logging.getLogger(__name__)

RETRY_SECONDS: Final = 5.0
NO_MIC: Final = "I can't hear the microphone. You can type commands; I'll keep trying."
MIC_BACK: Final = "I can hear you again."


def player_speech(speaker: Any, history: list[Any] | None = None) -> list[PlayerSpeech]:
    """What a `DeviceSpeaker` said lately and is saying now (monotonic times, tones left out),
    for an echo gate's `source`: words heard then that the player said are its own."""
    played = speaker.history() if history is None else history
    speech = [
        PlayerSpeech(p.started_at, p.ended_at, p.label)
        for p in played
        if not p.label.startswith("cue:")
    ]
    playing = speaker.now_playing()
    if playing is not None and not playing.label.startswith("cue:"):
        speech.append(PlayerSpeech(playing.started_at, playing.expected_end, playing.label))
    return speech


class LiveListener:
    """Owns the microphone listener for one session and keeps it alive."""

    def __init__(
        self,
        runtime: Runtime,
        clock: Clock,
        *,
        engine: str = "auto",
        device: str | int | None = None,
        record_dir: Path | None = None,
        speaker: Any = None,
        voice: Any = None,
        note: Callable[[str], None] = print,
        echo_cancel: str = DEFAULT_ECHO_CANCEL,
    ) -> None:
        self._runtime = runtime
        self._clock = clock
        self._engine = engine
        self._device = device
        self._record_dir = record_dir
        self._speaker = speaker
        self._voice = voice
        self._note = note
        self._echo_cancel = echo_cancel
        self._leveled: set[int] = set()
        self._gate = EchoGate(source=self._played, mic=LevelTrack(), played=LevelTrack())
        self._mic: Any = None
        self._recognizer: Any = None
        self._retrying = threading.Event()
        self._closed = threading.Event()

    def start(self) -> None:
        """Build the recognizer and open the microphone; failures become spoken notices."""
        from floorcoach.audio.listening.microphone import MicrophoneListener

        try:
            self._recognizer = make_recognizer(self._engine)
        except RecognizerError as exc:
            self._note(with_fallback(exc, "commands can be typed"))
            self._notice("I can't understand speech on this machine, so please type commands.")
            return
        self._mic = MicrophoneListener(
            self._recognizer,
            on_heard=self._on_heard,
            device=self._device,
            record_dir=self._record_dir,
            on_error=self._on_lost,
            gate=self._gate,
            reference=self._reference(),
            echo_cancel=self._echo_cancel,
            on_unclear=self._on_unclear,
        )
        if self._mic.echo_cancel not in (self._echo_cancel, "none"):
            self._note(
                f"the {self._echo_cancel} echo canceller cannot load here; "
                f"using {self._mic.echo_cancel}"
            )
        self._runtime.on_context = self._set_context
        try:
            self._mic.start()
        except AudioDeviceError as exc:
            self._on_lost(exc)
            return
        cancel = self._mic.echo_cancel
        echo = f", echo cancelled by {cancel}" if cancel != "none" else ""
        self._note(
            f"listening on '{self._mic.device_name}' with {self._recognizer.description}{echo}"
        )

    def close(self) -> None:
        """Stop listening and retrying."""
        self._closed.set()
        if self._mic is not None:
            self._mic.stop()

    def _reference(self) -> Any:
        """What the speaker sounded, for the echo canceller (None: no speaker, no echo)."""
        sounded = getattr(self._speaker, "sounded", None)
        if sounded is None:
            return None
        return sounded

    def _on_heard(self, heard: RecognizedHeard) -> None:
        self._runtime.post(Heard(heard.intent, self._clock.now(), heard.text, InputSource.VOICE))

    def _on_unclear(self, speech_seconds: float) -> None:
        self._runtime.post(Unclear(self._clock.now(), speech_seconds))

    def _set_context(self, context: str) -> None:
        if self._recognizer is not None and hasattr(self._recognizer, "set_context"):
            self._recognizer.set_context(ListenContext(context))

    def _notice(self, text: str) -> None:
        self._runtime.post(Notice(text, self._clock.now()))

    def _on_lost(self, error: AudioDeviceError) -> None:
        self._note(with_fallback(error, "commands can be typed while I keep trying"))
        self._notice(NO_MIC)
        if not self._retrying.is_set():
            self._retrying.set()
            threading.Thread(target=self._retry, name="floorcoach-mic-retry", daemon=True).start()

    def _retry(self) -> None:
        try:
            while not self._closed.wait(RETRY_SECONDS):
                if self._mic is not None and self._mic.retry():
                    self._note(f"listening again on '{self._mic.device_name}'")
                    self._notice(MIC_BACK)
                    return
        finally:
            self._retrying.clear()

    def _played(self) -> list[PlayerSpeech]:
        """What the speaker sounded lately (monotonic times), for the echo gate."""
        speaker = self._speaker
        if speaker is None:
            return []
        history = speaker.history()
        self._track_levels([(p.id, p.started_at, p.ended_at, p.interrupted) for p in history])
        return player_speech(speaker, history)

    def _track_levels(self, played: list[tuple[int, float, float, bool]]) -> None:
        """Put what the speaker sounded onto the gate's level track, once each."""
        if self._voice is None or self._gate.played is None:
            return
        for playback_id, started, ended, _interrupted in played:
            if playback_id in self._leveled:
                continue
            pcm = self._voice.audio_of(playback_id)
            if pcm is None:
                continue
            self._leveled.add(playback_id)
            samples = pcm.to_float()[: max(0, round((ended - started) * pcm.rate_hz))]
            self._gate.played.add(started, samples, pcm.rate_hz)
