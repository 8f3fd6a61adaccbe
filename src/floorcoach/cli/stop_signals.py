"""Ctrl-C and SIGTERM, remembered: a stop asked for is never lost, wherever it lands.

Python turns SIGINT into a KeyboardInterrupt raised wherever the main thread happens to be.
Some code turns that into something else: a C extension whose import is interrupted fails
with ImportError "initialization failed" (pybind11), which standby took for "onnxruntime is
not installed" and then listened on, a service that ignored its stop. Measured: SIGINT sent
1.95 s after start on a loaded 2-core host, and standby ran on until killed. So the signal
is also written down here, and the loops that wait (standby, its questions) look at it.

SIGTERM is how systemd stops the service; before, it killed standby between two words.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType, TracebackType
from typing import Any, Final

STOP_SIGNALS: Final = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    """While entered, SIGINT and SIGTERM set `received` and raise KeyboardInterrupt."""

    def __init__(self) -> None:
        self.received: signal.Signals | None = None
        """The first stop signal that came (None: none yet)."""
        self._previous: dict[signal.Signals, Any] = {}

    def __enter__(self) -> StopSignals:
        for signum in STOP_SIGNALS:
            self._previous[signum] = signal.signal(signum, self._on_signal)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()

    def note(self, signum: int) -> None:
        """Remember a stop signal that someone else's handler took (a session's SIGTERM)."""
        if self.received is None:
            self.received = signal.Signals(signum)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.note(signum)
        raise KeyboardInterrupt

    def exit_code(self) -> int:
        """130 after Ctrl-C (the shell's convention); 0 after SIGTERM, the way a service is
        stopped (systemd would call the unit failed on any other code)."""
        return 0 if self.received is signal.SIGTERM else 130

    def report(self) -> None:
        """Say on stderr why the program is ending."""
        name = self.received.name if self.received is not None else "SIGINT"
        print(f"floorcoach: stopped ({name})", file=sys.stderr, flush=True)
