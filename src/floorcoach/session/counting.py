"""How counts and times are said: countdown patterns, number words, spoken durations."""

from __future__ import annotations

import math
from typing import Final

_ONES: Final = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS: Final = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()

MIN_GAP_SECONDS: Final = 4.0
"""Spoken time checks closer than this to another one are dropped, so they never collide."""


def number_word(n: int) -> str:
    """0..99 as words ("twenty-one"), so the synthesizer never reads digits oddly."""
    if n < 0 or n > 99:
        return str(n)
    if n < 20:
        return _ONES[n]
    tens, ones = divmod(n, 10)
    return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")


def spoken_seconds(seconds: float) -> str:
    """'30 seconds', '1 minute', '1 minute 30 seconds', '2 minutes'."""
    whole = max(0, round(seconds))
    minutes, secs = divmod(whole, 60)
    if minutes == 0:
        return f"{secs} second" + ("" if secs == 1 else "s")
    text = f"{minutes} minute" + ("" if minutes == 1 else "s")
    if secs:
        text += f" {secs} second" + ("" if secs == 1 else "s")
    return text


def spoken_minutes(seconds: float) -> str:
    """A rounded duration for plans: 'about 12 minutes', 'under a minute'."""
    if seconds < 60:
        return "under a minute"
    minutes = round(seconds / 60)
    return f"about {minutes} minute" + ("" if minutes == 1 else "s")


def estimate_speech_seconds(text: str, rate_wpm: int) -> float:
    """A conservative guess at how long text takes to say, used when nothing measures it."""
    words = max(1, len(text.split()))
    pauses = sum(text.count(mark) for mark in ".,;:!?")
    return 0.25 + words * 60.0 / rate_wpm + 0.15 * pauses


def hold_countdown(hold_seconds: float) -> list[tuple[float, str]]:
    """Time checks for a hold, as (seconds after the start, text), in order.

    A natural pattern: for long holds a check every 30 s and at half way, then
    "10 seconds left", then 5-4-3-2-1 (3-2-1 for short holds). Checks closer than
    MIN_GAP_SECONDS to a later one are dropped, so none is said over another.
    """
    marks: list[tuple[float, str]] = []
    final_count = 5 if hold_seconds >= 10 else 3 if hold_seconds >= 4 else 0
    for k in range(final_count, 0, -1):
        marks.append((hold_seconds - k, number_word(k)))
    checks: list[tuple[float, str]] = []
    if hold_seconds >= 20:
        checks.append((hold_seconds - 10, "10 seconds left."))
    if hold_seconds >= 60:
        remaining = int(hold_seconds // 30) * 30
        if remaining >= hold_seconds:
            remaining -= 30
        while remaining >= 30:
            checks.append((hold_seconds - remaining, f"{spoken_seconds(remaining)} left."))
            remaining -= 30
    elif hold_seconds >= 24:
        # whole seconds left, so what is said is exact (45 s: "23 seconds left" at 22 s)
        left = math.ceil(hold_seconds / 2)
        checks.append((hold_seconds - left, f"Halfway. {spoken_seconds(left)} left."))
    kept: list[tuple[float, str]] = []
    first_count = marks[0][0] if marks else hold_seconds
    for offset, text in sorted(checks, reverse=True):
        nearest_later = kept[-1][0] if kept else first_count
        if offset >= MIN_GAP_SECONDS - 1 and nearest_later - offset >= MIN_GAP_SECONDS:
            kept.append((offset, text))
    return sorted(kept) + marks


def join_words(words: list[str]) -> str:
    """'a', 'a and b', 'a, b, and c'."""
    if len(words) <= 2:
        return " and ".join(words)
    return ", ".join(words[:-1]) + f", and {words[-1]}"


def counted(n: int, noun: str) -> str:
    """'one rep', 'three reps'."""
    return f"{number_word(n)} {noun}{'' if n == 1 else 's'}"


def times_word(n: int) -> str:
    """'once', 'twice', 'three times'."""
    return {1: "once", 2: "twice"}.get(n, f"{number_word(n)} times")
