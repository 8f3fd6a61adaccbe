"""Recorded people (../shared/speech): stream loading, the speaker split and scoring rules.

Shared by scripts/bench_commands --human and by training or tuning scripts, so that a model is
tuned on the `tune` speakers and reported on the `check` speakers of one fixed split.

- `speaker_split(speaker)` -> "tune" | "check": a stable hash of the speaker's group (about
  60 % tune, 40 % check). Groups: AMI meeting participants are one group (excerpts share
  talkers); unidentified crowd-sourced speakers are grouped by source (all Picovoice coffee
  orders together, each wake-word keyword together), in human-dev and human-negatives alike.
- `load_labelled_streams(dir, split)`: the labelled human-dev streams (commands, numbers,
  noncommand) with only the split's speakers' events and stretches to score.
- `negatives_stream(dir, split, snr, seed, shard, shards)`: human-negatives utterances of the
  split, each brought to one speech level, joined by 1.0-2.5 s pauses made of the clips' own
  background, with pink noise at `snr` dB below the speech level.
- `match_events`, `false_commands`, `is_consequential`: the README's scoring rules.

Nothing here imports the recognizer: numpy, floorcoach.audio.pcm (WAV reading) and the
noise helpers of tests/speech_fixtures.py.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt

REPO: Final = Path(__file__).resolve().parent.parent
for _path in (REPO / "src", REPO / "tests"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from floorcoach.audio.pcm import RATE_HZ, read_wav  # noqa: E402
from speech_fixtures import pink_noise, to_int16  # noqa: E402

Split = Literal["tune", "check", "all"]
SPLITS: Final[tuple[str, ...]] = ("tune", "check", "all")
DEFAULT_DIR: Final = REPO.parent / "shared" / "speech"
"""../shared/speech relative to the repository: holds human-dev/ and human-negatives/."""
TUNE_PERCENT: Final = 60
SPLIT_SALT: Final = "floorcoach speaker split v13"
"""Changing the salt or the percentage changes every split: do not, once a model is tuned.

Chosen once (2026-11-30) as the first of "... v1", "... v2", ... for which 55-65 % of the
labelled commands and of the negatives' seconds fall in `tune` and the two telephone-band
digit speakers land on different sides (v1 put all 20 telephone-band digits in `tune` and
left `check` 10 of the 54 labelled commands). Only the balance was looked at, no scores."""

BEFORE_S: Final = 0.5
AFTER_S: Final = 1.5
"""A command is right when reported with a start between BEFORE_S before the labelled start
and AFTER_S after the labelled end (human-dev/README.md)."""
CONSEQUENTIAL: Final[frozenset[str]] = frozenset({"stop", "next", "previous", "restart"})
"""Commands whose false acceptance changes or ends the session; red flags count as well."""

SPEECH_LEVEL_DB: Final = -20.0
"""Negatives are brought to this active speech level (dBFS), as the human-dev streams are."""
PAUSE_S: Final = (1.0, 2.5)
LEAD_S: Final = 1.0
SHARD_SECONDS: Final = 300.0
"""negatives_shards(): about this much speech per shard, so workers share the work."""

KIND_CONTEXT: Final[dict[str, str]] = {
    "commands": "commands",
    "numbers": "pain_level",
    "noncommand": "commands",
}
"""The listening context each kind of stream is scored in."""


# --- the speaker split ---------------------------------------------------------------------


def speaker_group(speaker: str) -> str:
    """The unit the split keeps together (see the module docstring)."""
    if speaker.startswith("ami-"):
        return "ami"
    if speaker.startswith("unknown (pv-coffee"):
        return "unknown (pv-coffee)"
    return speaker


def speaker_split(speaker: str) -> Literal["tune", "check"]:
    """'tune' for about 60 % of speaker groups, 'check' for the rest; stable across runs."""
    digest = hashlib.sha256(f"{SPLIT_SALT}|{speaker_group(speaker)}".encode()).hexdigest()
    return "tune" if int(digest[:8], 16) % 100 < TUNE_PERCENT else "check"


def in_split(speaker: str, split: str) -> bool:
    """Whether a speaker belongs to `split` ('all' holds everyone)."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    return split == "all" or speaker_split(speaker) == split


