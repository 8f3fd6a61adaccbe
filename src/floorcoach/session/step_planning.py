"""Turning a routine and an exercise's numbers into the steps the engine plays.

Pure functions: the same routine, performance and tempo always give the same steps, so a
plan can be rebuilt at any moment (after "longer", a pain decision, "go back") and looked
at in tests without running a session. Also the gentler numbers a pain decision asks for.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Final

from floorcoach.content.catalog import LoadedRoutine, ResolvedItem
from floorcoach.content.routine import Exercise, ExerciseKind, PainRules, Sides
from floorcoach.session.counting import (
    counted,
    estimate_speech_seconds,
    join_words,
    number_word,
    spoken_minutes,
    spoken_seconds,
    times_word,
)
from floorcoach.session.events import CueKind, Phase
from floorcoach.session.steps import CallStep, Performance, SayStep, Step, TimedStep, UnitKey

RESUME_OFFER_SECONDS: Final = 10.0
FEELING_WAIT_SECONDS: Final = 12.0


# ---------------------------------------------------------------- the session around exercises


def opening_steps(loaded: LoadedRoutine, resume_offer: int | None, ask_feeling: bool) -> list[Step]:
    """Questions that shape the day (resume? how was your back?), then the welcome."""
    steps: list[Step] = []
    if resume_offer is not None and 0 < resume_offer < len(loaded.items):
        name = loaded.items[resume_offer].exercise.name
        steps.append(
            SayStep(
                f"Welcome back. Last time you stopped at {name}. Say resume to carry on "
                "from there, or next to start from the beginning.",
                Phase.WELCOME,
            )
        )
        steps.append(TimedStep(Phase.WELCOME, RESUME_OFFER_SECONDS, tag="resume_offer"))
    if ask_feeling:
        steps.append(
            SayStep(
                "Before we start: how did your back feel after last time? "
                "Better, the same, or worse?",
                Phase.WELCOME,
            )
        )
        steps.append(TimedStep(Phase.WELCOME, FEELING_WAIT_SECONDS, tag="feeling"))
    steps.append(CallStep("welcome"))
    return steps


def welcome_steps(
    loaded: LoadedRoutine, start_index: int, intro_lines: Sequence[str]
) -> list[Step]:
    """The welcome, the day's plan (a call: said as planned by then), safety notes, commands."""
    routine = loaded.routine
    items = loaded.items[start_index:]
    if start_index > 0:
        first = items[0].exercise.name
        number, total = start_index + 1, len(loaded.items)
        text = (
            f"Welcome back to {routine.name}. "
            f"We'll pick up at exercise {number} of {total}: {first}."
        )
    else:
        text = f"Welcome to {routine.name}. {routine.description}"
    steps: list[Step] = [SayStep(text, Phase.WELCOME)]
    steps.extend(SayStep(line, Phase.WELCOME) for line in intro_lines)
    steps.append(CallStep("today"))  # said as planned by then (pain may change the start)
    steps.extend(SayStep(note, Phase.WELCOME) for note in routine.safety_notes)
    steps.append(
        SayStep(
            # true by voice too: over the player, only pause, stop, pain and red flags are
            # taken (self_voice.EchoGate); other commands wait until it is quiet
            "Say pause or that hurts at any time, even while I'm talking. "
            "Say next, or help to hear more, when I'm quiet.",
            Phase.WELCOME,
        )
    )
    return steps


def day_plan_text(
    loaded: LoadedRoutine,
    start_index: int,
    replaced: Mapping[int, Exercise | None],
    seconds: float | None,
) -> str:
    """The day's plan as said: the exercises as they will be played, and how long.

    replaced: routine items played as another exercise (an easier variant) or, None, not
    at all. seconds: the estimated length of the session, or None not to say it.
    """
    names: list[str] = []
    for item in loaded.items[start_index:]:
        if item.index in replaced:
            instead = replaced[item.index]
            if instead is not None:
                names.append(instead.name.lower())
            continue
        names.append(item.exercise.name.lower())
    text = f"Today: {join_words(_unique(names))}." if names else "Nothing more today."
    if seconds is not None:
        text += f" It takes {spoken_minutes(seconds)}."
    return text


def _unique(names: list[str]) -> list[str]:
    seen: list[str] = []
    for name in names:
        if name not in seen:
            seen.append(name)
    return seen


# ---------------------------------------------------------------- one exercise


