"""scripts/human_speech.py: the scoring rules, the speaker split and the stream builders of
`bench_commands --human`, on small made-up data (../shared is not needed)."""

from __future__ import annotations

import json
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from floorcoach.audio.pcm import RATE_HZ
from floorcoach.commands import Command, Intent, RedFlag

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))

import human_speech as hs  # noqa: E402


def test_window_is_half_a_second_before_to_one_and_a_half_after() -> None:
    event = hs.Event("stop", start=10.0, end=10.5)
    assert hs.in_window(event, 9.5)
    assert hs.in_window(event, 12.0)
    assert not hs.in_window(event, 9.49)
    assert not hs.in_window(event, 12.01)


def test_an_event_needs_its_own_value_in_its_window() -> None:
    events = [hs.Event("stop", 1.0, 1.5), hs.Event("7", 5.0, 5.4), hs.Event("help", 9.0, 9.3)]
    heard = [
        hs.Detection("pause", 1.1),  # wrong command at the right time
        hs.Detection("7", 5.2),  # right
        hs.Detection("help", 11.0),  # right value, 1.7 s after the end: too late
    ]
    assert hs.match_events(events, heard) == [None, 1, None]


def test_one_detection_makes_one_event_right() -> None:
    events = [hs.Event("stop", 1.0, 1.4), hs.Event("stop", 2.0, 2.4)]
    heard = [hs.Detection("stop", 2.05)]  # inside both windows
    matched = hs.match_events(events, heard)
    assert matched == [None, 0]  # the nearer word takes it
    assert sum(k is not None for k in matched) == 1
    two = [hs.Detection("stop", 1.02), hs.Detection("stop", 2.05)]
    assert hs.match_events(events, two) == [0, 1]


def test_numbers_are_matched_as_the_recognizer_reports_them() -> None:
    assert Intent(number=7).value == "7"
    events = [hs.Event("7", 1.0, 1.4), hs.Event("10", 4.0, 4.4)]
    assert hs.match_events(events, [hs.Detection(Intent(number=10).value, 4.1)]) == [None, 0]


def test_consequential_commands_follow_the_intents() -> None:
    costly = {Command.STOP, Command.NEXT, Command.PREVIOUS, Command.RESTART}
    for command in Command:
        assert hs.is_consequential(Intent(command=command).value) == (command in costly)
    for flag in RedFlag:
        assert hs.is_consequential(Intent(red_flag=flag).value)
    assert not hs.is_consequential(Intent(number=3).value)


def test_false_commands_are_counted_in_the_scored_regions_only() -> None:
    regions = [hs.Region(0.0, 60.0, "a"), hs.Region(120.0, 180.0, "c")]  # 60-120 s: other split
    heard = [
        hs.Detection("pause", 5.0),
        hs.Detection("stop", 30.0),
        hs.Detection("next", 90.0),  # not in a scored region
        hs.Detection("red_flag", 150.0),
        hs.Detection("help", 179.9),
    ]
    count = hs.false_commands(heard, regions)
    assert (count.total, count.consequential) == (4, 2)
    assert count.seconds == pytest.approx(120.0)
    assert count.per_hour() == pytest.approx(4 * 30)
    assert count.per_hour(consequential=True) == pytest.approx(2 * 30)
    assert hs.false_commands([], []).per_hour() != hs.false_commands([], []).per_hour()  # nan


def test_detections_read_heard_objects() -> None:
    from floorcoach.audio.listening.recognizer import Heard

    heard = [Heard(Intent(number=4), "four", 1.25, 1.6, 0.9, "pocketsphinx")]
    assert hs.detections(heard) == [hs.Detection("4", 1.25, "four")]


def test_speaker_split_is_stable_and_about_sixty_forty() -> None:
    names = [f"sc-{i:05d}" for i in range(2000)]
    splits = [hs.speaker_split(n) for n in names]
    assert set(splits) == {"tune", "check"}
    assert 0.55 < splits.count("tune") / len(splits) < 0.65
    assert splits == [hs.speaker_split(n) for n in names]
    assert hs.in_split("anyone", "all")
    with pytest.raises(ValueError, match="split"):
        hs.in_split("anyone", "train")


