"""`floorcoach mic-test`: listen for a few seconds, report the level and the commands heard.

Built for setting up a Pi without a screen: every verdict is a sentence that can be read
aloud (`--speak` says it on the speaker), and the exit code is 0 only when the level is
usable, so an install script or a helper on the phone can check it too.
"""

from __future__ import annotations

import argparse
import math
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from floorcoach.audio.listening.recognizer import ENGINES, CommandRecognizer, Heard
from floorcoach.audio.listening.recognizer_factory import make_recognizer
from floorcoach.audio.pcm import RATE_HZ
from floorcoach.commands import ListenContext
from floorcoach.errors import FloorcoachError

SILENT_DB: Final = -90.0
"""A peak below this is digital silence: a muted or disconnected input, not a quiet room."""
QUIET_RMS_DB: Final = -45.0
"""Loudest second's RMS below this: speech is too quiet to be recognized reliably."""
SPEECH_ABOVE_FLOOR_DB: Final = 9.0
"""The recognizer's voice detector starts at 9 dB above the background (audio/listening/vad.py)."""
CLIP_LEVEL: Final = 32_700
CLIPPED_SAMPLES_PER_SECOND: Final = 16
"""1 ms of samples at full scale in one second: the voice is being cut off."""
BAR_FLOOR_DB: Final = -70.0
BAR_WIDTH: Final = 35


@dataclass(frozen=True)
class SecondLevel:
    """The level of one second of microphone audio."""

    index: int
    rms_db: float
    peak_db: float
    clipped: int


def _db(value: float) -> float:
    return 20.0 * math.log10(value / 32768.0) if value > 0 else -120.0


class LevelMeter:
    """Per-second RMS and peak (dBFS) and clipped samples of 16 kHz int16 audio."""

    def __init__(self, rate_hz: int = RATE_HZ) -> None:
        self.rate_hz = rate_hz
        self.levels: list[SecondLevel] = []
        self._lock = threading.Lock()
        self._sum_squares = 0.0
        self._peak = 0
        self._clipped = 0
        self._count = 0

    def add(self, samples: npt.NDArray[np.int16]) -> None:
        """Take a chunk of any size; each completed second becomes a SecondLevel."""
        data = np.asarray(samples, dtype=np.float64)
        while len(data):
            take = min(len(data), self.rate_hz - self._count)
            part, data = data[:take], data[take:]
            self._sum_squares += float(np.dot(part, part))
            magnitude = np.abs(part)
            self._peak = max(self._peak, int(magnitude.max()))
            self._clipped += int((magnitude >= CLIP_LEVEL).sum())
            self._count += take
            if self._count >= self.rate_hz:
                self._close_second()

    def finish(self) -> None:
        """Count a last partial second if it is long enough to mean something (>= 0.25 s)."""
        if self._count >= self.rate_hz // 4:
            self._close_second()

    def snapshot(self) -> list[SecondLevel]:
        """The seconds measured so far (safe while another thread adds audio)."""
        with self._lock:
            return list(self.levels)

    def _close_second(self) -> None:
        rms = math.sqrt(self._sum_squares / self._count) if self._count else 0.0
        level = SecondLevel(len(self.levels) + 1, _db(rms), _db(self._peak), self._clipped)
        with self._lock:
            self.levels.append(level)
        self._sum_squares, self._peak, self._clipped, self._count = 0.0, 0, 0, 0


class MeteredRecognizer:
    """A recognizer that measures the level of everything it is given on the way through."""

    def __init__(self, inner: CommandRecognizer, meter: LevelMeter) -> None:
        self.inner = inner
        self.meter = meter
        self.engine = inner.engine
        self.description = inner.description

    def accept(self, samples: npt.NDArray[np.int16]) -> list[Heard]:
        """Measure, then recognize."""
        self.meter.add(samples)
        return self.inner.accept(samples)

    def flush(self) -> list[Heard]:
        """End of stream."""
        return self.inner.flush()

    def reset(self) -> None:
        """A new stream: the level so far is kept."""
        self.inner.reset()

    @property
    def context(self) -> ListenContext:
        """What the recognizer listens for."""
        return self.inner.context

    def set_context(self, context: ListenContext) -> None:
        """Pass through."""
        self.inner.set_context(context)