def dev_speaker(entry: dict[str, Any]) -> str:
    """A human-dev manifest entry's speaker, with 'unknown' named by its crowd source."""
    speaker = str(entry.get("speaker") or "unknown")
    if speaker != "unknown":
        return speaker
    parts = Path(str(entry.get("file", ""))).parts  # clips/<source>/[<word>/]<file>
    if len(parts) >= 3 and parts[1] == "wakeword":
        return f"unknown (pv-ww-{parts[2]})"
    if len(parts) >= 2 and parts[1] == "coffee_orders":
        return "unknown (pv-coffee)"
    return f"unknown ({parts[1] if len(parts) >= 2 else 'dev'})"


# --- streams --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """One labelled command in a stream: what should be reported, and when it was said."""

    expected: str
    """The Intent value to be reported: "stop", "help", "repeat", or "0".."10"."""
    start: float
    end: float
    speaker: str = ""
    phrase: str = ""
    clip: str = ""


@dataclass(frozen=True)
class Region:
    """A stretch of a stream that belongs to one speaker (non-command streams)."""

    start: float
    end: float
    speaker: str
    clip: str = ""


@dataclass(eq=False)
class HumanStream:
    """A stream to score: where its audio is, what to expect, which parts count."""

    name: str
    kind: str
    """'commands', 'numbers', 'noncommand' (human-dev) or 'negatives' (human-negatives)."""
    snr: float | None
    duration: float
    events: list[Event] = field(default_factory=list)
    """The split's labelled commands (empty for non-command streams)."""
    regions: list[Region] = field(default_factory=list)
    """The split's stretches of a non-command stream: false commands are counted in these."""
    path: Path | None = None
    samples: npt.NDArray[np.int16] | None = None

    @property
    def context(self) -> str:
        """The ListenContext value this stream is scored in."""
        return KIND_CONTEXT.get(self.kind, "commands")

    @property
    def snr_label(self) -> str:
        return snr_label(self.snr)

    @property
    def scored_seconds(self) -> float:
        """Audio seconds that count for false commands per hour."""
        return sum(r.end - r.start for r in self.regions)

    def audio(self) -> npt.NDArray[np.int16]:
        """16 kHz mono int16 samples (read from `path` when not held in memory)."""
        if self.samples is not None:
            return self.samples
        if self.path is None:
            raise ValueError(f"{self.name}: no audio")
        return read_wav(self.path).samples


def snr_label(snr: float | None) -> str:
    """'clean', '20dB', '10dB'."""
    return "clean" if snr is None else f"{snr:g}dB"


def dev_dir(human_dir: Path) -> Path:
    """human-dev itself, given it or the folder that holds it."""
    return human_dir if (human_dir / "labels.json").is_file() else human_dir / "human-dev"


def negatives_dir(human_dir: Path) -> Path:
    """human-negatives itself, given it or the folder that holds it."""
    if (human_dir / "manifest.json").is_file() and not (human_dir / "labels.json").is_file():
        return human_dir
    return human_dir / "human-negatives"


def missing_data(human_dir: Path) -> list[Path]:
    """The files a --human benchmark needs that are not there."""
    want = [dev_dir(human_dir) / "labels.json", negatives_dir(human_dir) / "manifest.json"]
    return [p for p in want if not p.is_file()]


