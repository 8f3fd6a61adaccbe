"""Stand-ins for a command recognizer, for tests of what reaches it (echo cancellation)."""

from __future__ import annotations

import numpy as np


class KeepingRecognizer:
    """Hears nothing and keeps every chunk it is given: the microphone signal as cleaned."""

    engine = description = "keep"
    context = "commands"

    def __init__(self) -> None:
        self.chunks: list[np.ndarray] = []

    def accept(self, samples: np.ndarray) -> list:
        self.chunks.append(samples.copy())
        return []

    def flush(self) -> list:
        return []

    def reset(self) -> None:
        pass
