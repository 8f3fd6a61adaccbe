"""Loads routine, library and guidance files; every problem names file, line, exercise, field."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml
from pydantic import BaseModel, ValidationError

from floorcoach.content.routine import (
    Exercise,
    ExerciseLibrary,
    Guidance,
    PainRules,
    Routine,
    merge_pain_rules,
)
from floorcoach.errors import RoutineError
from floorcoach.paths import ROUTINES_DIR

LIBRARY_FILE: Final = "exercises.yaml"
GUIDANCE_FILE: Final = "guidance.yaml"
QUESTIONS_FILE: Final = "questions.yaml"
DATA_FILES: Final = (LIBRARY_FILE, GUIDANCE_FILE, QUESTIONS_FILE)
"""Files beside the routines that are not routines."""
DEFAULT_ROUTINE: Final = "first-week"
MAX_FILE_BYTES: Final = 1_000_000

Loc = tuple[str | int, ...]


def default_routines_dir() -> Path:
    """`$FLOORCOACH_ROUTINES_DIR`, else the repository's `routines/` folder."""
    env = os.environ.get("FLOORCOACH_ROUTINES_DIR")
    if env:
        return Path(env)
    return ROUTINES_DIR


# ---------------------------------------------------------------- YAML with line numbers


class _LineMap:
    """Maps a path into the parsed YAML (keys and indexes) to the line it starts on."""

    def __init__(self, root: yaml.Node | None) -> None:
        self._lines: dict[Loc, int] = {}
        self.duplicates: list[tuple[int, Loc, str]] = []
        if root is not None:
            self._walk(root, ())

    def _walk(self, node: yaml.Node, loc: Loc) -> None:
        self._lines[loc] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in node.value:
                key = str(key_node.value)
                if key in seen:
                    self.duplicates.append((key_node.start_mark.line + 1, loc, key))
                seen.add(key)
                self._walk(value_node, (*loc, key))
                # a key's own line is more useful than its value's for block values
                self._lines[(*loc, key)] = key_node.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self._walk(item, (*loc, index))

    def line(self, loc: Loc) -> int:
        """The line of the deepest part of `loc` that exists in the file."""
        for end in range(len(loc), -1, -1):
            found = self._lines.get(loc[:end])
            if found is not None:
                return found
        return 1


@dataclass
class _Source:
    path: Path
    data: Any
    lines: _LineMap


