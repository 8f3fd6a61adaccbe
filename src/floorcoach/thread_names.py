"""Name the operating-system thread, so `top -H` and the resource benchmark can tell them apart.

Python (before 3.14) leaves every thread with the process's name, and PortAudio's callback
threads are not Python's at all; a thread's CPU time is only attributable when it has a name.
Linux only; elsewhere, or if the call fails, nothing happens.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from typing import Final

_PR_SET_NAME: Final = 15
_MAX_NAME_BYTES: Final = 15
"""Linux keeps 15 bytes of a thread name (16 with the terminating zero)."""

_libc: ctypes.CDLL | None = None
if sys.platform.startswith("linux"):
    try:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        _libc = None


def name_this_thread(name: str) -> None:
    """Give the calling thread `name` (cut to 15 bytes) as the kernel shows it."""
    if _libc is None:
        return
    raw = name.encode("ascii", "replace")[:_MAX_NAME_BYTES]
    try:
        _libc.prctl(_PR_SET_NAME, ctypes.c_char_p(raw), 0, 0, 0)
    except (OSError, AttributeError):
        return
