"""Reading the settings: which file, what it says, and one line for each key that is wrong.

`$FLOORCOACH_CONFIG`, else `$XDG_CONFIG_HOME/floorcoach/config.toml`, else
`~/.config/floorcoach/config.toml` (a `--config PATH` beats both). A key that is unknown
or has a bad value is reported on one line (its name and what is accepted) and its default
is used: a typo must never keep someone from their exercises. Speech settings changed by
voice may sit in `state.toml` beside the file (see config_save); its `[speech]` values win.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import sys
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from pydantic import ValidationError

from floorcoach.runtime.config_model import SECTIONS, SPEECH_KEYS, Config

_LOGGER = logging.getLogger(__name__)

ENV_CONFIG: Final = "FLOORCOACH_CONFIG"
STATE_FILE_NAME: Final = "state.toml"


@dataclass(frozen=True)
class ConfigProblem:
    """One bad key or value: which, and what would have been accepted."""

    key: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass
class LoadedConfig:
    """The effective settings and where each came from."""

    config: Config
    path: Path
    origin: str
    """How the path was chosen: --config, $FLOORCOACH_CONFIG, $XDG_CONFIG_HOME or ~/.config."""
    exists: bool
    problems: list[ConfigProblem] = field(default_factory=list)
    from_file: set[str] = field(default_factory=set)
    """Dotted keys whose value came from config.toml."""
    from_state: set[str] = field(default_factory=set)
    """Dotted keys whose value came from state.toml (voice-changed speech settings)."""

    @property
    def state_path(self) -> Path:
        """Where voice-changed settings go when config.toml cannot be edited safely."""
        return state_path(self.path)

    def source_of(self, key: str) -> str:
        """'state.toml', the config file's name, or 'default'."""
        if key in self.from_state:
            return STATE_FILE_NAME
        if key in self.from_file:
            return self.path.name
        return "default"


def config_path(explicit: Path | str | None = None) -> tuple[Path, str]:
    """The config file to use and why: --config, $FLOORCOACH_CONFIG, then the XDG path."""
    if explicit is not None and str(explicit):
        return Path(explicit).expanduser(), "--config"
    env = os.environ.get(ENV_CONFIG)
    if env:
        return Path(env).expanduser(), f"${ENV_CONFIG}"
    xdg = os.environ.get("XDG_CONFIG_HOME")
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "floorcoach" / "config.toml", "$XDG_CONFIG_HOME"
    return Path.home() / ".config" / "floorcoach" / "config.toml", "~/.config"


def state_path(config_file: Path) -> Path:
    """state.toml lives beside the config file it belongs to."""
    return config_file.with_name(STATE_FILE_NAME)


def _stderr(line: str) -> None:
    print(f"floorcoach: {line}", file=sys.stderr, flush=True)


def load_config(
    path: Path | str | None = None, *, warn: Callable[[str], None] | None = _stderr
) -> LoadedConfig:
    """Read and validate the settings; problems go to `warn` one line each, defaults fill in."""
    file, origin = config_path(path)
    problems: list[ConfigProblem] = []
    data, exists = _read_toml(file, problems)
    state, _ = _read_toml(state_path(file), problems)
    from_file = _dotted_keys(data)
    # Only the persisted speech keys are taken from state.toml; anything else there is noise.
    state_speech = state.get("speech")
    if not isinstance(state_speech, dict):
        state_speech = {}
    state_values = {k: v for k, v in state_speech.items() if k in SPEECH_KEYS}
    merged = copy.deepcopy(data)
    if state_values:
        speech = merged.get("speech")
        if not isinstance(speech, dict):
            speech = {}
            merged["speech"] = speech
        speech.update(state_values)
    config, dropped = _validate(merged, file.name, problems)
    from_state = {f"speech.{k}" for k in state_values} - dropped
    loaded = LoadedConfig(
        config=config,
        path=file,
        origin=origin,
        exists=exists,
        problems=problems,
        from_file=(from_file - dropped) - from_state,
        from_state=from_state,
    )
    if warn is not None:
        for problem in problems:
            warn(problem.message)
    return loaded