def _read_yaml(path: Path) -> _Source:
    """Parse a YAML file, turning every failure into a one-line RoutineError."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise RoutineError(f"{path}: no such file") from None
    except OSError as exc:
        raise RoutineError(f"{path}: cannot read ({exc.strerror})") from None
    if path.is_dir():
        raise RoutineError(f"{path}: is a folder, not a routine file")
    if size > MAX_FILE_BYTES:
        raise RoutineError(f"{path}: file is too large for a routine ({size} bytes)")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise RoutineError(f"{path}: not a text file (expected UTF-8 YAML)") from None
    except OSError as exc:
        raise RoutineError(f"{path}: cannot read ({exc.strerror})") from None
    return _parse_yaml(path, text)


def _parse_yaml(path: Path, text: str) -> _Source:
    if not text.strip():
        raise RoutineError(f"{path}:1: file is empty")
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        reason = exc.problem or exc.context or "invalid YAML"
        raise RoutineError(f"{path}:{line}: not valid YAML: {reason}") from None
    except yaml.YAMLError as exc:
        raise RoutineError(f"{path}:1: not valid YAML: {exc}") from None
    except RecursionError:
        raise RoutineError(f"{path}:1: not valid YAML: nested too deeply") from None
    lines = _LineMap(root)
    if lines.duplicates:
        problems = [
            f"{path}:{line}: {_where(data, loc)}duplicate key '{key}'"
            for line, loc, key in lines.duplicates
        ]
        raise RoutineError(problems[0], problems)
    if data is None:
        raise RoutineError(f"{path}:1: file has no content")
    if not isinstance(data, dict):
        raise RoutineError(
            f"{path}:1: expected a mapping of keys at the top level, got {type(data).__name__}"
        )
    return _Source(path, data, lines)


# ---------------------------------------------------------------- error messages


def _where(data: Any, loc: Loc) -> str:
    """'exercise 'bridge': ' or 'item 3 (exercise 'bridge'): ' for a location, or ''."""
    if len(loc) >= 2 and loc[0] == "exercises" and isinstance(loc[1], int):
        ident = _get(data, ("exercises", loc[1], "id"))
        return f"exercise '{ident}': " if isinstance(ident, str) else f"exercise {loc[1] + 1}: "
    if len(loc) >= 2 and loc[0] == "items" and isinstance(loc[1], int):
        ref = _get(data, ("items", loc[1], "exercise"))
        named = f" (exercise '{ref}')" if isinstance(ref, str) else ""
        return f"item {loc[1] + 1}{named}: "
    return ""


def _get(data: Any, loc: Loc) -> Any:
    for part in loc:
        if isinstance(part, int) and isinstance(data, list) and 0 <= part < len(data):
            data = data[part]
        elif isinstance(part, str) and isinstance(data, dict) and part in data:
            data = data[part]
        else:
            return None
    return data


def _field_name(loc: Loc) -> str:
    """The field path inside an exercise or item, e.g. 'hold_seconds' or 'setup[2]'."""
    parts = list(loc)
    if len(parts) >= 2 and parts[0] in ("exercises", "items") and isinstance(parts[1], int):
        parts = parts[2:]
    text = ""
    for part in parts:
        text += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _describe(error: Mapping[str, Any], model: type[BaseModel]) -> str:
    """Pydantic's error, rewritten as the one plain sentence a routine author needs."""
    kind = error["type"]
    ctx = {key: _number(value) for key, value in (error.get("ctx") or {}).items()}
    got = error.get("input")
    shown = repr(got) if isinstance(got, str) else got
    if isinstance(got, float) and got.is_integer():
        shown = int(got)
    simple = {
        "greater_than": f"must be > {ctx.get('gt')}",
        "greater_than_equal": f"must be >= {ctx.get('ge')}",
        "less_than": f"must be < {ctx.get('lt')}",
        "less_than_equal": f"must be <= {ctx.get('le')}",
        "int_type": "must be a whole number",
        "int_parsing": "must be a whole number",
        "int_from_float": "must be a whole number",
        "float_type": "must be a number",
        "float_parsing": "must be a number",
        "bool_type": "must be true or false",
        "bool_parsing": "must be true or false",
        "string_type": "must be text",
        "list_type": "must be a list",
        "model_type": "must be a mapping of keys",
        "dict_type": "must be a mapping of keys",
        "enum": f"must be one of {ctx.get('expected', '').replace(chr(39), '')}",
        "string_pattern_mismatch": (
            "must be lower-case words joined by hyphens, like 'knee-to-chest'"
        ),
        "string_too_short": f"must have at least {ctx.get('min_length')} characters",
        "string_too_long": f"must have at most {ctx.get('max_length')} characters",
        "too_short": f"must have at least {ctx.get('min_length')} entries",
        "too_long": f"must have at most {ctx.get('max_length')} entries",
    }
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind in simple:
        if kind in ("too_short", "too_long", "list_type", "model_type", "dict_type"):
            return simple[kind]
        return f"{simple[kind]} (got {shown})"
    return str(error["msg"]).lower()


def _number(value: Any) -> Any:
    """1.0 -> 1 so limits read naturally in messages."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _validation_problems(
    source: _Source, exc: ValidationError, model: type[BaseModel], base: Loc = ()
) -> list[str]:
    problems = []
    for error in exc.errors():
        loc: Loc = (*base, *error["loc"])
        line = source.lines.line(loc)
        where = _where(source.data, loc)
        name = _field_name(loc)
        message = _describe(error, model)
        if error["type"] == "extra_forbidden":
            key = loc[-1]
            parent_fields = _allowed_keys(model, loc[len(base) :])
            suggestion = _did_you_mean(str(key), parent_fields)
            message = f"unknown key '{key}'{suggestion}"
            name = _field_name(loc[:-1])
        if error["type"] == "value_error":
            label = f"{name}: " if name else ""
        else:
            label = f"{name} " if name and error["type"] != "extra_forbidden" else ""
            if name and error["type"] == "extra_forbidden":
                label = f"{name}: "
        problems.append(f"{source.path}:{line}: {where}{label}{message}")
    return problems


def _allowed_keys(model: type[BaseModel], loc: Loc) -> list[str]:
    """The keys allowed where an unknown key was found (best effort, for suggestions)."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field_info = current.model_fields.get(part) if hasattr(current, "model_fields") else None
        if field_info is None:
            return []
        current = _inner_model(field_info.annotation)
        if current is None:
            return []
    return list(current.model_fields) if hasattr(current, "model_fields") else []


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _validate(source: _Source, model: type[BaseModel]) -> Any:
    try:
        return model.model_validate(source.data)
    except ValidationError as exc:
        problems = _validation_problems(source, exc, model)
        raise RoutineError(problems[0], problems) from None


