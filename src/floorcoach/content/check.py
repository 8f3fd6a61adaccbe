"""`floorcoach routines check`: validate files of any kind (routines, the exercise library,
guidance, questions) and report every problem as `file:line: message`.

Apart from the loader because it needs the question checker, which needs the loader.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from floorcoach.content.catalog import (
    LIBRARY_FILE,
    _kind_of,
    _library_problems,
    _read_yaml,
    _resolve,
    _Source,
    _validate,
    default_routines_dir,
    load_library,
)
from floorcoach.content.questions import check_questions
from floorcoach.content.routine import ExerciseLibrary, Guidance, Routine
from floorcoach.errors import RoutineError


def check_files(paths: Sequence[Path], folder: Path | None = None) -> list[str]:
    """Validate files of any kind; returns one line per problem (empty when all is well)."""
    problems: list[str] = []
    sources: list[tuple[_Source, str]] = []
    for path in paths:
        try:
            source = _read_yaml(path)
            sources.append((source, _kind_of(source)))
        except RoutineError as exc:
            problems.extend(exc.problems)
    libraries: dict[Path, ExerciseLibrary] = {}
    for source, kind in sources:
        if kind == "library":
            try:
                library: ExerciseLibrary = _validate(source, ExerciseLibrary)
                library_problems = _library_problems(source, library)
                problems.extend(library_problems)
                if not library_problems:
                    libraries[source.path.parent.resolve()] = library
            except RoutineError as exc:
                problems.extend(exc.problems)
        elif kind == "guidance":
            try:
                _validate(source, Guidance)
            except RoutineError as exc:
                problems.extend(exc.problems)
        elif kind == "questions":
            problems.extend(check_questions(source.path, folder))
    ids_seen: dict[str, Path] = {}
    for source, kind in sources:
        if kind != "routine":
            continue
        try:
            routine: Routine = _validate(source, Routine)
        except RoutineError as exc:
            problems.extend(exc.problems)
            continue
        if routine.id in ids_seen:
            problems.append(
                f"{source.path}:{source.lines.line(('id',))}: routine id '{routine.id}' "
                f"is also used by {ids_seen[routine.id]}"
            )
        ids_seen[routine.id] = source.path
        library_or_none = libraries.get(source.path.parent.resolve())
        if library_or_none is None:
            try:
                library_or_none = _library_for(source.path, folder)
            except RoutineError as exc:
                problems.append(f"{source.path}:1: cannot check against the library: {exc}")
                continue
        try:
            _resolve(source, routine, library_or_none)
        except RoutineError as exc:
            problems.extend(exc.problems)
    return problems


def _library_for(routine_path: Path, folder: Path | None) -> ExerciseLibrary:
    beside = routine_path.parent / LIBRARY_FILE
    if beside.exists():
        return load_library(beside)
    return load_library((folder or default_routines_dir()) / LIBRARY_FILE)
