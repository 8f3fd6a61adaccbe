"""Where the user's enrolled phrases live: one JSON file and a WAV of every take.

`$FLOORCOACH_VOICE_DIR`, else `$XDG_DATA_HOME/floorcoach/voice` (usually
`~/.local/share/floorcoach/voice`), beside the history file. `enrollment.json` holds, per
phrase, what it means, when it was enrolled and each take's pooled speech embedding (base64
float32: what the recognizer compares); `takes/` holds the WAVs, for listening to and for
re-computing the embeddings should the summary change. The JSON file is only ever replaced
whole (written beside it, then renamed), so a failure or a power cut leaves the old one.
Loading it costs a few milliseconds; a damaged file is reported and ignored, never fatal.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from floorcoach.audio.listening.few_shot import SUMMARY_DIMS, EnrolledPhrase, FewShot, FewShotRule
from floorcoach.audio.pcm import Pcm, write_wav
from floorcoach.commands import PHRASE_TABLE, Intent, normalize
from floorcoach.errors import FloorcoachError

_LOGGER = logging.getLogger(__name__)

VOICE_DIR_ENV: Final = "FLOORCOACH_VOICE_DIR"
FILE_NAME: Final = "enrollment.json"
TAKES_DIR: Final = "takes"
FORMAT: Final = "floorcoach-enrollment"
VERSION: Final = 1
POOLED: Final = "pool_embeddings-v1"
"""What each take's vector is: command_head.pool_embeddings of the segment's embeddings."""


class EnrollmentError(FloorcoachError):
    """The enrollment file cannot be read or written (the player goes on without it)."""


def voice_dir() -> Path:
    """`$FLOORCOACH_VOICE_DIR`, else `$XDG_DATA_HOME/floorcoach/voice`."""
    env = os.environ.get(VOICE_DIR_ENV)
    if env:
        return Path(env).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "floorcoach" / "voice"


def intent_of(means: str) -> Intent | None:
    """The intent a stored 'means' phrase stands for (an exact phrase of the phrase table)."""
    return PHRASE_TABLE.get(normalize(means))


@dataclass(frozen=True)
class Take:
    """One recording of a phrase: its WAV (relative to the voice dir) and its embedding."""

    wav: str
    speech_seconds: float
    pooled: npt.NDArray[np.float32]


@dataclass(frozen=True)
class PhraseRecord:
    """A phrase as stored: what it means, what is said, when, and its takes."""

    means: str
    """A phrase of the phrase table naming the intent: "pause", "that hurts", "four"."""
    phrase: str
    """What the user says: the same for an enrolled command, their own words when taught."""
    taught: bool
    enrolled_at: str
    takes: tuple[Take, ...] = field(default_factory=tuple)

    @property
    def intent(self) -> Intent:
        """What the phrase means (checked when loaded)."""
        intent = intent_of(self.means)
        if intent is None:
            raise EnrollmentError(f"{self.means!r} is not a command floorcoach knows")
        return intent

    @property
    def key(self) -> tuple[str, str]:
        """A phrase is replaced by a new enrollment of the same words for the same intent."""
        return (normalize(self.means), normalize(self.phrase))


@dataclass(frozen=True)
class Enrollment:
    """Everything enrolled."""

    phrases: tuple[PhraseRecord, ...] = ()

    def few_shot(self, rule: FewShotRule | None = None) -> FewShot:
        """The phrases ready for the recognizer."""
        return FewShot(
            (
                EnrolledPhrase(
                    intent=p.intent,
                    phrase=p.phrase,
                    pooled=np.stack([t.pooled for t in p.takes]),
                    taught=p.taught,
                )
                for p in self.phrases
                if p.takes
            ),
            rule,
        )

    def with_phrase(self, record: PhraseRecord) -> Enrollment:
        """This enrollment with `record` added, replacing the same phrase for the same intent."""
        kept = tuple(p for p in self.phrases if p.key != record.key)
        return replace(self, phrases=(*kept, record))


def now_iso() -> str:
    """Local wall-clock time with its offset, to the second."""
    return datetime.now(UTC).astimezone().isoformat(timespec="seconds")


def _encode(vector: npt.NDArray[np.floating]) -> str:
    return base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode("ascii")


def _decode(text: str, where: str) -> npt.NDArray[np.float32]:
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, AttributeError) as exc:
        raise EnrollmentError(f"{where}: the embedding is not base64 ({exc})") from None
    if len(raw) == 0 or len(raw) % 4:
        raise EnrollmentError(f"{where}: the embedding has {len(raw)} bytes")
    vector = np.frombuffer(raw, dtype="<f4").astype(np.float32)
    if not np.all(np.isfinite(vector)):
        raise EnrollmentError(f"{where}: the embedding holds numbers that are not finite")
    return vector


def to_json(enrollment: Enrollment) -> dict[str, Any]:
    """The file's content."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "pooled": POOLED,
        "phrases": [
            {
                "means": p.means,
                "phrase": p.phrase,
                "taught": p.taught,
                "enrolled_at": p.enrolled_at,
                "takes": [
                    {
                        "wav": t.wav,
                        "speech_seconds": round(t.speech_seconds, 3),
                        "pooled": _encode(t.pooled),
                    }
                    for t in p.takes
                ],
            }
            for p in enrollment.phrases
        ],
    }