def load_labelled_streams(
    human_dir: Path,
    split: str = "all",
    kinds: Iterable[str] = ("commands", "numbers", "noncommand"),
    cache: Path | None = None,
) -> list[HumanStream]:
    """The human-dev streams of `kinds` (labels.json), keeping only the split's speakers.

    Labelled events of other speakers are dropped. A non-command stream has no per-clip
    labels; for a tune/check split its clips are found in the clean stream (they are
    embedded sample for sample) and the stream is cut at the middle of each pause, so each
    stretch belongs to one speaker. With `cache` the clip positions are kept there.
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    root = dev_dir(human_dir)
    wanted = set(kinds)
    out: list[HumanStream] = []
    for entry in json.loads((root / "labels.json").read_text()):
        kind = entry["kind"]
        if kind not in wanted:
            continue
        snr = None if entry.get("snr") is None else float(entry["snr"])
        stream = HumanStream(
            name=Path(entry["file"]).stem,
            kind=kind,
            snr=snr,
            duration=float(entry["duration"]),
            path=root / entry["file"],
        )
        for e in entry.get("events", []):
            if in_split(str(e.get("speaker", "")), split):
                stream.events.append(
                    Event(
                        expected=str(e["command"]),
                        start=float(e["start"]),
                        end=float(e["end"]),
                        speaker=str(e.get("speaker", "")),
                        phrase=str(e.get("phrase", "")),
                        clip=str(e.get("clip", "")),
                    )
                )
        if kind == "noncommand":
            if split == "all":
                stream.regions = [Region(0.0, stream.duration, "*")]
            else:
                regions = _noncommand_regions(root, entry["file"], stream.duration, cache)
                stream.regions = [r for r in regions if in_split(r.speaker, split)]
        out.append(stream)
    return out


def _clean_name(file: str) -> str:
    stem = Path(file).stem
    for suffix in ("_clean", "_20db", "_10db", "_5db"):
        if stem.endswith(suffix):
            return stem[: -len(suffix)] + "_clean.wav"
    return Path(file).name


def _noncommand_regions(root: Path, file: str, duration: float, cache: Path | None) -> list[Region]:
    """Each clip's stretch of a non-command stream, cut at the middle of the pauses."""
    clean = root / _clean_name(file)
    key = f"v2|{clean.name}|{clean.stat().st_size}|{int(clean.stat().st_mtime)}"
    cache_file = cache / "human-noncommand-spans.json" if cache is not None else None
    spans: list[list[Any]] | None = None
    if cache_file is not None and cache_file.is_file():
        stored = json.loads(cache_file.read_text())
        spans = stored.get(key)
    if spans is None:
        spans = [[a, b, s, c] for a, b, s, c in locate_clips(root, clean)]
        if cache_file is not None:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            stored = json.loads(cache_file.read_text()) if cache_file.is_file() else {}
            stored[key] = spans
            cache_file.write_text(json.dumps(stored))
    located = [(float(a), float(b), str(s), str(c)) for a, b, s, c in spans]
    return regions_from_spans(located, duration)


def regions_from_spans(
    spans: Sequence[tuple[float, float, str, str]], duration: float
) -> list[Region]:
    """Cut [0, duration] at the middle between consecutive spans; the stretches are theirs."""
    spans = sorted(spans)
    regions: list[Region] = []
    for i, (start, end, speaker, clip) in enumerate(spans):
        lo = 0.0 if i == 0 else (spans[i - 1][1] + start) / 2
        hi = duration if i == len(spans) - 1 else (end + spans[i + 1][0]) / 2
        regions.append(Region(lo, max(lo, hi), speaker, clip))
    return regions


def locate_clips(root: Path, stream_path: Path) -> list[tuple[float, float, str, str]]:
    """Where the manifest's clips sit in a stream: (start, end, speaker, clip) of each clip
    found sample for sample (normalized correlation >= 0.95 at the full rate, after a search
    on a 4 kHz copy for speed)."""
    manifest = json.loads((root / "manifest.json").read_text())
    step = 4
    full = read_wav(stream_path).samples.astype(np.float64)
    x = _decimate(full, step)
    n_fft = 1 << math.ceil(math.log2(len(x) + 1))
    spectrum = np.fft.rfft(x, n_fft)
    energy = np.concatenate([[0.0], np.cumsum(x * x)])
    found: list[tuple[float, float, str, str]] = []
    taken: list[tuple[float, float]] = []
    for entry in manifest:
        samples = read_wav(root / entry["file"]).samples.astype(np.float64)
        clip = _decimate(samples, step)
        if len(clip) >= len(x) or not np.any(clip):
            continue
        corr = np.fft.irfft(spectrum * np.conj(np.fft.rfft(clip, n_fft)), n_fft)
        corr = corr[: len(x) - len(clip) + 1]
        window = energy[len(clip) :] - energy[: len(x) - len(clip) + 1]
        norm = corr / np.sqrt(np.maximum(window, 1e-9) * float(np.sum(clip * clip)))
        k = int(np.argmax(norm))
        if norm[k] < 0.5:  # the coarse copy loses up to half a sample of 4 kHz alignment
            continue
        best, at = _refine(full, samples, k * step, step)
        if best < 0.95:
            continue
        start, end = at / RATE_HZ, (at + len(samples)) / RATE_HZ
        if any(a < end and start < b for a, b in taken):
            continue
        taken.append((start, end))
        found.append((start, end, dev_speaker(entry), str(entry["file"])))
    return sorted(found)


