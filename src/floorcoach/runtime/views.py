"""Terminal views of a live session: plain lines for screen readers, or large type.

Both read the same event records the runtime writes to `--log` (dicts with `t`, `kind`,
`phase`, `exercise`, ...) plus a periodic `tick(now, seconds_left)` for the countdown, so
they never reach into the engine and can be tested with records alone. Neither is needed:
the voice says everything they show.
"""

from __future__ import annotations

import math
import shutil
import sys
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any, Final, Protocol

from floorcoach.session.events import Phase

DISPLAY_MODES: Final = ("normal", "plain", "big")


class View(Protocol):
    """Something that shows the session: fed every event record and a periodic tick."""

    def record(self, rec: Mapping[str, Any]) -> None:
        """One event record, as written to --log."""
        ...

    def tick(self, now: float, seconds_left: float | None) -> None:
        """Session time, and the seconds left in the hold, rest or reps (None: none running)."""
        ...

    def close(self) -> None:
        """The session is over; leave the terminal as it was."""
        ...


def countdown(engine: Any, now: float) -> float | None:
    """Seconds left in the timed step, from `engine.timed_step_end` (None when there is none)."""
    end = getattr(engine, "timed_step_end", None)
    if end is None or getattr(engine, "paused", False):
        return None
    return max(0.0, float(end) - now)


def exercise_label(exercise_id: str, names: Mapping[str, str] | None = None) -> str:
    """The exercise's name when known, else its id made readable: 'Knee to chest'."""
    if names and exercise_id in names:
        return names[exercise_id]
    words = exercise_id.replace("-", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def clock_text(seconds: float) -> str:
    """Session time as m:ss, the same stamp printed speech uses."""
    minutes, secs = divmod(int(max(0.0, seconds)), 60)
    return f"{minutes:2d}:{secs:02d}"


# ---------------------------------------------------------------- plain: one line per event

_PHASE_LINES: Final[dict[str, str]] = {
    Phase.HOLD.value: "holding",
    Phase.REP.value: "repetitions",
    Phase.REST.value: "resting",
    Phase.SWITCH_SIDE.value: "switching sides",
    Phase.WALK.value: "walking",
}
"""Phase changes worth a line; the others are told by their own records (exercise, pause)."""
_QUIET_KINDS: Final = frozenset({"clock", "paused_internal"})


def plain_line(rec: Mapping[str, Any], names: Mapping[str, str] | None = None) -> str | None:
    """The one line a screen reader reads for a record, or None for bookkeeping records."""
    kind = str(rec.get("kind", ""))
    stamp = clock_text(float(rec.get("t", 0.0)))
    text = _plain_text(kind, rec, names)
    return None if text is None else f"{stamp} {text}"


def _plain_text(kind: str, rec: Mapping[str, Any], names: Mapping[str, str] | None) -> str | None:
    if kind in _QUIET_KINDS:
        return None
    if kind == "say":
        return str(rec.get("text", ""))
    if kind == "cue":
        return f"tone: {str(rec.get('cue', '')).replace('_', ' ')}"
    if kind == "heard":
        return f"heard: {rec.get('command')} ({rec.get('text')!r})"
    if kind == "not_understood":
        return f'not understood: "{rec.get("text", "")}" (say or type "help")'
    if kind == "phase":
        return _PHASE_LINES.get(str(rec.get("phase")))
    if kind == "exercise_start":
        number = int(rec.get("index", 0)) + 1
        return f"exercise {number}: {exercise_label(str(rec.get('exercise', '')), names)}"
    if kind == "session_start":
        return f"session started: {rec.get('routine')}"
    if kind == "paused":
        reason = rec.get("reason")
        return "paused; say resume to go on" if reason == "user" else f"paused ({reason})"
    if kind == "pain_reported":
        return "pain check: how bad (0 to 10), and where?"
    if kind == "pain":
        return f"pain: level {rec.get('level')}, {rec.get('location') or 'place not given'}"
    if kind == "decision":
        extra = _details(rec, skip=("decision", "said"))
        return f"decision: {rec.get('decision')}" + (f" ({extra})" if extra else "")
    if kind == "resumed":
        return "resumed"
    if kind == "outcome":
        label = exercise_label(str(rec.get("exercise", "")), names)
        return f"{label}: {str(rec.get('outcome', '')).replace('_', ' ')}"
    if kind == "session_end":
        summary = rec.get("summary") or {}
        counts = summary.get("counts") or {}
        done = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(counts.items()))
        return f"session ended: {done or 'nothing done'}"
    if kind == "interrupted":
        return f"session stopped ({rec.get('reason')})"
    details = _details(rec)
    name = kind.replace("_", " ")
    return f"{name}: {details}" if details else name


