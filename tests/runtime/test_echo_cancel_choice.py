"""Choosing the echo canceller: --echo-cancel, echo_cancel in the config file, and the factory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from floorcoach.audio.listening.echo_canceller import (
    DEFAULT_ECHO_CANCEL,
    ECHO_CANCELLERS,
    EchoCanceller,
    NoEchoCanceller,
    WebRtcEchoCanceller,
    make_echo_canceller,
)
from floorcoach.audio.listening.microphone import MicrophoneListener
from floorcoach.runtime.config_load import load_config
from floorcoach.runtime.config_model import Config
from floorcoach_cli import run
from recognizer_doubles import KeepingRecognizer


def test_each_choice_builds_its_canceller() -> None:
    assert isinstance(make_echo_canceller("webrtc"), WebRtcEchoCanceller)
    assert isinstance(make_echo_canceller("nlms"), EchoCanceller)
    assert isinstance(make_echo_canceller("none"), NoEchoCanceller)


def test_an_unknown_canceller_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="webrtc, nlms, none"):
        make_echo_canceller("speex")


def test_the_config_default_is_the_code_default() -> None:
    assert Config().recognition.echo_cancel == DEFAULT_ECHO_CANCEL
    assert DEFAULT_ECHO_CANCEL in ECHO_CANCELLERS


def test_the_config_file_chooses_and_a_bad_value_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.toml"
    good.write_text('[recognition]\necho_cancel = "nlms"\n')
    assert load_config(good).config.recognition.echo_cancel == "nlms"
    bad = tmp_path / "bad.toml"
    bad.write_text('[recognition]\necho_cancel = "speex"\n')
    loaded = load_config(bad)
    err = capsys.readouterr().err
    assert 'recognition.echo_cancel = "speex" is not allowed' in err
    assert '"webrtc", "nlms" or "none"' in err
    assert loaded.config.recognition.echo_cancel == DEFAULT_ECHO_CANCEL


def test_play_refuses_an_unknown_canceller_and_lists_the_choices() -> None:
    result = run("play", "quick-test", "--text", "--echo-cancel", "speex", timeout=60)
    assert result.returncode == 2
    assert "choose from 'webrtc', 'nlms', 'none'" in result.stderr


@pytest.mark.parametrize("kind", ECHO_CANCELLERS)
def test_the_listener_cancels_with_the_chosen_canceller(kind: str) -> None:
    """The worker (not the callback) asks for the reference and runs the canceller."""
    rng = np.random.default_rng(0)
    played = (0.2 * rng.standard_normal(16000 * 6)).astype(np.float32)
    echo = np.concatenate([np.zeros(480), 0.3 * played])[: len(played)]
    mic = np.round(echo * 32768).astype(np.int16)
    keep = KeepingRecognizer()
    listener = MicrophoneListener(
        keep, reference=lambda start, n: played[round(start * 16000) :][:n], echo_cancel=kind
    )
    listener._first_block_at = 0.05  # the reference is asked for 50 ms early
    assert listener.echo_cancel == kind
    for i in range(0, len(mic), 320):
        listener.process(mic[i : i + 320])
    out = np.concatenate(keep.chunks).astype(np.float64)
    late = slice(16000 * 4, 16000 * 5)
    removed = 10 * np.log10(np.mean(mic[late].astype(np.float64) ** 2) / np.mean(out[late] ** 2))
    if kind == "none":
        assert abs(removed) < 0.1
    else:
        assert removed > 10, removed
