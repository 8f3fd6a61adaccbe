"""The notifier calls on_done once per playback, on its own thread, no earlier than its end."""

from __future__ import annotations

import threading
import time

import numpy as np

from floorcoach.audio.speaking.playback import Playback
from floorcoach.audio.speaking.playback_notifier import PlaybackNotifier
from floorcoach.audio.speaking.speaker import DoneCallback


class Calls:
    """Records on_done calls: (id, interrupted, monotonic time, thread name)."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, bool, float, str]] = []
        self.event = threading.Event()

    def __call__(self, playback_id: int, interrupted: bool) -> None:
        name = threading.current_thread().name
        self.calls.append((playback_id, interrupted, time.monotonic(), name))
        self.event.set()


def ended(
    playback_id: int, ended_at: float, on_done: DoneCallback, interrupted: bool = False
) -> Playback:
    item = Playback(
        playback_id, f"p{playback_id}", np.zeros(160, np.float32), 16_000, None, on_done
    )
    item.started_at = ended_at - 0.01
    item.ended_at = ended_at
    item.interrupted = interrupted
    return item


def test_on_done_waits_for_the_sound_to_end_on_the_notifier_thread() -> None:
    calls = Calls()
    notifier = PlaybackNotifier("test-notify")
    try:
        end = time.monotonic() + 0.2
        notifier.submit(ended(1, end, calls))
        assert calls.event.wait(2.0)
    finally:
        notifier.close()
    [(playback_id, interrupted, at, thread)] = calls.calls
    assert (playback_id, interrupted, thread) == (1, False, "test-notify")
    assert at >= end


def test_each_playback_is_reported_once_even_if_submitted_twice() -> None:
    calls = Calls()
    notifier = PlaybackNotifier("test-notify")
    try:
        item = ended(2, time.monotonic(), calls, interrupted=True)
        notifier.submit(item)
        notifier.submit(item)
        assert calls.event.wait(2.0)
        time.sleep(0.1)
    finally:
        notifier.close()
    assert [(i, interrupted) for i, interrupted, _, _ in calls.calls] == [(2, True)]


def test_close_fires_what_is_still_pending_and_survives_a_failing_callback() -> None:
    calls = Calls()

    def broken(playback_id: int, interrupted: bool) -> None:
        raise RuntimeError("a listener bug")

    notifier = PlaybackNotifier("test-notify")
    notifier.submit(ended(3, time.monotonic(), broken))
    notifier.submit(ended(4, time.monotonic() + 60.0, calls))
    started = time.monotonic()
    notifier.close()
    assert time.monotonic() - started < 2.0
    assert [i for i, _, _, _ in calls.calls] == [4]
