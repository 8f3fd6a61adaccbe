"""The environment for a child process that must run this checkout's code.

A worktree often shares another tree's `.venv`, whose editable install points at that other
tree's `src/`: a benchmark that starts the player as a child process would then measure
the other tree's code. Putting this tree's `src/` first on PYTHONPATH makes it run its own.
"""

from __future__ import annotations

import os
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"


def own_code(env: dict[str, str]) -> dict[str, str]:
    """`env` with this tree's src/ first on PYTHONPATH (what was there stays after it)."""
    paths = [str(SRC), *filter(None, [env.get("PYTHONPATH")])]
    return dict(env, PYTHONPATH=os.pathsep.join(paths))
