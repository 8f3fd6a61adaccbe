"""scripts/cpu_components.py: py-spy samples are charged to the right component."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from cpu_components import (  # noqa: E402
    OUTSIDE,
    START_UP,
    component_of,
    samples_by_component,
)

SRC = "/repo/src/floorcoach"


def test_a_sample_goes_to_the_innermost_floorcoach_module() -> None:
    stack = (
        f"_work ({SRC}/audio/listening/microphone.py:240);"
        f"process ({SRC}/audio/listening/microphone.py:270);"
        f"process ({SRC}/audio/listening/echo_canceller.py:120);"
        "apm_process (/venv/lib/livekit/rtc/apm.py:40)"
    )
    assert component_of(stack) == "echo canceller"


def test_library_time_is_charged_to_the_caller_and_imports_to_start_up() -> None:
    embed = f"run ({SRC}/audio/listening/speech_embedding.py:80);run (/venv/onnxruntime/x.py:9)"
    assert component_of(embed) == "speech embedding (onnxruntime)"
    imports = (
        f"<module> ({SRC}/cli/play.py:1);_call_with_frames_removed (<frozen importlib>:241);"
        "<module> (/venv/lib/numpy/__init__.py:1)"
    )
    assert component_of(imports) == START_UP
    assert component_of("run (/usr/lib/python3.11/threading.py:975)") == OUTSIDE


def test_counts_add_up_per_component() -> None:
    lines = [
        f"a ({SRC}/session/engine.py:10) 7",
        f"b ({SRC}/session/command_handlers.py:5) 3",
        f"c ({SRC}/store/session_recorder.py:9) 2",
        "not a sample line",
    ]
    totals = samples_by_component(lines)
    assert totals == {"engine": 10, "history writes": 2}
