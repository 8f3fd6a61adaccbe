"""What the session engine said and logged, read back in tests."""

from __future__ import annotations

from typing import Any

from floorcoach.session.events import Say
from floorcoach.session.simulate import Simulation


def says(effects: list[Any]) -> list[str]:
    """The sentences among a batch of effects, in order."""
    return [e.text for e in effects if isinstance(e, Say)]


def records(sim: Simulation, kind: str) -> list[dict[str, Any]]:
    """The simulation's log records of one kind, in order."""
    return [r for r in sim.result.records if r["kind"] == kind]
