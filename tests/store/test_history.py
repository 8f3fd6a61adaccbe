"""History store: real engine records in, rows out; resume; migration; every bad-input case."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from floorcoach.content.catalog import Catalog, LoadedRoutine
from floorcoach.errors import HistoryError
from floorcoach.session.simulate import ScriptedLine, dry_run
from floorcoach.store import history_schema
from floorcoach.store.history_rows import ResumePoint, default_history_path
from floorcoach.store.history_schema import APPLICATION_ID, SCHEMA_VERSION
from floorcoach.store.history_store import HistoryStore, open_history_or_none
from floorcoach.store.session_recorder import SessionRecorder
from history_builders import T0, Done, record_session


@pytest.fixture
def store(tmp_path: Path) -> Iterator[HistoryStore]:
    with HistoryStore(tmp_path / "history.sqlite3", timeout_seconds=0.2) as opened:
        yield opened


@pytest.fixture(scope="module")
def core() -> LoadedRoutine:
    return Catalog.load().find("core-routine")


# ---------------------------------------------------------------- the file


def test_default_path_follows_env_then_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("FLOORCOACH_HISTORY", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_history_path() == tmp_path / "data" / "floorcoach" / "history.sqlite3"
    monkeypatch.setenv("FLOORCOACH_HISTORY", str(tmp_path / "mine.db"))
    assert default_history_path() == tmp_path / "mine.db"
    with HistoryStore() as opened:
        assert opened.path == tmp_path / "mine.db"
    assert (tmp_path / "mine.db").exists()


def test_new_file_is_wal_full_sync_and_current_schema(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "folder" / "h.sqlite3"
    with HistoryStore(path) as opened:
        assert opened._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert opened.schema_version == SCHEMA_VERSION == 3
    other = sqlite3.connect(path)
    assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert other.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    other.close()


# ---------------------------------------------------------------- engine records in


def test_real_engine_session_is_stored_as_it_went(store: HistoryStore, core: LoadedRoutine) -> None:
    script = [
        ScriptedLine(100, "that hurts"),
        ScriptedLine(102, "four"),
        ScriptedLine(104, "my back"),
        ScriptedLine(300, "too easy"),
    ]
    run = dry_run(core, script)
    recorder = SessionRecorder(store, routine=core)
    for record in run.records:
        recorder.record(record)
    assert run.summary is not None
    assert recorder.finished
    session = store.last_session()
    assert session is not None
    assert session.status == "completed"
    assert session.routine_id == "core-routine"
    assert session.minutes == pytest.approx(run.records[-1]["t"] / 60, abs=0.01)
    rows = store.outcomes(session.id)
    summary_rows = run.summary["exercises"]
    assert [row.outcome for row in rows] == [item["outcome"] for item in summary_rows]
    assert [row.exercise_id for row in rows] == [item.exercise.id for item in core.items]
    assert [row.done_as for row in rows] == [item["done_as"] for item in summary_rows]
    assert [row.units_done for row in rows] == [item["units_done"] for item in summary_rows]
    assert [row.hold_seconds or 0 for row in rows] == [
        item["hold_seconds"] for item in summary_rows
    ]
    assert [row.reps for row in rows] == [item["reps"] for item in summary_rows]
    pains = store.pain_reports(session.id)
    assert [(p.level, p.location, p.exercise_id) for p in pains] == [
        (p["level"], p["location"], p["exercise"]) for p in run.summary["pain_reports"]
    ]
    heard = [r["command"] for r in run.records if r["kind"] == "heard"]
    assert [c.command for c in store.commands(session.id)] == heard
    assert "too_easy" in heard


def test_each_record_is_visible_to_another_connection_at_once(
    store: HistoryStore, core: LoadedRoutine
) -> None:
    run = dry_run(core, [ScriptedLine(100, "that hurts"), ScriptedLine(102, "seven")])
    recorder = SessionRecorder(store, routine=core)
    other = sqlite3.connect(store.path)
    tables = {"outcome": "exercise_outcomes", "pain": "pain_reports", "heard": "commands"}
    expected = {"pain": 0, "heard": 0}
    closed: set[int] = set()
    index = -1
    for record in run.records:
        recorder.record(record)
        kind = record["kind"]
        if kind == "exercise_start":
            index = record["index"]
            progress = other.execute("SELECT last_item_index FROM sessions").fetchone()[0]
            assert progress == index
        if kind not in tables:
            continue
        if kind == "outcome":
            closed.add(index)
            wanted = len(closed)
        else:
            expected[kind] += 1
            wanted = expected[kind]
        seen = other.execute(f"SELECT COUNT(*) FROM {tables[kind]}").fetchone()[0]
        assert seen == wanted, record
    assert closed == set(range(len(core.items)))
    assert expected["pain"] == 1
    other.close()


def test_records_outside_a_session_and_unknown_kinds_are_ignored(store: HistoryStore) -> None:
    recorder = SessionRecorder(store)
    recorder.record({"t": 1.0, "kind": "heard", "command": "pause", "text": "pause"})
    recorder.record({"t": 1.0, "kind": "say", "text": "hello"})
    assert store.sessions() == []
    recorder.record({"t": 0.0, "kind": "session_start", "routine": "walk"})
    recorder.record({"t": 2.0, "kind": "phase", "phase": "welcome"})
    recorder.record({"t": 3.0, "kind": "heard", "command": "pause", "text": "wait"})
    assert [c.text for c in store.commands()] == ["wait"]
    recorder.record({"t": 9.0, "kind": "session_end", "summary": {"exercises": []}})
    recorder.record({"t": 10.0, "kind": "heard", "command": "help", "text": "help"})
    assert [c.text for c in store.commands()] == ["wait"]


def test_wall_clock_times_follow_the_session_start(store: HistoryStore) -> None:
    session_id = record_session(store, T0, [Done("knee-to-chest", pain=2)])
    pain = store.pain_reports(session_id)[0]
    assert pain.recorded_at == T0 + timedelta(seconds=55)
    session = store.sessions()[0]
    assert session.started_at == T0
    assert session.ended_at == T0 + timedelta(seconds=120)
    assert session.minutes == pytest.approx(2.0)


def test_red_flag_ends_as_red_flag_and_is_never_resumed(store: HistoryStore) -> None:
    recorder = SessionRecorder(store)
    recorder.start("core-routine", started_at=T0)
    recorder.record({"t": 5.0, "kind": "exercise_start", "index": 0, "exercise": "knee-to-chest"})
    recorder.record({"t": 9.0, "kind": "red_flag", "flag": "saddle_numbness", "exercise": "x"})
    # killed before session_end: the flag alone must stop a resume
    assert store.sessions()[0].status == "red_flag"
    assert store.resumable_session(now=T0) is None
    assert [f.flag for f in store.red_flags()] == ["saddle_numbness"]


# ---------------------------------------------------------------- resume


def test_resume_point_is_the_exercise_in_progress(store: HistoryStore) -> None:
    recorder = SessionRecorder(store, base_exercise_ids=["a-a", "b-b", "c-c"])
    recorder.start("core-routine", started_at=T0)
    assert store.resumable_session(now=T0) == ResumePoint(
        recorder.session_id or 0, "core-routine", 0
    )
    recorder.record({"t": 5.0, "kind": "exercise_start", "index": 0, "exercise": "a-a"})
    recorder.record({"t": 50.0, "kind": "outcome", "outcome": "completed", "exercise": "a-a"})
    point = store.resumable_session(now=T0)
    assert point is not None
    assert point.item_index == 1  # 0 is recorded as done, 1 not started yet
    recorder.record({"t": 55.0, "kind": "exercise_start", "index": 1, "exercise": "b-b"})
    recorder.record({"t": 60.0, "kind": "pain", "level": 4, "location": "back", "exercise": "b-b"})
    point = store.resumable_session(now=T0)
    assert point is not None
    assert point.item_index == 1
    assert store.resumable_session("walk", now=T0) is None
    assert store.resumable_session(now=T0 + timedelta(hours=25)) is None
    assert store.resumable_session(now=T0 + timedelta(hours=25), max_age_hours=None) == point


def test_resumed_session_keeps_what_was_done_before_the_crash(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    clock_now = [T0]
    with HistoryStore(path, clock=lambda: clock_now[0]) as first:
        recorder = SessionRecorder(first, base_exercise_ids=["a-a", "b-b"])
        recorder.record({"t": 0.0, "kind": "session_start", "routine": "r-r"})
        recorder.record({"t": 5.0, "kind": "exercise_start", "index": 0, "exercise": "a-a"})
        recorder.record({"t": 65.0, "kind": "outcome", "outcome": "completed", "exercise": "a-a"})
        recorder.record({"t": 70.0, "kind": "exercise_start", "index": 1, "exercise": "b-b"})
    clock_now[0] = T0 + timedelta(minutes=10)
    with HistoryStore(path, clock=lambda: clock_now[0]) as second:
        point = second.resumable_session()
        assert point is not None
        assert point.item_index == 1
        recorder = SessionRecorder(second, base_exercise_ids=["a-a", "b-b"], resume=point)
        recorder.record({"t": 0.0, "kind": "session_start", "routine": "r-r"})
        recorder.record({"t": 3.0, "kind": "exercise_start", "index": 1, "exercise": "b-b"})
        recorder.record({"t": 63.0, "kind": "outcome", "outcome": "completed", "exercise": "b-b"})
        summary = {
            "exercises": [
                {"exercise": "a-a", "outcome": "not_reached"},
                {"exercise": "b-b", "outcome": "completed", "reps": 3},
            ],
            "red_flag": None,
        }
        recorder.record({"t": 64.0, "kind": "session_end", "summary": summary})
        assert [s.id for s in second.sessions()] == [point.session_id]
        session = second.sessions()[0]
        assert session.status == "completed"
        assert session.minutes == pytest.approx((70 + 64) / 60, abs=0.01)
        assert [o.outcome for o in second.outcomes()] == ["completed", "completed"]
        assert second.outcomes()[1].reps == 3
        assert second.resumable_session() is None


def test_only_a_stored_unfinished_session_can_be_resumed(store: HistoryStore) -> None:
    recorder = SessionRecorder(store)
    session_id = recorder.start("core-routine", started_at=T0)
    stored = store.session(session_id)
    assert stored is not None
    assert (stored.routine_id, stored.status, stored.started_at) == (
        "core-routine",
        "in_progress",
        T0,
    )
    assert store.session(session_id + 1) is None
    with pytest.raises(HistoryError, match=f"no session {session_id + 1} to resume"):
        SessionRecorder(store, resume=session_id + 1)
    store.abandon(session_id)
    with pytest.raises(HistoryError, match=f"session {session_id} is already stopped"):
        SessionRecorder(store, resume=session_id)


def test_stop_leaves_status_stopped_and_abandon_closes(store: HistoryStore) -> None:
    session_id = record_session(
        store, T0, [Done("a-a"), Done("b-b", outcome="not_reached")], routine_id="r-r"
    )
    assert store.sessions()[0].status == "stopped"
    other = record_session(store, T0 + timedelta(hours=1), [Done("a-a")], finish=False)
    assert store.resumable_session(now=T0 + timedelta(hours=1)) is not None
    store.abandon(other)
    assert store.resumable_session(now=T0 + timedelta(hours=1)) is None
    assert session_id != other


def test_next_day_feeling_goes_on_the_last_finished_session(store: HistoryStore) -> None:
    with pytest.raises(HistoryError, match="no earlier session"):
        store.set_next_day_feeling("worse")
    first = record_session(store, T0, [Done("a-a")])
    record_session(store, T0 + timedelta(days=1), [Done("a-a")], finish=False)
    assert store.set_next_day_feeling("worse") == first
    assert store.sessions()[0].next_day_feeling == "worse"
    recorder = SessionRecorder(store)
    recorder.start("core-routine", started_at=T0 + timedelta(days=2))
    recorder.record({"t": 1.0, "kind": "next_day_feeling", "feeling": "better"})
    assert store.sessions()[0].next_day_feeling == "better"


# ---------------------------------------------------------------- migration

V1_SCHEMA = """
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY, routine_id TEXT NOT NULL, started_at TEXT NOT NULL, ended_at TEXT,
    status TEXT NOT NULL DEFAULT 'in_progress'
        CHECK (status IN ('in_progress', 'completed', 'stopped', 'red_flag')),
    minutes REAL NOT NULL DEFAULT 0, last_item_index INTEGER,
    last_item_closed INTEGER NOT NULL DEFAULT 0);
