"""The `floorcoach` command: subcommands registered by small modules, exit codes chosen here."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from typing import Final

from floorcoach import __version__
from floorcoach.errors import FloorcoachError

SUBCOMMAND_MODULES: Final = (
    "floorcoach.cli.routines",
    "floorcoach.cli.play",
    "floorcoach.cli.audio",
    "floorcoach.cli.voice",
    "floorcoach.cli.demo",
    "floorcoach.cli.history",
    "floorcoach.cli.standby",
    "floorcoach.cli.questions",
    "floorcoach.cli.config",
    "floorcoach.cli.mictest",
    "floorcoach.cli.enroll",
)
"""Each module has `register(subparsers)`; a module that is missing is left out."""


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every available subcommand."""
    parser = argparse.ArgumentParser(
        prog="floorcoach",
        description="Offline, hands-free, voice-guided exercise player for back pain routines.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"floorcoach {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 problems found, 2 usage)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    handler = getattr(args, "func", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return int(handler(args))
    except FloorcoachError as exc:
        print(f"floorcoach: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("floorcoach: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
