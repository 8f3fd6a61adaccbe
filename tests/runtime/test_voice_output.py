"""The voice output's policy: cutting, queueing, and carrying on when the voice fails."""

from __future__ import annotations

from floorcoach.errors import FloorcoachError
from floorcoach.runtime.voice_output import VoiceOutput, should_cut
from floorcoach.session.events import Priority, Say, SpeechDone


def test_what_cuts_what() -> None:
    instruction = Say("Lie on your back.", 1, Priority.INSTRUCTION, interruptible=False)
    form_cue = Say("Keep breathing.", 2, Priority.CUE, interruptible=True)
    count = Say("Five.", 3, Priority.COUNT, interruptible=False)
    urgent = Say("Stop now.", 4, Priority.URGENT, interruptible=False)
    assert not should_cut(None, count)
    assert should_cut(form_cue, count)  # a form cue gives way to the count
    assert not should_cut(instruction, instruction)  # instructions wait their turn
    assert should_cut(instruction, count)  # a count is more important
    assert should_cut(count, urgent)


class _BrokenSynth:
    settings = None
    key = "broken"
    cache = None

    def render(self, text: str) -> object:
        raise FloorcoachError("espeak-ng vanished")


class _Speaker:
    def play(self, *args: object, **kwargs: object) -> int:
        raise AssertionError("nothing should be played")

    def stop(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_a_failing_voice_means_text_not_a_crash() -> None:
    posted: list[SpeechDone] = []
    lost: list[str] = []
    voice = VoiceOutput(
        _BrokenSynth(),  # type: ignore[arg-type]
        _Speaker(),  # type: ignore[arg-type]
        posted.append,
        lambda: 1.0,
        on_lost=lost.append,
    )
    voice.say(Say("Ready, and begin.", 7), now=3.0)
    assert posted == [SpeechDone(7, 3.0)]  # the engine is not left waiting
    assert voice.lost == "espeak-ng vanished"
    assert lost == ["espeak-ng vanished"]
