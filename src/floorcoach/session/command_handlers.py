"""What each command heard or typed does to the session, and the answers outside a question.

Every command is a move of the engine's state machine (skip, go back, start again, change
the count or the hold, pause, stop...), so `CommandHandlers` works on the engine it is
given; the engine hands it every `Heard` event. Pain, red flags and "go back" after a
misheard command are passed on to their own units.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from floorcoach.commands import Command, Feeling, Intent, Reply
from floorcoach.content.catalog import LoadedRoutine
from floorcoach.content.routine import Exercise, ExerciseKind
from floorcoach.session import undo
from floorcoach.session.counting import (
    estimate_speech_seconds,
    number_word,
    spoken_minutes,
    spoken_seconds,
)
from floorcoach.session.events import (
    ChangeSpeech,
    CueKind,
    Heard,
    InputSource,
    Phase,
    Priority,
    Unclear,
)
from floorcoach.session.pain_dialogue import NOT_CAUGHT
from floorcoach.session.step_planning import rep_step, unit_steps, welcome_steps
from floorcoach.session.steps import (
    CallStep,
    Outcome,
    PauseReason,
    RunningStep,
    SayStep,
    TimedStep,
)
from floorcoach.session.summary import ExerciseRecord

if TYPE_CHECKING:
    from floorcoach.session.engine import Engine

STOP_CONFIRM_SECONDS: Final = 10.0
STOP_QUESTION: Final = "Say stop again to end the session, or resume to carry on."
RATE_STEP_WPM: Final = 20
RATE_RANGE_WPM: Final = (90, 230)
VOLUME_STEP: Final = 0.15
VOLUME_RANGE: Final = (0.2, 1.0)
TEMPO_STEP: Final = 1.25
LENGTH_STEP: Final = 1.25


class CommandHandlers:
    """Carries out what the user says on the engine it belongs to."""

    def __init__(
        self,
        engine: Engine,
        *,
        on_feeling: Callable[[Feeling | None], tuple[LoadedRoutine, list[str]]] | None,
        progress_text: Callable[[], str] | None,
    ) -> None:
        self._engine = engine
        self._out = engine.out
        self._on_feeling = on_feeling
        self._progress_text = progress_text
        self._by_voice = False
        self._stop_asked_again = False
        self._opening_asked_again: set[str] = set()
        self.undo_snapshot: undo.Snapshot | None = None
        """The session before the last next / previous / restart heard by voice."""

    def on_heard(self, event: Heard) -> None:
        """Route words to the open question (red flag, pain, undo) or to their command."""
        engine, out = self._engine, self._out
        intent = event.intent
        voice = event.source is InputSource.VOICE
        out.log("heard", command=intent.value, text=event.text, source=event.source.value)
        if engine.red_flags.open is not None:
            engine.red_flags.answer(intent)
            return
        if intent.red_flag is not None:
            if voice:
                self.undo_snapshot = None
                engine.red_flags.ask(intent.red_flag)  # it may have been misheard
            else:
                engine.end_on_red_flag(intent.red_flag)  # typed: meant
            return
        if self._undo_wanted(intent):
            snapshot, self.undo_snapshot = self.undo_snapshot, None
            assert snapshot is not None
            undo.restore(engine, snapshot)
            return
        if engine.pain.question is not None and engine.pain.answer(intent):
            return
        if intent.reply is Reply.NO and engine.stop_deadline is not None:
            intent = Intent(command=Command.RESUME)  # "Say stop again ...": "no"
        if intent.command is None:
            self._on_stray_answer(intent)
            return
        command = intent.command
        if command in (Command.PAIN, Command.STOP):
            self.undo_snapshot = None
        if engine.stop_deadline is not None and command is not Command.STOP:
            engine.stop_deadline = None
            if command is Command.RESUME or engine.pause_reason is PauseReason.CONFIRM_STOP:
                if command is Command.RESUME:
                    engine.resume()
                    return
                engine.resume(announce=False)
        handler = getattr(self, f"_cmd_{command.value}")
        self._by_voice = voice
        answered = out.last_response
        try:
            handler(intent)
        finally:
            self._by_voice = False
        if out.last_response != answered:
            self._step_meets_answer(out.last_response)

    def _step_meets_answer(self, answer: tuple[int, str] | None) -> None:
        """An answer ("how long", "help") said during a timed step: `RunningStep.meet_answer`."""
        engine, running = self._engine, self._engine.running
        if answer and running and not engine.paused:
            ident, text = answer
            running.meet_answer(ident, engine.now, estimate_speech_seconds(text, engine.rate_wpm))

    def on_unclear(self, event: Unclear) -> None:
        """Words heard and not placed: ask the open question again (pain, "stop again?", and
        the opening questions: carry on from last time? how was your back?).

        Outside a question nothing happens: most such words are talk not meant for the
        player. The red-flag question keeps its own rule (yes, or silence for 8 s, ends the
        session: a missed red flag is worse than a false one).
        """
        engine = self._engine
        if engine.red_flags.open is not None or engine.finished:
            return
        if engine.pain.question is not None:
            engine.pain.ask_again(event.seconds)
            return
        if engine.stop_deadline is not None and not self._stop_asked_again:
            self._stop_asked_again = True
            engine.stop_deadline = max(engine.stop_deadline, engine.now + STOP_CONFIRM_SECONDS)
            self._out.log("not_caught", asking="stop", speech_seconds=round(event.seconds, 2))
            self._out.respond(f"{NOT_CAUGHT} {STOP_QUESTION}")
            return
        waiting = engine.waiting_for()  # the opening questions: carry on? how was your back?
        if waiting in ("resume_offer", "feeling") and waiting not in self._opening_asked_again:
            self._opening_asked_again.add(waiting)
            self._out.log("not_caught", asking=waiting, speech_seconds=round(event.seconds, 2))
            self._out.respond(NOT_CAUGHT)
            question = engine.steps[engine.step_index - 1]
            assert isinstance(question, SayStep), question  # step_planning.opening_steps
            engine.running = None
            engine.step_index -= 1  # the question again, then its whole wait
            engine.begin_step()

    def _on_stray_answer(self, intent: Intent) -> None:
        engine = self._engine
        if intent.feeling is not None and engine.waiting_for() == "feeling":
            self._take_feeling(intent.feeling)
            return
        if intent.query == "progress":
            text = self._progress_text() if self._progress_text else ""
            self._out.respond(text or "I don't have any history to go on yet.")
            engine.reissue_if_instruction()
            return
        if intent.feeling is not None:
            self._out.respond("Thanks. If something hurts, say 'that hurts'.")
            return
        if intent.reply is not None:
            self._out.respond("Okay.")
            engine.reissue_if_instruction()
            return
        if intent.location is not None:
            if engine.pain.late_location(intent.location):
                return
            # "it's in my leg" out of the blue is a pain report with its answer
            engine.pain.report(None, intent.location)
            return
        self._out.respond(
            "If something hurts, say 'that hurts'. Say help to hear what you can say."
        )

    def _take_feeling(self, feeling: Feeling) -> None:
        engine = self._engine
        self._out.log("next_day_feeling", feeling=feeling.value)
        if self._on_feeling is not None:
            loaded, lines = self._on_feeling(feeling)
            engine.loaded = loaded
            engine.records = [ExerciseRecord(item.index, item.exercise.id) for item in loaded.items]
            engine.intro_lines = list(lines)
        self._out.respond(f"Thanks. {feeling.value.capitalize()}, noted.")
        engine.end_wait()

    def _undo_wanted(self, intent: Intent) -> bool:
        snapshot = self.undo_snapshot
        if snapshot is None or self._engine.now > snapshot.until + 1e-9:
            self.undo_snapshot = None
            return False
        return intent.command in (Command.UNDO, Command.PREVIOUS) or intent.reply is Reply.NO

    def _snapshot(self, command: Command) -> undo.Snapshot | None:
        """The session before a consequential command, when it was heard by voice."""
        return undo.take(self._engine, command) if self._by_voice else None

    # ------------------------------------------------------------ moving through the routine

    def _cmd_pain(self, intent: Intent) -> None:
        self._engine.pain.report(intent.number)

    def _cmd_pause(self, intent: Intent) -> None:
        if self._engine.paused:
            self._out.respond("Still paused. Say resume when you're ready.")
            return
        self._engine.pause(PauseReason.USER)
        self._out.say("Paused. Say resume when you're ready.", Priority.RESPONSE)

    def _cmd_resume(self, intent: Intent) -> None:
        engine = self._engine
        if engine.waiting_for() == "resume_offer" and not engine.paused:
            offer = engine.resume_offer or 0
            engine.start_index = offer
            engine.ask_feeling = False
            self._out.log("resume_accepted", index=offer)
            self._out.respond(f"Carrying on from {engine.loaded.items[offer].exercise.name}.")
            if engine.pain.start_pain is not None:
                # the first exercise is another one now
                engine.pain.plan_start(*engine.pain.start_pain)
            engine.steps = [*engine.steps[: engine.step_index + 1], CallStep("welcome")]
            engine.end_wait()
            return
        if not engine.paused:
            self._out.respond("We're already going.")
            return
        self._out.stop_speech()
        engine.resume()

    def _cmd_next(self, intent: Intent) -> None:
        engine, out = self._engine, self._out
        if engine.waiting_for() in ("resume_offer", "feeling") and not engine.paused:
            tag = engine.waiting_for()
            out.log(
                "resume_declined" if tag == "resume_offer" else "next_day_unanswered", reason="next"
            )
            out.respond("Okay.")
            engine.end_wait()
            return
        snapshot = self._snapshot(Command.NEXT)
        engine.resume_silently()
        if engine.item_index < 0:
            out.respond("Let's start.")
            engine.steps, engine.step_index = [], 0
            engine.begin_step()
            return
        last = engine.item_index + 1 >= len(engine.loaded.items)
        if snapshot is not None and engine.perf is not None:
            # say what was skipped, and how to have it back: a misheard "next" costs nothing
            self.undo_snapshot = snapshot
            name = engine.perf.exercise.name
            out.respond(
                f"Skipping {name}{', the last exercise' if last else ''}. "
                "Say go back to return to it."
            )
            out.log("decision", decision="next", reason="asked", undo_seconds=undo.UNDO_SECONDS)
            if last:
                # the session ends once "go back" can no longer bring the exercise back
                engine.leaving_early = True
                engine.running = None
                engine.steps = [TimedStep(Phase.REST, undo.UNDO_SECONDS, tag="undo")]
                engine.step_index = 0
                engine.begin_step()
                return
            engine.leave_exercise()
            return
        if not last:
            out.respond(f"Moving on to {engine.loaded.items[engine.item_index + 1].exercise.name}.")
        else:
            out.respond("That was the last exercise.")
        out.log("decision", decision="next", reason="asked")
        engine.leave_exercise()

    def _cmd_previous(self, intent: Intent) -> None:
        engine = self._engine
        snapshot = self._snapshot(Command.PREVIOUS)
        engine.resume_silently()
        target = max(0, engine.item_index - 1)
        leaving = engine.perf.exercise.name if engine.perf is not None else None
        undo_hint = ""
        if snapshot is not None and leaving is not None:
            self.undo_snapshot = snapshot
            undo_hint = f" Say go back to return to {leaving}."
        if engine.item_index <= 0:
            if undo_hint:
                undo_hint = " Say go back to return to where you were."
            self._out.respond(f"This is the first exercise, so let's start it again.{undo_hint}")
            target = 0
        else:
            name = engine.loaded.items[target].exercise.name
            self._out.respond(f"Going back to {name}.{undo_hint}")
        if engine.perf is not None:
            engine.close_exercise()
        engine.records[target].outcome = Outcome.NOT_REACHED
        engine.open_exercise(target, arriving=False)
        engine.begin_step()

    def _cmd_restart(self, intent: Intent) -> None:
        engine = self._engine
        snapshot = self._snapshot(Command.RESTART)
        engine.resume_silently()
        if engine.perf is None:
            self._out.respond("Starting from the beginning.")
            engine.steps = welcome_steps(engine.loaded, engine.start_index, engine.intro_lines)
            engine.step_index = 0
            engine.begin_step()
            return
        index = engine.item_index
        undo_hint = ""
        if snapshot is not None:
            self.undo_snapshot = snapshot
            undo_hint = " Say go back to return to where you were."
        self._out.respond(f"Starting {engine.perf.exercise.name} again.{undo_hint}")
        swapped = engine.perf.exercise.id != engine.perf.item.exercise.id
        variant = engine.perf.exercise if swapped else None
        engine.perf = None
        engine.open_exercise(index, arriving=False, exercise=variant)
        engine.begin_step()

    def _cmd_undo(self, intent: Intent) -> None:
        self._out.respond("There's nothing to undo.")
        self._engine.reissue_if_instruction()

    def _cmd_repeat(self, intent: Intent) -> None:
        engine = self._engine
        if engine.saying_instruction:
            self._out.stop_speech()
            engine.begin_step()  # re-say the instruction and wait for it again
            return
        self._out.respond(engine.last_instruction or "Nothing to repeat yet.")

    def _cmd_done(self, intent: Intent) -> None:
        engine = self._engine
        running = engine.running
        if engine.paused:
            self._out.respond("We're paused. Say resume to go on.")
            return
        if running is not None and running.step.phase in (Phase.HOLD, Phase.REP, Phase.WALK):
            self._out.respond("Okay, relax.")
            if engine.perf is not None:
                engine.perf.completed.update(running.step.keys)
            engine.running = None
            engine.finish_step()
            return
        if running is not None:
            self._out.respond("Okay.")
            engine.running = None
            engine.finish_step()
            return
        self._out.stop_speech()
        self._out.cue(CueKind.BEAT)
        engine.finish_step()

    def _cmd_stop(self, intent: Intent) -> None:
        engine = self._engine
        if engine.stop_deadline is not None:
            engine.stop_deadline = None
            self._out.stop_speech()
            self._out.log("decision", decision="stop", reason="confirmed")
            engine.paused_at = None
            engine.pain.question = None
            engine.close_exercise()
            engine.end_session()
            return
        engine.pause(PauseReason.CONFIRM_STOP)
        engine.stop_deadline = engine.now + STOP_CONFIRM_SECONDS
        self._stop_asked_again = False
        self._out.say(STOP_QUESTION, Priority.RESPONSE)

    # ------------------------------------------------------------ questions

    def _cmd_how_long(self, intent: Intent) -> None:
        engine = self._engine
        left = engine.remaining_seconds()
        where = engine.where_text() if engine.running is not None else ""
        total = f"About {spoken_minutes(left).removeprefix('about ')} left in the session."
        if left < 60:
            total = "Less than a minute left in the session."
        self._out.respond(f"{where[0].upper() + where[1:]} {total}" if where else total)
        engine.reissue_if_instruction()

    def _cmd_whats_next(self, intent: Intent) -> None:
        engine = self._engine
        following = engine.item_index + 1
        if following < len(engine.loaded.items):
            text = f"Next is {engine.loaded.items[following].exercise.name}."
        else:
            text = "This is the last exercise."
        self._out.respond(text)
        engine.reissue_if_instruction()

    def _cmd_help(self, intent: Intent) -> None:
        engine = self._engine
        if engine.paused:
            text = "We're paused. Say resume to go on, next to skip, or stop to end."
        elif engine.phase in (Phase.HOLD, Phase.REP, Phase.WALK):
            text = (
                "You can say pause, shorter, longer, slower, how long, that hurts, "
                "too easy, next, or stop."
            )
        else:
            text = "You can say pause, repeat, next, go back, how long, that hurts, or stop."
        self._out.respond(text)
        engine.reissue_if_instruction()

    # ------------------------------------------------------------ count, hold and reps

    def _cmd_slower(self, intent: Intent) -> None:
        self._change_tempo(TEMPO_STEP, "slower")

    def _cmd_faster(self, intent: Intent) -> None:
        self._change_tempo(1 / TEMPO_STEP, "faster")

    def _change_tempo(self, factor: float, word: str) -> None:
        engine = self._engine
        new = min(3.0, max(0.5, engine.tempo_factor * factor))
        if math.isclose(new, engine.tempo_factor):
            self._out.respond(f"That's as {word.removesuffix('er')} as I count.")
            return
        engine.tempo_factor = new
        self._out.log("decision", decision=f"tempo_{word}", tempo_factor=round(new, 3))
        running = engine.running
        if running is not None and running.step.phase is Phase.REP and engine.perf is not None:
            self._out.respond(f"Counting {word}.")
            self._restart_reps_from_now(running)
        else:
            self._out.respond(f"Okay, I'll count the reps {word}.")

    def _restart_reps_from_now(self, running: RunningStep) -> None:
        """Re-plan the remaining reps of this block on the new tempo, from this moment."""
        engine = self._engine
        perf = engine.perf
        assert perf is not None
        engine.running = None
        perf.completed.update(running.step.keys[: running.beats_done()])
        remaining = [key for key in running.step.keys if key not in perf.completed]
        if not remaining:
            engine.finish_step()
            return
        step = rep_step(perf, remaining, tempo_factor=engine.tempo_factor)
        engine.steps[engine.step_index] = step
        engine.start_timed(step, engine.now + 1.0)

    def _cmd_shorter(self, intent: Intent) -> None:
        self._change_length(1 / LENGTH_STEP)

    def _cmd_longer(self, intent: Intent) -> None:
        self._change_length(LENGTH_STEP)

    def _change_length(self, factor: float) -> None:
        perf = self._engine.perf
        out = self._out
        if perf is None or perf.exercise.kind is ExerciseKind.TIMED:
            out.respond("There's nothing to make shorter or longer right now.")
            return
        ex = perf.exercise
        word = "longer" if factor > 1 else "shorter"
        if ex.kind is ExerciseKind.HOLD:
            low, high = ex.hold_range_seconds
            new = min(high, max(low, round(perf.hold_seconds * factor)))
            if new == perf.hold_seconds:
                out.respond(f"That's already the {word.removesuffix('er')}est hold for this one.")
                return
            perf.hold_seconds = new
            out.respond(f"Holds are now {spoken_seconds(new)}.")
            out.log("decision", decision=word, hold_seconds=new)
            self._retime_hold()
        else:
            low_reps, high_reps = ex.reps_range
            step = 2 if factor > 1 else -2
            new_reps = min(high_reps, max(low_reps, perf.reps + step))
            if new_reps == perf.reps:
                most = "most" if factor > 1 else "fewest"
                out.respond(f"That's already the {most} reps for this one.")
                return
            perf.reps = new_reps
            out.respond(f"Okay, {number_word(new_reps)} reps.")
            out.log("decision", decision=word, reps=new_reps)
            self._replan_rest_of_exercise()

    def _cmd_too_easy(self, intent: Intent) -> None:
        engine, out = self._engine, self._out
        perf = engine.perf
        if perf is None:
            out.respond("Let's see how the first exercise feels.")
            return
        ex = perf.exercise
        if ex.kind is ExerciseKind.HOLD and perf.hold_seconds < ex.hold_range_seconds[1]:
            perf.hold_seconds = min(ex.hold_range_seconds[1], round(perf.hold_seconds * 1.25))
            out.respond(f"Let's hold longer: {spoken_seconds(perf.hold_seconds)}.")
            out.log("decision", decision="harder", hold_seconds=perf.hold_seconds)
            self._retime_hold()
            return
        if ex.kind is ExerciseKind.REPS and perf.reps < ex.reps_range[1]:
            perf.reps = min(ex.reps_range[1], perf.reps + 2)
            out.respond(f"Let's do more: {number_word(perf.reps)} reps.")
            out.log("decision", decision="harder", reps=perf.reps)
            self._replan_rest_of_exercise()
            return
        harder: Exercise | None = engine.loaded.variant(ex, "harder")
        if harder is not None:
            out.respond(f"You're at the top of this one. Let's move up to {harder.name}.")
            out.log("decision", decision="harder_variant", variant=harder.id)
            engine.swap_variant(harder, Outcome.HARDER_VARIANT)
            return
        out.respond("You're at the top of this exercise; I'll note that for next time.")
        out.log("decision", decision="at_top", reason="too_easy")

    def _retime_hold(self) -> None:
        """Apply a new hold length to the hold in progress and to the holds still to come."""
        engine = self._engine
        assert engine.perf is not None
        running = engine.running
        if running is not None and running.step.phase is Phase.HOLD:
            elapsed = (engine.paused_at or engine.now) - running.start
            seconds = max(engine.perf.hold_seconds, elapsed + 3.0)
            step = TimedStep(
                Phase.HOLD,
                seconds,
                keys=running.step.keys,
                end_cue=running.step.end_cue,
                end_text=running.step.end_text,
            )
            actions = [a for a in engine.schedule(step) if a.offset > elapsed + 1e-6]
            engine.running = RunningStep(step, running.start, actions)
            engine.steps[engine.step_index] = step
        self._replan_rest_of_exercise()

    def _replan_rest_of_exercise(self) -> None:
        """Swap the steps after the current one for a fresh plan of what is left."""
        engine = self._engine
        perf = engine.perf
        assert perf is not None
        current = engine.steps[: engine.step_index + 1]
        running_keys = set(engine.running.step.keys) if engine.running is not None else set()
        saved = set(perf.completed)
        perf.completed |= running_keys
        rest = unit_steps(perf, tempo_factor=engine.tempo_factor)
        perf.completed = saved
        engine.steps = current + rest

    # ------------------------------------------------------------ voice

    def _cmd_louder(self, intent: Intent) -> None:
        self._change_volume(VOLUME_STEP, "Louder.", "That's as loud as I go.")

    def _cmd_quieter(self, intent: Intent) -> None:
        self._change_volume(-VOLUME_STEP, "Quieter.", "That's as quiet as I go.")

    def _change_volume(self, step: float, said: str, at_limit: str) -> None:
        engine = self._engine
        new = round(min(VOLUME_RANGE[1], max(VOLUME_RANGE[0], engine.volume + step)), 2)
        if new == engine.volume:
            self._out.respond(at_limit)
            return
        engine.volume = new
        self._out.stop_speech()
        self._out.add(ChangeSpeech(engine.rate_wpm, engine.volume))
        self._out.say(f"{said} Is this better?", Priority.RESPONSE)
        self._out.log("decision", decision="volume", volume=new)

    def _cmd_speak_slower(self, intent: Intent) -> None:
        self._change_rate(-RATE_STEP_WPM, "I'll speak more slowly.", "This is my slowest.")

    def _cmd_speak_faster(self, intent: Intent) -> None:
        self._change_rate(RATE_STEP_WPM, "I'll speak a little faster.", "This is my fastest.")

    def _change_rate(self, step: int, said: str, at_limit: str) -> None:
        engine = self._engine
        new = min(RATE_RANGE_WPM[1], max(RATE_RANGE_WPM[0], engine.rate_wpm + step))
        if new == engine.rate_wpm:
            self._out.respond(at_limit)
            return
        engine.rate_wpm = new
        self._out.stop_speech()
        self._out.add(ChangeSpeech(engine.rate_wpm, engine.volume))
        self._out.say(said, Priority.RESPONSE)
        self._out.log("decision", decision="speech_rate", rate_wpm=new)
        engine.reissue_if_instruction()
