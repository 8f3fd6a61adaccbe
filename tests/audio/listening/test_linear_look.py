"""The second look: a word said over the player and turned down is read again from the linear
canceller's output, where WebRTC's double-talk suppression has not torn it (linear_look.py)."""

from __future__ import annotations

import numpy as np
import pytest

from floorcoach.audio.listening import linear_look
from floorcoach.audio.listening.linear_look import LinearLook, NlmsLook, attach_linear_look
from floorcoach.audio.listening.recognizer import Heard
from floorcoach.audio.listening.sphinx_config import SphinxConfig, preset
from floorcoach.audio.listening.sphinx_recognizer import SphinxRecognizer
from floorcoach.audio.listening.vad import Segment
from floorcoach.commands import Command, Intent, Location, RedFlag

RATE = 16000


def _feed(look: LinearLook, mic: np.ndarray, reference: np.ndarray, chunk: int = 320) -> None:
    for i in range(0, len(mic), chunk):
        look.process(mic[i : i + chunk], reference[i : i + chunk])


def test_the_kept_output_is_fetched_by_stream_time() -> None:
    """With nothing played the linear canceller passes the microphone through: what is
    fetched for a stretch is exactly the microphone's samples of that stretch."""
    rng = np.random.default_rng(1)
    mic = rng.normal(0, 0.05, 3 * RATE).astype(np.float32)
    look = LinearLook()
    _feed(look, mic, np.zeros_like(mic))
    found = look.fetch(1.0, 1.5)
    assert found is not None
    begins, samples = found
    assert begins == 1.0
    expected = np.clip(np.round(mic[RATE : RATE + RATE // 2] * 32768), -32768, 32767)
    np.testing.assert_array_equal(samples, expected.astype(np.int16))


def test_only_what_is_kept_and_produced_is_fetched() -> None:
    look = LinearLook(keep_seconds=1.0)
    mic = np.full(3 * RATE, 0.1, dtype=np.float32)
    _feed(look, mic, np.zeros_like(mic))
    produced = look._done / RATE
    assert look.fetch(0.5, 1.5) is None  # gone: more than a second ago
    found = look.fetch(produced - 1.5, produced + 1.0)  # cut to the kept second
    assert found is not None
    assert found[0] == pytest.approx(produced - 1.0)
    assert len(found[1]) == RATE
    assert look.fetch(produced, produced + 1.0) is None  # not produced yet
    look.reset()
    assert look.fetch(0.0, 1.0) is None


def _room(played: np.ndarray, delay: int) -> np.ndarray:
    """A direct path `delay` samples late and two reflections 1 and 2.5 ms after it (within
    the fitted filter's 4 ms; later reflections are left, see linear_look.TAPS)."""
    echo = np.zeros_like(played)
    for lag, gain in ((delay, 0.8), (delay + 16, 0.3), (delay + 40, -0.2)):
        echo[lag:] += gain * played[:-lag]
    return echo


def _db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.asarray(x, np.float64) ** 2) + 1e-15))


