"""The live runtime: one event queue between the engine, the clock, the speech output and input.

Time comes from one monotonic clock (optionally scaled for demos and tests); waits are
computed from the engine's absolute deadlines, so nothing drifts with speech or load.
"""

from __future__ import annotations

import json
import logging
import queue
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final, Protocol

from floorcoach.commands import parse
from floorcoach.session.engine import Engine
from floorcoach.session.events import (
    ChangeSpeech,
    CueKind,
    Effect,
    Event,
    Heard,
    Log,
    Notice,
    PlayCue,
    Say,
    SessionEnded,
    SpeechDone,
    Start,
    StopSpeech,
    Tick,
    Unclear,
)

_LOGGER = logging.getLogger(__name__)

MAX_WAIT_SECONDS: Final = 0.5
"""Upper bound on one wait, so shutdown requests and slow clocks are noticed promptly."""
VIEW_WAIT_SECONDS: Final = 0.2
"""With a view showing a countdown, wake often enough for each second to turn over on time."""
QUEUE_SIZE: Final = 256
"""Events from input threads; when full, the producer blocks briefly (typing is slow)."""
_TIMED_LINE: Final = re.compile(r"^@\s*(\d+(?:\.\d+)?)\s+(.*)$")


def parse_timed_line(text: str) -> tuple[float, str] | None:
    """'@12.5 pause' -> (12.5, 'pause'): words typed for a session time; None otherwise."""
    match = _TIMED_LINE.match(text.strip())
    return (float(match.group(1)), match.group(2)) if match else None


class Clock(Protocol):
    """Session time in seconds, and how long to wait in real time to reach a session time."""

    def now(self) -> float: ...

    def real_seconds(self, session_seconds: float) -> float: ...


class ScaledClock:
    """Monotonic time from the start, running `scale` times faster than real time."""

    def __init__(self, scale: float = 1.0) -> None:
        if scale <= 0:
            raise ValueError("time scale must be positive")
        self.scale = scale
        self._t0 = time.monotonic()

    @property
    def t0_monotonic(self) -> float:
        """time.monotonic() at session time zero."""
        return self._t0

    def now(self) -> float:
        """Session seconds since the clock was made."""
        return (time.monotonic() - self._t0) * self.scale

    def real_seconds(self, session_seconds: float) -> float:
        """Real seconds that correspond to a span of session seconds."""
        return session_seconds / self.scale


class SpeechOutput(Protocol):
    """Where Say and PlayCue effects go: a voice, printed text, or both."""

    def say(self, say: Say, now: float) -> None: ...

    def cue(self, cue: CueKind, now: float) -> None: ...

    def stop(self, now: float) -> None: ...

    def change(self, rate_wpm: int, volume: float) -> None: ...

    def next_deadline(self) -> float | None: ...

    def poll(self, now: float) -> list[SpeechDone]: ...

    def busy(self) -> bool: ...

    def close(self) -> None: ...


