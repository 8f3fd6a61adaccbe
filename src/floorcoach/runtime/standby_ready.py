"""A session asked for by voice plays only once someone says yes.

Standby listens all day and still hears requests in other people's talk (2-7 an hour of
nearby conversation, BENCHMARKS.md twenty-first session); a session started by mistake would
play its whole routine to the room. So a spoken "start" is answered with a question, and the
session begins on "yes". The question also gives the user time to get down to the floor
before the welcome starts. Typed requests need no answer: someone is at the keyboard.

Every spoken answer is a phrase the command head knows, so the head (trained on recorded
people) checks what the grammar decoder hears, as it does in a session.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from floorcoach.commands import normalize, phrase_table

if TYPE_CHECKING:
    from floorcoach.commands import Intent


class ReadyAnswer(StrEnum):
    """What an answer to "say yes when you're ready" means."""

    GO = "go"
    NOT_NOW = "not now"
    MORE_TIME = "more time"


SPOKEN_ANSWERS: Final[dict[str, ReadyAnswer]] = {
    "yes": ReadyAnswer.GO,
    "i am ready": ReadyAnswer.GO,
    "no": ReadyAnswer.NOT_NOW,
    "stop": ReadyAnswer.NOT_NOW,
    "end session": ReadyAnswer.NOT_NOW,
    "that is enough": ReadyAnswer.NOT_NOW,
    "wait": ReadyAnswer.MORE_TIME,
    "hold on": ReadyAnswer.MORE_TIME,
    "hang on": ReadyAnswer.MORE_TIME,
    "give me a moment": ReadyAnswer.MORE_TIME,
    "pause": ReadyAnswer.MORE_TIME,
}
"""The answers listened for, all known to the command head (a test checks it). Only "yes"
and "I'm ready" play: "continue" was 6 of the 7 yes-like answers heard in 4.5 hours of
recorded talk (scripts/bench_standby, twenty-second session), and the question asks for yes."""
TYPED_ANSWERS: Final[dict[str, ReadyAnswer]] = {
    "ready": ReadyAnswer.GO,
    "go": ReadyAnswer.GO,
    "continue": ReadyAnswer.GO,
    "resume": ReadyAnswer.GO,
    "ok": ReadyAnswer.GO,
    "okay": ReadyAnswer.GO,
    "start": ReadyAnswer.GO,
    "begin": ReadyAnswer.GO,
    "not now": ReadyAnswer.NOT_NOW,
    "cancel": ReadyAnswer.NOT_NOW,
    "later": ReadyAnswer.NOT_NOW,
}
"""More answers a typed line may give (the recognizer does not listen for these)."""

REMIND_AFTER_SECONDS: Final = 45.0
"""Asked again once, for someone still getting down to the floor or who was not heard."""
GIVE_UP_AFTER_SECONDS: Final = 90.0
"""Back to standby with no answer: long enough to lie down slowly, short enough that a
mistaken start costs one question and a reminder, not a session."""

REMINDER: Final = "Are you ready? Say yes to begin, or no if you'd rather not start now."
MORE_TIME_REPLY: Final = "Take your time. Say yes when you're ready."
NOT_NOW_REPLY: Final = "All right, not now. Say start when you want to begin."
GAVE_UP_REPLY: Final = "I didn't hear an answer, so I'll wait. Say start when you want to begin."
NOT_CAUGHT_REPLY: Final = "Sorry, I didn't catch that. Say just yes to begin, or no."
"""Words heard and not placed ("yes please", "yes, I'm ready": the grammar holds single
answers): said once a wait, so talk in the room does not make standby chatter."""


@dataclass(frozen=True)
class Replies:
    """What a yes-or-no question says as its wait goes on, and how long the wait is."""

    reminder: str = REMINDER
    more_time: str = MORE_TIME_REPLY
    not_now: str = NOT_NOW_REPLY
    gave_up: str = GAVE_UP_REPLY
    not_caught: str = NOT_CAUGHT_REPLY
    remind_after: float = REMIND_AFTER_SECONDS
    give_up_after: float = GIVE_UP_AFTER_SECONDS


START_REPLIES: Final = Replies()
"""Before a session asked for by voice."""
SWITCH_OFF_QUESTION: Final = (
    "Shall I switch off? I won't hear you again until the device restarts. "
    "Say yes to switch off, or no."
)
"""Before a spoken "goodbye" (or "switch off") ends standby. As a service, an ended standby
stays off until the next restart, and recorded talk says "goodbye" about once an hour
(scripts/bench_standby)."""
SWITCH_OFF_REPLIES: Final = Replies(
    reminder="Shall I switch off? Say yes to switch off, or no to keep listening.",
    more_time="Take your time. Say yes to switch off.",
    not_now="All right, I'm still listening.",
    gave_up="I'll keep listening.",
    not_caught="Sorry, I didn't catch that. Say just yes to switch off, or no.",
    remind_after=20.0,
    give_up_after=40.0,
)
"""A shorter wait than a start's: the user is there and needs no time to lie down."""


