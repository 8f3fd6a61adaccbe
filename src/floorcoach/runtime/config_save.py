"""Writing settings back: voice-changed speech settings, and the commented template for --init.

Speech settings changed by voice ("speak slower", "louder") are written into the `[speech]`
table of the config file, line by line, so the user's other keys and comments stay. When
that cannot be done safely (a file that does not parse, or one that spells the table in a
form the line editor does not know, such as `speech = {...}`), they go to `state.toml`
beside it instead, whose `[speech]` values then take precedence. Every write goes through a
temporary file and a rename, so a power cut leaves the old file or the new one.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import re
import stat
import tempfile
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

from pydantic import ValidationError

from floorcoach.runtime.config_load import config_path, state_path
from floorcoach.runtime.config_model import DEFAULT_CONFIG_TEXT, SPEECH_KEYS, SpeechSettings

_LOGGER = logging.getLogger(__name__)


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
        lines.extend(f"{key} = {toml_value(value)}{newline}" for key, value in pending.items())
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
                    f"{toml_value(value)}{match.group('tail')}{eol}"
                )
        added = [f"{key} = {toml_value(value)}{newline}" for key, value in pending.items()]
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


def toml_value(value: Any) -> str:
    """A value as written in a TOML file."""
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
    body = "".join(f"{key} = {toml_value(current[key])}\n" for key in sorted(current))
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


def init_config_file(path: Path | str | None = None) -> tuple[Path, bool]:
    """Write the documented template if there is no config file yet; (path, written)."""
    file, _origin = config_path(path)
    if file.exists():
        return file, False
    _write_atomic(file, DEFAULT_CONFIG_TEXT)
    return file, True
