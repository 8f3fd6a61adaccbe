"""The settings file: a TOML file at an XDG path, validated key by key, never fatal.

`$FLOORCOACH_CONFIG`, else `$XDG_CONFIG_HOME/floorcoach/config.toml`, else
`~/.config/floorcoach/config.toml` (a `--config PATH` beats both). A key that is unknown
or has a bad value is reported on one line (its name and what is accepted) and its default
is used: a typo must never keep someone from their exercises.

Speech settings changed by voice ("speak slower", "louder") are written back into the
`[speech]` table of the same file, line by line, so the user's other keys and comments
stay. When that cannot be done safely (a file that does not parse, or one that spells the
table in a form the line editor does not know, such as `speech = {...}`), they go to
`state.toml` beside it instead, whose `[speech]` values then take precedence.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import re
import stat
import sys
import tempfile
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

_LOGGER = logging.getLogger(__name__)

ENV_CONFIG: Final = "FLOORCOACH_CONFIG"
STATE_FILE_NAME: Final = "state.toml"
SPEECH_KEYS: Final = ("rate_wpm", "volume", "voice")
"""The speech keys that voice commands may change and that are persisted."""


def _accepts(text: str) -> dict[str, Any]:
    return {"accepts": text}


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SpeechSettings(_Section):
    """How the player speaks; `speak slower`, `louder` and friends change these."""

    rate_wpm: int = Field(
        default=150,
        ge=80,
        le=260,
        strict=True,
        description="speech rate in words per minute",
        json_schema_extra=_accepts("a whole number from 80 to 260"),
    )
    volume: float = Field(
        default=1.0,
        ge=0.2,
        le=1.0,
        strict=True,
        description="speech volume; never below 0.2 so the voice cannot be lost",
        json_schema_extra=_accepts("a number from 0.2 to 1.0"),
    )
    voice: str = Field(
        default="en-us",
        min_length=1,
        pattern=r"^[A-Za-z0-9_+\-]+$",
        strict=True,
        description="espeak-ng voice name (espeak-ng --voices lists them)",
        json_schema_extra=_accepts("an espeak-ng voice name such as en-us, en-gb or en+f3"),
    )
    backend: Literal["pyttsx3", "espeak"] = Field(
        default="pyttsx3",
        description="speech synthesizer",
        json_schema_extra=_accepts('"pyttsx3" or "espeak"'),
    )


class DeviceSettings(_Section):
    """Which microphone and speaker to use (index or name substring from `floorcoach devices`)."""

    input_device: int | str | None = Field(
        default=None,
        description="microphone: index or name substring; leave out for the system default",
        json_schema_extra=_accepts('a device index (0, 1, ...), a name substring, or "default"'),
    )
    output_device: int | str | None = Field(
        default=None,
        description="speaker: index or name substring; leave out for the system default",
        json_schema_extra=_accepts('a device index (0, 1, ...), a name substring, or "default"'),
    )

    @field_validator("input_device", "output_device", mode="before")
    @classmethod
    def _device(cls, value: Any) -> Any:
        """TOML has no null: "default" (or an empty string) means the system default."""
        if isinstance(value, bool):
            raise ValueError("not a device")
        if isinstance(value, int) and value < 0:
            raise ValueError("negative index")
        if isinstance(value, str):
            text = value.strip()
            if not text or text.casefold() in ("default", "none"):
                return None
            return int(text) if text.isdigit() else text
        return value


class RecognitionSettings(_Section):
    """Which speech recognizer listens for commands."""

    engine: Literal["auto", "pocketsphinx", "vosk"] = Field(
        default="auto",
        description="auto: Vosk when an English model is installed, else pocketsphinx",
        json_schema_extra=_accepts('"auto", "pocketsphinx" or "vosk"'),
    )
    echo_cancel: Literal["webrtc", "nlms", "none"] = Field(
        default="webrtc",
        description="how the player's own voice is taken out of the microphone: webrtc "
        "(WebRTC's echo canceller), nlms (the built-in adaptive filter) or none",
        json_schema_extra=_accepts('"webrtc", "nlms" or "none"'),
    )


class RoutineSettings(_Section):
    """Which routine `floorcoach play` (and "start" in standby) plays when none is named."""

    default: str = Field(
        default="first-week",
        min_length=1,
        strict=True,
        description="routine name (floorcoach list shows them)",
        json_schema_extra=_accepts("a routine name from floorcoach list, such as first-week"),
    )


class DisplaySettings(_Section):
    """What the terminal shows; the voice always says everything anyway."""

    mode: Literal["normal", "plain", "big"] = Field(
        default="normal",
        description="normal: printed speech; plain: one line per event for screen readers; "
        "big: large high-contrast view",
        json_schema_extra=_accepts('"normal", "plain" or "big"'),
    )


class Config(_Section):
    """Every setting, with the documented defaults."""

    speech: SpeechSettings = SpeechSettings()
    devices: DeviceSettings = DeviceSettings()
    recognition: RecognitionSettings = RecognitionSettings()
    routine: RoutineSettings = RoutineSettings()
    display: DisplaySettings = DisplaySettings()
    reminders: dict[str, Any] = Field(
        default_factory=dict,
        description="reminder settings (validated by the reminders module)",
        json_schema_extra=_accepts("a table, [reminders]"),
    )


SECTIONS: Final[dict[str, type[_Section] | None]] = {
    "speech": SpeechSettings,
    "devices": DeviceSettings,
    "recognition": RecognitionSettings,
    "routine": RoutineSettings,
    "display": DisplaySettings,
    "reminders": None,
}
"""Tables of the file; None: passed through as a plain table."""

DEFAULT_CONFIG_TEXT: Final = """\
# floorcoach settings (floorcoach config --show prints what is in effect).
# A line starting with # is a comment; remove the # to change a setting. A bad value is
# reported when floorcoach starts, and the default is used for it.

