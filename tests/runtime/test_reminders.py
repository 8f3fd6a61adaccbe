"""Habit reminders on a fake clock: interval, quiet hours, snooze, off, sessions, walk goal."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from floorcoach.content.catalog import load_guidance
from floorcoach.runtime.reminders import (
    FIRST_HINT,
    STAND_TEXT,
    STRETCH_TEXT,
    Reminder,
    ReminderAction,
    ReminderKind,
    ReminderRecord,
    ReminderReply,
    ReminderScheduler,
    ReminderSettings,
    history_recorder,
    in_quiet_hours,
    parse_reply,
    walk_goal_minutes,
    week_number,
)
from floorcoach.session.counting import number_word
from floorcoach.store.history_rows import REMINDER_ACTIONS, REMINDER_KINDS
from floorcoach.store.history_store import HistoryStore

GUIDANCE = load_guidance(Path(__file__).resolve().parents[2] / "routines" / "guidance.yaml")
DAY = date(2025, 3, 3)
STAND_ONLY = ReminderSettings(enabled=True, walk_enabled=False, stretch_enabled=False)


def at(hh: int, mm: int = 0, day: int = 0) -> datetime:
    return datetime.combine(DAY + timedelta(days=day), time(hh, mm))


class Clock:
    """A fake clock: the scheduler is polled once a minute, as a standby loop would."""

    def __init__(self, scheduler: ReminderScheduler, start: datetime) -> None:
        self.scheduler = scheduler
        self.now = start
        self.said: list[Reminder] = []

    def run_until(self, end: datetime, step: timedelta = timedelta(minutes=1)) -> list[Reminder]:
        given: list[Reminder] = []
        while self.now < end:
            self.now += step
            reminder = self.scheduler.due(self.now)
            if reminder is not None:
                given.append(reminder)
        self.said.extend(given)
        return given


def _scheduler(
    settings: ReminderSettings, start: datetime, **kwargs: object
) -> tuple[ReminderScheduler, Clock, list[ReminderRecord]]:
    records: list[ReminderRecord] = []
    scheduler = ReminderScheduler(settings, now=start, on_record=records.append, **kwargs)  # type: ignore[arg-type]
    return scheduler, Clock(scheduler, start), records


def _times(reminders: Iterable[Reminder]) -> list[str]:
    return [f"{r.at:%H:%M}" for r in reminders]


# ---------------------------------------------------------------- settings


def test_settings_defaults_are_the_seed_guidance_and_opt_in() -> None:
    settings = ReminderSettings()
    assert settings.enabled is False
    assert settings.stand_every_minutes == 25
    assert (settings.quiet_from, settings.quiet_until) == (time(21, 0), time(8, 0))
    assert settings.snooze_minutes == 15
    with pytest.raises(ValidationError):
        settings.enabled = True  # type: ignore[misc]


def test_settings_read_config_style_values_and_reject_nonsense() -> None:
    settings = ReminderSettings.model_validate(
        {"enabled": True, "stretch_at": "20:30", "quiet_from": "22:00", "quiet_until": "07:00"}
    )
    assert settings.stretch_at == time(20, 30)
    with pytest.raises(ValidationError, match="stretch_at \\(21:30\\) is inside the quiet hours"):
        ReminderSettings(stretch_at=time(21, 30))
    with pytest.raises(ValidationError):
        ReminderSettings(stand_every_minutes=1)
    with pytest.raises(ValidationError):
        ReminderSettings.model_validate({"stand_every": 30})


def test_nothing_is_said_until_reminders_are_turned_on() -> None:
    scheduler, clock, records = _scheduler(ReminderSettings(), at(8))
    assert clock.run_until(at(20, 59)) == []
    assert records == []
    reply = scheduler.handle("start reminders", at(21, 0, day=1) - timedelta(hours=12))
    assert reply == "Reminders are on. I'll remind you to stand up every twenty-five minutes."
    clock.now = at(9, 0, day=1)
    assert _times(clock.run_until(at(10, 0, day=1))) == ["09:25", "09:50"]


# ---------------------------------------------------------------- interval


def test_stand_reminder_every_twenty_five_minutes() -> None:
    _, clock, records = _scheduler(STAND_ONLY, at(9))
    given = clock.run_until(at(11, 30))
    assert _times(given) == ["09:25", "09:50", "10:15", "10:40", "11:05", "11:30"]
    assert given[0].text == f"{STAND_TEXT} {FIRST_HINT}"
    assert all(r.text == STAND_TEXT for r in given[1:])
    assert [(r.kind, r.action) for r in records] == [(ReminderKind.STAND, ReminderAction.GIVEN)] * 6


def test_interval_is_configurable() -> None:
    settings = STAND_ONLY.model_copy(update={"stand_every_minutes": 40})
    _, clock, _ = _scheduler(settings, at(9))
    assert _times(clock.run_until(at(11, 0))) == ["09:40", "10:20", "11:00"]


def test_never_more_often_than_the_minimum_gap() -> None:
    settings = ReminderSettings(
        enabled=True, stand_every_minutes=5, min_gap_minutes=12, walk_at=time(10, 3)
    )
    _, clock, _ = _scheduler(settings, at(9, 58))
    given = clock.run_until(at(20, 59))
    gaps = [(b.at - a.at) for a, b in zip(given, given[1:], strict=False)]
    assert min(gaps) >= timedelta(minutes=12)
    # the daily walk goes before a stand-up reminder due at the same minute
    assert [r.kind for r in given[:3]] == [
        ReminderKind.WALK,
        ReminderKind.STAND,
        ReminderKind.STAND,
    ]
    assert _times(given[:3]) == ["10:03", "10:15", "10:27"]


# ---------------------------------------------------------------- quiet hours


@pytest.mark.parametrize(
    ("moment", "quiet_from", "quiet_until", "quiet"),
    [
        (time(23, 30), time(21), time(8), True),
        (time(0, 0), time(21), time(8), True),
        (time(7, 59), time(21), time(8), True),
        (time(8, 0), time(21), time(8), False),
        (time(20, 59), time(21), time(8), False),
        (time(21, 0), time(21), time(8), True),
        (time(13, 30), time(13), time(14), True),
        (time(14, 0), time(13), time(14), False),
        (time(3, 0), time(13), time(14), False),
        (time(3, 0), time(9), time(9), False),
    ],
)
def test_quiet_hours(moment: time, quiet_from: time, quiet_until: time, quiet: bool) -> None:
    assert in_quiet_hours(moment, quiet_from, quiet_until) is quiet


def test_no_reminder_in_quiet_hours_across_midnight_and_interval_restarts_after() -> None:
    settings = ReminderSettings(enabled=True, stretch_at=time(18, 0))
    _, clock, _ = _scheduler(settings, at(18, 0))
    given = clock.run_until(at(12, 0, day=2))
    assert given, "reminders were given"
    for reminder in given:
        assert not in_quiet_hours(reminder.at.time(), time(21), time(8)), reminder
    # the last one before quiet hours, then the first after: 25 minutes after 08:00
    evening = [r for r in given if r.at.date() == DAY]
    morning = [r for r in given if r.at.date() == DAY + timedelta(days=1)]
    assert evening[-1].at < at(21, 0)
    assert _times(morning[:2]) == ["08:25", "08:50"]
    # the walk (11:00) and the stretches (18:00) came once on each day
    kinds_day2 = [r.kind for r in morning]
    assert kinds_day2.count(ReminderKind.WALK) == 1
    assert [r.kind for r in evening].count(ReminderKind.STRETCH) == 1


def test_daytime_quiet_hours() -> None:
    settings = STAND_ONLY.model_copy(update={"quiet_from": time(13), "quiet_until": time(14)})
    _, clock, _ = _scheduler(settings, at(12, 0))
    assert _times(clock.run_until(at(15, 0))) == ["12:25", "12:50", "14:25", "14:50"]


# ---------------------------------------------------------------- replies: snooze, off, done


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("not now", ReminderReply.NOT_NOW),
        ("Not now, thanks!", ReminderReply.NOT_NOW),
        ("remind me later", ReminderReply.NOT_NOW),
        ("stop reminders", ReminderReply.STOP),
        ("please stop reminding me", ReminderReply.STOP),
        ("please don't remind me", ReminderReply.STOP),
        ("start reminders", ReminderReply.START),
        ("okay", ReminderReply.DONE),
        ("I'm up", ReminderReply.DONE),
        ("don't stop reminders", None),
        ("what is the weather", None),
        ("", None),
    ],
)
def test_reply_phrases(text: str, reply: ReminderReply | None) -> None:
    assert parse_reply(text) is reply


def test_not_now_snoozes_then_the_reminder_comes_back() -> None:
    scheduler, clock, records = _scheduler(STAND_ONLY, at(9))
    assert _times(clock.run_until(at(9, 26))) == ["09:25"]
    answer = scheduler.handle("not now", at(9, 26))
    assert answer == "All right, I'll remind you again in fifteen minutes."
    given = clock.run_until(at(10, 30))
    assert _times(given) == ["09:41", "10:06"]
    assert given[0].kind is ReminderKind.STAND
    assert [(r.kind, r.action, f"{r.at:%H:%M}") for r in records] == [
        (ReminderKind.STAND, ReminderAction.GIVEN, "09:25"),
        (ReminderKind.STAND, ReminderAction.SNOOZED, "09:26"),
        (ReminderKind.STAND, ReminderAction.GIVEN, "09:41"),
        (ReminderKind.STAND, ReminderAction.GIVEN, "10:06"),
    ]


def test_snooze_length_is_configurable() -> None:
    settings = STAND_ONLY.model_copy(update={"snooze_minutes": 5, "min_gap_minutes": 0})
    scheduler, clock, _ = _scheduler(settings, at(9))
    clock.run_until(at(9, 25))
    assert scheduler.handle("later", at(9, 25)) == (
        "All right, I'll remind you again in five minutes."
    )
    assert _times(clock.run_until(at(9, 31))) == ["09:30"]


def test_stop_reminders_turns_them_off_until_started_again() -> None:
    scheduler, clock, records = _scheduler(ReminderSettings(enabled=True), at(9))
    clock.run_until(at(9, 25))
    assert scheduler.handle("don't stop reminders", at(9, 26)) is None
    assert scheduler.active
    reply = scheduler.handle("stop reminders", at(9, 27))
    assert reply == "Reminders are off. Say start reminders to turn them back on."
    assert scheduler.handle("stop reminders", at(9, 28)) is not None  # said again: no new record
    assert scheduler.handle("not now", at(9, 29)) is None  # nothing to snooze
    assert clock.run_until(at(20, 59)) == []  # not the walk, the stretches or standing
    assert [(r.kind, r.action) for r in records[-1:]] == [
        (ReminderKind.ALL, ReminderAction.TURNED_OFF)
    ]
    scheduler.handle("start reminders", at(21, 0))
    clock.now = at(9, 0, day=1)
    assert clock.run_until(at(9, 30, day=1))
    assert [r.action for r in records].count(ReminderAction.TURNED_ON) == 1


def test_acting_on_a_reminder_is_recorded_and_restarts_the_interval() -> None:
    scheduler, clock, records = _scheduler(STAND_ONLY, at(9))
    clock.run_until(at(9, 25))
    assert scheduler.handle("I'm up", at(9, 28)) == "Well done."
    assert _times(clock.run_until(at(10, 0))) == ["09:53"]
    assert (records[1].kind, records[1].action) == (ReminderKind.STAND, ReminderAction.ACTED_ON)
    # "done" long after a reminder, or with none waiting, is not a reply to anything
    assert scheduler.handle("done", at(11, 0)) is None
    assert scheduler.handle("ok", at(9, 0, day=1)) is None


# ---------------------------------------------------------------- sessions


def test_never_during_a_session() -> None:
    settings = ReminderSettings(enabled=True, walk_at=time(10, 0), stretch_at=time(10, 5))
    scheduler, clock, _ = _scheduler(settings, at(9, 0))
    clock.run_until(at(9, 20))
    scheduler.session_started(at(9, 20))
    assert scheduler.in_session
    assert clock.run_until(at(11, 0)) == []
    scheduler.session_ended(at(11, 0))
    given = clock.run_until(at(12, 0))
    # the walk, held back by the session, comes after it; the stretches were just done;
    # standing up counts from the end of the session
    assert [(f"{r.at:%H:%M}", r.kind) for r in given] == [
        ("11:01", ReminderKind.WALK),
        ("11:25", ReminderKind.STAND),
        ("11:50", ReminderKind.STAND),
    ]


def test_a_session_soon_after_the_stretch_reminder_acts_on_it() -> None:
    settings = ReminderSettings(enabled=True, stand_enabled=False, walk_enabled=False)
    scheduler, clock, records = _scheduler(settings, at(18, 0))
    given = clock.run_until(at(19, 5))
    assert [(f"{r.at:%H:%M}", r.text) for r in given] == [("19:00", f"{STRETCH_TEXT} {FIRST_HINT}")]
    scheduler.session_started(at(19, 10))
    scheduler.session_ended(at(19, 30))
    assert clock.run_until(at(20, 59)) == []
    assert [(r.kind, r.action) for r in records] == [
        (ReminderKind.STRETCH, ReminderAction.GIVEN),
        (ReminderKind.STRETCH, ReminderAction.ACTED_ON),
    ]


def test_no_stretch_reminder_after_a_session_that_day() -> None:
    settings = ReminderSettings(enabled=True, stand_enabled=False, walk_enabled=False)
    scheduler, clock, _ = _scheduler(settings, at(7, 0))
    scheduler.session_started(at(7, 30))
    scheduler.session_ended(at(7, 50))
    assert clock.run_until(at(20, 59)) == []
    assert [r.kind for r in clock.run_until(at(19, 1, day=1))] == [ReminderKind.STRETCH]


# ---------------------------------------------------------------- walk goal


def test_walk_goal_grows_with_the_weekly_stage() -> None:
    settings = ReminderSettings(enabled=True, stand_enabled=False, stretch_enabled=False)
    start = DAY
    _, clock, _ = _scheduler(
        settings, at(10), progression=GUIDANCE.progression, program_start=start
    )
    texts: dict[int, str] = {}
    for week in (1, 2, 3, 5, 9, 40):
        day = (week - 1) * 7
        clock.now = at(10, 0, day=day)
        given = clock.run_until(at(11, 1, day=day))
        assert [r.kind for r in given] == [ReminderKind.WALK]
        texts[week] = given[0].text
    stages = GUIDANCE.progression
    assert number_word(round(stages[0].walk_minutes)) in texts[1]
    assert texts[1].startswith("Time for today's walk: about five minutes")
    assert "about five minutes" in texts[2]
    assert "about fifteen minutes" in texts[3]
    assert "about twenty minutes" in texts[5]
    assert "about thirty minutes" in texts[9]
    assert "about thirty minutes" in texts[40]
    minutes = [walk_goal_minutes(stages, week) for week in (1, 3, 5, 9)]
    assert minutes == sorted(minutes)
    assert len(set(minutes)) == 4


def test_week_numbers_and_walk_without_a_table() -> None:
    assert week_number(DAY, DAY) == 1
    assert week_number(DAY, DAY + timedelta(days=6)) == 1
    assert week_number(DAY, DAY + timedelta(days=7)) == 2
    assert week_number(DAY, DAY - timedelta(days=3)) == 1
    assert walk_goal_minutes((), 12) == 5


# ---------------------------------------------------------------- history


def test_reminder_kinds_and_actions_match_the_history_schema() -> None:
    assert tuple(k.value for k in ReminderKind) == REMINDER_KINDS
    assert tuple(a.value for a in ReminderAction) == REMINDER_ACTIONS


def test_given_snoozed_and_acted_on_reminders_are_kept_in_the_history(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "h.sqlite3") as store:
        scheduler = ReminderScheduler(STAND_ONLY, now=at(9), on_record=history_recorder(store))
        clock = Clock(scheduler, at(9))
        clock.run_until(at(9, 25))
        scheduler.handle("not now", at(9, 26))
        clock.run_until(at(9, 41))
        scheduler.handle("okay", at(9, 42))
        scheduler.handle("stop reminders", at(9, 43))
        rows = store.reminders()
    assert [(r.kind, r.action, f"{r.recorded_at:%H:%M}") for r in rows] == [
        ("stand", "given", "09:25"),
        ("stand", "snoozed", "09:26"),
        ("stand", "given", "09:41"),
        ("stand", "acted_on", "09:42"),
        ("all", "turned_off", "09:43"),
    ]
    assert rows[0].text == f"{STAND_TEXT} {FIRST_HINT}"
    assert rows[1].text is None
