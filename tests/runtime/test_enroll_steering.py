"""Enrolling hands-free to the end: "next" leaves a phrase out, "that's enough" stops.

The session logic with scripted takes and a scripted steer; then the real recognizer on
espeak-ng takes: every steering phrase steers, and no key phrase said when asked for does.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from floorcoach.audio.listening.enrollment_store import EnrollmentStore
from floorcoach.audio.listening.take_catcher import Listened
from floorcoach.audio.listening.vad import Segment
from floorcoach.commands import Command, Intent
from floorcoach.runtime.enroll import (
    KEY_PHRASES,
    RETRIES,
    SILENT_LISTENS_TO_STOP,
    STEERING_HINT,
    EnrollSession,
    Item,
    Steering,
    key_item,
    taught_item,
)
from floorcoach.runtime.enroll_steering import SpokenSteering, steering_of


class Mouth:
    def __init__(self) -> None:
        self.said: list[str] = []

    def say(self, text: str) -> None:
        self.said.append(text)


class Ears:
    """Every take a clean half-second tone; the n-th take (1-based) carries n in sample 0.
    Takes numbered in `silent` hear nothing at all."""

    def __init__(self, silent: set[int] | None = None) -> None:
        self.heard = 0
        self.silent = silent or set()

    def listen(self, seconds: float) -> Listened:
        self.heard += 1
        if self.heard in self.silent:
            return Listened((), -61.0, -60.0)
        t = np.arange(8000) / 16000.0
        samples = (6000 * np.sin(2 * np.pi * 220 * t)).astype(np.int16)
        samples[0] = self.heard
        return Listened((Segment(1.0, 1.5, 0.8, samples, False, -60.0),), -20.0, -60.0)


def _embed(samples: npt.NDArray[np.int16]) -> npt.NDArray[np.float32]:
    """Every take alike: none is 'unlike the others'."""
    return np.ones(577, dtype=np.float32)


def _steer_at(takes: dict[int, Steering]):  # noqa: ANN202 - a Steer
    asked: list[str] = []

    def steer(item: Item, samples: npt.NDArray[np.int16]) -> Steering | None:
        asked.append(item.phrase)
        return takes.get(int(samples[0]))

    return steer, asked


def _session(
    tmp_path: Path,
    steer,  # noqa: ANN001 - a Steer or None
    ears: Ears | None = None,
) -> tuple[EnrollSession, Mouth, EnrollmentStore]:
    mouth, store = Mouth(), EnrollmentStore(tmp_path)
    session = EnrollSession(
        mouth, ears or Ears(), store, embed=_embed, note=lambda _: None, steer=steer
    )
    return session, mouth, store


def test_next_said_instead_of_a_take_leaves_that_phrase_out(tmp_path: Path) -> None:
    # takes 1-3: pause; take 4 (the first for resume) is "next"; takes 5-7: stop
    steer, asked = _steer_at({4: Steering.SKIP})
    session, mouth, store = _session(tmp_path, steer)
    report = session.run([key_item("pause"), key_item("resume"), key_item("stop")])
    assert report.enrolled == ["pause", "stop"]
    assert report.passed_over == ["resume"]
    assert report.skipped == []
    assert not report.finished_early
    assert "All right, I'll leave resume out." in mouth.said
    assert mouth.said[0].endswith(STEERING_HINT)
    assert mouth.said[-1] == (
        "That's all for now. I will listen for your voice from the next session."
    )
    assert sorted(p.phrase for p in store.load().phrases) == ["pause", "stop"]
    assert asked == ["pause"] * 3 + ["resume"] + ["stop"] * 3  # every good take is checked


def test_thats_enough_ends_the_session_and_keeps_what_was_learned(tmp_path: Path) -> None:
    # takes 1-3: pause, stored; take 4: resume's first; take 5, "that's enough"
    steer, _ = _steer_at({5: Steering.FINISH})
    session, mouth, store = _session(tmp_path, steer)
    report = session.run([key_item(p) for p in ("pause", "resume", "next", "four")])
    assert report.finished_early
    assert report.enrolled == ["pause"]
    assert report.passed_over == ["resume", "next", "four"]  # resume had one take: not kept
    assert mouth.said[-1] == "All right, we'll stop there. I kept 1 phrase."
    assert [(p.phrase, len(p.takes)) for p in store.load().phrases] == [("pause", 3)]


def test_thats_enough_before_anything_is_learned_keeps_the_earlier_enrollment(
    tmp_path: Path,
) -> None:
    first, _, _ = _session(tmp_path, None)
    first.run([key_item("help")], intro=False)
    steer, _ = _steer_at({1: Steering.FINISH})
    session, mouth, store = _session(tmp_path, steer)
    report = session.run([key_item("pause")])
    assert report.enrolled == []
    assert report.finished_early
    assert mouth.said[-1] == "All right, we'll stop there. I kept nothing new."
    assert [p.phrase for p in store.load().phrases] == ["help"]


def test_an_empty_room_ends_the_session_instead_of_asking_for_minutes(tmp_path: Path) -> None:
    """A "learn my voice" heard in someone else's talk, or a user who has gone."""
    assert SILENT_LISTENS_TO_STOP <= RETRIES  # silence stops before it leaves a phrase
    silent = set(range(4, 4 + SILENT_LISTENS_TO_STOP))  # pause enrolled, then nothing
    ears = Ears(silent)
    session, mouth, store = _session(tmp_path, None, ears)
    report = session.run([key_item(p) for p in ("pause", "resume", "next")])
    assert ears.heard == 3 + SILENT_LISTENS_TO_STOP
    assert report.finished_early
    assert report.nobody_answered
    assert report.enrolled == ["pause"]
    assert report.passed_over == ["resume", "next"]
    assert mouth.said[-1] == "I haven't heard you for a while, so I'll stop. I kept 1 phrase."
    assert [p.phrase for p in store.load().phrases] == ["pause"]


