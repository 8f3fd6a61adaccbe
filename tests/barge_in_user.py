"""A synthetic user who says barge-in commands while the player talks, on the audio clock.

Shared by `scripts/bench_session --part bargein` and the tests, so both count the same way.
"""

from __future__ import annotations

import numpy as np

from floorcoach.audio.pcm import Pcm
from floorcoach.audio.speaking.speech_cache import CachedSynthesizer
from floorcoach.session.simulate import Simulation

BARGE_IN = ("pause", "stop", "that hurts")
EXPECT = {
    "pause": "pause",
    "stop": "stop",
    "that hurts": "pain",
    "resume": "resume",
    "two": "2",
    "in my back": "back",
}
"""What the session's log calls each line when it is heard."""


class BargeInUser:
    """Says a barge-in phrase while the player talks, then whatever gets the session going."""

    def __init__(self, voice: CachedSynthesizer, every_seconds: float, seed: int) -> None:
        self.voice = voice
        self.every = every_seconds
        self.rng = np.random.default_rng(seed)
        self.next_at = every_seconds
        self.busy_until = 0.0
        self.trials: list[dict] = []
        self.turn = 0
        self.waiting: dict | None = None

    def __call__(self, sim: Simulation) -> Pcm | None:
        now = sim.now
        if sim.engine.finished or now < self.busy_until:
            return None
        if self.waiting is not None:
            heard = [
                r
                for r in sim.result.records[-30:]
                if r["kind"] == "heard"
                and r["t"] >= self.waiting["end"] - 0.5
                and r.get("command") == EXPECT[self.waiting["text"]]
            ]
            if heard:
                self.waiting["latency"] = heard[0]["t"] - self.waiting["end"]
                self.waiting = None
            elif now - self.waiting["end"] > 3.0:
                self.waiting["latency"] = None
                self.waiting = None
            else:
                return None
        if now < self.busy_until + 1.5:
            return None
        follow_up = self._follow_up(sim)
        if follow_up is not None:  # get the session going again, as a user would
            return self._say(sim, follow_up, barge=False)
        speaking = sim.speaker.current is not None and not sim.engine.paused
        if now >= self.next_at and speaking and sim.speaker.current.end - now > 1.0:
            text = BARGE_IN[self.turn % len(BARGE_IN)]
            self.turn += 1
            self.next_at = now + self.every * (0.7 + 0.6 * self.rng.random())
            return self._say(sim, text, barge=True)
        return None

    @staticmethod
    def _follow_up(sim: Simulation) -> str | None:
        context = sim.engine.listen_context
        if context == "pain_level":
            return "two"
        if context == "pain_location":
            return "in my back"
        if context == "confirm" or sim.engine.paused:
            return "resume"
        return None

    def _say(self, sim: Simulation, text: str, barge: bool) -> Pcm:
        clip = self.voice.render(text)
        trial = {"text": text, "start": sim.now, "end": sim.now + clip.seconds, "barge": barge}
        self.trials.append(trial)
        self.waiting = trial
        self.busy_until = sim.now + clip.seconds
        return clip

    def barge_in(self) -> tuple[int, int]:
        """(said over the player, heard within 3 s of their end)."""
        said = [t for t in self.trials if t["barge"]]
        return len(said), sum(1 for t in said if t.get("latency") is not None)