def _details(rec: Mapping[str, Any], skip: tuple[str, ...] = ()) -> str:
    """The record's own fields, so a kind this view does not know still says everything."""
    return ", ".join(
        f"{key.replace('_', ' ')} {value}"
        for key, value in rec.items()
        if key not in ("t", "kind", "phase", "exercise", *skip)
        and value is not None
        and not isinstance(value, dict | list)
    )


class PlainView:
    """Screen-reader friendly: one line per event, appended, never redrawn, no colour codes."""

    def __init__(self, stream: IO[str] | None = None, names: Mapping[str, str] | None = None):
        self._stream = stream or sys.stdout
        self._names = names

    def record(self, rec: Mapping[str, Any]) -> None:
        """Print the record's line, if it has one."""
        line = plain_line(rec, self._names)
        if line is not None:
            self._write(line)

    def tick(self, now: float, seconds_left: float | None) -> None:
        """Nothing: a line per second would drown a screen reader (the voice counts)."""

    def close(self) -> None:
        """Nothing to restore."""
        try:
            self._stream.flush()
        except (BrokenPipeError, ValueError):
            pass

    def _write(self, line: str) -> None:
        try:
            print(line, file=self._stream, flush=True)
        except (BrokenPipeError, ValueError):
            pass  # the reader went away; the session goes on


# ---------------------------------------------------------------- big: large type

_FONT_ROWS: Final = 5
_FONT: Final[dict[str, tuple[str, ...]]] = {
    "0": (" XXX ", "X   X", "X   X", "X   X", " XXX "),
    "1": ("  X  ", " XX  ", "  X  ", "  X  ", " XXX "),
    "2": (" XXX ", "X   X", "  XX ", " X   ", "XXXXX"),
    "3": ("XXXX ", "    X", " XXX ", "    X", "XXXX "),
    "4": ("X   X", "X   X", "XXXXX", "    X", "    X"),
    "5": ("XXXXX", "X    ", "XXXX ", "    X", "XXXX "),
    "6": (" XXX ", "X    ", "XXXX ", "X   X", " XXX "),
    "7": ("XXXXX", "    X", "   X ", "  X  ", "  X  "),
    "8": (" XXX ", "X   X", " XXX ", "X   X", " XXX "),
    "9": (" XXX ", "X   X", " XXXX", "    X", " XXX "),
    ":": ("  ", "XX", "  ", "XX", "  "),
    " ": ("   ",) * 5,
    "A": (" XXX ", "X   X", "XXXXX", "X   X", "X   X"),
    "B": ("XXXX ", "X   X", "XXXX ", "X   X", "XXXX "),
    "C": (" XXXX", "X    ", "X    ", "X    ", " XXXX"),
    "D": ("XXXX ", "X   X", "X   X", "X   X", "XXXX "),
    "E": ("XXXXX", "X    ", "XXXX ", "X    ", "XXXXX"),
    "F": ("XXXXX", "X    ", "XXXX ", "X    ", "X    "),
    "G": (" XXXX", "X    ", "X  XX", "X   X", " XXXX"),
    "H": ("X   X", "X   X", "XXXXX", "X   X", "X   X"),
    "I": ("XXX", " X ", " X ", " X ", "XXX"),
    "K": ("X   X", "X  X ", "XXX  ", "X  X ", "X   X"),
    "L": ("X    ", "X    ", "X    ", "X    ", "XXXXX"),
    "M": ("X   X", "XX XX", "X X X", "X   X", "X   X"),
    "N": ("X   X", "XX  X", "X X X", "X  XX", "X   X"),
    "O": (" XXX ", "X   X", "X   X", "X   X", " XXX "),
    "P": ("XXXX ", "X   X", "XXXX ", "X    ", "X    "),
    "R": ("XXXX ", "X   X", "XXXX ", "X  X ", "X   X"),
    "S": (" XXXX", "X    ", " XXX ", "    X", "XXXX "),
    "T": ("XXXXX", "  X  ", "  X  ", "  X  ", "  X  "),
    "U": ("X   X", "X   X", "X   X", "X   X", " XXX "),
    "W": ("X   X", "X   X", "X X X", "XX XX", "X   X"),
    "X": ("X   X", " X X ", "  X  ", " X X ", "X   X"),
    "Y": ("X   X", " X X ", "  X  ", "  X  ", "  X  "),
}
"""A 5-row block font: digits, ':' and the letters of the big words."""
BLOCK: Final = "\u2588"

