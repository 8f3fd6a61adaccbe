"""'Ready? Say yes': a session asked for by voice plays only on an answer."""

from __future__ import annotations

import json
import queue
from typing import Any

import pytest

from floorcoach.audio.listening.command_head import HEAD_DIR
from floorcoach.cli.standby import ReadyAsking
from floorcoach.commands import normalize, parse
from floorcoach.runtime.standby_ready import (
    GAVE_UP_REPLY,
    GIVE_UP_AFTER_SECONDS,
    MORE_TIME_REPLY,
    NOT_CAUGHT_REPLY,
    NOT_NOW_REPLY,
    REMIND_AFTER_SECONDS,
    REMINDER,
    SPOKEN_ANSWERS,
    SWITCH_OFF_QUESTION,
    SWITCH_OFF_REPLIES,
    ReadyAnswer,
    ReadyCheck,
    ReadyStep,
    ReadyVerdict,
    Replies,
    ready_answer,
    ready_question,
    ready_table,
    reminders_question,
)


@pytest.mark.parametrize(
    ("said", "answer"),
    [
        ("yes", ReadyAnswer.GO),
        ("I'm ready", ReadyAnswer.GO),
        ("Continue.", ReadyAnswer.GO),  # typed only: heard in talk too often
        ("ready", ReadyAnswer.GO),  # typed only: not in the spoken grammar
        ("no", ReadyAnswer.NOT_NOW),
        ("stop", ReadyAnswer.NOT_NOW),
        ("not now", ReadyAnswer.NOT_NOW),
        ("give me a moment", ReadyAnswer.MORE_TIME),
        ("hang on", ReadyAnswer.MORE_TIME),
        ("start core routine", None),
        ("what routines are there", None),
        ("", None),
    ],
)
def test_answers(said: str, answer: ReadyAnswer | None) -> None:
    assert ready_answer(said) is answer


def test_every_spoken_answer_is_checked_by_the_command_head() -> None:
    """The head (trained on recorded people) judges only phrases it knows: an answer it did
    not know would leave the whole answer context to the grammar decoder alone."""
    classes = json.loads((HEAD_DIR / "head.json").read_text())
    assert set(ready_table()) <= set(classes["classes"])
    for phrase, intent in ready_table().items():
        assert intent == parse(phrase)
        assert ready_answer(phrase) is SPOKEN_ANSWERS[normalize(phrase)]


def test_the_question_names_the_routine_and_the_answer() -> None:
    asked = ready_question("Core routine")
    assert asked.startswith("Starting Core routine.")
    assert "Say yes when you're ready" in asked
    assert ready_question("Core routine", resuming=True).startswith("Picking up Core routine.")


def test_yes_plays_and_no_goes_back() -> None:
    assert ReadyCheck(0.0).hear("yes", 3.0) == ReadyStep(ReadyVerdict.PLAY)
    assert ReadyCheck(0.0).hear("no", 3.0) == ReadyStep(ReadyVerdict.BACK, NOT_NOW_REPLY)


def test_no_answer_gets_one_reminder_then_standby_again() -> None:
    check = ReadyCheck(100.0)
    assert check.tick(100.0 + REMIND_AFTER_SECONDS - 0.1) == ReadyStep(ReadyVerdict.WAITING)
    assert check.tick(100.0 + REMIND_AFTER_SECONDS) == ReadyStep(ReadyVerdict.WAITING, REMINDER)
    assert check.tick(100.0 + REMIND_AFTER_SECONDS + 5) == ReadyStep(ReadyVerdict.WAITING)
    assert check.tick(100.0 + GIVE_UP_AFTER_SECONDS - 0.1).verdict is ReadyVerdict.WAITING
    assert check.tick(100.0 + GIVE_UP_AFTER_SECONDS) == ReadyStep(ReadyVerdict.BACK, GAVE_UP_REPLY)


def test_other_words_are_not_an_answer_and_keep_the_deadlines() -> None:
    check = ReadyCheck(0.0)
    assert check.hear("start core routine", 10.0) == ReadyStep(ReadyVerdict.WAITING)
    assert check.hear("purple elephant", GIVE_UP_AFTER_SECONDS).verdict is ReadyVerdict.BACK


def test_more_time_starts_the_wait_again_with_its_reminder() -> None:
    check = ReadyCheck(0.0)
    assert check.tick(REMIND_AFTER_SECONDS).say == REMINDER
    assert check.hear("give me a moment", 80.0) == ReadyStep(ReadyVerdict.WAITING, MORE_TIME_REPLY)
    assert check.tick(80.0 + GIVE_UP_AFTER_SECONDS - 1).verdict is ReadyVerdict.WAITING
    assert check.tick(80.0 + REMIND_AFTER_SECONDS).verdict is ReadyVerdict.WAITING  # said
    later = ReadyCheck(0.0)
    later.hear("wait", 80.0)
    assert later.tick(80.0 + REMIND_AFTER_SECONDS).say == REMINDER  # reminded again
    assert later.tick(80.0 + GIVE_UP_AFTER_SECONDS).verdict is ReadyVerdict.BACK


def test_the_reminder_must_fall_inside_the_wait() -> None:
    with pytest.raises(ValueError, match="reminder"):
        ReadyCheck(0.0, Replies(remind_after=90.0, give_up_after=60.0))


class _Voice:
    def __init__(self, clock: _Clock, seconds_per_line: float = 4.0) -> None:
        self.said: list[str] = []
        self._clock = clock
        self._seconds = seconds_per_line

    def say(self, text: str) -> None:
        self.said.append(text)
        self._clock.t += self._seconds  # saying takes time on the same clock


