"""Fixtures shared by the session tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from floorcoach.content.catalog import LoadedRoutine, load_library, load_routine

ENGINE_FIXTURES = Path(__file__).parents[1] / "fixtures" / "engine"


@pytest.fixture(scope="module")
def shapes() -> LoadedRoutine:
    """A routine with every exercise shape (hold, reps, sides, sets, walk) in a small library."""
    library = load_library(ENGINE_FIXTURES / "exercises.yaml")
    return load_routine(ENGINE_FIXTURES / "all-shapes.yaml", library)