@dataclass(frozen=True)
class Verdict:
    """How the microphone did: a status word and a sentence that can be spoken."""

    status: str
    """ok, no_audio, silent, quiet, clipping or no_speech."""
    hint: str

    @property
    def ok(self) -> bool:
        """Whether the level is fine for recognition."""
        return self.status == "ok"


def judge(levels: list[SecondLevel], heard: int = 0) -> Verdict:
    """Turn the per-second levels (and how many commands were heard) into a verdict."""
    if not levels:
        return Verdict(
            "no_audio",
            "The microphone sent no sound at all. Check that it is plugged in, "
            "and choose it by name with input device.",
        )
    loudest = max(level.rms_db for level in levels)
    floor = min(level.rms_db for level in levels)
    if max(level.peak_db for level in levels) < SILENT_DB:
        return Verdict(
            "silent",
            "The microphone sends only silence. It may be muted, or it is not the one you "
            "speak into. Run floorcoach devices to choose it by name.",
        )
    if any(level.clipped >= CLIPPED_SAMPLES_PER_SECOND for level in levels):
        return Verdict(
            "clipping",
            "Too loud: your voice is being cut off. Move a little further from the microphone, "
            "or turn its level down in alsamixer.",
        )
    if loudest < QUIET_RMS_DB:
        return Verdict(
            "quiet",
            "Very quiet: I can barely hear you. Move closer to the microphone, "
            "or turn its level up in alsamixer.",
        )
    if heard == 0 and loudest - floor < SPEECH_ABOVE_FLOOR_DB:
        return Verdict(
            "no_speech",
            "I heard no speech above the background noise. Run the test again and say "
            "a command, such as pause, while it listens.",
        )
    return Verdict("ok", "The microphone level is good.")


def level_line(level: SecondLevel) -> str:
    """One second as text: RMS and peak in dBFS and a bar of the RMS."""
    span = -BAR_FLOOR_DB
    filled = round(BAR_WIDTH * min(1.0, max(0.0, (level.rms_db - BAR_FLOOR_DB) / span)))
    peak_at = round(BAR_WIDTH * min(1.0, max(0.0, (level.peak_db - BAR_FLOOR_DB) / span)))
    bar = ["#"] * filled + [" "] * (BAR_WIDTH - filled)
    if peak_at > filled:
        bar[min(BAR_WIDTH - 1, peak_at - 1)] = "|"
    clip = "  CLIPPING" if level.clipped >= CLIPPED_SAMPLES_PER_SECOND else ""
    return (
        f"{level.index:3d} s  rms {max(level.rms_db, -99.0):6.1f} dBFS  "
        f"peak {max(level.peak_db, -99.0):6.1f} dBFS  [{''.join(bar)}]{clip}"
    )


def register(subparsers: Any) -> None:
    """Add the `mic-test` subcommand."""
    parser = subparsers.add_parser(
        "mic-test",
        help="listen for a few seconds: the microphone's level and what it heard",
        description="Listen for a few seconds and report the input level every second (RMS and "
        "peak in dBFS, with a bar), whether it is too quiet or clipping, and the commands "
        "heard. Say a command such as 'pause' while it listens. Exit 0 when the level is good.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--input-device", default=None, help="microphone: device index or name substring"
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="how long to listen")
    parser.add_argument("--engine", choices=ENGINES, default="auto", help="speech recognizer")
    parser.add_argument(
        "--speak",
        action="store_true",
        help="say the instructions and the result on the speaker too",
    )
    parser.add_argument("--output-device", default=None, help="speaker for --speak")
    parser.set_defaults(func=run_mictest)


def run_mictest(args: argparse.Namespace) -> int:
    """Listen, print the level each second and the commands, then the verdict; 0 when ok."""
    if not 1.0 <= args.seconds <= 120.0:
        print("floorcoach: --seconds must be between 1 and 120", file=sys.stderr)
        return 2
    voice = _speaker_voice(args) if args.speak else None
    try:
        result = listen(
            seconds=args.seconds,
            device=args.input_device,
            engine=args.engine,
            out=print,
            before=(lambda: voice.say("Testing the microphone. In a moment, say pause."))
            if voice
            else None,
        )
        if voice is not None:
            voice.say(result.spoken_summary())
    finally:
        if voice is not None:
            voice.close()
    return 0 if result.verdict.ok else 1