CREATE INDEX sessions_started ON sessions (started_at);
CREATE TABLE exercise_outcomes (
    session_id INTEGER NOT NULL REFERENCES sessions (id), item_index INTEGER NOT NULL,
    exercise_id TEXT NOT NULL, done_as TEXT, outcome TEXT NOT NULL, hold_seconds REAL,
    reps INTEGER, units_done INTEGER, units_planned INTEGER, t REAL, recorded_at TEXT NOT NULL,
    PRIMARY KEY (session_id, item_index));
CREATE TABLE pain_reports (
    id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions (id),
    item_index INTEGER, exercise_id TEXT, item_exercise_id TEXT,
    level INTEGER NOT NULL CHECK (level BETWEEN 0 AND 10), location TEXT, t REAL,
    recorded_at TEXT NOT NULL);
CREATE INDEX pain_session ON pain_reports (session_id);
CREATE TABLE red_flags (
    id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions (id),
    flag TEXT NOT NULL, exercise_id TEXT, t REAL, recorded_at TEXT NOT NULL);
INSERT INTO sessions VALUES (1, 'core-routine', '2025-03-03T08:00:00.000+00:00',
    '2025-03-03T08:20:00.000+00:00', 'completed', 20.0, 4, 1);
INSERT INTO sessions VALUES (2, 'core-routine', '2025-03-04T08:00:00.000+00:00',
    NULL, 'in_progress', 6.5, 2, 0);
