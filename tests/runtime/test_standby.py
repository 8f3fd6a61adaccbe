"""Standby: what it understands, and a scripted power-on -> session -> standby loop."""

from __future__ import annotations

from pathlib import Path

import pytest

from floorcoach.content.catalog import Catalog
from floorcoach.runtime.standby import (
    HELP_TEXT,
    STRUGGLED_NOT_CAUGHT,
    MissedAnswers,
    StandbyAction,
    parse_standby,
    routine_names,
    routines_text,
)
from floorcoach.session.events import InputSource, Phase
from floorcoach.session.simulate import Simulation
from floorcoach.store.history_store import HistoryStore
from floorcoach_cli import run


@pytest.fixture(scope="module")
def names() -> dict[str, str]:
    return routine_names(Catalog.load())


@pytest.mark.parametrize(
    ("said", "action", "routine"),
    [
        ("start", StandbyAction.START, None),
        ("let's start", StandbyAction.START, None),
        ("start my routine", StandbyAction.START, None),
        ("start core routine", StandbyAction.START, "core-routine"),
        ("start the core routine", StandbyAction.START, "core-routine"),
        ("start strengthening", StandbyAction.START, "strengthening"),
        ("begin first week", StandbyAction.START, "first-week"),
        ("start the walk", StandbyAction.START, "walk"),
        ("start stretches by body region", StandbyAction.START, "stretch-by-region"),
        ("what routines are there", StandbyAction.LIST, None),
        ("which routines do you have", StandbyAction.LIST, None),
        ("resume", StandbyAction.RESUME, None),
        ("how am I doing", StandbyAction.PROGRESS, None),
        ("help", StandbyAction.HELP, None),
        ("start dancing", StandbyAction.HELP, None),
        ("should I use ice or heat", StandbyAction.QUESTION, None),
        ("ice or heat", StandbyAction.QUESTION, None),
        ("goodbye", StandbyAction.EXIT, None),
        ("learn my voice", StandbyAction.LEARN, None),
        ("learn my words please", StandbyAction.LEARN, None),
        ("learn how I speak", StandbyAction.LEARN, None),
    ],
)
def test_standby_understands(
    names: dict[str, str], said: str, action: StandbyAction, routine: str | None
) -> None:
    request = parse_standby(said, names)
    assert request is not None
    assert (request.action, request.routine) == (action, routine)


def test_other_talk_is_left_alone(names: dict[str, str]) -> None:
    for said in ("", "the weather is nice", "I had toast for breakfast"):
        assert parse_standby(said, names) is None


def test_routines_are_listed_with_their_length() -> None:
    text = routines_text(Catalog.load())
    assert text.startswith("You can do: ")
    assert "core sciatica routine, about" in text
    assert "quick test" not in text


