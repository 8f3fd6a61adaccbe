"""The embedded English default: pocketsphinx with a JSGF command grammar on VAD segments.

It ships inside the pocketsphinx wheel, so commands work right after install, offline, on a
Raspberry Pi too. Measured (see notes/recognizers.md and BENCHMARKS.md): a grammar maps almost
any long sentence to some command, so segments with too much speech are rejected before
decoding, only hypotheses that are exactly one phrase count, and each intent has a threshold.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, field, replace
from typing import Any, Final, Protocol

import numpy as np
import numpy.typing as npt

from floorcoach.audio.listening.command_head import CommandHead, HeadRule, pool_embeddings
from floorcoach.audio.listening.few_shot import FewShot, Match
from floorcoach.audio.listening.phrase_verifier import PhraseVerifier, Verdict, verifier_dir
from floorcoach.audio.listening.recognizer import Heard
from floorcoach.audio.listening.vad import EnergyVad, Segment, VadConfig, wiener_denoise
from floorcoach.commands import (
    PHRASE_TABLE,
    Command,
    Intent,
    ListenContext,
    grammar_phrases,
    spoken_table,
)
from floorcoach.errors import ModelNotFoundError, RecognizerError

_LOGGER = logging.getLogger(__name__)

ENGINE: Final = "pocketsphinx"

EXTRA_PRONUNCIATIONS: Final[dict[str, tuple[str, ...]]] = {
    # Alternatives for words people say loosely or the dictionary spells one way only.
    "ouch": ("AW T CH",),
    # Not in cmudict, but people ask about it by name.
    "sciatica": ("S AY AE T IH K AH",),
}
"""Extra pronunciations added to the dictionary (the phrase table itself stays in commands.py)."""

SAFETY_COMMANDS: Final = frozenset({Command.STOP, Command.PAIN})


def _is_safety(intent: Intent) -> bool:
    return intent.red_flag is not None or intent.command in SAFETY_COMMANDS


def intent_probabilities(verdict: Verdict, table: dict[str, Intent]) -> dict[Intent, float]:
    """The verifier's probability of each intent: the sum over the phrases that mean it."""
    by_intent: dict[Intent, float] = {}
    for phrase, intent in table.items():
        by_intent[intent] = by_intent.get(intent, 0.0) + verdict.probabilities.get(phrase, 0.0)
    return by_intent


