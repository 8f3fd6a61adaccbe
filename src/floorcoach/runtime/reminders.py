"""Daily-habit reminders for standby: a pure scheduler, so a fake clock tests a whole day.

Seed 002: a five-minute routine cannot undo sixteen hours of sitting badly. So, when the
user opts in, the speaker reminds them to stand up every so often, to take the day's walk
(its length grows with the weekly progression) and to do their stretches in the evening.
Nothing here reads a clock or sleeps: the standby loop passes the time in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from pydantic import BaseModel, ConfigDict, Field, model_validator

from floorcoach import commands
from floorcoach.content.routine import ProgressionStage
from floorcoach.session.counting import number_word

if TYPE_CHECKING:
    from floorcoach.store.history_store import HistoryStore


class ReminderKind(StrEnum):
    """What a reminder is about; ALL marks turning every reminder off or on."""

    STAND = "stand"
    WALK = "walk"
    STRETCH = "stretch"
    ALL = "all"


class ReminderAction(StrEnum):
    """What happened to a reminder, as kept in the history."""

    GIVEN = "given"
    SNOOZED = "snoozed"
    ACTED_ON = "acted_on"
    TURNED_OFF = "turned_off"
    TURNED_ON = "turned_on"


class ReminderReply(StrEnum):
    """What the user may say to a reminder."""

    NOT_NOW = "not_now"
    STOP = "stop_reminders"
    START = "start_reminders"
    DONE = "done"


REPLY_PHRASES: Final[dict[ReminderReply, tuple[str, ...]]] = {
    ReminderReply.NOT_NOW: (
        "not now",
        "not yet",
        "later",
        "maybe later",
        "remind me later",
        "snooze",
        "in a minute",
        "no thanks",
        "no thank you",
    ),
    ReminderReply.STOP: (
        "stop reminders",
        "stop the reminders",
        "stop reminding me",
        "no more reminders",
        "turn off reminders",
        "turn reminders off",
        "reminders off",
        "do not remind me",
    ),
    ReminderReply.START: (
        "start reminders",
        "turn on reminders",
        "turn reminders on",
        "reminders on",
        "remind me",
    ),
    ReminderReply.DONE: (
        "done",
        "ok",
        "okay",
        "all right",
        "will do",
        "i did it",
        "i am up",
        "i am going",
        "on my way",
        "going now",
        "all done",
    ),
}
"""Phrases per reply; the speech-recognition grammar for standby should include them."""

_REPLY_TABLE: Final = {
    commands.normalize(phrase): reply
    for reply, phrases in REPLY_PHRASES.items()
    for phrase in phrases
}
_REPLIES_LONGEST_FIRST: Final = sorted(_REPLY_TABLE, key=lambda p: (-len(p.split()), p))
_NEGATION: Final = re.compile(r"\b(do not|never|no need to)\b")


def parse_reply(text: str) -> ReminderReply | None:
    """The reply in typed or heard text: exact phrase, else the longest phrase in it.

    A negated sentence ("do not stop reminders") means nothing rather than its opposite,
    unless the negation is the phrase itself ("please do not remind me").
    """
    words = commands.normalize(text)
    if not words:
        return None
    exact = _REPLY_TABLE.get(words)
    if exact is not None:
        return exact
    padded = f" {words} "
    for phrase in _REPLIES_LONGEST_FIRST:
        if f" {phrase} " in padded:
            if _NEGATION.search(words) and not _NEGATION.search(phrase):
                return None
            return _REPLY_TABLE[phrase]
    return None


def reminder_switch(text: str) -> bool | None:
    """True when the words turn reminders on, False when off, None when neither."""
    reply = parse_reply(text)
    if reply is ReminderReply.START:
        return True
    return False if reply is ReminderReply.STOP else None


def in_quiet_hours(moment: time, quiet_from: time, quiet_until: time) -> bool:
    """Whether a time of day is quiet; a span like 21:00-08:00 crosses midnight."""
    if quiet_from == quiet_until:
        return False  # no quiet hours
    if quiet_from < quiet_until:
        return quiet_from <= moment < quiet_until
    return moment >= quiet_from or moment < quiet_until


class ReminderSettings(BaseModel):
    """Reminder preferences (loaded from the config file; every default is from seed 002)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = False
    """Opt-in: no reminder is ever said until the user turns them on."""
    stand_enabled: bool = True
    stand_every_minutes: int = Field(default=25, ge=5, le=240)
    """Seed 002: set a timer to stand every twenty-five minutes."""
    walk_enabled: bool = True
    walk_at: time = time(11, 0)
    """When to suggest the day's walk (once a day)."""
    stretch_enabled: bool = True
    stretch_at: time = time(19, 0)
    """When to say "time for your stretches" (once a day, unless a session was done)."""
    quiet_from: time = time(21, 0)
    quiet_until: time = time(8, 0)
    """No reminder from quiet_from to quiet_until (may cross midnight; equal: none)."""
    snooze_minutes: int = Field(default=15, ge=1, le=240)
    """How long "not now" puts reminders off."""
    min_gap_minutes: int = Field(default=10, ge=0, le=240)
    """At most one reminder in this many minutes, whatever its kind."""
    reply_window_minutes: int = Field(default=30, ge=1, le=240)
    """A reply, or a session started, this soon after a reminder counts as its answer."""

    @model_validator(mode="after")
    def _daily_times_outside_quiet_hours(self) -> ReminderSettings:
        for name in ("walk_at", "stretch_at"):
            moment: time = getattr(self, name)
            if in_quiet_hours(moment, self.quiet_from, self.quiet_until):
                raise ValueError(
                    f"{name} ({moment:%H:%M}) is inside the quiet hours "
                    f"({self.quiet_from:%H:%M}-{self.quiet_until:%H:%M}), so it would never "
                    "be said"
                )
        return self


