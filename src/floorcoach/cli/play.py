"""`floorcoach play`: run a session live (voice and typed commands), or render it to a file."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from floorcoach.audio.listening.echo_canceller import DEFAULT_ECHO_CANCEL, ECHO_CANCELLERS
from floorcoach.cli.config import add_config_option
from floorcoach.cli.stop_signals import STOP_SIGNALS, StopSignals
from floorcoach.content.catalog import Catalog, LoadedRoutine
from floorcoach.errors import FloorcoachError, with_fallback
from floorcoach.runtime.config_effective import fill_args
from floorcoach.runtime.config_load import load_config
from floorcoach.runtime.config_save import speech_change_saver
from floorcoach.runtime.event_loop import EventLog, Runtime, ScaledClock, read_lines_into
from floorcoach.runtime.text_output import PrintedSpeech
from floorcoach.runtime.views import make_view
from floorcoach.session.engine import Engine
from floorcoach.session.events import Notice
from floorcoach.session.simulate import dry_run, estimate_total_seconds
from floorcoach.store.session_link import HistoryLink


def register(subparsers: Any) -> None:
    """Add the play and resume subcommands."""
    play = subparsers.add_parser(
        "play",
        help="play a routine",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description=(
            "Play a routine aloud. Commands can be typed one per line ('pause', 'that hurts', "
            "'four', ...); '@SECONDS words' types them at a session time. With no speaker, "
            "speech is printed instead."
        ),
    )
    play.add_argument("routine", nargs="?", help="routine name or path (default: first-week)")
    _add_session_options(play)
    play.set_defaults(func=_play, resume=False)
    resume = subparsers.add_parser(
        "resume",
        help="carry on with the session that was cut off (power loss, crash)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    _add_session_options(resume)
    resume.set_defaults(func=_play, resume=True, routine=None)


def _add_session_options(play: argparse.ArgumentParser) -> None:
    play.add_argument("--routines-dir", type=Path, help="routines folder")
    play.add_argument(
        "--text", action="store_true", help="text mode: print speech, read typed commands"
    )
    play.add_argument("--no-voice", action="store_true", help="never speak, only print")
    play.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="run this many times faster than real time (text mode, demos and tests)",
    )
    play.add_argument("--log", type=Path, help="append one JSON object per event to this file")
    play.add_argument(
        "--rate-wpm", type=int, default=None, help="speech rate, words per minute (config: 150)"
    )
    play.add_argument(
        "--volume", type=float, default=None, help="speech volume 0.2-1.0 (config: 1.0)"
    )
    play.add_argument(
        "--voice",
        default=None,
        help="espeak-ng voice (en-us, en-gb, ...) or piper:NAME (floorcoach voices; config: en-us)",
    )
    play.add_argument(
        "--speech-backend",
        default=None,
        choices=("pyttsx3", "espeak"),
        help="synthesizer (config: pyttsx3)",
    )
    play.add_argument("--output-device", help="speaker: device index or name substring")
    play.add_argument(
        "--speak-to",
        type=Path,
        metavar="FILE.wav",
        help="write the session's audio to this file instead of playing it (faster than real time)",
    )
    play.add_argument(
        "--script",
        type=Path,
        help="with --speak-to: what the user says, as lines '@SECONDS words'",
    )
    play.add_argument(
        "--mic-wav",
        type=Path,
        metavar="USER.wav",
        help="simulate hands-free: this recording is the microphone (the player's own voice "
        "is mixed in as a room would); runs faster than real time on the audio clock",
    )
    play.add_argument(
        "--engine",
        default=None,
        choices=("auto", "pocketsphinx", "vosk"),
        help="speech recognizer (config: auto = Vosk when an English model is installed)",
    )
    play.add_argument("--input-device", help="microphone: device index or name substring")
    play.add_argument(
        "--echo-cancel",
        default=None,
        choices=ECHO_CANCELLERS,
        help="take the player's own voice out of the microphone: webrtc (WebRTC's AEC3), "
        f"nlms (the built-in adaptive filter) or none (config: {DEFAULT_ECHO_CANCEL})",
    )
    play.add_argument(
        "--no-mic", action="store_true", help="do not listen; take typed commands only"
    )
    play.add_argument(
        "--record-dir", type=Path, help="save what the microphone heard here (WAV + JSONL)"
    )
    play.add_argument(
        "--history",
        type=Path,
        help="history file (default: $FLOORCOACH_HISTORY or ~/.local/share/floorcoach/)",
    )
    play.add_argument("--no-history", action="store_true", help="do not read or write history")
    display = play.add_mutually_exclusive_group()
    display.add_argument(
        "--big",
        dest="display",
        action="store_const",
        const="big",
        default=None,
        help="large-type, high-contrast view of the exercise, countdown and last command",
    )
    display.add_argument(
        "--plain",
        dest="display",
        action="store_const",
        const="plain",
        help="screen-reader friendly: one line per event, no redrawing",
    )
    add_config_option(play)


def apply_config(args: argparse.Namespace) -> Any:
    """Options not given on the command line come from the settings file (or defaults).

    Returns the validated settings (the reminders table, for standby).
    """
    config = load_config(args.config).config
    fill_args(args, config)
    return config


def _play(args: argparse.Namespace) -> int:
    apply_config(args)
    if not 0 < args.time_scale <= 1000:
        print("floorcoach: --time-scale must be above 0 and at most 1000", file=sys.stderr)
        return 2
    if not 80 <= args.rate_wpm <= 260:
        print("floorcoach: --rate-wpm must be between 80 and 260", file=sys.stderr)
        return 2
    catalog = Catalog.load(args.routines_dir)
    simulated = args.mic_wav or args.speak_to
    link = None if args.no_history or simulated else HistoryLink.open(args.history, note=_note)
    resume_point = None
    if args.resume:
        if link is None or link.store is None:
            print("floorcoach: resume needs the history file", file=sys.stderr)
            return 1
        resume_point = link.store.resumable_session()
        if resume_point is None:
            print("floorcoach: there is no cut-off session to resume", file=sys.stderr)
            return 1
        args.routine = resume_point.routine_id
    loaded = catalog.find(args.routine)
    if args.mic_wav:
        return _simulate_hands_free(args, loaded)
    if args.speak_to:
        return _speak_to(args, loaded)
    if args.script:
        print("floorcoach: --script goes with --speak-to", file=sys.stderr)
        return 2
    try:
        return run_session(
            args, catalog, loaded, link, resume_point, lambda rt: read_lines_into(rt, sys.stdin)
        )
    finally:
        if link is not None:
            link.close()


def run_session(
    args: argparse.Namespace,
    catalog: Catalog,
    loaded: LoadedRoutine,
    link: HistoryLink | None,
    resume_point: Any,
    attach_input: Callable[[Runtime], Any],
    observe: Callable[[dict[str, Any]], None] | None = None,
    stop: StopSignals | None = None,
) -> int:
    """One live session, start to end: engine, clock, voice, microphone, typed input;
    `observe` sees every record the session logs (standby counts the questions asked again);
    `stop` is told of a stop signal that ends the session (standby ends with it)."""
    clock = ScaledClock(args.time_scale)
    options: dict[str, Any] = {}
    if link is not None:
        plan = link.plan(catalog, loaded, resume=resume_point)
        loaded, options = plan.loaded, plan.options
        if resume_point is not None:
            link.resume_now(resume_point)
    engine = Engine(
        loaded,
        rate_wpm=args.rate_wpm,
        volume=args.volume,
        estimate_seconds=estimate_total_seconds,
        **options,
    )
    view = make_view(
        args.display,
        names={item.exercise.id: item.exercise.name for item in loaded.items},
        total=len(loaded.items),
        note=_note,
    )
    quiet = open(os.devnull, "w") if view is not None else None  # the view shows speech
    printed = PrintedSpeech(quiet, rate_wpm=args.rate_wpm)
    event_log = EventLog(args.log) if args.log else None
    save_speech = speech_change_saver(args.config, note=_note)

    def on_record(record: dict[str, Any]) -> None:
        save_speech(record)
        if link is not None:
            link.record(record)
        if observe is not None:
            observe(record)

    runtime = Runtime(
        engine,
        printed,
        clock,
        event_log=event_log,
        echo=None if view is not None else lambda text: print(f"        {text}", flush=True),
        on_record=on_record,
        answer=_question_answer,
        view=view,
    )

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        # Queued as well as raised: Ctrl-C in an import that swallows its KeyboardInterrupt
        # (cli/stop_signals.py) still ends the session, at its first turn.
        runtime.shutdown(signal.Signals(signum).name)
        if stop is not None:
            stop.note(signum)
        if signum == signal.SIGINT:
            raise KeyboardInterrupt

    previous = {s: signal.signal(s, on_signal) for s in STOP_SIGNALS}
    listener = None
    try:
        voice = None
        if not args.no_voice:
            voice = _attach_voice(args, loaded, runtime, printed, clock)
        if not args.text and not args.no_mic:
            listener = _attach_microphone(args, runtime, clock, voice)
        attach_input(runtime)
        runtime.run()
    except KeyboardInterrupt:
        runtime.shutdown("SIGINT")
        runtime.output.stop(clock.now())
        print("\nSession stopped.", flush=True)
        return 130
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if listener is not None:
            listener.close()
    if runtime.interrupted:
        print(f"Session stopped ({runtime.interrupted}).", flush=True)
        return 130
    return 0


def _attach_voice(
    args: argparse.Namespace,
    loaded: LoadedRoutine,
    runtime: Runtime,
    printed: PrintedSpeech,
    clock: ScaledClock,
) -> Any:
    """Speak as well as print when a synthesizer and a speaker work; say why not otherwise.

    Returns the voice (the listener needs to know what it is playing), or None.
    """
    if args.time_scale != 1.0:
        _note("speech is printed only: a voice cannot run faster than real time")
        return None
    try:
        from floorcoach.audio.speaking.device_speaker import DeviceSpeaker
        from floorcoach.audio.speaking.piper_voice import is_piper_voice
        from floorcoach.audio.speaking.speech_cache import CachedSynthesizer, SpeechCache
        from floorcoach.audio.speaking.voice_choice import VoiceFactory
        from floorcoach.runtime.voice_output import TeeOutput, VoiceOutput

        # rendered at full volume: the voice output scales it, so "louder" is instant; a
        # Piper voice that fails falls back to espeak-ng (said once)
        make = VoiceFactory(
            args.speech_backend, args.voice, note=voice_failure_note(runtime.post, clock.now)
        )
        synth = CachedSynthesizer(make(args.rate_wpm), SpeechCache())
        speaker = DeviceSpeaker(args.output_device)
    except FloorcoachError as exc:
        _note(with_fallback(exc, "speech will be printed instead"))
        return None
    voice = VoiceOutput(
        synth,
        speaker,
        runtime.post,
        clock.now,
        make_synth=make,
        on_lost=lambda reason: _note(reason),
    )
    voice.change(args.rate_wpm, args.volume)
    try:
        said = dry_run(loaded).said()
        if is_piper_voice(args.voice):
            voice.warm(said)  # a slow voice: the whole routine before the first word
        else:
            voice.prerender(said)
    except FloorcoachError as exc:
        speaker.close(drain=False)
        _note(with_fallback(exc, "speech will be printed instead"))
        return None
    runtime.output = TeeOutput(printed, voice)
    return voice


def _attach_microphone(
    args: argparse.Namespace, runtime: Runtime, clock: ScaledClock, voice: Any
) -> Any:
    """Listen for spoken commands; with no microphone, say so and keep trying."""
    from floorcoach.runtime.live_listener import LiveListener

    listener = LiveListener(
        runtime,
        clock,
        engine=args.engine,
        device=args.input_device,
        record_dir=args.record_dir,
        speaker=voice.speaker if voice is not None else None,
        voice=voice,
        note=_note,
        echo_cancel=args.echo_cancel,
    )
    listener.start()
    return listener


def _question_answer(text: str) -> str | None:
    """The spoken answer when `text` is one of the common questions, else None."""
    from floorcoach.content.questions import match_question

    question = match_question(text)
    return question.spoken if question is not None else None


def _note(text: str) -> None:
    print(f"floorcoach: {text}", file=sys.stderr, flush=True)


def voice_failure_note(
    post: Callable[[Notice], None], now: Callable[[], float]
) -> Callable[[str], None]:
    """What to do when the asked-for voice fails (VoiceFactory calls it once): print why, and
    have the engine say so (a Notice is spoken, in the fallback voice, and logged)."""
    from floorcoach.audio.speaking.voice_choice import FALLBACK_SPOKEN

    def note(text: str) -> None:
        _note(text)
        post(Notice(FALLBACK_SPOKEN, now()))

    return note


def _speak_to(args: argparse.Namespace, loaded: LoadedRoutine) -> int:
    from floorcoach.audio.speaking.speech_cache import CachedSynthesizer, SpeechCache
    from floorcoach.audio.speaking.synth import make_synthesizer
    from floorcoach.runtime.session_audio import read_script, render_session

    script = read_script(args.script) if args.script else []
    synth = CachedSynthesizer(
        make_synthesizer(args.speech_backend, args.voice, args.rate_wpm), SpeechCache()
    )
    run = render_session(loaded, synth, args.speak_to, script, rate_wpm=args.rate_wpm)
    if args.log:
        log = EventLog(args.log)
        for record in run.records:
            log.write(record)
        log.close()
    minutes, seconds = divmod(round(run.total_seconds), 60)
    print(f"wrote {args.speak_to}: {minutes} min {seconds:02d} s of session audio")
    return 0


def _simulate_hands_free(args: argparse.Namespace, loaded: LoadedRoutine) -> int:
    from floorcoach.audio.listening.recognizer_factory import make_recognizer
    from floorcoach.audio.pcm import read_wav, write_wav
    from floorcoach.audio.speaking.speech_cache import CachedSynthesizer, SpeechCache
    from floorcoach.audio.speaking.synth import make_synthesizer
    from floorcoach.runtime.audio_sim import run_on_audio_clock

    user = read_wav(args.mic_wav)
    synth = CachedSynthesizer(
        make_synthesizer(args.speech_backend, args.voice, args.rate_wpm), SpeechCache()
    )
    recognizer = make_recognizer(args.engine)
    result = run_on_audio_clock(
        loaded, synth, user, recognizer, rate_wpm=args.rate_wpm, echo_cancel=args.echo_cancel
    )
    if args.speak_to:
        write_wav(args.speak_to, result.player_audio)
    if args.log:
        log = EventLog(args.log)
        for record in result.records:
            log.write(record)
        log.close()
    for record in result.records:
        if record["kind"] == "heard":
            print(f"{record['t']:8.2f}  heard {record['command']!r} ({record['text']!r})")
    minutes, seconds = divmod(round(result.total_seconds), 60)
    print(
        f"simulated {minutes} min {seconds:02d} s hands-free: {result.heard} commands taken, "
        f"{result.ignored} ignored as the player's own voice"
    )
    return 0
