"""`floorcoach demo`: a whole hands-free session with a synthetic user, on any machine."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    """Add the demo subcommand."""
    demo = subparsers.add_parser(
        "demo",
        help="a synthetic user talks to the player; writes demo.wav and a transcript",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    demo.add_argument("--routine", default="quick-test", help="routine to play")
    demo.add_argument("--routines-dir", type=Path, help="routines folder")
    demo.add_argument("--output", type=Path, default=Path("demo.wav"), help="session audio")
    demo.add_argument(
        "--transcript", type=Path, default=Path("demo.txt"), help="readable transcript"
    )
    demo.add_argument("--user-wav", type=Path, help="also save the user's side alone")
    demo.add_argument(
        "--engine", default="auto", choices=("auto", "pocketsphinx", "vosk"), help="recognizer"
    )
    demo.add_argument("--log", type=Path, help="write the JSONL event log here")
    demo.set_defaults(func=_demo)


def _demo(args: argparse.Namespace) -> int:
    from floorcoach.audio.listening.recognizer_factory import make_recognizer
    from floorcoach.audio.speaking.speech_cache import CachedSynthesizer, SpeechCache
    from floorcoach.audio.speaking.synth import make_synthesizer
    from floorcoach.content.catalog import Catalog
    from floorcoach.runtime.demo import USER_VOICE, run_demo, summary_lines
    from floorcoach.runtime.event_loop import EventLog

    loaded = Catalog.load(args.routines_dir).find(args.routine)
    cache = SpeechCache()
    player = CachedSynthesizer(make_synthesizer("pyttsx3"), cache)
    user = CachedSynthesizer(make_synthesizer("espeak", voice=USER_VOICE), cache)
    result = run_demo(
        loaded, player, user, make_recognizer(args.engine), args.output, args.user_wav
    )
    args.transcript.write_text(result.transcript(), encoding="utf-8")
    if args.log:
        log = EventLog(args.log)
        for record in result.sim.records:
            log.write(record)
        log.close()
    for line in summary_lines(result):
        print(line)
    print(f"wrote {args.output} and {args.transcript}")
    return 0
