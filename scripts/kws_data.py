"""Training speech for the phrase verifier: many synthetic voices saying every spoken phrase
and a lot of speech that is not a command.

Used by `scripts/train_kws`. Voices come from three synthesizers installed from Debian
(espeak-ng with its named variants, flite, festival), never from the voices
`scripts/bench_commands` scores, so its tuning and held-out figures stay out of sample. Two
non-espeak voices (flite awb, festival ked) are held out of training entirely and scored
on their own. Nothing here downloads anything.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from floorcoach.audio.listening.phrase_verifier import verifier_phrases  # noqa: E402
from floorcoach.audio.pcm import RATE_HZ, read_wav  # noqa: E402
from floorcoach.commands import NUMBER_WORDS, normalize  # noqa: E402

BENCH_VARIANTS = {"f2", "f3", "m3", "m5", "klatt4"}
"""Variants scripts/bench_commands scores: never trained on."""
ESPEAK_LANGS = [
    "en-us",
    "en-gb",
    "en-gb-scotland",
    "en-029",
    "en-gb-x-rp",
    "en-gb-x-gbclan",
    "en-gb-x-gbcwmd",
]
HELD_OUT_OTHER = [("flite", "awb"), ("festival", "ked_diphone")]
TRAIN_OTHER = [
    ("flite", "kal16"),
    ("flite", "rms"),
    ("flite", "slt"),
    ("flite", "kal"),
    ("festival", "kal_diphone"),
    ("festival", "cmu_us_slt_arctic_hts"),
]

NEAR_MISSES = (
    # Words that sound like a phrase but are not one (written for the verifier).
    "stock",
    "step",
    "top",
    "shop",
    "pass",
    "paws",
    "cause",
    "pose",
    "text",
    "nest",
    "neck",
    "hell",
    "held",
    "hello",
    "yelp",
    "couch",
    "pouch",
    "paint",
    "plane",
    "rain",
    "weight",
    "white",
    "wade",
    "bag",
    "black",
    "peg",
    "lake",
    "legs",
    "hurt",
    "hearts",
    "that heart",
    "it works",
    "this works",
    "too much fun",
    "the wall",
    "slow",
    "low",
    "fast",
    "louder music",
    "repeat after me",
    "start the car",
    "stop the car",
    "go away",
    "go home",
    "all gone",
    "finish it",
    "done yet",
    "lower",
    "bigger",
    "better late",
    "weaker",
    "tingle",
    "same time",
    "next door",
    "next week",
    "keep it",
    "carry it",
    "move it",
    "help yourself",
    "how are you",
    "how old",
    "what time is it",
    "whats that",
    "long time",
    "time out",
    "more tea",
    "less sugar",
    "speak to me",
    "volume",
    "wait a minute",
    "eight",
    "ate",
    "tree",
    "free",
    "sticks",
    "heaven",
    "fine thanks",
    "oh well",
    "oops",
    "sneeze",
    "phew",
)

_WORD = re.compile(r"[a-z']+")


@dataclass(frozen=True)
class Voice:
    """One synthesizer voice and its settings."""

    synth: str  # espeak, flite or festival
    name: str
    rate: float  # espeak words per minute, or a duration stretch for flite/festival
    pitch: int = 50

    @property
    def key(self) -> str:
        return f"{self.synth}:{self.name}:{self.rate}:{self.pitch}"


def espeak_voices(count: int, rng: random.Random) -> list[Voice]:
    """Random espeak-ng language/variant/rate/pitch combinations, bench variants excluded."""
    variant_dir = Path("/usr/lib/x86_64-linux-gnu/espeak-ng-data/voices/!v")
    if not variant_dir.is_dir():
        variant_dir = next(Path("/usr").glob("lib/*/espeak-ng-data/voices/!v"))
    variants = sorted(
        p.name for p in variant_dir.iterdir() if p.is_file() and p.name not in BENCH_VARIANTS
    )
    variants = [v for v in variants if v not in {"whisper", "whisperf"}]
    voices: list[Voice] = []
    seen: set[str] = set()
    while len(voices) < count:
        lang = rng.choice(ESPEAK_LANGS)
        variant = rng.choice(variants)
        name = f"{lang}+{variant}"
        if name in seen:
            continue
        seen.add(name)
        voices.append(Voice("espeak", name, rng.randint(115, 200), rng.randint(25, 80)))
    return voices


def other_voices(pairs: list[tuple[str, str]]) -> list[Voice]:
    """flite/festival voices at a few speaking rates."""
    return [Voice(s, n, stretch) for s, n in pairs for stretch in (0.85, 1.0, 1.2)]


def render(voice: Voice, text: str, cache: Path) -> npt.NDArray[np.int16]:
    """One utterance at 16 kHz, edges trimmed, cached on disk."""
    key = hashlib.sha1(f"{voice.key}|{text}".encode()).hexdigest()[:20]
    path = cache / f"{key}.wav"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            raw = Path(tmp) / "out.wav"
            if voice.synth == "espeak":
                cmd = ["espeak-ng", "-v", voice.name, "-s", str(int(voice.rate))]
                cmd += ["-p", str(voice.pitch), "-w", str(raw), text]
                subprocess.run(cmd, check=True, capture_output=True)
            elif voice.synth == "flite":
                cmd = ["flite", "-voice", voice.name, "--setf", f"duration_stretch={voice.rate}"]
                cmd += ["-t", text, "-o", str(raw)]
                subprocess.run(cmd, check=True, capture_output=True)
            else:
                script = f"(voice_{voice.name}) (Parameter.set 'Duration_Stretch {voice.rate})"
                subprocess.run(
                    ["text2wave", "-eval", script, "-o", str(raw)],
                    input=text.encode(),
                    check=True,
                    capture_output=True,
                )
            out = Path(tmp) / "16k.wav"
            subprocess.run(
                ["sox", str(raw), "-r", str(RATE_HZ), "-c", "1", "-b", "16", str(out)],
                check=True,
                capture_output=True,
            )
            shutil.move(str(out), path)
    samples = read_wav(path).samples
    voiced = np.flatnonzero(np.abs(samples.astype(np.int32)) > 64)
    if len(voiced) == 0:
        return samples
    return samples[voiced[0] : voiced[-1] + 1]


def _sentences(text: str) -> list[str]:
    out = []
    for piece in re.split(r"[.!?;:\n]\s*", text):
        words = _WORD.findall(piece.lower())
        if 2 <= len(words) <= 14:
            out.append(" ".join(words))
    return out


def _pieces(sentences: list[str], phrases: set[str], rng: random.Random) -> list[str]:
    """Sentences cut into 1-4 word pieces; pieces that hold a phrase as whole words left out."""
    out: set[str] = set()
    for sentence in sentences:
        words = sentence.split()
        i = 0
        while i < len(words):
            n = rng.randint(1, 4)
            piece = " ".join(words[i : i + n])
            i += n
            padded = f" {piece} "
            if not any(f" {p} " in padded for p in phrases):
                out.add(piece)
    return sorted(out)


def other_texts(bench_texts: set[str], rng: random.Random, pieces: int = 0) -> list[str]:
    """Speech that is not a command: the player's own lines, user questions, general text.

    `pieces` > 0 adds that many 1-4 word pieces of the sentences, 200 more common words and
    200 fewer whole sentences (model v3's recipe; 0 is v1's, the shipped model's).
    """
    phrases = set(verifier_phrases())
    player: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str) and len(node.split()) >= 2:
            player.extend(_sentences(node))
            for part in re.split(r",\s*", node):
                words = _WORD.findall(part.lower())
                if 1 <= len(words) <= 5:
                    player.append(" ".join(words))

    for name in ("exercises.yaml", "questions.yaml", "guidance.yaml"):
        walk(yaml.safe_load((REPO / "routines" / name).read_text()))
    general: list[str] = []
    import pydoc_data.topics as topics

    for text in topics.topics.values():
        general.extend(_sentences(text))
    for lic in ("GPL-3", "Apache-2.0"):
        general.extend(_sentences(Path(f"/usr/share/common-licenses/{lic}").read_text()))
    counts = Counter(w for s in general + player for w in s.split())
    common = [w for w, _ in counts.most_common(1500) if len(w) > 1 or w in {"a", "i"}]
    words = [rng.choice(common) for _ in range(400)]
    pairs = [" ".join(rng.sample(common[:600], rng.randint(2, 3))) for _ in range(300)]
    # Short pieces of real sentences said on their own ("in", "so long", "you must"): the
    # benchmark's hardest non-commands, which whole sentences do not teach.
    cut = _pieces(general + player, set(verifier_phrases()), rng) if pieces else []
    if pieces:
        words += common[:200]
    counting = []
    for _ in range(60):
        start = rng.randint(0, 6)
        n = rng.randint(2, 4)
        counting.append(" ".join(NUMBER_WORDS[start : start + n]))
    from floorcoach.audio.listening.sphinx_decoder import NOT_COMMANDS

    pool = (
        rng.sample(sorted(set(player)), min(700, len(set(player))))
        + rng.sample(sorted(set(general)), 700 if pieces else 900)
        + rng.sample(cut, min(pieces, len(cut)))
        + words
        + pairs
        + counting
        + list(NEAR_MISSES) * 2
        + list(NOT_COMMANDS) * 3
    )
    bench = {normalize(t) for t in bench_texts}
    kept = []
    for text in pool:
        norm = normalize(text)
        if not norm or norm in phrases or norm in bench:
            continue
        if any(b in norm for b in bench if len(b.split()) >= 3):
            continue
        kept.append(norm)
    return kept


def _render_job(job: tuple[Voice, str, str]) -> tuple[str, str, bytes]:
    voice, text, cache = job
    try:
        samples = render(voice, text, Path(cache))
    except (subprocess.CalledProcessError, OSError, ValueError) as exc:
        print(f"render failed {voice.key} {text!r}: {exc}", file=sys.stderr)
        return voice.key, text, b""
    return voice.key, text, samples.tobytes()


def build(
    out: Path, cache: Path, espeak_count: int, others_per_voice: int, seed: int, pieces: int
) -> None:
    """Render the set and save it as one npz: concatenated samples, offsets and labels."""
    from concurrent.futures import ProcessPoolExecutor

    sys.path.insert(0, str(REPO / "scripts"))
    bench = _bench_texts()
    rng = random.Random(seed)
    phrases = verifier_phrases()
    others = other_texts(bench, rng, pieces)
    voices = espeak_voices(espeak_count, rng) + other_voices(TRAIN_OTHER)
    held = other_voices(HELD_OUT_OTHER)
    jobs: list[tuple[Voice, str, str]] = []
    for voice in voices + held:
        for phrase in phrases:
            jobs.append((voice, phrase, str(cache)))
        for text in rng.sample(others, min(others_per_voice, len(others))):
            jobs.append((voice, text, str(cache)))
    print(f"{len(jobs)} clips, {len(voices)} training voices, {len(held)} held out", flush=True)
    held_keys = {v.key for v in held}
    chunks: list[bytes] = []
    offsets = [0]
    labels: list[str] = []
    voice_keys: list[str] = []
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for i, (key, text, data) in enumerate(pool.map(_render_job, jobs, chunksize=32)):
            if not data:
                continue
            chunks.append(data)
            offsets.append(offsets[-1] + len(data) // 2)
            labels.append(text)
            voice_keys.append(key)
            if i % 2000 == 0:
                print(f"  {i}/{len(jobs)}", flush=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        out,
        samples=np.frombuffer(b"".join(chunks), dtype=np.int16),
        offsets=np.array(offsets, dtype=np.int64),
        texts=np.array(labels),
        voices=np.array(voice_keys),
        held_out=np.array([k in held_keys for k in voice_keys]),
    )
    print(f"saved {out} ({len(labels)} clips)")


def _bench_texts() -> set[str]:
    import importlib.machinery
    import importlib.util

    loader = importlib.machinery.SourceFileLoader(
        "bench_commands", str(REPO / "scripts/bench_commands")
    )
    spec = importlib.util.spec_from_loader("bench_commands", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_commands"] = module
    loader.exec_module(module)
    return set(module.INSTRUCTIONS) | set(module.CHATTER_TUNE) | set(module.CHATTER_HELD_OUT)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("/work/kws_cache/clips.npz"))
    parser.add_argument("--cache", type=Path, default=Path("/work/kws_cache/wav"))
    parser.add_argument("--espeak-voices", type=int, default=48)
    parser.add_argument("--others-per-voice", type=int, default=220)
    parser.add_argument(
        "--pieces", type=int, default=0, help="1-4 word pieces in the non-command pool (v3: 900)"
    )
    parser.add_argument("--seed", type=int, default=7)
    a = parser.parse_args()
    build(a.out, a.cache, a.espeak_voices, a.others_per_voice, a.seed, a.pieces)
