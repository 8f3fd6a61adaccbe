"""Barge-in live: "pause" said over the player's speech through a real echo is heard.

The player's sentences go out through the virtual speaker and come back into the virtual
microphone through a PulseAudio loopback (-10 dB, 60 ms): the microphone listener with the
default echo canceller, the echo gate and the default recognizer must hear a "pause" said
over them, and the echo must be mostly gone. `scripts/bench_session --part echo` measures
the same path at length (BENCHMARKS.md).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from floorcoach.audio.listening.echo_canceller import DEFAULT_ECHO_CANCEL
from floorcoach.audio.listening.self_voice import EchoGate, LevelTrack, PlayerSpeech
from floorcoach.audio.pcm import Pcm, write_wav
from floorcoach.audio.speaking.synth import make_synthesizer
from virtual_audio import SPEAKER_MONITOR, VirtualAudio, keep_raw_microphone

SENTENCES = (
    "Lie on your back with both knees bent and your feet flat on the floor.",
    "Rest your head on a small pillow or a folded towel, and let your shoulders relax.",
    "Slowly draw one knee up toward your chest, and hold it there with both hands.",
    "Breathe out as you bring it in, and keep the other foot resting on the floor.",
)
TYPICAL_REMOVED_FLOOR_DB = 25.0
"""The issue's target, on the median 10 ms frame of echo: 38.6-39.8 dB in six runs here."""
MOSTLY_REMOVED_DB = 20.0
MOSTLY_SHARE = 0.75
"""At least this share of the echo's frames has MOSTLY_REMOVED_DB removed: 87-100 % in six
runs here. The energy over the whole span is printed, not asserted: WebRTC leaks 30-50 ms
of echo at a sentence's onset in its first seconds now and then, and those few frames
decide it (16-41 dB in the same six runs, 14.5 dB once on CI). A canceller that is off
removes about 0 dB, the hand-written NLMS one 5-9 dB: both fail either floor."""
WORD_AT_SECONDS = 9.0
"""The canceller has had 9 s of the player's voice to settle on."""
NOISE_RMS = 10 ** (-60 / 20)


