"""Not hearing itself: what the microphone picks up while the player speaks is judged here.

The player knows exactly what it is saying and when (the speaker reports when sound left
it), so a command recognized over its own voice is dropped when its words are the player's
own, and otherwise only barge-in commands (pause, stop, that hurts, red flags) are taken
while it speaks, with a stricter confidence. Sound far louder than the player's measured
echo is a person's, own words or not (CLEARLY_THE_USER_DB). One gate serves the live
listener (monotonic seconds) and the audio-clock simulation (session seconds): only the time
base differs.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from floorcoach.commands import NUMBER_WORDS, Command, Intent, normalize

BARGE_IN: Final = frozenset({Command.PAUSE, Command.STOP, Command.PAIN})
"""Commands that must get through while the player is talking."""
TAIL_SECONDS: Final = 0.35
"""Room echo and recognizer segment edges: speech ending this soon after still counts."""
KEEP_SECONDS: Final = 30.0
FRAME_SECONDS: Final = 0.01
ECHO_MARGIN_DB: Final = 6.0
"""Over the player's voice, a command's audio must be this much louder than its echo."""
CLEARLY_THE_USER_DB: Final = 20.0
"""With this much more sound than the player's echo explains, a person said it: the player's
own words are then taken ("Say resume when you're ready." answered "resume" before it ended),
and "resume" joins the barge-in commands. After WebRTC's canceller the echo left is 23-38 dB
below the player (BENCHMARKS.md), so a word said as loud as the player clears this; with no
canceller (a learned echo about 10 dB down) a command that quiet never gets through this way.
Other commands stay out over the player's voice even then: on the echo captures, letting them
through turned users' misheard "stop"s into "restart" and "finished"."""
CLEAR_BARGE_IN: Final = frozenset({Command.RESUME})
"""Taken over the player's voice too, when clearly the user's (resuming is what was asked)."""
ALIGN_SECONDS: Final = 0.25
"""How far the echo may lag what was played (output latency plus the room)."""
WORD_TIMING_SLACK_SECONDS: Final = 0.4
"""How far a word may be from where its share of the sentence's letters places it in time
(`echo_words`)."""
LEARN_WINDOW_FRAMES: Final = 50
"""The echo level is learned per half second (50 frames of 10 ms), then the median taken."""
DEFAULT_ECHO_RATIO: Final = 0.5
"""Echo energy / played energy assumed until measured: a speaker close to the microphone."""
_MIN_REFERENCE_ENERGY: Final = 1e-6
UNCLEAR_PAST_PLAYER_SECONDS: Final = 0.3
"""Words the recognizer could not place that began over the player are still the user's when
they run on this long past the player's speech and its echo's tail: an echo ends with its
tail, and people often start answering a question before it ends."""


class LevelTrack:
    """Energy per 10 ms frame against time: what the microphone heard, or what was played."""

    def __init__(self, keep_seconds: float = 120.0) -> None:
        self._frames: OrderedDict[int, float] = OrderedDict()
        self._keep = round(keep_seconds / FRAME_SECONDS)
        self._lock = threading.Lock()

    def add(self, start: float, samples: npt.NDArray[np.floating], rate_hz: int) -> None:
        """Add audio that began at `start` (mixing adds energy, as sound does)."""
        per_frame = max(1, round(rate_hz * FRAME_SECONDS))
        whole = len(samples) // per_frame * per_frame
        if whole == 0:
            return
        data = np.asarray(samples[:whole], dtype=np.float64)
        energies = (data.reshape(-1, per_frame) ** 2).mean(axis=1)
        first = round(start / FRAME_SECONDS)
        with self._lock:
            for offset, energy in enumerate(energies):
                index = first + offset
                self._frames[index] = self._frames.get(index, 0.0) + float(energy)
            while len(self._frames) > self._keep:
                self._frames.popitem(last=False)

    def silence_after(self, at: float) -> None:
        """What was scheduled after `at` never sounded (speech cut short)."""
        cut = round(at / FRAME_SECONDS)
        with self._lock:
            for index in [i for i in self._frames if i >= cut]:
                del self._frames[index]

    def energy(self, start: float, end: float) -> float:
        """Mean energy between two times (0 where nothing was recorded)."""
        first, last = round(start / FRAME_SECONDS), max(round(end / FRAME_SECONDS), 1)
        last = max(last, first + 1)
        with self._lock:
            total = sum(self._frames.get(i, 0.0) for i in range(first, last))
        return total / (last - first)

    def frames(self, start: float, end: float) -> list[float]:
        """Per-frame energies between two times (as many frames for any two equal spans)."""
        first = round(start / FRAME_SECONDS)
        count = round((end - start) / FRAME_SECONDS)
        with self._lock:
            return [self._frames.get(i, 0.0) for i in range(first, first + count)]


@dataclass(frozen=True)
class PlayerSpeech:
    """The player sounded `text` between `start` and `end` (in the gate's time base)."""

    start: float
    end: float
    text: str


def _words(text: str) -> set[str]:
    """Words as a recognizer would write them ("10" is "ten", "it's" is "it is")."""
    return set(_word_list(text))


