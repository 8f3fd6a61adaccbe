"""The embedded English default: pocketsphinx with a JSGF command grammar on VAD segments.

It ships inside the pocketsphinx wheel, so commands work right after install, offline, on a
Raspberry Pi too. Measured (see notes/recognizers.md and BENCHMARKS.md): a grammar maps almost
any long sentence to some command, so segments with too much speech are rejected before
decoding, only hypotheses that are exactly one phrase count, and each intent has a threshold.

This module decides what a segment means (the grammar decode, the second opinion, the user's
enrolled phrases); the tuning is in sphinx_config.py, the decoder and its grammars in
sphinx_decoder.py, the second opinions in second_opinion.py.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import replace
from typing import Final

import numpy as np
import numpy.typing as npt

from floorcoach.audio.listening.bandwidth import widened
from floorcoach.audio.listening.command_head import CommandHead, pool_embeddings
from floorcoach.audio.listening.few_shot import FewShot, Match
from floorcoach.audio.listening.grammar_fit import GrammarFit
from floorcoach.audio.listening.phrase_verifier import PhraseVerifier, Verdict, verifier_dir
from floorcoach.audio.listening.recognizer import Heard, is_number, is_safety
from floorcoach.audio.listening.second_opinion import (
    SecondOpinion,
    choose_second_opinion,
    intent_probabilities,
    likeliest_phrase,
)
from floorcoach.audio.listening.self_voice import over_player_table, taken_on_a_second_look
from floorcoach.audio.listening.sphinx_config import SphinxConfig
from floorcoach.audio.listening.sphinx_decoder import (
    build_decoder,
    decode,
    model_dir,
    over_player_search_name,
    search_name,
    sounds_like_a_start,
)
from floorcoach.audio.listening.vad import EnergyVad, Segment, wiener_denoise
from floorcoach.audio.pcm import RATE_HZ
from floorcoach.commands import PHRASE_TABLE, Command, Intent, ListenContext, spoken_table
from floorcoach.errors import ModelNotFoundError, RecognizerError

_LOGGER = logging.getLogger(__name__)

SecondLook = Callable[[float, float], "tuple[float, npt.NDArray[np.int16]] | None"]
"""(start, end) stream seconds -> (start, samples) of a second canceller's output, or None."""
ENGINE: Final = "pocketsphinx"
NOT_URGENT: Final = frozenset({Command.NEXT, Command.PREVIOUS, Command.RESTART})
"""Commands that change the session but need not act within a quarter second."""


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
        c = self.config
        self._over_player_tables: dict[ListenContext, dict[str, Intent]] = {}
        """Per context, the phrases that count while the player talks (only commands')."""
        if c.over_player_grammar and ListenContext.COMMANDS in self._tables:
            table = self._tables[ListenContext.COMMANDS]
            self._over_player_tables[ListenContext.COMMANDS] = over_player_table(
                table, c.over_player_without
            )
        self._fit = GrammarFit(c, lambda samples, search: self._decode(samples, search))
        """The phone-loop fit test (through `_decode`, which tests and scripts replace)."""
        self._decoder = build_decoder(
            self._tables,
            bestpath=c.bestpath,
            reject=c.reject,
            absorb=c.absorb,
            phone_loop=self._uses_phone_loop,
            over_player=self._over_player_tables,
            over_player_without=c.over_player_without,
            numbers=self._numbers() if self._fit.forces_numbers else None,
        )
        self._player_talking: Callable[[float, float], bool] | None = None
        self._on_unclear: Callable[[float, float, float], None] | None = None
        self._second_look: SecondLook | None = None
        self._context = ListenContext.COMMANDS
        self.set_context(context if context in self._tables else next(iter(self._tables)))
        self._early_heard: list[Heard] = []
        """Commands decided before their segment's hangover ended, for `accept` to return."""
        self._not_early = {
            ctx: sounds_like_a_start(self._decoder, table) | self._waits(table)
            for ctx, table in self._tables.items()
        }
        self._not_early_over_player = {
            ctx: sounds_like_a_start(self._decoder, table) | self._waits(table)
            for ctx, table in self._over_player_tables.items()
        }
        self._verifier: SecondOpinion | None = None
        self._verified: set[ListenContext] = set()
        """Contexts whose every phrase the verifier knows (not standby's own grammar)."""
        checked = ""
        if self.config.verifier:
            try:
                self._verifier = choose_second_opinion(self.config.second_opinion)
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
        early = self._verifier is not None and not self._verifier_rule
        self._vad = EnergyVad(self.config.vad, on_early=self._decide_early if early else None)
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
            f"pocketsphinx {sizes} phrases per context, model {model_dir()}/en-us{checked}"
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

        A segment near enough to an enrolled phrase (audio/listening/few_shot.py) is taken as that
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
        return search_name(context)

    def set_player_talking(self, talking: Callable[[float, float], bool] | None) -> None:
        """Tell the recognizer how to ask whether the player was talking during a stretch of
        the stream (seconds since its start): the microphone listener, which knows what the
        player said and when, passes its own test. Segments said over the player are then
        decoded with the context's over-player grammar (`SphinxConfig.over_player_grammar`).
        """
        self._player_talking = talking

    @property
    def wants_second_look(self) -> bool:
        """Whether `set_second_look` is worth a listener's second canceller."""
        return self.config.second_look

    def set_second_look(self, fetch: SecondLook | None) -> None:
        """Be given the stream as a canceller that does not tear words left it (linear_look.py):
        `fetch(start, end)` returns (start, samples) of it, stream seconds, or None. A short
        segment said over the player that is turned down is decoded once more from it
        (`SphinxConfig.second_look`)."""
        self._second_look = fetch

    def set_on_unclear(self, on_unclear: Callable[[float, float, float], None] | None) -> None:
        """Be told of words that could be a command and were not placed: (start, end, seconds
        of speech), stream seconds. The session asks an open question again on them; the
        listener passes on only those said while the player was silent."""
        self._on_unclear = on_unclear

    def _grammar(
        self, segment: Segment, context: ListenContext
    ) -> tuple[str, dict[str, Intent], set[str]]:
        """The search, phrase table and phrases that never act early for this segment."""
        talking = self._player_talking
        if context in self._over_player_tables and talking is not None:
            if talking(segment.start_seconds, segment.end_seconds):
                return (
                    over_player_search_name(context),
                    self._over_player_tables[context],
                    self._not_early_over_player[context],
                )
        return self._search(context), self._tables[context], self._not_early[context]

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
        c = self.config
        return c.min_score_ratio > -1.0 or c.safety_min_score_ratio > -1.0 or self._fit.fits_numbers

    def _numbers(self) -> list[str]:
        """Every context's bare numbers, for the numbers-only search."""
        return sorted({p for t in self._tables.values() for p, i in t.items() if is_number(i)})

    def _waits(self, table: dict[str, Intent]) -> set[str]:
        """Phrases that never act early (`SphinxConfig.early_consequential`)."""
        if self.config.early_consequential:
            return set()
        return {p for p, i in table.items() if i.red_flag is not None or i.command in NOT_URGENT}

    def reset(self) -> None:
        """Start a new stream at time zero."""
        self._vad.reset()
        self._early_heard.clear()
        self.rejected.clear()

    @property
    def in_speech(self) -> bool:
        """True while the voice detector has a segment open: the listener then hands over
        every chunk at once (microphone.QUIET_BATCH_CHUNKS)."""
        return self._vad.in_speech

    def accept(self, samples: npt.NDArray[np.int16]) -> list[Heard]:
        """Consume a chunk; return commands whose speech ended inside it."""
        return self._with_early(self._decode_all(self._vad.accept(samples)))

    def flush(self) -> list[Heard]:
        """End of stream: decode a segment still open."""
        return self._with_early(self._decode_all(self._vad.flush()))

    def _with_early(self, heard: list[Heard]) -> list[Heard]:
        early, self._early_heard = self._early_heard, []
        return sorted(early + heard, key=lambda h: h.end) if early else heard

    def _decide_early(self, segment: Segment) -> bool:
        """The VAD offers a segment whose speech paused briefly: act now if it is clearly a
        command (`SphinxConfig.early_share`), else let the segment run to its end.

        An early look that finds nothing leaves no trace in `rejected`: the segment is
        decided again, whole, when it ends.
        """
        if segment.speech_seconds > self.config.early_max_seconds:
            return False
        kept = list(self.rejected)
        heard = self.decode_segment(segment, early=True)
        self.rejected[:] = kept
        if heard is None:
            return False
        _LOGGER.debug(
            "%r heard early (its speech ended at %.2f s)", heard.text, segment.end_seconds
        )
        self._early_heard.append(heard)
        return True

    def _decode_all(self, segments: list[Segment]) -> list[Heard]:
        out: list[Heard] = []
        for segment in segments:
            heard = self.decode_segment(segment)
            if heard is None:
                heard = self._look_again(segment)
            if heard is not None:
                out.append(heard)
            elif self._on_unclear is not None and self._could_be_words(segment):
                self._on_unclear(segment.start_seconds, segment.end_seconds, segment.speech_seconds)
        return out

    def _look_again(self, segment: Segment) -> Heard | None:
        """A short segment said over the player and turned down, decided once more from the
        second canceller's output of the same stretch (`set_second_look`)."""
        c = self.config
        fetch, talking = self._second_look, self._player_talking
        if not c.second_look or fetch is None or talking is None:
            return None
        if segment.overlong or segment.speech_seconds > c.second_look_max_speech_seconds:
            return None
        if not talking(segment.start_seconds, segment.end_seconds):
            return None
        start = segment.padded_start_seconds
        found = fetch(start - c.second_look_before_seconds, start + len(segment.samples) / RATE_HZ)
        if found is None:
            return None
        begins, samples = found
        kept = float(np.mean(segment.samples.astype(np.float64) ** 2)) + 1.0
        linear = float(np.mean(samples.astype(np.float64) ** 2)) + 1.0
        if 10 * math.log10(kept / linear) < c.second_look_kept_db:
            return None  # what the linear canceller left there is the player's echo
        heard = self.decode_segment(replace(segment, samples=samples, padded_start_seconds=begins))
        if heard is None or not taken_on_a_second_look(heard.intent):
            return None
        _LOGGER.debug("%r heard on a second look at %.2f s", heard.text, segment.start_seconds)
        return heard

    def _could_be_words(self, segment: Segment) -> bool:
        """Whether a segment turned down is as long as an answer: not a click, not talk."""
        c = self.config
        return (
            not segment.overlong
            and c.unclear_min_seconds <= segment.speech_seconds <= c.max_command_seconds
        )

    def _reject(self, segment: Segment, why: str) -> None:
        _LOGGER.debug(
            "segment %.2f-%.2f s rejected: %s", segment.start_seconds, segment.end_seconds, why
        )
        self.rejected.append((segment, why))
        del self.rejected[:-20]

    def decode_segment(self, segment: Segment, early: bool = False) -> Heard | None:
        """The command in one segment, or None when it is too long, unknown or unsure.

        `early`: the segment's speech has only paused; answer only when the command is clear
        (`SphinxConfig.early_share`), and never from the phrase verifier's rescue.
        """
        c = self.config
        if segment.overlong or segment.speech_seconds > c.max_command_seconds:
            self._reject(segment, f"{segment.speech_seconds:.1f} s of speech is not a command")
            return None
        context = self._context  # read once: another thread may switch it meanwhile
        enrolled = self._enrolled  # likewise
        if enrolled is None:
            return self._decode_general(segment, context, early=early)
        from floorcoach.audio.listening.speech_embedding import shared_embedder

        embeddings = shared_embedder().embed(segment.samples)
        allowed = set(self._tables[context].values())
        match = enrolled.match(pool_embeddings(embeddings), allowed)
        if match is not None and match.distance <= enrolled.rule.overrule:
            return self._enrolled_heard(segment, match)
        heard = self._decode_general(segment, context, embeddings, early=early)
        if early or not enrolled.wins(match, heard.intent if heard is not None else None):
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
        early: bool = False,
    ) -> Heard | None:
        """The general model's answer for a segment short enough to be a command."""
        c = self.config
        if context in self._verified:
            if early:
                return self._decode_verified(segment, context, embeddings, early=True)
            if embeddings is None:  # as before enrollment (scripts/tune_verifier overrides it)
                return self._decode_verified(segment, context)
            return self._decode_verified(segment, context, embeddings)
        if early:
            return None  # no second opinion here to say that the command is clear
        samples = self._decoder_samples(segment)
        search, table, _ = self._grammar(segment, context)
        text, score = self._decode(samples, search)
        intent = table.get(text)
        if intent is None:
            self._reject(segment, f"no phrase ({text!r})")
            return None
        safety = is_safety(intent)
        confidence = 1.0
        if self._uses_phone_loop:
            ratio = self._fit.ratio(samples, score)
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
        """What the grammar decoder hears: Wiener-filtered in a noisy room, raw otherwise, and
        telephone-band speech given a high band (`SphinxConfig.extend_narrowband`)."""
        c = self.config
        noisy = segment.floor_db > c.denoise_above_floor_db
        samples = wiener_denoise(segment.samples) if c.denoise and noisy else segment.samples
        return widened(samples) if c.extend_narrowband else samples

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
        early: bool = False,
    ) -> Heard | None:
        """Grammar decode and second opinion together (`head_rule`, or the verifier's rule).

        The second opinion sees the raw segment (it was trained on noisy audio); the decoder
        the Wiener-filtered one when the room is noisy, as without it.
        """
        c = self.config
        assert self._verifier is not None
        search, table, not_early = self._grammar(segment, context)
        decoded: Intent | None = None
        text = ""
        samples = segment.samples
        score = 0.0
        if self._decoder_decides:
            samples = self._decoder_samples(segment)
            text, score = self._decode(samples, search)
            decoded = table.get(text)
        if early and (decoded is None or text in not_early):
            return None  # early only on the decoder's word: most talk ends here, head unasked
        if embeddings is not None and isinstance(self._verifier, CommandHead):
            # already embedded for the enrolled phrases: the head reads the same numbers
            probabilities = self._verifier.probabilities_of_embeddings(embeddings)
            verdict = self._verifier.verdict(probabilities, set(table))
        else:
            verdict = self._verifier.judge(segment.samples, allowed=set(table))
        by_intent = intent_probabilities(verdict, table)
        if self._verifier_rule:
            heard = self._verifier_decision(segment, decoded, text, verdict, table)
            if heard is None:
                decoder = f"decoder {text!r}, " if self._decoder_decides else ""
                self._reject(
                    segment, f"{decoder}verifier {verdict.phrase!r} p={verdict.probability:.2f}"
                )
            return heard
        over_player = search != self._search(context)
        chosen = c.head_rule.decide(decoded, by_intent, segment.speech_seconds, over_player)
        if early:
            vote = sum(by_intent.values())
            if chosen is None or chosen != decoded or vote < c.early_vote:
                return None
            share = by_intent.get(chosen, 0.0)
            if share < c.early_share * vote:
                return None
            if self._overruled(segment, chosen, table, over_player) is not None:
                return None  # an overruled intent waits for the whole segment
            return self._heard(segment, chosen, text, share)
        instead = self._overruled(segment, chosen, table, over_player)
        if instead is not None:
            return instead
        if chosen is not None:
            said = text if chosen == decoded else likeliest_phrase(chosen, verdict, table)
            return self._heard(segment, chosen, said, by_intent.get(chosen, 0.0))
        speech = segment.speech_seconds
        if self._decoder_decides and self._fit.number_fits(speech, decoded, samples, score):
            assert decoded is not None
            return self._heard(segment, decoded, text, by_intent.get(decoded, 0.0))
        if self._decoder_decides:
            forced = self._fit.forced_number(speech, samples, by_intent, table)
            if forced is not None:
                return self._heard(segment, *forced)
        if self._rescuer is not None:
            known, rescue = self._rescuer_verdict(segment, table)
            heard = self._verifier_decision(
                segment, decoded if text in known else None, text, rescue, known
            )
            if heard is not None:
                return heard
        self._reject(
            segment, f"decoder {text!r}, head {verdict.phrase!r} p={verdict.probability:.2f}"
        )
        return None

    def _rescuer_verdict(
        self, segment: Segment, table: dict[str, Intent]
    ) -> tuple[dict[str, Intent], Verdict]:
        """The phrase verifier's verdict among the context's phrases it knows, and those."""
        assert self._rescuer is not None
        known = {p: i for p, i in table.items() if p in self._rescuer_knows}
        return known, self._rescuer.judge(segment.samples, allowed=set(known))

    def _overruled(
        self, segment: Segment, chosen: Intent | None, table: dict[str, Intent], over_player: bool
    ) -> Heard | None:
        """The verifier's intent when it is sure the chosen one is wrong (`SphinxConfig.overrule`;
        not over the player's voice: the echo canceller tears words, and it never heard such)."""
        rule = self.config.overrule
        if chosen is None or self._rescuer is None or over_player or not rule.may_replace(chosen):
            return None
        known, verdict = self._rescuer_verdict(segment, table)
        by_intent = intent_probabilities(verdict, known)
        instead = rule.decide(chosen, by_intent)
        if instead is None:
            return None
        said = likeliest_phrase(instead, verdict, known)
        _LOGGER.debug("verifier overruled %s with %r (p=%.2f)", chosen, said, by_intent[instead])
        return self._heard(segment, instead, said, by_intent[instead])

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
            need = c.safety_agree_probability if is_safety(decoded) else c.agree_probability
            if p >= need:
                return self._heard(segment, decoded, text, p)
        if by_intent:
            guess, p = max(by_intent.items(), key=lambda item: item[1])
            need = c.safety_alone_probability if is_safety(guess) else c.alone_probability
            if p >= need:
                return self._heard(segment, guess, likeliest_phrase(guess, verdict, table), p)
        return None

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
        """Text and score of one search (tests and scripts/tune_* replace or call this)."""
        return decode(self._decoder, samples, search)
