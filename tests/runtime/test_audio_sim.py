"""Hands-free on the audio clock: the real recognizer hears a user, and never the player."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from floorcoach.audio.listening.recognizer_factory import make_recognizer
from floorcoach.audio.pcm import Pcm, read_wav, write_wav
from floorcoach.audio.speaking.speech_cache import CachedSynthesizer, SpeechCache
from floorcoach.audio.speaking.synth import make_synthesizer
from floorcoach.content.catalog import Catalog
from floorcoach.runtime.audio_sim import run_on_audio_clock
from floorcoach.session.command_handlers import STOP_QUESTION
from floorcoach.session.simulate import Simulation
from floorcoach_cli import run
from session_timeline import first_hold_start


def _player() -> CachedSynthesizer:
    return CachedSynthesizer(make_synthesizer("pyttsx3"), SpeechCache())


def test_the_player_never_obeys_its_own_voice() -> None:
    loaded = Catalog.load().find("quick-test")
    result = run_on_audio_clock(
        loaded, _player(), Pcm(np.zeros(0, np.int16)), make_recognizer("pocketsphinx")
    )
    assert result.summary is not None
    assert [e["outcome"] for e in result.summary["exercises"]] == ["completed"] * 3
    assert result.heard == 0
    assert not [r for r in result.records if r["kind"] == "heard"]


def test_mic_wav_simulation_hears_the_user_and_writes_what_the_player_said(
    tmp_path: Path,
) -> None:
    player = _player()
    at = first_hold_start(player) + 1.5
    words = make_synthesizer("espeak", voice="en-us").render("that hurts")
    samples = np.zeros(round((at + 3) * 16000), dtype=np.int16)
    samples[round(at * 16000) : round(at * 16000) + len(words.samples)] = words.samples
    user = tmp_path / "user.wav"
    write_wav(user, Pcm(samples))
    out, log = tmp_path / "out.wav", tmp_path / "events.jsonl"
    result = run(
        "play",
        "quick-test",
        "--mic-wav",
        str(user),
        "--speak-to",
        str(out),
        "--log",
        str(log),
        "--engine",
        "pocketsphinx",
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert all("t" in r and "kind" in r for r in records)
    heard = [r for r in records if r["kind"] == "heard"]
    assert [r["command"] for r in heard] == ["pain"]
    assert heard[0]["text"] == "that hurts"
    assert set(heard[0]) >= {"t", "kind", "command", "text", "phase", "exercise"}
    assert abs(heard[0]["t"] - (at + words.seconds)) < 1.0
    # no answer to "how bad?": treated as moderate; the 6 s hold is already as short as it
    # goes and knee to chest has no easier variant, so it is skipped (and that is said)
    decisions = [r for r in records if r["kind"] == "decision"]
    assert [r["decision"] for r in decisions] == ["skip"]
    assert decisions[0]["reason"] == "cannot_reduce"
    said = read_wav(out)
    assert said.seconds > 60
    assert float(np.sqrt(np.mean(said.to_float() ** 2))) > 0.01


def test_what_the_microphone_hears_over_the_player_gets_the_over_player_grammar() -> None:
    """The simulation tells the recognizer when the player talks (set_player_talking), as
    the live listener does: with no canceller the player's own echo is decoded, over the
    player, with the barge-in grammar, and still never obeyed."""
    from floorcoach.audio.listening.sphinx_decoder import over_player_search_name
    from floorcoach.audio.listening.sphinx_recognizer import SphinxRecognizer
    from floorcoach.commands import ListenContext

    searches: list[str] = []

    class Recording(SphinxRecognizer):
        def _decode(self, samples: np.ndarray, search: str) -> tuple[str, float]:
            searches.append(search)
            return super()._decode(samples, search)

    loaded = Catalog.load().find("quick-test")
    result = run_on_audio_clock(
        loaded, _player(), Pcm(np.zeros(0, np.int16)), Recording(), echo_cancel="none"
    )
    assert over_player_search_name(ListenContext.COMMANDS) in searches
    assert result.heard == 0


class _PainAnswerer:
    """A user who says "that hurts" in the first hold, answers the question with words the
    recognizer cannot place, then, asked again, with "four" and "in my back"."""

    LEAD_SECONDS = 0.6
    """Silence before each line."""

    def __init__(self, at: float, overlap: float | None = None) -> None:
        """`overlap`: the unplaced words begin this long before the question ends."""
        self.voice = make_synthesizer("espeak", voice="en-us")
        first_answer = (
            (lambda sim: self._asked(sim, "How bad is it"))
            if overlap is None
            else (lambda sim: self._ending(sim, "How bad is it", overlap))
        )
        self.lines = [
            ("that hurts", lambda sim: sim.now >= at),
            ("purple elephant", first_answer),
            ("four", lambda sim: self._asked(sim, "Sorry, I didn't catch that.")),
            ("in my back", lambda sim: self._asked(sim, "Is it in your back")),
        ]
        self.said: list[tuple[float, str]] = []

    def _asked(self, sim: Simulation, words: str) -> bool:
        speaker = sim.speaker
        silent = speaker.current is None and not speaker.queue  # type: ignore[attr-defined]
        last = self.said[-1][0] if self.said else 0.0
        asked = any(
            r["kind"] == "say" and r["t"] > last and words in r["text"] for r in sim.result.records
        )
        return silent and asked

    def _ending(self, sim: Simulation, words: str, overlap: float) -> bool:
        """The player is saying `words`, and words said now would begin `overlap` before
        it ends."""
        current = sim.speaker.current  # type: ignore[attr-defined]
        return (
            current is not None
            and words in current.say.text
            and current.end - sim.now <= self.LEAD_SECONDS + overlap
        )

    def __call__(self, sim: Simulation) -> Pcm | None:
        if not self.lines or not self.lines[0][1](sim):
            return None
        text, _ = self.lines.pop(0)
        self.said.append((sim.now + self.LEAD_SECONDS, text))
        clip = self.voice.render(text)
        lead = Pcm(np.zeros(round(self.LEAD_SECONDS * clip.rate_hz), np.int16), clip.rate_hz)
        return Pcm(np.concatenate([lead.samples, clip.samples]), clip.rate_hz)


@pytest.mark.parametrize("overlap", [None, 0.3])
def test_words_not_caught_get_the_pain_question_again_and_the_next_answer_counts(
    overlap: float | None,
) -> None:
    """Hands-free on the audio clock, with the real recognizer: an answer it cannot place
    gets "Sorry, I didn't catch that", the level question again, and the user's second
    answer is taken (before, the player waited out the 20 s in silence). Also when the
    answer begins 0.3 s before the question ends, as eager answers do."""
    player = _player()
    user = _PainAnswerer(first_hold_start(player) + 1.5, overlap)
    loaded = Catalog.load().find("quick-test")
    result = run_on_audio_clock(
        loaded,
        player,
        Pcm(np.zeros(0, np.int16)),
        make_recognizer("pocketsphinx"),
        agent=user,
    )
    assert [text for _, text in user.said] == [
        "that hurts",
        "purple elephant",
        "four",
        "in my back",
    ]
    not_caught = [r for r in result.records if r["kind"] == "not_caught"]
    assert len(not_caught) == 1
    assert not_caught[0]["asking"] == "level"
    assert not_caught[0]["t"] > user.said[1][0]
    said = [r["text"] for r in result.records if r["kind"] == "say"]
    assert "Sorry, I didn't catch that. How bad is it, from 0 to 10?" in said
    heard = [(r["command"], r["text"]) for r in result.records if r["kind"] == "heard"]
    assert heard == [("pain", "that hurts"), ("4", "four"), ("back", "in my back")]
    reports = [r for r in result.records if r["kind"] == "pain_reported"]
    assert reports
    assert not [r for r in result.records if r["kind"] == "pain_no_answer"]
    pain = [r for r in result.records if r["kind"] == "pain"]
    assert [(r["level"], r["location"]) for r in pain] == [(4, "back")]


class _StopTwice:
    """A user who says "stop" in the first hold, and "stop" again `after` seconds after the
    player's "Say stop again to end the session, or resume to carry on." ends."""

    def __init__(self, at: float, after: float) -> None:
        self.voice = make_synthesizer("espeak", voice="en-us")
        self.at = at
        self.after = after
        self.question_ends: list[float] = []
        self.said: list[float] = []

    def __call__(self, sim: Simulation) -> Pcm | None:
        current = sim.speaker.current  # type: ignore[attr-defined]
        if current is not None and current.say.text == STOP_QUESTION:
            self.question_ends.append(current.end)
        due = self.at if not self.said else (self.question_ends or [float("inf")])[-1]
        if len(self.said) == 2 or sim.now < due + (self.after if self.said else 0.0):
            return None
        self.said.append(sim.now)
        return self.voice.render("stop")


