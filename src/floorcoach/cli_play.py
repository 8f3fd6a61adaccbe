"""`floorcoach play`: run a session live, in text mode or with a voice."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

from floorcoach.catalog import Catalog
from floorcoach.engine import Engine
from floorcoach.runtime import EventLog, Runtime, ScaledClock, read_lines_into
from floorcoach.text_output import PrintedSpeech


def register(subparsers: Any) -> None:
    """Add the play subcommand."""
    play = subparsers.add_parser(
        "play",
        help="play a routine",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description=(
            "Play a routine. In --text mode speech is printed and commands are typed one per "
            "line ('pause', 'that hurts', 'four', ...); '@SECONDS words' types them at a "
            "session time."
        ),
    )
    play.add_argument("routine", nargs="?", help="routine name or path (default: first-week)")
    play.add_argument("--routines-dir", type=Path, help="routines folder")
    play.add_argument("--text", action="store_true", help="print speech, read typed commands")
    play.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="run this many times faster than real time (demos and tests)",
    )
    play.add_argument("--log", type=Path, help="append one JSON object per event to this file")
    play.add_argument("--rate-wpm", type=int, default=150, help="speech rate, words per minute")
    play.set_defaults(func=_play)


def _play(args: argparse.Namespace) -> int:
    if args.time_scale <= 0 or args.time_scale > 1000:
        print("floorcoach: --time-scale must be between 0 and 1000", file=sys.stderr)
        return 2
    catalog = Catalog.load(args.routines_dir)
    loaded = catalog.find(args.routine)
    engine = Engine(loaded, rate_wpm=args.rate_wpm)
    output = PrintedSpeech(rate_wpm=args.rate_wpm)
    if not args.text:
        print(
            "floorcoach: voice mode is not available in this build yet; using text mode "
            "(type commands, one per line).",
            file=sys.stderr,
        )
    event_log = EventLog(args.log) if args.log else None
    runtime = Runtime(
        engine,
        output,
        ScaledClock(args.time_scale),
        event_log=event_log,
        echo=lambda text: print(f"        {text}", flush=True),
    )
    read_lines_into(runtime, sys.stdin)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        runtime.shutdown(signal.Signals(signum).name)

    previous = signal.signal(signal.SIGTERM, on_signal)
    try:
        runtime.run()
    except KeyboardInterrupt:
        runtime.shutdown("SIGINT")
        print("\nSession stopped.", flush=True)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    if runtime.interrupted:
        print(f"Session stopped ({runtime.interrupted}).", flush=True)
        return 130
    return 0