@dataclass(frozen=True)
class SphinxConfig:
    """Tuning knobs, defaults chosen by scripts/bench_commands."""

    vad: VadConfig = field(default_factory=lambda: VadConfig(max_segment_seconds=3.0))
    max_command_seconds: float = 3.0
    """The longest red flags take 2.3-2.7 s said slowly (110 words a minute). With the verifier
    checking every segment, 3 s gave the same false commands as 2 s (scripts/tune_verifier);
    the steps without the verifier keep the 2 s they were measured with."""
    min_confidence: float = 0.0
    safety_min_confidence: float = 0.0
    bestpath: bool = False
    denoise: bool = True
    denoise_above_floor_db: float = -30.0
    """Filtering a clean segment only distorts it (measured: -8 points), so only in noise."""
    min_score_ratio: float = -1.0
    """Grammar vs free phone loop, ln score per frame; below this the words do not fit."""
    safety_min_score_ratio: float = -1.0
    full_grammar: bool = False
    """Every typed phrase in every context (the first measured version, for comparison)."""
    reject: bool = True
    """Put NOT_COMMANDS in every grammar, so "yes" or "okay" is not forced onto a command."""
    absorb: bool = True
    """Decode other contexts' phrases too, and ignore them ("four" while counting along)."""
    verifier: bool = True
    """Check each segment with a second opinion: the command head or the phrase verifier."""
    second_opinion: str = "head"
    """"head": the command head on a real-speech embedding (audio/command_head.py), deciding
    with the decoder by `head_rule`; "verifier": the phrase verifier trained on synthesizers
    only (audio/phrase_verifier.py), deciding by the thresholds below."""
    head_rule: HeadRule = field(default_factory=HeadRule)
    verifier_rescues: bool = True
    """With the head: a segment the head rule turned down is still taken when the phrase
    verifier, by its own thresholds below, hears one of the phrases it knows. It was trained
    on many synthesizer voices and hears them better than the head (held-out espeak-ng voices);
    on recorded people it adds few false commands (2.7 / h alone, BENCHMARKS.md)."""
    verifier_only: bool = False
    """Let the verifier alone decide (no grammar decode): for the benchmark's comparison."""
    agree_probability: float = 0.2
    """Verifier probability of the decoder's intent needed when both agree. The decoder's
    acoustic model learned from real speech, the verifier only from synthesizers: on a voice
    the verifier never heard (flite awb) agreeing at 0.2 keeps 74 % of commands at 20 dB
    where the verifier alone keeps 62 %."""
    safety_agree_probability: float = 0.2
    alone_probability: float = 0.4
    """Verifier probability of its likeliest intent needed when the decoder heard something
    else, even if "not a phrase" is likelier: in noise the verifier spreads itself between the
    word and "not a phrase" (0.3-0.45 on "help" at 10 dB white)."""
    safety_alone_probability: float = 0.4
    """Chosen with scripts/tune_verifier between commands heard and false commands on short
    pieces of talk, checked on flite awb (BENCHMARKS.md). Lower thresholds, for safety
    commands too, mostly add short words heard as commands ("in" as "pain", "of" as "pause")."""


class SecondOpinion(Protocol):
    """What checks the grammar decoder's guess: the phrase verifier or the command head."""

    classes: list[str]
    description: str

    def judge(self, samples: npt.NDArray[np.int16], allowed: set[str] | None = None) -> Verdict:
        """The likeliest allowed phrase of a segment, or OTHER."""
        ...


def _second_opinion(kind: str) -> SecondOpinion:
    if kind == "head":
        from floorcoach.audio.listening.command_head import CommandHead

        try:
            return CommandHead()
        except ModelNotFoundError as exc:
            # A head out of step with the phrase table (a phrase added, not yet retrained):
            # the phrase verifier still checks the contexts whose phrases it knows.
            try:
                verifier = PhraseVerifier(verifier_dir())
            except ModelNotFoundError:
                raise exc from None
            _LOGGER.warning("command head not used (%s); using the %s", exc, verifier.description)
            return verifier
    if kind == "verifier":
        return PhraseVerifier(verifier_dir())
    raise RecognizerError(f"unknown second opinion {kind!r}: choose head or verifier")


def preset(name: str) -> SphinxConfig:
    """Named configurations, so the benchmark can show what each engineering step does.

    The steps before the phrase verifier turn it off, so each keeps the meaning it had when
    it was measured; "grammar" is the default without the verifier.
    """
    grammar = SphinxConfig(verifier=False, vad=VadConfig(), max_command_seconds=2.0)
    synthetic = SphinxConfig(
        second_opinion="verifier",
        agree_probability=0.2,
        safety_agree_probability=0.2,
        alone_probability=0.4,
        safety_alone_probability=0.4,
    )
    """The default of the fourth session: the phrase verifier, trained on synthesizers."""
    presets: dict[str, SphinxConfig] = {
        "default": SphinxConfig(),
        "grammar": grammar,
        "contexts": replace(grammar, reject=False, absorb=False),
        "reject": replace(grammar, absorb=False),
        "typed_grammar": replace(grammar, reject=False, absorb=False, full_grammar=True),
        "strict": replace(grammar, min_score_ratio=-0.0022, safety_min_score_ratio=-0.0026),
        "verify": synthetic,
        "verify_2s": replace(
            synthetic,
            vad=VadConfig(),
            max_command_seconds=2.0,
            agree_probability=0.25,
            safety_agree_probability=0.15,
            alone_probability=0.6,
            safety_alone_probability=0.5,
        ),
        "verifier_only": replace(synthetic, verifier_only=True),
        "head": SphinxConfig(verifier_rescues=False),
        "head_only": SphinxConfig(
            verifier_only=True, verifier_rescues=False, head_rule=HeadRule(consequential_alone=0)
        ),
        "plain": replace(
            grammar,
            vad=VadConfig(max_segment_seconds=60.0),
            max_command_seconds=1e9,
            bestpath=True,
            denoise=False,
        ),
        "gate": replace(grammar, bestpath=True, denoise=False),
        "nobestpath": replace(grammar, denoise=False),
        "denoise": replace(grammar, denoise=True, denoise_above_floor_db=-40.0),
        "ratio": replace(grammar, min_score_ratio=-0.0022, safety_min_score_ratio=-0.0026),
        "ratio_denoise": replace(
            grammar, denoise=True, min_score_ratio=-0.0022, safety_min_score_ratio=-0.0026
        ),
        "denoise_always": replace(grammar, denoise=True, denoise_above_floor_db=-1e9),
        "denoise30": replace(grammar, denoise=True, denoise_above_floor_db=-30.0),
        "ratio_denoise30": replace(
            grammar,
            denoise=True,
            denoise_above_floor_db=-30.0,
            min_score_ratio=-0.0022,
            safety_min_score_ratio=-0.0026,
        ),
    }
    if name not in presets:
        raise RecognizerError(f"unknown pocketsphinx preset {name!r}: {', '.join(presets)}")
    return presets[name]


def _model_dir() -> str:
    from pocketsphinx import get_model_path

    return str(get_model_path())


NOT_COMMANDS: Final[tuple[str, ...]] = (
    # Common short replies and sounds (a generic list, not taken from the benchmark): in the
    # grammar they give short other speech somewhere to go besides a command.
    "yes",
    "yeah",
    "no",
    "okay",
    "thank you",
    "thanks",
    "right",
    "alright",
    "fine",
    "oh",
    "hmm",
    "well",
    "sorry",
    "please",
)
"""Whole utterances that are decoded like phrases but mean nothing (SphinxConfig.reject)."""


def grammar_for(
    phrases: list[str], has_word: set[str], others: list[str] | None = None
) -> tuple[str, list[str]]:
    """A JSGF grammar of the phrases whose words are all pronounceable, and those left out.

    `others` are extra alternatives that are not phrases: when one of them fits the audio
    best, the segment is not a command.
    """
    usable: list[str] = []
    skipped: list[str] = []
    for phrase in phrases:
        if all(word in has_word for word in phrase.split()):
            usable.append(phrase)
        else:
            skipped.append(phrase)
    extra = [o for o in others or [] if o not in usable and all(w in has_word for w in o.split())]
    body = " | ".join(usable + extra)
    return f"#JSGF V1.0;\ngrammar commands;\npublic <command> = {body};\n", skipped


def _add_pronunciations(decoder: Any, word: str, prons: tuple[str, ...]) -> None:
    """Add pronunciations as word, word(2), ... skipping ones the dictionary already has."""
    have: list[str] = []
    index = 1
    while True:
        name = word if index == 1 else f"{word}({index})"
        pron = decoder.lookup_word(name)
        if pron is None:
            break
        have.append(" ".join(pron.split()))
        index += 1
    for pron in prons:
        if pron in have:
            continue
        name = word if index == 1 else f"{word}({index})"
        decoder.add_word(name, pron, False)
        have.append(pron)
        index += 1


class SphinxRecognizer:
    """pocketsphinx on energy-VAD segments; each segment is decoded on its own."""

    engine = ENGINE

    def __init__(
        self,
        config: SphinxConfig | None = None,
        phrases: dict[str, Intent] | None = None,
        contexts: dict[ListenContext, dict[str, Intent]] | None = None,
        context: ListenContext = ListenContext.COMMANDS,
    ) -> None:
        self.config = config or SphinxConfig()
        if contexts is None:
            if phrases is not None:
                contexts = {ctx: dict(phrases) for ctx in ListenContext}
            elif self.config.full_grammar:
                contexts = {ctx: dict(PHRASE_TABLE) for ctx in ListenContext}
            else:
                contexts = {ctx: spoken_table(ctx) for ctx in ListenContext}
        self._tables = {ListenContext(ctx): dict(table) for ctx, table in contexts.items()}
        if not self._tables:
            raise RecognizerError("no listening contexts given")
        self._decoder = self._build_decoder()
        self._context = ListenContext.COMMANDS
        self.set_context(context if context in self._tables else next(iter(self._tables)))
        self._vad = EnergyVad(self.config.vad)
        self._verifier: SecondOpinion | None = None
        self._verified: set[ListenContext] = set()
        """Contexts whose every phrase the verifier knows (not standby's own grammar)."""
        checked = ""
        if self.config.verifier:
            try:
                self._verifier = _second_opinion(self.config.second_opinion)
                known = set(self._verifier.classes)
                self._verified = {ctx for ctx, table in self._tables.items() if set(table) <= known}
                checked = (
                    f", checked by the {self._verifier.description}"
                    if self._verified
                    else f" (the {self._verifier.description} does not know these phrases)"
                )
            except ModelNotFoundError as exc:
                # Still a working recognizer, only a less careful one: say so, carry on.
                _LOGGER.warning("phrase verifier not used: %s", exc)
                missing = (
                    "command head" if self.config.second_opinion == "head" else "phrase verifier"
                )
                checked = f" ({missing} missing: grammar decoder alone)"
        self._verifier_rule = isinstance(self._verifier, PhraseVerifier)
        """Decide by the verifier's thresholds (the verify presets, or no head to be had)."""
        self._rescuer: PhraseVerifier | None = None
        """With the head: the synthetic-trained phrase verifier, consulted on what the head
        rule turned down (`SphinxConfig.verifier_rescues`)."""
        self._rescuer_knows: set[str] = set()
        if self._verifier is not None and not self._verifier_rule:
            if self.config.verifier_rescues:
                try:
                    self._rescuer = PhraseVerifier(verifier_dir())
                    self._rescuer_knows = set(self._rescuer.classes)
                    checked += f" and the {self._rescuer.description}"
                except ModelNotFoundError as exc:
                    _LOGGER.warning("phrase verifier not used: %s", exc)
        sizes = "/".join(str(len(t)) for t in self._tables.values())
        self.description = (
            f"pocketsphinx {sizes} phrases per context, model {_model_dir()}/en-us{checked}"
        )
        self.rejected: list[tuple[Segment, str]] = []
        """Why recent segments were not commands (kept short, for tests and --record-dir)."""
        self._enrolled: FewShot | None = None
        self._general_description = self.description

    @property
    def enrolled(self) -> FewShot | None:
        """The user's enrolled phrases in use (`floorcoach enroll`), or None."""
        return self._enrolled

    def set_enrollment(self, enrolled: FewShot | None) -> None:
        """Hear the user's enrolled phrases on top of the general model (None: stop).

        A segment near enough to an enrolled phrase (audio/few_shot.py) is taken as that
        phrase's intent when the context listens for it; every other segment is decided as
        before. One attribute write: safe while the listener's worker thread decodes.
        """
        self._enrolled = enrolled if enrolled else None
        n = len(enrolled) if enrolled else 0
        self.description = self._general_description + (
            f", and {n} phrase{'s' if n != 1 else ''} enrolled in your voice" if n else ""
        )

    @property
    def context(self) -> ListenContext:
        """What the recognizer listens for now."""
        return self._context

    def set_context(self, context: ListenContext) -> None:
        """Decode the next segments with this context's grammar (one attribute write)."""
        context = ListenContext(context)
        if context not in self._tables:
            raise RecognizerError(f"no grammar for listening context {context.value!r}")
        self._context = context

    @staticmethod
    def _search(context: ListenContext) -> str:
        return f"ctx_{context.value}"

    def _build_decoder(self) -> Any:
        try:
            from pocketsphinx import Decoder
        except ImportError as exc:  # pragma: no cover - a dependency
            raise RecognizerError(f"pocketsphinx is not installed ({exc})") from None
        c = self.config
        try:
            decoder = Decoder(
                lm=None,
                bestpath=c.bestpath,
                logfn=os.devnull,
            )
        except (RuntimeError, ValueError) as exc:
            raise RecognizerError(f"pocketsphinx could not start: {exc}") from None
        used_words = {w for t in self._tables.values() for p in t for w in p.split()}
        others = list(NOT_COMMANDS) if c.reject else []
        other_words = {w for o in others for w in o.split()}
        known = {w for w in used_words | other_words if decoder.lookup_word(w) is not None}
        for word, prons in EXTRA_PRONUNCIATIONS.items():
            if word in used_words:
                _add_pronunciations(decoder, word, prons)
                known.add(word)
        order = grammar_phrases()
        everything = [p for t in self._tables.values() for p in t]
        for context, table in self._tables.items():
            phrases = [p for p in order if p in table] + [p for p in table if p not in order]
            ignored = [p for p in everything if p not in table] if c.absorb else []
            jsgf, skipped = grammar_for(phrases, known, list(dict.fromkeys(others + ignored)))
            if skipped:
                # Digits ("6") are typed forms of words already in the grammar.
                _LOGGER.debug("%s: phrases with unknown words left out: %s", context, skipped)
            decoder.add_jsgf_string(self._search(context), jsgf)
        if self._uses_phone_loop:
            decoder.add_allphone_file("phones", os.path.join(_model_dir(), "en-us-phone.lm.bin"))
        return decoder

    @property
    def _decoder_decides(self) -> bool:
        """Whether the grammar decode can change a verified decision, so is worth its CPU.

        Its intent is taken at the agree threshold; when that is no lower than the alone
        threshold, the verifier's likeliest intent is taken anyway.
        """
        c = self.config
        return not c.verifier_only and (
            c.second_opinion == "head"
            or c.agree_probability < c.alone_probability
            or c.safety_agree_probability < c.safety_alone_probability
        )

    @property
    def _uses_phone_loop(self) -> bool:
        return self.config.min_score_ratio > -1.0 or self.config.safety_min_score_ratio > -1.0

    def reset(self) -> None:
        """Start a new stream at time zero."""
        self._vad.reset()
        self.rejected.clear()

    def accept(self, samples: npt.NDArray[np.int16]) -> list[Heard]:
        """Consume a chunk; return commands whose speech ended inside it."""
        return self._decode_all(self._vad.accept(samples))

    def flush(self) -> list[Heard]:
        """End of stream: decode a segment still open."""
        return self._decode_all(self._vad.flush())

    def _decode_all(self, segments: list[Segment]) -> list[Heard]:
        out: list[Heard] = []
        for segment in segments:
            heard = self.decode_segment(segment)
            if heard is not None:
                out.append(heard)
        return out

    def _reject(self, segment: Segment, why: str) -> None:
        _LOGGER.debug(
            "segment %.2f-%.2f s rejected: %s", segment.start_seconds, segment.end_seconds, why
        )
        self.rejected.append((segment, why))
        del self.rejected[:-20]

    def decode_segment(self, segment: Segment) -> Heard | None:
        """The command in one segment, or None when it is too long, unknown or unsure."""
        c = self.config
        if segment.overlong or segment.speech_seconds > c.max_command_seconds:
            self._reject(segment, f"{segment.speech_seconds:.1f} s of speech is not a command")
            return None
        context = self._context  # read once: another thread may switch it meanwhile
        enrolled = self._enrolled  # likewise
        if enrolled is None:
            return self._decode_general(segment, context)
        from floorcoach.audio.listening.speech_embedding import shared_embedder

        embeddings = shared_embedder().embed(segment.samples)
        allowed = set(self._tables[context].values())
        match = enrolled.match(pool_embeddings(embeddings), allowed)
        if match is not None and match.distance <= enrolled.rule.overrule:
            return self._enrolled_heard(segment, match)
        heard = self._decode_general(segment, context, embeddings)
        if not enrolled.wins(match, heard.intent if heard is not None else None):
            return heard
        assert match is not None
        if heard is not None:
            return heard  # the same intent: the general model's words
        if self.rejected and self.rejected[-1][0] is segment:
            self.rejected.pop()  # the general model's reason no longer applies
        return self._enrolled_heard(segment, match)

    def _decode_general(
        self,
        segment: Segment,
        context: ListenContext,
        embeddings: npt.NDArray[np.float32] | None = None,
    ) -> Heard | None:
        """The general model's answer for a segment short enough to be a command."""
        c = self.config
        if context in self._verified:
            if embeddings is None:  # as before enrollment (scripts/tune_verifier overrides it)
                return self._decode_verified(segment, context)
            return self._decode_verified(segment, context, embeddings)
        samples = self._decoder_samples(segment)
        text, score = self._decode(samples, self._search(context))
        intent = self._tables[context].get(text)
        if intent is None:
            self._reject(segment, f"no phrase ({text!r})")
            return None
        safety = _is_safety(intent)
        confidence = 1.0
        if self._uses_phone_loop:
            _, free_score = self._decode(samples, "phones")
            frames = max(1, len(samples) // 160)
            ratio = (math.log(max(score, 1e-300)) - math.log(max(free_score, 1e-300))) / frames
            need_ratio = c.safety_min_score_ratio if safety else c.min_score_ratio
            if ratio < need_ratio:
                self._reject(segment, f"{text!r} fits badly: {ratio:.4f} < {need_ratio:.4f}")
                return None
            # 0 at the rejection line, 1 when the grammar fits as well as free phones.
            confidence = min(1.0, max(0.0, 1.0 - ratio / need_ratio)) if need_ratio < 0 else 1.0
        need = c.safety_min_confidence if safety else c.min_confidence
        if confidence < need:
            self._reject(segment, f"{text!r} confidence {confidence:.2f} < {need:.2f}")
            return None
        return self._heard(segment, intent, text, confidence)

    def _decoder_samples(self, segment: Segment) -> npt.NDArray[np.int16]:
        """What the grammar decoder hears: Wiener-filtered in a noisy room, raw otherwise."""
        c = self.config
        noisy = segment.floor_db > c.denoise_above_floor_db
        return wiener_denoise(segment.samples) if c.denoise and noisy else segment.samples

    def _enrolled_heard(self, segment: Segment, match: Match) -> Heard:
        """A segment heard as one of the user's enrolled phrases."""
        _LOGGER.debug(
            "segment %.2f-%.2f s is the enrolled %r: distance %.3f (next intent %.3f)",
            segment.start_seconds,
            segment.end_seconds,
            match.phrase.phrase,
            match.distance,
            match.runner_up,
        )
        return self._heard(segment, match.phrase.intent, match.phrase.phrase, match.confidence)

    def _decode_verified(
        self,
        segment: Segment,
        context: ListenContext,
        embeddings: npt.NDArray[np.float32] | None = None,
    ) -> Heard | None:
        """Grammar decode and second opinion together (`head_rule`, or the verifier's rule).

        The second opinion sees the raw segment (it was trained on noisy audio); the decoder
        the Wiener-filtered one when the room is noisy, as without it.
        """
        c = self.config
        assert self._verifier is not None
        table = self._tables[context]
        if embeddings is not None and isinstance(self._verifier, CommandHead):
            # already embedded for the enrolled phrases: the head reads the same numbers
            probabilities = self._verifier.probabilities_of_embeddings(embeddings)
            verdict = self._verifier.verdict(probabilities, set(table))
        else:
            verdict = self._verifier.judge(segment.samples, allowed=set(table))
        by_intent = intent_probabilities(verdict, table)
        decoded: Intent | None = None
        text = ""
        if self._decoder_decides:
            text, _score = self._decode(self._decoder_samples(segment), self._search(context))
            decoded = table.get(text)
        if self._verifier_rule:
            heard = self._verifier_decision(segment, decoded, text, verdict, table)
            if heard is None:
                decoder = f"decoder {text!r}, " if self._decoder_decides else ""
                self._reject(
                    segment, f"{decoder}verifier {verdict.phrase!r} p={verdict.probability:.2f}"
                )
            return heard
        chosen = c.head_rule.decide(decoded, by_intent)
        if chosen is not None:
            said = text if chosen == decoded else self._likeliest_phrase(chosen, verdict, table)
            return self._heard(segment, chosen, said, by_intent.get(chosen, 0.0))
        if self._rescuer is not None:
            known = {p: i for p, i in table.items() if p in self._rescuer_knows}
            rescue = self._rescuer.judge(segment.samples, allowed=set(known))
            heard = self._verifier_decision(
                segment, decoded if text in known else None, text, rescue, known
            )
            if heard is not None:
                return heard
        self._reject(
            segment, f"decoder {text!r}, head {verdict.phrase!r} p={verdict.probability:.2f}"
        )
        return None

    def _verifier_decision(
        self,
        segment: Segment,
        decoded: Intent | None,
        text: str,
        verdict: Verdict,
        table: dict[str, Intent],
    ) -> Heard | None:
        """The phrase verifier's rule: the decoder's intent at the agree threshold, else the
        verifier's likeliest intent at the alone threshold."""
        c = self.config
        by_intent = intent_probabilities(verdict, table)
        if decoded is not None:
            p = by_intent.get(decoded, 0.0)
            need = c.safety_agree_probability if _is_safety(decoded) else c.agree_probability
            if p >= need:
                return self._heard(segment, decoded, text, p)
        if by_intent:
            guess, p = max(by_intent.items(), key=lambda item: item[1])
            need = c.safety_alone_probability if _is_safety(guess) else c.alone_probability
            if p >= need:
                return self._heard(segment, guess, self._likeliest_phrase(guess, verdict, table), p)
        return None

    @staticmethod
    def _likeliest_phrase(intent: Intent, verdict: Verdict, table: dict[str, Intent]) -> str:
        """The phrase meaning `intent` that the second opinion found likeliest."""
        return max(
            (phrase for phrase, meant in table.items() if meant == intent),
            key=lambda phrase: verdict.probabilities.get(phrase, 0.0),
        )

    @staticmethod
    def _heard(segment: Segment, intent: Intent, text: str, confidence: float) -> Heard:
        return Heard(
            intent=intent,
            text=text,
            start=segment.start_seconds,
            end=segment.end_seconds,
            confidence=confidence,
            engine=ENGINE,
        )

    def _decode(self, samples: npt.NDArray[np.int16], search: str) -> tuple[str, float]:
        """Text and score (pocketsphinx reports exp of the log score) of one search."""
        decoder = self._decoder
        decoder.activate_search(search)
        decoder.start_utt()
        decoder.process_raw(samples.astype("<i2").tobytes(), False, True)
        decoder.end_utt()
        hyp = decoder.hyp()
        if hyp is None:
            return "", 0.0
        text = " ".join(hyp.hypstr.split())
        return text, float(hyp.score)
