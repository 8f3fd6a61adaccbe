"""Plain and big terminal views, fed the records of a real (simulated) session."""

from __future__ import annotations

import io
from typing import Any

import pytest

from floorcoach.content.catalog import Catalog
from floorcoach.runtime.views import (
    BLOCK,
    PHASE_WORDS,
    BigView,
    PlainView,
    ViewState,
    big_text,
    build_frame,
    countdown,
    countdown_text,
    make_view,
    plain_line,
)
from floorcoach.session.simulate import ScriptedLine, dry_run


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    """Every record of quick-test with a pause, a pain report and an unknown phrase."""
    loaded = Catalog.load().find("quick-test")
    script = [
        ScriptedLine(20.0, "pause"),
        ScriptedLine(24.0, "resume"),
        ScriptedLine(90.0, "that hurts"),
        ScriptedLine(93.0, "two"),
        ScriptedLine(96.0, "in my back"),
        ScriptedLine(120.0, "speak slower"),
    ]
    return dry_run(loaded, script).records


class FakeTty(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_plain_view_prints_one_clean_line_per_event(records: list[dict[str, Any]]) -> None:
    out = io.StringIO()
    view = PlainView(out, names={"knee-to-chest": "Knee to chest stretch"})
    for rec in records:
        view.record(rec)
        view.tick(float(rec["t"]), 3.0)  # ticks never print
    view.close()
    lines = out.getvalue().splitlines()
    assert "\x1b" not in out.getvalue()
    assert "\r" not in out.getvalue()
    said = [rec["text"] for rec in records if rec["kind"] == "say"]
    # every sentence said is there, in order, each on its own line
    assert [line[6:] for line in lines if line[6:] in said] == said
    assert " 0:00 session started: quick-test" in lines
    assert " 0:20 heard: pause ('pause')" in lines
    assert " 0:20 paused; say resume to go on" in lines
    assert any(line.endswith("exercise 1: Knee to chest stretch") for line in lines)
    assert any(line.endswith("exercise 2: Pelvic tilt") for line in lines)
    assert any(line.endswith(" holding") for line in lines)
    assert " 1:30 paused (pain)" in lines
    assert " 1:30 pain check: how bad (0 to 10), and where?" in lines
    assert " 1:36 pain: level 2, back" in lines
    assert " 1:36 decision: continue (reason mild)" in lines
    assert " 2:00 decision: speech_rate (rate wpm 130)" in lines
    assert lines[-1].endswith("session ended: 3 completed")
    # bookkeeping records do not print; every other record makes exactly one line
    expected = sum(1 for rec in records if plain_line(rec) is not None)
    assert len(lines) == expected


def test_plain_lines_for_records_the_runtime_adds() -> None:
    assert plain_line({"t": 1.0, "kind": "clock", "unix_t0": 5}) is None
    assert plain_line({"t": 3, "kind": "cue", "cue": "switch_side"}) == " 0:03 tone: switch side"
    assert plain_line({"t": 61, "kind": "not_understood", "text": "blah"}) == (
        ' 1:01 not understood: "blah" (say or type "help")'
    )
    assert plain_line({"t": 2, "kind": "interrupted", "reason": "SIGINT"}) == (
        " 0:02 session stopped (SIGINT)"
    )
    assert plain_line({"t": 2, "kind": "phase", "phase": "announce"}) is None


def test_every_big_word_and_digit_is_in_the_font() -> None:
    for word in [*PHASE_WORDS.values(), "0123456789", "12:05"]:
        rows = big_text(word)
        assert rows is not None, word
        assert len(rows) == 5
        assert len({len(row) for row in rows}) == 1  # a straight block
        assert all(set(row) <= {BLOCK, " "} for row in rows)
    assert big_text("HOLD?") is None


def test_countdown_text_rounds_up_like_the_spoken_count() -> None:
    assert [countdown_text(s) for s in (25.0, 24.2, 0.4, 0.0, 59.5, 61.0, 600.0)] == [
        "25",
        "25",
        "1",
        "0",
        "1:00",
        "1:01",
        "10:00",
    ]


def _state() -> ViewState:
    state = ViewState()
    for rec in [
        {"t": 30, "kind": "exercise_start", "phase": "announce", "exercise": "knee-to-chest",
         "index": 0},
        {"t": 82, "kind": "phase", "phase": "hold", "exercise": "knee-to-chest"},
        {"t": 83, "kind": "heard", "phase": "hold", "command": "pause", "text": "wait"},
        {"t": 84, "kind": "say", "phase": "hold", "text": "Hold it with both hands, just "
         "below the kneecap, and keep breathing slowly."},
    ]:  # fmt: skip
        state.apply(rec)
    state.seconds_left = 24.3
    return state


def test_big_frame_shows_phase_countdown_exercise_and_last_command() -> None:
    frame = build_frame(_state(), 80, 24, total=3)
    assert len(frame) == 24
    assert all(len(line) <= 80 for line in frame)
    text = "\n".join(frame)
    for rows in (big_text("HOLD"), big_text("25")):
        assert rows is not None
        assert all(row.strip() in text for row in rows)
    assert "1 OF 3: KNEE TO CHEST" in text
    assert 'HEARD: pause ("wait")' in text
    assert "Hold it with both hands" in text
    # the phase word comes first, then the countdown, then the exercise
    hold_row = next(i for i, line in enumerate(frame) if BLOCK in line)
    exercise_row = next(i for i, line in enumerate(frame) if "KNEE" in line)
    assert hold_row < exercise_row


def test_small_terminals_drop_the_least_important_first() -> None:
    frame = build_frame(_state(), 80, 12)
    text = "\n".join(frame)
    assert len(frame) == 12
    assert "HEARD: pause" in text  # kept: the blank lines went instead
    assert "" not in frame
    assert "Hold it with both hands" not in text  # the said sentence went first
    tiny = build_frame(_state(), 80, 5)
    assert len(tiny) == 5
    assert sum(BLOCK in line for line in tiny) == 5  # only the phase word is left


def test_narrow_terminals_get_plain_capitals() -> None:
    frame = build_frame(_state(), 9, 24)
    assert BLOCK not in "".join(frame)
    assert any(line.strip() == "HOLD" for line in frame)
    assert any(line.strip() == "25" for line in frame)
    assert all(len(line) <= 9 for line in frame)


def test_big_view_redraws_only_when_what_is_shown_changes() -> None:
    out = FakeTty()
    view = BigView(out, size=(60, 20))
    view.record({"t": 1, "kind": "phase", "phase": "hold", "exercise": "pelvic-tilt"})
    first = out.getvalue()
    assert first.startswith("\x1b[?1049h")  # the alternate screen: the scrollback is kept
    assert "\x1b[0;1;97;40m" in first  # bold white on black
    view.tick(2.0, 10.4)
    after_tick = len(out.getvalue())
    view.tick(2.3, 10.1)  # still shows 11
    assert len(out.getvalue()) == after_tick
    view.tick(3.0, 9.5)
    assert len(out.getvalue()) > after_tick
    view.record({"t": 5, "kind": "session_end", "phase": "done", "summary": {}})
    view.close()
    view.close()
    tail = out.getvalue()
    assert tail.count("\x1b[?1049l") == 1
    assert tail.endswith("floorcoach: done; Pelvic tilt\n")


def test_make_view_falls_back_to_plain_when_not_a_terminal() -> None:
    notes: list[str] = []
    assert make_view("normal") is None
    assert isinstance(make_view("plain", io.StringIO()), PlainView)
    assert isinstance(make_view("big", FakeTty()), BigView)
    assert isinstance(make_view("big", io.StringIO(), note=notes.append), PlainView)
    assert notes == ["--big needs a terminal; showing plain lines instead"]
    with pytest.raises(ValueError, match="unknown display mode"):
        make_view("huge")


def test_countdown_reads_the_engine_timed_step_end() -> None:
    class Engine:
        timed_step_end: float | None = 30.0
        paused = False

    engine = Engine()
    assert countdown(engine, 25.5) == pytest.approx(4.5)
    engine.paused = True
    assert countdown(engine, 25.5) is None
    engine.paused, engine.timed_step_end = False, None
    assert countdown(engine, 25.5) is None
