"""Teaching the player the user's own voice: three takes of each key command, checked, stored.

The session is spoken: the player asks for a phrase, listens, checks the take (quiet,
clipped, nothing said, in pieces, too long; after three, one that is not like the others) and
says what was wrong before asking again, a few times at most. Each phrase is stored as soon as
its takes are good (audio/listening/enrollment_store.py), so stopping half-way keeps what was done.
Devices stay behind two small protocols (`Mouth`, `Ears`), so tests drive it with fakes.

It is hands-free to the end: "next" leaves a phrase out and "that's enough" ends the session
(`Steer`; runtime/enroll_steering.py listens to every good take as a command too).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt

from floorcoach.audio.listening.enrollment_store import (
    EnrollmentStore,
    PhraseRecord,
    Take,
    now_iso,
)
from floorcoach.audio.listening.few_shot import odd_take
from floorcoach.audio.listening.take_catcher import Listened
from floorcoach.audio.pcm import RATE_HZ, Pcm
from floorcoach.commands import NUMBER_WORDS, PHRASE_TABLE, normalize

_LOGGER = logging.getLogger(__name__)

KEY_PHRASES: Final[tuple[str, ...]] = (
    "pause",
    "resume",
    "next",
    "stop",
    "that hurts",
    "help",
    *NUMBER_WORDS,
)
"""What `floorcoach enroll` asks for by default: the commands that matter most, and 0-10."""
TAKES: Final = 3
RETRIES: Final = 4
"""Takes asked again per phrase (for any reason) before the phrase is left for another day."""
LISTEN_SECONDS: Final = 6.0
"""How long the player waits for each take after asking."""
SILENT_LISTENS_TO_STOP: Final = 4
"""Prompts in a row that heard nothing at all before the session stops by itself: the user has
gone, or "learn my voice" was heard in someone else's talk. Without it, 17 phrases asked five
times each would talk to an empty room for about 13 minutes."""
NOTHING_HEARD: Final = "I did not hear anything."

QUIET_DB: Final = -45.0
"""A take's speech below this level (dBFS, its loud part) is too quiet (as in mic-test)."""
HEARD_SOMETHING_DB: Final = 6.0
"""No voice segment, but a chunk this far above the background: speech too quiet to catch."""
CLIP_LEVEL: Final = 32_700
CLIPPED_SAMPLES: Final = 16
"""1 ms of samples at full scale in one take: the voice was cut off."""
MAX_TAKE_SECONDS: Final = 3.0
"""The recognizer does not consider longer speech a command (SphinxConfig.max_command_seconds)."""

AGAIN: Final = ("Say {phrase}.", "Again, {phrase}.", "Once more, {phrase}.")
STEERING_HINT: Final = " Say next to leave one out, or that's enough to finish."


class EnrollError(Exception):
    """Enrollment cannot go on (the microphone went away, the file cannot be written)."""


class Mouth(Protocol):
    """Says a sentence and returns once it has been heard (or printed)."""

    def say(self, text: str) -> None: ...


class Ears(Protocol):
    """Listens for one take after the sentence just said."""

    def listen(self, seconds: float) -> Listened: ...


class Steering(StrEnum):
    """What the user can say instead of a take."""

    SKIP = "skip"
    """Leave this phrase out ("next", "move on")."""
    FINISH = "finish"
    """End the session, keeping what is stored ("that's enough", "stop", "end session")."""
    AWAY = "away"
    """Not said: nothing was heard for `SILENT_LISTENS_TO_STOP` prompts; ended as by FINISH."""


@dataclass(frozen=True)
class Item:
    """One phrase to enroll: what it means, what the user says, how to ask for it."""

    means: str
    """A phrase of the phrase table naming the intent ("pause", "four")."""
    phrase: str
    """What the user says; for a taught phrase their own words."""
    taught: bool = False
    ask: str = ""
    """How the prompt names the phrase (default: the phrase itself)."""

    @property
    def spoken(self) -> str:
        return self.ask or self.phrase


Steer = Callable[[Item, npt.NDArray[np.int16]], Steering | None]
"""(the phrase asked for, a good take) -> what the take asks instead, or None: it is a take."""


@dataclass(frozen=True)
class GoodTake:
    """A take that passed the checks."""

    samples: npt.NDArray[np.int16]
    speech_seconds: float


@dataclass
class Report:
    """What a session did."""

    enrolled: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """Every take asked again, and why (for the printed summary)."""
    passed_over: list[str] = field(default_factory=list)
    """Phrases the user skipped, or did not reach after "that's enough"."""
    finished_early: bool = False
    """The user said "that's enough", or stopped answering (`nobody_answered`)."""
    nobody_answered: bool = False


