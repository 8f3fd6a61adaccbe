"""`floorcoach enroll` by voice on the virtual devices: a synthetic user enrolls, then is heard."""

from __future__ import annotations

import logging
import re
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from floorcoach.audio.listening.enrollment_store import EnrollmentStore
from floorcoach.audio.pcm import Pcm, write_wav
from floorcoach.audio.speaking.synth import make_synthesizer
from floorcoach.cli.mictest import listen
from floorcoach_cli import command
from speech_fixtures import ESPEAK, espeak, stream
from virtual_audio import VirtualAudio

PROMPT_RATE_WPM = 260
PROMPT = re.compile(r"^ {8}.*?(?:Say|Again,|Once more,) (.+?)(?: again| once more)?\.$")
"""The printed prompts that ask for a take: 'Say pause.', 'Again, pause.', ..."""
TAKE_VOICES = ((140, 45), (160, 50), (185, 60), (150, 40), (170, 55))
"""The user never says a word twice the same way: speed and pitch per take (espeak-ng)."""


def _takes(text: str, folder: Path, cache: Path, lead_seconds: float = 0.4) -> list[Path]:
    """The user's takes of `text`, each with a quiet lead-in over a faint room noise."""
    out = []
    for speed, pitch in TAKE_VOICES:
        audio, _ = stream([espeak(text, cache, "en-us", speed, pitch)], gap_seconds=lead_seconds)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{text.replace(' ', '_')}-{speed}.wav"
        write_wav(path, Pcm(audio))
        out.append(path)
    return out


@pytest.mark.slow(seconds=30)
@pytest.mark.audio
@pytest.mark.skipif(ESPEAK is None, reason="espeak-ng is not installed")
def test_a_user_enrolls_by_voice_and_their_own_words_are_heard(
    virtual_audio: VirtualAudio, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "espeak"
    takes = {text: _takes(text, tmp_path, cache) for text in ("stop", "hang about")}
    said = {text: 0 for text in takes}
    prompts = make_synthesizer("espeak", "en-us", PROMPT_RATE_WPM)
    process = subprocess.Popen(
        command(
            "enroll",
            "--commands",
            "stop",
            "--teach",
            "hang about",
            "--as",
            "pause",
            "--speech-backend",
            "espeak",
            "--rate-wpm",
            PROMPT_RATE_WPM,
        ),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=virtual_audio.env,
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            asked = PROMPT.match(lines[-1])
            if asked is None or asked.group(1) not in takes:
                continue
            # the prompt is printed, then spoken; the take counts once it has been said and
            # the player listens. A second after its nominal end, as a person would wait: with
            # half a second, a loaded CI run (three sound servers) began a take before the
            # player was listening, and its cut takes "did not sound like the others".
            time.sleep(prompts.render(lines[-1].strip()).seconds + 1.0)
            text = asked.group(1)
            clip = takes[text][said[text] % 3]
            said[text] += 1
            assert virtual_audio.play_into_mic(clip).wait(timeout=10) == 0
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    err = process.stderr.read() if process.stderr else ""
    assert process.returncode == 0, "\n".join(lines) + err
    assert lines[-1] == "Enrolled: stop, hang about.", lines
    # three takes each; on a loaded machine a take can reach the microphone late and be asked
    # for again (CI saw one of six, 2026-11-30), which the user simply repeats
    assert all(3 <= n <= 4 for n in said.values()), (said, lines)
    assert sum(said.values()) <= 7, (said, lines)

    enrolled = EnrollmentStore().load()  # $FLOORCOACH_VOICE_DIR, private to the test
    assert [(p.phrase, p.means, p.taught, len(p.takes)) for p in enrolled.phrases] == [
        ("stop", "stop", False, 3),
        ("hang about", "pause", True, 3),
    ]
    assert all((EnrollmentStore().directory / t.wav).is_file() for t in enrolled.phrases[1].takes)

    # the same user says their own words for pause, a new way (a fifth speed), to the player
    # once it listens (after a second of quiet: the recognizer measures the room first), and
    # with time to spare. A loaded CI run once heard nothing (2026-12-02), with the clip
    # started before the microphone opened and 3.5 s of listening; the cause was not found
    # (the clip, replayed offline at every opening delay from 0 to 0.95 s, is heard), so a
    # failure now says what the recognizer made of each segment.
    new_way = _takes("hang about", tmp_path / "test", cache, lead_seconds=1.0)[4]
    players: list[subprocess.Popen[bytes]] = []
    heard_lines: list[str] = []

    def out(line: str) -> None:
        heard_lines.append(line)
        if line.startswith("Listening for") and not players:
            players.append(virtual_audio.play_into_mic(new_way))

    with caplog.at_level(logging.DEBUG, logger="floorcoach.audio.listening"):
        result = listen(seconds=5.0, engine="pocketsphinx", out=out)
    assert players[0].wait(timeout=10) == 0
    assert "enrolled in your voice" in heard_lines[0]
    why = "\n".join([*heard_lines, "the recognizer:", *caplog.messages])
    assert [(h.intent.value, h.text) for h in result.heard] == [("pause", "hang about")], why
    assert np.isfinite(enrolled.phrases[0].takes[0].pooled).all()
