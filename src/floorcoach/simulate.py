"""Drive the engine on a virtual clock: dry runs for `show`, estimates and fast tests."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from floorcoach.catalog import LoadedRoutine
from floorcoach.commands import Intent, parse
from floorcoach.counting import estimate_speech_seconds
from floorcoach.events import (
    ChangeSpeech,
    Effect,
    Event,
    Heard,
    Log,
    PlayCue,
    Say,
    SessionEnded,
    SpeechDone,
    Start,
    StopSpeech,
    Tick,
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


def dry_run(
    loaded: LoadedRoutine,
    script: Iterable[ScriptedLine] = (),
    *,
    rate_wpm: int = 150,
    announce_duration: bool = False,
    until: float | None = None,
    engine_factory: Callable[..., Any] | None = None,
) -> DryRun:
    """Play a routine on a virtual clock, feeding scripted user lines at their times."""
    from floorcoach.engine import Engine

    factory = engine_factory or Engine
    engine = factory(loaded, rate_wpm=rate_wpm, announce_duration=announce_duration)
    rate = [rate_wpm]
    speaker = SimulatedSpeaker(lambda text: estimate_speech_seconds(text, rate[0]))
    pending = sorted(script, key=lambda line: line.t)
    result = DryRun(0.0)
    now = 0.0

    def feed(event: Event) -> None:
        for effect in engine.handle(event):
            result.effects.append((now, effect))
            if isinstance(effect, Say):
                speaker.say(effect, now)
            elif isinstance(effect, StopSpeech):
                speaker.stop(now)
            elif isinstance(effect, ChangeSpeech):
                rate[0] = effect.rate_wpm
            elif isinstance(effect, Log):
                result.records.append(effect.record)
            elif isinstance(effect, SessionEnded):
                result.summary = effect.summary
            elif isinstance(effect, PlayCue):
                pass

    feed(Start(now))
    for _ in range(MAX_EVENTS):
        while speaker.done:
            done = speaker.done.pop(0)
            feed(done)
        if engine.finished and speaker.current is None and not speaker.queue:
            break
        candidates = [
            time
            for time in (
                engine.next_deadline(),
                speaker.next_end(),
                pending[0].t if pending else None,
            )
            if time is not None
        ]
        if not candidates:
            break  # waiting for words that will never come (e.g. an unanswered prompt)
        now = max(now, min(candidates))
        if until is not None and now > until:
            break
        speaker.advance(now)
        if speaker.done:
            continue
        if pending and pending[0].t <= now + 1e-9:
            line = pending.pop(0)
            intent = line.intent or parse(line.text)
            if intent is not None:
                feed(Heard(intent, now, line.text))
            continue
        feed(Tick(now))
    result.total_seconds = now
    result.spoken = [(start, end, say.text) for start, end, say in speaker.spoken]
    return result
