"""A hands-free session simulated on the audio clock: a user's voice in, the player's voice out.

Time advances one microphone chunk at a time, so a 20-minute session runs in seconds while
the same engine, recognizer and echo gate as the live player do the work. The player's own
speech is mixed back into the microphone signal the way a room would (quieter and a little
late), so not hearing itself is exercised too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from floorcoach.audio.listening.echo_canceller import DEFAULT_ECHO_CANCEL, make_echo_canceller
from floorcoach.audio.listening.linear_look import attach_linear_look
from floorcoach.audio.listening.recognizer import CommandRecognizer
from floorcoach.audio.listening.self_voice import EchoGate, LevelTrack
from floorcoach.audio.pcm import RATE_HZ, Pcm, float_to_int16
from floorcoach.audio.speaking.cues import render_cue
from floorcoach.audio.speaking.speech_cache import CachedSynthesizer
from floorcoach.commands import ListenContext
from floorcoach.content.catalog import LoadedRoutine
from floorcoach.session.events import InputSource, PlayCue, Say
from floorcoach.session.simulate import SimulatedSpeaker, Simulation

_LOGGER = logging.getLogger(__name__)

CHUNK_SECONDS: Final = 0.02
ECHO_GAIN: Final = 0.3
"""About -10 dB: a speaker a metre or two from the microphone, in a small room."""
ECHO_DELAY_SECONDS: Final = 0.03
NOISE_FLOOR_DBFS: Final = -50.0
"""A faint hiss like a cheap microphone's; perfectly silent input is unlike any room."""
MAX_SESSION_SECONDS: Final = 4 * 3600.0
LEARN_WINDOW_SECONDS: Final = 4.0
"""Stretches this long with nothing recognized teach the gate how loud the echo is."""


class _TimelineSpeaker(SimulatedSpeaker):
    """The simulated speaker that also writes what it says onto an audio timeline."""

    def __init__(self, synth: CachedSynthesizer, gate: EchoGate) -> None:
        super().__init__(lambda text: synth.render(text).seconds)
        self._synth = synth
        self._gate = gate
        self.timeline = np.zeros(RATE_HZ * 60, dtype=np.float32)

    def _ensure(self, end_sample: int) -> None:
        if end_sample > len(self.timeline):
            grown = np.zeros(max(end_sample, 2 * len(self.timeline)), dtype=np.float32)
            grown[: len(self.timeline)] = self.timeline
            self.timeline = grown

    def write(self, pcm: Pcm, at: float) -> None:
        """Mix audio onto the timeline at a time."""
        samples = pcm.to_rate(RATE_HZ).to_float()
        start = round(at * RATE_HZ)
        self._ensure(start + len(samples))
        self.timeline[start : start + len(samples)] += samples
        if self._gate.played is not None:
            self._gate.played.add(at, samples, RATE_HZ)

    def _begin(self, say: Say, now: float) -> None:
        super()._begin(say, now)
        pcm = self._synth.render(say.text)
        self.write(pcm, now)
        self._gate.note(now, now + pcm.seconds, say.text)

    def _cut(self, now: float) -> None:
        current = self.current
        if current is not None and current.end > now:
            start, end = round(now * RATE_HZ), round(current.end * RATE_HZ)
            self.timeline[start:end] = 0.0
            self._gate.cut(now)
            if self._gate.played is not None:
                self._gate.played.silence_after(now)
        super()._cut(now)


@dataclass
class AudioSimResult:
    """What a simulated hands-free session produced."""

    total_seconds: float
    player_audio: Pcm
    user_audio: Pcm
    records: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] | None = None
    ignored: int = 0
    heard: int = 0
    audio_seconds_processed: float = 0.0
    spoken: list[tuple[float, float, str]] = field(default_factory=list)
    """What the player said, in order: (start, end, text) on the timeline. A "say" record is
    the time a line was asked for; a line queued behind another starts later."""


UserAgent = Callable[[Simulation], Pcm | None]
"""A synthetic user: given the session so far, what (if anything) it starts saying now."""


