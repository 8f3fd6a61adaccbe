"""The speech cache renders each phrase once, stays within its size, and heals corrupt files."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from floorcoach.audio.pcm import RATE_HZ, Pcm
from floorcoach.audio.speaking.speech_cache import (
    CACHE_DIR_ENV,
    CachedSynthesizer,
    SpeechCache,
    default_cache_dir,
)
from floorcoach.audio.speaking.synth import EspeakSynthesizer, Synthesizer, VoiceSettings


class CountingSynth:
    """A real synthesizer that counts how often it is asked to render."""

    def __init__(self, inner: Synthesizer) -> None:
        self.inner = inner
        self.calls: list[str] = []

    @property
    def settings(self) -> VoiceSettings:
        return self.inner.settings

    @property
    def key(self) -> str:
        return self.inner.key

    def render(self, text: str) -> Pcm:
        self.calls.append(text)
        return self.inner.render(text)


@pytest.fixture(scope="module")
def espeak() -> EspeakSynthesizer:
    return EspeakSynthesizer()


@pytest.fixture
def counting(espeak: EspeakSynthesizer) -> CountingSynth:
    return CountingSynth(espeak)


def test_second_render_is_a_memory_hit_and_identical(
    tmp_path: Path, counting: CountingSynth
) -> None:
    cache = SpeechCache(tmp_path)
    cached = CachedSynthesizer(counting, cache)
    assert cached.cache is cache
    first = cached.render("Hold the stretch")
    second = cached.render("Hold   the\nstretch")  # same words, same audio
    assert counting.calls == ["Hold the stretch"]
    assert np.array_equal(first.samples, second.samples)
    assert cached.memory_hits == 1
    assert cached.key == counting.key
    assert cached.settings == counting.settings


def test_disk_cache_survives_a_new_process(tmp_path: Path, counting: CountingSynth) -> None:
    original = CachedSynthesizer(counting, SpeechCache(tmp_path)).render("three")
    # A new CachedSynthesizer stands for the next session: empty memory, same directory.
    again = CachedSynthesizer(counting, SpeechCache(tmp_path))
    pcm = again.render("three")
    assert counting.calls == ["three"]
    assert again.disk_hits == 1
    assert pcm.rate_hz == RATE_HZ
    assert np.array_equal(pcm.samples, original.samples)


def test_keys_separate_voices(tmp_path: Path) -> None:
    cache = SpeechCache(tmp_path)
    slow = CountingSynth(EspeakSynthesizer(VoiceSettings(rate_wpm=120)))
    fast = CountingSynth(EspeakSynthesizer(VoiceSettings(rate_wpm=300)))
    a = CachedSynthesizer(slow, cache).render("relax")
    b = CachedSynthesizer(fast, cache).render("relax")
    assert slow.calls == ["relax"]
    assert fast.calls == ["relax"]
    assert a.seconds > b.seconds
    assert len(list(tmp_path.glob("*.wav"))) == 2


def test_prerender_renders_each_distinct_phrase_once(
    tmp_path: Path, counting: CountingSynth
) -> None:
    cached = CachedSynthesizer(counting, SpeechCache(tmp_path))
    progress: list[tuple[int, int, str]] = []
    phrases = ["one", "two", "three", "two", "", "hold"]
    count = cached.prerender(phrases, on_progress=lambda d, t, text: progress.append((d, t, text)))
    assert count == 4
    assert counting.calls == ["one", "two", "three", "hold"]
    assert progress == [(1, 4, "one"), (2, 4, "two"), (3, 4, "three"), (4, 4, "hold")]
    for text in ("one", "two", "three", "hold"):
        cached.render(text)
    assert len(counting.calls) == 4


def test_corrupt_entry_is_rendered_again(tmp_path: Path, counting: CountingSynth) -> None:
    cache = SpeechCache(tmp_path)
    good = CachedSynthesizer(counting, cache).render("breathe")
    entry = cache.path_for(counting.key, "breathe")
    entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2])  # truncated write
    healed = CachedSynthesizer(counting, cache).render("breathe")
    assert counting.calls == ["breathe", "breathe"]
    assert np.array_equal(healed.samples, good.samples)
    entry.write_bytes(b"not a wav at all")
    assert cache.get(counting.key, "breathe") is None
    assert not entry.exists()


def test_bounded_size_evicts_least_recently_used(tmp_path: Path) -> None:
    one_second = Pcm(np.full(RATE_HZ, 100, dtype=np.int16))  # 32 044 bytes as WAV
    cache = SpeechCache(tmp_path, max_bytes=100_000)
    for i, text in enumerate(["a", "b", "c"]):
        cache.put("k", text, one_second)
        os.utime(cache.path_for("k", text), (1000 + i, 1000 + i))
    assert cache.get("k", "a") is not None  # "a" becomes most recently used
    cache.put("k", "d", one_second)  # over 100 kB: evict to 90 kB
    assert cache.get("k", "b") is None  # the oldest unused entry went
    assert cache.get("k", "a") is not None
    assert cache.get("k", "d") is not None
    assert cache.size_bytes() <= 100_000
    assert sum(p.stat().st_size for p in tmp_path.glob("*.wav")) == cache.size_bytes()


def test_writes_are_atomic_and_stale_temporaries_are_cleaned(tmp_path: Path) -> None:
    cache = SpeechCache(tmp_path)
    cache.put("k", "x", Pcm(np.ones(100, dtype=np.int16)))
    assert [p.suffix for p in tmp_path.iterdir()] == [".wav"]
    stale = tmp_path / ".deadbeef.123.abcd.tmp"
    stale.write_bytes(b"half")
    os.utime(stale, (0, 0))
    SpeechCache(tmp_path)
    assert not stale.exists()


def test_cache_resamples_to_16k(tmp_path: Path) -> None:
    cache = SpeechCache(tmp_path)
    cache.put("k", "x", Pcm(np.ones(22050, dtype=np.int16), 22050))
    got = cache.get("k", "x")
    assert got is not None
    assert got.rate_hz == RATE_HZ
    assert len(got.samples) == RATE_HZ


def test_unwritable_directory_still_renders(tmp_path: Path, counting: CountingSynth) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    cached = CachedSynthesizer(counting, SpeechCache(blocker / "speech"))
    assert cached.render("two").seconds > 0.2
    assert cached.render("two").seconds > 0.2
    assert counting.calls == ["two"]  # the memory layer still works


def test_memory_layer_is_bounded(tmp_path: Path, counting: CountingSynth) -> None:
    cached = CachedSynthesizer(counting, cache=None, memory_bytes=25_000)  # under 0.8 s of audio
    cached.render("one")
    cached.render("two")
    cached.render("three")
    cached.render("one")
    assert counting.calls == ["one", "two", "three", "one"]


def test_default_cache_dir_follows_env_and_xdg(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_DIR_ENV, "/x/speech")
    assert default_cache_dir() == Path("/x/speech")
    monkeypatch.delenv(CACHE_DIR_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", "/xdg")
    assert default_cache_dir() == Path("/xdg/floorcoach/speech")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_dir() == Path.home() / ".cache" / "floorcoach" / "speech"
