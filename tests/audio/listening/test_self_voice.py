"""The echo gate: the player's own words are never commands; barge-in still gets through."""

from __future__ import annotations

from floorcoach.audio.listening.self_voice import EchoGate, PlayerSpeech, echo_words
from floorcoach.commands import parse
from floorcoach.session.command_handlers import STOP_QUESTION


def _verdict(gate: EchoGate, text: str, start: float, confidence: float = 0.9) -> str | None:
    intent = parse(text)
    assert intent is not None
    return gate.verdict(start, start + 0.5, intent, text, confidence)


def test_the_players_own_words_are_ignored_even_barge_in_ones() -> None:
    gate = EchoGate()
    gate.note(10.0, 14.0, "Rest for 15 seconds; next is the bridge. Stop if it hurts.")
    assert _verdict(gate, "next", 11.0) == "the player's own words"
    assert _verdict(gate, "stop", 12.0) == "the player's own words"
    assert gate.ignored == 2


def test_only_barge_in_commands_pass_over_the_players_voice() -> None:
    gate = EchoGate()
    gate.note(10.0, 14.0, "Lie on your back with both knees bent.")
    assert _verdict(gate, "help", 11.0) is not None
    assert _verdict(gate, "how long", 11.0) is not None
    assert _verdict(gate, "pause", 11.0) is None
    assert _verdict(gate, "that hurts", 11.0) is None
    assert _verdict(gate, "i can't feel my leg", 11.0) is None


def test_the_tail_after_speech_still_counts_then_silence_accepts_all() -> None:
    gate = EchoGate(tail_seconds=0.35)
    gate.note(10.0, 12.0, "Next is the bridge.")
    assert _verdict(gate, "next", 12.2) is not None  # echo arriving just after
    assert _verdict(gate, "next", 13.0) is None  # the user, in silence
    assert _verdict(gate, "help", 13.0) is None


def test_a_stop_said_as_the_stop_question_ends_is_the_users() -> None:
    """ "Say stop again to end the session, ..." answered "stop" just after it ended: only
    its last words' echo can be in that stretch, and "stop" was said at its start. Dropped
    as the player's own words, the session carried on (audio clock and live)."""
    gate = EchoGate(tail_seconds=0.35)
    gate.note(10.0, 14.8, STOP_QUESTION)
    assert _verdict(gate, "stop", 10.4) == "the player's own words"  # over its own "stop"
    assert _verdict(gate, "end session", 11.8) == "the player's own words"
    assert _verdict(gate, "stop", 14.9) is None  # begun 0.1 s after the question
    assert _verdict(gate, "end session", 14.7) is None  # begun just before its end
    assert echo_words(PlayerSpeech(10.0, 14.8, STOP_QUESTION), 14.9) == {"carry", "on"}


def test_the_echo_of_its_last_words_is_still_its_own() -> None:
    gate = EchoGate(tail_seconds=0.35)
    gate.note(10.0, 12.0, "Say pause, or stop.")
    assert _verdict(gate, "stop", 11.9) == "the player's own words"
    assert _verdict(gate, "stop", 12.1) == "the player's own words"
    assert _verdict(gate, "pause", 12.1) is None  # said at its start: no echo of it now
    assert echo_words(PlayerSpeech(10.0, 12.0, "Say pause, or stop."), 11.0) == {
        "say",
        "pause",
        "or",
        "stop",
    }


def test_cut_speech_ends_where_it_was_cut() -> None:
    gate = EchoGate()
    gate.note(10.0, 20.0, "Lie on your back.")
    gate.cut(11.0)
    assert _verdict(gate, "help", 15.0) is None


def test_stricter_confidence_over_the_players_voice() -> None:
    gate = EchoGate(barge_in_min_confidence=0.6)
    gate.note(10.0, 14.0, "Lie on your back.")
    assert _verdict(gate, "pause", 11.0, confidence=0.4) is not None
    assert _verdict(gate, "pause", 11.0, confidence=0.8) is None
    assert _verdict(gate, "pause", 20.0, confidence=0.4) is None