# ---------------------------------------------------------------- file kinds


def _kind_of(source: _Source) -> str:
    keys = set(source.data)
    if "exercises" in keys:
        return "library"
    if "items" in keys:
        return "routine"
    if "progression" in keys:
        return "guidance"
    if "questions" in keys:
        return "questions"
    raise RoutineError(
        f"{source.path}:1: not a routine, exercise library or guidance file "
        "(expected a top-level key 'items', 'exercises' or 'progression')"
    )


def load_library(path: Path) -> ExerciseLibrary:
    """Load and check an exercise library: ids unique, variants exist and never loop."""
    source = _read_yaml(path)
    library: ExerciseLibrary = _validate(source, ExerciseLibrary)
    problems = _library_problems(source, library)
    if problems:
        raise RoutineError(problems[0], problems)
    return library


def _library_problems(source: _Source, library: ExerciseLibrary) -> list[str]:
    problems: list[str] = []
    ids = [exercise.id for exercise in library.exercises]
    seen: dict[str, int] = {}
    for index, ident in enumerate(ids):
        if ident in seen:
            line = source.lines.line(("exercises", index, "id"))
            first = source.lines.line(("exercises", seen[ident], "id"))
            problems.append(
                f"{source.path}:{line}: exercise '{ident}': duplicate id "
                f"(first defined on line {first})"
            )
        else:
            seen[ident] = index
    by_id = {exercise.id: exercise for exercise in library.exercises}
    for index, exercise in enumerate(library.exercises):
        for direction in ("easier", "harder"):
            target = getattr(exercise, direction)
            if target is not None and target not in by_id:
                line = source.lines.line(("exercises", index, direction))
                problems.append(
                    f"{source.path}:{line}: exercise '{exercise.id}': {direction} variant "
                    f"'{target}' is not in the library{_did_you_mean(target, by_id)}"
                )
    for direction in ("easier", "harder"):
        reported: set[str] = set()
        for index, exercise in enumerate(library.exercises):
            cycle = _variant_cycle(exercise.id, by_id, direction)
            if cycle and not reported.intersection(cycle):
                reported.update(cycle)
                line = source.lines.line(("exercises", index, direction))
                chain = " -> ".join([*cycle, cycle[0]])
                problems.append(
                    f"{source.path}:{line}: exercise '{exercise.id}': {direction} variants "
                    f"go round in a circle ({chain})"
                )
    return problems


def _variant_cycle(start: str, by_id: Mapping[str, Exercise], direction: str) -> list[str]:
    chain: list[str] = []
    current: str | None = start
    while current is not None and current in by_id:
        if current in chain:
            return chain[chain.index(current) :] if current == start else []
        chain.append(current)
        current = getattr(by_id[current], direction)
    return []


def load_guidance(path: Path) -> Guidance:
    """Load the guidance file (progression table, warning signs, flare-up advice)."""
    source = _read_yaml(path)
    guidance: Guidance = _validate(source, Guidance)
    return guidance


@dataclass(frozen=True)
class ResolvedItem:
    """A routine item with the library exercise and the routine's overrides applied."""

    exercise: Exercise
    pain_rules: PainRules
    index: int


@dataclass(frozen=True)
class LoadedRoutine:
    """A routine checked against its library, ready to play."""

    routine: Routine
    path: Path
    items: tuple[ResolvedItem, ...]
    library: Mapping[str, Exercise] = field(repr=False)

    def variant(self, exercise: Exercise, direction: str) -> Exercise | None:
        """The easier or harder variant of an exercise, if the library has one."""
        target = exercise.easier if direction == "easier" else exercise.harder
        return self.library.get(target) if target else None


def load_routine(path: Path, library: ExerciseLibrary) -> LoadedRoutine:
    """Load a routine file and resolve each item against the library."""
    source = _read_yaml(path)
    if _kind_of(source) != "routine":
        raise RoutineError(f"{path}:1: not a routine file (it has no top-level 'items')")
    routine: Routine = _validate(source, Routine)
    return _resolve(source, routine, library)


