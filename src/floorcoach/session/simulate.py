"""Drive the engine on a virtual clock: dry runs for `show`, estimates and fast tests."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from floorcoach.commands import Intent, parse
from floorcoach.content.catalog import LoadedRoutine
from floorcoach.session.counting import estimate_speech_seconds
from floorcoach.session.engine import DEFAULT_RATE_WPM, Engine
from floorcoach.session.events import (
    ChangeSpeech,
    Effect,
    Event,
    Heard,
    InputSource,
    Log,
    PlayCue,
    Say,
    SessionEnded,
    SpeechDone,
    Start,
    StopSpeech,
    Tick,
    Unclear,
)

MAX_EVENTS: Final = 200_000


@dataclass
class _Utterance:
    say: Say
    start: float
    end: float


class SimulatedSpeaker:
    """The live speaker's queueing policy, on a virtual clock with estimated durations.

    A new utterance cuts the current one when the current one is interruptible or the
    new one has a higher priority; otherwise it waits its turn.
    """

    def __init__(self, duration: Callable[[str], float]) -> None:
        self._duration = duration
        self.current: _Utterance | None = None
        self.queue: list[Say] = []
        self.done: list[SpeechDone] = []
        self.spoken: list[tuple[float, float, Say]] = []

    def say(self, say: Say, now: float) -> None:
        current = self.current
        if current is None:
            self._begin(say, now)
        elif current.say.interruptible or say.priority > current.say.priority:
            self._cut(now)
            self._begin(say, now)
        else:
            self.queue.append(say)

    def stop(self, now: float) -> None:
        self._cut(now)
        for waiting in self.queue:
            self.done.append(SpeechDone(waiting.utterance_id, now))
        self.queue.clear()

    def next_end(self) -> float | None:
        return self.current.end if self.current else None

    def advance(self, now: float) -> None:
        while self.current is not None and self.current.end <= now + 1e-9:
            finished = self.current
            self.spoken.append((finished.start, finished.end, finished.say))
            self.done.append(SpeechDone(finished.say.utterance_id, finished.end))
            self.current = None
            if self.queue:
                self._begin(self.queue.pop(0), finished.end)

    def _begin(self, say: Say, now: float) -> None:
        self.current = _Utterance(say, now, now + self._duration(say.text))

    def _cut(self, now: float) -> None:
        if self.current is not None:
            cut = self.current
            self.spoken.append((cut.start, now, cut.say))
            self.done.append(SpeechDone(cut.say.utterance_id, now))
            self.current = None


@dataclass
class ScriptedLine:
    """Something the user says at a time (seconds from the start)."""

    t: float
    text: str
    intent: Intent | None = None


@dataclass
class DryRun:
    """What happened in a simulated session."""

    total_seconds: float
    effects: list[tuple[float, Effect]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] | None = None
    spoken: list[tuple[float, float, str]] = field(default_factory=list)

    def said(self) -> list[str]:
        """Every utterance, in order."""
        return [text for _, _, text in self.spoken]


class Simulation:
    """An engine on a virtual clock with a simulated speaker: step it, talk to it, inspect it."""

    def __init__(
        self,
        loaded: LoadedRoutine,
        *,
        rate_wpm: int = 150,
        announce_duration: bool = False,
        engine: Engine | None = None,
        duration: Callable[[str, int], float] | None = None,
        start_index: int = 0,
    ) -> None:
        self.engine = engine or Engine(
            loaded,
            rate_wpm=rate_wpm,
            announce_duration=announce_duration,
            estimate_seconds=estimate_total_seconds if announce_duration else None,
            start_index=start_index,
        )
        self._rate = rate_wpm
        measure = duration or estimate_speech_seconds
        self.speaker = SimulatedSpeaker(lambda text: measure(text, self._rate))
        self.now = 0.0
        self.result = DryRun(0.0)
        self.last_effects: list[Effect] = []
        self._started = False

    def feed(self, event: Event) -> list[Effect]:
        """Hand one event to the engine and carry out its effects on the simulated speaker."""
        effects = self.engine.handle(event)
        for effect in effects:
            self.result.effects.append((self.now, effect))
            if isinstance(effect, Say):
                self.speaker.say(effect, self.now)
                self.result.records.append(self._say_record(effect))
            elif isinstance(effect, StopSpeech):
                self.speaker.stop(self.now)
            elif isinstance(effect, ChangeSpeech):
                self._rate = effect.rate_wpm
            elif isinstance(effect, Log):
                self.result.records.append(effect.record)
            elif isinstance(effect, SessionEnded):
                self.result.summary = effect.summary
            elif isinstance(effect, PlayCue):
                record = self._say_record(Say("", 0))
                del record["text"]
                record["kind"] = "cue"
                record["cue"] = effect.cue.value
                self.result.records.append(record)
        return effects

    def _say_record(self, say: Say) -> dict[str, Any]:
        record: dict[str, Any] = {
            "t": round(self.now, 3),
            "kind": "say",
            "phase": self.engine.phase.value,
        }
        if self.engine.exercise_id:
            record["exercise"] = self.engine.exercise_id
        record["text"] = say.text
        return record

    def start(self) -> list[Effect]:
        """Send Start once."""
        self._started = True
        return self.feed(Start(self.now))

    def hear(
        self, text: str, intent: Intent | None = None, source: InputSource = InputSource.TYPED
    ) -> list[Effect]:
        """The user says (by default: types) `text` now; returns the engine's immediate effects."""
        understood = intent or parse(text)
        if understood is None:
            raise ValueError(f"not a command: {text!r}")
        self.last_effects = self.feed(Heard(understood, self.now, text, source))
        self._deliver_done()
        return self.last_effects

    def unclear(self, seconds: float = 0.5) -> list[Effect]:
        """The user says something now that the recognizer cannot place."""
        self.last_effects = self.feed(Unclear(self.now, seconds))
        self._deliver_done()
        return self.last_effects

    def _deliver_done(self) -> None:
        while self.speaker.done:
            self.feed(self.speaker.done.pop(0))

    def step(self, limit: float | None = None) -> bool:
        """Advance to the next thing that happens; False when nothing more will happen."""
        if not self._started:
            self.start()
        self._deliver_done()
        if self.engine.finished and self.speaker.current is None and not self.speaker.queue:
            return False
        candidates = [
            t for t in (self.engine.next_deadline(), self.speaker.next_end()) if t is not None
        ]
        if not candidates:
            return False
        target = max(self.now, min(candidates))
        if limit is not None and target > limit:
            self.now = max(self.now, limit)
            self.feed(Tick(self.now))
            return False
        self.now = target
        self.speaker.advance(self.now)
        if self.speaker.done:
            self._deliver_done()
        else:
            self.feed(Tick(self.now))
        return True

    def run_until(self, predicate: Callable[[Simulation], bool], limit: float = 7200.0) -> bool:
        """Step until `predicate` holds (True) or nothing more happens / `limit` (False)."""
        if not self._started:
            self.start()
        for _ in range(MAX_EVENTS):
            if predicate(self):
                return True
            if not self.step(limit):
                return predicate(self)
        return False

    def advance(self, seconds: float) -> None:
        """Let `seconds` of virtual time pass."""
        target = self.now + seconds
        self.run_until(lambda _sim: False, limit=target)
        if self.now < target:
            self.now = target  # nothing was scheduled: time passes quietly
            self.feed(Tick(self.now))

    def finish(self) -> DryRun:
        """Run to the end and return what happened."""
        self.run_until(lambda _sim: False)
        self.result.total_seconds = self.now
        self.result.spoken = [(a, b, say.text) for a, b, say in self.speaker.spoken]
        return self.result


def dry_run(
    loaded: LoadedRoutine,
    script: Iterable[ScriptedLine] = (),
    *,
    rate_wpm: int = 150,
    announce_duration: bool = False,
    start_index: int = 0,
) -> DryRun:
    """Play a routine on a virtual clock, feeding scripted user lines at their times."""
    sim = Simulation(
        loaded, rate_wpm=rate_wpm, announce_duration=announce_duration, start_index=start_index
    )
    sim.start()
    for line in sorted(script, key=lambda line: line.t):
        sim.advance(max(0.0, line.t - sim.now))
        sim.now = max(sim.now, line.t)
        intent = line.intent or parse(line.text)
        if intent is not None and not sim.engine.finished:
            sim.hear(line.text, intent)
    return sim.finish()


def estimate_total_seconds(
    loaded: LoadedRoutine, start_index: int = 0, *, rate_wpm: int = DEFAULT_RATE_WPM
) -> float:
    """How long the routine takes from `start_index`, from a dry run with estimated speech.

    The engine's `estimate_seconds` for the duration said in the day's plan.
    """
    return dry_run(loaded, rate_wpm=rate_wpm, start_index=start_index).total_seconds