def test_groups_that_share_people_stay_on_one_side() -> None:
    ami = ["ami-FEE083", "ami-FEE083+ami-MEE094", "ami-MEE073", "ami-ES2011a-headset0"]
    assert len({hs.speaker_split(s) for s in ami}) == 1
    coffee = [f"unknown (pv-coffee-{i}.wav)" for i in range(40)] + ["unknown (pv-coffee)"]
    assert len({hs.speaker_split(s) for s in coffee}) == 1
    dev = {"speaker": "unknown", "file": "clips/wakeword/alexa/106.wav"}
    assert hs.dev_speaker(dev) == "unknown (pv-ww-alexa)"  # as human-negatives names them
    coffee_dev = {"speaker": "unknown", "file": "clips/coffee_orders/x.wav"}
    assert hs.speaker_split(hs.dev_speaker(coffee_dev)) == hs.speaker_split(coffee[0])


def test_regions_cut_the_stream_in_the_middle_of_the_pauses() -> None:
    spans = [(4.0, 5.0, "b", "2.wav"), (1.0, 2.0, "a", "1.wav"), (8.0, 9.5, "c", "3.wav")]
    regions = hs.regions_from_spans(spans, 12.0)
    assert [(r.start, r.end, r.speaker) for r in regions] == [
        (0.0, 3.0, "a"),
        (3.0, 6.5, "b"),
        (6.5, 12.0, "c"),
    ]


def _write(path: Path, samples: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE_HZ)
        wav.writeframes(samples.astype("<i2").tobytes())


def _tone(seconds: float, freq: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE_HZ)) / RATE_HZ
    word = np.sin(2 * np.pi * freq * t) * 3000 * np.hanning(len(t))
    floor = rng.standard_normal(int(0.15 * RATE_HZ)) * 30
    return np.concatenate([floor, word, floor]) + 500  # a DC offset, as some recordings have


def _speakers(split: str, n: int) -> list[str]:
    return [s for s in (f"spk-{i}" for i in range(200)) if hs.speaker_split(s) == split][:n]


@pytest.fixture
def human_dir(tmp_path: Path) -> Path:
    """A tiny human-dev (one labelled numbers stream) and human-negatives (6 utterances)."""
    tune, check = _speakers("tune", 3), _speakers("check", 3)
    dev = tmp_path / "human-dev"
    _write(dev / "numbers_dev_01_clean.wav", np.zeros(5 * RATE_HZ))
    events = [
        {"phrase": "seven", "command": "7", "start": 1.0, "end": 1.4, "speaker": tune[0]},
        {"phrase": "two", "command": "2", "start": 3.0, "end": 3.3, "speaker": check[0]},
    ]
    labels = [
        {"file": "numbers_dev_01_clean.wav", "kind": "numbers", "snr": None, "duration": 5.0}
        | {"events": events}
    ]
    (dev / "labels.json").write_text(json.dumps(labels))
    (dev / "manifest.json").write_text("[]")
    neg = tmp_path / "human-negatives"
    manifest = []
    for i, speaker in enumerate(tune + check):
        clip = _tone(0.4 + 0.1 * i, 200 + 50 * i, i)
        _write(neg / "clips" / f"u{i}.wav", clip)
        manifest.append(
            {"file": f"clips/u{i}.wav", "speaker": speaker, "duration": len(clip) / RATE_HZ}
        )
    (neg / "manifest.json").write_text(json.dumps(manifest))
    return tmp_path


def test_labelled_streams_keep_the_split_speakers_events(human_dir: Path) -> None:
    assert hs.missing_data(human_dir) == []
    for split, expected in (("all", ["7", "2"]), ("tune", ["7"]), ("check", ["2"])):
        (stream,) = hs.load_labelled_streams(human_dir, split)
        assert stream.context == "pain_level"
        assert [e.expected for e in stream.events] == expected
        assert len(stream.audio()) == 5 * RATE_HZ


