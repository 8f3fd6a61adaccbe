"""Threads carry names the kernel shows, so their CPU time can be told apart."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

from floorcoach.thread_names import name_this_thread

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux names only")


def _kernel_name(native_id: int) -> str:
    return Path(f"/proc/self/task/{native_id}/comm").read_text().strip()


def test_a_thread_is_named_and_a_long_name_cut_to_what_linux_keeps() -> None:
    seen: dict[str, str] = {}

    def run() -> None:
        native = threading.get_native_id()
        before = _kernel_name(native)
        name_this_thread("fc-mic-worker")
        seen["short"] = _kernel_name(native)
        name_this_thread("a-name-much-longer-than-fifteen")
        seen["long"] = _kernel_name(native)
        seen["before"] = before

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert seen["before"] != "fc-mic-worker"
    assert seen["short"] == "fc-mic-worker"
    assert seen["long"] == "a-name-much-lon"
