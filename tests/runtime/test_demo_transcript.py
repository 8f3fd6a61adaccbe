"""The demo's transcript tells the session in the order it was heard and said."""

from __future__ import annotations

import numpy as np

from floorcoach.audio.pcm import Pcm
from floorcoach.runtime.audio_sim import AudioSimResult
from floorcoach.runtime.demo import DemoResult

SILENCE = Pcm(np.zeros(0, dtype=np.int16), 16000)


def test_player_lines_are_stamped_when_spoken_and_ties_read_heard_decided_said() -> None:
    # The engine asks for the decision and the next exercise's title at the same moment
    # (84.58 s); the title waits its turn and is spoken when the decision ends.
    records = [
        {"t": 84.58, "kind": "heard", "text": "in my back", "command": "back"},
        {"t": 84.58, "kind": "decision", "decision": "skip"},
        {"t": 84.58, "kind": "say", "text": "Pain at 4. This one can't be made any shorter."},
        {"t": 84.58, "kind": "say", "text": "Exercise 2 of 3: Pelvic tilts."},
    ]
    spoken = [
        (84.58, 91.0, "Pain at 4. This one can't be made any shorter."),
        (91.0, 93.1, "Exercise 2 of 3: Pelvic tilts."),
    ]
    sim = AudioSimResult(95.0, SILENCE, SILENCE, records=records, spoken=spoken)
    result = DemoResult(script=[(83.62, "in my back")], sim=sim, understood=["back"])
    assert result.transcript().splitlines() == [
        " 1:23.62  USER    in my back",
        ' 1:24.58  HEARD   "in my back"  -> back',
        " 1:24.58  (decision: skip)",
        " 1:24.58  PLAYER  Pain at 4. This one can't be made any shorter.",
        " 1:31.00  PLAYER  Exercise 2 of 3: Pelvic tilts.",
    ]


def test_a_line_asked_for_but_never_spoken_is_not_in_the_transcript() -> None:
    records = [{"t": 10.0, "kind": "say", "text": "Cut before it began."}]
    sim = AudioSimResult(12.0, SILENCE, SILENCE, records=records, spoken=[(10.5, 11.0, "Stop.")])
    result = DemoResult(script=[], sim=sim, understood=[])
    assert result.transcript() == " 0:10.50  PLAYER  Stop.\n"
