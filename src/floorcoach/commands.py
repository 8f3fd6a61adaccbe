"""Spoken and typed phrases mapped to intents: one table for the recognizers and text mode."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class Command(StrEnum):
    """What the user can ask for; the values are a public interface (CLI JSON, logs)."""

    PAUSE = "pause"
    RESUME = "resume"
    NEXT = "next"
    PREVIOUS = "previous"
    REPEAT = "repeat"
    RESTART = "restart"
    SLOWER = "slower"
    FASTER = "faster"
    SHORTER = "shorter"
    LONGER = "longer"
    LOUDER = "louder"
    QUIETER = "quieter"
    SPEAK_SLOWER = "speak_slower"
    SPEAK_FASTER = "speak_faster"
    HOW_LONG = "how_long"
    WHATS_NEXT = "whats_next"
    HELP = "help"
    STOP = "stop"
    PAIN = "pain"
    TOO_EASY = "too_easy"
    DONE = "done"
    UNDO = "undo"


class Location(StrEnum):
    """Where it hurts: the answer that decides between easing off and stopping."""

    BACK = "back"
    LEG = "leg"


class Feeling(StrEnum):
    """The answer to "how did your back feel after last time?"."""

    BETTER = "better"
    SAME = "same"
    WORSE = "worse"


class Reply(StrEnum):
    """A yes or a no: the answer to "did you say ...?" (and "no" takes back a skip)."""

    YES = "yes"
    NO = "no"


class RedFlag(StrEnum):
    """Warning signs that end the session at once with advice to get medical care."""

    SADDLE_NUMBNESS = "saddle_numbness"
    BLADDER_BOWEL = "bladder_bowel"
    WEAK_LEGS = "weak_legs"
    CANT_FEEL_LEG = "cant_feel_leg"
    FOOT_WEAKNESS = "foot_weakness"
    BOTH_LEGS = "both_legs"


@dataclass(frozen=True)
class Intent:
    """One understood utterance.

    Exactly one of command, number, location, red_flag is set, except that a pain report
    may carry its level ("that hurts, about a six": command PAIN with number 6).
    """

    command: Command | None = None
    number: int | None = None
    location: Location | None = None
    red_flag: RedFlag | None = None
    feeling: Feeling | None = None
    query: str | None = None
    """A question about something other than the session ("progress": how am I doing?)."""
    reply: Reply | None = None

    @property
    def value(self) -> str:
        """The public value: a Command value, a number, a location, or 'red_flag'."""
        if self.command is not None:
            return self.command.value
        if self.number is not None:
            return str(self.number)
        if self.location is not None:
            return self.location.value
        if self.feeling is not None:
            return self.feeling.value
        if self.query is not None:
            return self.query
        if self.reply is not None:
            return self.reply.value
        return "red_flag"


def _c(command: Command) -> Intent:
    return Intent(command=command)


COMMAND_PHRASES: Final[dict[Command, tuple[str, ...]]] = {
    Command.PAUSE: ("pause", "wait", "hold on", "hang on", "one moment", "give me a moment"),
    Command.RESUME: ("resume", "continue", "carry on", "keep going", "go on", "i am ready"),
    Command.NEXT: ("next", "skip", "skip this", "next exercise", "move on"),
    Command.PREVIOUS: ("previous", "go back", "previous exercise", "last exercise"),
    Command.REPEAT: ("repeat", "say again", "say that again", "repeat that", "pardon", "what"),
    Command.RESTART: ("restart", "start over", "start again", "from the top"),
    Command.SLOWER: ("slower", "slow down", "count slower"),
    Command.FASTER: ("faster", "speed up", "count faster"),
    Command.SHORTER: ("shorter", "shorter holds", "less time"),
    Command.LONGER: ("longer", "longer holds", "more time"),
    Command.LOUDER: ("louder", "speak up", "volume up", "i cannot hear you"),
    Command.QUIETER: ("quieter", "softer", "volume down", "too loud"),
    Command.SPEAK_SLOWER: ("speak slower", "talk slower", "slower please speak"),
    Command.SPEAK_FASTER: ("speak faster", "talk faster"),
    Command.HOW_LONG: (
        "how long",
        "how long left",
        "how much longer",
        "time left",
        "how much time",
    ),
    Command.WHATS_NEXT: ("what is next", "whats next", "what comes next", "what is coming"),
    Command.HELP: ("help", "what can i say", "commands"),
    Command.STOP: ("stop", "end session", "quit", "stop the session", "that is enough"),
    Command.PAIN: (
        "that hurts",
        "it hurts",
        "this hurts",
        "hurts",
        "ouch",
        "ow",
        "pain",
        "that is painful",
        "too much",
    ),
    Command.TOO_EASY: ("too easy", "that is easy", "make it harder", "harder"),
    Command.DONE: ("done", "i am done", "finished", "all done"),
    Command.UNDO: ("undo", "undo that", "take that back"),
}

NUMBER_WORDS: Final[tuple[str, ...]] = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
)

LOCATION_PHRASES: Final[dict[Location, tuple[str, ...]]] = {
    Location.BACK: ("back", "in my back", "my back", "lower back", "just my back"),
    Location.LEG: (
        "leg",
        "in my leg",
        "my leg",
        "down my leg",
        "spreading down my leg",
        "it is spreading",
        "tingling",
        "numbness",
        "pins and needles",
    ),
}

FEELING_PHRASES: Final[dict[Feeling, tuple[str, ...]]] = {
    Feeling.BETTER: ("better", "it is better", "a bit better", "much better"),
    Feeling.SAME: ("same", "the same", "about the same", "no different"),
    Feeling.WORSE: ("worse", "it is worse", "a bit worse", "much worse"),
}

REPLY_PHRASES: Final[dict[Reply, tuple[str, ...]]] = {
    Reply.YES: ("yes", "yeah", "yep", "yes i did"),
    Reply.NO: ("no", "nope", "no i did not", "i did not"),
}
"""Taken only as a whole utterance: a "no" inside a sentence is not an answer."""

QUERY_PHRASES: Final[dict[str, tuple[str, ...]]] = {
    "progress": (
        "how am i doing",
        "how am i getting on",
        "am i getting better",
        "how is my progress",
    ),
}

RED_FLAG_PHRASES: Final[dict[RedFlag, tuple[str, ...]]] = {
    RedFlag.SADDLE_NUMBNESS: (
        "numbness between my legs",
        "numb between my legs",
        "saddle numbness",
        "numb in the saddle area",
        "numb down there",
    ),
    RedFlag.BLADDER_BOWEL: (
        "bladder problem",
        "bladder problems",
        "bowel problem",
        "bowel problems",
        "i cannot control my bladder",
        "i cannot control my bowels",
        "i wet myself",
    ),
    RedFlag.WEAK_LEGS: ("both legs are weak", "weakness in both legs", "my legs are giving way"),
    RedFlag.CANT_FEEL_LEG: ("i cannot feel my leg", "i cannot feel my legs", "my leg is dead"),
    RedFlag.FOOT_WEAKNESS: ("i cannot lift my foot", "my foot is dragging", "foot drop"),
    RedFlag.BOTH_LEGS: ("pain in both legs", "both legs hurt", "it is in both legs"),
}

_CONTRACTIONS: Final[dict[str, str]] = {
    "i'm": "i am",
    "im": "i am",
    "can't": "cannot",
    "cant": "cannot",
    "can not": "cannot",
    "that's": "that is",
    "thats": "that is",
    "it's": "it is",
    "its": "it is",
    "what's": "whats",
    "what is next": "whats next",
    "don't": "do not",
    "dont": "do not",
}

_NEGATIONS: Final = re.compile(r"\b(do not|never|no need to)\b")


@functools.lru_cache(maxsize=4096)
def normalize(text: str) -> str:
    """Lower-case words only, contractions expanded, so typed and heard text compare alike.

    Cached: the recognizer normalizes every allowed phrase of a context for each segment it
    judges (some 75 regular-expression passes each), and the phrases repeat."""
    lowered = text.lower().replace("’", "'")
    lowered = re.sub(r"[^a-z0-9' ]+", " ", lowered)
    words = " ".join(lowered.split())
    for short, full in _CONTRACTIONS.items():
        words = re.sub(rf"(?<![a-z']){re.escape(short)}(?![a-z'])", full, words)
    return words.replace("'", "")


def _build_table() -> dict[str, Intent]:
    table: dict[str, Intent] = {}

    def add(phrase: str, intent: Intent) -> None:
        key = normalize(phrase)
        if key in table and table[key] != intent:
            raise ValueError(f"phrase {phrase!r} maps to two intents")
        table[key] = intent

    for command, phrases in COMMAND_PHRASES.items():
        add(command.value.replace("_", " "), _c(command))
        for phrase in phrases:
            add(phrase, _c(command))
    for number, word in enumerate(NUMBER_WORDS):
        add(word, Intent(number=number))
        add(str(number), Intent(number=number))
    for location, phrases in LOCATION_PHRASES.items():
        for phrase in phrases:
            add(phrase, Intent(location=location))
    for flag, phrases in RED_FLAG_PHRASES.items():
        for phrase in phrases:
            add(phrase, Intent(red_flag=flag))
    for feeling, phrases in FEELING_PHRASES.items():
        for phrase in phrases:
            add(phrase, Intent(feeling=feeling))
    for query, phrases in QUERY_PHRASES.items():
        for phrase in phrases:
            add(phrase, Intent(query=query))
    for reply, phrases in REPLY_PHRASES.items():
        for phrase in phrases:
            add(phrase, Intent(reply=reply))
    return table


PHRASE_TABLE: Final[dict[str, Intent]] = _build_table()
"""Every normalized phrase and what it means; the recognizers' grammars are built from it."""

