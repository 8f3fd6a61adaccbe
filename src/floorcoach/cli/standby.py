"""`floorcoach standby`: wait, listening, for "start"; play; come back to standby."""

from __future__ import annotations

import argparse
import queue
import sys
import threading
import time
from datetime import datetime, timedelta
from typing import IO, Any, Final

from floorcoach.cli.standby_devices import StandbyEars, StandbyVoice
from floorcoach.cli.stop_signals import StopSignals
from floorcoach.content.catalog import Catalog
from floorcoach.errors import FloorcoachError
from floorcoach.runtime.event_loop import Runtime, parse_timed_line
from floorcoach.runtime.reminders import ReminderScheduler, reminder_switch
from floorcoach.runtime.standby import (
    HELP_TEXT,
    LEARN_OFFER,
    READY_TEXT,
    MissedAnswers,
    StandbyAction,
    parse_standby,
    routine_names,
    routines_text,
)
from floorcoach.runtime.standby_ready import (
    LEARN_QUESTION,
    LEARN_REPLIES,
    START_REPLIES,
    SWITCH_OFF_QUESTION,
    SWITCH_OFF_REPLIES,
    ReadyCheck,
    ReadyVerdict,
    Replies,
    ready_question,
    reminders_question,
)

POLL_SECONDS: Final = 0.5
AFTER_SESSION: Final = "I'm here when you need me. Say start to go again."
AFTER_LEARNING: Final = "I'm here when you need me. Say start to begin."
LEARNING_UNFINISHED: Final = (
    "I couldn't learn everything this time; what I learned is kept. "
    "Say learn my voice to try again, or start to begin."
)
"""After an enrollment that failed (no microphone) or left phrases that never took."""
NO_MIC_TO_LEARN: Final = (
    "Learning your voice needs the microphone: start standby without --text or --no-mic."
)


def register(subparsers: Any) -> None:
    """Add the standby subcommand."""
    from floorcoach.cli.play import _add_session_options

    standby = subparsers.add_parser(
        "standby",
        help="wait for 'start' (or a routine's name), play it, and wait again",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description=(
            "Hands-free from power-on: say 'start', 'start core routine', 'what routines are "
            "there', 'resume' or 'how am I doing'. Lines typed on stdin work the same way."
        ),
    )
    standby.add_argument(
        "--default-routine", default=None, help="what 'start' plays (default: first-week)"
    )
    standby.add_argument(
        "--ready-check",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="ask 'say yes when you're ready' before a session asked for by voice; without "
        "it, talk nearby that sounds like 'start' can play a session (None: on, unless "
        "the settings say [standby] ready_check = false)",
    )
    _add_session_options(standby)
    standby.set_defaults(func=_standby, resume=False, routine=None)


class LineRouter:
    """One reader of typed lines: to standby while waiting, to the session while playing."""

    def __init__(self, stream: IO[str]) -> None:
        self.inbox: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self._target: Runtime | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(
            target=self._pump, args=(stream,), name="floorcoach-standby-input", daemon=True
        )
        self._thread.start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            with self._lock:
                target = self._target
            if target is not None:
                target.post_line(line.rstrip("\n"))
            else:
                self.inbox.put(("typed", line.rstrip("\n")))
        self.inbox.put(None)

    def attach(self, runtime: Runtime | None) -> None:
        """Send typed lines to this session (None: back to standby).

        Timed lines ('@12 pause') already waiting belong to the session just started: a
        scripted standby run types a 'start' line followed by that session's lines.
        """
        with self._lock:
            self._target = runtime
            if runtime is None:
                return
            kept: list[tuple[str, str] | None] = []
            taking = True
            while True:
                try:
                    item = self.inbox.get_nowait()
                except queue.Empty:
                    break
                if taking and item is not None and item[1].lstrip().startswith("@"):
                    runtime.post_line(item[1])
                else:
                    taking = False
                    kept.append(item)
            for item in kept:
                self.inbox.put(item)


def _standby(args: argparse.Namespace) -> int:
    with StopSignals() as stop:
        try:
            return _serve(args, stop)
        except KeyboardInterrupt:
            stop.report()
            return stop.exit_code()


