"""scripts/bench_commands' voices: a "piper:NAME" voice speaks through the player's own Piper
synthesizer, at the rate asked, and is cached like the espeak-ng voices."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from floorcoach.audio.pcm import RATE_HZ

REPO = Path(__file__).resolve().parents[2]


def _bench_commands() -> ModuleType:
    path = REPO / "scripts" / "bench_commands"
    loader = importlib.machinery.SourceFileLoader("bench_commands", str(path))
    spec = importlib.util.spec_from_loader("bench_commands", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_commands"] = module
    loader.exec_module(module)
    return module


def test_a_piper_voice_says_the_phrase_at_the_rate_asked(tmp_path: Path) -> None:
    bench = _bench_commands()
    slow = bench.say("both legs are weak", tmp_path, ("piper:joe", 120, 0))
    fast = bench.say("both legs are weak", tmp_path, ("piper:joe", 185, 0))
    assert 0.6 * RATE_HZ < len(fast) < len(slow) < 3.0 * RATE_HZ
    assert float(abs(slow.astype(float)).max()) > 3000  # speech, not silence
    assert any((tmp_path / "piper").rglob("*")), "rendered audio is cached"
    assert bench.NEURAL_VOICES
    assert all(v[0].startswith("piper:") for v in bench.NEURAL_VOICES)