def _resolve(source: _Source, routine: Routine, library: ExerciseLibrary) -> LoadedRoutine:
    by_id = {exercise.id: exercise for exercise in library.exercises}
    problems: list[str] = []
    items: list[ResolvedItem] = []
    for index, item in enumerate(routine.items):
        base = by_id.get(item.exercise)
        if base is None:
            line = source.lines.line(("items", index, "exercise"))
            problems.append(
                f"{source.path}:{line}: item {index + 1}: exercise '{item.exercise}' is not "
                f"in the library{_did_you_mean(item.exercise, by_id)}"
            )
            continue
        overrides = item.overrides()
        overrides.pop("pain_rules", None)
        merged = base.model_dump()
        merged.update(overrides)
        if item.hold_seconds is not None:
            # limits follow the routine's own choice: explicit ones widen, default ones scale
            hold = item.hold_seconds
            if base.min_hold_seconds is not None:
                merged["min_hold_seconds"] = min(base.min_hold_seconds, hold)
            if base.max_hold_seconds is not None:
                merged["max_hold_seconds"] = max(base.max_hold_seconds, hold)
        if item.reps is not None:
            if base.min_reps is not None:
                merged["min_reps"] = min(base.min_reps, item.reps)
            if base.max_reps is not None:
                merged["max_reps"] = max(base.max_reps, item.reps)
        try:
            exercise = Exercise.model_validate(merged)
        except ValidationError as exc:
            for error in exc.errors():
                field_name = _field_name(error["loc"])
                line = source.lines.line(("items", index, *error["loc"]))
                label = f"{field_name} " if field_name and error["type"] != "value_error" else ""
                problems.append(
                    f"{source.path}:{line}: item {index + 1} (exercise '{item.exercise}'): "
                    f"{label}{_describe(error, Exercise)}"
                )
            continue
        rules = merge_pain_rules(routine.pain_rules, base.pain_rules, item.pain_rules)
        items.append(ResolvedItem(exercise, rules, index))
    if problems:
        raise RoutineError(problems[0], problems)
    return LoadedRoutine(routine, source.path, tuple(items), by_id)


# ---------------------------------------------------------------- catalog


@dataclass(frozen=True)
class Catalog:
    """Everything in a routines folder: the library, the guidance and the routines."""

    folder: Path
    library: ExerciseLibrary
    guidance: Guidance | None
    routine_paths: tuple[Path, ...]

    @classmethod
    def load(cls, folder: Path | None = None) -> Catalog:
        """Load the library and guidance from a folder; routines are loaded on demand."""
        folder = folder or default_routines_dir()
        if not folder.is_dir():
            raise RoutineError(
                f"{folder}: routines folder not found "
                "(set FLOORCOACH_ROUTINES_DIR or run from the floorcoach checkout)"
            )
        library = load_library(folder / LIBRARY_FILE)
        guidance_path = folder / GUIDANCE_FILE
        guidance = load_guidance(guidance_path) if guidance_path.exists() else None
        paths = tuple(sorted(path for path in folder.glob("*.yaml") if path.name not in DATA_FILES))
        return cls(folder, library, guidance, paths)

    def routine_ids(self) -> list[str]:
        """Routine names as users type them (file names without .yaml)."""
        return [path.stem for path in self.routine_paths]

    def find(self, name_or_path: str | None) -> LoadedRoutine:
        """A routine by id, file name or path; a misspelled name gets 'did you mean'."""
        name = name_or_path or DEFAULT_ROUTINE
        candidate = Path(name)
        if candidate.suffix in (".yaml", ".yml") or os.sep in name:
            if not candidate.exists() and (self.folder / candidate.name).exists():
                candidate = self.folder / candidate.name
            return load_routine(candidate, self.library)
        for path in self.routine_paths:
            if path.stem == name:
                return load_routine(path, self.library)
        for path in self.routine_paths:
            loaded = load_routine(path, self.library)
            if loaded.routine.id == name:
                return loaded
        known = self.routine_ids()
        hint = _did_you_mean(name, known)
        listing = ", ".join(known) if known else "none"
        raise RoutineError(f"no routine named '{name}'{hint}; known routines: {listing}")


def parse_routine_text(text: str, library: ExerciseLibrary, name: str = "<text>") -> None:
    """Validate routine YAML given as text (used by the property-based tests)."""
    source = _parse_yaml(Path(name), text)
    if _kind_of(source) != "routine":
        raise RoutineError(f"{name}:1: not a routine file (it has no top-level 'items')")
    routine: Routine = _validate(source, Routine)
    _resolve(source, routine, library)
