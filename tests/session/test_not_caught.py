"""Words heard and not placed (events.Unclear): an open question is asked again.

A person the recognizer hears badly would otherwise wait out the 20 s pain question in
silence and be taken as moderate pain; a bystander's talk costs at most two repeats.
"""

from __future__ import annotations

from engine_effects import records as _records
from engine_effects import says as _says
from floorcoach.content.catalog import LoadedRoutine
from floorcoach.session.command_handlers import STOP_CONFIRM_SECONDS, STOP_QUESTION
from floorcoach.session.engine import Engine
from floorcoach.session.events import InputSource, Phase, StopSpeech
from floorcoach.session.pain_dialogue import (
    ASK_AGAIN_TIMES,
    LEVEL_QUESTION,
    LOCATION_QUESTION,
    NOT_CAUGHT,
)
from floorcoach.session.simulate import Simulation
from floorcoach.session.step_planning import FEELING_WAIT_SECONDS

VOICE = InputSource.VOICE


def _in_hold(loaded: LoadedRoutine) -> Simulation:
    sim = Simulation(loaded)
    assert sim.run_until(lambda s: s.engine.phase is Phase.HOLD)
    return sim


def test_unclear_words_ask_the_pain_level_again_with_the_full_answer_time(
    shapes: LoadedRoutine,
) -> None:
    sim = _in_hold(shapes)
    sim.hear("that hurts", source=VOICE)
    question = sim.engine.pain.question
    assert question is not None
    sim.advance(15.0)  # 5 s of the 20 s left
    effects = sim.unclear(0.6)
    assert _says(effects) == [f"{NOT_CAUGHT} {LEVEL_QUESTION}"]
    assert any(isinstance(e, StopSpeech) for e in effects)
    assert question.deadline >= sim.now + 20.0 - 1e-6
    assert _records(sim, "not_caught")[-1]["asking"] == "level"
    assert _records(sim, "not_caught")[-1]["speech_seconds"] == 0.6
    # the answer that follows is taken as before
    assert _says(sim.hear("four", source=VOICE)) == [LOCATION_QUESTION]


def test_one_question_is_asked_again_at_most_twice(shapes: LoadedRoutine) -> None:
    sim = _in_hold(shapes)
    sim.hear("that hurts", source=VOICE)
    for _ in range(ASK_AGAIN_TIMES):
        assert _says(sim.unclear()) == [f"{NOT_CAUGHT} {LEVEL_QUESTION}"]
        sim.advance(2.0)
    deadline = sim.engine.pain.question.deadline  # type: ignore[union-attr]
    assert _says(sim.unclear()) == []
    assert sim.engine.pain.question.deadline == deadline  # type: ignore[union-attr]
    assert len(_records(sim, "not_caught")) == ASK_AGAIN_TIMES
    # the timeout still decides in the end
    sim.advance(25.0)
    assert _records(sim, "pain_no_answer")


def test_the_where_question_gets_its_own_two_repeats(shapes: LoadedRoutine) -> None:
    sim = _in_hold(shapes)
    sim.hear("that hurts", source=VOICE)
    sim.unclear()
    sim.unclear()
    assert _says(sim.hear("four", source=VOICE)) == [LOCATION_QUESTION]
    assert _says(sim.unclear()) == [f"{NOT_CAUGHT} {LOCATION_QUESTION}"]
    assert [r["asking"] for r in _records(sim, "not_caught")] == ["level", "level", "location"]


def test_unclear_words_with_no_question_open_change_nothing(shapes: LoadedRoutine) -> None:
    sim = _in_hold(shapes)
    before = sim.engine.next_deadline()
    assert sim.unclear() == []
    assert sim.engine.next_deadline() == before
    assert not sim.engine.paused
    assert not _records(sim, "not_caught")


def test_the_stop_question_is_asked_again_once(shapes: LoadedRoutine) -> None:
    sim = _in_hold(shapes)
    sim.hear("stop", source=VOICE)
    sim.advance(8.0)
    assert _says(sim.unclear()) == [f"{NOT_CAUGHT} {STOP_QUESTION}"]
    assert sim.engine.stop_deadline is not None
    assert sim.engine.stop_deadline >= sim.now + STOP_CONFIRM_SECONDS - 1e-6
    assert _says(sim.unclear()) == []
    sim.hear("stop", source=VOICE)
    assert sim.engine.finished


def test_a_new_stop_question_may_be_asked_again_once_more(shapes: LoadedRoutine) -> None:
    sim = _in_hold(shapes)
    sim.hear("stop", source=VOICE)
    sim.unclear()
    sim.hear("resume", source=VOICE)
    sim.run_until(lambda s: s.engine.phase is Phase.HOLD)
    sim.hear("stop", source=VOICE)
    assert _says(sim.unclear()) == [f"{NOT_CAUGHT} {STOP_QUESTION}"]


def test_the_red_flag_question_keeps_its_own_rule(shapes: LoadedRoutine) -> None:
    sim = _in_hold(shapes)
    sim.hear("I can't feel my leg", source=VOICE)
    check = sim.engine.red_flags.open
    assert check is not None
    deadline = check.deadline
    assert _says(sim.unclear()) == []
    assert sim.engine.red_flags.open is check
    assert check.deadline == deadline


def _opening(loaded: LoadedRoutine, **options: object) -> Simulation:
    return Simulation(loaded, engine=Engine(loaded, announce_duration=False, **options))


def test_the_feeling_question_is_asked_again_once_with_its_whole_wait(
    shapes: LoadedRoutine,
) -> None:
    asked: list[object] = []

    def planner(feeling: object) -> tuple[LoadedRoutine, list[str]]:
        asked.append(feeling)
        return shapes, []

    sim = _opening(shapes, ask_feeling=True, on_feeling=planner)
    assert sim.run_until(lambda s: s.engine.waiting_for() == "feeling")
    sim.advance(10.0)  # 2 s of the 12 s wait left
    said = _says(sim.unclear())
    assert said[0] == NOT_CAUGHT
    assert "how did your back feel after last time?" in said[1]
    assert sim.run_until(lambda s: s.engine.waiting_for() == "feeling")
    wait_from = sim.now
    assert _records(sim, "not_caught")[-1]["asking"] == "feeling"
    assert _says(sim.unclear()) == []  # once only
    sim.advance(FEELING_WAIT_SECONDS - 1.0)
    assert sim.engine.waiting_for() == "feeling"  # the whole wait again
    assert sim.now - wait_from < FEELING_WAIT_SECONDS
    assert _says(sim.hear("better", source=VOICE))[0] == "Thanks. Better, noted."
    assert [str(f) for f in asked] == ["better"]


def test_the_offer_to_carry_on_is_asked_again_once(shapes: LoadedRoutine) -> None:
    sim = _opening(shapes, resume_offer=1)
    assert sim.run_until(lambda s: s.engine.waiting_for() == "resume_offer")
    said = _says(sim.unclear())
    assert said[0] == NOT_CAUGHT
    assert said[1].startswith("Welcome back. Last time you stopped at")
    assert sim.run_until(lambda s: s.engine.waiting_for() == "resume_offer")
    assert _says(sim.unclear()) == []
    assert _says(sim.hear("resume", source=VOICE))[0] == "Carrying on from Test lift."