def key_item(phrase: str) -> Item:
    """An enrolled key command: the user says the command's own words."""
    return Item(means=phrase, phrase=phrase)


def taught_item(phrase: str, means: str) -> Item:
    """A phrase of the user's own for a command; empty `phrase`: taught by voice, unnamed."""
    if phrase.strip():
        return Item(means=means, phrase=phrase.strip(), taught=True)
    return Item(
        means=means, phrase=f"own words for {means}", taught=True, ask=f"your words for {means}"
    )


def resolve_phrase(text: str) -> str | None:
    """The phrase-table phrase a command-line word names ("4" -> "four"), or None."""
    words = normalize(text)
    if words.isdigit() and 0 <= int(words) < len(NUMBER_WORDS):
        return NUMBER_WORDS[int(words)]
    return words if words in PHRASE_TABLE else None


def active_level_db(samples: npt.NDArray[np.int16]) -> float:
    """The loud part's level: RMS of the 20 ms frames within 20 dB of the loudest one."""
    frame = RATE_HZ // 50
    n = len(samples) // frame
    if n == 0:
        return -120.0
    x = samples[: n * frame].astype(np.float64).reshape(n, frame)
    x -= x.mean(axis=1, keepdims=True)
    power = (x * x).mean(axis=1) / 32768.0**2
    loud = power[power >= power.max() / 100.0]
    return 10.0 * math.log10(float(loud.mean()) + 1e-20)


def check_take(listened: Listened) -> tuple[GoodTake | None, str | None]:
    """A good take, or a sentence saying what was wrong (to be spoken)."""
    segments = listened.segments
    if listened.still_speaking or any(s.overlong for s in segments):
        return None, "That was too long for a command. Say just the words."
    if not segments:
        if listened.loudest_db - listened.floor_db >= HEARD_SOMETHING_DB:
            return None, "That was too quiet for me. Come a little closer, or speak up."
        return None, NOTHING_HEARD
    if len(segments) > 1:
        return None, "I heard that in pieces. Say it in one go, without a pause."
    segment = segments[0]
    if segment.speech_seconds > MAX_TAKE_SECONDS:
        return None, "That was too long for a command. Say just the words."
    if int((np.abs(segment.samples.astype(np.int32)) >= CLIP_LEVEL).sum()) >= CLIPPED_SAMPLES:
        return None, "That was too loud, and the sound was cut off. Move back a little."
    if active_level_db(segment.samples) < QUIET_DB:
        return None, "That was very quiet. Come a little closer, or speak up."
    return GoodTake(segment.samples.copy(), segment.speech_seconds), None


def ordinal(index: int) -> str:
    return ("first", "second", "third", "fourth", "fifth")[min(index, 4)]


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", normalize(text)).strip("-") or "phrase"


Embed = Callable[[npt.NDArray[np.int16]], npt.NDArray[np.float32]]
"""Samples of a take -> its pooled speech embedding (command_head.pool_embeddings)."""


def default_embed(samples: npt.NDArray[np.int16]) -> npt.NDArray[np.float32]:
    """The recognizer's own: Google's speech embedding, pooled."""
    from floorcoach.audio.listening.command_head import pool_embeddings
    from floorcoach.audio.listening.speech_embedding import shared_embedder

    return pool_embeddings(shared_embedder().embed(samples))


