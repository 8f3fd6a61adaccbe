"""The settings in effect, put to use: shown with their sources, and filled into the options.

The command line beats the settings file: an option given on it is kept, and only the
options left unset (None) take their value from the settings.
"""

from __future__ import annotations

from typing import Any, Final

from floorcoach.runtime.config_load import LoadedConfig, show_value
from floorcoach.runtime.config_model import SECTIONS, Config
from floorcoach.runtime.config_save import toml_value


def render_effective(loaded: LoadedConfig) -> str:
    """The settings in effect as TOML, each line saying where its value came from."""
    found = "found" if loaded.exists else "not found, all defaults"
    out = [f"# config file: {loaded.path} ({found}; chosen by {loaded.origin})"]
    if loaded.from_state:
        out.append(f"# voice-changed speech settings: {loaded.state_path}")
    if loaded.problems:
        out.append(f"# {len(loaded.problems)} problem(s) reported; defaults used for those keys")
    config = loaded.config
    for section, model in SECTIONS.items():
        out.append("")
        out.append(f"[{section}]")
        if model is None:
            table: dict[str, Any] = dict(getattr(config, section))
            if not table:
                out.append("# (empty)")
            for key, value in table.items():
                out.append(f"{key} = {show_value(value)}  # {loaded.source_of(section)}")
            continue
        values = getattr(config, section)
        for key in model.model_fields:
            value = getattr(values, key)
            source = loaded.source_of(f"{section}.{key}")
            if value is None:
                out.append(f'# {key} = "default"  # the system default ({source})')
            else:
                out.append(f"{key} = {toml_value(value)}  # {source}")
    return "\n".join(out) + "\n"


ARG_SETTINGS: Final[dict[str, tuple[str, str]]] = {
    "rate_wpm": ("speech", "rate_wpm"),
    "volume": ("speech", "volume"),
    "voice": ("speech", "voice"),
    "speech_backend": ("speech", "backend"),
    "input_device": ("devices", "input_device"),
    "output_device": ("devices", "output_device"),
    "engine": ("recognition", "engine"),
    "echo_cancel": ("recognition", "echo_cancel"),
    "routine": ("routine", "default"),
    "ready_check": ("standby", "ready_check"),
    "display": ("display", "mode"),
}
"""argparse destination -> config key, for options left unset (None) on the command line."""


def fill_args(args: Any, config: Config) -> Any:
    """Give every command-line option left at None its value from the config; returns args."""
    for dest, (section, key) in ARG_SETTINGS.items():
        if hasattr(args, dest) and getattr(args, dest) is None:
            setattr(args, dest, getattr(getattr(config, section), key))
    return args