def exercise_steps(
    perf: Performance,
    loaded: LoadedRoutine,
    *,
    intro: bool,
    arriving: bool,
    tempo_factor: float,
) -> list[Step]:
    """An exercise's steps: the rest before it and its introduction (intro), then its units.

    arriving: the previous exercise was finished, so a rest comes first.
    """
    ex = perf.exercise
    steps: list[Step] = []
    if intro:
        number, total = perf.item.index + 1, len(loaded.items)
        rest = loaded.routine.rest_between_exercises_seconds
        if arriving and number > 1 and rest:
            text = f"Well done. Rest for {spoken_seconds(rest)}; next is {ex.name}."
            steps.append(TimedStep(Phase.REST, rest, intro=text))
        steps.append(SayStep(f"Exercise {number} of {total}: {ex.name}.", Phase.ANNOUNCE))
        steps.append(SayStep(f"For this one, you'll be {ex.position.spoken}.", Phase.ANNOUNCE))
        steps.extend(SayStep(line, Phase.INSTRUCT) for line in ex.setup)
        steps.extend(SayStep(line, Phase.INSTRUCT) for line in ex.precautions)
        if perf.rules.stop_note:
            steps.append(SayStep(perf.rules.stop_note, Phase.INSTRUCT))
        steps.append(SayStep(work_description(perf), Phase.INSTRUCT))
    steps.extend(unit_steps(perf, tempo_factor=tempo_factor))
    return steps


def work_description(perf: Performance) -> str:
    """What the exercise asks for, as said before it starts."""
    ex = perf.exercise
    if ex.kind is ExerciseKind.TIMED:
        minutes = (ex.duration_minutes or 0) * 60
        return (
            f"Walk for {spoken_seconds(minutes)} at a comfortable pace. "
            f"I'll tell you the time every {spoken_seconds(ex.time_check_every_seconds)}."
        )
    sides = {
        Sides.NONE: "",
        Sides.LEFT_THEN_RIGHT: " on each side, left side first",
        Sides.ALTERNATE: " on each side, alternating sides",
    }[ex.sides]
    sets = f", {number_word(perf.sets)} sets" if perf.sets > 1 else ""
    if ex.kind is ExerciseKind.HOLD:
        times = times_word(perf.reps)
        return f"Hold for {spoken_seconds(perf.hold_seconds)}, {times}{sides}{sets}."
    top = (
        f", holding {spoken_seconds(perf.hold_seconds)} at the top" if perf.hold_seconds > 0 else ""
    )
    reps = "1 rep" if perf.reps == 1 else f"{perf.reps} reps"
    return f"{reps}{sides}{sets}{top}. I'll count."


def unit_steps(perf: Performance, *, tempo_factor: float) -> list[Step]:
    """The holds, rep blocks or walk still to do, with rests and side changes between."""
    ex = perf.exercise
    if ex.kind is ExerciseKind.TIMED:
        seconds = (ex.duration_minutes or 0) * 60
        if perf.completed:
            return []
        return [
            SayStep("Ready, and start walking.", Phase.INSTRUCT, cue_after=CueKind.START),
            TimedStep(
                Phase.WALK,
                seconds,
                keys=((0, "", 0),),
                end_cue=CueKind.END,
                end_text="Time's up. Well done; slow down and stop.",
            ),
        ]
    steps: list[Step] = []
    previous: UnitKey | None = None
    for group in group_units(perf):
        first = group[0]
        if previous is not None:
            if previous[0] != first[0]:
                rest = ex.rest_seconds
                text = f"Rest for {spoken_seconds(rest)}. Then set {first[0] + 1} of {perf.sets}."
                steps.append(TimedStep(Phase.REST, rest, intro=text, end_cue=CueKind.REST_OVER))
            elif ex.relax_seconds > 0:
                steps.append(TimedStep(Phase.REST, ex.relax_seconds))
        counted_sides = ex.kind is ExerciseKind.REPS and ex.sides is Sides.ALTERNATE
        if first[1] and not counted_sides:
            if previous is None or previous[0] != first[0]:
                steps.append(SayStep(f"{first[1].capitalize()} side.", Phase.SWITCH_SIDE))
            elif previous[1] != first[1]:
                steps.append(
                    SayStep(
                        f"Now the {first[1]} side.",
                        Phase.SWITCH_SIDE,
                        cue_before=CueKind.SWITCH,
                    )
                )
        # reps start on their first beat; a start tone as well would push that beat late
        start_cue = CueKind.START if ex.kind is ExerciseKind.HOLD else None
        steps.append(SayStep("Ready, and begin.", Phase.INSTRUCT, cue_after=start_cue))
        if ex.kind is ExerciseKind.HOLD:
            steps.append(
                TimedStep(
                    Phase.HOLD,
                    perf.hold_seconds,
                    keys=tuple(group),
                    end_cue=CueKind.END,
                    end_text="And relax.",
                )
            )
        else:
            steps.append(rep_step(perf, group, tempo_factor=tempo_factor))
        previous = group[-1]
    return steps