def run_on_audio_clock(
    loaded: LoadedRoutine,
    synth: CachedSynthesizer,
    user: Pcm,
    recognizer: CommandRecognizer,
    *,
    agent: UserAgent | None = None,
    rate_wpm: int = 150,
    echo_gain: float = ECHO_GAIN,
    echo_delay_seconds: float = ECHO_DELAY_SECONDS,
    gate: EchoGate | None = None,
    seed: int = 0,
    echo_cancel: str = DEFAULT_ECHO_CANCEL,
) -> AudioSimResult:
    """Play a routine hands-free against a recorded user; everything is clocked by samples.

    `echo_cancel` names the echo canceller as `--echo-cancel` does (webrtc, nlms or none).
    """
    gate = gate or EchoGate(mic=LevelTrack(), played=LevelTrack())
    listen_over_player = getattr(recognizer, "set_player_talking", None)
    if callable(listen_over_player):
        listen_over_player(gate.talking)  # one clock here: the recognizer's is the session's
    unclear: list[float] = []

    def on_unclear(start: float, end: float, speech_seconds: float) -> None:
        if gate.users_unclear(start, end):  # as MicrophoneListener._unclear
            unclear.append(speech_seconds)

    report_unclear = getattr(recognizer, "set_on_unclear", None)
    if callable(report_unclear):
        report_unclear(on_unclear)
    sim = Simulation(loaded, rate_wpm=rate_wpm, announce_duration=True)
    speaker = _TimelineSpeaker(synth, gate)
    sim.speaker = speaker
    user_samples = user.to_rate(RATE_HZ).to_float()
    chunk = round(CHUNK_SECONDS * RATE_HZ)
    delay = round(echo_delay_seconds * RATE_HZ)
    rng = np.random.default_rng(seed)
    noise_rms = 10 ** (NOISE_FLOOR_DBFS / 20)
    extra: list[dict[str, Any]] = []
    cues_done = 0
    context = sim.engine.listen_context
    _set_context(recognizer, context)
    recognizer.reset()
    sim.start()
    index = 0
    heard_count = 0
    heard_samples = 0
    canceller = make_echo_canceller(echo_cancel) if echo_cancel != "none" else None
    linear = attach_linear_look(recognizer, echo_cancel)  # as the microphone listener does
    last_recognized = last_learned = 0.0
    while True:
        t_end = (index + 1) * chunk / RATE_HZ
        sim.advance(max(0.0, t_end - sim.now))
        cues_done = _write_cues(sim, speaker, cues_done)
        if agent is not None:
            said = agent(sim)
            if said is not None:
                user_samples = _place(user_samples, said, index * chunk)
        mic = _mic_chunk(user_samples, speaker.timeline, index * chunk, chunk, delay, echo_gain)
        mic += rng.normal(0.0, noise_rms, chunk).astype(np.float32)
        if canceller is not None:
            # the player knows what it played: take that out before anyone listens
            played = _played_chunk(speaker.timeline, index * chunk, chunk)
            if linear is not None:
                linear.process(mic, played)
            mic = canceller.process(mic, played).astype(np.float32)
        if gate.mic is not None:
            gate.mic.add(heard_samples / RATE_HZ, mic, RATE_HZ)
        heard_samples += len(mic)
        recognized = recognizer.accept(float_to_int16(mic))
        if recognized:
            last_recognized = t_end
        elif t_end - max(last_recognized, last_learned) >= LEARN_WINDOW_SECONDS:
            gate.learn_echo(t_end - LEARN_WINDOW_SECONDS, t_end)
            last_learned = t_end
        for heard in recognized:
            reason = gate.verdict(
                heard.start,
                heard.end,
                heard.intent,
                heard.text,
                heard.confidence,
                answer_expected=context != "commands",
            )
            if reason is not None:
                extra.append(_ignored(sim, heard.text, heard.intent.value, reason))
                continue
            if not sim.engine.finished:
                heard_count += 1
                sim.hear(heard.text, heard.intent, InputSource.VOICE)
        for speech_seconds in unclear:
            if not sim.engine.finished:
                sim.unclear(speech_seconds)
        unclear.clear()
        if sim.engine.listen_context != context:
            context = sim.engine.listen_context
            _set_context(recognizer, context)
        index += 1
        done_speaking = speaker.current is None and not speaker.queue
        user_over = index * chunk >= len(user_samples) or agent is not None
        if sim.engine.finished and done_speaking and user_over:
            break
        if t_end > MAX_SESSION_SECONDS:
            _LOGGER.warning("simulation stopped at the %d s limit", MAX_SESSION_SECONDS)
            break
    run = sim.finish()
    records = run.records + extra
    records.sort(key=lambda record: record["t"])
    end = round(max(run.total_seconds, index * chunk / RATE_HZ) * RATE_HZ)
    player = float_to_int16(speaker.timeline[:end])
    return AudioSimResult(
        user_audio=Pcm(float_to_int16(user_samples), RATE_HZ),
        total_seconds=run.total_seconds,
        player_audio=Pcm(player, RATE_HZ),
        records=records,
        summary=run.summary,
        ignored=gate.ignored,
        heard=heard_count,
        audio_seconds_processed=index * chunk / RATE_HZ,
        spoken=run.spoken,
    )


def _played_chunk(
    timeline: npt.NDArray[np.float32], start: int, length: int
) -> npt.NDArray[np.float32]:
    piece = np.zeros(length, dtype=np.float32)
    available = timeline[start : start + length]
    piece[: len(available)] = available
    return piece


def _place(samples: npt.NDArray[np.float32], clip: Pcm, at_sample: int) -> npt.NDArray[np.float32]:
    data = clip.to_rate(RATE_HZ).to_float()
    end = at_sample + len(data)
    if end > len(samples):
        grown = np.zeros(end, dtype=np.float32)
        grown[: len(samples)] = samples
        samples = grown
    samples[at_sample:end] += data
    return samples


def _set_context(recognizer: CommandRecognizer, context: str) -> None:
    setter = getattr(recognizer, "set_context", None)
    if setter is not None:
        setter(ListenContext(context))


def _mic_chunk(
    user: npt.NDArray[np.float32],
    player: npt.NDArray[np.float32],
    start: int,
    length: int,
    delay: int,
    gain: float,
) -> npt.NDArray[np.float32]:
    mic = np.zeros(length, dtype=np.float32)
    piece = user[start : start + length]
    mic[: len(piece)] += piece
    echo_start = start - delay
    lo = max(0, echo_start)
    hi = min(len(player), echo_start + length)
    if hi > lo:
        mic[lo - echo_start : hi - echo_start] += gain * player[lo:hi]
    return mic


def _write_cues(sim: Simulation, speaker: _TimelineSpeaker, done: int) -> int:
    effects = sim.result.effects
    for t, effect in effects[done:]:
        if isinstance(effect, PlayCue):
            speaker.write(render_cue(effect.cue.value), t)
    return len(effects)


def _ignored(sim: Simulation, text: str, value: str, reason: str) -> dict[str, Any]:
    record: dict[str, Any] = {
        "t": round(sim.now, 3),
        "kind": "ignored",
        "command": value,
        "text": text,
        "reason": reason,
        "phase": sim.engine.phase.value,
    }
    if sim.engine.exercise_id:
        record["exercise"] = sim.engine.exercise_id
    return record