_BY_LENGTH: Final = sorted(PHRASE_TABLE, key=lambda p: (-len(p.split()), -len(p)))


def grammar_phrases() -> list[str]:
    """All phrases a recognizer grammar should accept, normalized, longest first."""
    return list(_BY_LENGTH)


def parse(text: str) -> Intent | None:
    """The intent in a heard or typed utterance, or None.

    An exact phrase wins. Otherwise red-flag phrases are searched anywhere (safety first),
    then the longest phrase found as whole words; a negated utterance ("do not stop")
    means nothing rather than its opposite.
    """
    words = normalize(text)
    if not words:
        return None
    exact = PHRASE_TABLE.get(words)
    if exact is not None:
        return exact
    padded = f" {words} "
    for phrase, intent in PHRASE_TABLE.items():
        if intent.red_flag is not None and f" {phrase} " in padded:
            return intent
    if _NEGATIONS.search(words):
        return None
    number = _find_number(words)
    for phrase in _BY_LENGTH:
        if f" {phrase} " in padded:
            intent = PHRASE_TABLE[phrase]
            if intent.number is not None:
                continue  # a number inside a longer sentence is handled below
            if intent.reply is not None:
                continue  # "no" in "no need for a mat" is not an answer
            if intent.command is Command.PAIN and number is not None:
                return Intent(command=Command.PAIN, number=number)
            return intent
    if number is not None:
        return Intent(number=number)
    return None


