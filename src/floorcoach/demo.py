"""`floorcoach demo`: a synthetic user talks to the player; no sound hardware needed.

A director first plays the session on the virtual clock and decides when a considerate
user would speak (a moment after each question, a few seconds into a hold); those lines
are then spoken by a different espeak-ng voice into a microphone recording, and the real
hands-free pipeline (recognizer, echo gate, engine) plays the session against it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from floorcoach.audio.pcm import RATE_HZ, Pcm, write_wav
from floorcoach.audio.recognizer import CommandRecognizer
from floorcoach.audio.speech_cache import CachedSynthesizer
from floorcoach.audio.synth import Synthesizer
from floorcoach.audio_sim import AudioSimResult, run_on_audio_clock
from floorcoach.catalog import LoadedRoutine
from floorcoach.events import Phase
from floorcoach.simulate import Simulation

USER_VOICE: Final = "en-gb-x-rp+f3"
"""A British female voice, unlike the player's American male one."""
STEP_SECONDS: Final = 0.1

Trigger = Callable[[Simulation, float], bool]
"""(simulation, seconds since the previous line) -> speak now?"""


def _quiet(sim: Simulation) -> bool:
    return sim.speaker.current is None and not sim.speaker.queue


def _in_phase(phase: Phase, after: float) -> Trigger:
    state: dict[str, float] = {}

    def trigger(sim: Simulation, _since: float) -> bool:
        if sim.engine.phase is not phase or sim.engine.paused:
            state.pop("since", None)
            return False
        state.setdefault("since", sim.now)
        return sim.now - state["since"] >= after

    return trigger


def _after_question(context: str, pause: float) -> Trigger:
    state: dict[str, float] = {}

    def trigger(sim: Simulation, _since: float) -> bool:
        if sim.engine.listen_context != context or not _quiet(sim):
            state.pop("since", None)
            return False
        state.setdefault("since", sim.now)
        return sim.now - state["since"] >= pause

    return trigger


def _after(seconds: float) -> Trigger:
    return lambda _sim, since: since >= seconds


@dataclass(frozen=True)
class DemoLine:
    """Something the synthetic user says, and when."""

    text: str
    trigger: Trigger


def demo_lines() -> list[DemoLine]:
    """The demo's conversation: pause, resume, pain with its answers, next, how long, stop."""
    return [
        DemoLine("pause", _in_phase(Phase.HOLD, 2.0)),
        DemoLine("resume", _after(4.0)),
        DemoLine("that hurts", _in_phase(Phase.HOLD, 2.0)),
        DemoLine("four", _after_question("pain_level", 0.8)),
        DemoLine("in my back", _after_question("pain_location", 0.8)),
        DemoLine("next", _in_phase(Phase.INSTRUCT, 3.0)),
        DemoLine("how long", _in_phase(Phase.REP, 1.0)),
        DemoLine("stop", _after(4.0)),
        DemoLine("stop", _after_question("confirm", 1.0)),
    ]


def direct(
    loaded: LoadedRoutine, synth: CachedSynthesizer, lines: list[DemoLine]
) -> list[tuple[float, str]]:
    """When each line would be said, found by playing the session with perfect hearing."""
    sim = Simulation(
        loaded, announce_duration=True, duration=lambda text, _r: synth.render(text).seconds
    )
    sim.start()
    script: list[tuple[float, str]] = []
    last = 0.0
    pending = list(lines)
    while pending and not sim.engine.finished and sim.now < 3600:
        sim.advance(STEP_SECONDS)
        if pending[0].trigger(sim, sim.now - last):
            line = pending.pop(0)
            script.append((round(sim.now, 2), line.text))
            last = sim.now
            sim.hear(line.text)
    return script


def user_recording(script: list[tuple[float, str]], voice: Synthesizer) -> Pcm:
    """The user's side of the conversation as one microphone recording."""
    clips = [(t, voice.render(text)) for t, text in script]
    end = max((t + clip.seconds for t, clip in clips), default=0.0) + 1.0
    samples = np.zeros(round(end * RATE_HZ), dtype=np.int32)
    for t, clip in clips:
        data = clip.to_rate(RATE_HZ).samples.astype(np.int32)
        start = round(t * RATE_HZ)
        samples[start : start + len(data)] += data
    return Pcm(np.clip(samples, -32768, 32767).astype(np.int16), RATE_HZ)


@dataclass
class DemoResult:
    """What the demo did."""

    script: list[tuple[float, str]]
    sim: AudioSimResult

    def transcript(self) -> str:
        """A readable account: who said what, when, and what the player understood."""
        lines = []
        for record in self.sim.records:
            stamp = _clock(record["t"])
            kind = record["kind"]
            if kind == "say":
                lines.append(f"{stamp}  PLAYER  {record['text']}")
            elif kind == "heard":
                lines.append(f'{stamp}  USER    "{record["text"]}"  -> {record["command"]}')
            elif kind == "ignored":
                lines.append(f'{stamp}  (ignored "{record["text"]}": {record["reason"]})')
            elif kind == "decision":
                lines.append(f"{stamp}  (decision: {record['decision']})")
        return "\n".join(lines) + "\n"


def run_demo(
    loaded: LoadedRoutine,
    player: CachedSynthesizer,
    user_voice: Synthesizer,
    recognizer: CommandRecognizer,
    out_wav: Path,
    user_wav: Path | None = None,
) -> DemoResult:
    """Direct, record the user, play hands-free on the audio clock, write the audio."""
    script = direct(loaded, player, demo_lines())
    user = user_recording(script, user_voice)
    if user_wav is not None:
        write_wav(user_wav, user)
    result = run_on_audio_clock(loaded, player, user, recognizer)
    mixed = _mix(result.player_audio, user)
    write_wav(out_wav, mixed)
    return DemoResult(script, result)


def _mix(a: Pcm, b: Pcm) -> Pcm:
    n = max(len(a.samples), len(b.samples))
    out = np.zeros(n, dtype=np.int32)
    out[: len(a.samples)] += a.samples
    out[: len(b.samples)] += b.samples
    return Pcm(np.clip(out, -32768, 32767).astype(np.int16), a.rate_hz)


def _clock(seconds: float) -> str:
    minutes, secs = divmod(seconds, 60)
    return f"{int(minutes):2d}:{secs:05.2f}"


def summary_lines(result: DemoResult) -> list[str]:
    """A short printed summary."""
    heard = [r for r in result.sim.records if r["kind"] == "heard"]
    said = [text for _, text in result.script]
    got = [r["text"] for r in heard]
    summary: dict[str, Any] = result.sim.summary or {}
    outcomes = ", ".join(f"{e['exercise']}: {e['outcome']}" for e in summary.get("exercises", []))
    return [
        f"user said {len(said)} things: {', '.join(said)}",
        f"player understood {len(heard)}: {', '.join(got) or 'nothing'}",
        f"ignored as its own voice or unsure: {result.sim.ignored}",
        f"session: {result.sim.total_seconds / 60:.1f} min; {outcomes}",
    ]
