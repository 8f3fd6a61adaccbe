"""Where things fall in a simulated session, for tests that time a user's words on the audio
clock (shared by the audio-clock tests, so each finds the same moment the same way)."""

from __future__ import annotations

from floorcoach.audio.speaking.speech_cache import CachedSynthesizer
from floorcoach.content.catalog import Catalog
from floorcoach.session.simulate import Simulation


def first_hold_start(player: CachedSynthesizer, routine: str = "quick-test") -> float:
    """Session seconds at which the routine's first hold starts, spoken with `player`."""
    loaded = Catalog.load().find(routine)
    sim = Simulation(
        loaded, announce_duration=True, duration=lambda text, _rate: player.render(text).seconds
    )
    sim.run_until(lambda s: any(r.get("cue") == "start" for r in s.result.records))
    return sim.now
