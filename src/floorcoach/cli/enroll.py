"""`floorcoach enroll`: teach the player your voice, by voice; list and reset what it knows."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, Final

from floorcoach.audio.listening.enrollment_store import (
    VOICE_DIR_ENV,
    EnrollmentError,
    EnrollmentStore,
    intent_of,
)
from floorcoach.cli.config import add_config_option
from floorcoach.commands import NUMBER_WORDS
from floorcoach.errors import FloorcoachError
from floorcoach.runtime.enroll import (
    KEY_PHRASES,
    EnrollError,
    EnrollSession,
    Item,
    Report,
    Steer,
    key_item,
    resolve_phrase,
    segment_takes,
    taught_item,
)

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2
SPEAK_TIMEOUT_SECONDS: Final = 30.0
SETTLE_SECONDS: Final = 0.3
"""After the player stops speaking, before a take counts: its voice dies away in the room."""


def register(subparsers: Any) -> None:
    """Add the `enroll` subcommand."""
    parser = subparsers.add_parser(
        "enroll",
        help="teach the player your voice: say each command three times",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description=(
            "The player asks you to say each key command three times (pause, resume, next, "
            "stop, that hurts, help and the numbers zero to ten), checks each take and asks "
            "again when one is too quiet, too loud, missing or unlike the others, and keeps "
            "them in your data folder. From the next session it listens for your voice on "
            "top of what it knows of everyone's. Say 'next' instead of a take to leave that "
            "phrase out, or 'that's enough' to stop. --teach adds words of your own for a command."
        ),
    )
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--list", action="store_true", help="what is enrolled, with dates")
    what.add_argument(
        "--reset",
        action="store_true",
        help="remove enrollments (all of them, or those of --commands); asks first",
    )
    what.add_argument(
        "--teach",
        nargs="?",
        const="",
        metavar="PHRASE",
        help="teach words of your own for a command (with --as; after any --commands); "
        "without PHRASE the player asks for your words by voice",
    )
    parser.add_argument(
        "--as",
        dest="means",
        metavar="COMMAND",
        help="with --teach: the command your words mean (pause, resume, stop, that hurts, ...)",
    )
    parser.add_argument(
        "--commands",
        metavar="LIST",
        help="comma-separated commands to enroll, e.g. 'pause,stop,that hurts' or 'numbers' "
        "(without it: pause, resume, next, stop, that hurts, help, zero .. ten)",
    )
    parser.add_argument("--yes", action="store_true", help="with --reset: do not ask")
    parser.add_argument(
        "--wav",
        nargs="+",
        type=Path,
        metavar="FILE.wav",
        help="take the takes from recordings (one take each) instead of the microphone; "
        "for one command (--commands) or --teach",
    )
    parser.add_argument("--input-device", help="microphone: device index or name substring")
    parser.add_argument("--output-device", help="speaker: device index or name substring")
    parser.add_argument("--no-voice", action="store_true", help="print the prompts, never speak")
    parser.add_argument("--voice", default=None, help="espeak-ng voice name (config: en-us)")
    parser.add_argument(
        "--speech-backend",
        default=None,
        choices=("pyttsx3", "espeak"),
        help="synthesizer (config: pyttsx3)",
    )
    parser.add_argument(
        "--rate-wpm", type=int, default=None, help="speech rate, words per minute (config: 150)"
    )
    parser.add_argument(
        "--voice-dir",
        type=Path,
        default=None,
        help=f"where enrollments are kept (without it: ${VOICE_DIR_ENV}, else "
        "$XDG_DATA_HOME/floorcoach/voice)",
    )
    add_config_option(parser)
    parser.set_defaults(func=run_enroll)


def _usage(message: str) -> int:
    print(f"floorcoach: {message}", file=sys.stderr)
    return EXIT_USAGE


def run_enroll(args: argparse.Namespace) -> int:
    """Dispatch: --list, --reset, or enroll (by voice or from --wav)."""
    if args.means is not None and args.teach is None:
        return _usage("--as goes with --teach")
    if args.yes and not args.reset:
        return _usage("--yes goes with --reset")
    if args.wav and (args.list or args.reset):
        return _usage("--wav goes with enrolling, not --list or --reset")
    store = EnrollmentStore(args.voice_dir)
    if args.list:
        if args.commands:
            return _usage("--commands does not go with --list")
        return list_enrolled(store)
    means: list[str] | None = None
    if args.commands is not None:
        means = []
        for word in (w.strip() for w in args.commands.split(",")):
            if not word:
                continue
            if word.lower() == "numbers":
                means.extend(NUMBER_WORDS)
                continue
            phrase = resolve_phrase(word)
            if phrase is None:
                return _usage(
                    f"--commands: {word!r} is not a command; for example "
                    + ", ".join(KEY_PHRASES[:6])
                    + ", or a number 0-10"
                )
            means.append(phrase)
        if not means:
            return _usage("--commands: name at least one command")
    if args.reset:
        return reset(store, means, args.yes)
    if args.teach is not None:
        if args.means is None:
            return _usage("--teach needs --as COMMAND: the command your words mean")
        target = resolve_phrase(args.means)
        if target is None:
            return _usage(f"--as: {args.means!r} is not a command; for example pause, stop")
        items = [key_item(m) for m in dict.fromkeys(means or [])]
        items.append(taught_item(args.teach, target))
    else:
        items = [key_item(m) for m in dict.fromkeys(means or KEY_PHRASES)]
    if args.wav:
        if len(items) != 1:
            return _usage("--wav enrolls one phrase: one command (--commands) or --teach")
        if items[0].taught and not args.teach:
            return _usage("--wav with --teach needs the PHRASE")
        return enroll_from_wavs(store, items[0], args.wav)
    return enroll_by_voice(store, items, args)


def _load(store: EnrollmentStore) -> Any:
    try:
        return store.load()
    except EnrollmentError as exc:
        print(f"floorcoach: {exc}", file=sys.stderr)
        return None


def list_enrolled(store: EnrollmentStore) -> int:
    """Print each enrolled phrase, its takes and date, and what is not enrolled yet."""
    enrollment = _load(store)
    if enrollment is None:
        print("floorcoach: 'floorcoach enroll --reset' removes it", file=sys.stderr)
        return EXIT_FAILED
    if not enrollment.phrases:
        print(f"Nothing enrolled yet ({store.path}). Run: floorcoach enroll")
        return EXIT_OK
    print(f"Enrolled in {store.path}:")
    width = max(len(p.phrase) for p in enrollment.phrases)
    for p in sorted(enrollment.phrases, key=lambda p: (p.taught, _order(p.means), p.phrase)):
        when = p.enrolled_at.replace("T", " ")[:16]
        meaning = f"  (your words for {p.means})" if p.taught else ""
        print(f"  {p.phrase.ljust(width)}  {len(p.takes)} takes  {when}{meaning}")
    done = {p.means for p in enrollment.phrases if not p.taught}
    missing = [m for m in KEY_PHRASES if m not in done]
    taught = sum(p.taught for p in enrollment.phrases)
    print(
        f"{len(enrollment.phrases) - taught} commands, {taught} taught phrases, "
        f"{sum(len(p.takes) for p in enrollment.phrases)} takes."
    )
    if missing:
        print("Not enrolled yet: " + ", ".join(missing))
    return EXIT_OK


def _order(means: str) -> int:
    return KEY_PHRASES.index(means) if means in KEY_PHRASES else len(KEY_PHRASES)


def reset(store: EnrollmentStore, means: list[str] | None, yes: bool) -> int:
    """Remove all enrollments, or those of some commands, after asking (or with --yes)."""
    if not store.exists():
        print("Nothing is enrolled.")
        return EXIT_OK
    enrollment = _load(store)
    if means is None:
        what = (
            f"all {len(enrollment.phrases)} enrolled phrases"
            if enrollment is not None
            else "the damaged enrollment file"
        )
    else:
        if enrollment is None:
            print("floorcoach: reset everything instead (without --commands)", file=sys.stderr)
            return EXIT_FAILED
        chosen = {intent_of(m) for m in means}
        found = [p for p in enrollment.phrases if p.intent in chosen]
        if not found:
            print("None of those is enrolled.")
            return EXIT_OK
        what = ", ".join(p.phrase for p in found)
    if not yes and not _confirm(f"Remove {what} from {store.directory}? [y/N] "):
        print("Nothing removed.")
        return EXIT_FAILED
    if means is None:
        store.reset()
        print(f"Removed {what}.")
        return EXIT_OK
    chosen = {intent_of(m) for m in means}
    try:
        gone = store.remove(lambda p: p.intent not in chosen)
    except (OSError, EnrollmentError) as exc:
        print(f"floorcoach: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"Removed {gone} enrolled phrase{'s' if gone != 1 else ''}: {what}.")
    return EXIT_OK


def _confirm(question: str) -> bool:
    print(question, end="", flush=True)
    answer = sys.stdin.readline()
    if not answer:
        print()
    return answer.strip().lower() in ("y", "yes")


def _ready(store: EnrollmentStore) -> bool:
    """A damaged file is set aside (kept for a bug report) so enrolling can go on."""
    try:
        store.load()
    except EnrollmentError as exc:
        try:
            kept = store.set_aside()
        except OSError as move_error:
            print(f"floorcoach: {exc}; cannot move it aside: {move_error}", file=sys.stderr)
            return False
        print(f"floorcoach: {exc}; kept as {kept}, starting afresh", file=sys.stderr)
    return True


def enroll_from_wavs(store: EnrollmentStore, item: Item, paths: list[Path]) -> int:
    """Enroll one phrase from recordings, checked as takes said live are."""
    from floorcoach.audio.listening.few_shot import odd_take
    from floorcoach.audio.pcm import read_wav
    from floorcoach.runtime.enroll import TAKES, default_embed

    if len(paths) < TAKES:
        return _usage(f"--wav: give at least {TAKES} recordings")
    recordings = []
    for path in paths:
        try:
            recordings.append(read_wav(path).samples)
        except FloorcoachError as exc:
            print(f"floorcoach: {exc}", file=sys.stderr)
            return EXIT_USAGE
    takes, problems = segment_takes(recordings)
    for problem in problems:
        print(f"floorcoach: {problem}", file=sys.stderr)
    if len(takes) < TAKES:
        print(f"floorcoach: {item.phrase} not enrolled: too few good takes", file=sys.stderr)
        return EXIT_FAILED
    odd = odd_take([default_embed(t.samples) for t in takes], [t.speech_seconds for t in takes])
    if odd is not None:
        print(f"floorcoach: recording {odd.index + 1} {odd.why}", file=sys.stderr)
        return EXIT_FAILED
    if not _ready(store):
        return EXIT_FAILED
    session = EnrollSession(_PrintedMouth(quiet=True), _NoEars(), store)
    try:
        session.save(item, takes)
    except (OSError, EnrollmentError) as exc:
        print(f"floorcoach: not saved: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"Enrolled {item.phrase!r} ({len(takes)} takes) in {store.path}")
    return EXIT_OK


def enroll_by_voice(store: EnrollmentStore, items: list[Item], args: argparse.Namespace) -> int:
    """The spoken session on the microphone and speaker (prompts printed without a speaker)."""
    from floorcoach.cli.play import apply_config

    apply_config(args)
    if not 80 <= args.rate_wpm <= 260:
        return _usage("--rate-wpm must be between 80 and 260")
    return spoken_enrollment(store, items, args)


def spoken_enrollment(store: EnrollmentStore, items: list[Item], args: argparse.Namespace) -> int:
    """Enroll `items` by voice with the devices and voice settings of `args` (settings file
    already applied): `floorcoach enroll`, and "learn my voice" in standby."""
    if not _ready(store):
        return EXIT_FAILED
    ears = _MicEars(args.input_device)
    try:
        ears.start()
    except FloorcoachError as exc:
        print(
            f"floorcoach: {exc}; enrolling needs a microphone "
            "(or --wav FILE.wav ... to enroll one command from recordings)",
            file=sys.stderr,
        )
        return EXIT_FAILED
    mouth = _PrintedMouth() if args.no_voice else _speaking_mouth(args)
    print(f"Listening on '{ears.device_name}'; enrollments go to {store.path}.", flush=True)
    report = Report()
    try:
        session = EnrollSession(mouth, ears, store, steer=_steering(args))
        report = session.run(items)
    except (OSError, EnrollmentError, EnrollError) as exc:
        print(f"floorcoach: {exc}; what was enrolled before is kept", file=sys.stderr)
        return EXIT_FAILED
    finally:
        ears.close()
        mouth.close()
    left = report.skipped + report.passed_over
    print(
        f"Enrolled: {', '.join(report.enrolled) or 'nothing'}."
        + (f" Not enrolled: {', '.join(left)}." if left else "")
    )
    # phrases the user chose to leave out are not a failure; ones that never took are
    return EXIT_OK if not report.skipped else EXIT_FAILED


def _steering(args: argparse.Namespace) -> Steer | None:
    """'next' and "that's enough" heard in the takes; None (the takes only) without a
    recognizer, said once."""
    from floorcoach.runtime.enroll_steering import spoken_steering

    try:
        return spoken_steering(getattr(args, "engine", None) or "auto")
    except FloorcoachError as exc:
        print(
            f"floorcoach: {exc}; 'next' and 'that's enough' will not be heard while enrolling",
            file=sys.stderr,
        )
        return None


class _PrintedMouth:
    """The prompts printed (no speaker, or --no-voice)."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet

    def say(self, text: str) -> None:
        if not self.quiet:
            print(f"        {text}", flush=True)

    def close(self) -> None:
        """Nothing to release."""


