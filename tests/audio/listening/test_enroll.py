"""Enrolling the user's own voice: few-shot matching, take checks, the store, the session, CLI."""

from __future__ import annotations

import io
import json
import logging
import os
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from floorcoach.audio.listening.enrollment_store import (
    Enrollment,
    EnrollmentError,
    EnrollmentStore,
    PhraseRecord,
    Take,
    load_enrolled,
)
from floorcoach.audio.listening.few_shot import (
    SUMMARY_DIMS,
    EnrolledPhrase,
    FewShot,
    FewShotRule,
    centre,
    odd_take,
)
from floorcoach.audio.listening.take_catcher import Listened
from floorcoach.audio.listening.vad import Segment
from floorcoach.audio.pcm import RATE_HZ, Pcm, write_wav
from floorcoach.cli import main
from floorcoach.commands import PHRASE_TABLE, Command, Intent
from floorcoach.runtime.enroll import (
    RETRIES,
    EnrollSession,
    check_take,
    key_item,
    resolve_phrase,
    taught_item,
)

PAUSE = Intent(command=Command.PAUSE)
STOP = Intent(command=Command.STOP)
FOUR = Intent(number=4)
POOLED_DIMS = 577


def pooled(direction: npt.NDArray[np.float64], noise: float = 0.0, seed: int = 0):
    """A pooled vector whose few-shot summary points along `direction` (plus noise)."""
    rng = np.random.default_rng(seed)
    v = direction / np.linalg.norm(direction) + noise * rng.standard_normal(SUMMARY_DIMS)
    out = np.zeros(POOLED_DIMS, dtype=np.float32)
    out[:SUMMARY_DIMS] = centre() + v.astype(np.float32)
    return out


def axis(i: int, j: int | None = None, mix: float = 0.0) -> npt.NDArray[np.float64]:
    v = np.zeros(SUMMARY_DIMS)
    v[i] = 1.0
    if j is not None:
        v[j] = mix
    return v


def phrase(intent: Intent, name: str, direction, taught: bool = False) -> EnrolledPhrase:
    takes = np.stack([pooled(direction, 0.05, seed) for seed in range(3)])
    return EnrolledPhrase(intent, name, takes, taught)


# --- few-shot matching -------------------------------------------------------------------------


def test_a_segment_near_an_enrolled_phrase_is_that_phrase() -> None:
    few = FewShot([phrase(PAUSE, "pause", axis(0)), phrase(STOP, "stop", axis(1))])
    match = few.match(pooled(axis(0), 0.05, seed=9))
    assert match is not None
    assert match.phrase.intent == PAUSE
    assert match.phrase.phrase == "pause"
    assert 0.0 < match.confidence <= 1.0
    assert match.runner_up > match.distance


def test_far_from_everything_enrolled_is_left_to_the_general_model() -> None:
    few = FewShot([phrase(PAUSE, "pause", axis(0)), phrase(STOP, "stop", axis(1))])
    assert few.match(pooled(axis(5))) is None


def test_halfway_between_two_intents_is_not_taken() -> None:
    rule = FewShotRule(threshold=0.5, margin=0.05)
    few = FewShot([phrase(PAUSE, "pause", axis(0)), phrase(STOP, "stop", axis(1))], rule)
    assert few.match(pooled(axis(0, 1, mix=1.0))) is None  # equally near both
    assert few.match(pooled(axis(0, 1, mix=0.3))) is not None  # clearly nearer pause


def test_two_phrases_of_one_intent_do_not_compete() -> None:
    rule = FewShotRule(threshold=0.5, margin=0.05)
    few = FewShot(
        [
            phrase(PAUSE, "pause", axis(0)),
            phrase(PAUSE, "hang about", axis(0, 1, mix=0.2), taught=True),
            phrase(STOP, "stop", axis(2)),
        ],
        rule,
    )
    match = few.match(pooled(axis(0, 1, mix=0.1)))
    assert match is not None
    assert match.phrase.intent == PAUSE


def test_a_phrase_the_context_does_not_listen_for_falls_through() -> None:
    few = FewShot([phrase(FOUR, "four", axis(0)), phrase(PAUSE, "pause", axis(1))])
    said_four = pooled(axis(0), 0.05, seed=4)
    assert few.match(said_four, allowed={PAUSE, STOP}) is None  # not even "pause" instead
    match = few.match(said_four, allowed={PAUSE, FOUR})
    assert match is not None
    assert match.phrase.intent == FOUR


