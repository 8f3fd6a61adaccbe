"""`floorcoach ask`: answers to common questions, printed and spoken (the screenless case)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Final

from floorcoach.cli.config import add_config_option
from floorcoach.content.questions import QUESTIONS_FILE, QuestionBook, load_questions
from floorcoach.errors import FloorcoachError
from floorcoach.runtime.config_effective import fill_args
from floorcoach.runtime.config_load import load_config

SPEAK_TIMEOUT_SECONDS: Final = 120.0
"""Longest answer plus its warning signs takes under a minute at 150 words a minute."""


def register(subparsers: Any) -> None:
    """Add the `ask` subcommand."""
    ask = subparsers.add_parser(
        "ask",
        help="answer a question about sciatica exercise, by voice and on screen",
        description=(
            "Answers a common question (ice or heat, sitting, sleeping, when to see a doctor, "
            "...) from routines/questions.yaml. Answers about symptoms include the warning "
            "signs. Nothing here is a diagnosis."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    ask.add_argument("question", nargs="*", help='the question, e.g. "should I use ice or heat"')
    ask.add_argument("--list", action="store_true", help="list the questions that can be asked")
    ask.add_argument("--no-voice", action="store_true", help="only print the answer")
    ask.add_argument("--output-device", help="speaker: device index or name substring")
    ask.add_argument(
        "--voice", default=None, help="espeak-ng voice or piper:NAME (floorcoach voices)"
    )
    ask.add_argument(
        "--speech-backend",
        default=None,
        choices=("pyttsx3", "espeak"),
        help="synthesizer (config: pyttsx3)",
    )
    ask.add_argument(
        "--rate-wpm", type=int, default=None, help="speech rate, words per minute (config: 150)"
    )
    add_config_option(ask)
    ask.add_argument(
        "--routines-dir",
        type=Path,
        help=f"folder with {QUESTIONS_FILE} (default: $FLOORCOACH_ROUTINES_DIR or routines/)",
    )
    ask.set_defaults(func=_ask)


def _ask(args: argparse.Namespace) -> int:
    book = load_questions(folder=args.routines_dir)
    if args.list:
        _print_list(book)
        return 0
    text = " ".join(args.question).strip()
    if not text:
        print('floorcoach ask: say what to ask, e.g. "should I use ice or heat"', file=sys.stderr)
        print("floorcoach ask: or use --list to see the questions", file=sys.stderr)
        return 2
    reply = book.reply(text)
    print(reply, flush=True)
    if not args.no_voice:
        fill_args(args, load_config(args.config).config)  # voice, rate, speaker
        speak(reply, args)
    return 0


def _print_list(book: QuestionBook) -> None:
    width = max(len(question.id) for question in book.questions)
    for question in book.questions:
        mark = "  (+ warning signs)" if question.touches_symptoms else ""
        print(f"{question.id.ljust(width)}  {question.phrasings[0]}{mark}")


def speak(text: str, args: argparse.Namespace) -> bool:
    """Say `text` on the speaker; on any failure print why on stderr and return False."""
    speaker = None
    try:
        from floorcoach.audio.speaking.device_speaker import DeviceSpeaker
        from floorcoach.audio.speaking.speech_cache import CachedSynthesizer, SpeechCache
        from floorcoach.audio.speaking.voice_choice import VoiceFactory

        speaker = DeviceSpeaker(args.output_device)  # first: no device, no rendering
        make = VoiceFactory(args.speech_backend, args.voice, note=_note)
        synth = CachedSynthesizer(make(args.rate_wpm), SpeechCache())
        pcm = synth.render(text)
        speaker.play(pcm, "answer")
        if not speaker.wait_idle(timeout_seconds=pcm.seconds + SPEAK_TIMEOUT_SECONDS):
            raise FloorcoachError(speaker.lost or "the speaker did not finish playing")
    except FloorcoachError as exc:
        print(f"floorcoach: not spoken: {exc}", file=sys.stderr)
        return False
    finally:
        if speaker is not None:
            speaker.close()
    return True


def _note(text: str) -> None:
    print(f"floorcoach: {text}", file=sys.stderr, flush=True)
