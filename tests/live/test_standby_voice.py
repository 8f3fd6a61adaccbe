"""Standby by voice: its requests and every common question, heard by the default engine."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from floorcoach.audio.pcm import Pcm, write_wav
from floorcoach.audio.speaking.synth import make_synthesizer
from floorcoach.content.catalog import Catalog
from floorcoach.content.questions import default_book, match_question
from floorcoach.runtime.standby import (
    StandbyAction,
    make_standby_recognizer,
    parse_standby,
    routine_names,
)
from floorcoach_cli import command
from virtual_audio import VirtualAudio

LIVE = Path(__file__).parents[1] / "fixtures" / "live"
NOISE_DBFS = -45.0


def _spoken(text: str, seed: int = 0) -> np.ndarray:
    pcm = make_synthesizer("espeak", voice="en-us").render(text).samples.astype(np.float64)
    padded = np.concatenate([np.zeros(8000), pcm, np.zeros(12000)])
    padded += np.random.default_rng(seed).normal(0, 32768 * 10 ** (NOISE_DBFS / 20), len(padded))
    return np.clip(padded, -32768, 32767).astype(np.int16)


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


def test_every_question_is_recognized_and_answered(recognizer) -> None:  # noqa: ANN001
    book = default_book()
    for number, question in enumerate(book.questions):
        for phrasing in question.phrasings:
            heard = _hear(recognizer, _spoken(phrasing, seed=number))
            assert len(heard) == 1, (phrasing, heard)
            matched = match_question(heard[0])
            assert matched is not None, (phrasing, heard)
            assert matched.id == question.id, (phrasing, heard)


@pytest.mark.slow(seconds=75)
@pytest.mark.audio
def test_standby_to_session_to_standby_by_voice(
    virtual_audio: VirtualAudio, tmp_path: Path
) -> None:
    def clip(text: str) -> Path:
        path = tmp_path / f"{text.replace(' ', '_')}.wav"
        write_wav(path, Pcm(_spoken(text)))
        return path

    start, bye = clip("start tiny"), clip("goodbye")
    process = subprocess.Popen(
        command("standby", "--routines-dir", str(LIVE), "--engine", "pocketsphinx"),
        stdin=subprocess.PIPE,  # kept open: standby must not end for want of typing
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=virtual_audio.env,
    )
    out = ""
    try:
        time.sleep(8.0)  # the welcome line, spoken, and the microphone opened
        virtual_audio.play_into_mic(start).wait(timeout=10)
        deadline = time.monotonic() + 150
        import select

        assert process.stdout is not None
        while time.monotonic() < deadline:
            ready, _, _ = select.select([process.stdout], [], [], 0.5)
            if ready:
                line = process.stdout.readline()
                out += line
                if line.startswith("I'm here when you need me."):
                    break
        time.sleep(4.0)  # its last words said, the microphone back
        virtual_audio.play_into_mic(bye).wait(timeout=10)
        rest, err = process.communicate(timeout=30)
        out += rest
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert "Welcome to Tiny." in out
    assert "That's the end of today's session." in out
    assert "I'm here when you need me." in out
    assert out.rstrip().endswith("Goodbye.")