STAND_TEXT: Final = "You've been sitting for a while. Time to stand up and move about for a minute."
STRETCH_TEXT: Final = "It's time for your stretches. A few gentle minutes will help your back."
DEFAULT_WALK_MINUTES: Final = 5.0
"""Seed 002's first-week walk, used when no progression table is given."""
FIRST_HINT: Final = "You can say not now, or stop reminders."
"""Added to the first reminder after start-up, so the replies are discoverable."""


def walk_text(minutes: float) -> str:
    """The walk reminder, with today's goal in words."""
    whole = max(1, round(minutes))
    unit = "minute" if whole == 1 else "minutes"
    return f"Time for today's walk: about {number_word(whole)} {unit}, at an easy pace."


def week_number(program_start: date, today: date) -> int:
    """Week 1 is the first seven days from the first session."""
    return max(0, (today - program_start).days) // 7 + 1


def walk_goal_minutes(progression: Sequence[ProgressionStage], week: int) -> float:
    """The progression stage's walk for this week (the last stage goes on for ever)."""
    if not progression:
        return DEFAULT_WALK_MINUTES
    for stage in progression:
        if week >= stage.weeks_from and (stage.weeks_to is None or week <= stage.weeks_to):
            return stage.walk_minutes
    return progression[-1].walk_minutes


@dataclass(frozen=True)
class Reminder:
    """A reminder to say now."""

    kind: ReminderKind
    text: str
    at: datetime


@dataclass(frozen=True)
class ReminderRecord:
    """One entry for the history: a reminder given, snoozed or acted on, or all on/off."""

    kind: ReminderKind
    action: ReminderAction
    at: datetime
    text: str | None = None


