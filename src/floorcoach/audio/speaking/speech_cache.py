"""Rendered speech kept on disk and in memory, so nothing waits for synthesis mid-count."""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
import wave
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Final

import numpy as np

from floorcoach.audio.pcm import RATE_HZ, Pcm, write_wav
from floorcoach.audio.speaking.synth import Synthesizer, VoiceSettings, normalize_text, text_hash

_LOGGER = logging.getLogger(__name__)

CACHE_DIR_ENV: Final = "FLOORCOACH_CACHE_DIR"
DEFAULT_MAX_BYTES: Final = 200 * 1024 * 1024
DEFAULT_MEMORY_BYTES: Final = 32 * 1024 * 1024
"""About 1000 s of 16 kHz speech: a whole routine's phrases on a small Raspberry Pi."""
_EVICT_TO_FRACTION: Final = 0.9
"""Evict a little below the bound so a full cache does not rescan the directory on every put."""
_STALE_TMP_SECONDS: Final = 3600.0
_SUFFIX: Final = ".wav"

ProgressCallback = Callable[[int, int, str], None]
"""on_progress(done_count, total_count, text) after each phrase."""


def default_cache_dir() -> Path:
    """$FLOORCOACH_CACHE_DIR, else $XDG_CACHE_HOME/floorcoach/speech, else ~/.cache/..."""
    override = os.environ.get(CACHE_DIR_ENV)
    if override:
        return Path(override).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "floorcoach" / "speech"


def _read_entry(path: Path) -> Pcm | None:
    """A cache entry, or None when it is missing, truncated or not what this cache writes."""
    try:
        with wave.open(str(path), "rb") as wav:
            if (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) != (1, 2, RATE_HZ):
                return None
            n_frames = wav.getnframes()
            frames = wav.readframes(n_frames)
    except (OSError, EOFError, wave.Error):
        return None
    if len(frames) != 2 * n_frames:
        return None
    return Pcm(np.frombuffer(frames, dtype="<i2").astype(np.int16), RATE_HZ)


