"""Where the shipped data lives: the checkout (or install) root, its routines and voice models.

One place, so moving a module never changes which folder it reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

PROJECT_DIR: Final = Path(__file__).resolve().parents[2]
"""The folder holding `src/`, `routines/` and `voice_models/`."""
ROUTINES_DIR: Final = PROJECT_DIR / "routines"
VOICE_MODELS_DIR: Final = PROJECT_DIR / "voice_models"