def from_json(data: Any, where: str) -> Enrollment:
    """Check and read the file's content; EnrollmentError names what is wrong."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise EnrollmentError(f"{where}: not a floorcoach enrollment file")
    if data.get("version") != VERSION:
        raise EnrollmentError(
            f"{where}: enrollment format version {data.get('version')!r}, this floorcoach "
            f"reads version {VERSION}"
        )
    if data.get("pooled") != POOLED:
        raise EnrollmentError(f"{where}: embeddings of another kind ({data.get('pooled')!r})")
    phrases = data.get("phrases")
    if not isinstance(phrases, list):
        raise EnrollmentError(f"{where}: 'phrases' is not a list")
    out: list[PhraseRecord] = []
    size: int | None = None
    for i, item in enumerate(phrases):
        at = f"{where}: phrase {i + 1}"
        try:
            means = str(item["means"])
            phrase = str(item["phrase"])
            taught = bool(item.get("taught", False))
            enrolled_at = str(item.get("enrolled_at", ""))
            takes_data = item["takes"]
            if not isinstance(takes_data, list):
                raise TypeError("takes is not a list")
            takes = []
            for k, t in enumerate(takes_data):
                vector = _decode(t["pooled"], f"{at} take {k + 1}")
                if size is None:
                    size = len(vector)
                if size < SUMMARY_DIMS:
                    raise EnrollmentError(f"{at} take {k + 1}: only {size} numbers")
                if len(vector) != size:
                    raise EnrollmentError(f"{at} take {k + 1}: {len(vector)} numbers, not {size}")
                takes.append(Take(str(t["wav"]), float(t["speech_seconds"]), vector))
        except (KeyError, TypeError, ValueError) as exc:
            raise EnrollmentError(f"{at}: {exc.__class__.__name__} {exc}") from None
        if intent_of(means) is None:
            raise EnrollmentError(f"{at}: {means!r} is not a command floorcoach knows")
        out.append(PhraseRecord(means, phrase, taught, enrolled_at, tuple(takes)))
    return Enrollment(tuple(out))


class EnrollmentStore:
    """The voice directory: read, replace phrases, reset."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory if directory is not None else voice_dir()

    @property
    def path(self) -> Path:
        """The enrollment file."""
        return self.directory / FILE_NAME

    @property
    def takes_dir(self) -> Path:
        """Where the takes' WAVs go."""
        return self.directory / TAKES_DIR

    def exists(self) -> bool:
        """Whether anything has been enrolled."""
        return self.path.is_file()

    def load(self) -> Enrollment:
        """What is enrolled (empty when nothing is); EnrollmentError when the file is damaged."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return Enrollment()
        except (OSError, UnicodeDecodeError) as exc:
            raise EnrollmentError(f"cannot read {self.path}: {exc}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise EnrollmentError(f"{self.path}: damaged ({exc})") from None
        return from_json(data, str(self.path))

    def save(self, enrollment: Enrollment) -> None:
        """Replace the file whole: a temporary file beside it, flushed, then renamed."""
        self.directory.mkdir(parents=True, exist_ok=True)
        text = json.dumps(to_json(enrollment), indent=1) + "\n"
        fd, tmp_name = tempfile.mkstemp(prefix=f".{FILE_NAME}.", suffix=".tmp", dir=self.directory)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def write_take(self, name: str, pcm: Pcm) -> str:
        """Save a take's audio under takes/ (atomically); returns its path relative to the dir."""
        self.takes_dir.mkdir(parents=True, exist_ok=True)
        final = self.takes_dir / name
        tmp = final.with_name(f".{final.name}.tmp")
        write_wav(tmp, pcm)
        os.replace(tmp, final)
        return f"{TAKES_DIR}/{name}"

    def add(self, record: PhraseRecord) -> Enrollment:
        """Add or replace one phrase, keeping every other; the replaced takes' WAVs go."""
        before = self.load()
        after = before.with_phrase(record)
        self.save(after)
        kept = {t.wav for p in after.phrases for t in p.takes}
        self._remove_wavs(t.wav for p in before.phrases for t in p.takes if t.wav not in kept)
        return after

    def remove(self, keep: Callable[[PhraseRecord], bool]) -> int:
        """Drop the phrases `keep` refuses; returns how many went."""
        before = self.load()
        after = Enrollment(tuple(p for p in before.phrases if keep(p)))
        gone = len(before.phrases) - len(after.phrases)
        if gone:
            self.save(after)
            kept = {t.wav for p in after.phrases for t in p.takes}
            self._remove_wavs(t.wav for p in before.phrases for t in p.takes if t.wav not in kept)
        return gone

    def reset(self) -> bool:
        """Remove every enrollment (file and takes); True when there was something."""
        had = self.path.exists() or self.takes_dir.exists()
        self.path.unlink(missing_ok=True)
        shutil.rmtree(self.takes_dir, ignore_errors=True)
        for stray in self.directory.glob(f".{FILE_NAME}.*.tmp"):
            stray.unlink(missing_ok=True)
        return had

    def set_aside(self) -> Path | None:
        """Move a damaged file out of the way (kept for a bug report); returns where to."""
        if not self.path.exists():
            return None
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        target = self.directory / f"enrollment.damaged-{stamp}.json"
        os.replace(self.path, target)
        return target

    def _remove_wavs(self, names: Iterable[str]) -> None:
        for name in names:
            path = self.directory / name
            if path.parent == self.takes_dir:
                path.unlink(missing_ok=True)


def load_enrolled(
    directory: Path | None = None,
    rule: FewShotRule | None = None,
    warn: Callable[[str], None] | None = None,
) -> FewShot | None:
    """The user's enrolled phrases for the recognizer, or None (nothing, or a damaged file:
    said through `warn`, by default a logged warning, and ignored)."""
    store = EnrollmentStore(directory)
    try:
        enrollment = store.load()
    except EnrollmentError as exc:
        message = (
            f"enrolled phrases not used: {exc}; run 'floorcoach enroll --reset' and enroll again"
        )
        (warn or _LOGGER.warning)(message)
        return None
    few_shot = enrollment.few_shot(rule)
    return few_shot if len(few_shot) else None