def _refine(
    full: npt.NDArray[np.float64], clip: npt.NDArray[np.float64], guess: int, step: int
) -> tuple[float, int]:
    """The best normalized correlation of `clip` in `full` within `step` * 2 of `guess`."""
    best, at = -1.0, guess
    clip_norm = float(np.sqrt(np.sum(clip * clip))) or 1.0
    for pos in range(max(0, guess - 2 * step), min(len(full) - len(clip), guess + 2 * step) + 1):
        piece = full[pos : pos + len(clip)]
        value = float(np.dot(piece, clip)) / (
            float(np.sqrt(np.dot(piece, piece))) * clip_norm + 1e-9
        )
        if value > best:
            best, at = value, pos
    return best, at


def _decimate(samples: npt.NDArray[np.float64], step: int) -> npt.NDArray[np.float64]:
    x = samples
    n = len(x) // step * step
    return x[:n].reshape(-1, step).mean(axis=1)


# --- human-negatives streams ----------------------------------------------------------------


def negatives_entries(human_dir: Path, split: str = "all") -> list[dict[str, Any]]:
    """The human-negatives manifest entries of the split's speakers, in manifest order."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    manifest = json.loads((negatives_dir(human_dir) / "manifest.json").read_text())
    return [e for e in manifest if in_split(str(e.get("speaker", "")), split)]


def negatives_shards(human_dir: Path, split: str = "all", seconds: float = SHARD_SECONDS) -> int:
    """How many shards keep each negatives stream near `seconds` of speech."""
    total = sum(float(e.get("duration", 0.0)) for e in negatives_entries(human_dir, split))
    return max(1, math.ceil(total / seconds))


def negatives_stream(
    human_dir: Path,
    split: str = "all",
    snr: float | None = None,
    seed: int = 0,
    shard: int = 0,
    shards: int = 1,
) -> HumanStream:
    """Shard `shard` of `shards` of the split's human-negatives utterances as one stream.

    The utterances are shuffled with `seed` and dealt round-robin to the shards. Each is
    freed of any DC offset, brought to SPEECH_LEVEL_DB of active speech (never clipped by the
    gain) and followed by a 1.0-2.5 s pause made of its own quietest 0.1 s of background,
    cross-faded into the next one's. With `snr`, pink noise at SPEECH_LEVEL_DB - snr is added
    over the whole stream.
    Regions: each utterance's stretch (cut at the middle of the pauses), for its speaker.
    """
    if not 0 <= shard < shards:
        raise ValueError(f"shard {shard} of {shards}")
    root = negatives_dir(human_dir)
    entries = negatives_entries(human_dir, split)
    random.Random(seed).shuffle(entries)
    mine = entries[shard::shards]
    rng = np.random.default_rng([seed, shard])
    clips: list[npt.NDArray[np.float64]] = []
    floors: list[npt.NDArray[np.float64]] = []
    for entry in mine:
        x = _without_dc(read_wav(root / str(entry["file"])).samples)
        gain = _level_gain(x)
        clips.append(x * gain)
        floors.append(_quietest(x) * gain)
    lead = int(LEAD_S * RATE_HZ)
    pauses = [int(rng.uniform(*PAUSE_S) * RATE_HZ) for _ in mine]
    total = lead + sum(len(c) for c in clips) + sum(pauses)
    out = np.zeros(total)
    spans: list[tuple[float, float, str, str]] = []
    pos = 0
    if floors:
        out[:lead] = _background(floors[0], floors[0], lead, rng)
    pos = lead
    for i, (clip, entry) in enumerate(zip(clips, mine, strict=True)):
        out[pos : pos + len(clip)] = clip
        spans.append(
            (pos / RATE_HZ, (pos + len(clip)) / RATE_HZ, str(entry["speaker"]), str(entry["file"]))
        )
        pos += len(clip)
        after = floors[i + 1] if i + 1 < len(floors) else floors[i]
        out[pos : pos + pauses[i]] = _background(floors[i], after, pauses[i], rng)
        pos += pauses[i]
    if snr is not None and total:
        out += pink_noise(total, SPEECH_LEVEL_DB - snr, int(rng.integers(2**31)))
    duration = total / RATE_HZ
    label = f"negatives_{split}_{snr_label(snr)}_{shard + 1}of{shards}"
    return HumanStream(
        name=label,
        kind="negatives",
        snr=snr,
        duration=duration,
        regions=regions_from_spans(spans, duration),
        samples=to_int16(out),
    )


def _without_dc(samples: npt.NDArray[np.int16]) -> npt.NDArray[np.float64]:
    """The clip less its mean, faded in and out over 10 ms: some recordings carry a DC offset
    (one LibriSpeech clip sits at -8400), which would make a step at each pause."""
    x = samples.astype(np.float64)
    x -= np.mean(x) if len(x) else 0.0
    n = min(RATE_HZ // 100, len(x) // 2)
    if n > 0:
        ramp = (np.arange(n) + 0.5) / n
        x[:n] *= ramp
        x[len(x) - n :] *= ramp[::-1]
    return x


def speech_level_db(x: npt.NDArray[np.float64]) -> float:
    """Active speech level: RMS of the 20 ms frames within 25 dB of the loud ones (p95)."""
    frame = RATE_HZ // 50
    n = len(x) // frame
    if n == 0:
        return float(10 * np.log10(np.mean(x * x) / 32768.0**2 + 1e-20)) if len(x) else -200.0
    power = np.mean(x[: n * frame].reshape(n, frame) ** 2, axis=1)
    db = 10 * np.log10(power / 32768.0**2 + 1e-20)
    active = power[db >= np.percentile(db, 95) - 25.0]
    return float(10 * np.log10(np.mean(active) / 32768.0**2 + 1e-20))


def _level_gain(x: npt.NDArray[np.float64]) -> float:
    peak = float(np.max(np.abs(x))) if len(x) else 0.0
    if peak <= 0:
        return 1.0
    gain = 10 ** ((SPEECH_LEVEL_DB - speech_level_db(x)) / 20)
    return min(gain, 0.99 * 32767 / peak)


def _quietest(x: npt.NDArray[np.float64], seconds: float = 0.1) -> npt.NDArray[np.float64]:
    """The clip's quietest `seconds` (10 ms steps): its own background."""
    n = int(seconds * RATE_HZ)
    if len(x) <= n:
        return x.copy()
    energy = np.concatenate([[0.0], np.cumsum(x * x)])
    hop = RATE_HZ // 100
    starts = np.arange(0, len(x) - n + 1, hop)
    k = int(starts[np.argmin(energy[starts + n] - energy[starts])])
    return x[k : k + n].copy()