@pytest.mark.parametrize("nearest", [False, True])
def test_a_stack_of_segments_is_decided_as_each_alone(nearest: bool) -> None:
    few = FewShot(
        [phrase(PAUSE, "pause", axis(0)), phrase(STOP, "stop", axis(1))],
        FewShotRule(nearest=nearest),
    )
    segments = np.stack([pooled(axis(k % 3), 0.1, seed=k) for k in range(9)])
    one_by_one = [few.match(s) for s in segments]
    together = few.matches(segments)
    assert [m and m.phrase.phrase for m in together] == [m and m.phrase.phrase for m in one_by_one]
    assert {m.phrase.phrase for m in together if m} == {"pause", "stop"}


def at_distance(distance: float, towards: int = 0, away: int = 5) -> npt.NDArray[np.float32]:
    """A pooled vector whose summary is `distance` (cosine) from axis `towards`."""
    cos = 1.0 - distance
    return pooled(cos * axis(towards) + np.sqrt(1.0 - cos * cos) * axis(away))


def exact(intent: Intent, name: str, k: int) -> EnrolledPhrase:
    return EnrolledPhrase(intent, name, np.stack([pooled(axis(k))] * 3))


def test_stop_and_next_must_be_nearer_than_the_others() -> None:
    rule = FewShotRule(threshold=0.3, consequential_threshold=0.25, margin=0.0)
    few = FewShot([exact(PAUSE, "pause", 0), exact(STOP, "stop", 1)], rule)
    assert few.match(at_distance(0.27, towards=0, away=5)).phrase.intent == PAUSE
    assert few.match(at_distance(0.27, towards=1, away=5)) is None
    assert few.match(at_distance(0.22, towards=1, away=5)).phrase.intent == STOP


def test_a_far_match_does_not_overrule_what_the_general_model_heard() -> None:
    rule = FewShotRule(threshold=0.3, overrule=0.25, margin=0.0)
    few = FewShot([exact(PAUSE, "pause", 0)], rule)
    near, far = few.match(at_distance(0.2)), few.match(at_distance(0.28))
    assert near is not None
    assert far is not None
    assert few.wins(far, None)  # the general model heard nothing
    assert few.wins(far, PAUSE)
    assert few.wins(far, "pause")
    assert not few.wins(far, Intent(command=Command.PAIN))
    assert few.wins(near, Intent(command=Command.PAIN))
    assert not few.wins(None, None)


def test_nothing_enrolled_matches_nothing() -> None:
    few = FewShot([])
    assert len(few) == 0
    assert few.match(pooled(axis(0))) is None


def test_a_take_unlike_the_others_is_named() -> None:
    similar = [pooled(axis(0), 0.05, seed) for seed in range(3)]
    assert odd_take(similar, [0.5, 0.55, 0.5]) is None
    odd = odd_take([similar[0], pooled(axis(7)), similar[1]], [0.5, 0.5, 0.5])
    assert odd is not None
    assert odd.index == 1
    assert "did not sound like" in odd.why
    longer = odd_take(similar, [0.5, 0.5, 1.6])
    assert longer is not None
    assert longer.index == 2
    assert "longer" in longer.why
    shorter = odd_take(similar, [0.2, 0.6, 0.6])
    assert shorter is not None
    assert shorter.index == 0
    assert "shorter" in shorter.why


# --- take checks -------------------------------------------------------------------------------


def tone(seconds: float, amplitude: float) -> npt.NDArray[np.int16]:
    t = np.arange(int(seconds * RATE_HZ)) / RATE_HZ
    return np.round(amplitude * 32767 * np.sin(2 * np.pi * 220 * t)).astype(np.int16)


def segment(
    samples: npt.NDArray[np.int16], speech_seconds: float = 0.5, overlong: bool = False
) -> Segment:
    return Segment(1.0, 1.0 + speech_seconds, 0.8, samples, overlong, -60.0)


@pytest.mark.parametrize(
    ("listened", "words"),
    [
        (Listened((), -62.0, -60.0), "did not hear anything"),
        (Listened((), -50.0, -60.0), "too quiet"),
        (Listened((segment(tone(0.5, 0.2)), segment(tone(0.5, 0.2))), -20, -60), "in pieces"),
        (Listened((segment(tone(0.5, 1.0)),), -3.0, -60.0), "too loud"),
        (Listened((segment(tone(0.5, 0.003)),), -50.0, -60.0), "very quiet"),
        (Listened((segment(tone(3.0, 0.2), 2.9, overlong=True),), -20, -60), "too long"),
        (Listened((segment(tone(3.5, 0.2), 3.4),), -20, -60), "too long"),
        (Listened((segment(tone(0.5, 0.2)),), -20.0, -60.0, still_speaking=True), "too long"),
    ],
)
def test_a_bad_take_says_what_was_wrong(listened: Listened, words: str) -> None:
    take, problem = check_take(listened)
    assert take is None
    assert problem is not None
    assert words in problem
    assert problem.endswith(".")
    assert not set(problem) & set("#|[]()_=<>/")