def _find_number(words: str) -> int | None:
    """The last 0-10 pain level in a sentence ("about a four", "six out of ten" -> 6)."""
    words = re.sub(r"\bout of (10|ten)\b", "", words)
    found: int | None = None
    for word in words.split():
        if word.isdigit() and 0 <= int(word) <= 10:
            found = int(word)
        elif word in NUMBER_WORDS:
            found = NUMBER_WORDS.index(word)
    return found


# ---------------------------------------------------------------- spoken grammar
# The typed table above is generous; a recognizer listens for fewer, acoustically distinct
# phrases, and only for what the player is waiting for (scripts/bench_commands measures it).


class ListenContext(StrEnum):
    """What the player is waiting to hear; each has its own small recognizer grammar."""

    COMMANDS = "commands"
    PAIN_LEVEL = "pain_level"
    PAIN_LOCATION = "pain_location"
    FEELING = "feeling"
    CONFIRM = "confirm"


SPOKEN_SAFETY: Final[tuple[str, ...]] = (
    # Heard in every context: pause, stop, pain, then every red-flag phrase.
    "pause",
    "wait",
    "hold on",
    "hang on",
    "give me a moment",
    "stop",
    "end session",
    "stop the session",
    "that is enough",
    "that hurts",
    "it hurts",
    "this hurts",
    "ouch",
    "pain",
    "that is painful",
    "too much",
    *(phrase for phrases in RED_FLAG_PHRASES.values() for phrase in phrases),
)
"""Safety phrases, in every context (one-syllable "ow", "quit", "hurts" are left out)."""