def _word_list(text: str) -> list[str]:
    """`_words` in the order said."""
    words = normalize(text).split()
    return [NUMBER_WORDS[int(w)] if w.isdigit() and int(w) <= 10 else w for w in words]


def echo_words(speech: PlayerSpeech, start: float) -> set[str]:
    """The player's words whose echo a stretch beginning at `start` could hold.

    Over its speech, all of them. A stretch that begins only as its speech ends (later than
    ALIGN_SECONDS before the end) can hold the echo of its last moments alone: the words it
    sounded from ALIGN_SECONDS + WORD_TIMING_SLACK_SECONDS before `start`, each placed in
    time by its share of the sentence's letters. Why: "Say stop again to end the session, or
    resume to carry on." answered "stop" 0.2 s after it ended was dropped as the player's own
    words, and the session carried on (the audio-clock simulation, and live).
    """
    if start < speech.end - ALIGN_SECONDS:
        return _words(speech.text)
    since = start - ALIGN_SECONDS - WORD_TIMING_SLACK_SECONDS
    words = _word_list(speech.text)
    letters = [len(word) + 1 for word in words]  # a space's worth of time after each
    total = sum(letters)
    seconds = speech.end - speech.start
    kept: set[str] = set()
    done = 0
    for word, length in zip(words, letters, strict=True):
        done += length
        if speech.start + seconds * done / total >= since:  # the word ends after `since`
            kept.add(word)
    return kept


