"""Standby by voice: its requests and every common question, heard by the default engine."""

from __future__ import annotations

import queue
import re
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from floorcoach.audio.pcm import Pcm, write_wav
from floorcoach.audio.speaking.synth import make_synthesizer
from floorcoach.commands import ListenContext
from floorcoach.content.catalog import Catalog
from floorcoach.content.questions import default_book, match_question
from floorcoach.runtime.standby import (
    LEARN_OFFER,
    StandbyAction,
    make_standby_recognizer,
    parse_standby,
    routine_names,
)
from floorcoach.runtime.standby_ready import (
    LEARN_QUESTION,
    LEARN_REPLIES,
    NOT_CAUGHT_REPLY,
    SWITCH_OFF_QUESTION,
    ReadyAnswer,
    ready_answer,
    ready_question,
)
from floorcoach.session.pain_dialogue import LEVEL_QUESTION, LOCATION_QUESTION, NOT_CAUGHT
from floorcoach_cli import command
from virtual_audio import VirtualAudio

LIVE = Path(__file__).parents[1] / "fixtures" / "live"
NOISE_DBFS = -45.0


def _spoken(text: str, seed: int = 0) -> np.ndarray:
    pcm = make_synthesizer("espeak", voice="en-us").render(text).samples.astype(np.float64)
    padded = np.concatenate([np.zeros(8000), pcm, np.zeros(12000)])
    padded += np.random.default_rng(seed).normal(0, 32768 * 10 ** (NOISE_DBFS / 20), len(padded))
    return np.clip(padded, -32768, 32767).astype(np.int16)


def _printed_lines(process: subprocess.Popen[str]) -> queue.Queue[str | None]:
    """The process's printed lines as they come (None at the end), read on a thread.

    select() on the pipe cannot be used with readline(): a line already read into the text
    buffer leaves the pipe empty, and it waited there until the next line (20 s once).
    """
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=pump, name="test-stdout", daemon=True).start()
    return lines


def _next_line(lines: queue.Queue[str | None], deadline: float) -> str | None:
    """The next printed line, or None at the end of output or at the deadline."""
    try:
        return lines.get(timeout=max(0.0, deadline - time.monotonic()))
    except queue.Empty:
        return None


@pytest.fixture(scope="module")
def names() -> dict[str, str]:
    return routine_names(Catalog.load())


@pytest.fixture(scope="module")
def recognizer(names: dict[str, str]):  # noqa: ANN201 - a CommandRecognizer
    return make_standby_recognizer("pocketsphinx", names)


def _hear(recognizer, samples: np.ndarray, chunk: int = 320) -> list[str]:  # noqa: ANN001
    recognizer.reset()
    out = []
    for i in range(0, len(samples), chunk):
        out += recognizer.accept(samples[i : i + chunk])
    out += recognizer.flush()
    return [heard.text for heard in out]


@pytest.mark.parametrize(
    ("said", "action", "routine"),
    [
        ("start", StandbyAction.START, None),
        ("start core routine", StandbyAction.START, "core-routine"),
        ("start strengthening", StandbyAction.START, "strengthening"),
        ("what routines are there", StandbyAction.LIST, None),
        ("resume", StandbyAction.RESUME, None),
        ("how am I doing", StandbyAction.PROGRESS, None),
        ("learn my voice", StandbyAction.LEARN, None),
    ],
)
@pytest.mark.parametrize("chunk", [320, 4000])
def test_standby_requests_by_voice(
    recognizer,
    names: dict[str, str],
    said: str,
    action: StandbyAction,  # noqa: ANN001
    routine: str | None,
    chunk: int,
) -> None:
    heard = _hear(recognizer, _spoken(said), chunk)
    assert len(heard) == 1, heard
    request = parse_standby(heard[0], names)
    assert request is not None
    assert (request.action, request.routine) == (action, routine)