def test_clips_are_found_in_a_non_command_stream(tmp_path: Path) -> None:
    """The human-dev non-command stream has no per-clip labels: its clips are located, so a
    tune/check split scores only its own speakers' stretches of it."""
    rng = np.random.default_rng(5)
    tune, check = _speakers("tune", 2), _speakers("check", 2)
    dev = tmp_path / "human-dev"
    offsets = {0: 16_001, 1: 40_003, 2: 70_002}  # not on the 4 kHz grid of the coarse search
    stream = rng.standard_normal(100_000) * 20
    manifest = []
    for i, speaker in enumerate([tune[0], check[0], tune[1], check[1]]):
        clip = rng.standard_normal(8_000 + 1_000 * i) * 3000
        _write(dev / "clips" / f"c{i}.wav", clip)
        manifest.append({"file": f"clips/c{i}.wav", "speaker": speaker, "word": "bed"})
        if i in offsets:
            stream[offsets[i] : offsets[i] + len(clip)] += clip
    (dev / "manifest.json").write_text(json.dumps(manifest))
    _write(dev / "noncmd_dev_01_clean.wav", stream)
    _write(dev / "noncmd_dev_01_20db.wav", stream + rng.standard_normal(len(stream)) * 300)
    duration = len(stream) / RATE_HZ
    labels: list[dict[str, object]] = [
        {"file": f"noncmd_dev_01_{c}.wav", "kind": "noncommand", "snr": snr, "duration": duration}
        | {"events": []}
        for c, snr in (("clean", None), ("20db", 20))
    ]
    (dev / "labels.json").write_text(json.dumps(labels))

    spans = hs.locate_clips(dev, dev / "noncmd_dev_01_clean.wav")
    assert [(round(a * RATE_HZ), c) for a, _, _, c in spans] == [
        (16_001, "clips/c0.wav"),
        (40_003, "clips/c1.wav"),
        (70_002, "clips/c2.wav"),
    ]
    everyone = hs.load_labelled_streams(tmp_path, "all")
    assert [s.scored_seconds for s in everyone] == [pytest.approx(duration)] * 2
    cache = tmp_path / "cache"
    for split, speakers in (("tune", {tune[0], tune[1]}), ("check", {check[0]})):
        streams = hs.load_labelled_streams(tmp_path, split, cache=cache)
        assert len(streams) == 2  # the 20 dB stream uses the clean stream's clip positions
        for s in streams:
            assert {r.speaker for r in s.regions} == speakers
    assert (cache / "human-noncommand-spans.json").is_file()
    tune_s, check_s = (
        hs.load_labelled_streams(tmp_path, p)[0].scored_seconds for p in ("tune", "check")
    )
    assert tune_s + check_s == pytest.approx(duration)


def test_negatives_stream_is_deterministic_and_split(human_dir: Path) -> None:
    one = hs.negatives_stream(human_dir, "all", None, seed=3)
    again = hs.negatives_stream(human_dir, "all", None, seed=3)
    assert np.array_equal(one.audio(), again.audio())
    assert len(one.regions) == 6
    assert one.regions[0].start == 0.0
    assert one.regions[-1].end == pytest.approx(one.duration)
    assert one.scored_seconds == pytest.approx(one.duration)
    speech = sum(
        e["duration"] for e in json.loads((human_dir / "human-negatives/manifest.json").read_text())
    )
    pauses = one.duration - hs.LEAD_S - speech
    assert 6 * hs.PAUSE_S[0] <= pauses <= 6 * hs.PAUSE_S[1]
    assert abs(float(np.mean(one.audio()))) < 5  # the DC offset is gone
    tune = hs.negatives_stream(human_dir, "tune", None, seed=3)
    assert {r.speaker for r in tune.regions} == set(_speakers("tune", 3))
    noisy = hs.negatives_stream(human_dir, "all", 10.0, seed=3)
    assert len(noisy.audio()) == len(one.audio())
    assert not np.array_equal(noisy.audio(), one.audio())
    halves = [
        hs.negatives_stream(human_dir, "all", None, seed=3, shard=k, shards=2) for k in (0, 1)
    ]
    assert sorted(r.clip for h in halves for r in h.regions) == sorted(r.clip for r in one.regions)


def test_bench_without_the_recordings_says_where_to_put_them(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "bench_commands"), "--human"]
        + ["--human-dir", str(tmp_path / "nothing")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "human-dev" in done.stderr
    assert "--human-dir" in done.stderr
    assert str(tmp_path / "nothing") in done.stderr