def test_a_take_between_silences_starts_the_count_again(tmp_path: Path) -> None:
    n = SILENT_LISTENS_TO_STOP - 1
    # pause: two takes, n silences, a third take; resume: n silences, three takes
    silent = set(range(3, 3 + n)) | set(range(4 + n, 4 + 2 * n))
    ears = Ears(silent)
    session, _, _ = _session(tmp_path, None, ears)
    report = session.run([key_item("pause"), key_item("resume")])
    assert not report.finished_early
    assert report.enrolled == ["pause", "resume"]
    assert ears.heard == 2 * n + 6


def test_without_steering_the_introduction_does_not_promise_it(tmp_path: Path) -> None:
    session, mouth, _ = _session(tmp_path, None)
    session.run([key_item("pause")])
    assert STEERING_HINT not in mouth.said[0]
    assert mouth.said[-1] == "All done. I will listen for your voice from the next session."


@pytest.mark.parametrize(
    ("heard", "asked", "expected"),
    [
        (Command.NEXT, "four", Steering.SKIP),
        (Command.STOP, "four", Steering.FINISH),
        (Command.STOP, "pause", Steering.FINISH),
        (Command.NEXT, "stop", Steering.SKIP),
        (Command.STOP, "stop", None),  # "stop" asked for: "stop" or "that's enough" is a take
        (Command.NEXT, "next", None),
        (Command.PAUSE, "four", None),
        (Command.PAIN, "help", None),
    ],
)
def test_what_steers(heard: Command, asked: str, expected: Steering | None) -> None:
    assert steering_of(Intent(command=heard), key_item(asked)) is expected


def test_own_words_for_stop_are_a_take_not_the_end() -> None:
    assert steering_of(Intent(command=Command.STOP), taught_item("i am done", "stop")) is None
    assert steering_of(Intent(number=4), key_item("pause")) is None


# --- the real recognizer on spoken takes ---------------------------------------------------

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")
VOICES = (("en-us", 150, 50), ("en-gb+f3", 175, 60))
"""Two espeak-ng voices: the player's own, and a higher, faster one."""


@pytest.fixture(scope="module")
def steering() -> SpokenSteering:
    from floorcoach.audio.listening.recognizer_factory import make_recognizer

    return SpokenSteering(make_recognizer("pocketsphinx", enrolled=False))


def _take(text: str, voice: str, speed: int, pitch: int) -> npt.NDArray[np.int16]:
    from floorcoach.audio.speaking.synth import make_synthesizer

    return make_synthesizer("espeak", voice=voice, rate_wpm=speed).render(text).samples


@needs_espeak
@pytest.mark.slow(seconds=6)
@pytest.mark.parametrize(("voice", "speed", "pitch"), VOICES)
def test_spoken_steering_phrases_steer(
    steering: SpokenSteering, voice: str, speed: int, pitch: int
) -> None:
    for said, asked, expected in (
        ("next", "four", Steering.SKIP),
        ("move on", "help", Steering.SKIP),
        ("that is enough", "four", Steering.FINISH),
        ("end session", "seven", Steering.FINISH),
        ("stop", "that hurts", Steering.FINISH),
    ):
        got = steering(key_item(asked), _take(said, voice, speed, pitch))
        assert got is expected, (voice, said, asked, got)


@needs_espeak
@pytest.mark.slow(seconds=8)
@pytest.mark.parametrize(("voice", "speed", "pitch"), VOICES)
def test_no_key_phrase_said_when_asked_for_steers(
    steering: SpokenSteering, voice: str, speed: int, pitch: int
) -> None:
    wrong = {}
    for phrase in KEY_PHRASES:
        got = steering(key_item(phrase), _take(phrase, voice, speed, pitch))
        if got is not None:
            wrong[phrase] = got
    assert wrong == {}, voice