def _texture(
    floor: npt.NDArray[np.float64], n: int, rng: np.random.Generator
) -> npt.NDArray[np.float64]:
    """`n` samples of noise like `floor`: overlap-added sine-windowed pieces of it, each
    circularly shifted and sign-flipped at random (constant power, no repeating pattern)."""
    size = len(floor)
    if n <= 0 or size < 4:
        return np.zeros(max(n, 0))
    hop = size // 2
    window = np.sin(np.pi * (np.arange(size) + 0.5) / size)
    out = np.zeros(n + 2 * size)
    for pos in range(0, n + size, hop):
        piece = np.roll(floor, int(rng.integers(size))) * (1 if rng.random() < 0.5 else -1)
        out[pos : pos + size] += piece * window
    return out[hop : hop + n]


def _background(
    before: npt.NDArray[np.float64],
    after: npt.NDArray[np.float64],
    n: int,
    rng: np.random.Generator,
) -> npt.NDArray[np.float64]:
    """A pause: one clip's background cross-faded (equal power) into the next one's."""
    if n <= 0:
        return np.zeros(0)
    t = (np.arange(n) + 0.5) / n
    a = _texture(before, n, rng)
    b = _texture(after, n, rng)
    return np.asarray(a * np.cos(t * np.pi / 2) + b * np.sin(t * np.pi / 2), dtype=np.float64)