INSERT INTO exercise_outcomes VALUES (1, 0, 'knee-to-chest', NULL, 'completed', 30, 3, 6, 6,
    120.0, '2025-03-03T08:02:00.000+00:00');
INSERT INTO pain_reports VALUES (1, 1, 0, 'knee-to-chest', 'knee-to-chest', 6, 'leg', 80.0,
    '2025-03-03T08:01:20.000+00:00');
PRAGMA user_version = 1;
"""
"""The first schema as it shipped, frozen here so a later edit of MIGRATIONS cannot hide a break."""


def _write_v1(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(V1_SCHEMA)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.commit()
    conn.close()


def test_v1_file_migrates_to_current_keeping_everything(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite3"
    _write_v1(path)
    with HistoryStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        sessions = store.sessions()
        assert [(s.id, s.status, s.minutes) for s in sessions] == [
            (1, "completed", 20.0),
            (2, "in_progress", 6.5),
        ]
        assert store.outcomes()[0].hold_seconds == 30
        assert store.pain_reports()[0].location == "leg"
        assert store.resumable_session(max_age_hours=None) == ResumePoint(2, "core-routine", 2)
        # what v2 added works on the migrated file
        store.set_next_day_feeling("same", 1)
        recorder = SessionRecorder(store, resume=2)
        recorder.record({"t": 3.0, "kind": "heard", "command": "pause", "text": "wait"})
        assert store.sessions()[0].next_day_feeling == "same"
        assert [c.command for c in store.commands()] == ["pause"]
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()


def test_failed_migration_leaves_the_v1_file_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "v1.sqlite3"
    _write_v1(path)
    migrations = history_schema.MIGRATIONS
    broken = (migrations[0], migrations[1] + "\nCREATE TABLE sessions (x);")
    monkeypatch.setattr(history_schema, "MIGRATIONS", broken)
    with pytest.raises(HistoryError):
        HistoryStore(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    columns = [row[1] for row in conn.execute("PRAGMA table_info(sessions)")]
    assert "next_day_feeling" not in columns
    assert conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 2
    conn.close()


# ---------------------------------------------------------------- bad input (issue section 5)


def _unchanged_after_open(path: Path, match: str) -> str:
    before = path.read_bytes()
    with pytest.raises(HistoryError, match=match) as caught:
        HistoryStore(path, timeout_seconds=0.1)
    assert path.read_bytes() == before
    store, message = open_history_or_none(path, timeout_seconds=0.1)
    assert store is None
    assert message is not None
    assert message.startswith("history is off: ")
    assert "\n" not in message
    assert path.read_bytes() == before
    return str(caught.value)


def test_random_bytes_are_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    path.write_bytes(os.urandom(8192))
    message = _unchanged_after_open(path, "not a readable history database")
    assert str(path) in message
    assert not (tmp_path / "h.sqlite3-wal").exists()


def test_damaged_database_is_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    with HistoryStore(path) as store:
        for day in range(40):
            record_session(store, T0 + timedelta(days=day), [Done("a-a", pain=3)] * 5)
    data = bytearray(path.read_bytes())
    assert len(data) > 4 * 4096
    data[2 * 4096 : 3 * 4096] = b"\xff" * 4096  # scribble over a b-tree page
    path.write_bytes(bytes(data))
    _unchanged_after_open(path, "damaged|not a readable")


def test_another_programs_database_is_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.execute("INSERT INTO notes VALUES ('keep me')")
    conn.commit()
    conn.close()
    _unchanged_after_open(path, "not a floorcoach history")


def test_newer_schema_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    HistoryStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    message = _unchanged_after_open(path, "newer floorcoach")
    assert f"v{SCHEMA_VERSION + 1}" in message


def test_locked_database_on_open(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("CREATE TABLE sessions (id INTEGER)")
    try:
        with pytest.raises(HistoryError, match="locked by another program"):
            HistoryStore(path, timeout_seconds=0.1)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_locked_database_while_recording(store: HistoryStore) -> None:
    recorder = SessionRecorder(store)
    recorder.start("core-routine", started_at=T0)
    holder = sqlite3.connect(store.path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(HistoryError, match="locked"):
            recorder.record({"t": 1.0, "kind": "heard", "command": "pause", "text": "wait"})
        said: list[str] = []
        quiet = SessionRecorder(store, resume=recorder.session_id, on_error=said.append)
        quiet.record({"t": 1.0, "kind": "heard", "command": "pause", "text": "wait"})
        quiet.record({"t": 2.0, "kind": "heard", "command": "resume", "text": "go on"})
        assert len(said) == 1
        assert "locked" in said[0]
        assert quiet.failed == said[0]
        assert not quiet.active
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    recorder.record({"t": 3.0, "kind": "heard", "command": "pause", "text": "again"})
    assert [c.text for c in store.commands()] == ["again"]


def test_full_database_keeps_what_was_committed(store: HistoryStore) -> None:
    recorder = SessionRecorder(store)
    recorder.start("core-routine", started_at=T0)
    pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
    store._conn.execute(f"PRAGMA max_page_count = {pages + 1}")
    said: list[str] = []
    recorder = SessionRecorder(store, resume=recorder.session_id, on_error=said.append)
    stored = 0
    while not said and stored < 10_000:
        recorder.record({"t": stored, "kind": "heard", "command": "pause", "text": "w" * 500})
        stored += 1 if not said else 0
    assert "disk is full" in said[0]
    assert stored > 0
    assert len(store.commands()) == stored


def _mount_tmpfs(target: Path, options: str) -> bool:
    target.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tiny tmpfs needs root")
def test_full_disk_on_a_real_tiny_filesystem(tmp_path: Path) -> None:
    mount = tmp_path / "tiny"
    mounted = _mount_tmpfs(mount, "size=256k")
    try:
        assert mounted
        said: list[str] = []
        with HistoryStore(mount / "h.sqlite3") as store:
            recorder = SessionRecorder(store, on_error=said.append)
            recorder.start("core-routine", started_at=T0)
            for n in range(5_000):
                recorder.record({"t": n, "kind": "heard", "command": "pause", "text": "w" * 400})
                if said:
                    break
            assert said
            assert "disk is full" in said[0]
            kept = len(store.commands())
            assert kept == n
    finally:
        if mounted:
            subprocess.run(["umount", str(mount)], check=True)


def test_read_only_location(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    root = os.geteuid() == 0
    if root:
        assert _mount_tmpfs(folder, "size=1m")
    else:
        folder.mkdir()
    try:
        HistoryStore(folder / "h.sqlite3").close()
        if root:  # root ignores file modes: only a read-only mount says no
            subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        else:
            folder.chmod(0o500)
        path = folder / "h.sqlite3"
        _unchanged_after_open(path, "read-only")
        with pytest.raises(HistoryError, match="read-only|cannot create"):
            HistoryStore(folder / "new.sqlite3")
    finally:
        if root:
            subprocess.run(["umount", str(folder)], check=True)
        else:
            folder.chmod(0o700)


def test_folder_and_impossible_paths(tmp_path: Path) -> None:
    with pytest.raises(HistoryError, match="is a folder"):
        HistoryStore(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(HistoryError, match="cannot create the history folder"):
        HistoryStore(blocker / "sub" / "h.sqlite3")


def test_in_memory_store_has_the_same_api() -> None:
    with HistoryStore.in_memory() as store:
        record_session(store, T0, [Done("a-a")])
        assert store.last_session() is not None


# ---------------------------------------------------------------- queries


def test_exercise_stats(store: HistoryStore) -> None:
    record_session(store, T0, [Done("a-a", pain=6), Done("b-b", outcome="skipped")])
    record_session(store, T0 + timedelta(days=1), [Done("a-a", outcome="reduced", pain=2)])
    stats = {s.exercise_id: s for s in store.exercise_stats()}
    assert stats["a-a"].sessions == 2
    assert stats["a-a"].done == 2
    assert stats["a-a"].eased == 1
    assert stats["a-a"].max_pain == 6
    assert stats["a-a"].last_pain == 2
    assert stats["a-a"].mean_pain == 4
    assert stats["b-b"].skipped == 1
    assert stats["b-b"].completion == 0


def _sentences(text: str) -> list[str]:
    return [part for part in text.replace("? ", ". ").split(". ") if part.strip()]


def test_summary_text_is_two_spoken_sentences(store: HistoryStore) -> None:
    empty = store.summary_text(now=T0)
    assert len(_sentences(empty)) == 2
    for day in range(0, 21, 2):
        pain = 6 if day < 10 else 2
        record_session(
            store,
            T0 + timedelta(days=day),
            [Done("a-a", pain=pain), Done("b-b", outcome="skipped" if day == 0 else "completed")],
        )
    text = store.summary_text(now=T0 + timedelta(days=21))
    assert len(_sentences(text)) == 2, text
    assert text.endswith(".")
    assert not any(ch.isdigit() for ch in text), text  # numbers are spoken as words
    assert "eleven sessions" in text
    assert "in the last three weeks" in text
    assert "ninety-five percent" in text  # 21 of 22 items done
    assert "eased, from about six to about two" in text


def test_summary_text_mentions_rising_pain_and_warning_signs(store: HistoryStore) -> None:
    for day in range(4):
        record_session(store, T0 + timedelta(days=day), [Done("a-a", pain=2 + 2 * day)])
    text = store.summary_text(now=T0 + timedelta(days=4))
    assert "gone up" in text
    recorder = SessionRecorder(store)
    recorder.start("core-routine", started_at=T0 + timedelta(days=5))
    recorder.record({"t": 5.0, "kind": "red_flag", "flag": "weak_legs"})
    text = store.summary_text(now=T0 + timedelta(days=6))
    assert "warning sign" in text
    assert len(_sentences(text)) == 2
