"""Hearing "next" and "that's enough" while enrolling: every good take is also a command.

Enrolling the key commands and the numbers asks for 17 phrases three times each. Someone lying
on the floor must be able to leave one out or end it without a keyboard, so each take that
passed the checks goes through the general recognizer as well (the commands context). A take
is a command only when it means something other than the phrase asked for: "stop" said when
asked for "stop" is a take; "that's enough" said when asked for "four" ends the session.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from floorcoach.audio.listening.recognizer import CommandRecognizer
from floorcoach.audio.pcm import RATE_HZ
from floorcoach.commands import PHRASE_TABLE, Command, Intent, ListenContext
from floorcoach.runtime.enroll import Item, Steering

STEERING: Final = {Command.NEXT: Steering.SKIP, Command.STOP: Steering.FINISH}
"""Intents that steer the session: next ("next", "move on"), stop ("that's enough", "end
session"). "skip" and "quit" are typed words only (commands.SPOKEN_COMMANDS says why)."""
QUIET_SECONDS: Final = 0.6
"""Room tone put around a take, so the recognizer's voice detector sees it begin and end."""
ROOM_DBFS: Final = -70.0


def steering_of(heard: Intent, item: Item) -> Steering | None:
    """What a command heard in a take asks, unless it is the phrase asked for."""
    steering = STEERING.get(heard.command) if heard.command is not None else None
    if steering is None:
        return None
    asked = PHRASE_TABLE.get(item.means)
    if asked is not None and asked.command is heard.command:
        return None  # "stop" asked for, "stop" (or "that's enough") said: a take
    return steering


class SpokenSteering:
    """The general recognizer on each good take: a `Steer` for `EnrollSession`."""

    def __init__(self, recognizer: CommandRecognizer) -> None:
        self._recognizer = recognizer
        self._recognizer.set_context(ListenContext.COMMANDS)
        rng = np.random.default_rng(0)
        quiet = rng.normal(0.0, 32768 * 10 ** (ROOM_DBFS / 20), int(QUIET_SECONDS * RATE_HZ))
        self._quiet = quiet.astype(np.int16)

    def __call__(self, item: Item, samples: npt.NDArray[np.int16]) -> Steering | None:
        recognizer = self._recognizer
        recognizer.reset()
        heard = recognizer.accept(np.concatenate([self._quiet, samples, self._quiet]))
        heard += recognizer.flush()
        for each in heard:
            steering = steering_of(each.intent, item)
            if steering is not None:
                return steering
        return None


def spoken_steering(engine: str = "auto") -> SpokenSteering:
    """Steering with the recognizer a session would use (the user's enrollment too)."""
    from floorcoach.audio.listening.recognizer_factory import make_recognizer

    return SpokenSteering(make_recognizer(engine))