def test_a_good_take_passes() -> None:
    take, problem = check_take(Listened((segment(tone(0.6, 0.2), 0.55),), -17.0, -60.0))
    assert problem is None
    assert take is not None
    assert take.speech_seconds == pytest.approx(0.55)


# --- the store ---------------------------------------------------------------------------------


def record(
    means: str = "pause", words: str | None = None, taught: bool = False, n: int = 3, k: int = 0
) -> PhraseRecord:
    takes = tuple(
        Take(f"takes/{means}-{k}-{i}.wav", 0.5, pooled(axis(k), 0.05, i)) for i in range(n)
    )
    return PhraseRecord(means, words or means, taught, "2026-11-30T12:00:00+00:00", takes)


def test_the_store_round_trips_every_field(tmp_path: Path) -> None:
    store = EnrollmentStore(tmp_path)
    store.add(record("pause"))
    store.add(record("pause", "hang about", taught=True, k=1))
    loaded = store.load()
    assert [(p.means, p.phrase, p.taught) for p in loaded.phrases] == [
        ("pause", "pause", False),
        ("pause", "hang about", True),
    ]
    first = loaded.phrases[0]
    assert first.enrolled_at == "2026-11-30T12:00:00+00:00"
    assert first.takes[0].pooled.dtype == np.float32
    np.testing.assert_array_equal(first.takes[2].pooled, record("pause").takes[2].pooled)
    few = loaded.few_shot()
    assert len(few) == 2
    assert few.examples == 6


def test_enrolling_a_phrase_again_replaces_it_and_keeps_the_others(tmp_path: Path) -> None:
    store = EnrollmentStore(tmp_path)
    for name in ("pause-0-0.wav", "stop-2-0.wav"):
        store.write_take(name, Pcm(tone(0.1, 0.1)))
    store.add(record("pause", n=1))
    store.add(record("stop", n=1, k=2))
    store.add(record("pause", n=3, k=5))  # the same phrase again, new takes
    loaded = store.load()
    assert [(p.means, len(p.takes)) for p in loaded.phrases] == [("stop", 1), ("pause", 3)]
    assert not (store.takes_dir / "pause-0-0.wav").exists()  # the replaced take's audio went
    assert (store.takes_dir / "stop-2-0.wav").exists()


def test_a_failed_write_keeps_what_was_enrolled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = EnrollmentStore(tmp_path)
    store.add(record("pause"))
    before = store.path.read_bytes()

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space"):
        store.add(record("stop", k=1))
    assert store.path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{not json", "damaged"),
        ('{"format": "something else"}', "not a floorcoach enrollment"),
        ('{"format": "floorcoach-enrollment", "version": 99}', "version"),
        (None, "base64"),
        (None, "not a command"),
        (None, "numbers"),
    ],
)
def test_a_damaged_file_is_reported_and_ignored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, content: str | None, words: str
) -> None:
    store = EnrollmentStore(tmp_path)
    if content is None:
        data = json.loads(json.dumps(_valid_json(store)))
        take = data["phrases"][0]["takes"][0]
        if words == "base64":
            take["pooled"] = "***"
        elif words == "not a command":
            data["phrases"][0]["means"] = "dance"
        else:
            take["pooled"] = take["pooled"][:16]
        content = json.dumps(data)
    store.path.write_text(content)
    with pytest.raises(EnrollmentError, match=words):
        store.load()
    with caplog.at_level(logging.WARNING):
        assert load_enrolled(tmp_path) is None
    assert "enrolled phrases not used" in caplog.text
    assert "--reset" in caplog.text


def _valid_json(store: EnrollmentStore) -> dict:
    store.add(record("pause"))
    return json.loads(store.path.read_text())


def test_reset_removes_everything(tmp_path: Path) -> None:
    store = EnrollmentStore(tmp_path)
    store.write_take("pause-1.wav", Pcm(tone(0.2, 0.1)))
    store.add(record("pause"))
    assert store.reset() is True
    assert store.load() == Enrollment()
    assert not store.takes_dir.exists()
    assert store.reset() is False
    assert load_enrolled(tmp_path) is None