[speech]
# rate_wpm = 150        # words per minute, 80 to 260 ("speak slower" / "speak faster")
# volume = 1.0          # 0.2 to 1.0 ("quieter" / "louder")
# voice = "en-us"       # espeak-ng voice: en-us, en-gb, en+f3, ... (espeak-ng --voices)
# backend = "pyttsx3"   # "pyttsx3" or "espeak"

[devices]
# Index or part of the name, from `floorcoach devices`; leave out for the system default.
# input_device = "USB"
# output_device = "USB"

[recognition]
# engine = "auto"       # "auto" (Vosk if an English model is installed), "pocketsphinx", "vosk"
# echo_cancel = "webrtc"  # the player's own voice out of the microphone: "webrtc", "nlms", "none"

[routine]
# default = "first-week"   # played by `floorcoach play` and by saying "start"

[display]
# mode = "normal"       # "normal", "plain" (screen readers) or "big" (large type)
"""


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


def _show(value: Any) -> str:
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
        return f"{file_name}: '{key}' = {_show(value)} is not allowed; accepted: a table"
    info = _field_info(path)
    accepts = info[0] if info else "see floorcoach config --show"
    default = f"; using the default {info[1]}" if info else ""
    return f"{file_name}: {key} = {_show(value)} is not allowed; accepted: {accepts}{default}"


def _field_info(path: tuple[str, ...]) -> tuple[str, str] | None:
    """What a key accepts and its default, as shown to the user."""
    model = SECTIONS.get(path[0])
    if model is None or path[1] not in model.model_fields:
        return None
    info = model.model_fields[path[1]]
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    default = info.get_default(call_default_factory=True)
    shown = "the system default" if default is None else _show(default)
    return str(extra.get("accepts", info.description or "")), shown


# ---------------------------------------------------------------- writing speech settings


def save_speech_settings(
    rate_wpm: int | None = None,
    volume: float | None = None,
    voice: str | None = None,
    *,
    path: Path | str | None = None,
) -> Path:
    """Persist voice-changed speech settings (None: unchanged); returns the file written.

    Edits only the [speech] lines of the config file (comments and other keys stay), checks
    the result parses to exactly the old settings plus the change, and writes it atomically;
    otherwise writes state.toml beside it. Raises ValueError for a value out of range.
    """
    file, _origin = config_path(path)
    changes: dict[str, Any] = {}
    if rate_wpm is not None:
        changes["rate_wpm"] = int(rate_wpm)
    if volume is not None:
        changes["volume"] = round(float(volume), 2)
    if voice is not None:
        changes["voice"] = voice
    try:
        SpeechSettings.model_validate(changes)
    except ValidationError as exc:
        raise ValueError(
            f"speech settings out of range: {changes} ({exc.error_count()} errors)"
        ) from exc
    if not changes:
        return file
    target = file.resolve() if file.is_symlink() else file
    try:
        old_text = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        old_text = DEFAULT_CONFIG_TEXT
    except (OSError, UnicodeDecodeError) as exc:
        _LOGGER.warning("cannot read %s (%s); saving speech settings to state.toml", file, exc)
        return _save_state(file, changes)
    new_text = rewrite_speech_table(old_text, changes)
    if new_text is None:
        return _save_state(file, changes)
    _write_atomic(target, new_text)
    _forget_state(file, set(changes))
    return file


def rewrite_speech_table(text: str, changes: Mapping[str, Any]) -> str | None:
    """The text with [speech] keys set to `changes`, or None when that cannot be done safely."""
    try:
        before = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None
    lines = text.splitlines(keepends=True)
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    start = next((i for i, line in enumerate(lines) if _SPEECH_HEADER.match(line)), None)
    pending = dict(changes)
    if start is None:
        if lines and not lines[-1].endswith(("\n", "\r")):
            lines[-1] += newline
        lines.append(f"{newline}[speech]{newline}")
        lines.extend(f"{key} = {_toml_value(value)}{newline}" for key, value in pending.items())
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if _ANY_HEADER.match(lines[i])), len(lines)
        )
        for i in range(start + 1, end):
            match = _KEY_LINE.match(lines[i])
            if match and match.group("key") in pending:
                value = pending.pop(match.group("key"))
                eol = newline if lines[i].endswith(("\n", "\r")) else ""
                lines[i] = (
                    f"{match.group('lead')}{match.group('key')}{match.group('eq')}"
                    f"{_toml_value(value)}{match.group('tail')}{eol}"
                )
        added = [f"{key} = {_toml_value(value)}{newline}" for key, value in pending.items()]
        lines[start + 1 : start + 1] = added
    new_text = "".join(lines)
    expected = copy.deepcopy(before)
    speech = expected.setdefault("speech", {})
    if not isinstance(speech, dict):
        return None
    speech.update(changes)
    try:
        return new_text if tomllib.loads(new_text) == expected else None
    except tomllib.TOMLDecodeError:
        return None


_SPEECH_HEADER: Final = re.compile(r"^\s*\[\s*(speech|\"speech\"|'speech')\s*\]\s*(#.*)?$")
_ANY_HEADER: Final = re.compile(r"^\s*\[")
_KEY_LINE: Final = re.compile(
    r"^(?P<lead>\s*)(?P<key>[A-Za-z0-9_-]+)(?P<eq>\s*=\s*)"
    r"(?P<value>\"(?:[^\"\\\n]|\\.)*\"|'[^'\n]*'|[^\s#]+)"
    r"(?P<tail>[ \t]*(?:#[^\r\n]*)?)\r?\n?$"
)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)


def _save_state(file: Path, changes: Mapping[str, Any]) -> Path:
    state_file = state_path(file)
    current: dict[str, Any] = {}
    try:
        parsed = tomllib.loads(state_file.read_text(encoding="utf-8"))
        speech = parsed.get("speech")
        if isinstance(speech, dict):
            current = {k: v for k, v in speech.items() if k in SPEECH_KEYS}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        pass
    current.update(changes)
    body = "".join(f"{key} = {_toml_value(current[key])}\n" for key in sorted(current))
    _write_atomic(
        state_file,
        "# Speech settings changed by voice; they take precedence over config.toml's.\n"
        "# Written by floorcoach: delete this file to go back to config.toml's values.\n"
        f"[speech]\n{body}",
    )
    _LOGGER.info("speech settings saved to %s (config file left as it is)", state_file)
    return state_file


def _forget_state(file: Path, keys: set[str]) -> None:
    """Keys now written to config.toml must no longer be overridden by state.toml."""
    state_file = state_path(file)
    if not state_file.exists():
        return
    try:
        parsed = tomllib.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return
    speech = parsed.get("speech")
    if not isinstance(speech, dict):
        return
    rest = {k: v for k, v in speech.items() if k in SPEECH_KEYS and k not in keys}
    if not rest:
        state_file.unlink(missing_ok=True)
    elif len(rest) != len(speech):
        state_file.unlink(missing_ok=True)
        _save_state(file, rest)


def _write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a power cut leaves the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.chmod(tmp, stat.S_IMODE(path.stat().st_mode))
        except FileNotFoundError:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def speech_change_saver(
    path: Path | str | None = None, *, note: Callable[[str], None] | None = None
) -> Callable[[Mapping[str, Any]], None]:
    """An `on_record` hook that persists "speak slower" / "louder" decisions as they happen.

    The engine logs them as decision records (speech_rate with rate_wpm, volume with
    volume). A failed write is reported once through `note` and never stops the session.
    """
    failed: list[str] = []

    def on_record(record: Mapping[str, Any]) -> None:
        if record.get("kind") != "decision":
            return
        decision = record.get("decision")
        try:
            if decision == "speech_rate" and record.get("rate_wpm") is not None:
                save_speech_settings(rate_wpm=int(record["rate_wpm"]), path=path)
            elif decision == "volume" and record.get("volume") is not None:
                save_speech_settings(volume=float(record["volume"]), path=path)
        except (OSError, ValueError) as exc:
            _LOGGER.warning("could not save the speech settings: %s", exc)
            if not failed and note is not None:
                note(f"could not save the speech settings ({exc}); they last this session only")
            failed.append(str(exc))

    return on_record


# ---------------------------------------------------------------- showing and using it


def init_config_file(path: Path | str | None = None) -> tuple[Path, bool]:
    """Write the documented template if there is no config file yet; (path, written)."""
    file, _origin = config_path(path)
    if file.exists():
        return file, False
    _write_atomic(file, DEFAULT_CONFIG_TEXT)
    return file, True


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
                out.append(f"{key} = {_show(value)}  # {loaded.source_of(section)}")
            continue
        values = getattr(config, section)
        for key in model.model_fields:
            value = getattr(values, key)
            source = loaded.source_of(f"{section}.{key}")
            if value is None:
                out.append(f'# {key} = "default"  # the system default ({source})')
            else:
                out.append(f"{key} = {_toml_value(value)}  # {source}")
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
    "display": ("display", "mode"),
}
"""argparse destination -> config key, for options left unset (None) on the command line."""


def fill_args(args: Any, config: Config) -> Any:
    """Give every command-line option left at None its value from the config; returns args."""
    for dest, (section, key) in ARG_SETTINGS.items():
        if hasattr(args, dest) and getattr(args, dest) is None:
            setattr(args, dest, getattr(getattr(config, section), key))
    return args
