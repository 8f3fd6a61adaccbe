"""`floorcoach history` and `export` through the real command line entry point."""

from __future__ import annotations

import csv
import io
import json
import sys
import types
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from floorcoach import cli
from floorcoach.store.history_store import HistoryStore
from floorcoach.store.session_recorder import SessionRecorder
from history_builders import T0, Done, record_session


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """Three weeks: pain on the knee stretch falls from 6 to 2; one warning sign at the end."""
    path = tmp_path / "h.sqlite3"
    with HistoryStore(path) as store:
        for day in range(0, 21, 3):
            record_session(
                store,
                T0 + timedelta(days=day),
                [
                    Done("knee-to-chest", pain=6 if day < 7 else 2, location="back"),
                    Done("pelvic-tilt", outcome="skipped" if day == 0 else "completed"),
                ],
                feeling="better" if day == 3 else None,
            )
        recorder = SessionRecorder(store)
        recorder.start("core-routine", started_at=T0 + timedelta(days=22))
        recorder.record({"t": 9.0, "kind": "red_flag", "flag": "weak_legs"})
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_history_prints_sessions_exercises_and_weeks(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "history", "--db", str(db))
    assert code == 0
    assert "8 sessions" in out
    sessions = out.split("Sessions\n")[1].split("\n\n")[0].splitlines()
    assert sessions[0].split()[:3] == ["started", "routine", "status"]
    assert len(sessions) == 1 + 8
    first = sessions[1].split()
    assert first[:4] == ["2025-03-03", "08:00", "core-routine", "completed"]
    assert first[-3:] == ["1/2", "6", "-"]  # one skipped, pain 6, no next-day answer
    assert sessions[2].split()[-1] == "better"
    assert "red_flag (!)" in sessions[-1]
    per_exercise = out.split("Per exercise\n")[1].split("\n\n")[0]
    knee = next(line for line in per_exercise.splitlines() if line.startswith("knee-to-chest"))
    assert knee.split() == ["knee-to-chest", "7", "100%", "0", "0", "7", "6", "3.7"]
    weeks = out.split("By week")[1].splitlines()
    assert weeks[1].split() == ["exercise", "week", "1", "week", "2", "week", "3"]
    knee_weeks = next(line for line in weeks if line.startswith("knee-to-chest"))
    assert knee_weeks.split()[1:] == ["100%", "p6", "100%", "p2", "100%", "p2"]
    tilt_weeks = next(line for line in weeks if line.startswith("pelvic-tilt"))
    assert tilt_weeks.split()[1:3] == ["67%", "p-"]


def test_history_without_a_file_says_so_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "none.sqlite3"
    code, out, _ = run(capsys, "history", "--db", str(path))
    assert code == 0
    assert "No sessions recorded yet" in out
    assert not path.exists()
    code, _, err = run(capsys, "export", "--db", str(path))
    assert code == 1
    assert "no history file" in err


def test_history_on_a_corrupt_file_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.sqlite3"
    path.write_bytes(b"not sqlite at all" * 100)
    code, out, err = run(capsys, "history", "--db", str(path))
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("floorcoach: ")
    assert "not a readable history database" in err
    assert path.read_bytes() == b"not sqlite at all" * 100


def test_plot_without_matplotlib_names_the_install_command(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import fails as if not installed
    target = tmp_path / "plot.png"
    code, out, err = run(capsys, "history", "--db", str(db), "--plot", str(target))
    assert code == 1
    assert "Sessions" in out  # the table is still printed
    assert "pip install matplotlib" in err
    assert not target.exists()


def test_plot_draws_weekly_pain_and_completion(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: dict[str, Any] = {}

    class Axes:
        def __init__(self, name: str) -> None:
            self.name = name

        def plot(self, x: list[int], y: list[Any], **_kw: Any) -> None:
            drawn.setdefault(f"{self.name}.plot", []).append((list(x), list(y)))

        def set_xticks(self, ticks: list[int]) -> None:
            drawn[f"{self.name}.xticks"] = list(ticks)

        def bar(self, x: list[int], y: list[float]) -> None:
            drawn[f"{self.name}.bar"] = (list(x), list(y))

        def __getattr__(self, _name: str) -> Any:
            return lambda *_a, **_k: None

    class Figure:
        def suptitle(self, _text: str) -> None:
            pass

        def savefig(self, target: Path) -> None:
            Path(target).write_bytes(b"\x89PNG fake")

    pyplot = types.ModuleType("matplotlib.pyplot")
    pyplot.subplots = lambda *_a, **_k: (Figure(), (Axes("pain"), Axes("done")))  # type: ignore[attr-defined]
    pyplot.close = lambda _figure: None  # type: ignore[attr-defined]
    matplotlib = types.ModuleType("matplotlib")
    matplotlib.use = lambda _backend: None  # type: ignore[attr-defined]
    matplotlib.pyplot = pyplot  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "matplotlib", matplotlib)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", pyplot)
    target = tmp_path / "plot.png"
    code, _, _ = run(capsys, "history", "--db", str(db), "--plot", str(target))
    assert code == 0
    assert target.read_bytes().startswith(b"\x89PNG")
    weeks, completion = drawn["done.bar"]
    assert weeks == [1, 2, 3, 4]
    assert completion[0] == pytest.approx(100 * 5 / 6)
    mean, highest = drawn["pain.plot"]
    assert mean[1][:3] == [6, 2, 2]
    assert highest[1][:3] == [6, 2, 2]
    assert mean[1][3] is None  # week 4: a warning sign, no pain report


def test_export_csv_for_a_physio(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out.csv"
    code, out, err = run(
        capsys, "export", "--format", "csv", "--output", str(target), "--db", str(db)
    )
    assert code == 0
    assert out == ""
    assert "8 sessions" in err
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    kinds = [row["record"] for row in rows]
    assert kinds.count("session") == 8
    assert kinds.count("exercise") == 14
    assert kinds.count("pain") == 7
    assert kinds.count("red_flag") == 1
    pains = [row for row in rows if row["record"] == "pain"]
    assert [row["pain_level"] for row in pains] == ["6", "6", "6", "2", "2", "2", "2"]
    assert pains[0]["date"] == "2025-03-03"
    assert pains[0]["exercise"] == "knee-to-chest"
    assert pains[0]["pain_location"] == "back"
    skipped = [row for row in rows if row["outcome"] == "skipped"]
    assert [(row["exercise"], row["date"]) for row in skipped] == [("pelvic-tilt", "2025-03-03")]


def test_export_json_to_stdout_round_trips(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "export", "--format", "json", "--db", str(db))
    assert code == 0
    data = json.loads(out)
    assert data["schema_version"] == 3
    assert len(data["sessions"]) == 8
    assert data["sessions"][1]["next_day_feeling"] == "better"
    assert data["sessions"][0]["started_at"] == "2025-03-03T08:00:00.000+00:00"
    assert len(data["exercise_outcomes"]) == 14
    assert data["red_flags"][0]["flag"] == "weak_legs"
    assert {c["command"] for c in data["commands"]} == {"pain"}


def test_plot_with_the_real_matplotlib_writes_a_png(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import matplotlib  # noqa: F401 - a dev dependency: the real plotting path is tested

    target = tmp_path / "plot.png"
    code, _out, err = run(capsys, "history", "--db", str(db), "--plot", str(target))
    assert code == 0, err
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert target.stat().st_size > 10_000