class _Ears:
    def __init__(self) -> None:
        self.answering: list[bool] = []

    def listen_for_answer(self, answering: bool) -> None:
        self.answering.append(answering)


class _Clock:
    """Seconds that move on by `step` at every look (each poll of an empty inbox)."""

    def __init__(self, step: float = 5.0) -> None:
        self.t = 0.0
        self._step = step

    def elapsed(self) -> float:
        self.t += self._step
        return self.t


def _asking(lines: list[Any]) -> tuple[ReadyAsking, _Voice, _Ears, queue.Queue[Any]]:
    clock = _Clock()
    voice, ears = _Voice(clock), _Ears()
    inbox: queue.Queue[Any] = queue.Queue()
    for line in lines:
        inbox.put(line)
    asking = ReadyAsking(voice, ears, inbox, clock, time_scale=1000.0)  # type: ignore[arg-type]
    return asking, voice, ears, inbox


def test_asking_plays_on_yes_and_listens_for_requests_again() -> None:
    asking, voice, ears, _ = _asking([("heard", "purple elephant"), ("heard", "yes")])
    assert asking.answered_yes(ready_question("Walk"))
    assert voice.said == [ready_question("Walk")]
    assert ears.answering == [True, False]


def test_asking_with_nobody_there_reminds_then_gives_up() -> None:
    asking, voice, ears, _ = _asking([])
    assert not asking.answered_yes(ready_question("Walk"))
    assert voice.said == [ready_question("Walk"), REMINDER, GAVE_UP_REPLY]
    assert ears.answering == [True, False]


def test_asking_on_no_goes_back() -> None:
    asking, voice, _, _ = _asking([("heard", "no")])
    assert not asking.answered_yes(ready_question("Walk", resuming=True))
    assert voice.said == [ready_question("Walk", resuming=True), NOT_NOW_REPLY]


def test_the_end_of_typing_is_no_answer() -> None:
    """No keyboard (a service's stdin is /dev/null): the answer is still spoken."""
    asking, voice, ears, _ = _asking([None, ("heard", "yes")])
    assert asking.answered_yes(ready_question("Walk"))
    assert voice.said == [ready_question("Walk")]
    assert ears.answering == [True, False]


def test_the_settings_file_can_turn_the_question_off_and_the_command_line_wins() -> None:
    from argparse import Namespace

    from floorcoach.runtime.config_effective import fill_args
    from floorcoach.runtime.config_model import Config, StandbySettings

    off = Config(standby=StandbySettings(ready_check=False))
    assert fill_args(Namespace(ready_check=None), off).ready_check is False
    assert fill_args(Namespace(ready_check=True), off).ready_check is True  # --ready-check
    assert fill_args(Namespace(ready_check=None), Config()).ready_check is True


def test_words_not_placed_are_asked_again_once_a_wait() -> None:
    check = ReadyCheck(0.0)
    assert check.unclear(5.0) == ReadyStep(ReadyVerdict.WAITING, NOT_CAUGHT_REPLY)
    assert check.unclear(9.0) == ReadyStep(ReadyVerdict.WAITING)  # talk: no chatter
    assert check.hear("give me a moment", 20.0).say == MORE_TIME_REPLY
    assert check.unclear(25.0).say == NOT_CAUGHT_REPLY  # a new wait, asked again


def test_asking_says_it_did_not_catch_then_plays_on_yes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    asking, voice, _, _ = _asking([("unclear", "1.1 s"), ("unclear", "0.8 s"), ("heard", "yes")])
    assert asking.answered_yes(ready_question("Walk"))
    assert voice.said == [ready_question("Walk"), NOT_CAUGHT_REPLY]
    # the soak's log read 'not an answer: "3.0 s"': an unclear item's length, not words
    assert "not an answer" not in capsys.readouterr().out


def test_switching_off_asks_with_its_own_words_and_a_shorter_wait() -> None:
    check = ReadyCheck(0.0, SWITCH_OFF_REPLIES)
    assert check.tick(SWITCH_OFF_REPLIES.remind_after).say == SWITCH_OFF_REPLIES.reminder
    assert check.tick(SWITCH_OFF_REPLIES.give_up_after) == ReadyStep(
        ReadyVerdict.BACK, "I'll keep listening."
    )
    assert SWITCH_OFF_REPLIES.give_up_after < GIVE_UP_AFTER_SECONDS
    assert (
        ReadyCheck(0.0, SWITCH_OFF_REPLIES).hear("no", 3.0).say == "All right, I'm still listening."
    )
    asking, voice, _, _ = _asking([("heard", "yes")])
    assert asking.answered_yes(SWITCH_OFF_QUESTION, SWITCH_OFF_REPLIES)
    assert voice.said == [SWITCH_OFF_QUESTION]


@pytest.mark.parametrize("turn_on", [True, False])
def test_reminders_are_switched_by_voice_only_on_a_yes(turn_on: bool) -> None:
    question, replies = reminders_question(turn_on)
    state = "on" if turn_on else "off"
    assert question == f"Shall I turn reminders {state}? Say yes or no."
    assert replies.give_up_after == SWITCH_OFF_REPLIES.give_up_after  # the user is there
    asking, voice, _, _ = _asking([("heard", "no")])
    assert not asking.answered_yes(question, replies)
    assert voice.said == [question, "All right, I'll leave the reminders as they are."]
    asking, voice, _, _ = _asking([])  # nobody answers: reminded once, then left as they are
    assert not asking.answered_yes(question, replies)
    assert voice.said == [question, question, "I'll leave the reminders as they are."]