def _played_and_word(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """12 s of the player's sound, and a user's word (as loud) at 10.0-10.5 s."""
    rng = np.random.default_rng(seed)
    played = rng.normal(0, 0.1, 12 * RATE).astype(np.float32)
    word = np.zeros_like(played)
    word[10 * RATE : 10 * RATE + 8000] = rng.normal(0, 0.1, 8000)
    return played, word


def _looked(kind: type, mic: np.ndarray, played: np.ndarray) -> np.ndarray:
    """The second look's output for 9.0-10.6 s: a second of echo alone, then the word."""
    look = kind(keep_seconds=12.0)
    _feed(look, mic, played)
    found = look.fetch(9.0, 10.6)
    assert found is not None
    assert found[0] == 9.0
    return found[1].astype(np.float64) / 32768


ECHO_ALONE = slice(0, RATE)
IN_WORD = slice(RATE, RATE + 8000)
WORD = slice(10 * RATE, 10 * RATE + 8000)


@pytest.mark.parametrize("kind", [LinearLook, NlmsLook])
def test_the_second_looks_output_takes_out_the_echo_and_keeps_the_word(kind: type) -> None:
    """The point of the second look: the echo is lower and the word as it was. The fitted
    look takes the echo out deeply although the word is inside the stretch it fits on."""
    played, word = _played_and_word(2)
    echo = _room(played, 960)  # 60 ms
    out = _looked(kind, echo + word, played)
    removed = _db(echo[9 * RATE : 10 * RATE]) - _db(out[ECHO_ALONE])
    if kind is LinearLook:
        assert removed >= 30.0
        assert _db(out[IN_WORD] - word[WORD]) <= _db(word[WORD]) - 25.0  # the word whole
    else:
        assert removed >= 10.0
        assert _db(out[IN_WORD]) >= _db(word[WORD]) - 1.0


def test_an_echo_path_that_moved_is_fitted_where_it_is_now() -> None:
    """The echo's delay jumps by 7 samples (a sound server's buffer) 2 s before the word: an
    adaptive filter is still re-learning, the fit on the stretch itself is not."""
    played, word = _played_and_word(3)
    echo = _room(played, 960)
    echo[8 * RATE :] = _room(played, 967)[8 * RATE :]
    removed = {
        kind: _db(echo[9 * RATE : 10 * RATE]) - _db(_looked(kind, echo + word, played)[ECHO_ALONE])
        for kind in (LinearLook, NlmsLook)
    }
    assert removed[LinearLook] >= 30.0, removed
    assert removed[LinearLook] >= removed[NlmsLook] + 10.0, removed


def _drifted(played: np.ndarray, delay: float, ppm: float) -> np.ndarray:
    """`played` delayed by `delay` samples on a clock `ppm` fast: windowed-sinc interpolated,
    as a sound card's own clock would deliver it."""
    at = (np.arange(len(played)) - delay) * (1 - ppm * 1e-6)
    whole = np.floor(at).astype(int)
    out = np.zeros(len(played))
    for k in range(-16, 17):
        index = whole + k
        ok = (index >= 0) & (index < len(played))
        x = at - index
        out[ok] += played[index[ok]] * np.sinc(x[ok]) * (0.5 + 0.5 * np.cos(np.pi * x[ok] / 17))
    return out.astype(np.float32)


def test_an_echo_that_drifts_is_followed_within_the_stretch(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The microphone's clock runs 30 ppm fast against the player's (what a delay tracker's
    line leaves): the echo slides one sample over the 2.1 s fitted, and the filter's taps
    slide with it. A filter that cannot change over the stretch leaves more."""
    played, word = _played_and_word(5)
    echo = 0.8 * _drifted(played, 960.0, 30.0)
    before = _db(echo[9 * RATE : 10 * RATE])
    sliding = before - _db(_looked(LinearLook, echo + word, played)[ECHO_ALONE])
    regressors = linear_look._regressors

    def fixed(*args):  # type: ignore[no-untyped-def]
        block = regressors(*args)
        block[linear_look.TAPS :] = 0.0  # the taps' drift columns gone
        return block

    monkeypatch.setattr(linear_look, "_regressors", fixed)
    monkeypatch.setattr(linear_look, "MIN_OVER_ECHO_DB", -99.0)  # fetch whatever is left
    still = before - _db(_looked(LinearLook, echo + word, played)[ECHO_ALONE])
    # white noise up to 8 kHz is the hard case (a sample's slide turns its top octave
    # round): 17.8 against 11.0 dB here
    assert sliding >= 15.0, (sliding, still)
    assert sliding >= still + 5.0, (sliding, still)


def test_a_stretch_of_echo_alone_is_not_looked_at_again() -> None:
    """No word stands out of what the filter left of the echo: nothing is fetched."""
    played, _ = _played_and_word(6)
    look = LinearLook(keep_seconds=12.0)
    _feed(look, _room(played, 960), played)
    assert look.fetch(9.0, 10.6) is None


def test_a_fetch_before_enough_history_or_with_nothing_played_passes_the_mic_on() -> None:
    rng = np.random.default_rng(4)
    mic = rng.normal(0, 0.05, RATE).astype(np.float32)
    look = LinearLook()
    _feed(look, mic, np.zeros_like(mic))
    found = look.fetch(0.0, 0.5)  # no half second before it, and a silent player
    assert found is not None
    np.testing.assert_array_equal(found[1], np.round(mic[: RATE // 2] * 32768).astype(np.int16))


class _WantsLook:
    wants_second_look = True

    def __init__(self) -> None:
        self.fetch = None

    def set_second_look(self, fetch) -> None:  # type: ignore[no-untyped-def]
        self.fetch = fetch


def test_only_a_recognizer_that_looks_again_behind_webrtc_gets_a_linear_look() -> None:
    recognizer = _WantsLook()
    assert attach_linear_look(recognizer, "nlms") is None
    assert attach_linear_look(recognizer, "none") is None
    assert recognizer.fetch is None
    look = attach_linear_look(recognizer, "webrtc")
    assert look is not None
    assert recognizer.fetch == look.fetch
    assert isinstance(look, LinearLook)
    assert attach_linear_look(object(), "webrtc") is None
    assert isinstance(
        attach_linear_look(SphinxRecognizer(preset("nlms_second_look")), "webrtc"), NlmsLook
    )
    assert not SphinxRecognizer(preset("no_second_look")).wants_second_look
    assert SphinxRecognizer().wants_second_look


TORN = 600
"""WebRTC's output in the stand-in segment: a word torn, 4.4 dB under the linear output."""
WHOLE = 1000
"""The linear canceller's output of the same stretch: the word whole."""


class _Reader(SphinxRecognizer):
    """Hears the stand-in word only in the linear output, as `heard_as`."""

    heard_as = Intent(command=Command.STOP)

    def __init__(self, config: SphinxConfig | None = None) -> None:
        super().__init__(config)
        self.looked: list[int] = []
        """The first sample of each segment decided: which canceller's output it was."""

    def decode_segment(self, segment: Segment, early: bool = False) -> Heard | None:
        self.looked.append(int(segment.samples[0]))
        if int(segment.samples[0]) != WHOLE:
            return None
        return Heard(self.heard_as, "stop", segment.start_seconds, segment.end_seconds, 1.0, "t")


def _reader(config: SphinxConfig | None = None, talking: bool = True) -> _Reader:
    reader = _Reader(config)
    reader.set_player_talking(lambda start, end: talking)
    reader.set_second_look(
        lambda start, end: (start, np.full(round((end - start) * RATE), WHOLE, np.int16))
    )
    return reader


def _segment(speech_seconds: float = 0.4, level: int = TORN) -> Segment:
    return Segment(10.0, 10.0 + speech_seconds, 9.8, np.full(16000, level, np.int16), False, -60)


def test_a_torn_word_over_the_player_is_heard_on_a_second_look() -> None:
    reader = _reader()
    heard = reader._decode_all([_segment()])
    assert [h.intent for h in heard] == [Intent(command=Command.STOP)]
    assert reader.looked == [TORN, WHOLE]


@pytest.mark.parametrize(
    ("why", "reader", "segment"),
    [
        ("the player was silent", _reader(talking=False), _segment()),
        ("turned off", _reader(preset("no_second_look")), _segment()),
        ("longer than a command said over the player", _reader(), _segment(2.0)),
        # WebRTC kept the stretch 9.5 dB under the linear output: that was the echo
        ("WebRTC took out what the linear one left", _reader(), _segment(level=WHOLE // 3)),
    ],
)
def test_no_second_look(why: str, reader: _Reader, segment: Segment) -> None:
    assert reader._decode_all([segment]) == [], why
    assert reader.looked == [segment.samples[0]], why


@pytest.mark.parametrize(
    ("intent", "taken"),
    [
        (Intent(command=Command.PAUSE), True),
        (Intent(command=Command.PAIN), True),
        (Intent(number=7), True),  # an answer begun before its question ended
        (Intent(location=Location.LEG), True),
        (Intent(red_flag=RedFlag.FOOT_WEAKNESS), False),  # where a torn "stop" once went
        (Intent(command=Command.NEXT), False),
    ],
)
def test_a_second_look_takes_pause_stop_pain_and_answers(intent: Intent, taken: bool) -> None:
    reader = _reader()
    reader.heard_as = intent
    assert len(reader._decode_all([_segment()])) == int(taken)