def test_power_on_to_session_and_back_to_standby() -> None:
    script = "\n".join(
        [
            "what routines are there",
            "start quick test",
            "@40 next",
            "@42 stop",
            "@43 stop",
            "how am I doing",
            "ice or heat",
            "goodbye",
            "",
        ]
    )
    result = run("standby", "--text", "--time-scale", "50", "--no-voice", input=script, timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    order = [
        "I'm ready when you are.",
        "You can do: ",
        "Welcome to Quick test.",
        "heard: next",
        "That's the end of today's session.",
        "I'm here when you need me.",
        "You've done one session",
        "Heat is best afterwards",
        "Goodbye.",
    ]
    positions = [out.find(marker) for marker in order]
    assert all(p >= 0 for p in positions), list(zip(order, positions, strict=True))
    assert positions == sorted(positions)


@pytest.mark.slow(seconds=10)
def test_reminders_in_standby_snooze_and_stop_by_voice(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        "[reminders]\nenabled = true\nstand_every_minutes = 5\nwalk_enabled = false\n"
        'stretch_enabled = false\nquiet_from = "00:00"\nquiet_until = "00:00"\n'
        "min_gap_minutes = 0\nsnooze_minutes = 3\n"
    )
    history = tmp_path / "history.sqlite3"
    result = run(
        "standby",
        "--text",
        "--no-voice",
        "--time-scale",
        "100",
        "--config",
        str(config),
        "--history",
        str(history),
        input="@330 not now\n@700 stop reminders\n@900 what routines are there\n",
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    stand = [i for i, line in enumerate(lines) if line.startswith("You've been sitting")]
    snoozed = lines.index("All right, I'll remind you again in three minutes.")
    off = lines.index("Reminders are off. Say start reminders to turn them back on.")
    # one at 5 minutes, "not now", one 3 minutes later, "stop reminders", then none
    assert len(stand) == 2
    assert stand[0] < snoozed < stand[1] < off
    assert lines[-1].startswith("You can do: ")
    with HistoryStore(history) as store:
        actions = [(r.kind, r.action) for r in store.reminders()]
    assert ("stand", "given") in actions
    assert ("stand", "snoozed") in actions


def test_learning_the_voice_is_offered_after_a_session_of_missed_answers() -> None:
    """The records a real engine logs when it asks again ("Sorry, I didn't catch that")."""
    sim = Simulation(Catalog.load().find("quick-test"))
    assert sim.run_until(lambda s: s.engine.phase is Phase.HOLD)
    missed = MissedAnswers()
    sim.hear("that hurts", source=InputSource.VOICE)
    sim.unclear(0.6)
    for record in sim.result.records:
        missed(record)
    assert missed.count == 1
    assert not missed.struggled
    sim.unclear(0.6)
    missed = MissedAnswers()
    for record in sim.result.records:
        missed(record)
    assert missed.count == STRUGGLED_NOT_CAUGHT == 2
    assert missed.struggled


def test_learning_the_voice_needs_the_microphone() -> None:
    assert "learn my voice" in HELP_TEXT
    result = run("standby", "--text", "--no-voice", input="learn my voice\ngoodbye\n", timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Learning your voice needs the microphone" in result.stdout
    assert result.stdout.rstrip().endswith("Goodbye.")


def test_learning_the_voice_without_a_working_microphone_says_so() -> None:
    """Standby's own microphone and the enrollment's both fail on a device that is not
    there: the request is typed, the failure is said, and standby goes on."""
    result = run(
        "standby",
        "--no-voice",
        "--input-device",
        "no-such-microphone",
        input="learn my voice\ngoodbye\n",
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "enrolling needs a microphone" in result.stderr
    assert "I couldn't learn everything this time" in result.stdout
    assert result.stdout.rstrip().endswith("Goodbye.")


def test_no_keyboard_and_no_microphone_yet_standby_waits_for_the_microphone(
    tmp_path: Path,
) -> None:
    """As a service starts it at boot: stdin is /dev/null and the USB microphone may not be
    there yet. Standby must stay up and try the microphone again, not end (systemd does not
    restart a service that ended cleanly)."""
    import signal
    import subprocess
    import time

    from floorcoach_cli import command

    process = subprocess.Popen(
        command(
            "standby",
            "--no-voice",
            "--history",
            tmp_path / "history.sqlite",
            "--input-device",
            "no-such-microphone",
        ),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(6.0)  # past the first retry (MIC_RETRY_SECONDS)
        still_running = process.poll() is None
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert still_running, out + err
    assert "trying again every 5 s" in err, err
    assert process.returncode == 130, out + err  # stopped by the signal, not by itself


def test_a_speaker_that_will_not_open_is_tried_again_and_does_not_silence_sessions(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A sound server still starting at boot: standby's replies are printed meanwhile, the
    speaker is tried again, and the sessions it starts still try their own speaker (standby
    used to set --no-voice for good on the first failure)."""
    from argparse import Namespace

    import floorcoach.cli.standby_devices as standby

    args = Namespace(
        no_voice=False,
        speech_backend="espeak",
        voice="en-us",
        rate_wpm=150,
        output_device="no-such-speaker",
    )
    voice = standby.StandbyVoice(args)
    voice.open()
    assert "replies will be printed (trying again every 5 s)" in capsys.readouterr().err
    assert args.no_voice is False  # a session started now still opens its speaker
    assert voice.reference() is None
    assert not voice.retry()  # not yet: at most every MIC_RETRY_SECONDS
    monkeypatch.setattr(standby, "MIC_RETRY_SECONDS", 0.0)
    assert not voice.retry()  # tried again, quietly; the device is still not there
    assert capsys.readouterr().err == ""


def _standby_hearing(
    heard: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> list[str]:
    """Standby as the service runs it (no keyboard), given these lines as heard by its
    microphone, in order; returns what it said."""
    import io

    from floorcoach.cli import main
    from floorcoach.cli.standby_devices import StandbyEars

    def hear_all(self: StandbyEars, quiet: bool = False) -> None:
        for text in heard:
            self._inbox.put(("heard", text))
        heard.clear()

    monkeypatch.setattr(StandbyEars, "open", hear_all)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["standby", "--no-voice", "--no-history", "--time-scale", "100"]) == 0
    return capsys.readouterr().out.splitlines()


def test_reminders_turned_on_by_voice_only_after_a_yes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A lasting setting: the hour-long soak had talk in the room turn reminders on within
    4 minutes. Heard, "start reminders" asks first; "no" leaves them off."""
    said = _standby_hearing(
        ["start reminders", "no", "turn on reminders", "yes", "goodbye", "yes"],
        monkeypatch,
        capsys,
    )
    question = "Shall I turn reminders on? Say yes or no."
    on = [i for i, line in enumerate(said) if line.startswith("Reminders are on.")]
    assert said.count(question) == 2, said
    first, second = (i for i, line in enumerate(said) if line == question)
    assert said[first + 1] == "All right, I'll leave the reminders as they are."
    assert on == [second + 1], said
    assert said[-1] == "Goodbye."


def test_reminders_already_in_that_state_are_not_asked_about(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    said = _standby_hearing(["stop reminders", "goodbye", "yes"], monkeypatch, capsys)
    assert not any(line.startswith("Shall I turn reminders") for line in said), said
    assert "Reminders are off. Say start reminders to turn them back on." in said


def test_typed_reminder_switches_act_at_once() -> None:
    result = run("standby", "--text", "--no-voice", "--no-history", input="start reminders\n")
    assert result.returncode == 0, result.stderr
    assert "Shall I turn reminders" not in result.stdout
    assert "Reminders are on." in result.stdout


def test_learning_the_voice_by_voice_asks_first(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An enrollment keeps what it hears as the user's takes: in the hour-long soak, talk in
    the room started one and it kept other people's words. Heard, "learn my voice" asks
    first; "no" leaves the enrollment alone, "yes" starts it."""
    import floorcoach.cli.standby as standby
    from floorcoach.runtime.standby_ready import LEARN_QUESTION

    learned: list[bool] = []
    monkeypatch.setattr(standby, "_learn_voice", lambda _args: learned.append(True) or 0)
    said = _standby_hearing(
        ["learn my voice", "no", "learn my voice", "yes", "goodbye", "yes"], monkeypatch, capsys
    )
    asked = [i for i, line in enumerate(said) if line == LEARN_QUESTION]
    assert len(asked) == 2, said
    assert said[asked[0] + 1] == "All right, not now. Say learn my voice when you want to."
    assert learned == [True]  # once: after the yes
    assert said[asked[1] + 1] == standby.AFTER_LEARNING