def _read_toml(file: Path, problems: list[ConfigProblem]) -> tuple[dict[str, Any], bool]:
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        return {}, False
    except OSError as exc:
        problems.append(
            ConfigProblem("", f"{file}: cannot be read ({exc.strerror}); using the defaults")
        )
        return {}, True
    try:
        return tomllib.loads(raw.decode("utf-8")), True
    except UnicodeDecodeError:
        reason = "it is not UTF-8 text"
    except tomllib.TOMLDecodeError as exc:
        reason = f"it is not valid TOML: {exc}"
    problems.append(ConfigProblem("", f"{file}: {reason}; using the defaults for everything in it"))
    return {}, True


def _dotted_keys(data: Mapping[str, Any]) -> set[str]:
    keys: set[str] = set()
    for name, value in data.items():
        if isinstance(value, dict) and name in SECTIONS and SECTIONS[name] is not None:
            keys.update(f"{name}.{key}" for key in value)
        else:
            keys.add(name)
    return keys


def _validate(
    data: dict[str, Any], file_name: str, problems: list[ConfigProblem]
) -> tuple[Config, set[str]]:
    """Validate, dropping each bad key (reported once) until what is left is valid."""
    data = copy.deepcopy(data)
    dropped: set[str] = set()
    for _ in range(100):
        try:
            return Config.model_validate(data), dropped
        except ValidationError as exc:
            errors = exc.errors()
        progressed = False
        for error in errors:
            path = _key_path(error["loc"])
            key = ".".join(path)
            if key in dropped:
                continue
            value = _lookup(data, path)
            if value is _MISSING:
                continue
            problems.append(ConfigProblem(key, _describe(file_name, path, value, error)))
            _remove(data, path)
            dropped.add(key)
            progressed = True
        if not progressed:
            break
    _LOGGER.error("config could not be validated even after dropping bad keys: %s", data)
    return Config(), dropped


_MISSING: Final = object()


def _key_path(loc: tuple[int | str, ...]) -> tuple[str, ...]:
    """A pydantic error location cut to the file's key (unions add their member names)."""
    parts = [str(part) for part in loc]
    if parts and SECTIONS.get(parts[0]) is not None:
        return tuple(parts[:2])
    return tuple(parts[:1])


def _lookup(data: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = data
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _remove(data: dict[str, Any], path: tuple[str, ...]) -> None:
    node: Any = data
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]


def show_value(value: Any) -> str:
    """A value as quoted back to the user (a table or list by kind, a long one cut short)."""
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def _describe(file_name: str, path: tuple[str, ...], value: Any, error: Any) -> str:
    key = ".".join(path)
    if error["type"] == "extra_forbidden":
        if len(path) == 1:
            return (
                f"{file_name}: unknown table or key '{key}' is ignored; "
                f"accepted tables: {', '.join(SECTIONS)}"
            )
        section_model = SECTIONS.get(path[0])
        accepted = ", ".join(section_model.model_fields) if section_model else ""
        return f"{file_name}: unknown key '{key}' is ignored; accepted in [{path[0]}]: {accepted}"
    if len(path) == 1:
        model = SECTIONS.get(path[0])
        if model is not None:
            return (
                f"{file_name}: '{key}' must be a table ([{key}] with keys "
                f"{', '.join(model.model_fields)}); using its defaults"
            )
        return f"{file_name}: '{key}' = {show_value(value)} is not allowed; accepted: a table"
    info = _field_info(path)
    accepts = info[0] if info else "see floorcoach config --show"
    default = f"; using the default {info[1]}" if info else ""
    return f"{file_name}: {key} = {show_value(value)} is not allowed; accepted: {accepts}{default}"


def _field_info(path: tuple[str, ...]) -> tuple[str, str] | None:
    """What a key accepts and its default, as shown to the user."""
    model = SECTIONS.get(path[0])
    if model is None or path[1] not in model.model_fields:
        return None
    info = model.model_fields[path[1]]
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    default = info.get_default(call_default_factory=True)
    shown = "the system default" if default is None else show_value(default)
    return str(extra.get("accepts", info.description or "")), shown
