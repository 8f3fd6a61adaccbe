"""Standby: always listening, cheaply, for "start", a routine's name, "resume", questions and
"learn my voice"."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from floorcoach.commands import normalize, parse
from floorcoach.content.catalog import Catalog
from floorcoach.session.counting import spoken_minutes
from floorcoach.session.simulate import dry_run

START_WORDS: Final = ("start", "begin", "lets start", "lets begin", "play", "start my")
LIST_PHRASES: Final = (
    "what routines are there",
    "which routines are there",
    "what routines do you have",
    "list routines",
    "what can i do",
)
QUESTION_WORDS: Final = ("what", "which", "how", "when", "should", "can", "do", "is", "are")
STOP_PHRASES: Final = ("goodbye", "good night", "switch off", "shut down")
LEARN_PHRASES: Final = ("learn my voice", "learn my words", "learn how i speak")
"""Enroll by voice from standby (`floorcoach enroll` without a keyboard)."""
QUESTION_SECONDS: Final = 4.0
"""The longest speech standby decodes (a question); longer is conversation, not for us."""
READY_TEXT: Final = "I'm ready when you are. Say start to begin your routine."
HELP_TEXT: Final = (
    "Say start to begin your usual routine, or start and a routine's name. "
    "You can also ask what routines are there, say resume, or ask how am I doing. "
    "If I often miss what you say, say learn my voice."
)
STRUGGLED_NOT_CAUGHT: Final = 2
"""Questions asked again in one session ("Sorry, I didn't catch that") before standby offers
to learn the user's voice: once is a noisy moment, twice a pattern worth a sentence."""
LEARN_OFFER: Final = (
    "I missed some of your answers today. If that keeps happening, say learn my voice, "
    "and I'll learn how you say the commands and the numbers."
)


class StandbyAction(StrEnum):
    """What a standby utterance asks for."""

    START = "start"
    LIST = "list"
    RESUME = "resume"
    PROGRESS = "progress"
    HELP = "help"
    QUESTION = "question"
    LEARN = "learn"
    EXIT = "exit"


@dataclass(frozen=True)
class StandbyRequest:
    """A parsed standby utterance: the action and, for START, the routine (None: the usual)."""

    action: StandbyAction
    routine: str | None = None
    text: str = ""


def routine_names(catalog: Catalog) -> dict[str, str]:
    """Spoken forms of each routine ('core routine', 'strengthening') -> routine id."""
    names: dict[str, str] = {}
    for path in catalog.routine_paths:
        loaded = catalog.find(str(path))
        ident = loaded.routine.id
        names[normalize(ident.replace("-", " "))] = ident
        names[normalize(loaded.routine.name)] = ident
    return names


def parse_standby(text: str, names: dict[str, str]) -> StandbyRequest | None:
    """What a heard or typed line asks standby to do, or None."""
    words = normalize(text)
    if not words:
        return None
    if words in STOP_PHRASES or words in ("exit", "quit"):
        return StandbyRequest(StandbyAction.EXIT, text=text)
    if any(words == p or words.startswith(p + " ") for p in LEARN_PHRASES):
        return StandbyRequest(StandbyAction.LEARN, text=text)
    if any(words == p or words.startswith(p) for p in LIST_PHRASES) or (
        "routines" in words.split() and words.split()[0] in ("what", "which", "list")
    ):
        return StandbyRequest(StandbyAction.LIST, text=text)
    for start in sorted(START_WORDS, key=len, reverse=True):
        if words == start or words.startswith(start + " "):
            rest = words[len(start) :].strip()
            rest = re.sub(r"^(the|my|a)\s+", "", rest)
            rest = re.sub(r"\s+(routine|please)$", "", rest) if rest not in names else rest
            if not rest or rest in ("usual", "usual routine", "routine", "exercises"):
                return StandbyRequest(StandbyAction.START, None, text)
            routine = names.get(rest) or _closest(rest, names)
            if routine is None:
                return StandbyRequest(StandbyAction.HELP, text=text)
            return StandbyRequest(StandbyAction.START, routine, text)
    intent = parse(text)
    if intent is not None:
        if intent.query == "progress":
            return StandbyRequest(StandbyAction.PROGRESS, text=text)
        if intent.command is not None and intent.command.value == "resume":
            return StandbyRequest(StandbyAction.RESUME, text=text)
        if intent.command is not None and intent.command.value == "help":
            return StandbyRequest(StandbyAction.HELP, text=text)
    from floorcoach.content.questions import match_question

    if match_question(text) is not None or words.split()[0] in QUESTION_WORDS:
        return StandbyRequest(StandbyAction.QUESTION, text=text)
    return None


def _closest(words: str, names: dict[str, str]) -> str | None:
    found = difflib.get_close_matches(words, list(names), n=1, cutoff=0.6)
    return names[found[0]] if found else None


