"""What is said and played at which second inside a timed step.

Holds get a countdown with form cues and breathing reminders in their quiet gaps, reps a
beat per rep (with "Hold." / "And down." around a hold at the top), walks a time check.
Every offset is from the step's start, so the engine can keep them on absolute deadlines.
"""

from __future__ import annotations

from typing import Final

from floorcoach.content.routine import Exercise, Sides
from floorcoach.session.counting import (
    estimate_speech_seconds,
    hold_countdown,
    number_word,
    spoken_seconds,
)
from floorcoach.session.events import CueKind, Phase, Priority
from floorcoach.session.steps import ScheduledAction, TimedStep

FORM_CUE_MIN_HOLD_SECONDS: Final = 15.0
BREATHING_REMINDER: Final = "Keep breathing slowly. Never hold your breath."


def schedule(
    step: TimedStep, exercise: Exercise | None, rate_wpm: int, form_cue_turn: int
) -> tuple[list[ScheduledAction], int]:
    """The actions of a timed step, ending with its end; and the form-cue turn to go on from.

    `exercise` is the one being done (None between exercises); `form_cue_turn` counts the
    form cues said so far this session, so each long hold picks up where the last left off.
    """
    actions: list[ScheduledAction] = []
    if step.phase is Phase.HOLD:
        marks = hold_countdown(step.seconds)
        actions = [ScheduledAction(offset, text, timely=True) for offset, text in marks]
        if step.seconds >= FORM_CUE_MIN_HOLD_SECONDS:
            actions, form_cue_turn = _with_form_cues(
                actions, step.seconds, exercise, rate_wpm, form_cue_turn
            )
    elif step.phase is Phase.REP:
        actions = _rep_actions(step, exercise)
    elif step.phase is Phase.WALK:
        actions = _walk_actions(step.seconds, exercise)
    end = ScheduledAction(step.seconds, step.end_text, step.end_cue, step.keys)
    if step.phase is Phase.REP:
        end.complete = step.keys[-1:]
    return [*actions, end], form_cue_turn


def _with_form_cues(
    marks: list[ScheduledAction],
    seconds: float,
    exercise: Exercise | None,
    rate_wpm: int,
    turn: int,
) -> tuple[list[ScheduledAction], int]:
    """Put form cues and breathing reminders into the quiet gaps of a long hold."""
    cues = [*(exercise.form_cues if exercise else []), BREATHING_REMINDER]
    result: list[ScheduledAction] = []
    previous_end = 2.0  # let "begin" settle first
    for mark in [*marks, ScheduledAction(seconds)]:
        text = cues[turn % len(cues)]
        length = estimate_speech_seconds(text, rate_wpm)
        if mark.offset - previous_end >= length + 2.0:
            result.append(
                ScheduledAction(
                    previous_end + 0.5, text, priority=Priority.CUE, interruptible=True, timely=True
                )
            )
            turn += 1
        if mark.text is not None:
            result.append(mark)
            previous_end = mark.offset + estimate_speech_seconds(mark.text, rate_wpm)
    return result, turn


def _rep_actions(step: TimedStep, exercise: Exercise | None) -> list[ScheduledAction]:
    actions: list[ScheduledAction] = []
    alternate = exercise is not None and exercise.sides is Sides.ALTERNATE
    for beat, key in enumerate(step.keys):
        offset = beat * step.period_seconds
        count = number_word(key[2] + 1)
        if alternate and key[1]:
            count = f"{count}, {key[1]}"
        done = step.keys[beat - 1 : beat] if beat > 0 else ()
        actions.append(ScheduledAction(offset, count.capitalize() + ".", CueKind.BEAT, done))
        if step.top_hold_seconds > 0:
            tempo = step.period_seconds - step.top_hold_seconds
            actions.append(ScheduledAction(offset + tempo / 2, "Hold."))
            actions.append(ScheduledAction(offset + tempo / 2 + step.top_hold_seconds, "And down."))
    return actions


def _walk_actions(seconds: float, exercise: Exercise | None) -> list[ScheduledAction]:
    every = exercise.time_check_every_seconds if exercise else 60.0
    actions: list[ScheduledAction] = []
    elapsed = every
    while elapsed < seconds - 5:
        left = seconds - elapsed
        text = f"{spoken_seconds(elapsed)} done, {spoken_seconds(left)} to go."
        actions.append(ScheduledAction(elapsed, text, timely=True))
        elapsed += every
    return actions
