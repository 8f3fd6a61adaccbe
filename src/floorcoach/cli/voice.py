"""CLI subcommands for voice input: `recognize FILE.wav` and `models install|list`."""

from __future__ import annotations

import argparse
import json
import logging
import struct
import sys
import wave
from pathlib import Path
from typing import Final

from floorcoach.audio.listening.recognizer import ENGINES, CommandRecognizer, Heard
from floorcoach.audio.listening.recognizer_factory import make_recognizer
from floorcoach.audio.listening.vosk_models import (
    DEFAULT_MODEL,
    ENV_VAR,
    KNOWN_MODELS,
    find_vosk_model,
    install_model,
    installed_models,
    search_dirs,
)
from floorcoach.audio.pcm import RATE_HZ, read_wav
from floorcoach.commands import ListenContext
from floorcoach.errors import FloorcoachError, RecognizerError

_LOGGER = logging.getLogger(__name__)

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_BAD_INPUT: Final = 2
DEFAULT_CHUNK_MS: Final = 20


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `recognize` and `models` to the floorcoach command line."""
    fmt = argparse.ArgumentDefaultsHelpFormatter
    rec = subparsers.add_parser(
        "recognize",
        help="print the voice commands heard in a WAV file",
        description="Run the listener pipeline on a WAV file of any rate and channel count.",
        formatter_class=fmt,
    )
    rec.add_argument("wav", type=Path, metavar="FILE.wav", help="the recording")
    rec.add_argument("--engine", choices=ENGINES, default="auto", help="recognizer engine")
    rec.add_argument(
        "--model", type=Path, default=None, help=f"Vosk model directory (or ${ENV_VAR})"
    )
    rec.add_argument(
        "--context",
        choices=[c.value for c in ListenContext],
        default=ListenContext.COMMANDS.value,
        help="listening context: which phrases the recognizer listens for (pain_level: the"
        " numbers 0-10 of 'how bad is it?')",
    )
    rec.add_argument(
        "--preset",
        default=None,
        metavar="NAME",
        help="pocketsphinx configuration preset (e.g. default, grammar, verify_2s,"
        " verifier_only; implies --engine pocketsphinx)",
    )
    rec.add_argument("--json", action="store_true", help="one JSON object per line")
    rec.add_argument(
        "--chunk-ms", type=int, default=DEFAULT_CHUNK_MS, help="feed the audio in chunks of N ms"
    )
    rec.set_defaults(func=recognize_command)

    models = subparsers.add_parser(
        "models", help="install or list Vosk voice models", formatter_class=fmt
    )
    sub = models.add_subparsers(dest="models_command", metavar="{install,list}", required=True)
    inst = sub.add_parser("install", help="download and unpack a Vosk model", formatter_class=fmt)
    inst.add_argument("name", nargs="?", default=DEFAULT_MODEL, choices=sorted(KNOWN_MODELS))
    inst.add_argument(
        "--dir", type=Path, default=None, help="install here instead of voice_models/"
    )
    inst.add_argument("--url", default=None, help=argparse.SUPPRESS)
    inst.set_defaults(func=models_install_command)
    lst = sub.add_parser("list", help="list installed and known models", formatter_class=fmt)
    lst.set_defaults(func=models_list_command)


def _error(message: str) -> None:
    print(f"floorcoach: error: {message}", file=sys.stderr)


def recognize_command(args: argparse.Namespace) -> int:
    """`floorcoach recognize FILE.wav`: one line (or JSON object) per command heard."""
    if args.chunk_ms <= 0:
        _error(f"--chunk-ms must be positive, not {args.chunk_ms}")
        return EXIT_BAD_INPUT
    try:
        pcm = read_wav(args.wav)
    except FloorcoachError as exc:
        _error(str(exc))
        return EXIT_BAD_INPUT
    except (wave.Error, EOFError, struct.error, ValueError, OSError) as exc:
        _error(f"{args.wav}: not a usable WAV file ({exc})")
        return EXIT_BAD_INPUT
    if args.preset is not None and args.engine not in ("auto", "pocketsphinx"):
        _error(f"--preset is a pocketsphinx preset; it cannot be used with --engine {args.engine}")
        return EXIT_BAD_INPUT
    try:
        recognizer = _recognizer(args)
    except _BadPreset as exc:
        _error(str(exc))
        return EXIT_BAD_INPUT
    except RecognizerError as exc:
        _error(str(exc))
        return EXIT_FAILED
    recognizer.set_context(ListenContext(args.context))
    print(
        f"floorcoach: recognizer: {recognizer.description}; context {args.context}"
        + (f", preset {args.preset}" if args.preset is not None else ""),
        file=sys.stderr,
    )
    chunk = max(1, args.chunk_ms * RATE_HZ // 1000)
    samples = pcm.samples
    for start in range(0, len(samples), chunk):
        for heard in recognizer.accept(samples[start : start + chunk]):
            _print_heard(heard, args.json)
    for heard in recognizer.flush():
        _print_heard(heard, args.json)
    return EXIT_OK


class _BadPreset(RecognizerError):
    """--preset names no pocketsphinx preset (a usage error, not a broken installation)."""


def _recognizer(args: argparse.Namespace) -> CommandRecognizer:
    """The engine asked for; with --preset, pocketsphinx configured by that preset."""
    if args.preset is None:
        return make_recognizer(args.engine, args.model)
    from floorcoach.audio.listening.sphinx_config import preset
    from floorcoach.audio.listening.sphinx_recognizer import SphinxRecognizer

    try:
        config = preset(args.preset)
    except RecognizerError as exc:
        raise _BadPreset(f"--preset: {exc}") from None
    return SphinxRecognizer(config)


def _print_heard(heard: Heard, as_json: bool) -> None:
    if as_json:
        print(json.dumps(heard.as_json(), ensure_ascii=False), flush=True)
    else:
        print(
            f"{heard.intent.value:<14} {heard.text!r:<24} {heard.start:.2f}-{heard.end:.2f} s"
            f"  confidence {heard.confidence:.2f} ({heard.engine})",
            flush=True,
        )


def models_install_command(args: argparse.Namespace) -> int:
    """`floorcoach models install [NAME]`."""
    try:
        path = install_model(args.name, dest_dir=args.dir, url=args.url)
    except FloorcoachError as exc:
        _error(str(exc))
        return EXIT_FAILED
    print(f"installed {args.name} in {path}")
    return EXIT_OK


def models_list_command(args: argparse.Namespace) -> int:
    """`floorcoach models list`: what is installed, what `auto` would use, what can be installed."""
    found = installed_models()
    print("searched: " + ", ".join(str(d) for d in search_dirs()) + f" and ${ENV_VAR}")
    for path in found:
        print(f"installed: {path}")
    if not found:
        print("installed: none")
    try:
        print(f"auto engine uses: vosk with {find_vosk_model(None)}")
    except FloorcoachError:
        print("auto engine uses: pocketsphinx (built in; no English Vosk model)")
    for spec in KNOWN_MODELS.values():
        print(f"available: {spec.name} ({spec.language}, about {spec.size_mb} MB)")
    return EXIT_OK
