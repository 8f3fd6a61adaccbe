"""`floorcoach list | show | check | schema`: routines as files, checked and explained."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from pydantic.json_schema import models_json_schema

from floorcoach.content.catalog import Catalog
from floorcoach.content.check import check_files
from floorcoach.content.routine import ExerciseLibrary, Guidance, Routine
from floorcoach.session.counting import spoken_seconds
from floorcoach.session.events import PlayCue, Say
from floorcoach.session.simulate import dry_run


def register(subparsers: Any) -> None:
    """Add the routine subcommands."""
    fmt = argparse.ArgumentDefaultsHelpFormatter
    folder_help = "routines folder (default: $FLOORCOACH_ROUTINES_DIR or the repo's routines/)"

    listing = subparsers.add_parser("list", help="list the routines", formatter_class=fmt)
    listing.add_argument("--routines-dir", type=Path, help=folder_help)
    listing.set_defaults(func=_list)

    show = subparsers.add_parser(
        "show", help="what a routine will say and count, step by step", formatter_class=fmt
    )
    show.add_argument("routine", nargs="?", help="routine name or path (default: first-week)")
    show.add_argument("--routines-dir", type=Path, help=folder_help)
    show.set_defaults(func=_show)

    check = subparsers.add_parser(
        "check", help="validate routine, library and guidance files", formatter_class=fmt
    )
    check.add_argument("files", nargs="+", type=Path, metavar="FILE")
    check.add_argument("--routines-dir", type=Path, help=folder_help)
    check.set_defaults(func=_check)

    schema = subparsers.add_parser(
        "schema", help="print the JSON Schema of the file format", formatter_class=fmt
    )
    schema.add_argument("--output", type=Path, help="write to this file instead of stdout")
    schema.set_defaults(func=_schema)


def _list(args: argparse.Namespace) -> int:
    catalog = Catalog.load(args.routines_dir)
    rows = []
    for path in catalog.routine_paths:
        loaded = catalog.find(str(path))
        seconds = dry_run(loaded).total_seconds
        rows.append(
            (loaded.routine.id, loaded.routine.name, str(len(loaded.items)), f"{seconds / 60:.0f}")
        )
    header = ("ROUTINE", "NAME", "EXERCISES", "MINUTES")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    return 0


def _show(args: argparse.Namespace) -> int:
    catalog = Catalog.load(args.routines_dir)
    loaded = catalog.find(args.routine)
    run = dry_run(loaded, announce_duration=True)
    print(f"{loaded.routine.name} ({loaded.path})")
    for t, effect in run.effects:
        if isinstance(effect, Say):
            print(f"{_clock(t)}  {effect.text}")
        elif isinstance(effect, PlayCue):
            print(f"{_clock(t)}  [{effect.cue.value} tone]")
    print(f"Total: {spoken_seconds(run.total_seconds)} ({len(loaded.items)} exercises)")
    return 0


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes:2d}:{secs:02d}"


def _check(args: argparse.Namespace) -> int:
    problems = check_files(args.files, args.routines_dir)
    for problem in problems:
        print(problem)
    if problems:
        return 1
    print(f"ok: {len(args.files)} file{'s' if len(args.files) != 1 else ''} checked")
    return 0


def json_schema() -> dict[str, Any]:
    """One schema for the three file kinds (routine, exercise library, guidance)."""
    _, top = models_json_schema(
        [(Routine, "validation"), (ExerciseLibrary, "validation"), (Guidance, "validation")],
        ref_template="#/$defs/{model}",
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "floorcoach routine, exercise library or guidance file",
        "anyOf": [
            {"$ref": "#/$defs/Routine"},
            {"$ref": "#/$defs/ExerciseLibrary"},
            {"$ref": "#/$defs/Guidance"},
        ],
        "$defs": top["$defs"],
    }


def _schema(args: argparse.Namespace) -> int:
    text = json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        print(text, end="")
    return 0