class _SpeakingMouth(_PrintedMouth):
    """The prompts printed and spoken; the take is listened for once the sentence has ended."""

    def __init__(self, synth: Any, speaker: Any) -> None:
        super().__init__()
        self.synth = synth
        self.speaker: Any = speaker

    def say(self, text: str) -> None:
        super().say(text)
        if self.speaker is None:
            return
        try:
            pcm = self.synth.render(text)
            self.speaker.play(pcm, text)
            if not self.speaker.wait_idle(timeout_seconds=pcm.seconds + SPEAK_TIMEOUT_SECONDS):
                raise FloorcoachError(self.speaker.lost or "the speaker did not finish")
        except FloorcoachError as exc:
            print(f"floorcoach: {exc}; the prompts are printed from now on", file=sys.stderr)
            self.speaker.close()
            self.speaker = None

    def close(self) -> None:
        if self.speaker is not None:
            self.speaker.close()
            self.speaker = None


def _speaking_mouth(args: argparse.Namespace) -> _PrintedMouth:
    try:
        from floorcoach.audio.speaking.device_speaker import DeviceSpeaker
        from floorcoach.audio.speaking.speech_cache import CachedSynthesizer, SpeechCache
        from floorcoach.audio.speaking.synth import make_synthesizer

        speaker = DeviceSpeaker(args.output_device)
        synth = CachedSynthesizer(
            make_synthesizer(args.speech_backend, args.voice, args.rate_wpm), SpeechCache()
        )
    except FloorcoachError as exc:
        print(f"floorcoach: {exc}; the prompts are printed instead", file=sys.stderr)
        return _PrintedMouth()
    return _SpeakingMouth(synth, speaker)


class _NoEars:
    def listen(self, seconds: float) -> Any:
        raise EnrollError("no microphone")


class _MicEars:
    """The microphone, cut into voice segments the way the recognizer cuts it."""

    def __init__(self, device: str | int | None) -> None:
        from floorcoach.audio.listening.microphone import MicrophoneListener
        from floorcoach.audio.listening.sphinx_config import SphinxConfig
        from floorcoach.audio.listening.take_catcher import TakeCatcher

        self.catcher = TakeCatcher(SphinxConfig().vad)
        self.listener = MicrophoneListener(self.catcher, device=device)

    @property
    def device_name(self) -> str:
        return self.listener.device_name

    def start(self) -> None:
        self.listener.start()

    def listen(self, seconds: float) -> Any:
        if not self.listener.running:
            raise EnrollError(f"the microphone '{self.device_name}' stopped")
        time.sleep(SETTLE_SECONDS)
        return self.catcher.listen(seconds)

    def close(self) -> None:
        self.listener.stop()