@pytest.mark.parametrize(
    ("said", "answer"),
    [
        ("yes", ReadyAnswer.GO),
        ("I'm ready", ReadyAnswer.GO),
        ("no", ReadyAnswer.NOT_NOW),
        ("give me a moment", ReadyAnswer.MORE_TIME),
        ("start my routine", None),  # asking again is not an answer: nothing heard
        ("continue", None),  # not listened for: talk says it too often
        ("how am I doing", None),
    ],
)
def test_answers_to_ready_by_voice(recognizer, said: str, answer: ReadyAnswer | None) -> None:  # noqa: ANN001
    recognizer.set_context(ListenContext.CONFIRM)
    try:
        heard = _hear(recognizer, _spoken(said))
    finally:
        recognizer.set_context(ListenContext.COMMANDS)
    assert [ready_answer(text) for text in heard] == ([answer] if answer else [])
    assert "command head" in recognizer.description  # the head checks these answers


def test_a_yes_is_no_request_to_standby(recognizer, names: dict[str, str]) -> None:  # noqa: ANN001
    heard = _hear(recognizer, _spoken("yes"))
    assert [parse_standby(text, names) for text in heard if text] in ([], [None])


def test_every_question_is_recognized_and_answered(recognizer) -> None:  # noqa: ANN001
    book = default_book()
    for number, question in enumerate(book.questions):
        for phrasing in question.phrasings:
            heard = _hear(recognizer, _spoken(phrasing, seed=number))
            assert len(heard) == 1, (phrasing, heard)
            matched = match_question(heard[0])
            assert matched is not None, (phrasing, heard)
            assert matched.id == question.id, (phrasing, heard)


RATE_WPM = 220
"""The player's speech rate in the live standby test: every line said, sooner."""
TAKE_PROMPT = re.compile(r"^ {8}(?:Say|Again,|Once more,) (pause|resume)\.$")
"""The enrollment's prompts, printed with the 8-space indent: 'Say pause.', 'Again, pause.'."""


