"""The energy VAD: segments where the sound is, whatever the chunk size and noise level."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from floorcoach.audio.listening.vad import EnergyVad, Segment, VadConfig, segment_all
from floorcoach.audio.pcm import RATE_HZ
from speech_fixtures import to_int16, white_noise


def burst(
    seconds: float, level_db: float = -20.0, freq_hz: float = 440.0
) -> npt.NDArray[np.float64]:
    """A voiced-like tone burst."""
    t = np.arange(int(seconds * RATE_HZ)) / RATE_HZ
    return np.sin(2 * np.pi * freq_hz * t) * (10 ** (level_db / 20) * 32768 * np.sqrt(2))


def place(
    total_seconds: float,
    parts: list[tuple[float, npt.NDArray[np.float64]]],
    noise_db: float = -50.0,
) -> npt.NDArray[np.int16]:
    """Parts at given start times over white noise."""
    out = white_noise(int(total_seconds * RATE_HZ), noise_db, seed=3)
    for start, part in parts:
        i = int(start * RATE_HZ)
        out[i : i + len(part)] += part
    return to_int16(out)


def feed(
    samples: npt.NDArray[np.int16], chunk: int, config: VadConfig | None = None
) -> list[Segment]:
    vad = EnergyVad(config)
    segments: list[Segment] = []
    for i in range(0, len(samples), chunk):
        segments += vad.accept(samples[i : i + chunk])
    return segments + vad.flush()


def test_digital_silence_and_faint_noise_give_no_segment() -> None:
    assert segment_all(np.zeros(10 * RATE_HZ, dtype=np.int16)) == []
    assert segment_all(place(10.0, [], noise_db=-45.0)) == []


def test_one_burst_is_one_segment_with_its_times() -> None:
    audio = place(4.0, [(1.0, burst(0.6))])
    [seg] = segment_all(audio)
    assert seg.start_seconds == pytest.approx(1.0, abs=0.02)
    assert seg.end_seconds == pytest.approx(1.6, abs=0.02)
    assert not seg.overlong
    # Pre-roll and hangover are included so a decoder sees noise on both sides.
    assert seg.padded_start_seconds == pytest.approx(0.8, abs=0.02)
    assert len(seg.samples) / RATE_HZ == pytest.approx(0.2 + 0.6 + 0.3, abs=0.03)


@settings(max_examples=25, deadline=None)
@given(chunk=st.integers(min_value=1, max_value=9000))
def test_segments_do_not_depend_on_chunk_size(chunk: int) -> None:
    audio = place(5.0, [(0.7, burst(0.4)), (2.5, burst(1.0, -30.0, 300.0))])
    reference = segment_all(audio)
    got = feed(audio, chunk)
    assert [(s.start_seconds, s.end_seconds) for s in got] == [
        (s.start_seconds, s.end_seconds) for s in reference
    ]
    assert len(reference) == 2
    for a, b in zip(got, reference, strict=True):
        np.testing.assert_array_equal(a.samples, b.samples)


def test_short_gaps_join_and_long_gaps_split() -> None:
    joined = segment_all(place(4.0, [(1.0, burst(0.3)), (1.4, burst(0.3))]))
    split = segment_all(place(4.0, [(1.0, burst(0.3)), (2.0, burst(0.3))]))
    assert len(joined) == 1
    assert len(split) == 2


def syllables(seconds: float) -> npt.NDArray[np.float64]:
    """Speech-like: 200 ms tones with 80 ms pauses between them."""
    tone = burst(0.2)
    one = np.concatenate([tone, np.zeros(int(0.08 * RATE_HZ))])
    return np.tile(one, int(np.ceil(seconds / 0.28)))[: int(seconds * RATE_HZ)]


def test_long_speech_is_marked_overlong_and_not_buffered_forever() -> None:
    [seg] = segment_all(place(12.0, [(1.0, syllables(8.0))]))
    assert seg.overlong
    assert seg.speech_seconds == pytest.approx(8.0, abs=0.1)
    assert len(seg.samples) < 3 * RATE_HZ


def test_clicks_are_not_speech() -> None:
    click = burst(0.03, -10.0)
    assert segment_all(place(3.0, [(1.0, click)])) == []


def test_steady_tone_becomes_floor_not_endless_speech() -> None:
    segments = segment_all(place(12.0, [(1.0, burst(10.0))]))
    assert len(segments) == 1
    assert segments[0].speech_seconds < 4.0


def test_floor_adapts_to_louder_steady_noise() -> None:
    quiet = white_noise(3 * RATE_HZ, -60.0, seed=1)
    loud = white_noise(12 * RATE_HZ, -35.0, seed=2)
    audio = np.concatenate([quiet, loud])
    audio[int(13 * RATE_HZ) : int(13.5 * RATE_HZ)] += burst(0.5, -15.0)
    vad = EnergyVad()
    segments = vad.accept(to_int16(audio)) + vad.flush()
    # The jump in noise may open one segment; afterwards the floor has followed the noise
    # and the burst is found on its own.
    assert vad.floor_db is not None
    assert vad.floor_db == pytest.approx(-35.0, abs=3.0)
    last = segments[-1]
    assert last.start_seconds == pytest.approx(13.0, abs=0.05)
    assert last.end_seconds == pytest.approx(13.5, abs=0.05)
    assert len(segments) <= 2


def test_reset_restarts_time() -> None:
    audio = place(3.0, [(1.0, burst(0.5))])
    vad = EnergyVad()
    first = vad.accept(audio) + vad.flush()
    vad.reset()
    second = vad.accept(audio) + vad.flush()
    assert [s.start_seconds for s in first] == [s.start_seconds for s in second]


def test_stream_starting_with_digital_silence_still_splits_words() -> None:
    audio = place(6.0, [(1.0, burst(0.4)), (2.2, burst(0.4)), (3.4, burst(0.4))], noise_db=-46.0)
    audio[:800] = 0  # a sound server's first, zero-filled block
    segments = segment_all(audio)
    assert [round(s.start_seconds, 1) for s in segments] == [1.0, 2.2, 3.4]


def feed_early(
    samples: npt.NDArray[np.int16], take: bool, early_seconds: float = 0.12
) -> tuple[list[Segment], list[tuple[Segment, float]]]:
    """Segments returned, and each early offer with the stream time it was made at."""
    offers: list[tuple[Segment, float]] = []
    vad: EnergyVad

    def on_early(segment: Segment) -> bool:
        offers.append((segment, vad.stream_seconds))
        return take

    vad = EnergyVad(VadConfig(early_seconds=early_seconds), on_early=on_early)
    segments: list[Segment] = []
    for i in range(0, len(samples), 640):
        segments += vad.accept(samples[i : i + 640])
    return segments + vad.flush(), offers


def test_an_open_segment_is_offered_once_its_speech_pauses() -> None:
    audio = place(5.0, [(1.0, burst(0.5)), (3.0, burst(0.4))])
    segments, offers = feed_early(audio, take=False)
    # declined: the segments end as they always did, each offered once on the way
    plain = feed(audio, 640)
    assert [(g.end_seconds, len(g.samples)) for g in segments] == [
        (g.end_seconds, len(g.samples)) for g in plain
    ]
    assert len(offers) == 2
    for (offered, at), whole in zip(offers, segments, strict=True):
        assert offered.start_seconds == whole.start_seconds
        assert offered.end_seconds == whole.end_seconds
        assert at == pytest.approx(whole.end_seconds + 0.12, abs=0.011)
        # the same audio as the whole segment, minus the rest of the hangover
        assert len(whole.samples) - len(offered.samples) == pytest.approx(0.18 * RATE_HZ, abs=161)
        assert np.array_equal(offered.samples, whole.samples[: len(offered.samples)])


def test_a_segment_taken_early_ends_there_and_the_next_one_still_comes() -> None:
    audio = place(5.0, [(1.0, burst(0.5)), (1.9, burst(0.4))])
    segments, offers = feed_early(audio, take=True)
    assert segments == []  # both were taken early, neither is returned again
    assert [round(o.start_seconds, 1) for o, _ in offers] == [1.0, 1.9]
    assert offers[1][0].end_seconds == pytest.approx(2.3, abs=0.02)


def test_no_offer_without_early_seconds_or_for_clicks() -> None:
    audio = place(5.0, [(1.0, burst(0.5)), (3.0, burst(0.03))])
    segments, offers = feed_early(audio, take=True, early_seconds=0.0)
    assert len(segments) == 1
    assert offers == []
    _, offers = feed_early(audio, take=False)
    assert len(offers) == 1  # the 30 ms click is too short to be speech
