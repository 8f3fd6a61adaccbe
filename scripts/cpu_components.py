"""Where a process's CPU goes, by component, from py-spy's raw (collapsed) stack samples.

`py-spy record --format raw` writes one line per distinct stack: `frame;frame;... count`,
root first, each frame `function (path:line)`. A sample is charged to the innermost
floorcoach module on its stack (time in NumPy, onnxruntime or pocketsphinx is charged to
the floorcoach code that called it); start-up (imports, model loading under `<module>` or
`load`) is counted apart. Used by `scripts/bench_resources --profile`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Final

COMPONENTS: Final = (
    ("echo canceller", ("listening/echo_canceller.py", "listening/webrtc_calls.py")),
    ("echo delay tracker", ("listening/echo_delay.py",)),
    ("own-voice gate", ("listening/self_voice.py",)),
    ("voice activity (VAD)", ("listening/vad.py",)),
    ("speech embedding (onnxruntime)", ("listening/speech_embedding.py",)),
    ("command head", ("listening/command_head.py",)),
    ("phrase verifier", ("listening/phrase_verifier.py",)),
    ("enrolled phrases (few-shot)", ("listening/few_shot.py",)),
    ("pocketsphinx decoding", ("listening/sphinx_decoder.py",)),
    ("recognizer glue (segments, rules)", ("listening/sphinx_recognizer.py",)),
    ("microphone worker (queue, resample)", ("listening/microphone.py",)),
    ("speaker stream (callback, mixing)", ("speaking/device_speaker.py", "speaking/playback")),
    ("speech synthesis and cache", ("speaking/synth.py", "speaking/speech_cache.py")),
    ("speech output (scheduling)", ("runtime/voice_output.py",)),
    ("engine", ("floorcoach/session/",)),
    ("history writes", ("floorcoach/store/",)),
    ("event loop and event log", ("runtime/event_loop.py",)),
    ("live listener", ("runtime/live_listener.py",)),
    ("terminal output", ("runtime/views.py", "runtime/text_output.py")),
)
"""(component, path fragments), checked on the innermost floorcoach frame of a sample."""

_FRAME: Final = re.compile(r"^(?P<function>.*) \((?P<path>.*?):(?P<line>\d+)\)$")
START_UP: Final = "start-up (imports, model loading)"
OTHER_FLOORCOACH: Final = "other floorcoach code"
OUTSIDE: Final = "outside floorcoach (threads of libraries, interpreter)"


def _frames(stack: str) -> list[tuple[str, str]]:
    frames = []
    for text in stack.split(";"):
        match = _FRAME.match(text.strip())
        if match:
            frames.append((match["function"], match["path"]))
    return frames


def component_of(stack: str) -> str:
    """The component one sampled stack (root first) is charged to."""
    frames = _frames(stack)
    if any("importlib" in path for _, path in frames):
        return START_UP
    for function, path in reversed(frames):
        if "floorcoach/" not in path:
            continue
        if function in {"load", "_load", "load_model", "__init__"} and "listening/" in path:
            return START_UP
        for name, fragments in COMPONENTS:
            if any(fragment in path for fragment in fragments):
                return name
        return OTHER_FLOORCOACH
    return OUTSIDE


def samples_by_component(lines: Iterable[str]) -> Counter[str]:
    """Sum the samples of raw py-spy lines per component."""
    totals: Counter[str] = Counter()
    for line in lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if stack and count.isdigit():
            totals[component_of(stack)] += int(count)
    return totals


def table(profile: Path, rate_hz: int, wall_seconds: float) -> str:
    """A markdown table: samples, CPU seconds and share of one core per component."""
    totals = samples_by_component(profile.read_text().splitlines())
    busy = sum(totals.values())
    rows = [
        "| component | samples | CPU s | share of the busy time | share of one core |",
        "|---|---|---|---|---|",
    ]
    for name, count in totals.most_common():
        rows.append(
            f"| {name} | {count} | {count / rate_hz:.1f} | {100 * count / busy:.1f} % "
            f"| {100 * count / rate_hz / wall_seconds:.2f} % |"
        )
    core = 100 * busy / rate_hz / wall_seconds
    rows.append(f"| all | {busy} | {busy / rate_hz:.1f} | 100 % | {core:.2f} % |")
    return "\n".join(rows)