def test_command_line_words_name_phrases() -> None:
    assert resolve_phrase("4") == "four"
    assert resolve_phrase("That hurts") == "that hurts"
    assert resolve_phrase("dance") is None


# --- the spoken session with fake devices ------------------------------------------------------


class FakeMouth:
    def __init__(self) -> None:
        self.said: list[str] = []

    def say(self, text: str) -> None:
        self.said.append(text)


class FakeEars:
    """Gives the scripted takes in turn: a level (None: nothing said) per take."""

    def __init__(self, script: list[float | None]) -> None:
        self.script = list(script)
        self.heard = 0

    def listen(self, seconds: float) -> Listened:
        level = self.script.pop(0)
        self.heard += 1
        if level is None:
            return Listened((), -61.0, -60.0)
        samples = tone(0.5, level)
        samples[0] = self.heard  # tells the fake embedding which take this is
        return Listened((segment(samples),), -20.0, -60.0)


def fake_embed(directions: dict[int, int]):
    """Take n (1-based, counted by FakeEars) embeds along axis directions.get(n, 0)."""

    def embed(samples: npt.NDArray[np.int16]) -> npt.NDArray[np.float32]:
        return pooled(axis(directions.get(int(samples[0]), 0)), 0.02, int(samples[0]))

    return embed


def test_a_session_asks_three_times_and_stores_each_phrase(tmp_path: Path) -> None:
    mouth = FakeMouth()
    ears = FakeEars([0.2] * 6)
    store = EnrollmentStore(tmp_path)
    report = EnrollSession(mouth, ears, store, embed=fake_embed({}), note=lambda _: None).run(
        [key_item("pause"), taught_item("hang about", "pause")]
    )
    assert report.enrolled == ["pause", "hang about"]
    assert not report.skipped
    assert mouth.said[1:4] == ["Say pause.", "Again, pause.", "Once more, pause."]
    assert "Now your own words for pause. Say hang about." in mouth.said
    phrases = store.load().phrases
    assert [(p.phrase, p.taught, len(p.takes)) for p in phrases] == [
        ("pause", False, 3),
        ("hang about", True, 3),
    ]
    assert all((tmp_path / t.wav).is_file() for p in phrases for t in p.takes)


def test_words_taught_by_voice_are_asked_for_without_naming_them(tmp_path: Path) -> None:
    mouth = FakeMouth()
    store = EnrollmentStore(tmp_path)
    EnrollSession(mouth, FakeEars([0.2] * 3), store, embed=fake_embed({}), note=print).run(
        [taught_item("", "stop")], intro=False
    )
    assert mouth.said[:3] == [
        "Now your own words for stop. Say your words for stop.",
        "Again, your words for stop.",
        "Once more, your words for stop.",
    ]
    (record,) = store.load().phrases
    assert (record.means, record.phrase, record.taught) == ("stop", "own words for stop", True)


def test_a_bad_take_is_asked_again_with_the_reason(tmp_path: Path) -> None:
    mouth = FakeMouth()
    ears = FakeEars([None, 0.2, 0.001, 0.2, 0.2])
    report = EnrollSession(
        mouth, ears, EnrollmentStore(tmp_path), embed=fake_embed({}), note=lambda _: None
    ).run([key_item("stop")], intro=False)
    assert report.enrolled == ["stop"]
    assert "I did not hear anything. Say stop again." in mouth.said
    assert "That was very quiet. Come a little closer, or speak up. Say stop again." in mouth.said
    assert len(report.problems) == 2


def test_a_take_unlike_the_others_is_said_again(tmp_path: Path) -> None:
    mouth = FakeMouth()
    ears = FakeEars([0.2] * 4)
    store = EnrollmentStore(tmp_path)
    EnrollSession(mouth, ears, store, embed=fake_embed({2: 9}), note=lambda _: None).run(
        [key_item("next")], intro=False
    )
    assert "The second one did not sound like the others. Say next once more." in mouth.said
    assert ears.heard == 4
    assert len(store.load().phrases[0].takes) == 3