def test_a_pull_source_of_what_the_speaker_played() -> None:
    played = [PlayerSpeech(5.0, 6.0, "Next is cat cow.")]
    gate = EchoGate(source=lambda: played)
    assert _verdict(gate, "next", 5.5) == "the player's own words"
    assert _verdict(gate, "next", 8.0) is None


def test_an_answer_may_overlap_the_end_of_its_question() -> None:
    gate = EchoGate()
    gate.note(10.0, 14.0, "How bad is it, from 0 to 10?")
    four = parse("four")
    ten = parse("ten")
    assert four is not None
    assert ten is not None
    assert gate.verdict(13.0, 13.4, four, "four", answer_expected=True) is None
    assert gate.verdict(13.0, 13.4, four, "four", answer_expected=False) is not None
    # the question's own words are still the player's
    assert gate.verdict(13.0, 13.4, ten, "ten", answer_expected=True) is not None


def test_double_talk_needs_more_than_the_echo_explains() -> None:
    import numpy as np

    from floorcoach.audio.listening.self_voice import LevelTrack

    rng = np.random.default_rng(0)
    played = rng.normal(0, 0.3, 16000 * 12)  # the player talking for 12 s
    echo = 0.3 * played  # the room gives it back 10 dB down
    user = np.zeros_like(played)
    user[16000 * 10 : 16000 * 11] = rng.normal(0, 0.3, 16000)  # the user says something
    gate = EchoGate(mic=LevelTrack(), played=LevelTrack())
    gate.played.add(0.0, played, 16000)  # type: ignore[union-attr]
    gate.mic.add(0.0, echo + user, 16000)  # type: ignore[union-attr]
    gate.note(0.0, 12.0, "Lie on your back and breathe slowly.")
    assert gate.learn_echo(2.0, 6.0)  # a stretch with only the player
    assert 0.05 < gate.echo_ratio < 0.15  # 0.3 squared, measured
    pause = parse("pause")
    assert pause is not None
    echo_only = gate.verdict(7.0, 7.5, pause, "pause")
    assert echo_only is not None
    assert "echo" in echo_only
    assert gate.verdict(10.2, 10.7, pause, "pause") is None  # the user, over the player


def test_a_user_in_the_learning_stretch_does_not_make_the_echo_seem_loud() -> None:
    """Words the recognizer turned down still teach nothing: the median half-second counts."""
    import numpy as np

    from floorcoach.audio.listening.self_voice import LevelTrack

    rng = np.random.default_rng(1)
    played = rng.normal(0, 0.3, 16000 * 12)
    echo = 0.3 * played
    user = np.zeros_like(played)
    user[16000 * 3 : round(16000 * 3.7)] = rng.normal(0, 0.3, round(16000 * 0.7))
    gate = EchoGate(mic=LevelTrack(), played=LevelTrack())
    gate.played.add(0.0, played, 16000)  # type: ignore[union-attr]
    gate.mic.add(0.0, echo + user, 16000)  # type: ignore[union-attr]
    assert gate.learn_echo(2.0, 6.0)  # the user spoke in 0.7 s of these 4 s
    assert 0.05 < gate.echo_ratio < 0.15  # the echo's own 0.09, not the user's
    pause = parse("pause")
    assert pause is not None
    gate.note(0.0, 12.0, "Lie on your back and breathe slowly.")
    user[16000 * 10 : round(16000 * 10.5)] = rng.normal(0, 0.3, 8000)
    gate.mic.add(10.0, user[16000 * 10 : round(16000 * 10.5)], 16000)  # type: ignore[union-attr]
    assert gate.verdict(10.0, 10.5, pause, "pause") is None