class EnrollSession:
    """Asks for each phrase three times, checks the takes, stores each phrase when done."""

    def __init__(
        self,
        mouth: Mouth,
        ears: Ears,
        store: EnrollmentStore,
        *,
        embed: Embed = default_embed,
        note: Callable[[str], None] = print,
        listen_seconds: float = LISTEN_SECONDS,
        steer: Steer | None = None,
    ) -> None:
        self.mouth = mouth
        self.ears = ears
        self.store = store
        self.embed = embed
        self.note = note
        self.listen_seconds = listen_seconds
        self.steer = steer
        """Hears "next" and "that's enough" in the takes; None: every good take is a take."""
        self._silent_in_a_row = 0

    def run(self, items: Sequence[Item], intro: bool = True) -> Report:
        """Enroll every item in turn; returns what was enrolled and what was left."""
        report = Report()
        self._silent_in_a_row = 0
        if intro:
            count = f"{len(items)} phrases" if len(items) != 1 else "one phrase"
            self.mouth.say(
                f"Let's learn your voice: {count}, three times each. Say each after I ask."
                + (STEERING_HINT if self.steer else "")
            )
        for index, item in enumerate(items):
            takes = self.collect(item, report)
            if takes is Steering.FINISH or takes is Steering.AWAY:
                report.finished_early = True
                report.nobody_answered = takes is Steering.AWAY
                report.passed_over += [i.phrase for i in items[index:]]
                break
            if takes is Steering.SKIP:
                report.passed_over.append(item.phrase)
                self.mouth.say(f"All right, I'll leave {item.spoken} out.")
                continue
            if takes is None:
                report.skipped.append(item.phrase)
                self.mouth.say(f"Let's leave {item.spoken} for another day.")
                continue
            self.save(item, takes)
            report.enrolled.append(item.phrase)
        if report.finished_early:
            kept = len(report.enrolled)
            what = "nothing new" if kept == 0 else f"{kept} phrase{'s' if kept != 1 else ''}"
            if report.nobody_answered:
                self.mouth.say(f"I haven't heard you for a while, so I'll stop. I kept {what}.")
            else:
                self.mouth.say(f"All right, we'll stop there. I kept {what}.")
        elif intro:
            complete = not report.skipped and not report.passed_over
            done = "All done." if complete else "That's all for now."
            self.mouth.say(f"{done} I will listen for your voice from the next session.")
        return report

    def collect(self, item: Item, report: Report) -> list[GoodTake] | Steering | None:
        """Three good takes that are like each other, None after too many retries, or what
        the user said instead of a take ("next", "that's enough"; AWAY: nothing heard for a
        while)."""
        retries = 0
        takes: list[GoodTake] = []
        prompt = (
            f"Now your own words for {item.means}. Say {item.spoken}."
            if item.taught
            else AGAIN[0].format(phrase=item.spoken)
        )
        replace_at: int | None = None
        while True:
            self.mouth.say(prompt)
            take, problem = check_take(self.ears.listen(self.listen_seconds))
            self._silent_in_a_row = self._silent_in_a_row + 1 if problem == NOTHING_HEARD else 0
            if self._silent_in_a_row >= SILENT_LISTENS_TO_STOP:
                self.note(f"{item.phrase}: nothing heard {self._silent_in_a_row} times in a row")
                return Steering.AWAY
            if take is None:
                assert problem is not None
                retries += 1
                report.problems.append(f"{item.phrase}: {problem}")
                self.note(f"{item.phrase}: {problem}")
                if retries > RETRIES:
                    return None
                prompt = f"{problem} Say {item.spoken} again."
                continue
            steering = self.steer(item, take.samples) if self.steer is not None else None
            if steering is not None:
                self.note(f"{item.phrase}: heard {steering.value}")
                return steering
            if replace_at is not None:
                takes[replace_at] = take
                replace_at = None
            else:
                takes.append(take)
            if len(takes) < TAKES:
                prompt = AGAIN[len(takes)].format(phrase=item.spoken)
                continue
            odd = odd_take(
                [self.embed(t.samples) for t in takes], [t.speech_seconds for t in takes]
            )
            if odd is None:
                return takes
            retries += 1
            why = f"The {ordinal(odd.index)} one {odd.why}."
            report.problems.append(f"{item.phrase}: {why}")
            self.note(f"{item.phrase}: {why}")
            if retries > RETRIES:
                return None
            replace_at = odd.index
            prompt = f"{why} Say {item.spoken} once more."

    def save(self, item: Item, takes: list[GoodTake]) -> PhraseRecord:
        """Write the takes' WAVs, then the phrase into the enrollment file (replacing it)."""
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        stored = []
        for k, take in enumerate(takes, start=1):
            name = f"{slug(item.phrase)}-{stamp}-{k}.wav"
            wav = self.store.write_take(name, Pcm(take.samples))
            stored.append(Take(wav, take.speech_seconds, self.embed(take.samples)))
        record = PhraseRecord(item.means, item.phrase, item.taught, now_iso(), tuple(stored))
        self.store.add(record)
        self.mouth.say("Got it.")
        return record


def segment_takes(
    recordings: Sequence[npt.NDArray[np.int16]],
) -> tuple[list[GoodTake], list[str]]:
    """Takes from recordings (one take each, with some quiet around it), checked the same way."""
    from floorcoach.audio.listening.sphinx_config import SphinxConfig
    from floorcoach.audio.listening.vad import level_db, segment_all

    config = SphinxConfig().vad
    good: list[GoodTake] = []
    problems: list[str] = []
    for i, samples in enumerate(recordings, start=1):
        segments = [s for s in segment_all(samples, config) if s.speech_seconds > 0]
        chunks = (samples[k : k + 320] for k in range(0, len(samples), 320))
        loudest = max((level_db(chunk) for chunk in chunks), default=-120.0)
        floor = min((s.floor_db for s in segments), default=-90.0)
        take, problem = check_take(Listened(tuple(segments), loudest, floor))
        if take is None:
            problems.append(f"recording {i}: {problem}")
        else:
            good.append(take)
    return good, problems
