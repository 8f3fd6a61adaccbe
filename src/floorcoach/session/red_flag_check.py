"""Warning signs of a serious nerve problem: end the session, after asking back once.

Typed, a warning sign is meant and ends the session at once with the advice to get urgent
care. Heard by voice it may be a mishearing, so the clock stops and the player asks "Did
you say ...? Say yes or no." Yes, the sign again, "stop", or no answer within
RED_FLAG_ANSWER_SECONDS of the question ending, and the session ends (missing a real one is
worse than asking); no (or "carry on", "go back") and it goes on as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Protocol

from floorcoach.commands import Command, Intent, ListenContext, RedFlag, Reply, spoken_table
from floorcoach.session.counting import estimate_speech_seconds
from floorcoach.session.events import Priority
from floorcoach.session.outbox import Outbox
from floorcoach.session.steps import PauseReason, RunningStep

RED_FLAG_REASONS: Final[dict[RedFlag, str]] = {
    RedFlag.SADDLE_NUMBNESS: "Numbness between the legs or in the saddle area",
    RedFlag.BLADDER_BOWEL: "New trouble controlling your bladder or bowels",
    RedFlag.WEAK_LEGS: "Weakness in both legs",
    RedFlag.CANT_FEEL_LEG: "Losing feeling in your leg",
    RedFlag.FOOT_WEAKNESS: "Severe weakness lifting your foot",
    RedFlag.BOTH_LEGS: "Pain spreading to both legs",
}
RED_FLAG_QUESTIONS: Final[dict[RedFlag, str]] = {
    RedFlag.SADDLE_NUMBNESS: "you're numb between your legs",
    RedFlag.BLADDER_BOWEL: "you have bladder or bowel problems",
    RedFlag.WEAK_LEGS: "both your legs are weak",
    RedFlag.CANT_FEEL_LEG: "you can't feel your leg",
    RedFlag.FOOT_WEAKNESS: "you can't lift your foot",
    RedFlag.BOTH_LEGS: "you have pain in both legs",
}
"""Each warning sign as the user said it, turned round: "Did you say you can't feel your leg?"."""
RED_FLAG_ANSWER_SECONDS: Final = 8.0
"""No answer this long after the question: the warning sign stands (missing one is worse)."""


def _deny_word() -> str:
    """How to say "I didn't say that" in words the recognizer listens for in that moment.

    "no" when the confirm grammar has it; otherwise "carry on", which it always has.
    """
    return "no" if "no" in spoken_table(ListenContext.CONFIRM) else "carry on"


DENY_WORD: Final = _deny_word()


def red_flag_warning(flag: RedFlag) -> str:
    """What is said when a warning sign ends the session."""
    return (
        f"Stop the exercise now. {RED_FLAG_REASONS[flag]} can be a sign of a serious nerve "
        "problem. Please get urgent medical care: call your doctor or emergency services now. "
        "I'm ending the session."
    )


@dataclass
class OpenCheck:
    """A warning sign heard by voice, asked back before the session ends on it."""

    flag: RedFlag
    question_id: int
    deadline: float
    paused_here: bool
    """The check stopped the clock (False: it was already stopped, by a pause or pain)."""
    started: float
    said: bool = False
    """The question has been said (until then a repeat of the warning sign is its echo)."""


class RedFlagSession(Protocol):
    """What the red-flag check sees of the session and may do to it."""

    now: float
    rate_wpm: int
    running: RunningStep | None

    @property
    def paused(self) -> bool: ...

    def pause(self, reason: PauseReason) -> None: ...

    def resume(self, *, announce: bool = True) -> None: ...

    def postpone_questions(self, seconds: float) -> None:
        """Move the deadlines of open questions (pain, "stop again?") on by this much."""

    def still_waiting_text(self) -> str: ...

    def say_where(self, lead: str) -> None:
        """Say "{lead}: hold, 3 seconds left."; a timed step's clock waits for the words."""

    def end_on_red_flag(self, flag: RedFlag) -> None: ...


class RedFlagCheck:
    """At most one open check; everything else in the session waits for its answer."""

    def __init__(self, session: RedFlagSession, out: Outbox) -> None:
        self._session = session
        self._out = out
        self.open: OpenCheck | None = None

    @property
    def deadline(self) -> float | None:
        return self.open.deadline if self.open is not None else None

    def ask(self, flag: RedFlag) -> None:
        """A warning sign heard by voice: stop everything, then ask once whether it was said."""
        session, out = self._session, self._out
        paused_here = not session.paused
        if paused_here:
            session.pause(PauseReason.RED_FLAG)
        out.stop_speech()
        question = f"Did you say {RED_FLAG_QUESTIONS[flag]}? Say yes or {DENY_WORD}."
        ident = out.say(question, Priority.URGENT)
        # until the question has been said, the time to answer is at most this
        longest = session.now + estimate_speech_seconds(question, session.rate_wpm)
        self.open = OpenCheck(
            flag, ident, longest + RED_FLAG_ANSWER_SECONDS, paused_here, session.now
        )
        out.log("red_flag_question", flag=flag.value, said=question)

    def speech_done(self, utterance_id: int, t: float) -> None:
        """The time to answer starts when the question has been said."""
        check = self.open
        if check is not None and utterance_id == check.question_id and not check.said:
            check.said = True
            check.deadline = t + RED_FLAG_ANSWER_SECONDS

    def answer(self, intent: Intent) -> None:
        """Yes (or the warning sign again, or stop) ends the session; no carries on."""
        check = self.open
        assert check is not None
        if intent.red_flag is not None:
            if check.said:
                self._confirm(intent.red_flag, "repeated")
            # while the question is being said, its own words may come back: not an answer
        elif intent.reply is Reply.YES:
            self._confirm(check.flag, "yes")
        elif intent.command is Command.STOP:
            self._confirm(check.flag, "stop")
        elif intent.reply is Reply.NO or intent.command in (Command.RESUME, Command.UNDO):
            self._withdraw(intent.reply.value if intent.reply else intent.value)
        # anything else: the question is asked once; no answer in time means yes

    def check_deadline(self) -> None:
        """No answer in time: the warning sign stands."""
        if self.open is not None and self._session.now >= self.open.deadline - 1e-9:
            self._confirm(self.open.flag, "no_answer")

    def _close(self, flag: RedFlag, answer: str, outcome: str) -> OpenCheck:
        check = self.open
        assert check is not None
        self.open = None
        self._out.log(
            "red_flag_answer",
            flag=flag.value,
            answer=answer,
            outcome=outcome,
            seconds=round(self._session.now - check.started, 3),
        )
        return check

    def _confirm(self, flag: RedFlag, answer: str) -> None:
        self._close(flag, answer, "confirmed")
        self._session.end_on_red_flag(flag)

    def _withdraw(self, answer: str) -> None:
        assert self.open is not None
        check = self._close(self.open.flag, answer, "withdrawn")
        session, out = self._session, self._out
        out.stop_speech()
        if not check.paused_here:
            # it was stopped before (a pause, a pain question): that carries on as it was
            session.postpone_questions(session.now - check.started)
            out.say(f"Sorry, I misheard. {session.still_waiting_text()}", Priority.RESPONSE)
            return
        if session.running is not None:
            session.resume(announce=False)
            session.say_where("Sorry, I misheard. Carrying on")
            return
        out.say("Sorry, I misheard.", Priority.RESPONSE)
        session.resume(announce=False)  # says the interrupted instruction again
