"""The real `floorcoach` command run the way a user runs it, for end-to-end tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any


def command(*args: Any) -> list[str]:
    """`floorcoach ARGS...` with this interpreter (no reliance on PATH)."""
    return [sys.executable, "-m", "floorcoach", *(str(arg) for arg in args)]


def run(
    *args: Any,
    input: str = "",  # noqa: A002 - the subprocess name for it
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 180,
) -> subprocess.CompletedProcess[str]:
    """Run to the end with typed `input`; output captured as text, exit code not checked."""
    return subprocess.run(
        command(*args),
        input=input,
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )
