"""How the pocketsphinx recognizer is tuned: `SphinxConfig` and the named presets.

Every engineering step measured in BENCHMARKS.md is a preset, so `floorcoach recognize
--preset` and scripts/bench_commands can show what each step does; "default" is what the
player uses. Safety commands and red flags (`recognizer.is_safety`) get thresholds of their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from floorcoach.audio.listening.command_head import HeadRule
from floorcoach.audio.listening.vad import VadConfig
from floorcoach.audio.listening.verifier_overrule import Overrule
from floorcoach.errors import RecognizerError


@dataclass(frozen=True)
class SphinxConfig:
    """Tuning knobs, defaults chosen by scripts/bench_commands."""

    vad: VadConfig = field(
        default_factory=lambda: VadConfig(max_segment_seconds=3.0, early_seconds=0.12)
    )
    """Segments up to 3 s; a segment whose speech has paused for 0.12 s is offered early, and a
    clear command acts then instead of after the 0.3 s hangover (`early_share`)."""
    max_command_seconds: float = 3.0
    """The longest red flags take 2.3-2.7 s said slowly (110 words a minute). With the verifier
    checking every segment, 3 s gave the same false commands as 2 s (scripts/tune_verifier);
    the steps without the verifier keep the 2 s they were measured with."""
    unclear_min_seconds: float = 0.1
    """A segment turned down is reported as unclear words (`set_on_unclear`) when it holds
    this much speech or more, and at most `max_command_seconds`: shorter is a knock or a
    click."""
    min_confidence: float = 0.0
    safety_min_confidence: float = 0.0
    bestpath: bool = False
    denoise: bool = True
    denoise_above_floor_db: float = -30.0
    """Filtering a clean segment only distorts it (measured: -8 points), so only in noise."""
    extend_narrowband: bool = True
    """Telephone-band segments (nothing above 4 kHz: a Bluetooth headset's hands-free mode, an
    8 kHz microphone) reach the decoder with a high band predicted from their low band
    (listening/bandwidth.py): the acoustic model's filters reach 6.8 kHz. Recorded
    telephone-band digits, one at a time, out of sample (scripts/bench_narrowband): 80 -> 84
    of 100 heard (5 gained, 1 lost), the decoder alone 54 -> 70; wideband numbers cut to 3.8
    kHz 20 -> 24 of 29; wideband ones unchanged. Preset `no_bandwidth_extension` is without."""
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
    """"head": the command head on a real-speech embedding (listening/command_head.py), deciding
    with the decoder by `head_rule`; "verifier": the phrase verifier trained on synthesizers
    only (audio/listening/phrase_verifier.py), deciding by the thresholds below."""
    head_rule: HeadRule = field(default_factory=HeadRule)
    verifier_rescues: bool = True
    """With the head: a segment the head rule turned down is still taken when the phrase
    verifier, by its own thresholds below, hears one of the phrases it knows. It was trained
    on many synthesizer voices and hears them better than the head (held-out espeak-ng voices);
    on recorded people it adds few false commands (2.7 / h alone, BENCHMARKS.md)."""
    overrule: Overrule = field(default_factory=Overrule)
    """With the rescue's verifier loaded: when it is sure that the intent the decoder and head
    chose is wrong and another is right, that one is taken instead (never for or into stop,
    pain, red flags or other consequential commands; listening/verifier_overrule.py). Held-out
    espeak-ng voices, commands context at 10 dB, three noise draws: 741 -> 755 of 810 right,
    wrong commands 28 -> 14; recorded people unchanged. Preset `no_overrule` is without."""
    early_share: float = 0.9
    """Acting before the hangover ends needs more than the head rule: the decoder's intent with
    at least this share of the head's vote among phrases..."""
    early_vote: float = 0.5
    """...and the head at least this sure that the segment is a phrase at all. Otherwise the
    segment is decided as usual when it ends. Phrases that sound like the start of another
    intent's phrase ("two" and "too much") never act early."""
    early_consequential: bool = False
    """Red flags, next, previous and restart act early too. Off, they wait for the segment's
    end (0.3 s more): they need not act within a quarter second, and a look at part of a word
    is where two consequential false commands came from on recorded talk (out of sample, a
    recorded "Lexa" taken early for "next", at 20 and 10 dB: 15 -> 13 in 4.45 h).
    Held-out synthetic voices hear as many phrases either way. Stop, pause and pain still act
    early: they must act fast."""
    early_max_seconds: float = 1.2
    """Only segments with at most this much speech are looked at early: the commands that must
    act fast ("stop", "pause", "that hurts", "hold on") are short, and longer talk was most of
    the early looks' cost (they are a second decode of the same segment)."""
    number_fit_ratio: float = -0.0013
    """A number the head rule turned down (only the pain-level question listens for numbers)
    is still taken when the grammar path fits the segment this well against a free phone loop
    (ln score per frame, the `strict` preset's measure): the head is sure "no phrase" for many
    numbers said by people it never heard, where the decoder heard them right. Chosen on
    recorded non-command speech alone (scripts/tune_head fit): the loosest setting with at
    most 1 false number per hour of talk decoded in the pain-level context. -1 turns it off."""
    number_fit_max_seconds: float = 1.2
    """...and only in a segment with at most this much speech: a number is one short word
    (the same bound as `early_max_seconds`); longer talk decoded as a number is not one."""
    forced_number_share: float = 0.99
    """A short segment every other rule turned down, in a context that listens for numbers,
    is decoded once more with a grammar of the numbers alone. That number is taken when the
    command head gives it at least this share of its vote among numbers, the head's vote for
    any phrase is at least `forced_number_vote`, and the path fits at `number_fit_ratio`.
    The decoder often hears a filler or another phrase where a person said a number ("fine"
    for "seven", "leg" for "four", "carry on" for "three"), and the head, unsure a phrase was
    said at all, still knows which number it was. Chosen like `number_fit_ratio`, on recorded
    talk alone (scripts/tune_head forced): the loosest setting with at most 1 false number
    per hour of talk decoded in the pain-level context, on average over two head pairs
    trained apart (0.67 and 1.12 / h; at 0.95, 0.90 and 2.47 / h). Above 1 turns it off."""
    forced_number_vote: float = 0.005
    over_player_grammar: bool = True
    """While the player talks (`SphinxRecognizer.set_player_talking`), the commands context is
    decoded with a grammar of only what the echo gate takes then (pause, stop, pain, resume,
    red flags), the other contexts' phrases still there to absorb other talk. Over the player
    the canceller tears the user's words, and torn "stop" was heard as "help", "pause" as
    "all done": commands the gate would drop anyway (eleventh session, with pain unvetoed in
    short segments: barge-in 150 -> 157 of 180 at -10 dB, 104 -> 119 at 0 dB, no more false
    commands from the player's speech)."""
    over_player_without: frozenset[str] = frozenset({"four", "okay", "oh", "foot drop"})
    """Phrases and alternatives left out of the over-player grammar (the other contexts'
    phrases and the fillers stay there to absorb talk that means nothing).

    Torn by the canceller's double-talk suppression, "pause" lost its /p/ and /z/ and came
    out as "four" (11 of the 21 pauses missed at 0 dB of echo), "stop" its /st/ as "okay" or
    "oh". "four" counts only as an answer to "how bad?", whose context keeps its whole
    grammar. Without these three: barge-in 164 / 132 of 180 at -10 / 0 dB instead of 157 /
    124, and no more false commands from bystanders or the player's own voice; leaving out
    "well", "hmm" and "alright" too (138 at 0 dB) made a second "stop" a red flag ("foot
    drop") at -10 dB (twelfth session, BENCHMARKS.md).

    "foot drop" (a red flag) is a clinician's word, and over the player it was where flite
    awb's torn "stop" went: a red-flag question at -10 dB in two sessions' captures, and a
    head sure of "foot drop" vetoing a "stop" the decoder heard. Over the player the other
    foot phrases ("I cannot lift my foot", "my foot is dragging") still count, and with the
    player silent "foot drop" does too. Without it: 174 of 180 at -10 dB instead of 172, 161
    at 0 dB as before; the wrong red flag at -10 dB became a wrong "too much" (a pain
    question; thirteenth session)."""
    second_look: bool = True
    """A segment said over the player that is turned down is decided once more from the
    linear canceller's output of the same stretch, where double-talk suppression has not torn
    the user's word (linear_look.py; the listener runs that canceller only when this is on)."""
    second_look_fitted: bool = True
    """The second look's canceller fits a least-squares filter on the stretch it is asked for
    (linear_look.LinearLook); off, an NLMS filter runs all along beside WebRTC's (NlmsLook,
    the thirteenth session's). New 0 dB capture: 174 of 180 heard against 152; -10 dB: 176
    against 174 (fourteenth session)."""
    second_look_before_seconds: float = 0.2
    """The second look starts this long before the segment's padding: WebRTC's suppressor
    tears the start of a word said over the player, so the segment starts late. On the 0 dB
    captures, before any filter below: 156 of 180 heard from the segment's own stretch, 161
    from 0.2 s before, 146 from 0.4 s before (more of the player's echo); 132 with no second
    look (thirteenth session)."""
    second_look_kept_db: float = -9.0
    """A second look only where WebRTC's output kept the segment's sound within this much of
    the linear canceller's: where WebRTC took out nearly all that the linear one left, that
    was the player's echo. On the 0 dB captures the users' words were -0.7 to -7.3 dB, and
    the two commands heard in the player's echo -10.7 and -12.1 dB. A second look takes only
    pause, stop, pain and answers (self_voice.taken_on_a_second_look): a torn "stop"
    read again was once a red flag ("foot drop")."""
    second_look_max_speech_seconds: float = 1.5
    """Only segments with at most this much speech: the commands taken over the player are
    short, and longer talk over the player is more likely bystanders'."""
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
        "wait_for_end": SphinxConfig(vad=VadConfig(max_segment_seconds=3.0)),
        "number_veto": SphinxConfig(
            head_rule=HeadRule(number_share=0.7, number_veto=0.99, pain_veto=0.999),
            number_fit_ratio=-1.0,
            over_player_grammar=False,
        ),
        "no_number_fit": SphinxConfig(
            number_fit_ratio=-1.0, head_rule=HeadRule(pain_veto=0.999), over_player_grammar=False
        ),
        "pain_veto": SphinxConfig(head_rule=HeadRule(pain_veto=0.999), over_player_grammar=False),
        "whole_grammar_over_player": SphinxConfig(over_player_grammar=False),
        "every_alternative_over_player": SphinxConfig(over_player_without=frozenset()),
        "no_second_look": SphinxConfig(second_look=False),
        "nlms_second_look": SphinxConfig(second_look_fitted=False),
        "no_bandwidth_extension": SphinxConfig(extend_narrowband=False),
        "no_forced_number": SphinxConfig(forced_number_share=1.01),
        "no_overrule": SphinxConfig(overrule=Overrule(probability=1.01)),
        "early_consequential": SphinxConfig(early_consequential=True),
        "stop_vetoed_over_player": SphinxConfig(
            head_rule=HeadRule(over_player_stop_share=0.7, over_player_stop_veto=0.99)
        ),
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