class ReminderScheduler:
    """Decides, from the time it is given, whether a reminder is due; never during a session.

    The standby loop calls `due(now)` on every tick and says what it returns, passes the
    user's words to `handle(text, now)` (a reply to say back, or None: not for us), and
    calls `session_started`/`session_ended`. Every given, snoozed and acted-on reminder
    goes to `on_record`.
    """

    def __init__(
        self,
        settings: ReminderSettings,
        *,
        now: datetime,
        progression: Sequence[ProgressionStage] = (),
        program_start: date | None = None,
        on_record: Callable[[ReminderRecord], None] | None = None,
    ) -> None:
        self.settings = settings
        self.active = settings.enabled
        self._progression = tuple(progression)
        self._program_start = program_start
        self._on_record = on_record
        self._in_session = False
        self._stand_anchor = now
        self._last_given: datetime | None = None
        self._awaiting: Reminder | None = None
        self._snoozed_until: datetime | None = None
        self._snoozed_kind: ReminderKind | None = None
        self._done_on: dict[ReminderKind, date] = {}
        self._hinted = False

    # ------------------------------------------------------------ asking

    @property
    def in_session(self) -> bool:
        """Whether a session is running (reminders wait)."""
        return self._in_session

    def walk_minutes(self, today: date) -> float:
        """Today's walk goal, from the progression stage of the user's week."""
        week = week_number(self._program_start, today) if self._program_start else 1
        return walk_goal_minutes(self._progression, week)

    def due(self, now: datetime) -> Reminder | None:
        """The reminder to say now, if any (it is then recorded as given)."""
        if not self.active or self._in_session:
            return None
        settings = self.settings
        if in_quiet_hours(now.time(), settings.quiet_from, settings.quiet_until):
            return None
        gap = timedelta(minutes=settings.min_gap_minutes)
        if self._last_given is not None and now < self._last_given + gap:
            return None
        if self._snoozed_until is not None:
            if now < self._snoozed_until:
                return None
            kind = self._snoozed_kind
            self._snoozed_until = self._snoozed_kind = None
            if kind is not None and kind is not ReminderKind.ALL and self._enabled(kind):
                return self._give(kind, now)
        for kind in (ReminderKind.STRETCH, ReminderKind.WALK, ReminderKind.STAND):
            if self._enabled(kind) and self._is_due(kind, now):
                return self._give(kind, now)
        return None

    def stand_due_at(self, now: datetime) -> datetime:
        """When the next stand-up reminder falls due: the interval counts from the later of
        the last reminder, reply or session and the end of the last quiet hours."""
        start = self._stand_anchor
        quiet_end = self._last_quiet_end(now)
        if quiet_end is not None and quiet_end > start:
            start = quiet_end
        return start + timedelta(minutes=self.settings.stand_every_minutes)

    def _enabled(self, kind: ReminderKind) -> bool:
        settings = self.settings
        return {
            ReminderKind.STAND: settings.stand_enabled,
            ReminderKind.WALK: settings.walk_enabled,
            ReminderKind.STRETCH: settings.stretch_enabled,
        }.get(kind, False)

    def _is_due(self, kind: ReminderKind, now: datetime) -> bool:
        if kind is ReminderKind.STAND:
            return now >= self.stand_due_at(now)
        if self._done_on.get(kind) == now.date():
            return False
        at = self.settings.walk_at if kind is ReminderKind.WALK else self.settings.stretch_at
        return now.time() >= at

    def _last_quiet_end(self, now: datetime) -> datetime | None:
        settings = self.settings
        if settings.quiet_from == settings.quiet_until:
            return None
        end = datetime.combine(now.date(), settings.quiet_until, tzinfo=now.tzinfo)
        return end if end <= now else end - timedelta(days=1)

    def _give(self, kind: ReminderKind, now: datetime) -> Reminder:
        if kind is ReminderKind.STAND:
            text = STAND_TEXT
            self._stand_anchor = now
        elif kind is ReminderKind.WALK:
            text = walk_text(self.walk_minutes(now.date()))
        else:
            text = STRETCH_TEXT
        if kind is not ReminderKind.STAND:
            self._done_on[kind] = now.date()
        if not self._hinted:
            text = f"{text} {FIRST_HINT}"
            self._hinted = True
        reminder = Reminder(kind, text, now)
        self._last_given = now
        self._awaiting = reminder
        self._record(kind, ReminderAction.GIVEN, now, text)
        return reminder

    # ------------------------------------------------------------ replies and sessions

    def handle(self, text: str, now: datetime) -> str | None:
        """React to the user's words; returns what to say back, or None if not a reply."""
        reply = parse_reply(text)
        if reply is None:
            return None
        return self.reply(reply, now)

    def reply(self, reply: ReminderReply, now: datetime) -> str | None:
        """Apply a parsed reply; None when it means nothing now ("done" with no reminder)."""
        awaiting = self._awaiting_at(now)
        if reply is ReminderReply.STOP:
            was_active = self.active
            self.active = False
            self._awaiting = None
            self._snoozed_until = self._snoozed_kind = None
            if was_active:
                self._record(ReminderKind.ALL, ReminderAction.TURNED_OFF, now)
            return "Reminders are off. Say start reminders to turn them back on."
        if reply is ReminderReply.START:
            was_active = self.active
            self.active = True
            self._stand_anchor = now
            if not was_active:
                self._record(ReminderKind.ALL, ReminderAction.TURNED_ON, now)
            return self._on_text()
        if not self.active:
            return None
        if reply is ReminderReply.NOT_NOW:
            minutes = self.settings.snooze_minutes
            self._snoozed_until = now + timedelta(minutes=minutes)
            self._snoozed_kind = awaiting.kind if awaiting else ReminderKind.ALL
            self._awaiting = None
            self._record(self._snoozed_kind, ReminderAction.SNOOZED, now)
            unit = "minute" if minutes == 1 else "minutes"
            return f"All right, I'll remind you again in {number_word(minutes)} {unit}."
        if awaiting is None:
            return None
        self._acted(awaiting.kind, now)
        return "Well done."

    def session_started(self, now: datetime) -> None:
        """A session begins: reminders wait, and a stretch reminder just given is answered."""
        self._in_session = True
        awaiting = self._awaiting_at(now)
        if awaiting is not None and awaiting.kind is ReminderKind.STRETCH:
            self._acted(ReminderKind.STRETCH, now)
        self._done_on[ReminderKind.STRETCH] = now.date()

    def session_ended(self, now: datetime) -> None:
        """The session is over: reminders resume, the stand-up interval starts again."""
        self._in_session = False
        self._stand_anchor = now

    def _acted(self, kind: ReminderKind, now: datetime) -> None:
        self._awaiting = None
        if kind is ReminderKind.STAND:
            self._stand_anchor = now
        self._record(kind, ReminderAction.ACTED_ON, now)

    def _awaiting_at(self, now: datetime) -> Reminder | None:
        window = timedelta(minutes=self.settings.reply_window_minutes)
        if self._awaiting is not None and now - self._awaiting.at <= window:
            return self._awaiting
        return None

    def _on_text(self) -> str:
        settings = self.settings
        if settings.stand_enabled:
            return (
                "Reminders are on. I'll remind you to stand up every "
                f"{number_word(settings.stand_every_minutes)} minutes."
            )
        return "Reminders are on."

    def _record(
        self, kind: ReminderKind, action: ReminderAction, now: datetime, text: str | None = None
    ) -> None:
        if self._on_record is not None:
            self._on_record(ReminderRecord(kind, action, now, text))


def history_recorder(store: HistoryStore) -> Callable[[ReminderRecord], None]:
    """An `on_record` that keeps every reminder record in the history file."""

    def record(entry: ReminderRecord) -> None:
        store.record_reminder(entry.kind.value, entry.action.value, at=entry.at, text=entry.text)

    return record


__all__ = [
    "REPLY_PHRASES",
    "Reminder",
    "ReminderAction",
    "ReminderKind",
    "ReminderRecord",
    "ReminderReply",
    "ReminderScheduler",
    "ReminderSettings",
    "history_recorder",
    "in_quiet_hours",
    "parse_reply",
    "walk_goal_minutes",
    "week_number",
]