PHASE_WORDS: Final[dict[str, str]] = {
    Phase.WELCOME.value: "HELLO",
    Phase.ANNOUNCE.value: "NEXT",
    Phase.INSTRUCT.value: "READY",
    Phase.HOLD.value: "HOLD",
    Phase.REP.value: "REPS",
    Phase.REST.value: "REST",
    Phase.SWITCH_SIDE.value: "SWITCH",
    Phase.WALK.value: "WALK",
    Phase.PAUSED.value: "PAUSED",
    Phase.PAIN_CHECK.value: "PAIN",
    Phase.DONE.value: "DONE",
}


def big_text(text: str) -> list[str] | None:
    """`text` in block letters (5 lines), or None if a character is not in the font."""
    glyphs = []
    for char in text.upper():
        glyph = _FONT.get(char)
        if glyph is None:
            return None
        glyphs.append(glyph)
    if not glyphs:
        return [""] * _FONT_ROWS
    return [" ".join(g[row] for g in glyphs).replace("X", BLOCK) for row in range(_FONT_ROWS)]


def countdown_text(seconds_left: float) -> str:
    """Whole seconds left, rounded up as the spoken count is; m:ss from a minute up."""
    whole = max(0, math.ceil(seconds_left - 1e-6))
    if whole >= 60:
        return f"{whole // 60}:{whole % 60:02d}"
    return str(whole)


@dataclass
class ViewState:
    """What the big view shows, folded from the records and ticks so far."""

    phase: str = Phase.WELCOME.value
    exercise: str | None = None
    exercise_number: int | None = None
    heard: str | None = None
    said: str | None = None
    seconds_left: float | None = None
    ended: bool = False

    def apply(self, rec: Mapping[str, Any]) -> None:
        """Take one record into the state."""
        kind = rec.get("kind")
        if "phase" in rec:
            self.phase = str(rec["phase"])
        if rec.get("exercise"):
            self.exercise = str(rec["exercise"])
        if kind == "exercise_start":
            self.exercise = str(rec.get("exercise", "")) or None
            self.exercise_number = int(rec.get("index", 0)) + 1
        elif kind == "heard":
            self.heard = f"{rec.get('command')}"
            text = rec.get("text")
            if text and str(text).casefold() != self.heard.casefold():
                self.heard += f' ("{text}")'
        elif kind == "not_understood":
            self.heard = f'? "{rec.get("text", "")}"'
        elif kind == "say":
            self.said = str(rec.get("text", ""))
        elif kind in ("session_end", "interrupted"):
            self.ended = True
            self.phase = Phase.DONE.value
            self.seconds_left = None