LEARN_QUESTION: Final = (
    "Shall I learn your voice? I'll ask you to say each command three times. "
    "Say yes to begin, or no."
)
"""Before an enrollment asked for by voice. An enrollment takes whatever it hears as the
user's own takes: in the hour-long soak (scripts/bench_soak) talk in the room started one,
and it kept other people's words as the user's "resume", "next" and "that hurts", which the
recognizer then uses in every session."""
LEARN_REPLIES: Final = Replies(
    reminder="Shall I learn your voice? Say yes to begin, or no.",
    more_time="Take your time. Say yes when you're ready to begin.",
    not_now="All right, not now. Say learn my voice when you want to.",
    gave_up="I didn't hear an answer. Say learn my voice when you want to.",
    not_caught=NOT_CAUGHT_REPLY,
)
"""A start's wait: the user may be settling somewhere quiet."""


def reminders_question(turn_on: bool) -> tuple[str, Replies]:
    """What standby asks before reminders are turned on or off by voice, and its replies.

    A lasting setting: reminders turned on by talk in the room speak up every 25 minutes,
    day after day, and turned off they leave someone without the nudges they asked for.
    The long soak (scripts/bench_soak, recorded talk at 20 dB) turned them on within
    4 minutes. Same short wait as switching off: the user is there."""
    state = "on" if turn_on else "off"
    question = f"Shall I turn reminders {state}? Say yes or no."
    replies = Replies(
        reminder=question,
        more_time=f"Take your time. Say yes to turn reminders {state}.",
        not_now="All right, I'll leave the reminders as they are.",
        gave_up="I'll leave the reminders as they are.",
        not_caught=f"Sorry, I didn't catch that. Say just yes to turn reminders {state}, or no.",
        remind_after=SWITCH_OFF_REPLIES.remind_after,
        give_up_after=SWITCH_OFF_REPLIES.give_up_after,
    )
    return question, replies


def ready_question(routine_name: str, resuming: bool = False) -> str:
    """What standby says to a spoken start: the routine, then the answer it waits for.

    Not "on the floor": some routines are walked. "yes" is not the last word, so the player's
    own voice cannot end on it (the echo gate drops it as the player's words anyway)."""
    doing = "Picking up" if resuming else "Starting"
    return f"{doing} {routine_name}. Say yes when you're ready to begin."


def ready_answer(text: str) -> ReadyAnswer | None:
    """What a heard or typed line answers, or None (not an answer)."""
    words = normalize(text)
    return SPOKEN_ANSWERS.get(words) or TYPED_ANSWERS.get(words)


def ready_table() -> dict[str, Intent]:
    """The spoken answers as a recognizer grammar, with the intents `parse` gives them."""
    return phrase_table(SPOKEN_ANSWERS)


class ReadyVerdict(StrEnum):
    """Where the question stands."""

    WAITING = "waiting"
    PLAY = "play"
    BACK = "back"


@dataclass(frozen=True)
class ReadyStep:
    """The question's state after a line or a tick, and what to say now (None: nothing)."""

    verdict: ReadyVerdict
    say: str | None = None


class ReadyCheck:
    """Waits for the answer to the ready question on a clock given in seconds.

    Deadlines are absolute (from when the question was asked, or from the last "give me a
    moment"), so time spent speaking does not push them back.
    """

    def __init__(self, asked_at: float, replies: Replies = START_REPLIES) -> None:
        if not 0 < replies.remind_after < replies.give_up_after:
            raise ValueError("the reminder must come after the question and before giving up")
        self._since = asked_at
        self._replies = replies
        self._reminded = False
        self._not_caught_said = False

    def unclear(self, now: float) -> ReadyStep:
        """Words heard that are no answer the recognizer knows: ask again, once a wait."""
        if self._not_caught_said:
            return self.tick(now)
        self._not_caught_said = True
        return ReadyStep(ReadyVerdict.WAITING, self._replies.not_caught)

    def hear(self, text: str, now: float) -> ReadyStep:
        """A line heard or typed while waiting."""
        answer = ready_answer(text)
        if answer is ReadyAnswer.GO:
            return ReadyStep(ReadyVerdict.PLAY)
        if answer is ReadyAnswer.NOT_NOW:
            return ReadyStep(ReadyVerdict.BACK, self._replies.not_now)
        if answer is ReadyAnswer.MORE_TIME:
            self._since = now  # the clock starts again, with a reminder again
            self._reminded = False
            self._not_caught_said = False
            return ReadyStep(ReadyVerdict.WAITING, self._replies.more_time)
        return self.tick(now)

    def tick(self, now: float) -> ReadyStep:
        """Time passing with no answer."""
        waited = now - self._since
        if waited >= self._replies.give_up_after:
            return ReadyStep(ReadyVerdict.BACK, self._replies.gave_up)
        if waited >= self._replies.remind_after and not self._reminded:
            self._reminded = True
            return ReadyStep(ReadyVerdict.WAITING, self._replies.reminder)
        return ReadyStep(ReadyVerdict.WAITING)