class SpeechCache:
    """WAV files named by a hash of (backend, voice, rate, volume, text); LRU by mtime."""

    def __init__(self, directory: Path | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.directory = directory if directory is not None else default_cache_dir()
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._writable = True
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            _LOGGER.warning("speech cache %s unusable (%s); no caching", self.directory, exc)
            self._writable = False
        self._total_bytes = self._scan_and_clean()

    def path_for(self, key: str, text: str) -> Path:
        """Where the entry for this voice setup and phrase lives."""
        return self.directory / f"{text_hash(key, text)}{_SUFFIX}"

    def get(self, key: str, text: str) -> Pcm | None:
        """The cached audio, or None; corrupt entries are deleted so they get re-rendered."""
        path = self.path_for(key, text)
        if not path.exists():
            return None
        pcm = _read_entry(path)
        if pcm is None:
            _LOGGER.warning("speech cache entry %s is corrupt; rendering again", path.name)
            self._remove(path)
            return None
        try:
            os.utime(path)  # mark as recently used
        except OSError:
            pass
        return pcm

    def put(self, key: str, text: str, pcm: Pcm) -> None:
        """Store atomically (temporary file, then rename) and keep the directory within bounds."""
        if not self._writable:
            return
        if pcm.rate_hz != RATE_HZ:
            pcm = pcm.to_rate(RATE_HZ)
        path = self.path_for(key, text)
        tmp = self.directory / f".{path.stem}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
        try:
            write_wav(tmp, pcm)
            size = tmp.stat().st_size
            old_size = path.stat().st_size if path.exists() else 0
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            _LOGGER.warning("speech cache write failed (%s); continuing without caching", exc)
            return
        with self._lock:
            self._total_bytes += size - old_size
            over = self._total_bytes > self.max_bytes
        if over:
            self.evict()

    def size_bytes(self) -> int:
        """Bytes of cached audio, as tracked since the last directory scan."""
        with self._lock:
            return self._total_bytes

    def evict(self) -> int:
        """Delete least recently used entries until below the bound; returns how many."""
        entries: list[tuple[float, int, Path]] = []
        for path in self.directory.glob(f"*{_SUFFIX}"):
            try:
                st = path.stat()
            except OSError:
                continue
            entries.append((st.st_mtime, st.st_size, path))
        total = sum(size for _, size, _ in entries)
        target = int(self.max_bytes * _EVICT_TO_FRACTION)
        removed = 0
        for _mtime, size, path in sorted(entries, key=lambda e: e[0]):
            if total <= target:
                break
            if self._remove(path):
                total -= size
                removed += 1
        with self._lock:
            self._total_bytes = total
        if removed:
            _LOGGER.debug("speech cache evicted %d entries, %d bytes remain", removed, total)
        return removed

    def clear(self) -> None:
        """Delete every entry."""
        for path in self.directory.glob(f"*{_SUFFIX}"):
            self._remove(path)
        with self._lock:
            self._total_bytes = 0

    def _remove(self, path: Path) -> bool:
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        except OSError as exc:
            _LOGGER.warning("cannot delete speech cache entry %s (%s)", path, exc)
            return False
        return True

    def _scan_and_clean(self) -> int:
        """Total bytes of entries; removes temporary files left by crashed writers."""
        if not self._writable:
            return 0
        total = 0
        now = time.time()
        for path in self.directory.iterdir():
            try:
                st = path.stat()
            except OSError:
                continue
            if path.suffix == ".tmp" and now - st.st_mtime > _STALE_TMP_SECONDS:
                self._remove(path)
            elif path.suffix == _SUFFIX:
                total += st.st_size
        return total


class CachedSynthesizer:
    """A Synthesizer that remembers: memory LRU first, then disk, then the real backend."""

    def __init__(
        self,
        synth: Synthesizer,
        cache: SpeechCache | None = None,
        memory_bytes: int = DEFAULT_MEMORY_BYTES,
    ) -> None:
        self._synth = synth
        self._cache = cache
        self._memory_bytes = memory_bytes
        self._memory: OrderedDict[str, Pcm] = OrderedDict()
        self._memory_used_bytes = 0
        self._lock = threading.Lock()
        self.memory_hits = 0
        self.disk_hits = 0
        self.renders = 0

    @property
    def settings(self) -> VoiceSettings:
        """The wrapped synthesizer's settings."""
        return self._synth.settings

    @property
    def key(self) -> str:
        """The wrapped synthesizer's key: cached audio is the same audio."""
        return self._synth.key

    @property
    def cache(self) -> SpeechCache | None:
        """The disk cache, to share with a synthesizer for new settings."""
        return self._cache

    def render(self, text: str) -> Pcm:
        """Cached audio for `text`, rendering it only when neither memory nor disk has it."""
        words = normalize_text(text)
        key = self._synth.key
        mem_key = text_hash(key, words)
        with self._lock:
            pcm = self._memory.get(mem_key)
            if pcm is not None:
                self._memory.move_to_end(mem_key)
                self.memory_hits += 1
                return pcm
        pcm = self._cache.get(key, words) if self._cache is not None else None
        if pcm is not None:
            with self._lock:
                self.disk_hits += 1
        else:
            pcm = self._synth.render(words)
            with self._lock:
                self.renders += 1
            # A voice that fell back mid-render (voice_choice) rendered with another key:
            # file the audio under the voice that really made it.
            if self._synth.key != key:
                key = self._synth.key
                mem_key = text_hash(key, words)
            if self._cache is not None:
                self._cache.put(key, words, pcm)
        self._remember(mem_key, pcm)
        return pcm

    def missing(self, texts: Iterable[str]) -> list[str]:
        """The distinct phrases neither in memory nor on disk: what a prerender would render."""
        key = self._synth.key
        distinct = dict.fromkeys(normalize_text(t) for t in texts if t.strip())
        with self._lock:
            not_in_memory = [t for t in distinct if text_hash(key, t) not in self._memory]
        if self._cache is None:
            return not_in_memory
        return [t for t in not_in_memory if not self._cache.path_for(key, t).exists()]

    def prerender(self, texts: Iterable[str], on_progress: ProgressCallback | None = None) -> int:
        """Render each distinct phrase now, before the session needs it; returns how many."""
        distinct = list(dict.fromkeys(normalize_text(t) for t in texts if t.strip()))
        for done, text in enumerate(distinct, start=1):
            self.render(text)
            if on_progress is not None:
                on_progress(done, len(distinct), text)
        return len(distinct)

    def _remember(self, mem_key: str, pcm: Pcm) -> None:
        size = pcm.samples.nbytes
        if size > self._memory_bytes:
            return
        with self._lock:
            old = self._memory.pop(mem_key, None)
            if old is not None:
                self._memory_used_bytes -= old.samples.nbytes
            self._memory[mem_key] = pcm
            self._memory_used_bytes += size
            while self._memory_used_bytes > self._memory_bytes:
                _, dropped = self._memory.popitem(last=False)
                self._memory_used_bytes -= dropped.samples.nbytes