def routines_text(catalog: Catalog) -> str:
    """The routines, said aloud with how long each takes."""
    parts = []
    for path in catalog.routine_paths:
        loaded = catalog.find(str(path))
        if loaded.routine.id == "quick-test":
            continue  # a test routine, not one to offer
        minutes = spoken_minutes(dry_run(loaded).total_seconds)
        parts.append(f"{loaded.routine.name.lower()}, {minutes}")
    if not parts:
        return "There are no routines yet."
    return "You can do: " + "; ".join(parts) + "."


def standby_phrases(names: dict[str, str]) -> list[str]:
    """Everything standby listens for, for a recognizer grammar."""
    phrases = ["start", "begin", "start my routine", "resume", "help", "how am i doing"]
    phrases += list(LEARN_PHRASES)
    phrases += [f"start {name}" for name in names]
    phrases += list(LIST_PHRASES)
    return phrases


def listening_phrases(names: dict[str, str]) -> list[str]:
    """Standby's whole spoken grammar: its own requests, the questions, reminder replies."""
    from floorcoach.content.questions import default_book
    from floorcoach.runtime.reminders import REPLY_PHRASES

    phrases = standby_phrases(names) + ["goodbye", "what can i say"]
    phrases += default_book().grammar_phrases()
    phrases += [normalize(p) for replies in REPLY_PHRASES.values() for p in replies]
    return list(dict.fromkeys(normalize(p) for p in phrases))


STANDBY_FIT_RATIO: Final = -0.0025
"""How well a heard phrase must fit its segment against a free phone loop (ln score per
10 ms frame, `GrammarFit.ratio`) before standby acts on it: the command head does not know
standby's phrases, and without a test the grammar forces any talk onto one of them.

The strictest of scripts/bench_standby --sweep's thresholds that lost no request said alone
(recorded AN4 "start" and "help"; 26 of 27 synthetic, as with no test). Recorded talk, per
hour, clean / 20 / 10 dB: sessions or enrollments started 12.1 / 35.0 / 28.2 -> 6.1 / 20.8 /
12.1, spoken replies 171 / 288 / 330 -> 65 / 78 / 112 (BENCHMARKS.md, twenty-first session).
Still too many: see there."""


def make_standby_recognizer(
    engine: str,
    names: dict[str, str],
    fit_ratio: float = STANDBY_FIT_RATIO,
    quiet_seconds: float | None = None,
) -> Any:
    """A recognizer that listens only for what standby understands.

    Each phrase maps to a placeholder intent; standby reads the words themselves, with
    the same `parse_standby` that handles typed lines. In the CONFIRM context it listens
    for the answers to "ready? say yes" (`standby_ready.py`), phrases the command head knows
    and checks. `fit_ratio`: `STANDBY_FIT_RATIO`;
    `quiet_seconds` around a request: `standby_listening.QUIET_SECONDS` (scripts/bench_standby
    --sweep measures others).
    """
    from floorcoach.runtime.standby_listening import QUIET_SECONDS

    if quiet_seconds is None:
        quiet_seconds = QUIET_SECONDS
    from floorcoach.audio.listening.recognizer_factory import make_recognizer
    from floorcoach.commands import Intent, ListenContext
    from floorcoach.runtime.standby_ready import ready_table

    table = {phrase: Intent(query="standby") for phrase in listening_phrases(names)}
    contexts = {ListenContext.COMMANDS: table, ListenContext.CONFIRM: ready_table()}
    probe = make_recognizer(engine)
    if probe.engine == "vosk":
        from floorcoach.audio.listening.vosk_recognizer import VoskRecognizer

        return VoskRecognizer(
            model_path=getattr(probe, "model_path", None),
            contexts=contexts,
        )
    from dataclasses import replace

    from floorcoach.audio.listening.sphinx_config import SphinxConfig
    from floorcoach.audio.listening.vad import VadConfig
    from floorcoach.runtime.standby_listening import SaidAloneRecognizer

    # questions are longer than commands: let a segment run to a sentence's length
    base = SphinxConfig()
    config = replace(
        base,
        max_command_seconds=QUESTION_SECONDS,
        vad=replace(base.vad if base.vad else VadConfig(), max_segment_seconds=QUESTION_SECONDS),
        min_score_ratio=fit_ratio,
        safety_min_score_ratio=fit_ratio,
    )
    return SaidAloneRecognizer(config=config, contexts=contexts, quiet_seconds=quiet_seconds)


class MissedAnswers:
    """Watches a session's records (`run_session`'s `observe`) for questions asked again
    because the answer was not caught, and says whether to offer to learn the user's voice."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, record: dict[str, Any]) -> None:
        if record.get("kind") == "not_caught":
            self.count += 1

    @property
    def struggled(self) -> bool:
        """Enough missed answers to be a pattern (`STRUGGLED_NOT_CAUGHT`)."""
        return self.count >= STRUGGLED_NOT_CAUGHT
