"""A live session and its history: recorded as it goes, resumed, adapted the next day."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from floorcoach.store.history_store import HistoryStore
from floorcoach_cli import command, run


def _play(
    history: Path, *extra: str, script: str = "", routine: str | None = "quick-test"
) -> subprocess.CompletedProcess[str]:
    start = ["resume"] if routine is None else ["play", routine]
    return run(
        *start,
        "--text",
        "--time-scale",
        "100",
        "--history",
        history,
        *extra,
        input=script,
        timeout=120,
    )


def test_a_session_is_recorded_and_the_next_one_asks_how_it_went(tmp_path: Path) -> None:
    history = tmp_path / "history.sqlite3"
    first = _play(history, script="@100 that hurts\n@101 seven\n")
    assert first.returncode == 0, first.stderr
    with HistoryStore(history) as store:
        sessions = store.sessions()
        assert [s.status for s in sessions] == ["completed"]
        assert [p.level for p in store.pain_reports()] == [7]
        assert {o.exercise_id for o in store.outcomes()} >= {"pelvic-tilt", "ankle-pumps"}
    second = _play(history, "--log", str(tmp_path / "second.jsonl"), script="@14 worse\n")
    assert second.returncode == 0, second.stderr
    assert "how did your back feel after last time?" in second.stdout
    assert "You said your back felt worse after last time" in second.stdout
    records = [json.loads(line) for line in (tmp_path / "second.jsonl").read_text().splitlines()]
    assert any(r["kind"] == "next_day_feeling" and r["feeling"] == "worse" for r in records)
    with HistoryStore(history) as store:
        assert [s.status for s in store.sessions()] == ["completed", "completed"]


def test_a_cut_off_session_resumes_where_it_stopped(tmp_path: Path) -> None:
    history = tmp_path / "history.sqlite3"
    log = tmp_path / "cut.jsonl"
    process = subprocess.Popen(
        command(
            "play",
            "quick-test",
            "--text",
            "--time-scale",
            "20",
            "--history",
            str(history),
            "--log",
            str(log),
        ),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = log.read_text() if log.exists() else ""
        # One record with both: a "say" line of pelvic tilts may come before its start.
        if any(
            '"kind": "exercise_start"' in line and '"exercise": "pelvic-tilt"' in line
            for line in text.splitlines()
        ):
            break
        time.sleep(0.05)
    process.kill()  # the plug is pulled
    process.wait(timeout=10)
    with HistoryStore(history) as store:
        point = store.resumable_session()
        assert point is not None
        assert (point.routine_id, point.item_index) == ("quick-test", 1)
    resumed = _play(history, routine=None)
    assert resumed.returncode == 0, resumed.stderr
    assert "We'll pick up at exercise 2 of 3: Pelvic tilts." in resumed.stdout
    assert "Exercise 1 of 3" not in resumed.stdout
    with HistoryStore(history) as store:
        sessions = store.sessions()
        assert len(sessions) == 1
        assert sessions[0].status == "completed"
        outcomes = {o.exercise_id: o.outcome for o in store.outcomes()}
        assert outcomes["ankle-pumps"] == "completed"


def test_a_broken_history_file_turns_history_off_and_is_left_alone(tmp_path: Path) -> None:
    history = tmp_path / "history.sqlite3"
    history.write_bytes(b"this is not a database" * 100)
    before = history.read_bytes()
    result = _play(history)
    assert result.returncode == 0, result.stderr
    assert "history is off" in result.stderr
    assert "History is off today, so this session won't be remembered." in result.stdout
    assert history.read_bytes() == before
