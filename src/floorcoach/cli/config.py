"""`floorcoach config`: show the settings in effect and where each came from."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from floorcoach.runtime.config_effective import render_effective
from floorcoach.runtime.config_load import config_path, load_config
from floorcoach.runtime.config_save import init_config_file


def add_config_option(parser: argparse.ArgumentParser) -> None:
    """The --config option, for every subcommand that reads the settings."""
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="PATH",
        help="settings file (default: $FLOORCOACH_CONFIG, else "
        "$XDG_CONFIG_HOME/floorcoach/config.toml)",
    )


def register(subparsers: Any) -> None:
    """Add the `config` subcommand."""
    parser = subparsers.add_parser(
        "config",
        help="show the settings in effect (config file, defaults) and where they come from",
        description="Print the effective settings as TOML, each value marked with where it came "
        "from (the config file, state.toml for settings changed by voice, or the default). "
        "Problems in the file are listed on stderr, one line each; exit 1 if there are any.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_config_option(parser)
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--show", action="store_true", help="print the effective settings (default)")
    what.add_argument("--path", action="store_true", help="print only the config file's path")
    what.add_argument(
        "--init",
        action="store_true",
        help="write a commented config file with every default, if there is none yet",
    )
    parser.set_defaults(func=run_config)


def run_config(args: argparse.Namespace) -> int:
    """Print the path or the settings, or write the template; 1 when the file has problems."""
    if args.path:
        path, _origin = config_path(args.config)
        print(path)
        return 0
    if args.init:
        path, written = init_config_file(args.config)
        print(f"wrote {path}" if written else f"{path} already exists; left as it is")
        return 0
    loaded = load_config(args.config)
    print(render_effective(loaded), end="")
    return 1 if loaded.problems else 0