def rep_step(perf: Performance, keys: list[UnitKey], *, tempo_factor: float) -> TimedStep:
    """A block of reps counted on the current tempo (with any hold at the top)."""
    period = perf.tempo_seconds * tempo_factor + perf.hold_seconds
    return TimedStep(
        Phase.REP,
        period * len(keys),
        keys=tuple(keys),
        end_cue=CueKind.END,
        end_text="And relax.",
        period_seconds=period,
        top_hold_seconds=perf.hold_seconds,
    )


def group_units(perf: Performance) -> list[list[UnitKey]]:
    """Holds are one unit each; reps are grouped into blocks counted in one go."""
    remaining = perf.remaining()
    if perf.exercise.kind is ExerciseKind.HOLD:
        return [[unit] for unit in remaining]
    groups: list[list[UnitKey]] = []
    for unit in remaining:
        same_block = groups and groups[-1][-1][0] == unit[0]
        if same_block and perf.exercise.sides is not Sides.ALTERNATE:
            same_block = groups[-1][-1][1] == unit[1]
        if same_block:
            groups[-1].append(unit)
        else:
            groups.append([unit])
    return groups


# ---------------------------------------------------------------- gentler numbers


def reduced_numbers(
    ex: Exercise, hold_seconds: float, reps: int, tempo_seconds: float, rules: PainRules
) -> tuple[float, int, float] | None:
    """Hold, reps and tempo made gentler by the pain rules; None when nothing would change."""
    keep = 1 - (rules.reduce_fraction or 0.3)
    new_reps = min(reps, max(ex.reps_range[0], math.floor(reps * keep))) if reps > 1 else reps
    new_hold = hold_seconds
    if ex.kind is ExerciseKind.HOLD:
        new_hold = min(hold_seconds, max(ex.hold_range_seconds[0], round(hold_seconds * keep)))
    new_tempo = max(tempo_seconds, min(20.0, tempo_seconds * (rules.tempo_slowdown or 1.5)))
    if ex.kind is ExerciseKind.HOLD:
        changed = new_hold != hold_seconds or new_reps != reps
    elif ex.kind is ExerciseKind.REPS:
        changed = new_reps != reps or not math.isclose(new_tempo, tempo_seconds)
    else:
        changed = True  # a walk is eased by its pace
    return (new_hold, new_reps, new_tempo) if changed else None


def gentler_plan(
    ex: Exercise, before: Performance, hold_seconds: float, reps: int, tempo_seconds: float
) -> str:
    """What a reduction changes, as said: only numbers that are now true."""
    sides = "" if ex.sides is Sides.NONE else " on each side"
    if ex.kind is ExerciseKind.HOLD:
        plan = f"holds of {spoken_seconds(hold_seconds)}"
        if reps != before.reps:
            plan += f", {times_word(reps)}{sides}"
        return plan
    if ex.kind is ExerciseKind.REPS:
        plan = f"{counted(reps, 'rep')}{sides}"
        if not math.isclose(tempo_seconds, before.tempo_seconds):
            plan += " with a slower count"
        return plan
    return "an easier pace"


def cannot_reduce(ex: Exercise) -> str:
    """Why there is nothing gentler in the numbers, to follow the exercise's name."""
    return (
        "can't be made any shorter" if ex.kind is ExerciseKind.HOLD else "can't be made any gentler"
    )


# ---------------------------------------------------------------- how long, from the plan


def step_seconds(step: Step, rate_wpm: int) -> float:
    """How long a step takes: its clock time, or how long its words take to say."""
    if isinstance(step, SayStep):
        return estimate_speech_seconds(step.text, rate_wpm)
    if isinstance(step, CallStep):
        return 0.0
    return step.seconds


def exercise_seconds(
    item: ResolvedItem, loaded: LoadedRoutine, rate_wpm: int, tempo_factor: float
) -> float:
    """How long a routine item takes as planned, arriving from the one before."""
    perf = Performance.of(item)
    steps = exercise_steps(perf, loaded, intro=True, arriving=True, tempo_factor=tempo_factor)
    return sum(step_seconds(step, rate_wpm) for step in steps)


def planned_seconds(
    loaded: LoadedRoutine,
    steps: Sequence[Step],
    next_index: int,
    rate_wpm: int,
    tempo_factor: float,
    *,
    start: float = 0.0,
) -> float:
    """`start`, plus how long `steps` take, then the items from `next_index` on, as planned."""
    total = start
    for step in steps:
        total += step_seconds(step, rate_wpm)
    for item in loaded.items[next_index:]:
        total += exercise_seconds(item, loaded, rate_wpm, tempo_factor)
    return total
