"""The pain dialogue: how bad, where, and what the pain rules make of the answer.

"That hurts" stops the clock and asks the level (0 to 10) and the place (back or down the
leg), unless it was said with them. The answer decides, by the item's pain rules: carry on
gently, reduce the numbers, switch to the easier variant, or skip (also when the exercise
has hurt before today), said with the level the user gave ("Pain at 4. ..."). Before the first
exercise the decision is a plan for it. A place said soon after a decision may make it
stricter, never gentler.

The decisions themselves are pure functions (`pain_decisions`); `PainDialogue` holds the
conversation and carries decisions out through `PainSession`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Final, Protocol

from floorcoach.commands import Command, Intent, Location
from floorcoach.content.catalog import LoadedRoutine, ResolvedItem
from floorcoach.content.routine import Exercise, PainRules
from floorcoach.session.events import Priority
from floorcoach.session.outbox import Outbox
from floorcoach.session.pain_decisions import (
    PAIN_RANKS,
    PainDecision,
    StartPlan,
    decide_before_start,
    decide_on_exercise,
    decision_rank,
    exercise_begun,
    pain_choice,
)
from floorcoach.session.steps import Outcome, PauseReason, Performance, RunningStep
from floorcoach.session.summary import ExerciseRecord

PAIN_FOLLOWUP_SECONDS: Final = 10.0
"""A location said this soon after a pain decision answers "where?" and the decision is retaken."""
LEVEL_QUESTION: Final = "How bad is it, from 0 to 10?"
LOCATION_QUESTION: Final = "Is it in your back, or spreading down your leg?"
NOT_CAUGHT: Final = "Sorry, I didn't catch that."
ASK_AGAIN_TIMES: Final = 2
"""How often one question is asked again after words that could not be placed: a person
the recognizer hears badly gets two more tries before the timeout decides; a bystander's
talk costs at most two repeats."""


@dataclass
class PainQuestion:
    """The open question: what is known so far and when to stop waiting for the rest."""

    level: int | None
    location: Location | None
    deadline: float
    asking: str = "level"
    """'level' or 'location'."""
    asked_again: int = 0
    """Times this question was asked again after unclear words (ASK_AGAIN_TIMES at most)."""
    level_said: bool = False
    """Whether the level came from the user's words (not assumed after no answer or "I'm
    fine"): such a level is said back with a decision that does not already say it."""

    @property
    def text(self) -> str:
        return LEVEL_QUESTION if self.asking == "level" else LOCATION_QUESTION


@dataclass
class PainFollowup:
    """The last pain decision, open for a while to a late answer to "where?"."""

    until: float
    level: int
    location: Location | None
    report: dict[str, Any]
    decision: str
    item_index: int | None
    """The routine item decided on; None before the first exercise."""


# ---------------------------------------------------------------- the conversation


class PainSession(Protocol):
    """What the pain dialogue sees of the session and may do to it."""

    now: float
    loaded: LoadedRoutine
    perf: Performance | None
    """The exercise being played (None before the first)."""
    running: RunningStep | None
    records: list[ExerciseRecord]

    @property
    def rules(self) -> PainRules: ...

    def upcoming_index(self) -> int | None: ...

    def pause(self, reason: PauseReason) -> None: ...

    def drop_pause(self) -> None:
        """Take the clock off pause without resuming what was stopped (it is replaced)."""

    def resume(self, *, announce: bool = True) -> None: ...

    def say_where(self, lead: str) -> None:
        """Say "{lead}: hold, 3 seconds left."; a timed step's clock waits for the words."""

    def swap_variant(self, variant: Exercise, outcome: Outcome) -> None: ...

    def leave_exercise(self) -> None: ...

    def rebuild(self) -> None:
        """Re-plan what is left of the exercise (after its numbers changed) and start it."""

    def reissue_if_instruction(self) -> None: ...


