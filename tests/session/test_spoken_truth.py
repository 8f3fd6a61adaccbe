"""What the player says must be true: pain before the first exercise, late pain answers,
reductions that cannot reduce, the summary, and start-up messages (issue 16, section 3)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine_effects import says as _says
from floorcoach.content.catalog import LoadedRoutine, load_library, load_routine
from floorcoach.session.events import CueKind, Phase, PlayCue
from floorcoach.session.simulate import Simulation
from floorcoach_cli import run

FIXTURES = Path(__file__).parents[1] / "fixtures" / "engine"
LIVE = Path(__file__).parents[1] / "fixtures" / "live"


def _routine(tmp_path: Path, items: str, rest: int = 4) -> LoadedRoutine:
    path = tmp_path / "r.yaml"
    path.write_text(
        "id: test-r\nname: Test R\ndescription: A test routine.\n"
        f"rest_between_exercises_seconds: {rest}\nitems:\n{items}"
    )
    return load_routine(path, load_library(FIXTURES / "exercises.yaml"))


def _decisions(sim: Simulation) -> list[dict]:
    return [r for r in sim.result.records if r["kind"] == "decision"]


def _hold_lengths(sim: Simulation, since: float = 0.0) -> list[float]:
    """Seconds from each start tone to the end tone that follows it."""
    cues = [
        (t, e.cue)
        for t, e in sim.result.effects
        if isinstance(e, PlayCue) and e.cue in (CueKind.START, CueKind.END) and t >= since
    ]
    lengths = []
    start = None
    for t, cue in cues:
        if cue is CueKind.START:
            start = t
        elif start is not None:
            lengths.append(round(t - start, 6))
            start = None
    return lengths


def _in_welcome(loaded: LoadedRoutine) -> Simulation:
    sim = Simulation(loaded)
    sim.start()
    assert sim.engine.phase is Phase.WELCOME
    return sim


# ---------------------------------------------------------------- pain before the first exercise


def test_pain_during_the_welcome_asks_where_then_starts_with_the_easier_variant(
    shapes: LoadedRoutine,
) -> None:
    sim = _in_welcome(shapes)
    assert _says(sim.hear("that hurts")) == [
        "Let's stop for a moment. How bad is it, from 0 to 10?"
    ]
    assert _says(sim.hear("seven")) == ["Is it in your back, or spreading down your leg?"]
    said = _says(sim.hear("in my back"))
    assert (
        said[0]
        == "With pain at 7, we'll start with the easier Gentle stretch instead of Test stretch."
    )
    assert not any("start gently" in text for text in said)
    decision = _decisions(sim)[-1]
    assert (decision["decision"], decision["variant"]) == ("easier_variant", "gentle-stretch")
    run = sim.finish()
    assert "Exercise 1 of 4: Gentle stretch." in run.said()
    assert "Exercise 1 of 4: Test stretch." not in run.said()
    assert run.summary is not None
    first = run.summary["exercises"][0]
    assert (first["outcome"], first["done_as"]) == ("easier_variant", "gentle-stretch")
    assert run.summary["pain_reports"][0]["location"] == "back"


def test_pain_down_the_leg_during_the_welcome_skips_a_first_exercise_with_no_easier_one(
    tmp_path: Path,
) -> None:
    loaded = _routine(tmp_path, "  - exercise: tilt\n  - exercise: walk\n")
    sim = _in_welcome(loaded)
    sim.hear("that hurts")
    sim.hear("two")
    said = _says(sim.hear("down my leg"))
    assert said[0] == (
        "With pain spreading down your leg, we'll skip Test tilt today and start with Test walk."
    )
    run = sim.finish()
    assert not any("Test tilt" in text for text in run.said()[run.said().index(said[0]) + 1 :])
    assert run.summary is not None
    assert [e["outcome"] for e in run.summary["exercises"]] == ["skipped", "completed"]


def test_moderate_pain_during_the_welcome_makes_the_first_exercise_gentler(
    shapes: LoadedRoutine,
) -> None:
    sim = _in_welcome(shapes)
    sim.hear("that hurts")
    sim.hear("five")
    said = _says(sim.hear("my back"))
    assert said[0] == (
        "Pain at 5. Let's make Test stretch gentler: holds of 21 seconds, once on each side."
    )
    sim.run_until(lambda s: s.engine.exercise_id == "lift")
    assert _hold_lengths(sim) == [21.0] * 4  # once on each side, two sets
    summary = sim.finish().summary
    assert summary is not None
    assert summary["exercises"][0]["outcome"] == "reduced"
    assert summary["exercises"][0]["hold_seconds"] == 21


def test_mild_pain_during_the_welcome_changes_nothing_and_says_so(shapes: LoadedRoutine) -> None:
    sim = _in_welcome(shapes)
    sim.hear("that hurts")
    sim.hear("two")
    said = _says(sim.hear("my back"))
    assert said[0] == (
        "Pain at 2. Thanks for telling me. Go gently, and say that hurts at any time."
    )
    run = sim.finish()
    assert "Exercise 1 of 4: Test stretch." in run.said()
    assert run.summary is not None
    assert run.summary["exercises"][0]["outcome"] == "completed"


# ---------------------------------------------------------------- a late answer to "where?"


def test_down_my_leg_soon_after_the_level_is_the_location_answer(shapes: LoadedRoutine) -> None:
    sim = Simulation(shapes)
    sim.run_until(lambda s: s.engine.phase is Phase.HOLD)
    sim.hear("that hurts")
    sim.hear("two")
    sim.hear("my back")
    assert _decisions(sim)[-1]["decision"] == "continue"
    sim.advance(4.0)
    said = _says(sim.hear("down my leg"))
    assert "How bad is it, from 0 to 10?" not in " ".join(said)
    assert said[0] == (
        "Thanks. With pain spreading down your leg, let's stop this one and switch to the "
        "easier Gentle stretch."
    )
    assert sim.engine.exercise_id == "gentle-stretch"
    pains = [r for r in sim.result.records if r["kind"] == "pain"]
    assert [(p["level"], p["location"]) for p in pains] == [(2, "back"), (2, "leg")]
    summary = sim.finish().summary
    assert summary is not None
    assert len(summary["pain_reports"]) == 1  # one report, its location corrected
    assert summary["pain_reports"][0]["location"] == "leg"
    assert summary["exercises"][0]["pain_reports"] == 1


def test_down_my_leg_after_a_severe_level_keeps_the_decision(shapes: LoadedRoutine) -> None:
    sim = Simulation(shapes)
    sim.run_until(lambda s: s.engine.phase is Phase.HOLD)
    sim.hear("that hurts")
    sim.hear("eight")  # above 5: decided at once, "where?" never asked
    assert sim.engine.exercise_id == "gentle-stretch"
    sim.advance(3.0)
    said = _says(sim.hear("down my leg"))
    assert said[0] == "Thanks. Down your leg, noted; we'll stay with Gentle stretch."
    assert said[1:] == ["Exercise 1 of 4: Gentle stretch."]  # cut off by the answer: again
    assert sim.engine.exercise_id == "gentle-stretch"
    assert sim.engine.listen_context == "commands"


def test_a_location_long_after_the_level_is_a_new_pain_report(shapes: LoadedRoutine) -> None:
    sim = Simulation(shapes)
    sim.run_until(lambda s: s.engine.phase is Phase.HOLD)
    sim.hear("that hurts")
    sim.hear("two")
    sim.hear("my back")
    sim.advance(15.0)
    sim.hear("down my leg")
    assert sim.engine.listen_context == "pain_level"


def test_down_my_leg_after_pain_in_the_welcome_replans_the_first_exercise(
    shapes: LoadedRoutine,
) -> None:
    sim = _in_welcome(shapes)
    sim.hear("that hurts")
    sim.hear("five")
    sim.hear("my back")
    said = _says(sim.hear("down my leg"))
    assert said[0] == (
        "Thanks. With pain spreading down your leg, we'll start with the easier Gentle stretch "
        "instead of Test stretch."
    )
    run = sim.finish()
    assert "Exercise 1 of 4: Gentle stretch." in run.said()


# ---------------------------------------------------------------- nothing left to reduce


def test_moderate_pain_on_a_hold_at_its_minimum_switches_instead_of_pretending(
    tmp_path: Path,
) -> None:
    loaded = _routine(
        tmp_path,
        "  - exercise: stretch\n    hold_seconds: 6\n    reps: 1\n  - exercise: tilt\n",
    )
    sim = Simulation(loaded)
    sim.run_until(lambda s: s.engine.phase is Phase.HOLD)
    sim.hear("that hurts")
    sim.hear("five")
    said = _says(sim.hear("my back"))
    assert not any("holds of 6 seconds" in text for text in said)
    assert said[0] == (
        "Pain at 5. This one can't be made any shorter, so let's switch to the easier Gentle"
        " stretch."
    )
    assert sim.engine.exercise_id == "gentle-stretch"
    assert _decisions(sim)[-1]["reason"] == "cannot_reduce"


def test_moderate_pain_on_reps_at_their_minimum_and_slowest_skips(tmp_path: Path) -> None:
    loaded = _routine(
        tmp_path,
        "  - exercise: tilt\n    reps: 1\n    tempo_seconds: 20\n  - exercise: walk\n",
    )
    sim = Simulation(loaded)
    sim.run_until(lambda s: s.engine.phase is Phase.REP)
    sim.hear("that hurts")
    sim.hear("four")
    said = _says(sim.hear("my back"))
    assert said[0] == ("Pain at 4. This one can't be made any gentler, so let's skip it for today.")
    assert sim.engine.exercise_id == "walk"


# ---------------------------------------------------------------- the summary


def test_an_exercise_completed_in_its_gentler_form_counts_as_completed(tmp_path: Path) -> None:
    loaded = _routine(tmp_path, "  - exercise: stretch\n")
    sim = Simulation(loaded)
    sim.run_until(lambda s: s.engine.phase is Phase.HOLD)
    sim.hear("that hurts")
    sim.hear("four")
    sim.hear("my back")
    run = sim.finish()
    assert run.said()[-1].startswith(
        "That's the end of today's session. You completed one exercise, made gentler."
    )
    assert "zero" not in run.said()[-1]


def test_the_summary_counts_every_exercise_once(shapes: LoadedRoutine) -> None:
    sim = Simulation(shapes)
    sim.run_until(lambda s: s.engine.phase is Phase.HOLD)
    sim.hear("that hurts")
    sim.hear("four")
    sim.hear("my back")  # stretch: reduced, then completed
    sim.run_until(lambda s: s.engine.phase is Phase.REP and s.engine.exercise_id == "lift")
    sim.advance(7.0)
    sim.hear("next")  # lift: done in part
    sim.run_until(lambda s: s.engine.phase is Phase.ANNOUNCE and s.engine.exercise_id == "tilt")
    sim.hear("next")  # tilt: skipped
    run = sim.finish()  # walk: completed
    assert run.said()[-1].startswith(
        "That's the end of today's session. You completed two exercises, one of them made "
        "gentler, one done in part, one skipped."
    )


# ---------------------------------------------------------------- start-up messages


@pytest.mark.slow(seconds=14)
def test_with_no_sound_devices_each_start_up_message_is_said_once(tmp_path: Path) -> None:
    env = dict(os.environ)
    env["PULSE_SERVER"] = f"unix:{tmp_path}/no-such-server"
    env["XDG_RUNTIME_DIR"] = str(tmp_path)
    result = run(
        "play", "tiny", "--routines-dir", str(LIVE), input="@3 stop\n@4 stop\n", env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    err = result.stderr
    assert err.count("speech will be printed instead") == 1, err
    assert err.count("no sound input device found") == 1, err
    assert err.count("type commands") + err.count("commands can be typed") == 1, err


def test_a_late_location_corrects_the_stored_pain_report(
    shapes: LoadedRoutine, tmp_path: Path
) -> None:
    from floorcoach.store.history_store import HistoryStore
    from floorcoach.store.session_recorder import SessionRecorder

    sim = Simulation(shapes)
    sim.run_until(lambda s: s.engine.phase is Phase.HOLD)
    sim.hear("that hurts")
    sim.hear("two")
    sim.hear("my back")
    sim.advance(2.0)
    sim.hear("down my leg")
    run = sim.finish()
    with HistoryStore(tmp_path / "h.sqlite3") as store:
        recorder = SessionRecorder(store, routine=shapes)
        for record in run.records:
            recorder.record(record)
        pains = store.snapshot().pains
    assert [(p.level, p.location, p.exercise_id) for p in pains] == [(2, "leg", "stretch")]


def test_pain_before_a_resumed_start_plans_the_exercise_resumed_at(shapes: LoadedRoutine) -> None:
    from floorcoach.session.engine import Engine

    sim = Simulation(shapes, engine=Engine(shapes, announce_duration=False, resume_offer=1))
    sim.run_until(lambda s: s.engine.waiting_for() == "resume_offer")
    sim.hear("that hurts")
    sim.hear("five")
    assert _says(sim.hear("my back"))[0] == (
        "Pain at 5. Let's make Test stretch gentler: holds of 21 seconds, once on each side."
    )
    said = _says(sim.hear("resume"))
    assert said[:2] == [
        "Carrying on from Test lift.",
        "Let's make Test lift gentler: two reps on each side with a slower count.",
    ]
    run = sim.finish()
    assert run.summary is not None
    lift = run.summary["exercises"][1]
    assert (lift["outcome"], lift["reps"]) == ("reduced", 2)


def test_the_plan_for_today_names_the_exercises_as_they_will_be_played(
    shapes: LoadedRoutine, tmp_path: Path
) -> None:
    sim = _in_welcome(shapes)
    sim.hear("that hurts")
    sim.hear("seven")
    sim.hear("in my back")
    run = sim.finish()
    today = next(text for text in run.said() if text.startswith("Today: "))
    assert today == "Today: gentle stretch, test lift, test tilt, and test walk."
    # the welcome line cut off by "that hurts" is said again
    assert run.said().count(run.said()[0]) == 2

    loaded = _routine(tmp_path, "  - exercise: tilt\n  - exercise: walk\n")
    sim = _in_welcome(loaded)
    sim.hear("that hurts")
    sim.hear("eight")
    sim.hear("my back")
    sim.advance(2.0)
    said = _says(sim.hear("down my leg"))
    assert said[0] == "Thanks. Down your leg, noted; we'll keep to that."
    run = sim.finish()
    assert "Today: test walk." in run.said()
    assert run.said().count("Welcome to Test R. A test routine.") == 2


def test_the_welcome_promises_over_the_player_only_what_the_echo_gate_takes() -> None:
    """By voice, while the player talks only the barge-in commands are taken: the welcome
    must not promise "next" (or anything else) at any time."""
    from floorcoach.audio.listening.self_voice import BARGE_IN
    from floorcoach.commands import parse
    from floorcoach.session.step_planning import welcome_steps
    from floorcoach.session.steps import SayStep

    loaded = load_routine(
        Path(__file__).parents[1] / "fixtures" / "engine" / "all-shapes.yaml",
        load_library(Path(__file__).parents[1] / "fixtures" / "engine" / "exercises.yaml"),
    )
    said = [s.text for s in welcome_steps(loaded, 0, []) if isinstance(s, SayStep)]
    promise = next(text for text in said if "any time" in text)
    anytime = promise.split("at any time")[0].removeprefix("Say ").replace(" or ", ", ")
    named = [parse(word.strip()) for word in anytime.split(",") if word.strip()]
    assert named, promise
    assert all(intent is not None and intent.command in BARGE_IN for intent in named), promise
    later = promise.split("at any time")[1]
    assert "next" in later
    assert "quiet" in later