class EventLog:
    """Writes one JSON object per line, flushed at once so a crash loses nothing written."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] = path.open("a", encoding="utf-8")

    def write(self, record: dict[str, Any]) -> None:
        """Append one record."""
        self._file.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        self._file.flush()

    def close(self) -> None:
        """Close the file."""
        self._file.close()


@dataclass(frozen=True)
class _Line:
    text: str
    at: float | None = None


@dataclass(frozen=True)
class _Shutdown:
    reason: str


class Runtime:
    """Runs one session live: feeds the engine, carries out its effects, until it ends."""

    def __init__(
        self,
        engine: Engine,
        output: SpeechOutput,
        clock: Clock,
        *,
        event_log: EventLog | None = None,
        echo: Callable[[str], None] | None = None,
        on_context: Callable[[str], None] | None = None,
        on_record: Callable[[dict[str, Any]], None] | None = None,
        answer: Callable[[str], str | None] | None = None,
        view: Any = None,
    ) -> None:
        self.engine = engine
        self.output = output
        self.clock = clock
        self.event_log = event_log
        self._echo = echo or (lambda _text: None)
        self._queue: queue.Queue[Event | _Line | _Shutdown] = queue.Queue(QUEUE_SIZE)
        self._timed_lines: list[_Line] = []
        self.summary: dict[str, Any] | None = None
        self.interrupted: str | None = None
        self.on_context = on_context
        self.on_record = on_record
        self.answer = answer
        self.view = view
        """A display (--big, --plain) fed every record and a tick for its countdown."""
        """Answers a question ("ice or heat?") from its words, or None for no such question."""
        self._context = engine.listen_context

    # ------------------------------------------------------------ producers (any thread)

    def post(self, event: Event) -> None:
        """Hand an event in from another thread (the listener, the speaker)."""
        self._queue.put(event)

    def post_line(self, text: str) -> None:
        """A typed line; '@12.5 pause' means 'say pause at 12.5 s of session time'."""
        timed = parse_timed_line(text)
        if timed is not None:
            self._queue.put(_Line(timed[1], timed[0]))
        else:
            self._queue.put(_Line(text))

    def shutdown(self, reason: str) -> None:
        """Ask the session to end now (Ctrl-C, SIGTERM)."""
        try:
            self._queue.put_nowait(_Shutdown(reason))
        except queue.Full:
            self.interrupted = reason

    # ------------------------------------------------------------ the loop

    def run(self) -> dict[str, Any] | None:
        """Play the session to its end; returns the summary (None when interrupted)."""
        t0 = getattr(self.clock, "t0_monotonic", None)
        if t0 is not None:
            # lets a log be lined up with recordings and other processes' clocks
            now = self.clock.now()
            self._write(
                {
                    "t": round(now, 3),
                    "kind": "clock",
                    "monotonic_t0": t0,
                    "unix_t0": time.time() - (time.monotonic() - t0),
                    "time_scale": getattr(self.clock, "scale", 1.0),
                }
            )
        self._feed(Start(self.clock.now()))
        try:
            while not self.engine.finished and self.interrupted is None:
                self._step()
            self._drain()
        finally:
            if self.view is not None:
                self.view.close()
            self.output.close()
            if self.event_log is not None:
                self.event_log.close()
        return self.summary

    def _step(self) -> None:
        now = self.clock.now()
        if self.view is not None:
            from floorcoach.runtime.views import countdown

            self.view.tick(now, countdown(self.engine, now))
        for done in self.output.poll(now):
            self._feed(done)
        for line in self._due_lines(now):
            self._take_line(line, now)
        deadline = self._next_deadline()
        wait = MAX_WAIT_SECONDS if self.view is None else VIEW_WAIT_SECONDS
        if deadline is not None:
            wait = min(wait, max(0.0, self.clock.real_seconds(deadline - now)))
        try:
            item = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
        except queue.Empty:
            self._feed(Tick(self.clock.now()))
            return
        now = self.clock.now()
        if isinstance(item, _Shutdown):
            self._interrupt(item.reason)
        elif isinstance(item, _Line):
            if item.at is not None and item.at > now:
                self._timed_lines.append(item)
                self._timed_lines.sort(key=lambda line: line.at or 0.0)
            else:
                self._take_line(item, now)
        elif isinstance(item, (SpeechDone, Heard, Notice, Unclear)):
            self._feed(item)
        else:
            self._feed(Tick(now))

    def _next_deadline(self) -> float | None:
        times = [
            t
            for t in (
                self.engine.next_deadline(),
                self.output.next_deadline(),
                self._timed_lines[0].at if self._timed_lines else None,
            )
            if t is not None
        ]
        return min(times) if times else None

    def _due_lines(self, now: float) -> list[_Line]:
        due = [line for line in self._timed_lines if (line.at or 0.0) <= now]
        self._timed_lines = [line for line in self._timed_lines if line not in due]
        return due

    def _take_line(self, line: _Line, now: float) -> None:
        text = line.text.strip()
        if not text or text.startswith("#"):
            return
        intent = parse(text)
        reply = self.answer(text) if intent is None and self.answer is not None else None
        if reply is not None:
            if not self.engine.paused:
                reply = "I can answer that while we're paused. Say pause, then ask me again."
            self._write({"t": round(now, 3), "kind": "question", "text": text})
            self._feed(Notice(reply, now))
            return
        if intent is None:
            self._echo(f'not understood: "{text}" (say or type "help")')
            self._write({"t": round(now, 3), "kind": "not_understood", "text": text})
            return
        self._feed(Heard(intent, now, text))

    def _interrupt(self, reason: str) -> None:
        self.interrupted = reason
        now = self.clock.now()
        self.output.stop(now)
        self._write({"t": round(now, 3), "kind": "interrupted", "reason": reason})
        self.summary = self.engine.summary()

    def _drain(self) -> None:
        """Let the last words (the summary) finish before closing the output."""
        if self.interrupted is not None:
            return
        limit = time.monotonic() + 30.0
        while self.output.busy() and time.monotonic() < limit:
            now = self.clock.now()
            self.output.poll(now)
            deadline = self.output.next_deadline()
            wait = 0.05 if deadline is None else self.clock.real_seconds(deadline - now)
            time.sleep(min(MAX_WAIT_SECONDS, max(0.005, wait)))

    # ------------------------------------------------------------ effects

    def _feed(self, event: Event) -> None:
        for effect in self.engine.handle(event):
            self._apply(effect, self.engine.now)
        context = self.engine.listen_context
        if context != self._context:
            self._context = context
            if self.on_context is not None:
                self.on_context(context)

    def _apply(self, effect: Effect, t: float) -> None:
        if isinstance(effect, Say):
            self.output.say(effect, t)
            self._write(self._record("say", t, text=effect.text))
        elif isinstance(effect, PlayCue):
            self.output.cue(effect.cue, t)
            self._write(self._record("cue", t, cue=effect.cue.value))
        elif isinstance(effect, StopSpeech):
            self.output.stop(t)
        elif isinstance(effect, ChangeSpeech):
            self.output.change(effect.rate_wpm, effect.volume)
        elif isinstance(effect, Log):
            # History first: a line in the event log then never claims progress that a power
            # cut right after it would lose from the history file.
            if self.on_record is not None:
                self.on_record(effect.record)
            self._write(effect.record)
            if effect.record.get("kind") == "heard":
                self._echo(f"heard: {effect.record['command']} ({effect.record['text']!r})")
        elif isinstance(effect, SessionEnded):
            self.summary = effect.summary

    def _record(self, kind: str, t: float, **fields: Any) -> dict[str, Any]:
        record: dict[str, Any] = {"t": round(t, 3), "kind": kind}
        record["phase"] = self.engine.phase.value
        if self.engine.exercise_id:
            record["exercise"] = self.engine.exercise_id
        record.update(fields)
        return record

    def _write(self, record: dict[str, Any]) -> None:
        if self.event_log is not None:
            self.event_log.write(record)
        if self.view is not None:
            self.view.record(record)


def read_lines_into(runtime: Runtime, stream: IO[str]) -> threading.Thread:
    """Feed typed lines from a stream to the runtime on a daemon thread."""

    def pump() -> None:
        for line in stream:
            runtime.post_line(line.rstrip("\n"))

    thread = threading.Thread(target=pump, name="floorcoach-stdin", daemon=True)
    thread.start()
    return thread
