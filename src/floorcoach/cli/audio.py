"""`floorcoach devices` and `floorcoach say`: check the sound setup before lying down."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from floorcoach.audio.devices import (
    NO_INPUT_MESSAGE,
    NO_OUTPUT_MESSAGE,
    DeviceKind,
    list_devices,
)
from floorcoach.audio.pcm import Pcm
from floorcoach.audio.speaking.cues import Cue, render_cue
from floorcoach.audio.speaking.device_speaker import DeviceSpeaker
from floorcoach.audio.speaking.file_speaker import FileSpeaker
from floorcoach.audio.speaking.speech_cache import CachedSynthesizer, SpeechCache
from floorcoach.audio.speaking.synth import (
    BACKENDS,
    DEFAULT_BACKEND,
    DEFAULT_RATE_WPM,
    DEFAULT_VOICE,
    DEFAULT_VOLUME,
    make_synthesizer,
)
from floorcoach.errors import AudioDeviceError

_LOGGER = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    """Add the `devices` and `say` subcommands."""
    devices = subparsers.add_parser(
        "devices",
        help="list sound input and output devices",
        description="List sound devices; --input-device/--output-device take an index or a "
        "name substring from this list.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    devices.set_defaults(func=run_devices)

    say = subparsers.add_parser(
        "say",
        help="speak one phrase (checks speech and the speaker)",
        description="Render TEXT with the speech backend and play it, or write it to a WAV.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    say.add_argument("text", metavar="TEXT", help="what to say")
    say.add_argument("--backend", choices=BACKENDS, default=DEFAULT_BACKEND, help="speech engine")
    say.add_argument("--voice", default=DEFAULT_VOICE, help="espeak-ng voice or language")
    say.add_argument("--rate-wpm", type=int, default=DEFAULT_RATE_WPM, help="words per minute")
    say.add_argument("--volume", type=float, default=DEFAULT_VOLUME, help="speech volume, 0..1")
    say.add_argument(
        "--cue",
        choices=[c.value for c in Cue],
        default=None,
        help="play this cue tone before the phrase",
    )
    say.add_argument("--output-device", default=None, help="output device index or name substring")
    say.add_argument(
        "--speak-to",
        type=Path,
        default=None,
        metavar="FILE.wav",
        help="write the audio to this WAV instead of playing it",
    )
    say.add_argument("--no-cache", action="store_true", help="render without the speech cache")
    say.set_defaults(func=run_say)


def run_devices(args: argparse.Namespace) -> int:
    """Print inputs and outputs; with none, say so plainly (not an error: text mode works)."""
    try:
        devices = list_devices()
    except AudioDeviceError as exc:
        print(exc.message)
        return 0
    sections: tuple[tuple[DeviceKind, str, str], ...] = (
        ("input", "Input devices (microphones):", NO_INPUT_MESSAGE),
        ("output", "Output devices (speakers):", NO_OUTPUT_MESSAGE),
    )
    for kind, label, none_message in sections:
        usable = [d for d in devices if d.channels(kind) > 0]
        print(label)
        if not usable:
            print(f"  {none_message}")
        for dev in usable:
            print(f"  {dev.describe(kind)}")
    return 0


def run_say(args: argparse.Namespace) -> int:
    """Speak TEXT once; without a speaker, print it and say why."""
    synth = make_synthesizer(args.backend, args.voice, args.rate_wpm, args.volume)
    if not args.no_cache:
        synth = CachedSynthesizer(synth, SpeechCache())
    speech = synth.render(args.text)
    parts: list[tuple[Pcm, str]] = []
    if args.cue:
        parts.append((render_cue(args.cue), f"cue:{args.cue}"))
    parts.append((speech, args.text))

    if args.speak_to is not None:
        file_speaker = FileSpeaker()
        t_seconds = 0.0
        for pcm, label in parts:
            file_speaker.play_at(pcm, t_seconds, label)
            t_seconds += pcm.seconds + 0.15
        file_speaker.write(args.speak_to)
        print(f"wrote {args.speak_to} ({t_seconds - 0.15:.2f} s)")
        return 0

    try:
        speaker = DeviceSpeaker(args.output_device)
    except AudioDeviceError as exc:
        print(f"floorcoach: {exc.message}", file=sys.stderr)
        print(args.text)
        return 1
    try:
        for pcm, label in parts:
            speaker.play(pcm, label)
        speaker.wait_idle(timeout_seconds=sum(p.seconds for p, _ in parts) + 5.0)
    finally:
        speaker.close()
    if speaker.lost is not None:
        print(f"floorcoach: {speaker.lost}", file=sys.stderr)
        print(args.text)
        return 1
    return 0
