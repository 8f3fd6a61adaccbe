"""When the phrase verifier may overrule the intent the decoder and the command head chose.

Why: the decoder and the head each confuse phrases that sound alike in noise ("count slower" as
"speak slower", "slow down" as "all done", "speed up" as "speak up"), and when both make the
same slip the head rule takes it. The phrase verifier, a different network on different
features (log-mel bands, trained on many synthesizer voices), is rarely fooled by the same
slip: on held-out espeak-ng voices at 10 dB (white noise, two noise draws) it gave the chosen
intent under 5 % and another one at least 40 % for 12 of the 24 wrong commands taken, and for
none of the 499 right ones. With the rule, those voices' commands at 10 dB went from 741 to 755
of 810 right over three noise draws (the phrase verifier alone, the fourth session's default:
751). On recorded people it is less sure of everything (it learned only from synthesizers):
out of sample, not one word heard or false command changed (BENCHMARKS.md, eighteenth session).

What it may not do: take away stop, pain or a red flag that was heard (a missed "that hurts" is
worse than a wrong one), or put a consequential command in place of another (stop, next,
previous, restart, red flags: the verifier alone never ends or moves a session).
"""

from __future__ import annotations

from dataclasses import dataclass

from floorcoach.audio.listening.command_head import is_consequential
from floorcoach.audio.listening.recognizer import is_safety
from floorcoach.commands import Intent


@dataclass(frozen=True)
class Overrule:
    """The verifier's bar for replacing a chosen intent (`probability` >= 1: never)."""

    probability: float = 0.4
    """The verifier's likeliest intent (among the context's phrases it knows) needs this..."""
    chosen_below: float = 0.05
    """...while it gives the chosen intent less than this."""

    @property
    def active(self) -> bool:
        """Whether the verifier is asked at all."""
        return self.probability <= 1.0

    def may_replace(self, chosen: Intent) -> bool:
        """Whether `chosen` is an intent the verifier may replace (not stop, pain, red flags)."""
        return self.active and not is_safety(chosen)

    def decide(self, chosen: Intent, by_intent: dict[Intent, float]) -> Intent | None:
        """The intent to act on instead of `chosen`, or None to keep `chosen`.

        `by_intent`: the verifier's probability per intent of the context.
        """
        if not by_intent or not self.may_replace(chosen):
            return None
        guess, p = max(by_intent.items(), key=lambda item: item[1])
        if guess == chosen or is_consequential(guess):
            return None
        if p >= self.probability and by_intent.get(chosen, 0.0) < self.chosen_below:
            return guess
        return None