@pytest.mark.slow(seconds=120)
@pytest.mark.audio
def test_standby_session_missed_answers_then_learn_my_voice_by_voice(
    virtual_audio: VirtualAudio, tmp_path: Path
) -> None:
    """Power-on to goodbye with nothing typed, every word spoken into the microphone:

    standby -> "start one hold" -> "yes please" to "ready?" (not caught) -> "yes" -> "that
    hurts" in the hold -> two answers not caught -> "four", "in my back" -> the session ends
    -> standby offers to learn the user's voice -> "learn my voice" -> "yes" to "shall I
    learn your voice?" -> three takes of pause
    -> "that is enough" when asked for resume -> standby again -> "goodbye" -> "yes" to
    switching off. The takes are kept, and only those.
    """
    from floorcoach.audio.listening.enrollment_store import EnrollmentStore

    def clip(text: str, speed: int = 150, pitch: int = 50) -> Path:
        pcm = make_synthesizer("espeak", voice="en-us", rate_wpm=speed).render(text)
        samples = np.concatenate([np.zeros(6400), pcm.samples, np.zeros(9600)])
        samples += np.random.default_rng(speed).normal(
            0, 32768 * 10 ** (NOISE_DBFS / 20), len(samples)
        )
        path = tmp_path / f"{text.replace(' ', '_')}-{speed}.wav"
        write_wav(path, Pcm(np.clip(samples, -32768, 32767).astype(np.int16)))
        return path

    start, hurts = clip("start one hold"), clip("that hurts")
    four, back = clip("four"), clip("in my back")
    mumble = clip("purple elephant")  # words no question can take (test_hands_free_live.py)
    learn, enough, bye = clip("learn my voice"), clip("that is enough"), clip("goodbye")
    yes, yes_please = clip("yes"), clip("yes please")  # not an answer it knows: asked again
    takes = [clip("pause", speed, pitch) for speed, pitch in ((140, 45), (160, 50), (180, 60))]
    log = tmp_path / "events.jsonl"
    process = subprocess.Popen(
        command(
            "standby",
            "--routines-dir",
            str(LIVE),
            "--engine",
            "pocketsphinx",
            "--speech-backend",
            "espeak",
            "--rate-wpm",
            str(RATE_WPM),
            # no echo path on these devices: with nothing to cancel, WebRTC's suppressor
            # still dents words said over the player (test_hands_free_live.py)
            "--echo-cancel",
            "none",
            "--log",
            str(log),
        ),
        stdin=subprocess.DEVNULL,  # as a service runs it: no keyboard, and standby listens on
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=virtual_audio.env,
    )
    voice = make_synthesizer("espeak", voice="en-us", rate_wpm=RATE_WPM)

    def after_saying(line: str, path: Path, extra: float = 0.5) -> None:
        """Answer once the line printed has been said (its words after any '[ 0:09] ')."""
        words = line.split("] ", 1)[-1].strip()
        time.sleep((voice.render(words).seconds if words else 0.0) + extra)
        assert virtual_audio.play_into_mic(path).wait(timeout=10) == 0

    lines: list[str] = []
    level_asked = said_pause = 0
    printed = _printed_lines(process)
    try:
        deadline = time.monotonic() + 300
        while (line := _next_line(printed, deadline)) is not None:
            lines.append(line)
            if line.startswith("I'm ready when you are."):
                after_saying(line, start, extra=2.0)  # and the microphone opened
            elif line == ready_question("One hold"):
                after_saying(line, yes_please, extra=1.0)
            elif line == NOT_CAUGHT_REPLY:
                after_saying(line, yes, extra=1.0)
            elif "(tone: start)" in line and level_asked == 0:
                after_saying("", hurts, extra=0.3)  # the hold has begun
            elif LEVEL_QUESTION in line:
                level_asked += 1  # asked, then asked again twice after the mumbles
                # once the question has been said: words over the player get no repeat
                after_saying(line, mumble if level_asked <= 2 else four, extra=2.0)
            elif LOCATION_QUESTION in line:
                after_saying(line, back, extra=1.0)
            elif line.startswith(LEARN_OFFER[:30]):
                after_saying(line, learn, extra=2.0)  # its microphone back after the line
            elif line in (LEARN_QUESTION, LEARN_REPLIES.reminder):
                # rendered on first use, so its sound starts later than its print: more slack
                after_saying(line, yes, extra=2.0)
            elif (asked := TAKE_PROMPT.match(line)) is not None:
                # the prompt is printed, then said; the take counts once the player listens
                if asked.group(1) == "pause":
                    said_pause += 1
                    after_saying(line, takes[(said_pause - 1) % 3], extra=1.0)
                else:
                    after_saying(line, enough, extra=1.0)  # the user has had enough
            elif line.startswith("I'm here when you need me. Say start to begin."):
                after_saying(line, bye, extra=2.0)
            elif line == SWITCH_OFF_QUESTION:
                after_saying(line, yes, extra=1.0)
        assert process.wait(timeout=30) is not None, "\n".join(lines)
    except subprocess.TimeoutExpired:
        raise AssertionError("standby did not end:\n" + "\n".join(lines)) from None
    finally:
        if process.poll() is None:
            process.kill()
    err = process.stderr.read() if process.stderr else ""
    out = "\n".join(lines)
    why = out + err + (log.read_text() if log.exists() else "")
    assert process.returncode == 0, why
    assert "Traceback" not in err
    # asked "ready?" first, asked again after "yes please", and the session began on the yes
    asked = [ready_question("One hold"), NOT_CAUGHT_REPLY, "Welcome to One hold."]
    assert -1 < out.find(asked[0]) < out.find(asked[1]) < out.find(asked[2]), why
    # the session: two answers not caught, then taken
    assert out.count(f"{NOT_CAUGHT} {LEVEL_QUESTION}") == 2, why
    assert "heard: 4 ('four')" in out, why
    assert "heard: back ('in my back')" in out, why
    order = [
        out.find(marker)
        for marker in (
            "That's the end of today's session.",
            "I'm here when you need me. Say start to go again.",
            LEARN_OFFER,
            LEARN_QUESTION,
            "Let's learn your voice: 17 phrases",
            "All right, we'll stop there. I kept 1 phrase.",
            "Not enrolled: resume, next, stop",
            "I'm here when you need me. Say start to begin.",
        )
    ]
    assert -1 not in order, why
    assert order == sorted(order), why
    assert out.rstrip().endswith(f"{SWITCH_OFF_QUESTION}\nGoodbye."), why  # off on the yes
    assert 3 <= said_pause <= 4, why  # a late take on a loaded machine is asked again
    enrolled = EnrollmentStore().load()  # $FLOORCOACH_VOICE_DIR, private to the test
    assert [(p.phrase, len(p.takes)) for p in enrolled.phrases] == [("pause", 3)]
