"""The routine format and loader: every bad input gets one clear line, never a traceback."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from floorcoach.cli import main
from floorcoach.cli.routines import json_schema
from floorcoach.content.catalog import Catalog, load_library, parse_routine_text
from floorcoach.content.check import check_files
from floorcoach.content.routine import ExerciseLibrary
from floorcoach.errors import RoutineError

REPO = Path(__file__).resolve().parents[2]

GOOD_EXERCISE = """\
  - id: bridge
    name: Bridge
    kind: reps
    position: lying_on_back
    setup:
      - Lie on your back with your knees bent.
    reps: 10
    hold_seconds: 5
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _library(tmp_path: Path, extra: str = "") -> Path:
    return _write(tmp_path, "exercises.yaml", "exercises:\n" + GOOD_EXERCISE + extra)


def _problems(tmp_path: Path, routine_text: str, library_extra: str = "") -> list[str]:
    library = _library(tmp_path, library_extra)
    routine = _write(tmp_path, "r.yaml", routine_text)
    return check_files([library, routine])


ROUTINE_HEAD = "id: rt\nname: Test routine\ndescription: A routine for tests.\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "r.yaml:1: file is empty"),
        ("   \n\n", "r.yaml:1: file is empty"),
        ("items: [unclosed\n", "r.yaml:2: not valid YAML"),
        ("- just\n- a list\n", "expected a mapping of keys at the top level, got list"),
        ("hello: world\n", "not a routine, exercise library or guidance file"),
        (
            ROUTINE_HEAD + "items:\n  - exercise: bridge\n    reps: lots\n",
            "r.yaml:6: item 1 (exercise 'bridge'): reps must be a whole number (got 'lots')",
        ),
        (
            ROUTINE_HEAD + "colour: red\nitems:\n  - exercise: bridge\n",
            "r.yaml:4: unknown key 'colour'",
        ),
        (
            ROUTINE_HEAD + "items:\n  - exercise: bridge\n    repz: 3\n",
            "r.yaml:6: item 1 (exercise 'bridge'): unknown key 'repz' (did you mean 'reps'?)",
        ),
        (
            ROUTINE_HEAD + "items:\n  - exercise: brige\n",
            "r.yaml:5: item 1: exercise 'brige' is not in the library (did you mean 'bridge'?)",
        ),
        (
            ROUTINE_HEAD + "items:\n  - exercise: bridge\n    hold_seconds: 10000\n",
            "r.yaml:6: item 1 (exercise 'bridge'): hold_seconds must be <= 300 (got 10000)",
        ),
        (
            ROUTINE_HEAD + "items:\n  - exercise: bridge\n    reps: 0\n",
            "r.yaml:6: item 1 (exercise 'bridge'): reps must be >= 1 (got 0)",
        ),
        (
            ROUTINE_HEAD + "items:\n  - exercise: bridge\n    rest_seconds: -5\n",
            "r.yaml:6: item 1 (exercise 'bridge'): rest_seconds must be >= 0 (got -5)",
        ),
        (ROUTINE_HEAD + "items: []\n", "r.yaml:4: items must have at least 1 entries"),
        (ROUTINE_HEAD, "r.yaml:1: not a routine, exercise library or guidance file"),
        (
            ROUTINE_HEAD + "name: Again\nitems:\n  - exercise: bridge\n",
            "r.yaml:4: duplicate key 'name'",
        ),
        (
            "id: Not A Slug\nname: X y\ndescription: A routine.\nitems:\n  - exercise: bridge\n",
            "r.yaml:1: id must be lower-case words joined by hyphens",
        ),
    ],
)
def test_bad_routine_files_give_one_clear_line(tmp_path: Path, text: str, expected: str) -> None:
    problems = _problems(tmp_path, text)
    assert problems, "a bad file passed"
    assert any(expected in problem for problem in problems), problems
    for problem in problems:
        assert "\n" not in problem
        assert "Traceback" not in problem
        assert problem.startswith(str(tmp_path))


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (GOOD_EXERCISE, "exercise 'bridge': duplicate id (first defined on line 2)"),
        (
            GOOD_EXERCISE.replace("bridge", "tilt").replace(
                "reps: 10", "reps: 10\n    easier: nowhere"
            ),
            "exercise 'tilt': easier variant 'nowhere' is not in the library",
        ),
        (
            GOOD_EXERCISE.replace("id: bridge", "id: hold-a")
            .replace("kind: reps", "kind: hold")
            .replace("hold_seconds: 5", "hold_seconds: -5"),
            "exercise 'hold-a': hold_seconds must be >= 0 (got -5)",
        ),
        (
            GOOD_EXERCISE.replace("id: bridge", "id: hold-b")
            .replace("kind: reps", "kind: hold")
            .replace("hold_seconds: 5", "hold_seconds: 0"),
            "exercise 'hold-b': hold_seconds must be > 0 for a hold exercise (got 0)",
        ),
        (
            GOOD_EXERCISE.replace("id: bridge", "id: Upper-Case"),
            "exercise 'Upper-Case': id must be lower-case words joined by hyphens",
        ),
        (
            GOOD_EXERCISE.replace("id: bridge", "id: pos").replace(
                "position: lying_on_back", "position: upside_down"
            ),
            "exercise 'pos': position must be one of lying_on_back",
        ),
    ],
)
def test_bad_library_entries_give_one_clear_line(tmp_path: Path, extra: str, expected: str) -> None:
    library = _library(tmp_path, extra)
    problems = check_files([library])
    assert any(expected in problem for problem in problems), problems