class _Tee:
    """The real recognizer, also keeping the cleaned signal it is given."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.chunks: list[np.ndarray] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def accept(self, samples: np.ndarray) -> list:
        self.chunks.append(samples.copy())
        return self.inner.accept(samples)  # type: ignore[attr-defined]


@pytest.fixture
def echo_room() -> Iterator[VirtualAudio]:
    """A sound server of its own: the loopback (the room's echo) must reach no other test,
    and a daemon that fails while a module is loaded or unloaded takes only this test."""
    with VirtualAudio() as audio:
        yield audio


@pytest.mark.slow(seconds=22)
@pytest.mark.audio
def test_pause_over_the_players_speech_is_heard_through_a_real_echo(
    echo_room: VirtualAudio, tmp_path: Path
) -> None:
    from floorcoach.audio.listening.microphone import MicrophoneListener
    from floorcoach.audio.listening.recognizer_factory import make_recognizer
    from floorcoach.audio.speaking.device_speaker import DeviceSpeaker
    from floorcoach.audio.speaking.speech_cache import CachedSynthesizer, SpeechCache
    from floorcoach.audio.speaking.synth import make_synthesizer as make_player_synth

    player_voice = CachedSynthesizer(make_player_synth("pyttsx3"), SpeechCache())
    speech = [player_voice.render(text).to_rate(16000) for text in SENTENCES]
    level = np.sqrt(np.mean(np.concatenate([s.to_float() for s in speech]) ** 2))
    word = make_synthesizer("espeak", voice="en-us").render("pause").to_rate(16000).to_float()
    word = word * (level / np.sqrt(np.mean(word**2)))
    total = sum(s.seconds + 0.2 for s in speech)
    # the room: a faint noise floor all along, and the user's word WORD_AT_SECONDS in
    track = np.random.default_rng(0).normal(0, NOISE_RMS, round((total + 1.0) * 16000))
    at = round(WORD_AT_SECONDS * 16000)
    track[at : at + len(word)] += word
    users_wav = tmp_path / "users.wav"
    write_wav(users_wav, Pcm(np.clip(np.round(track * 32768), -32768, 32767).astype(np.int16)))

    echo_room.pactl(  # the room: on this test's own server, gone with it
        "load-module",
        "module-loopback",
        f"source={SPEAKER_MONITOR}",
        "sink=vmic_feed",
        "latency_msec=60",
    )
    echo_room.pactl("set-source-volume", SPEAKER_MONITOR, "68%")  # -10 dB
    speaker = DeviceSpeaker()
    tee = _Tee(make_recognizer("auto"))
    played_track = LevelTrack()
    leveled: set[int] = set()

    def player_speech() -> list[PlayerSpeech]:
        """As the live listener does: what was played, and how loud (for double talk)."""
        history = speaker.history()
        for p in history:
            if p.id not in leveled and p.ended_at > p.started_at:
                leveled.add(p.id)
                samples = round((p.ended_at - p.started_at) * 16000)
                played_track.add(p.started_at, speaker.sounded(p.started_at, samples), 16000)
        return [PlayerSpeech(p.started_at, p.ended_at, p.label) for p in history]

    gate = EchoGate(source=player_speech, mic=LevelTrack(), played=played_track)
    heard: list = []
    listener = MicrophoneListener(
        tee,
        on_heard=heard.append,
        reference=speaker.sounded,
        echo_cancel=DEFAULT_ECHO_CANCEL,
        gate=gate,
    )
    raw = keep_raw_microphone(listener)
    listener.start()
    time.sleep(0.5)
    for pcm, text in zip(speech, SENTENCES, strict=True):
        speaker.play(Pcm(np.concatenate([pcm.samples, np.zeros(3200, np.int16)])), text)
    said_at = time.monotonic() + WORD_AT_SECONDS
    echo_room.play_into_mic(users_wav).wait(timeout=total + 10)
    time.sleep(1.0)
    # on a loaded machine the worker can lag behind the microphone: let it catch up
    # (stop() waits only 5 s for it) before judging what it heard
    catch_up = time.monotonic() + 20.0
    while listener.pending_chunks and time.monotonic() < catch_up:
        time.sleep(0.1)
    listener.stop()
    played = speaker.history()
    speaker.close(drain=False)
    assert played, "the speaker played nothing"
    assert played[0].started_at < said_at < played[-1].ended_at, "not said over the player"
    pauses = [h for h in heard if h.intent.value == "pause"]
    assert pauses, (
        f"'pause' was not heard over the player's speech (heard {heard}; "
        f"{listener.dropped_chunks} chunks dropped, {listener.status_flags} status flags)"
    )
    # the echo removed, on the player's speech between 4 s and the word
    first = listener._first_block_at
    assert first is not None
    mic = np.concatenate(raw)
    cleaned = np.concatenate(tee.chunks)
    span = slice(
        round((played[0].started_at - first + 4.0) * 16000), round((said_at - first) * 16000)
    )
    # 10 ms frames where the echo is clearly there (20 dB over the noise floor)
    noise = NOISE_RMS**2 * 32768**2
    frames = (span.stop - span.start) // 160
    before = (mic[span][: frames * 160].astype(np.float64).reshape(-1, 160) ** 2).mean(axis=1)
    after = (cleaned[span][: frames * 160].astype(np.float64).reshape(-1, 160) ** 2).mean(axis=1)
    echo = before > 100 * noise
    assert echo.sum() > 200, "too little echo to measure"
    overall = 10 * np.log10(
        (before[echo].mean() - noise) / max(after[echo].mean() - noise, noise / 10)
    )
    per_frame = 10 * np.log10(before[echo] / np.maximum(after[echo], noise / 10))
    typical = float(np.median(per_frame))
    mostly = float(np.mean(per_frame >= MOSTLY_REMOVED_DB))
    print(
        f"echo removed {overall:.1f} dB over the span, {typical:.1f} dB on the median frame, "
        f"{MOSTLY_REMOVED_DB:.0f} dB or more on {100 * mostly:.0f} % of frames; "
        f"heard {[h.text for h in heard]}"
    )
    assert typical >= TYPICAL_REMOVED_FLOOR_DB, f"only {typical:.1f} dB removed on the median frame"
    assert mostly >= MOSTLY_SHARE, (
        f"only {100 * mostly:.0f} % of the echo's frames had {MOSTLY_REMOVED_DB:.0f} dB removed"
    )
    # the echo's delay was measured from the microphone itself (echo_delay.py): the loopback's
    # 60 ms plus the sound server's buffers
    tracker = listener.echo_delay
    assert tracker is not None
    assert tracker.looks, "the echo's delay was never measured through the loopback"
    delays = [round(1000 * look.delay, 2) for look in tracker.looks]
    # at least the loopback's 60 ms less slack; the sound server settles its latency over the
    # first seconds, so the looks may differ (the line's arithmetic is tested in test_echo_delay)
    assert all(0.03 < look.delay < 0.5 for look in tracker.looks), f"delays (ms): {delays}"