# --- scoring -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Detection:
    """A command the recognizer reported: its public value (Heard.intent.value) and start."""

    value: str
    start: float
    text: str = ""


def detections(heard: Iterable[object]) -> list[Detection]:
    """Detections from floorcoach Heard objects (anything with .intent.value, .start, .text)."""
    return [
        Detection(str(h.intent.value), float(h.start), str(getattr(h, "text", "")))  # type: ignore[attr-defined]
        for h in heard
    ]


def in_window(event: Event, start: float) -> bool:
    """The README rule: start between BEFORE_S before the word and AFTER_S after its end."""
    return event.start - BEFORE_S <= start <= event.end + AFTER_S


def match_events(events: Sequence[Event], heard: Sequence[Detection]) -> list[int | None]:
    """For each event, the index of the detection that makes it right (or None).

    A detection of the expected value inside an event's window can make it right; each
    detection and each event is used once, the pairs nearest in start time first (so a late
    detection of a missed word cannot take the next word's own detection).
    """
    pairs = sorted(
        (abs(d.start - e.start), i, k)
        for i, e in enumerate(events)
        for k, d in enumerate(heard)
        if d.value == e.expected and in_window(e, d.start)
    )
    out: list[int | None] = [None] * len(events)
    used: set[int] = set()
    for _, i, k in pairs:
        if out[i] is None and k not in used:
            out[i] = k
            used.add(k)
    return out


def is_consequential(value: str) -> bool:
    """A false command that changes or ends the session: stop, next, previous, restart, or a
    red flag (Intent.value is 'red_flag' for every red flag)."""
    return value in CONSEQUENTIAL or value == "red_flag"


@dataclass
class FalseCount:
    """False commands in the scored stretches of a non-command stream."""

    total: int = 0
    consequential: int = 0
    seconds: float = 0.0
    texts: list[str] = field(default_factory=list)

    def per_hour(self, consequential: bool = False) -> float:
        hours = self.seconds / 3600
        count = self.consequential if consequential else self.total
        return count / hours if hours > 0 else float("nan")


def false_commands(heard: Sequence[Detection], regions: Sequence[Region]) -> FalseCount:
    """Every detection that starts inside one of `regions` is a false command."""
    count = FalseCount(seconds=sum(r.end - r.start for r in regions))
    for d in heard:
        if any(r.start <= d.start < r.end for r in regions):
            count.total += 1
            count.consequential += is_consequential(d.value)
            count.texts.append(f"{d.start:.2f} s {d.value} {d.text!r}")
    return count


def split_summary(human_dir: Path) -> dict[str, dict[str, int]]:
    """How many labelled events and negatives speakers / utterances each split holds."""
    summary: dict[str, dict[str, int]] = {}
    streams = load_labelled_streams(human_dir, "all", kinds=("commands", "numbers"))
    for part in ("tune", "check"):
        events = {
            (s.name.rsplit("_", 1)[0], e.start)
            for s in streams
            for e in s.events
            if speaker_split(e.speaker) == part
        }
        negatives = negatives_entries(human_dir, part)
        summary[part] = {
            "labelled commands": len(events),
            "negatives utterances": len(negatives),
            "negatives speaker groups": len({speaker_group(str(e["speaker"])) for e in negatives}),
            "negatives seconds": int(sum(float(e["duration"]) for e in negatives)),
        }
    return summary