SPOKEN_COMMANDS: Final[tuple[str, ...]] = (
    # Left out as confusable or too short to tell from other speech: "what", "pardon",
    # "skip", "go on", "last exercise", "harder", "softer", "commands", "done", "shorter",
    # "longer", "quit", "ow", "hurts", "one moment" and every number, location and feeling;
    # measured: "skip this" took "it/this hurts", "talk slower/faster" became "both legs hurt",
    # "undo" took flite awb's "resume" (twice in one session; "go back" is the spoken undo).
    "resume",
    "continue",
    "carry on",
    "keep going",
    "i am ready",
    "next",
    "next exercise",
    "move on",
    "previous",
    "previous exercise",
    "go back",
    "repeat",
    "repeat that",
    "say again",
    "say that again",
    "restart",
    "start over",
    "start again",
    "slower",
    "slow down",
    "count slower",
    "faster",
    "speed up",
    "count faster",
    "shorter holds",
    "less time",
    "longer holds",
    "more time",
    "louder",
    "speak up",
    "volume up",
    "i cannot hear you",
    "quieter",
    "volume down",
    "too loud",
    "speak slower",
    "speak faster",
    "how long",
    "how long left",
    "how much longer",
    "time left",
    "whats next",
    "what comes next",
    "help",
    "what can i say",
    "too easy",
    "make it harder",
    "i am done",
    "all done",
    "finished",
)
"""The commands context's own phrases (SPOKEN_SAFETY is added to every context)."""

SPOKEN_PHRASES: Final[dict[ListenContext, tuple[str, ...]]] = {
    ListenContext.COMMANDS: SPOKEN_COMMANDS,
    ListenContext.PAIN_LEVEL: NUMBER_WORDS,
    ListenContext.PAIN_LOCATION: tuple(p for ps in LOCATION_PHRASES.values() for p in ps),
    ListenContext.FEELING: tuple(p for ps in FEELING_PHRASES.values() for p in ps),
    ListenContext.CONFIRM: ("resume", "continue", "carry on", "keep going", "yes", "no"),
}
"""Per context, the phrases listened for besides SPOKEN_SAFETY."""


def spoken_table(context: ListenContext) -> dict[str, Intent]:
    """A context's spoken phrases and their intents, exactly as `parse` reads them."""
    return phrase_table((*SPOKEN_PHRASES[context], *SPOKEN_SAFETY))


def phrase_table(phrases: Iterable[str]) -> dict[str, Intent]:
    """Phrases (normalized) and their intents, exactly as `parse` reads them: a recognizer
    grammar's table. A phrase that means nothing to `parse` is a ValueError."""
    table: dict[str, Intent] = {}
    for phrase in phrases:
        intent = parse(phrase)
        if intent is None:
            raise ValueError(f"spoken phrase {phrase!r} means nothing to parse()")
        table[normalize(phrase)] = intent
    return table