@dataclass
class MicTestResult:
    """What one mic test measured and heard."""

    device_name: str
    levels: list[SecondLevel]
    heard: list[Heard]
    verdict: Verdict
    dropped_chunks: int

    def spoken_summary(self) -> str:
        """The result as sentences for the speaker."""
        if self.heard:
            words = ", ".join(h.text for h in self.heard)
            return f"{self.verdict.hint} I heard: {words}."
        return f"{self.verdict.hint} I did not hear a command."


def listen(
    *,
    seconds: float,
    device: str | int | None = None,
    engine: str = "auto",
    out: Callable[[str], None] = print,
    before: Callable[[], None] | None = None,
) -> MicTestResult:
    """Run the test on a live microphone; raises AudioDeviceError / RecognizerError."""
    from floorcoach.audio.listening.microphone import MicrophoneListener

    meter = LevelMeter()
    recognizer = MeteredRecognizer(make_recognizer(engine), meter)
    heard: list[Heard] = []
    listener = MicrophoneListener(recognizer, on_heard=heard.append, device=device)
    if before is not None:
        before()  # spoken before the microphone opens, so it is not heard as a command
    listener.start()
    out(f"Listening for {seconds:g} s on '{listener.device_name}' with {recognizer.description}.")
    out("Wait a second (it first measures the room), then say a command such as 'pause'.")
    shown = 0
    reported = 0
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
            shown = _show_new(meter, shown, out)
            reported = _show_heard(heard, reported, out)
    finally:
        listener.stop()
    meter.finish()
    _show_new(meter, shown, out)
    _show_heard(heard, reported, out)
    levels = meter.snapshot()
    verdict = judge(levels, len(heard))
    if levels:
        loudest = max(level.rms_db for level in levels)
        floor = min(level.rms_db for level in levels)
        out(f"Loudest second {loudest:.1f} dBFS RMS; background {floor:.1f} dBFS RMS.")
    if listener.dropped_chunks:
        out(f"Warning: {listener.dropped_chunks} audio chunks dropped (the machine is too busy).")
    out(f"Heard {len(heard)} command(s)." if heard else "No commands heard.")
    out(f"{'OK' if verdict.ok else 'PROBLEM'}: {verdict.hint}")
    return MicTestResult(listener.device_name, levels, heard, verdict, listener.dropped_chunks)


def _show_new(meter: LevelMeter, shown: int, out: Callable[[str], None]) -> int:
    levels = meter.snapshot()
    for level in levels[shown:]:
        out(level_line(level))
    return len(levels)


def _show_heard(heard: list[Heard], reported: int, out: Callable[[str], None]) -> int:
    now = list(heard)
    for item in now[reported:]:
        out(
            f"heard: {item.intent.value} ({item.text!r}) at {item.start:.1f} s, "
            f"confidence {item.confidence:.2f}"
        )
    return len(now)


class _Voice:
    """Speaks a sentence on the speaker and waits until it has been heard."""

    def __init__(self, synth: Any, speaker: Any) -> None:
        self.synth = synth
        self.speaker = speaker

    def say(self, text: str) -> None:
        """Speak and wait."""
        pcm = self.synth.render(text)
        self.speaker.play(pcm, text)
        self.speaker.wait_idle(timeout_seconds=pcm.seconds + 5.0)

    def close(self) -> None:
        """Release the speaker."""
        self.speaker.close()


def _speaker_voice(args: argparse.Namespace) -> _Voice | None:
    """The speaker for --speak, or None (said why) when there is none."""
    try:
        from floorcoach.audio.speaking.device_speaker import DeviceSpeaker
        from floorcoach.audio.speaking.speech_cache import CachedSynthesizer, SpeechCache
        from floorcoach.audio.speaking.synth import make_synthesizer

        synth = CachedSynthesizer(make_synthesizer(), SpeechCache())
        speaker = DeviceSpeaker(args.output_device)
    except FloorcoachError as exc:
        print(f"floorcoach: {exc}; the result is printed only", file=sys.stderr)
        return None
    return _Voice(synth, speaker)