def _serve(args: argparse.Namespace, stop: StopSignals) -> int:
    """Standby until "goodbye", the end of typed input (--text, --no-mic) or a stop signal."""
    from floorcoach.cli.play import apply_config, run_session
    from floorcoach.store.session_link import HistoryLink

    config = apply_config(args)
    catalog = Catalog.load(args.routines_dir)
    names = routine_names(catalog)
    router = LineRouter(sys.stdin)
    voice = StandbyVoice(args)
    ears = StandbyEars(args, router.inbox, names, voice)
    clock = StandbyClock(args.time_scale)
    reminders = _reminders(args, config, catalog, clock)
    asking = ReadyAsking(voice, ears, router.inbox, clock, args.time_scale, stop)
    waiting: list[tuple[float, str]] = []  # typed '@SECONDS words', held until then
    ended = False
    offered_learning = False
    try:
        voice.open()
        ears.open()
        voice.say(READY_TEXT)
        while True:
            if stop.received is not None:  # its KeyboardInterrupt was swallowed somewhere
                raise KeyboardInterrupt
            if ended and not waiting:
                return 0
            ready = [line for line in waiting if line[0] <= clock.elapsed()]
            if ready:
                waiting.remove(ready[0])
                item: tuple[str, str] | None = ("typed", ready[0][1])
            else:
                try:
                    if ended:
                        time.sleep(POLL_SECONDS / args.time_scale)
                        raise queue.Empty
                    item = router.inbox.get(timeout=POLL_SECONDS / args.time_scale)
                except queue.Empty:
                    if voice.retry():
                        ears.close()  # to open again with the speaker's echo reference
                        ears.open()
                    ears.retry()
                    due = reminders.due(clock.now())
                    if due is not None:
                        voice.say(due.text)
                    continue
            if item is None:
                if ears.wanted:
                    # No keyboard (a service's stdin is /dev/null): the voice goes on.
                    continue
                if waiting:  # typing has ended, but timed lines are still to come
                    ended = True
                    continue
                return 0  # typed input ended, and nothing else to listen to
            source, text = item
            if source == "unclear":
                continue  # the end of an answer's wait: a late "didn't catch that"
            timed = parse_timed_line(text)
            if timed is not None:
                waiting.append(timed)
                continue
            turning = reminder_switch(text)
            if source == "heard" and turning is not None and turning != reminders.active:
                if not asking.answered_yes(*reminders_question(turning)):
                    continue  # a lasting setting: never changed on talk in the room alone
            reply = reminders.handle(text, clock.now())
            if reply is not None:
                voice.say(reply)  # "not now", "stop reminders", "done"
                continue
            request = parse_standby(text, names)
            if request is None:
                if source == "typed" and text.strip():
                    print(f'        not understood: "{text}" (say or type "help")', flush=True)
                continue
            if request.action is StandbyAction.EXIT:
                if source == "heard":  # as a service, standby stays off until a restart
                    if not asking.answered_yes(SWITCH_OFF_QUESTION, SWITCH_OFF_REPLIES):
                        continue
                voice.say("Goodbye.")
                return 0
            if request.action is StandbyAction.LIST:
                voice.say(routines_text(catalog))
            elif request.action is StandbyAction.HELP:
                voice.say(HELP_TEXT)
            elif request.action is StandbyAction.PROGRESS:
                voice.say(_progress(args))
            elif request.action is StandbyAction.QUESTION:
                voice.say(_answer(text))
            elif request.action is StandbyAction.LEARN:
                if args.text or args.no_mic:
                    voice.say(NO_MIC_TO_LEARN)
                    continue
                if source == "heard":  # never on talk in the room alone: it keeps the takes
                    if not asking.answered_yes(LEARN_QUESTION, LEARN_REPLIES):
                        continue
                voice.close()
                ears.close()
                try:
                    learned = _learn_voice(args) == 0
                finally:
                    voice.open()
                    ears.open()
                voice.say(AFTER_LEARNING if learned else LEARNING_UNFINISHED)
            elif request.action in (StandbyAction.START, StandbyAction.RESUME):
                link = None if args.no_history else HistoryLink.open(args.history)
                point = None
                if request.action is StandbyAction.RESUME:
                    point = link.store.resumable_session() if link and link.store else None
                    if point is None:
                        voice.say("There's no unfinished session to resume. Say start instead.")
                        if link is not None:
                            link.close()
                        continue
                usual = args.default_routine or args.routine
                routine = point.routine_id if point else request.routine or usual
                loaded = catalog.find(routine)
                if source == "heard" and args.ready_check:
                    question = ready_question(loaded.routine.name, point is not None)
                    if not asking.answered_yes(question):
                        if link is not None:
                            link.close()
                        continue
                voice.close()
                ears.close()
                reminders.session_started(clock.now())
                missed = MissedAnswers()
                try:
                    run_session(args, catalog, loaded, link, point, router.attach, missed, stop)
                finally:
                    router.attach(None)
                    reminders.session_ended(clock.now())
                    if link is not None:
                        link.close()
                if stop.received is not None:  # the session ended on it: so does standby
                    raise KeyboardInterrupt
                voice.open()
                ears.open()
                voice.say(AFTER_SESSION)
                if missed.struggled and not offered_learning:
                    offered_learning = True  # once a standby: an offer, not a nag
                    voice.say(LEARN_OFFER)
    finally:
        ears.close()
        voice.close()