class PainDialogue:
    """Pain reported in a session: the questions, the decisions, and what is remembered."""

    def __init__(self, session: PainSession, out: Outbox) -> None:
        self._session = session
        self._out = out
        self.question: PainQuestion | None = None
        self.followup: PainFollowup | None = None
        self.start_plan: StartPlan | None = None
        self.start_pain: tuple[int, Location | None] | None = None
        """The last pain reported before the first exercise (replanned if the start moves)."""
        self.counts: Counter[str] = Counter()
        """Pain reports per exercise today."""
        self.skip_for_session: set[str] = set()
        self.reports: list[dict[str, Any]] = []

    @property
    def deadline(self) -> float | None:
        """When an unanswered question is taken as moderate pain."""
        return self.question.deadline if self.question is not None else None

    def report(self, level: int | None, location: Location | None = None) -> None:
        """Pain reported (with its level or place, if said): stop and ask what is missing."""
        session = self._session
        session.pause(PauseReason.PAIN)
        self.followup = None
        self.question = PainQuestion(
            level, location, self._answer_deadline(), level_said=level is not None
        )
        self._out.log("pain_reported", level=level, location=location)
        if level is not None and self._decides_at_once(level):
            self._decide()
            return
        if level is None:
            self._out.say(
                "Let's stop for a moment. How bad is it, from 0 to 10?", Priority.RESPONSE
            )
        else:
            self._ask_location()

    def answer(self, intent: Intent) -> bool:
        """Take an answer to the open question; False when the words were something else."""
        question = self.question
        assert question is not None
        out = self._out
        if intent.number is not None and intent.command in (None, Command.PAIN):
            question.level = intent.number
            question.level_said = True
            out.stop_speech()
            if question.location is not None or self._decides_at_once(question.level):
                self._decide()
            else:
                self._ask_location()
            return True
        if intent.location is not None:
            question.location = intent.location
            out.stop_speech()
            if question.level is not None or intent.location is Location.LEG:
                self._decide()
            else:
                question.asking = "level"
                out.say("And how bad, from 0 to 10?", Priority.RESPONSE)
            return True
        if intent.command is Command.PAIN:
            out.respond(LEVEL_QUESTION)
            return True
        if intent.command is Command.RESUME:
            # "I'm fine, carry on": treat as mild
            question.level = question.level if question.level is not None else 0
            question.location = question.location or Location.BACK
            self._decide()
            return True
        if intent.command in (Command.REPEAT, Command.HELP):
            out.respond(question.text)
            return True
        if intent.command is Command.PAUSE:
            out.respond("We're stopped. Tell me how bad it is, from 0 to 10.")
            return True
        return False

    def ask_again(self, seconds: float) -> None:
        """Unclear words (`seconds` of speech) while a question is open: ask it again, and
        give the full answer time from now (ASK_AGAIN_TIMES at most)."""
        question = self.question
        if question is None or question.asked_again >= ASK_AGAIN_TIMES:
            return
        question.asked_again += 1
        question.deadline = max(question.deadline, self._answer_deadline())
        self._out.log("not_caught", asking=question.asking, speech_seconds=round(seconds, 2))
        self._out.respond(f"{NOT_CAUGHT} {question.text}")

    def _answer_deadline(self) -> float:
        """When a question asked now stops waiting (the routine's answer time, 20 s if none)."""
        session = self._session
        return session.now + float(session.rules.answer_timeout_seconds or 20)

    def check_deadline(self) -> None:
        """No answer in time: take it as moderate pain and go gently."""
        question = self.question
        if question is None or self._session.now < question.deadline:
            return
        self._out.log("pain_no_answer", asking=question.asking)
        if question.level is None:
            question.level = self._session.rules.reduce_max_level
        self._out.say(
            "I didn't hear an answer, so I'll treat it as moderate and go gently.",
            Priority.RESPONSE,
        )
        self._decide()

    def plan_start(
        self, level: int, location: Location | None, *, lead: str = "", level_said: bool = False
    ) -> str:
        """Pain before the first exercise: decide now what the first exercise will be."""
        self.start_plan = None
        self.start_pain = (level, location)
        session = self._session
        decision, plan = decide_before_start(
            session.loaded,
            session.upcoming_index(),
            level,
            location,
            lead=lead,
            level_said=level_said,
        )
        self.start_plan = plan
        self._announce(decision)
        return decision.decision

    def take_start_plan(self, index: int) -> StartPlan | None:
        """The plan for the item opening now, if any; any plan is used up either way."""
        plan = self.start_plan if self.start_plan and self.start_plan.index == index else None
        self.start_plan = None
        return plan

    def late_location(self, location: Location) -> bool:
        """A location said soon after a pain decision answers "where?"; False if too late."""
        session, out = self._session, self._out
        followup = self.followup
        if followup is None or session.now > followup.until + 1e-9:
            return False
        self.followup = None
        place = "Down your leg" if location is Location.LEG else "In your back"
        if location is not followup.location:
            followup.report["location"] = location.value
            out.log("pain", level=followup.level, location=location.value, corrected=True)
        perf = session.perf
        before_start = followup.item_index is None and perf is None
        on_same = perf is not None and followup.item_index in (None, perf.item.index)
        decided = PAIN_RANKS[followup.decision]
        if before_start:
            item = session.loaded.items[session.upcoming_index() or 0]
            if self._rank(pain_choice(followup.level, location, item.pain_rules), item) > decided:
                out.stop_speech()
                self.plan_start(followup.level, location, lead="Thanks. ")
                session.reissue_if_instruction()  # the welcome line that was cut off
                return True
        elif on_same and perf is not None and followup.decision != "skip":
            choice = pain_choice(followup.level, location, perf.rules)
            if self._rank(choice, perf.item) > decided:
                out.stop_speech()
                self._act(perf, followup.level, location, repeated=False, lead="Thanks. ")
                return True
        stay = (
            f"we'll stay with {perf.exercise.name}"
            if on_same and perf is not None and followup.decision != "skip"
            else "we'll keep to that"
        )
        out.respond(f"Thanks. {place}, noted; {stay}.")
        session.reissue_if_instruction()
        return True

    # ------------------------------------------------------------ inside

    def _decides_at_once(self, level: int) -> bool:
        """Severe pain during an exercise stops it without asking where; before one, ask."""
        session = self._session
        return session.perf is not None and pain_choice(level, None, session.rules) == "severe"

    def _ask_location(self) -> None:
        question = self.question
        assert question is not None
        question.asking = "location"
        question.asked_again = 0
        question.deadline = self._answer_deadline()
        self._out.say(LOCATION_QUESTION, Priority.RESPONSE)

    def _decide(self) -> None:
        question = self.question
        assert question is not None
        self.question = None
        session = self._session
        rules = session.rules
        level = question.level if question.level is not None else rules.reduce_max_level or 5
        perf = session.perf
        report = {
            "t": round(session.now, 3),
            "level": level,
            "location": question.location.value if question.location else None,
            "exercise": perf.exercise.id if perf else None,
        }
        self.reports.append(report)
        self._out.log("pain", level=level, location=report["location"])
        self._out.stop_speech()
        said = question.level_said
        if perf is None:
            decision = self.plan_start(level, question.location, level_said=said)
            session.resume(announce=False)
        else:
            session.records[perf.item.index].pain_reports += 1
            self.counts[perf.item.exercise.id] += 1
            repeated = self.counts[perf.item.exercise.id] >= (rules.skip_after_reports or 2)
            decision = self._act(perf, level, question.location, repeated=repeated, level_said=said)
        self.followup = PainFollowup(
            session.now + PAIN_FOLLOWUP_SECONDS,
            level,
            question.location,
            report,
            decision,
            perf.item.index if perf else None,
        )

    def _act(
        self,
        perf: Performance,
        level: int,
        location: Location | None,
        *,
        repeated: bool,
        lead: str = "",
        level_said: bool = False,
    ) -> str:
        """Decide on the exercise in progress and carry it out; returns the decision."""
        session = self._session
        decision = decide_on_exercise(
            perf,
            level,
            location,
            repeated=repeated,
            easier=session.loaded.variant(perf.exercise, "easier"),
            begun=exercise_begun(perf, session.running),
            lead=lead,
            level_said=level_said,
        )
        if repeated:
            self.skip_for_session.add(perf.item.exercise.id)
        self._announce(decision)
        record = session.records[perf.item.index]
        if decision.decision == "skip":
            record.outcome = Outcome.SKIPPED
            session.leave_exercise()
        elif decision.variant is not None:
            session.drop_pause()
            session.swap_variant(decision.variant, Outcome.EASIER_VARIANT)
        elif decision.numbers is not None:
            perf.hold_seconds, perf.reps, perf.tempo_seconds = decision.numbers
            perf.outcome = Outcome.REDUCED
            if record.outcome is Outcome.NOT_REACHED:
                record.outcome = Outcome.REDUCED
            session.drop_pause()
            # the hold or rep block that hurt starts again, at the new size
            if session.running is not None:
                perf.completed -= set(session.running.step.keys)
            session.rebuild()
        else:
            session.resume(announce=False)
            if session.running is not None:
                session.say_where("Carrying on")
        return decision.decision

    def _announce(self, decision: PainDecision) -> None:
        self._out.say(decision.said, Priority.RESPONSE)
        self._out.log("decision", decision=decision.decision, said=decision.said, **decision.fields)

    def _rank(self, choice: str, item: ResolvedItem) -> int:
        has_easier = self._session.loaded.variant(item.exercise, "easier") is not None
        return decision_rank(choice, has_easier)
