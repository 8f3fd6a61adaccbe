"""Live echo cancellation: the speaker's own record of what it played, against a real echo."""

from __future__ import annotations

import time

import numpy as np
import pytest

from floorcoach.audio.speaking.synth import make_synthesizer
from recognizer_doubles import KeepingRecognizer
from virtual_audio import VirtualAudio, keep_raw_microphone

SENTENCE = (
    "Lie on your back with both knees bent and your feet flat. Rest your head on a small "
    "pillow or a folded towel. Slowly draw one knee up toward your chest."
)


def _db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(x.astype(np.float64) ** 2) + 1e-9))


@pytest.mark.slow(seconds=15)
@pytest.mark.audio
def test_the_players_voice_is_cancelled_from_a_real_echo() -> None:
    with VirtualAudio() as audio:  # its own server: the loopback must not reach other tests
        # the room: the speaker's sound comes back into the microphone 60 ms late, -10 dB
        audio.pactl(
            "load-module",
            "module-loopback",
            "source=vspeaker.monitor",
            "sink=vmic_feed",
            "latency_msec=60",
        )
        audio.pactl("set-source-volume", "vspeaker.monitor", "68%")
        from floorcoach.audio.listening.microphone import MicrophoneListener
        from floorcoach.audio.speaking.device_speaker import DeviceSpeaker

        speaker = DeviceSpeaker()
        capture = KeepingRecognizer()
        listener = MicrophoneListener(capture, reference=speaker.sounded)
        raw = keep_raw_microphone(listener)
        listener.start()
        time.sleep(1.0)
        speech = make_synthesizer("espeak", voice="en-us").render(SENTENCE)
        speaker.play(speech, SENTENCE)
        time.sleep(speech.seconds + 1.5)
        played_from = speaker.history()[0].started_at
        listener.stop()
        speaker.close(drain=False)
    mic = np.concatenate(raw)
    cleaned = np.concatenate(capture.chunks)
    first = listener._first_block_at
    assert first is not None
    # the speaker's record lines up with the echo the microphone got (output latency + 60 ms)
    reference = speaker.sounded(first, len(mic))
    window = slice(16000 * 2, 16000 * 6)
    lags = range(0, 4000, 16)
    scores = [np.dot(mic[window], np.roll(reference, lag)[window]) for lag in lags]
    lag_ms = lags[int(np.argmax(scores))] / 16
    assert 30 <= lag_ms <= 250, lag_ms
    # and after the filter has settled, the echo is quieter by a clear margin
    start = round((played_from - first + 3.0) * 16000)
    end = start + 16000 * 4
    assert _db(mic[start:end]) - _db(cleaned[start:end]) >= 3.0