class ReadyAsking:
    """Asks "ready? say yes" before a session asked for by voice, and waits for the answer
    (`runtime/standby_ready.py`: why, and the answers)."""

    def __init__(
        self,
        voice: StandbyVoice,
        ears: StandbyEars,
        inbox: queue.Queue[Any],
        clock: StandbyClock,
        time_scale: float = 1.0,
        stop: StopSignals | None = None,
    ) -> None:
        self._voice = voice
        self._stop = stop
        self._ears = ears
        self._inbox = inbox
        self._clock = clock
        self._poll = POLL_SECONDS / time_scale

    def answered_yes(self, question: str, replies: Replies = START_REPLIES) -> bool:
        """Ask `question`; True on yes, False on no or no answer in time (`replies` says
        what is said meanwhile, and how long to wait)."""
        self._ears.listen_for_answer(True)  # an answer over the question still counts
        try:
            check = ReadyCheck(asked_at=self._clock.elapsed(), replies=replies)
            self._voice.say(question)
            while True:
                if self._stop is not None and self._stop.received is not None:
                    raise KeyboardInterrupt  # a stop signal whose interrupt was swallowed
                try:
                    item = self._inbox.get(timeout=self._poll)
                except queue.Empty:
                    step = check.tick(self._clock.elapsed())
                else:
                    if item is None:  # typing ended: the answer can still be spoken
                        continue
                    if item[0] == "unclear":  # item[1] is its length, not words
                        step = check.unclear(self._clock.elapsed())
                    else:
                        step = check.hear(item[1], self._clock.elapsed())
                        if step.verdict is ReadyVerdict.WAITING and step.say is None:
                            print(f'        not an answer: "{item[1]}" (say yes or no)', flush=True)
                if step.say is not None:
                    self._voice.say(step.say)
                if step.verdict is not ReadyVerdict.WAITING:
                    return step.verdict is ReadyVerdict.PLAY
        finally:
            self._ears.listen_for_answer(False)


def _learn_voice(args: argparse.Namespace) -> int:
    """`floorcoach enroll` by voice: every key command and number, "next" to leave one out,
    "that's enough" to stop (what was learned is kept)."""
    from floorcoach.audio.listening.enrollment_store import EnrollmentStore
    from floorcoach.cli.enroll import spoken_enrollment
    from floorcoach.runtime.enroll import KEY_PHRASES, key_item

    return spoken_enrollment(EnrollmentStore(), [key_item(p) for p in KEY_PHRASES], args)


class StandbyClock:
    """Local wall-clock time for reminders, running `scale` times faster (tests, demos)."""

    def __init__(self, scale: float = 1.0) -> None:
        from floorcoach.store.history_rows import now_local

        self._scale = scale
        self._start = now_local()
        self._t0 = time.monotonic()

    def elapsed(self) -> float:
        """Scaled seconds since standby started."""
        return (time.monotonic() - self._t0) * self._scale

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self.elapsed())


def _reminders(
    args: argparse.Namespace, config: Any, catalog: Catalog, clock: StandbyClock
) -> ReminderScheduler:
    """Reminders as configured (off unless enabled), kept in the history when it is there."""
    from pydantic import ValidationError

    from floorcoach.runtime.reminders import ReminderSettings, history_recorder
    from floorcoach.store.history_store import open_history_or_none

    try:
        settings = ReminderSettings.model_validate(config.reminders or {})
    except ValidationError as exc:
        for error in exc.errors():
            key = ".".join(str(part) for part in error["loc"])
            print(
                f"floorcoach: [reminders] {key}: {error['msg']}; using the defaults",
                file=sys.stderr,
                flush=True,
            )
        settings = ReminderSettings()
    store = None
    if not args.no_history:
        store, _reason = open_history_or_none(args.history)
    start = None
    if store is not None:
        sessions = store.sessions()
        start = sessions[0].started_at.date() if sessions else None
    record = history_recorder(store) if store is not None else None

    def on_record(entry: Any) -> None:
        if record is None:
            return
        try:
            record(entry)
        except FloorcoachError as exc:  # reminders go on without their history
            print(f"floorcoach: {exc}", file=sys.stderr, flush=True)

    progression = catalog.guidance.progression if catalog.guidance else ()
    return ReminderScheduler(
        settings,
        now=clock.now(),
        progression=progression,
        program_start=start,
        on_record=on_record,
    )


def _progress(args: argparse.Namespace) -> str:
    from floorcoach.store.history_store import open_history_or_none

    store, reason = open_history_or_none(None if args.no_history else args.history)
    if store is None:
        return "I can't reach your history right now."
    try:
        return store.summary_text() or "There's no history yet: let's do a first session."
    finally:
        store.close()


def _answer(text: str) -> str:
    from floorcoach.content.questions import reply_to

    return reply_to(text)
