"""No lasting harm from a misheard word (issue 16, section 2), on the engine's virtual clock.

By voice, next, previous and restart can be taken back with "go back" (or "no", "undo") for
ten seconds, and a warning sign is asked back before the session ends on it. Typed words
are meant: no undo offer, no question.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine_effects import records as _records
from engine_effects import says as _says
from floorcoach.commands import (
    Command,
    Intent,
    ListenContext,
    RedFlag,
    Reply,
    normalize,
    parse,
    spoken_table,
)
from floorcoach.content.catalog import LoadedRoutine
from floorcoach.session.events import (
    CueKind,
    InputSource,
    Phase,
    PlayCue,
    Priority,
    Say,
    SessionEnded,
    StopSpeech,
)
from floorcoach.session.red_flag_check import DENY_WORD, RED_FLAG_QUESTIONS
from floorcoach.session.simulate import Simulation
from floorcoach.session.undo import UNDO_SECONDS

VOICE = InputSource.VOICE


def _at_hold(loaded: LoadedRoutine, exercise: str = "stretch", seconds: float = 0.0) -> Simulation:
    sim = Simulation(loaded)
    assert sim.run_until(
        lambda s: s.engine.phase is Phase.HOLD and s.engine.exercise_id == exercise
    )
    sim.advance(seconds)
    return sim


def _words_end(sim: Simulation, text: str) -> float:
    """When the player finished saying `text` (the clock of a timed step waits for it)."""
    return next(end for _, end, say in sim.speaker.spoken if say.text == text)


def _next_end_tone(sim: Simulation, after: float) -> float:
    sim.run_until(
        lambda s: any(
            isinstance(e, PlayCue) and e.cue is CueKind.END and t > after
            for t, e in s.result.effects
        )
    )
    return next(
        t
        for t, e in sim.result.effects
        if isinstance(e, PlayCue) and e.cue is CueKind.END and t > after
    )


# ---------------------------------------------------------------- undo


@pytest.mark.parametrize("words", ["go back", "no", "undo"])
def test_next_by_voice_can_be_taken_back_to_the_same_moment(
    shapes: LoadedRoutine, words: str
) -> None:
    sim = _at_hold(shapes, seconds=10.0)  # 20 s of the first 30 s hold left
    said = _says(sim.hear("next", source=VOICE))
    assert said[0] == "Skipping Test stretch. Say go back to return to it."
    assert said[1] == "Exercise 2 of 4: Test lift."
    assert sim.engine.exercise_id == "lift"
    sim.advance(4.0)
    said = _says(sim.hear(words, source=VOICE))
    assert said == ["Back to Test stretch: hold, 20 seconds left."]
    assert sim.engine.exercise_id == "stretch"
    assert sim.engine.phase is Phase.HOLD
    end_tone = _next_end_tone(sim, sim.now)
    # 20 s left once that was said: the clock waited for the words
    assert end_tone - _words_end(sim, said[0]) == pytest.approx(20.0)
    undo = _records(sim, "undo")
    assert [(r["command"], r["index"]) for r in undo] == [("next", 0)]
    restarted = [r for r in _records(sim, "exercise_start") if r.get("restored")]
    assert [r["index"] for r in restarted] == [0]
    run = sim.finish()
    assert run.summary is not None
    assert [e["outcome"] for e in run.summary["exercises"]] == ["completed"] * 4


def test_next_said_while_resuming_is_taken_back_with_the_time_that_was_left(
    shapes: LoadedRoutine,
) -> None:
    sim = _at_hold(shapes, seconds=18.0)  # 12 s of the 30 s hold left
    sim.hear("pause")
    sim.advance(5.0)
    assert _says(sim.hear("resume")) == ["Resuming: hold, 12 seconds left."]
    sim.advance(1.0)  # still saying it: the clock waits for the words
    sim.hear("next", source=VOICE)
    sim.advance(2.0)
    said = _says(sim.hear("undo", source=VOICE))
    assert said == ["Back to Test stretch: hold, 12 seconds left."]
    end_tone = _next_end_tone(sim, sim.now)
    assert end_tone - _words_end(sim, said[0]) == pytest.approx(12.0)


def test_undo_keeps_what_was_already_done(shapes: LoadedRoutine) -> None:
    sim = _at_hold(shapes)
    sim.run_until(lambda s: s.engine.phase is Phase.SWITCH_SIDE)
    perf = sim.engine.perf
    assert perf is not None
    done = set(perf.completed)
    assert len(done) == 2  # both holds on the left
    sim.hear("next", source=VOICE)
    sim.hear("go back", source=VOICE)
    assert sim.engine.perf is not None
    assert sim.engine.perf.completed == done


def test_go_back_after_the_window_is_previous(shapes: LoadedRoutine) -> None:
    sim = _at_hold(shapes, seconds=5.0)
    sim.hear("next", source=VOICE)
    sim.advance(UNDO_SECONDS + 1.0)
    said = _says(sim.hear("go back", source=VOICE))
    assert said[0] == "Going back to Test stretch. Say go back to return to Test lift."
    assert sim.engine.exercise_id == "stretch"
    assert sim.engine.perf is not None
    assert not sim.engine.perf.completed  # started again from its beginning
    assert not _records(sim, "undo")


def test_typed_next_offers_no_undo(shapes: LoadedRoutine) -> None:
    sim = _at_hold(shapes, seconds=5.0)
    assert _says(sim.hear("next"))[0] == "Moving on to Test lift."
    assert _says(sim.hear("no"))[0] == "Okay."
    assert sim.engine.exercise_id == "lift"
    sim.hear("go back")
    assert sim.engine.perf is not None
    assert not sim.engine.perf.completed
    assert not _records(sim, "undo")


def test_restart_by_voice_can_be_taken_back(shapes: LoadedRoutine) -> None:
    sim = _at_hold(shapes, seconds=12.0)
    said = _says(sim.hear("start over", source=VOICE))
    assert said[0] == "Starting Test stretch again. Say go back to return to where you were."
    sim.advance(3.0)
    assert _says(sim.hear("undo")) == ["Back to Test stretch: hold, 18 seconds left."]
    end_tone = _next_end_tone(sim, sim.now)
    assert end_tone - _words_end(sim, "Back to Test stretch: hold, 18 seconds left.") == (
        pytest.approx(18.0)
    )


def test_previous_by_voice_can_be_taken_back(shapes: LoadedRoutine) -> None:
    sim = Simulation(shapes)
    sim.run_until(lambda s: s.engine.phase is Phase.REP and s.engine.exercise_id == "lift")
    said = _says(sim.hear("previous", source=VOICE))
    assert said[0] == "Going back to Test stretch. Say go back to return to Test lift."
    assert sim.engine.exercise_id == "stretch"
    said = _says(sim.hear("go back", source=VOICE))
    assert said[0].startswith("Back to Test lift: reps, ")
    assert sim.engine.exercise_id == "lift"
    assert sim.engine.phase is Phase.REP


def test_undo_during_an_instruction_says_it_again(shapes: LoadedRoutine) -> None:
    sim = Simulation(shapes)
    sim.run_until(lambda s: s.engine.phase is Phase.INSTRUCT and s.engine.exercise_id == "stretch")
    instruction = sim.engine.last_instruction
    sim.hear("next", source=VOICE)
    said = _says(sim.hear("go back", source=VOICE))
    assert said == ["Back to Test stretch.", instruction]


def test_skipping_the_last_exercise_by_voice_waits_for_go_back(shapes: LoadedRoutine) -> None:
    sim = Simulation(shapes)
    sim.run_until(lambda s: s.engine.phase is Phase.WALK)
    sim.advance(30.0)
    said = _says(sim.hear("next", source=VOICE))
    assert said == ["Skipping Test walk, the last exercise. Say go back to return to it."]
    sim.advance(UNDO_SECONDS - 1.0)
    assert not sim.engine.finished
    assert _says(sim.hear("go back", source=VOICE))[0].startswith("Back to Test walk: walk, ")
    assert sim.engine.phase is Phase.WALK
    sim.hear("next", source=VOICE)
    sim.advance(UNDO_SECONDS + 0.5)
    assert sim.engine.finished
    summary = sim.finish().summary
    assert summary is not None
    assert summary["exercises"][3]["outcome"] == "skipped"


def test_undo_with_nothing_to_undo_says_so(shapes: LoadedRoutine) -> None:
    sim = _at_hold(shapes)
    assert _says(sim.hear("undo", source=VOICE)) == ["There's nothing to undo."]


def test_a_pain_report_ends_the_chance_to_undo(shapes: LoadedRoutine) -> None:
    sim = _at_hold(shapes, seconds=5.0)
    sim.hear("next", source=VOICE)
    sim.hear("that hurts", source=VOICE)
    sim.hear("two", source=VOICE)
    sim.hear("my back", source=VOICE)
    sim.hear("go back", source=VOICE)  # now "previous": back to the start of the stretch
    assert not _records(sim, "undo")


# ---------------------------------------------------------------- red flags heard by voice


def _red_flag(sim: Simulation, words: str = "I can't feel my leg") -> list:
    effects = sim.hear(words, source=VOICE)
    return effects


def test_a_red_flag_by_voice_stops_everything_and_asks_once(shapes: LoadedRoutine) -> None:
    sim = _at_hold(shapes, seconds=10.0)
    effects = _red_flag(sim)
    assert any(isinstance(e, StopSpeech) for e in effects)
    question = [e for e in effects if isinstance(e, Say)]
    assert [q.text for q in question] == [
        f"Did you say you can't feel your leg? Say yes or {DENY_WORD}."
    ]
    assert question[0].priority is Priority.URGENT
    assert sim.engine.paused
    assert sim.engine.next_deadline() is not None
    assert sim.engine.listen_context == "confirm"
    assert not sim.engine.finished
    assert not any(isinstance(e, SessionEnded) for e in effects)
    asked = _records(sim, "red_flag_question")
    assert [r["flag"] for r in asked] == ["cant_feel_leg"]
    heard = _records(sim, "heard")[-1]
    assert (heard["command"], heard["source"]) == ("red_flag", "voice")


@pytest.mark.parametrize("answer", ["no", "carry on", "nope"])
def test_no_says_sorry_and_resumes_where_it_was(shapes: LoadedRoutine, answer: str) -> None:
    sim = _at_hold(shapes, seconds=10.0)
    _red_flag(sim)
    sim.advance(3.0)
    said = _says(sim.hear(answer, source=VOICE))
    assert said == ["Sorry, I misheard. Carrying on: hold, 20 seconds left."]
    assert not sim.engine.paused
    assert _next_end_tone(sim, sim.now) - _words_end(sim, said[0]) == pytest.approx(20.0)
    (outcome,) = _records(sim, "red_flag_answer")
    assert (outcome["outcome"], outcome["flag"]) == ("withdrawn", "cant_feel_leg")
    run = sim.finish()
    assert run.summary is not None
    assert run.summary["red_flag"] is None
    assert not any(r["kind"] == "red_flag" for r in run.records)


@pytest.mark.parametrize("answer", ["yes", "I can't feel my leg", "stop"])
def test_yes_gives_the_urgent_advice_and_ends(shapes: LoadedRoutine, answer: str) -> None:
    sim = _at_hold(shapes, seconds=10.0)
    _red_flag(sim)
    sim.run_until(lambda s: s.speaker.current is None)  # the question has been said
    effects = sim.hear(answer, source=VOICE)
    urgent = [e.text for e in effects if isinstance(e, Say) and e.priority is Priority.URGENT]
    assert urgent
    assert "urgent medical care" in urgent[0]
    assert sim.engine.finished
    (outcome,) = _records(sim, "red_flag_answer")
    assert outcome["outcome"] == "confirmed"
    assert outcome["answer"] == {"I can't feel my leg": "repeated"}.get(answer, answer)
    assert any(r["kind"] == "red_flag" and r["flag"] == "cant_feel_leg" for r in sim.result.records)
    ended = [e for e in effects if isinstance(e, SessionEnded)]
    assert ended[0].summary["red_flag"] == "cant_feel_leg"


def test_no_answer_within_8_seconds_of_the_question_is_a_yes(shapes: LoadedRoutine) -> None:
    sim = _at_hold(shapes, seconds=10.0)
    _red_flag(sim)
    sim.run_until(lambda s: s.speaker.current is None)  # the question has been said
    said_at = sim.now
    sim.advance(7.9)
    assert not sim.engine.finished
    assert sim.engine.paused
    sim.advance(0.2)
    assert sim.engine.finished
    (outcome,) = _records(sim, "red_flag_answer")
    assert (outcome["outcome"], outcome["answer"]) == ("confirmed", "no_answer")
    assert sim.now - said_at == pytest.approx(8.1)
    assert any("urgent medical care" in text for text in sim.finish().said())


def test_the_warning_sign_heard_while_the_question_is_said_is_its_echo(
    shapes: LoadedRoutine,
) -> None:
    sim = _at_hold(shapes, seconds=10.0)
    _red_flag(sim)
    sim.hear("I can't feel my leg", source=VOICE)  # the player's own question, heard back
    assert not sim.engine.finished
    sim.hear("no", source=VOICE)
    assert not sim.engine.paused


def test_other_words_do_not_answer_the_question(shapes: LoadedRoutine) -> None:
    sim = _at_hold(shapes, seconds=10.0)
    _red_flag(sim)
    sim.advance(3.0)
    for words in ("pause", "next", "how long", "four"):
        assert _says(sim.hear(words, source=VOICE)) == []
    assert sim.engine.exercise_id == "stretch"
    assert sim.engine.listen_context == "confirm"


def test_a_misheard_red_flag_during_the_pain_question_goes_back_to_it(
    shapes: LoadedRoutine,
) -> None:
    sim = _at_hold(shapes, seconds=10.0)
    sim.hear("that hurts", source=VOICE)
    deadline = sim.engine.pain.question.deadline  # type: ignore[union-attr]
    _red_flag(sim)
    sim.advance(3.0)
    said = _says(sim.hear("no", source=VOICE))
    assert said == ["Sorry, I misheard. How bad is it, from 0 to 10?"]
    assert sim.engine.listen_context == "pain_level"
    assert sim.engine.pain.question is not None
    assert sim.engine.pain.question.deadline == pytest.approx(deadline + 3.0)
    sim.hear("four", source=VOICE)
    assert sim.engine.listen_context == "pain_location"


def test_a_misheard_red_flag_during_an_instruction_says_it_again(
    shapes: LoadedRoutine,
) -> None:
    sim = Simulation(shapes)
    sim.run_until(lambda s: s.engine.phase is Phase.INSTRUCT)
    instruction = sim.engine.last_instruction
    _red_flag(sim)
    sim.advance(2.0)
    assert _says(sim.hear("no", source=VOICE)) == ["Sorry, I misheard.", instruction]


def test_a_typed_red_flag_is_meant_and_ends_at_once(shapes: LoadedRoutine) -> None:
    sim = _at_hold(shapes, seconds=10.0)
    effects = sim.hear("I can't feel my leg")
    assert not any(isinstance(e, Say) and e.text.startswith("Did you say") for e in effects)
    assert sim.engine.finished
    assert not _records(sim, "red_flag_question")


@pytest.mark.parametrize("flag", list(RedFlag))
def test_every_red_flag_is_asked_back_in_its_own_words(
    shapes: LoadedRoutine, flag: RedFlag
) -> None:
    sim = _at_hold(shapes, seconds=10.0)
    said = _says(sim.hear(flag.value, Intent(red_flag=flag), source=VOICE))
    assert said == [f"Did you say {RED_FLAG_QUESTIONS[flag]}? Say yes or {DENY_WORD}."]
    sim.advance(3.0)
    sim.hear("yes", source=VOICE)
    assert sim.engine.finished
    assert sim.result.summary is not None
    assert sim.result.summary["red_flag"] == flag.value


# ---------------------------------------------------------------- the words themselves


def test_the_answers_asked_for_are_ones_the_recognizer_listens_for() -> None:
    confirm = spoken_table(ListenContext.CONFIRM)
    deny = normalize(DENY_WORD)
    assert deny in confirm
    assert confirm[deny] in (Intent(reply=Reply.NO), Intent(command=Command.RESUME))
    commands = spoken_table(ListenContext.COMMANDS)
    assert commands["go back"] == Intent(command=Command.PREVIOUS)


def test_typed_phrases_for_undo_and_answers() -> None:
    assert parse("undo") == Intent(command=Command.UNDO)
    assert parse("take that back") == Intent(command=Command.UNDO)
    assert parse("no") == Intent(reply=Reply.NO)
    assert parse("yes") == Intent(reply=Reply.YES)
    assert parse("no need for a mat") is None  # a no inside a sentence is not an answer
    assert parse("yes I can't feel my leg") == Intent(red_flag=RedFlag.CANT_FEEL_LEG)


def test_the_new_words_are_in_the_pocketsphinx_dictionary() -> None:
    import os

    from pocketsphinx import Decoder

    decoder = Decoder(lm=None, logfn=os.devnull)
    for word in ("go", "back", "undo", "yes", "no", "carry", "on"):
        assert decoder.lookup_word(word) is not None, word


# ---------------------------------------------------------------- history


@pytest.mark.parametrize(("answer", "outcome"), [("no", "withdrawn"), ("yes", "confirmed")])
def test_both_answers_to_the_red_flag_question_are_kept_in_the_history(
    shapes: LoadedRoutine, tmp_path: Path, answer: str, outcome: str
) -> None:
    from floorcoach.store.history_store import HistoryStore
    from floorcoach.store.session_recorder import SessionRecorder

    sim = _at_hold(shapes, seconds=10.0)
    _red_flag(sim)
    sim.advance(3.0)
    sim.hear(answer, source=VOICE)
    run = sim.finish()
    with HistoryStore(tmp_path / "h.sqlite3") as store:
        recorder = SessionRecorder(store, routine=shapes)
        for record in run.records:
            recorder.record(record)
        snapshot = store.snapshot()
    checks = [c for c in snapshot.commands if c.command.startswith("red_flag_")]
    assert [(c.command, c.text) for c in checks] == [
        (f"red_flag_{outcome}", f"cant_feel_leg: {answer}")
    ]
    assert [f.flag for f in snapshot.red_flags] == (
        ["cant_feel_leg"] if outcome == "confirmed" else []
    )
    (session,) = snapshot.sessions
    assert (session.status == "red_flag") is (outcome == "confirmed")


def test_the_live_microphone_marks_what_it_hears_as_voice() -> None:
    from floorcoach.audio.listening.recognizer import Heard as Recognized
    from floorcoach.runtime.live_listener import LiveListener
    from floorcoach.session.events import Heard

    posted: list[object] = []

    class Runtime:
        def post(self, event: object) -> None:
            posted.append(event)

    class Clock:
        def now(self) -> float:
            return 12.0

        def real_seconds(self, session_seconds: float) -> float:
            return session_seconds

    listener = LiveListener(Runtime(), Clock())  # type: ignore[arg-type]
    listener._on_heard(Recognized(Intent(command=Command.NEXT), "next", 11.0, 11.5, 0.9, "test"))
    assert posted == [Heard(Intent(command=Command.NEXT), 12.0, "next", InputSource.VOICE)]


def test_typed_lines_are_logged_as_typed(tmp_path: Path, shapes: LoadedRoutine) -> None:
    import json

    from floorcoach.runtime.event_loop import EventLog, Runtime, ScaledClock
    from floorcoach.runtime.text_output import PrintedSpeech
    from floorcoach.session.engine import Engine

    log = tmp_path / "events.jsonl"
    engine = Engine(shapes, announce_duration=False)
    with open(os.devnull, "w") as quiet:
        runtime = Runtime(
            engine, PrintedSpeech(quiet), ScaledClock(1000.0), event_log=EventLog(log)
        )
        for line in ("@40 next", "@41 stop", "@42 stop"):
            runtime.post_line(line)
        runtime.run()
    heard = [r for r in map(json.loads, log.read_text().splitlines()) if r["kind"] == "heard"]
    assert [(r["command"], r["source"]) for r in heard] == [
        ("next", "typed"),
        ("stop", "typed"),
        ("stop", "typed"),
    ]
    assert not any(r["kind"] == "undo" for r in map(json.loads, log.read_text().splitlines()))


def test_the_question_asks_for_no_only_when_the_grammar_has_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from floorcoach import commands
    from floorcoach.session import red_flag_check

    assert red_flag_check._deny_word() == "no"  # the shipped grammar hears "no" (the command head)
    confirm = tuple(p for p in commands.SPOKEN_PHRASES[ListenContext.CONFIRM] if p != "no")
    monkeypatch.setitem(commands.SPOKEN_PHRASES, ListenContext.CONFIRM, confirm)
    assert red_flag_check._deny_word() == "carry on"
