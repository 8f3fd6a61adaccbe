"""Echo cancellation on real synthesized speech: the player's voice out, the user's kept."""

from __future__ import annotations

import numpy as np
import pytest

from floorcoach.audio.listening.echo_canceller import (
    EchoCanceller,
    WebRtcEchoCanceller,
    make_echo_canceller,
)
from floorcoach.audio.listening.webrtc_calls import DirectApmCalls
from floorcoach.audio.speaking.synth import make_synthesizer

PLAYER_LINES = (
    "Lie on your back with both knees bent and your feet flat.",
    "Rest your head on a small pillow or a folded towel.",
    "Slowly draw one knee up toward your chest.",
    "Hold it with both hands, just below the kneecap.",
)


def _db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(x**2) + 1e-12))


@pytest.fixture(scope="module")
def player() -> np.ndarray:
    synth = make_synthesizer("espeak", voice="en-us")
    pieces = [np.concatenate([synth.render(t).to_float(), np.zeros(4000)]) for t in PLAYER_LINES]
    return np.concatenate(pieces).astype(np.float64)


@pytest.mark.parametrize("kind", ["nlms", "webrtc"])
@pytest.mark.parametrize("delay_ms", [30, 120])
@pytest.mark.parametrize("chunk", [320, 4000])
def test_the_echo_is_cancelled_and_the_user_kept(
    player: np.ndarray, delay_ms: int, chunk: int, kind: str
) -> None:
    delay = 16 * delay_ms
    echo = 0.3 * np.concatenate([np.zeros(delay), player])[: len(player)]
    noise = np.random.default_rng(0).normal(0, 10 ** (-50 / 20), len(player))
    user = make_synthesizer("espeak", voice="en-gb-x-rp+f3").render("pause").to_float()
    at = 16000 * 7
    mic = echo + noise
    mic[at : at + len(user)] += user
    canceller = make_echo_canceller(kind)
    out = np.concatenate(
        [
            canceller.process(mic[i : i + chunk], player[i : i + chunk])
            for i in range(0, len(mic), chunk)
        ]
    )
    late = slice(16000 * 9, len(out))  # after convergence, player only
    assert _db(mic[late]) - _db(out[late]) >= 12.0  # at least 12 dB of echo removed
    kept = slice(at, at + len(user))
    assert abs(_db(out[kept]) - _db(user.astype(np.float64))) < 1.0  # the user untouched


def test_nothing_played_leaves_the_microphone_alone() -> None:
    mic = np.random.default_rng(1).normal(0, 0.1, 16000)
    out = EchoCanceller().process(mic, np.zeros(16000))
    assert np.allclose(out, mic[: len(out)])


def test_webrtc_direct_calls_give_what_livekits_public_calls_give(player: np.ndarray) -> None:
    """The prepared-request path (webrtc_calls.py) is only faster, never different."""
    echo = 0.3 * np.concatenate([np.zeros(16 * 60), player])[: len(player)]
    user = make_synthesizer("espeak", voice="en-gb-x-rp+f3").render("that hurts").to_float()
    mic = echo + np.random.default_rng(2).normal(0, 10 ** (-50 / 20), len(player))
    mic[16000 * 5 : 16000 * 5 + len(user)] += user  # double talk too
    outputs = []
    for direct in (True, False):
        canceller = WebRtcEchoCanceller(direct=direct)
        assert (canceller._direct is not None) is direct
        outputs.append(
            np.concatenate(
                [
                    canceller.process(mic[i : i + 640], player[i : i + 640])
                    for i in range(0, len(mic), 640)
                ]
            )
        )
    assert len(outputs[0]) == len(outputs[1]) > 16000 * 9
    assert np.array_equal(outputs[0], outputs[1])
    assert _db(mic[16000 * 9 :]) - _db(outputs[0][16000 * 9 :]) >= 12.0  # and it did cancel


def test_webrtc_direct_calls_raise_livekits_errors() -> None:
    """An answer carrying an error raises it; a good answer is remembered, not parsed again.

    (A frame livekit rejects aborts its native side before any answer, through either path,
    so the error answer is built here.)"""
    from livekit import rtc
    from livekit.rtc._proto import ffi_pb2

    calls = DirectApmCalls(rtc.AudioProcessingModule(echo_cancellation=True), 160, 16_000)
    calls.capture()  # a real, good answer
    good = calls.capture._good_answer
    assert good is not None
    failed = ffi_pb2.FfiResponse()
    failed.apm_process_stream.error = "frame of the wrong length"
    with pytest.raises(RuntimeError, match="wrong length"):
        calls.capture._check(failed.SerializeToString())
    other = ffi_pb2.FfiResponse()
    other.apm_set_stream_delay.SetInParent()
    with pytest.raises(RuntimeError, match="apm_set_stream_delay"):
        calls.capture._check(other.SerializeToString())
    assert calls.capture._good_answer == good
