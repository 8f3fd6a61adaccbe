"""Vosk in grammar mode: every phrase of the table plus "[unk]", words mapped back to intents.

Without "[unk]" Vosk forces any speech onto the grammar (a known Vosk issue), so an utterance
counts only when it is exactly one phrase with no "[unk]" and not longer than a command.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from floorcoach.audio.listening.recognizer import Heard, is_safety
from floorcoach.audio.listening.vosk_models import find_vosk_model
from floorcoach.audio.pcm import RATE_HZ
from floorcoach.commands import (
    Intent,
    ListenContext,
    grammar_phrases,
    normalize,
    spoken_table,
)
from floorcoach.errors import RecognizerError

_LOGGER = logging.getLogger(__name__)

ENGINE: Final = "vosk"
UNK: Final = "[unk]"


@dataclass(frozen=True)
class VoskConfig:
    """Gates applied to Vosk's final results."""

    max_command_seconds: float = 3.0
    """The longest red flags ("I cannot control my bladder") take 2.3-2.7 s said slowly."""
    min_confidence: float = 0.6
    safety_min_confidence: float = 0.4
    early_safety: bool = False
    """Act on a partial result that is exactly a stop/pain phrase (faster, less sure)."""


def load_model(path: Path) -> Any:
    """Load a Vosk model (about 1.5 s and 0.5 GB for a big one: share it between recognizers)."""
    try:
        import vosk
    except ImportError as exc:  # pragma: no cover - a dependency
        raise RecognizerError(f"vosk is not installed ({exc})") from None
    vosk.SetLogLevel(-1)
    try:
        return vosk.Model(str(path))
    except Exception as exc:  # vosk raises a bare Exception when loading fails
        raise RecognizerError(f"could not load the Vosk model at {path}: {exc}") from None