def test_stop_said_just_after_the_stop_question_ends_the_session() -> None:
    """The question holds the word "stop" itself: a "stop" begun 0.2 s after it ended was
    dropped as the player's own words, and the session carried on (echo_words)."""
    player = _player()
    user = _StopTwice(first_hold_start(player) + 1.5, after=0.2)
    result = run_on_audio_clock(
        Catalog.load().find("quick-test"),
        player,
        Pcm(np.zeros(0, np.int16)),
        make_recognizer("pocketsphinx"),
        agent=user,
    )
    assert len(user.said) == 2
    assert user.said[1] >= user.question_ends[-1] + 0.2
    assert [r["command"] for r in result.records if r["kind"] == "heard"] == ["stop", "stop"]
    assert not [r for r in result.records if r["kind"] == "ignored"]
    decided = [(r["decision"], r.get("reason")) for r in result.records if r["kind"] == "decision"]
    assert decided == [("stop", "confirmed")]


def test_ten_said_just_after_how_bad_is_it_is_the_level() -> None:
    """ "How bad is it, from 0 to 10?" ends with "ten": said 0.2 s after it, in its clip's
    trailing silence, "ten" was dropped as the player's own words and the level taken as 5."""
    player = _player()
    at = first_hold_start(player) + 1.5
    voice = make_synthesizer("espeak", voice="en-us")
    said: list[str] = []
    question_ends: list[float] = []

    def user(sim: Simulation) -> Pcm | None:
        current = sim.speaker.current  # type: ignore[attr-defined]
        if current is not None and "How bad is it" in current.say.text:
            question_ends.append(current.end)
        if not said and sim.now >= at:
            said.append("that hurts")
            return voice.render("that hurts")
        if len(said) == 1 and question_ends and sim.now >= question_ends[-1] + 0.2:
            said.append("ten")
            return voice.render("ten")
        return None

    result = run_on_audio_clock(
        Catalog.load().find("quick-test"),
        player,
        Pcm(np.zeros(0, np.int16)),
        make_recognizer("pocketsphinx"),
        agent=user,
    )
    assert said == ["that hurts", "ten"]
    assert [r["text"] for r in result.records if r["kind"] == "heard"] == ["that hurts", "ten"]
    assert [r["level"] for r in result.records if r["kind"] == "pain"] == [10]