def test_after_too_many_retries_the_phrase_is_left_and_earlier_ones_kept(tmp_path: Path) -> None:
    store = EnrollmentStore(tmp_path)
    store.add(record("help"))
    mouth = FakeMouth()
    # too quiet, and nothing at all, in turn: never silent long enough to end the session
    ears = FakeEars([0.001, None] * ((RETRIES + 1) // 2) + [0.001] + [0.2] * 3)
    report = EnrollSession(mouth, ears, store, embed=fake_embed({}), note=lambda _: None).run(
        [key_item("pause"), key_item("stop")]
    )
    assert not report.finished_early
    assert report.skipped == ["pause"]
    assert report.enrolled == ["stop"]
    assert "Let's leave pause for another day." in mouth.said
    assert sorted(p.phrase for p in store.load().phrases) == ["help", "stop"]


# --- the recognizer uses the enrollment ---------------------------------------------------------


needs_espeak = pytest.mark.skipif(
    __import__("shutil").which("espeak-ng") is None, reason="espeak-ng is not installed"
)


@pytest.fixture(scope="module")
def espeak_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("espeak")


def _said(text: str, cache: Path, speed: int, pitch: int = 50) -> npt.NDArray[np.int16]:
    from speech_fixtures import espeak, stream

    audio, _ = stream([espeak(text, cache, "en-us", speed, pitch)], gap_seconds=1.0, seed=speed)
    return audio


def _enroll_from_audio(
    store: EnrollmentStore, means: str, words: str, takes: list[npt.NDArray[np.int16]]
) -> None:
    from floorcoach.runtime.enroll import segment_takes

    good, problems = segment_takes(takes)
    assert not problems
    assert len(good) == 3
    item = taught_item(words, means) if words != means else key_item(means)
    EnrollSession(FakeMouth(), FakeEars([]), store).save(item, good)


def _heard(rec, audio: npt.NDArray[np.int16]) -> list[tuple[str, str]]:
    rec.reset()
    out = []
    for start in range(0, len(audio), 320):
        out += rec.accept(audio[start : start + 320])
    out += rec.flush()
    return [(h.intent.value, h.text) for h in out]


@needs_espeak
def test_a_taught_phrase_is_heard_only_once_enrolled(tmp_path: Path, espeak_cache: Path) -> None:
    from floorcoach.audio.listening.recognizer_factory import make_recognizer
    from floorcoach.commands import ListenContext

    store = EnrollmentStore(tmp_path)
    said = _said("hang about", espeak_cache, 165, 55)
    general = make_recognizer("pocketsphinx", enrolled=False)
    assert _heard(general, said) == []  # not a phrase the general model knows
    _enroll_from_audio(
        store,
        "pause",
        "hang about",
        [
            _said("hang about", espeak_cache, speed, pitch)
            for speed, pitch in ((140, 45), (155, 50), (180, 60))
        ],
    )
    enrolled = load_enrolled(tmp_path)
    assert enrolled is not None
    general.set_enrollment(enrolled)  # type: ignore[attr-defined]
    assert "1 phrase enrolled in your voice" in general.description
    assert _heard(general, said) == [("pause", "hang about")]
    general.set_context(ListenContext.PAIN_LEVEL)  # pause is heard in every context
    assert _heard(general, said) == [("pause", "hang about")]
    general.set_enrollment(None)  # type: ignore[attr-defined]
    general.set_context(ListenContext.COMMANDS)
    assert _heard(general, said) == []


@needs_espeak
def test_the_players_recognizer_reads_the_users_enrollment(
    espeak_cache: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from floorcoach.audio.listening.enrollment_store import voice_dir
    from floorcoach.audio.listening.recognizer_factory import make_recognizer

    store = EnrollmentStore()  # $FLOORCOACH_VOICE_DIR: a temporary folder in tests
    assert store.directory == voice_dir()
    _enroll_from_audio(
        store,
        "pause",
        "hang about",
        [_said("hang about", espeak_cache, s, p) for s, p in ((140, 45), (155, 50), (180, 60))],
    )
    said = _said("hang about", espeak_cache, 165, 55)
    assert _heard(make_recognizer("pocketsphinx"), said) == [("pause", "hang about")]
    store.path.write_text(store.path.read_text()[:200])  # damaged: cut short
    with caplog.at_level(logging.WARNING):
        rec = make_recognizer("pocketsphinx")
    assert "enrolled phrases not used" in caplog.text
    assert _heard(rec, said) == []
    assert _heard(rec, _said("stop", espeak_cache, 150)) == [("stop", "stop")]


# --- the command line ---------------------------------------------------------------------------


def _wavs(tmp_path: Path, text: str, cache: Path) -> list[str]:
    paths = []
    for speed, pitch in ((140, 45), (155, 50), (180, 60)):
        path = tmp_path / f"{text.replace(' ', '_')}-{speed}.wav"
        write_wav(path, Pcm(_said(text, cache, speed, pitch)))
        paths.append(str(path))
    return paths


@needs_espeak
def test_enroll_list_and_reset_from_the_command_line(
    tmp_path: Path,
    espeak_cache: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert main(["enroll", "--list"]) == 0
    assert "Nothing enrolled yet" in capsys.readouterr().out
    wavs = _wavs(tmp_path, "hang about", espeak_cache)
    assert main(["enroll", "--teach", "hang about", "--as", "pause", "--wav", *wavs]) == 0
    assert "Enrolled 'hang about' (3 takes)" in capsys.readouterr().out
    assert main(["enroll", "--list"]) == 0
    out = capsys.readouterr().out
    assert "hang about  3 takes" in out
    assert "(your words for pause)" in out
    assert "Not enrolled yet: pause, resume, next, stop, that hurts, help, zero" in out

    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    assert main(["enroll", "--reset"]) == 1
    assert "Remove all 1 enrolled phrases" in capsys.readouterr().out
    assert EnrollmentStore().exists()
    monkeypatch.setattr("sys.stdin", io.StringIO("yes\n"))
    assert main(["enroll", "--reset", "--commands", "pause"]) == 0
    assert "Removed 1 enrolled phrase: hang about." in capsys.readouterr().out
    assert EnrollmentStore().load().phrases == ()
    assert main(["enroll", "--reset", "--yes"]) == 0
    assert not EnrollmentStore().exists()


def test_a_damaged_file_is_listed_as_damaged(capsys: pytest.CaptureFixture[str]) -> None:
    store = EnrollmentStore()
    store.directory.mkdir(parents=True, exist_ok=True)
    store.path.write_text("{")
    assert main(["enroll", "--list"]) == 1
    err = capsys.readouterr().err
    assert "damaged" in err
    assert "enroll --reset" in err


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--as", "pause"], "--as goes with --teach"),
        (["--teach", "hang about"], "--teach needs --as"),
        (["--teach", "hang about", "--as", "dance"], "'dance' is not a command"),
        (["--commands", "pause,dance"], "'dance' is not a command"),
        (["--list", "--commands", "pause"], "--commands does not go with --list"),
        (["--yes"], "--yes goes with --reset"),
        (["--commands", "pause,stop", "--wav", "a.wav", "b.wav", "c.wav"], "one phrase"),
        (["--commands", "pause", "--wav", "a.wav"], "at least 3"),
    ],
)
def test_usage_errors_exit_2_and_say_why(
    argv: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["enroll", *argv]) == 2
    assert words in capsys.readouterr().err


def test_without_a_microphone_it_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from floorcoach.audio.listening import microphone
    from floorcoach.errors import AudioDeviceError

    def no_device(self: object) -> None:
        raise AudioDeviceError("no input device found")

    monkeypatch.setattr(microphone.MicrophoneListener, "start", no_device)
    assert main(["enroll", "--commands", "pause", "--no-voice"]) == 1
    err = capsys.readouterr().err
    assert "no input device found" in err
    assert "needs a microphone" in err
    assert PHRASE_TABLE["pause"] == PAUSE


@needs_espeak
def test_the_enrollment_can_change_while_the_worker_thread_decodes(
    tmp_path: Path, espeak_cache: Path
) -> None:
    import threading

    from floorcoach.audio.listening.sphinx_recognizer import SphinxRecognizer

    store = EnrollmentStore(tmp_path)
    _enroll_from_audio(
        store,
        "pause",
        "hang about",
        [_said("hang about", espeak_cache, s, p) for s, p in ((140, 45), (155, 50), (180, 60))],
    )
    enrolled = store.load().few_shot()
    rec = SphinxRecognizer()
    audio = np.concatenate([_said(t, espeak_cache, 165, 55) for t in ("hang about", "stop")] * 2)
    done = threading.Event()
    heard: list[list[tuple[str, str]]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(2):
                heard.append(_heard(rec, audio))
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=worker)
    thread.start()
    swaps = 0
    while not done.is_set():
        rec.set_enrollment(enrolled if swaps % 2 == 0 else None)
        swaps += 1
        time.sleep(0.001)
    thread.join()
    assert not errors
    assert swaps > 10
    for run in heard:  # each segment decided with one enrollment or the other, whole
        assert [h for h in run if h[0] == "stop"] == [("stop", "stop")] * 2
        assert set(run) <= {("stop", "stop"), ("pause", "hang about")}