def test_variant_cycles_are_found(tmp_path: Path) -> None:
    def exercise(ident: str, easier: str) -> str:
        return (
            GOOD_EXERCISE.replace("id: bridge", f"id: {ident}").rstrip("\n")
            + f"\n    easier: {easier}\n"
        )

    text = "exercises:\n" + exercise("a-one", "b-two") + exercise("b-two", "c-three")
    text += exercise("c-three", "a-one")
    library = _write(tmp_path, "exercises.yaml", text)
    problems = check_files([library])
    assert len(problems) == 1
    assert (
        "easier variants go round in a circle (a-one -> b-two -> c-three -> a-one)" in (problems[0])
    )


def test_a_variant_going_the_other_way_is_not_a_cycle(tmp_path: Path) -> None:
    text = (
        "exercises:\n"
        + GOOD_EXERCISE.rstrip("\n")
        + "\n    easier: tilt\n"
        + GOOD_EXERCISE.replace("id: bridge", "id: tilt").rstrip("\n")
        + "\n    harder: bridge\n"
    )
    library = _write(tmp_path, "exercises.yaml", text)
    assert check_files([library]) == []


def test_missing_and_odd_files(tmp_path: Path) -> None:
    (tmp_path / "folder.yaml").mkdir()
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00\x01garbage")
    problems = check_files([tmp_path / "absent.yaml", tmp_path / "folder.yaml", binary])
    assert problems == [
        f"{tmp_path / 'absent.yaml'}: no such file",
        f"{tmp_path / 'folder.yaml'}: is a folder, not a routine file",
        f"{binary}: not a text file (expected UTF-8 YAML)",
    ]


def test_shipped_files_pass_check() -> None:
    files = sorted((REPO / "routines").glob("*.yaml"))
    assert len(files) >= 6
    assert check_files(files) == []


def test_committed_schema_is_current() -> None:
    committed = json.loads((REPO / "schema" / "floorcoach.schema.json").read_text())
    assert committed == json.loads(json.dumps(json_schema()))
    assert {"Routine", "Exercise", "ExerciseLibrary", "Guidance"} <= set(committed["$defs"])


# ---------------------------------------------------------------- property-based

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
_keys = st.sampled_from(
    [
        "id",
        "name",
        "description",
        "items",
        "exercise",
        "reps",
        "hold_seconds",
        "sets",
        "sides",
        "safety_notes",
        "pain_rules",
        "rest_seconds",
        "x",
        "tempo_seconds",
    ]
)
_values = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(_keys, children, max_size=5)
    ),
    max_leaves=20,
)


@functools.cache
def _shipped_library() -> ExerciseLibrary:
    return load_library(REPO / "routines" / "exercises.yaml")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=st.dictionaries(_keys, _values, max_size=6))
def test_random_yaml_documents_only_raise_routine_errors(document: dict) -> None:
    library = _shipped_library()
    text = yaml.safe_dump(document, allow_unicode=True)
    problems: list[str] = []
    try:
        parse_routine_text(text, library, "random.yaml")
    except RoutineError as exc:
        problems = exc.problems or ["<empty>"]
    assert all("\n" not in problem for problem in problems)
    assert "<empty>" not in problems


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=200))
def test_random_text_only_raises_routine_errors(text: str) -> None:
    library = _shipped_library()
    problems: list[str] = []
    try:
        parse_routine_text(text, library, "random.yaml")
    except RoutineError as exc:
        problems = exc.problems or ["<empty>"]
    assert "<empty>" not in problems


# ---------------------------------------------------------------- command line


def test_check_command_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", *map(str, sorted((REPO / "routines").glob("*.yaml")))]) == 0
    assert "ok:" in capsys.readouterr().out
    bad = _write(tmp_path, "bad.yaml", ROUTINE_HEAD + "items:\n  - exercise: bridge\n    reps: 0\n")
    _library(tmp_path)
    assert main(["check", str(bad)]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert out == [f"{bad}:6: item 1 (exercise 'bridge'): reps must be >= 1 (got 0)"]


def test_list_and_show(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for routine in ("first-week", "core-routine", "strengthening", "stretch-by-region"):
        assert routine in out
    assert main(["show", "quick-test"]) == 0
    out = capsys.readouterr().out
    assert "Exercise 1 of 3" in out
    assert "[start tone]" in out
    assert out.strip().splitlines()[-1].startswith("Total: ")


def test_misspelled_routine_gets_did_you_mean(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "core-rutine"]) == 1
    err = capsys.readouterr().err
    assert "no routine named 'core-rutine' (did you mean 'core-routine'?)" in err


def test_default_routine_exists() -> None:
    loaded = Catalog.load().find(None)
    assert loaded.routine.id == "first-week"


def test_console_script_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "floorcoach", "check", str(REPO / "routines" / "quick-test.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