class EchoGate:
    """Decides whether something heard is the user or the player's own voice."""

    def __init__(
        self,
        source: Callable[[], list[PlayerSpeech]] | None = None,
        *,
        tail_seconds: float = TAIL_SECONDS,
        barge_in_min_confidence: float = 0.0,
        mic: LevelTrack | None = None,
        played: LevelTrack | None = None,
        echo_margin_db: float = ECHO_MARGIN_DB,
    ) -> None:
        self._source = source
        self.mic = mic
        self.played = played
        self._margin = 10 ** (echo_margin_db / 10)
        self._clear_margin = 10 ** (CLEARLY_THE_USER_DB / 10)
        self.echo_ratio = DEFAULT_ECHO_RATIO
        self._learned = 0
        self._tail = tail_seconds
        self._min_confidence = barge_in_min_confidence
        self._noted: list[PlayerSpeech] = []
        self._lock = threading.Lock()
        self.ignored = 0

    def note(self, start: float, end: float, text: str) -> None:
        """The player will sound `text` from start to end."""
        with self._lock:
            self._noted = [p for p in self._noted if p.end > start - KEEP_SECONDS]
            self._noted.append(PlayerSpeech(start, end, text))

    def cut(self, at: float) -> None:
        """Everything the player was saying stopped at `at`."""
        with self._lock:
            self._noted = [
                PlayerSpeech(p.start, min(p.end, at), p.text) for p in self._noted if p.start < at
            ]

    def speech(self) -> list[PlayerSpeech]:
        with self._lock:
            noted = list(self._noted)
        return noted + (self._source() if self._source is not None else [])

    def talking(self, start: float, end: float) -> bool:
        """Whether the player's speech overlaps this stretch (with the echo's tail)."""
        return bool(self._overlapping(start, end))

    def users_unclear(self, start: float, end: float) -> bool:
        """Whether unclear words (ones the recognizer could not place) are the user's, to be
        asked again about: said while the player was silent, or running on past the player's
        speech and its echo. Over the player they may be its own echo, or the user's words
        torn by the canceller, which is nothing to ask again for."""
        overlapping = self._overlapping(start, end)
        if not overlapping:
            return True
        return end >= max(p.end for p in overlapping) + self._tail + UNCLEAR_PAST_PLAYER_SECONDS

    def _overlapping(self, start: float, end: float) -> list[PlayerSpeech]:
        return [p for p in self.speech() if start < p.end + self._tail and end > p.start]

    def verdict(
        self,
        start: float,
        end: float,
        intent: Intent,
        text: str,
        confidence: float = 1.0,
        *,
        answer_expected: bool = False,
    ) -> str | None:
        """Why this should be ignored as the player's own voice, or None to accept it.

        `answer_expected`: the player has just asked a question (how bad, where), so an
        answer may overlap the end of the question, as people's answers do.
        """
        overlapping = self._overlapping(start, end)
        if not overlapping:
            return None
        spoken: set[str] = set()
        for speech in overlapping:
            spoken |= echo_words(speech, start)
        reason: str | None = None
        clearly_the_user = self._clearly_the_user(start, end) or self._past_its_echo(
            start, end, overlapping
        )
        allowed = BARGE_IN | CLEAR_BARGE_IN if clearly_the_user else BARGE_IN
        if _words(text) <= spoken and not clearly_the_user:
            reason = "the player's own words"
        elif (
            intent.command not in allowed
            and intent.red_flag is None
            and not (answer_expected and intent.command is None)
        ):
            reason = "only pause, stop, pain and red flags are taken while the player speaks"
        elif confidence < self._min_confidence:
            reason = "too unsure over the player's voice"
        else:
            reason = self._double_talk(start, end)
        if reason is not None:
            self.ignored += 1
        return reason

    def _clearly_the_user(self, start: float, end: float) -> bool:
        """Whether the microphone heard far more than the echo explains (needs both tracks)."""
        if self.mic is None or self.played is None or self._learned == 0:
            return False
        played = self._played_energy(self.played, start, end)
        if played < _MIN_REFERENCE_ENERGY:
            return False
        return self.mic.energy(start, end) >= self._clear_margin * self.echo_ratio * played

    def _past_its_echo(self, start: float, end: float, overlapping: list[PlayerSpeech]) -> bool:
        """Whether a stretch that begins as the player's speech ends holds sound where nothing
        it played could echo (needs both tracks, and the played one holding that speech).

        The player's sentence ends in its clip's trailing silence, so a stretch begun just
        after its last word has no played sound to compare with, and `_clearly_the_user`
        cannot tell; the own-words rule then dropped "ten" said 0.2 s after "How bad is it,
        from 0 to 10?", and the level was taken as 5 (the audio-clock simulation).
        """
        if self.mic is None or self.played is None:
            return False
        for speech in overlapping:
            if start < speech.end - ALIGN_SECONDS:
                return False  # over its speech
            if self.played.energy(speech.start, speech.end) < _MIN_REFERENCE_ENERGY:
                return False  # nothing of it on the played track: cannot tell
        if self._played_energy(self.played, start, end) >= _MIN_REFERENCE_ENERGY:
            return False
        return self.mic.energy(start, end) >= _MIN_REFERENCE_ENERGY

    @staticmethod
    def _played_energy(played: LevelTrack, start: float, end: float) -> float:
        """What the player sounded that could echo into this stretch (the echo lags it)."""
        return max(
            played.energy(start - lag, end - lag)
            for lag in np.arange(0.0, ALIGN_SECONDS + 1e-9, 0.05)
        )

    def _double_talk(self, start: float, end: float) -> str | None:
        """Is there more sound than the player's echo explains? (None: yes, a user spoke.)"""
        if self.mic is None or self.played is None:
            return None
        heard = self.mic.energy(start, end)
        played = self._played_energy(self.played, start, end)
        if played < _MIN_REFERENCE_ENERGY:
            return None
        echo = self.echo_ratio * played
        if heard >= self._margin * echo:
            return None
        margin_db = 10 * math.log10(max(heard, 1e-12) / max(echo, 1e-12))
        return f"no louder than the player's own echo ({margin_db:+.1f} dB)"

    def learn_echo(self, start: float, end: float) -> bool:
        """Measure echo / played energy over a stretch where nothing was recognized.

        Energy sums over half a second care little how late the echo arrives; the quietest
        frames give the noise floor to take away. The estimate is the median half-second, so
        a user who spoke in a few of them (a command the recognizer turned down, a bystander)
        does not teach the gate that the echo is loud and so hide the next command. Returns
        whether an estimate was made.
        """
        if self.mic is None or self.played is None:
            return False
        self.speech()  # a pull source fills the played track as it is asked
        heard = self.mic.frames(start, end)
        played = self.played.frames(start - ALIGN_SECONDS / 2, end - ALIGN_SECONDS / 2)
        if len(heard) < 100 or sum(1 for p in played if p > 1e-5) < len(played) // 2:
            return False
        # the microphone's own noise: what it hears in the player's pauses (if any)
        pauses = [h for h, p in zip(heard, played, strict=True) if p <= 1e-7]
        floor = float(np.percentile(pauses, 50)) if len(pauses) >= 10 else 0.0
        per = LEARN_WINDOW_FRAMES
        count = len(heard) // per
        heard_w = np.asarray(heard[: count * per]).reshape(count, per).mean(axis=1) - floor
        played_w = np.asarray(played[: count * per]).reshape(count, per).mean(axis=1)
        sounding = played_w > 1e-5
        if not np.any(sounding):
            return False
        estimate = float(np.median(np.maximum(heard_w[sounding], 0.0) / played_w[sounding]))
        self.echo_ratio = estimate if self._learned == 0 else 0.7 * self.echo_ratio + 0.3 * estimate
        self._learned += 1
        return True


def over_player_table(
    table: dict[str, Intent], without: frozenset[str] = frozenset()
) -> dict[str, Intent]:
    """The phrases of a table that the echo gate takes while the player talks: pause, stop,
    pain, resume (when clearly the user's) and red flags (self_voice.BARGE_IN), except those
    left out (`SphinxConfig.over_player_without`)."""
    counts = BARGE_IN | CLEAR_BARGE_IN
    return {
        p: i
        for p, i in table.items()
        if (i.command in counts or i.red_flag is not None) and p not in without
    }


def taken_on_a_second_look(intent: Intent) -> bool:
    """Pause, stop and pain (BARGE_IN), and answers to the player's questions (a
    number, where it hurts): an answer often starts before its question ends. Not red flags
    or other commands: a torn "stop" read again was once "foot drop"."""
    return intent.command in BARGE_IN or intent.number is not None or intent.location is not None