def build_frame(
    state: ViewState,
    width: int,
    height: int,
    *,
    names: Mapping[str, str] | None = None,
    total: int | None = None,
) -> list[str]:
    """The big view as exactly `height` lines of at most `width` characters (no colour codes).

    Most important first: the phase word, the countdown, the exercise, the last command
    heard, then the last sentence said; what does not fit is left out, and block letters
    too wide for the terminal fall back to plain capitals.
    """
    width, height = max(1, width), max(1, height)

    def centre(line: str) -> str:
        return line[:width].center(width).rstrip()

    def big_or_plain(text: str) -> list[str]:
        rows = big_text(text)
        if rows is None or max((len(r) for r in rows), default=0) > width:
            return [centre(text.upper())]
        return [centre(row) for row in rows]

    blocks: list[tuple[int, list[str]]] = []  # (priority, lines); lower is more important
    blocks.append((0, big_or_plain(PHASE_WORDS.get(state.phase, state.phase.upper()))))
    if state.seconds_left is not None and not state.ended:
        blocks.append((1, big_or_plain(countdown_text(state.seconds_left))))
    if state.exercise:
        label = exercise_label(state.exercise, names).upper()
        if state.exercise_number is not None:
            of = f" OF {total}" if total else ""
            label = f"{state.exercise_number}{of}: {label}"
        blocks.append((2, [centre(line) for line in textwrap.wrap(label, width)[:2]]))
    if state.heard:
        blocks.append((3, [centre(f"HEARD: {state.heard}")]))
    if state.said:
        blocks.append((4, textwrap.wrap(state.said, width)[:3]))

    # Drop the least important blocks until the rest fit; blank lines between blocks go
    # before any content does.
    kept = sorted(blocks, key=lambda block: block[0])
    while kept and sum(len(lines) for _, lines in kept) > height:
        kept.pop()
    content = sum(len(lines) for _, lines in kept)
    gap = [""] if content + len(kept) - 1 <= height else []
    body: list[str] = []
    for _, lines in kept:
        if body:
            body.extend(gap)
        body.extend(lines)
    top = max(0, (height - len(body)) // 2)
    frame = [""] * top + body
    frame += [""] * (height - len(frame))
    return frame[:height]


_STYLE: Final = "\x1b[0;1;97;40m"
"""Bold bright white on black: the highest contrast most terminals have."""
_ENTER: Final = "\x1b[?1049h\x1b[?25l"
_LEAVE: Final = "\x1b[0m\x1b[?25h\x1b[?1049l"


class BigView:
    """Large-type, high-contrast, full-screen view of the exercise, countdown and last command."""

    def __init__(
        self,
        stream: IO[str] | None = None,
        *,
        names: Mapping[str, str] | None = None,
        total: int | None = None,
        size: tuple[int, int] | None = None,
    ) -> None:
        self._stream = stream or sys.stdout
        self._names = names
        self._total = total
        self._size = size
        self.state = ViewState()
        self._shown: list[str] | None = None
        self._entered = False
        self._closed = False

    def record(self, rec: Mapping[str, Any]) -> None:
        """Fold the record in and redraw if anything visible changed."""
        self.state.apply(rec)
        self._draw()

    def tick(self, now: float, seconds_left: float | None) -> None:
        """Update the countdown; the screen is only rewritten when the shown number changes."""
        if not self.state.ended:
            self.state.seconds_left = seconds_left
        self._draw()

    def close(self) -> None:
        """Restore the terminal and leave the last state as one plain line in the scrollback."""
        if self._closed:
            return
        self._closed = True
        if self._entered:
            self._emit(_LEAVE)
        state = self.state
        parts = [PHASE_WORDS.get(state.phase, state.phase).lower()]
        if state.exercise:
            parts.append(exercise_label(state.exercise, self._names))
        if state.heard:
            parts.append(f"last heard: {state.heard}")
        self._emit("floorcoach: " + "; ".join(parts) + "\n")

    def frame(self) -> list[str]:
        """The lines the screen shows now."""
        width, height = self._size or shutil.get_terminal_size((80, 24))
        return build_frame(self.state, width, height, names=self._names, total=self._total)

    def _draw(self) -> None:
        if self._closed:
            return
        lines = self.frame()
        if lines == self._shown:
            return
        self._shown = lines
        prefix = "" if self._entered else _ENTER
        self._entered = True
        # Home, then every line cleared to its end: no flicker from clearing the whole screen.
        body = "\n".join(f"{line}\x1b[K" for line in lines)
        self._emit(f"{prefix}{_STYLE}\x1b[H{body}\x1b[J")

    def _emit(self, text: str) -> None:
        try:
            self._stream.write(text)
            self._stream.flush()
        except (BrokenPipeError, ValueError):
            pass


def make_view(
    mode: str,
    stream: IO[str] | None = None,
    *,
    names: Mapping[str, str] | None = None,
    total: int | None = None,
    note: Any = None,
) -> View | None:
    """The view for a display mode; None for 'normal' (printed speech as before).

    'big' needs a terminal: piped or redirected output gets the plain view instead.
    """
    out = stream or sys.stdout
    if mode == "normal":
        return None
    if mode == "big":
        isatty = getattr(out, "isatty", None)
        if isatty is not None and isatty():
            return BigView(out, names=names, total=total)
        if note is not None:
            note("--big needs a terminal; showing plain lines instead")
    elif mode != "plain":
        raise ValueError(f"unknown display mode {mode!r}; choose one of {', '.join(DISPLAY_MODES)}")
    return PlainView(out, names=names)
