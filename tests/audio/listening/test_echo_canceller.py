"""Echo cancellation on real synthesized speech: the player's voice out, the user's kept."""

from __future__ import annotations

import numpy as np
import pytest

from floorcoach.audio.listening.echo_canceller import EchoCanceller, make_echo_canceller
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


def test_webrtc_rests_while_the_player_is_silent_and_cancels_when_it_speaks_again(
    player: np.ndarray,
) -> None:
    """A 3 s pause between two stretches of the player's speech: WebRTC is not called
    during it (the microphone passes bit for bit), and the echo after it is still taken out."""
    from floorcoach.audio.listening.echo_canceller import (
        RESTING_AFTER_FRAMES,
        WEBRTC_FRAME,
        WebRtcEchoCanceller,
    )

    gap = np.zeros(16000 * 3)
    reference = np.concatenate([player, gap, player])
    delay = 16 * 60
    echo = 0.3 * np.concatenate([np.zeros(delay), reference])[: len(reference)]
    mic = echo + np.random.default_rng(2).normal(0, 10 ** (-50 / 20), len(reference))
    canceller = WebRtcEchoCanceller()
    out = np.concatenate(
        [
            canceller.process(mic[i : i + 320], reference[i : i + 320])
            for i in range(0, len(mic), 320)
        ]
    )
    rest_frames = (len(gap) - delay) // WEBRTC_FRAME - RESTING_AFTER_FRAMES
    assert canceller.rested >= rest_frames - 2
    assert canceller.frames + canceller.rested == len(out) // WEBRTC_FRAME
    # well inside the pause (the 10 ms frame holding the player's return is processed)
    resting = slice(len(player) + 16000 * 2, len(player) + len(gap) - WEBRTC_FRAME)
    expected = np.round(mic[resting] * 32768) / 32768
    assert np.array_equal(out[resting], expected)  # untouched (as int16, like every frame)
    second = slice(len(player) + len(gap) + 16000 * 2, len(out))
    assert _db(mic[second]) - _db(out[second]) >= 12.0  # the echo after the rest removed
