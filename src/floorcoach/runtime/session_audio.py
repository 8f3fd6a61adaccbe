"""A whole session rendered to a WAV file, on the audio clock, faster than real time."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from floorcoach.audio.pcm import Pcm
from floorcoach.audio.speaking.cues import render_cue
from floorcoach.audio.speaking.file_speaker import FileSpeaker
from floorcoach.audio.speaking.speech_cache import CachedSynthesizer
from floorcoach.commands import parse
from floorcoach.content.catalog import LoadedRoutine
from floorcoach.errors import FloorcoachError
from floorcoach.runtime.event_loop import parse_timed_line
from floorcoach.session.events import PlayCue
from floorcoach.session.simulate import DryRun, ScriptedLine, Simulation


def render_session(
    loaded: LoadedRoutine,
    synth: CachedSynthesizer,
    out_path: Path,
    script: Iterable[ScriptedLine] = (),
    *,
    rate_wpm: int = 150,
) -> DryRun:
    """Play the routine on a virtual clock timed by the real rendered speech; write the WAV.

    Each utterance lasts exactly as long as its audio, cut where the engine cut it, and
    every cue sits at the moment the engine played it.
    """
    sim = Simulation(
        loaded,
        rate_wpm=rate_wpm,
        announce_duration=True,
        duration=lambda text, _rate: synth.render(text).seconds,
    )
    sim.start()
    for line in sorted(script, key=lambda item: item.t):
        sim.advance(max(0.0, line.t - sim.now))
        intent = line.intent or parse(line.text)
        if intent is not None and not sim.engine.finished:
            sim.hear(line.text, intent)
    run = sim.finish()
    speaker = FileSpeaker(rate_hz=synth.render("ready").rate_hz)
    for start, end, say in sim.speaker.spoken:
        pcm = synth.render(say.text)
        keep = max(0, round((end - start) * pcm.rate_hz))
        speaker.play_at(Pcm(pcm.samples[:keep], pcm.rate_hz), start, say.text)
    for t, effect in run.effects:
        if isinstance(effect, PlayCue):
            speaker.play_at(render_cue(effect.cue.value), t, f"cue:{effect.cue.value}")
    speaker.write(out_path)
    return run


def read_script(path: Path) -> list[ScriptedLine]:
    """Lines '@SECONDS words' (what the user says, when); blank lines and # comments skipped."""
    lines: list[ScriptedLine] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        timed = parse_timed_line(text if text.startswith("@") else f"@{text}")
        if timed is None:
            raise FloorcoachError(
                f"{path}:{number}: expected '@SECONDS words', e.g. '@12.5 pause' (got {text!r})"
            )
        lines.append(ScriptedLine(timed[0], timed[1].strip()))
    return lines