class VoskRecognizer:
    """Streaming Vosk recognizer restricted to the command phrases."""

    engine = ENGINE

    def __init__(
        self,
        model_path: Path | str | None = None,
        phrases: dict[str, Intent] | None = None,
        model: Any = None,
        config: VoskConfig | None = None,
        english: bool = True,
        contexts: dict[ListenContext, dict[str, Intent]] | None = None,
        context: ListenContext = ListenContext.COMMANDS,
    ) -> None:
        self.config = config or VoskConfig()
        if model is None:
            path = find_vosk_model(model_path, english=english)
            model = load_model(path)
            self.model_path: Path | None = path
        else:
            self.model_path = Path(model_path) if model_path else None
        self._model = model
        self.has_unk = self._known(UNK)
        if not self.has_unk:
            _LOGGER.warning("this Vosk model has no [unk]: other speech may be taken for commands")
        if contexts is None:
            if phrases is not None:
                contexts = {ctx: dict(phrases) for ctx in ListenContext}
            else:
                contexts = {ctx: spoken_table(ctx) for ctx in ListenContext}
        self._tables: dict[ListenContext, dict[str, Intent]] = {}
        self._grammars: dict[ListenContext, str] = {}
        for ctx, table in contexts.items():
            self._tables[ListenContext(ctx)] = {self._key(p): i for p, i in table.items()}
            self._grammars[ListenContext(ctx)] = self._grammar_for(
                table, custom=phrases is not None
            )
        if not self._tables:
            raise RecognizerError("no listening contexts given")
        self._recs: dict[ListenContext, Any] = {}
        self._on_unclear: Callable[[float, float, float], None] | None = None
        first = next(iter(self._tables))
        self._context = context if context in self._tables else first
        self._wanted = self._context
        sizes = "/".join(str(len(json.loads(g)) - self.has_unk) for g in self._grammars.values())
        self.description = (
            f"vosk {sizes} phrases per context{' + [unk]' if self.has_unk else ''}, "
            f"model {self.model_path or 'preloaded'}"
        )
        self.reset()

    def _grammar_for(self, table: dict[str, Intent], custom: bool) -> str:
        """The JSON grammar of a table's phrases that the model can say, plus [unk]."""
        keys = {self._key(p) for p in table}
        order = grammar_phrases() if not custom else sorted(table, key=len, reverse=True)
        ordered = [self._key(p) for p in order if self._key(p) in keys]
        ordered += sorted(keys - set(ordered))
        usable = [p for p in ordered if self._known(p)]
        missing = sorted(keys - set(usable))
        if missing:
            _LOGGER.debug("phrases with words the model lacks, left out: %s", missing)
        if not usable:
            raise RecognizerError("none of the command phrases are in the Vosk model's vocabulary")
        return json.dumps(usable + ([UNK] if self.has_unk else []), ensure_ascii=False)

    def set_on_unclear(self, on_unclear: Callable[[float, float, float], None] | None) -> None:
        """Be told of words that could be a command and were not placed: (start, end, seconds
        of speech), stream seconds (as SphinxRecognizer.set_on_unclear)."""
        self._on_unclear = on_unclear

    def _unclear(self, start: float, end: float) -> None:
        if self._on_unclear is not None and end - start <= self.config.max_command_seconds:
            self._on_unclear(start, end, end - start)

    @property
    def context(self) -> ListenContext:
        """What the recognizer listens for now (a switch lands at the next chunk)."""
        return self._wanted

    def set_context(self, context: ListenContext) -> None:
        """Switch grammars at the next chunk: the utterance in progress is finished first."""
        context = ListenContext(context)
        if context not in self._tables:
            raise RecognizerError(f"no grammar for listening context {context.value!r}")
        self._wanted = context

    @staticmethod
    def _key(phrase: str) -> str:
        # English phrases are compared in the table's normal form; other scripts as spaced words.
        normal = normalize(phrase)
        return normal if normal else " ".join(phrase.lower().split())

    def _known(self, phrase: str) -> bool:
        find = getattr(self._model, "vosk_model_find_word", None)
        if find is None:
            return True
        return all(find(word) >= 0 for word in phrase.split())

    def reset(self) -> None:
        """Start a new stream at time zero (the listening context is kept)."""
        self._context = self._wanted
        self._rec = self._recognizer(self._context)
        self._rec.Reset()
        self._samples_in = 0
        self._offset_samples = 0
        self._early: Intent | None = None

    def _recognizer(self, context: ListenContext) -> Any:
        """One KaldiRecognizer per context, made once (~20 ms) and reused."""
        rec = self._recs.get(context)
        if rec is None:
            import vosk

            rec = vosk.KaldiRecognizer(self._model, RATE_HZ, self._grammars[context])
            rec.SetWords(True)
            self._recs[context] = rec
        return rec

    def _switch(self) -> list[Heard]:
        """Finish the old context's utterance, then listen with the wanted grammar."""
        wanted = self._wanted
        if wanted == self._context:
            return []
        out = self._final(self._rec.FinalResult())
        self._context = wanted
        self._rec = self._recognizer(wanted)
        self._rec.Reset()
        self._offset_samples = self._samples_in
        return out

    def accept(self, samples: npt.NDArray[np.int16]) -> list[Heard]:
        """Consume a chunk; return commands whose utterance ended inside it."""
        out = self._switch()
        data = np.asarray(samples, dtype=np.int16).reshape(-1)
        if len(data) == 0:
            return out
        self._samples_in += len(data)
        if self._rec.AcceptWaveform(data.astype("<i2").tobytes()):
            return out + self._final(self._rec.Result())
        if self.config.early_safety:
            return out + self._partial(self._rec.PartialResult())
        return out

    def flush(self) -> list[Heard]:
        """End of stream: the last utterance's result."""
        out = self._final(self._rec.FinalResult())
        return out

    def _partial(self, raw: str) -> list[Heard]:
        text = " ".join(json.loads(raw).get("partial", "").split())
        intent = self._tables[self._context].get(text)
        if intent is None or not is_safety(intent) or self._early == intent:
            return []
        self._early = intent
        now = self._samples_in / RATE_HZ
        return [Heard(intent, text, now, now, 0.5, ENGINE)]

    def _final(self, raw: str) -> list[Heard]:
        early, self._early = self._early, None
        result = json.loads(raw)
        words = result.get("result") or []
        text = " ".join(str(result.get("text", "")).split())
        if not text or not words:
            return []
        offset = self._offset_samples / RATE_HZ
        start = float(words[0]["start"]) + offset
        end = float(words[-1]["end"]) + offset
        if UNK in text.split():
            _LOGGER.debug("rejected %r: other speech", text)
            self._unclear(start, end)
            return []
        intent = self._tables[self._context].get(text)
        if intent is None:
            _LOGGER.debug("rejected %r: not one phrase", text)
            self._unclear(start, end)
            return []
        if end - start > self.config.max_command_seconds:
            _LOGGER.debug("rejected %r: %.1f s is too long for a command", text, end - start)
            return []
        confidence = min(float(w.get("conf", 1.0)) for w in words)
        safety = is_safety(intent)
        need = self.config.safety_min_confidence if safety else self.config.min_confidence
        if confidence < need:
            _LOGGER.debug("rejected %r: confidence %.2f < %.2f", text, confidence, need)
            self._unclear(start, end)
            return []
        if early == intent:
            return []  # already acted on from the partial result
        return [Heard(intent, text, start, end, confidence, ENGINE)]
