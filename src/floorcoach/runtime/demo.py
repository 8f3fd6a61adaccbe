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

from floorcoach.audio.listening.recognizer import CommandRecognizer
from floorcoach.audio.pcm import RATE_HZ, Pcm, write_wav
from floorcoach.audio.speaking.speech_cache import CachedSynthesizer
from floorcoach.audio.speaking.synth import Synthesizer
from floorcoach.content.catalog import LoadedRoutine
from floorcoach.runtime.audio_sim import AudioSimResult, run_on_audio_clock
from floorcoach.session.events import Phase
from floorcoach.session.simulate import Simulation

USER_VOICE: Final = "en-gb-x-rp+f3"
"""A British female voice, unlike the player's American male one."""
STEP_SECONDS: Final = 0.1

Trigger = Callable[[Simulation, float], bool]
"""(simulation, seconds since the previous line) -> speak now?"""


def _quiet(sim: Simulation) -> bool:
    return sim.speaker.current is None and not sim.speaker.queue


def _in_phase(phase: Phase | tuple[Phase, ...], after: float) -> Trigger:
    phases = phase if isinstance(phase, tuple) else (phase,)
    state: dict[str, float] = {}

    def trigger(sim: Simulation, _since: float) -> bool:
        if sim.engine.phase not in phases or sim.engine.paused:
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
    """Something the synthetic user says, when, and what the player should understand."""

    text: str
    expect: str
    trigger: Trigger
    needed: Callable[[Simulation], bool] = lambda _sim: True
    """Said only when it makes sense then (nobody says "resume" unless paused)."""


def demo_lines() -> list[DemoLine]:
    """The demo's conversation: pause, resume, pain with its answers, next, how long, stop."""
    return [
        DemoLine("pause", "pause", _in_phase(Phase.HOLD, 2.0)),
        DemoLine("resume", "resume", _after(4.0), needed=lambda sim: sim.engine.paused),
        DemoLine("that hurts", "pain", _in_phase((Phase.HOLD, Phase.REP), 2.0)),
        DemoLine(
            "four",
            "4",
            _after_question("pain_level", 0.8),
            needed=lambda sim: sim.engine.listen_context == "pain_level",
        ),
        DemoLine(
            "in my back",
            "back",
            _after_question("pain_location", 0.8),
            needed=lambda sim: sim.engine.listen_context == "pain_location",
        ),
        DemoLine("next", "next", _in_phase(Phase.INSTRUCT, 3.0)),
        DemoLine("how long", "how_long", _in_phase(Phase.REP, 1.0)),
        DemoLine("stop", "stop", _after(4.0)),
        DemoLine(
            "stop",
            "stop",
            _after_question("confirm", 1.0),
            needed=lambda sim: sim.engine.listen_context == "confirm",
        ),
    ]


class DemoUser:
    """A synthetic user who listens: speaks on cue, and says it again if not understood."""

    def __init__(
        self,
        lines: list[DemoLine],
        voice: Synthesizer,
        *,
        answer_wait_seconds: float = 4.0,
        max_attempts: int = 3,
    ) -> None:
        self._pending = list(lines)
        self._voice = voice
        self._wait = answer_wait_seconds
        self._max_attempts = max_attempts
        self._busy_until = 0.0
        self._last = 0.0
        self._current: DemoLine | None = None
        self._attempts = 0
        self._said_at = 0.0
        self.said: list[tuple[float, str]] = []
        self.understood: list[str] = []

    def __call__(self, sim: Simulation) -> Pcm | None:
        if sim.now < self._busy_until or sim.engine.finished:
            return None
        if self._current is not None:
            if self._was_understood(sim):
                self.understood.append(self._current.text)
                self._current = None
                self._last = sim.now
            elif sim.now - self._said_at < self._wait:
                return None
            elif self._attempts < self._max_attempts:
                return self._say(sim, self._current)  # the way people do: say it again
            else:
                self._current = None
                self._last = sim.now
        while self._pending and not self._pending[0].needed(sim):
            self._pending.pop(0)  # what it was for did not happen (not understood)
        if not self._pending or not self._pending[0].trigger(sim, sim.now - self._last):
            return None
        line = self._pending.pop(0)
        self._current = line
        self._attempts = 0
        return self._say(sim, line)

    def _say(self, sim: Simulation, line: DemoLine) -> Pcm:
        clip = self._voice.render(line.text)
        self._attempts += 1
        self._said_at = sim.now
        self._busy_until = sim.now + clip.seconds
        self.said.append((round(sim.now, 2), line.text))
        return clip

    def _was_understood(self, sim: Simulation) -> bool:
        assert self._current is not None
        return any(
            record["kind"] == "heard"
            and record["t"] >= self._said_at
            and record.get("command") == self._current.expect
            for record in sim.result.records[-40:]
        )


@dataclass
class DemoResult:
    """What the demo did."""

    script: list[tuple[float, str]]
    sim: AudioSimResult
    understood: list[str]

    def transcript(self) -> str:
        """A readable account: who said what, when, and what the player understood.

        The player's lines are stamped when they were spoken, not when they were asked for:
        a decision and the next exercise's title are asked for at the same moment, and the
        title is spoken after the decision. At the same time, the user's words come first,
        then what the player made of them, then what it said.
        """
        lines: list[tuple[float, int, str]] = []
        for t, text in self.script:
            lines.append((t, 0, f"USER    {text}"))
        for record in self.sim.records:
            kind = record["kind"]
            if kind == "heard":
                text = f'HEARD   "{record["text"]}"  -> {record["command"]}'
            elif kind == "ignored":
                text = f'(ignored "{record["text"]}": {record["reason"]})'
            elif kind == "decision":
                text = f"(decision: {record['decision']})"
            else:
                continue
            lines.append((record["t"], 1, text))
        for start, _end, text in self.sim.spoken:
            lines.append((start, 2, f"PLAYER  {text}"))
        lines.sort(key=lambda line: (_clock(line[0]), line[1]))  # stable: ties keep their order
        return "".join(f"{_clock(t)}  {text}\n" for t, _, text in lines)


def run_demo(
    loaded: LoadedRoutine,
    player: CachedSynthesizer,
    user_voice: Synthesizer,
    recognizer: CommandRecognizer,
    out_wav: Path,
    user_wav: Path | None = None,
) -> DemoResult:
    """Play the routine hands-free against the synthetic user; write the session audio."""
    user = DemoUser(demo_lines(), user_voice)
    silence = Pcm(np.zeros(0, dtype=np.int16), RATE_HZ)
    result = run_on_audio_clock(loaded, player, silence, recognizer, agent=user)
    if user_wav is not None:
        write_wav(user_wav, result.user_audio)
    write_wav(out_wav, _mix(result.player_audio, result.user_audio))
    return DemoResult(user.said, result, user.understood)


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
    got = [f"{r['text']} ({r['command']})" for r in heard]
    summary: dict[str, Any] = result.sim.summary or {}
    outcomes = ", ".join(f"{e['exercise']}: {e['outcome']}" for e in summary.get("exercises", []))
    return [
        f"user spoke {len(said)} times: {', '.join(said)}",
        f"player understood {len(heard)}: {', '.join(got) or 'nothing'}",
        f"ignored as its own voice or unsure: {result.sim.ignored}",
        f"lines understood: {len(result.understood)} of {len(demo_lines())}",
        f"session: {result.sim.total_seconds / 60:.1f} min; {outcomes}",
    ]
