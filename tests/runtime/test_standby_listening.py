"""Standby acts on a request said alone, not on the same words inside someone's talk.

Real espeak-ng speech through standby's own recognizer, fed 40 ms at a time as the microphone
hands it over; faint room noise over everything.
"""

from __future__ import annotations

import shutil

import numpy as np
import numpy.typing as npt
import pytest

from floorcoach.audio.speaking.synth import make_synthesizer
from floorcoach.content.catalog import Catalog
from floorcoach.runtime.standby import make_standby_recognizer, routine_names
from floorcoach.runtime.standby_listening import QUIET_SECONDS

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")
CHUNK = 640


def _stream(*parts: str | float) -> npt.NDArray[np.int16]:
    """Words (str) and pauses (float seconds), with a second of quiet first, two after."""
    synth = make_synthesizer("espeak", voice="en-us")
    pieces = [np.zeros(16000)]
    for part in parts:
        if isinstance(part, str):
            pieces.append(synth.render(part).samples.astype(np.float64))
        else:
            pieces.append(np.zeros(int(part * 16000)))
    pieces.append(np.zeros(32000))
    audio = np.concatenate(pieces)
    audio += np.random.default_rng(0).normal(0, 32768 * 10 ** (-55 / 20), len(audio))
    return np.clip(audio, -32768, 32767).astype(np.int16)


def _heard(audio: npt.NDArray[np.int16], **options: float) -> list[tuple[str, float, float]]:
    """(words, their speech's end, stream time when handed over) of each request heard."""
    recognizer = make_standby_recognizer("pocketsphinx", routine_names(Catalog.load()), **options)
    out = []
    for i in range(0, len(audio), CHUNK):
        now = (i + CHUNK) / 16000
        out += [(h.text, h.end, now) for h in recognizer.accept(audio[i : i + CHUNK])]
    return out + [(h.text, h.end, len(audio) / 16000) for h in recognizer.flush()]


def test_a_request_said_alone_is_heard_once_its_quiet_has_passed() -> None:
    heard = _heard(_stream("start my routine"))
    assert [text for text, _, _ in heard] == ["start my routine"]
    _, end, handed_over = heard[0]
    assert end + QUIET_SECONDS <= handed_over <= end + QUIET_SECONDS + 0.5


def test_the_same_words_between_other_speech_are_not_taken() -> None:
    talk = _stream("well I think", 0.4, "start my routine", 0.4, "is what she said")
    # the phone-loop fit test off, to see this rule alone
    without = _heard(talk, fit_ratio=-1.0, quiet_seconds=0.0)
    assert "start my routine" in [text for text, _, _ in without]  # what it stops
    assert _heard(talk, fit_ratio=-1.0) == []


def test_speech_just_before_a_request_is_enough_to_drop_it() -> None:
    talk = _stream("well I think", 0.4, "start my routine")
    without = _heard(talk, fit_ratio=-1.0, quiet_seconds=0.0)
    assert "start my routine" in [text for text, _, _ in without]
    assert "start my routine" not in [text for text, _, _ in _heard(talk, fit_ratio=-1.0)]


def test_speech_just_after_a_request_is_enough_to_drop_it() -> None:
    talk = _stream("start my routine", 0.4, "is what she said")
    without = _heard(talk, fit_ratio=-1.0, quiet_seconds=0.0)
    assert "start my routine" in [text for text, _, _ in without]
    assert "start my routine" not in [text for text, _, _ in _heard(talk, fit_ratio=-1.0)]