def _gate_with_echo(echo_gain: float, user_gain: float, learn: bool = True) -> EchoGate:
    """The player talks for 12 s, the room gives it back at `echo_gain`, and a user says
    something at `user_gain` of the player's level from 10 to 11 s."""
    import numpy as np

    from floorcoach.audio.listening.self_voice import LevelTrack

    rng = np.random.default_rng(2)
    played = rng.normal(0, 0.3, 16000 * 12)
    user = np.zeros_like(played)
    user[16000 * 10 : 16000 * 11] = rng.normal(0, 0.3 * user_gain, 16000)
    gate = EchoGate(mic=LevelTrack(), played=LevelTrack())
    gate.played.add(0.0, played, 16000)  # type: ignore[union-attr]
    gate.mic.add(0.0, echo_gain * played + user, 16000)  # type: ignore[union-attr]
    gate.note(0.0, 12.0, "Paused. Say resume when you're ready, or stop if it hurts. Next: rest.")
    if learn:
        assert gate.learn_echo(2.0, 6.0)
    return gate


def test_the_players_own_words_are_taken_when_clearly_a_persons() -> None:
    # after an echo canceller (echo 35 dB down), a user as loud as the player says "resume"
    # while the player is still saying "Say resume when you're ready"
    gate = _gate_with_echo(echo_gain=10 ** (-35 / 20), user_gain=1.0)
    assert _verdict(gate, "resume", 10.2) is None
    assert _verdict(gate, "stop", 10.2) is None
    # other commands stay out over the player's voice, however loud
    only = "only pause, stop, pain and red flags are taken while the player speaks"
    assert _verdict(gate, "next", 10.2) == only
    assert _verdict(gate, "help", 10.2) is not None
    # the echo alone, where no one spoke, is still the player's own words
    assert _verdict(gate, "resume", 7.0) == "the player's own words"


def test_own_words_stay_ignored_without_a_measured_echo_or_a_clear_margin() -> None:
    # no canceller: the echo is 10 dB down and the user only 10 dB above it
    loud_echo = _gate_with_echo(echo_gain=10 ** (-10 / 20), user_gain=1.0)
    assert _verdict(loud_echo, "resume", 10.2) == "the player's own words"
    # the echo never measured: nothing is clear yet
    unlearned = _gate_with_echo(echo_gain=10 ** (-35 / 20), user_gain=1.0, learn=False)
    assert _verdict(unlearned, "resume", 10.2) == "the player's own words"


def _question_then_answer(feed_played: bool = True, silent_end: float = 0.3) -> EchoGate:
    """ "How bad is it, from 0 to 10?" sounded from 0 to 3 s, its clip's last `silent_end`
    seconds silent, the room giving it back 10 dB down; a user from 3.2 s."""
    import numpy as np

    from floorcoach.audio.listening.self_voice import LevelTrack

    rng = np.random.default_rng(3)
    played = rng.normal(0, 0.3, 16000 * 3)
    played[round(16000 * (3 - silent_end)) :] = 0.0
    mic = np.concatenate([10 ** (-10 / 20) * played, np.zeros(16000 * 2)])
    mic[round(16000 * 3.2) : round(16000 * 3.6)] += rng.normal(0, 0.3, round(16000 * 0.4))
    gate = EchoGate(mic=LevelTrack(), played=LevelTrack())
    if feed_played:
        gate.played.add(0.0, played, 16000)  # type: ignore[union-attr]
    gate.mic.add(0.0, mic, 16000)  # type: ignore[union-attr]
    gate.note(0.0, 3.0, "How bad is it, from 0 to 10?")
    return gate


def _answer(gate: EchoGate, text: str, start: float) -> str | None:
    intent = parse(text)
    assert intent is not None
    return gate.verdict(start, start + 0.4, intent, text, 0.9, answer_expected=True)


def test_an_answer_begun_in_the_questions_trailing_silence_is_the_users() -> None:
    """ "ten" said 0.2 s after "... from 0 to 10?": nothing the player sounded can echo into
    it (its clip ends in silence), so it is the user's, though "ten" ends the question. It
    was dropped as the player's own words, and the level taken as 5."""
    assert _answer(_question_then_answer(), "ten", 3.2) is None
    # the echo of its last word, where no one spoke, is still its own
    assert _answer(_question_then_answer(silent_end=0.0), "ten", 2.9) == "the player's own words"
    # nothing of the question on the played track: the gate cannot tell, and keeps to words
    unfed = _question_then_answer(feed_played=False)
    assert _answer(unfed, "ten", 3.2) == "the player's own words"
