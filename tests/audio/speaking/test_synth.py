"""Real espeak-ng, through pyttsx3 and directly, renders audible speech of plausible length."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from floorcoach.audio.pcm import RATE_HZ, Pcm, write_wav
from floorcoach.audio.speaking.synth import (
    EspeakSynthesizer,
    Pyttsx3Synthesizer,
    Synthesizer,
    VoiceSettings,
    make_synthesizer,
    trim_silence,
    wait_for_wav,
)
from floorcoach.errors import FloorcoachError

BACKENDS = ("pyttsx3", "espeak")
PHRASES = (
    "one",
    "hold",
    "Switch sides",
    "Rest for ten seconds",
    "Slowly lift your right knee toward your chest",
    "Relax your back and breathe slowly, five, four, three, two, one",
)


def _rms(pcm: Pcm) -> float:
    x = pcm.to_float()
    return float(np.sqrt(np.mean(x**2))) if len(x) else 0.0


def _plausible_seconds(text: str, rate_wpm: int) -> tuple[float, float]:
    """A generous window around words / rate: short words run long, commas add pauses."""
    words = len(text.split())
    nominal = words * 60.0 / rate_wpm
    return 0.5 * nominal, 1.8 * nominal + 0.5


@pytest.fixture(scope="module", params=BACKENDS)
def synth(request: pytest.FixtureRequest) -> Synthesizer:
    return make_synthesizer(request.param)


@pytest.mark.parametrize("text", PHRASES)
def test_renders_audible_speech_of_plausible_length(synth: Synthesizer, text: str) -> None:
    pcm = synth.render(text)
    low, high = _plausible_seconds(text, synth.settings.rate_wpm)
    assert pcm.rate_hz == RATE_HZ
    assert low <= pcm.seconds <= high, f"{synth.key} {text!r}: {pcm.seconds:.2f} s"
    assert _rms(pcm) > 0.03
    assert np.max(np.abs(pcm.samples)) > 0.2 * 32768
    # Trimmed: starts and ends near silence, without a long end-of-sentence pause.
    assert abs(int(pcm.samples[0])) < 300
    assert abs(int(pcm.samples[-1])) < 300
    tail = pcm.samples[-round(0.2 * RATE_HZ) :].astype(np.float64) / 32768
    assert np.sqrt(np.mean(tail**2)) > 0.001, "more than 0.2 s of silence left at the end"


@pytest.mark.parametrize("backend", BACKENDS)
def test_rate_and_volume_change_the_audio(backend: str) -> None:
    text = "Slowly lift your right knee toward your chest"
    # Interleave settings: pyttsx3 shares one engine, so each render must apply its own.
    slow = make_synthesizer(backend, rate_wpm=120)
    fast = make_synthesizer(backend, rate_wpm=300)
    quiet = make_synthesizer(backend, volume=0.3)
    slow_pcm, fast_pcm, quiet_pcm = slow.render(text), fast.render(text), quiet.render(text)
    slow_again = slow.render(text)
    assert fast_pcm.seconds < 0.6 * slow_pcm.seconds
    assert slow_again.seconds == pytest.approx(slow_pcm.seconds, abs=0.05)
    loud_rms = _rms(make_synthesizer(backend).render(text))
    assert _rms(quiet_pcm) < 0.5 * loud_rms


def test_both_backends_agree_on_length() -> None:
    text = "Rest for ten seconds"
    a = make_synthesizer("pyttsx3").render(text)
    b = make_synthesizer("espeak").render(text)
    assert a.seconds == pytest.approx(b.seconds, rel=0.15)


@pytest.mark.parametrize("backend", BACKENDS)
def test_voices_by_language_and_identifier(backend: str) -> None:
    us = make_synthesizer(backend, voice="en-us").render("tomato")
    gb = make_synthesizer(backend, voice="en-gb").render("tomato")
    assert _rms(us) > 0.03
    assert _rms(gb) > 0.03
    assert not np.array_equal(us.samples, gb.samples)


@pytest.mark.parametrize("backend", BACKENDS)
def test_unknown_voice_is_a_clear_error(backend: str) -> None:
    with pytest.raises(
        FloorcoachError, match="no espeak-ng voice 'nosuchvoice'.*espeak-ng --voices"
    ):
        make_synthesizer(backend, voice="nosuchvoice")


def test_keys_name_backend_voice_rate_and_volume() -> None:
    keys = {
        make_synthesizer("pyttsx3").key,
        make_synthesizer("espeak").key,
        make_synthesizer("espeak", voice="en-gb").key,
        make_synthesizer("espeak", rate_wpm=151).key,
        make_synthesizer("espeak", volume=0.5).key,
    }
    assert len(keys) == 5
    assert make_synthesizer("espeak").key == make_synthesizer("espeak").key


@pytest.mark.parametrize("backend", BACKENDS)
def test_blank_text_is_empty_audio(backend: str) -> None:
    assert make_synthesizer(backend).render("  \n ").seconds == 0.0


def test_text_starting_with_a_dash_is_spoken_not_parsed_as_an_option() -> None:
    pcm = make_synthesizer("espeak").render("-v minus five")
    assert pcm.seconds > 0.5


def test_pyttsx3_prints_nothing_to_stdout(capfd: pytest.CaptureFixture[str]) -> None:
    Pyttsx3Synthesizer().render("hold")
    out, _err = capfd.readouterr()
    assert out == ""


def test_pyttsx3_renders_from_several_threads() -> None:
    synth = Pyttsx3Synthesizer()
    results: dict[str, float] = {}

    def work(text: str) -> None:
        results[text] = synth.render(text).seconds

    threads = [threading.Thread(target=work, args=(t,)) for t in PHRASES[:4]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(results) == set(PHRASES[:4])
    assert all(seconds > 0.2 for seconds in results.values())


def test_missing_espeak_names_the_install_command() -> None:
    with pytest.raises(FloorcoachError, match="sudo apt install espeak-ng"):
        EspeakSynthesizer(executable="no-such-espeak-ng")


def test_unknown_backend_and_bad_settings() -> None:
    with pytest.raises(FloorcoachError, match="unknown speech backend 'festival'"):
        make_synthesizer("festival")
    with pytest.raises(FloorcoachError, match="outside 80..450"):
        VoiceSettings(rate_wpm=20)
    with pytest.raises(FloorcoachError, match="volume"):
        VoiceSettings(volume=2.0)


def test_wait_for_wav_waits_for_a_late_writer(tmp_path: Path) -> None:
    """pyttsx3's save_to_file can return before the file exists; we wait for the writer."""
    path = tmp_path / "late.wav"
    pcm = Pcm(np.full(1600, 1000, dtype=np.int16))
    writer = threading.Timer(0.15, write_wav, args=(path, pcm))
    writer.start()
    wait_for_wav(path, timeout_seconds=5.0)
    writer.join()
    assert path.stat().st_size == 44 + 2 * 1600


def test_wait_for_wav_waits_for_the_data_to_be_complete(tmp_path: Path) -> None:
    path = tmp_path / "partial.wav"
    full = tmp_path / "full.wav"
    write_wav(full, Pcm(np.full(16000, 1000, dtype=np.int16)))
    data = full.read_bytes()
    path.write_bytes(data[:1000])  # header promises 32000 bytes of data

    def finish() -> None:
        time.sleep(0.05)
        path.write_bytes(data)

    threading.Thread(target=finish).start()
    wait_for_wav(path, timeout_seconds=5.0)
    assert path.read_bytes() == data


def test_wait_for_wav_times_out_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(FloorcoachError, match="--backend espeak"):
        wait_for_wav(tmp_path / "never.wav", timeout_seconds=0.05)


def test_trim_silence_keeps_short_margins_without_clicks() -> None:
    tone = (8000 * np.sin(2 * np.pi * 300 * np.arange(8000) / RATE_HZ)).astype(np.int16)
    pcm = Pcm(np.concatenate([np.zeros(8000, np.int16), tone, np.zeros(16000, np.int16)]))
    trimmed = trim_silence(pcm)
    assert 0.5 < trimmed.seconds < 0.5 + 0.08
    assert trimmed.samples[0] == 0
    assert trimmed.samples[-1] == 0
    assert trim_silence(Pcm.silence(1.0)).seconds == 0.0


def test_a_silent_pyttsx3_render_is_tried_again_never_returned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import numpy as np

    from floorcoach.audio.pcm import Pcm
    from floorcoach.audio.speaking.synth import Pyttsx3Synthesizer
    from floorcoach.errors import FloorcoachError

    synth = make_synthesizer("pyttsx3")
    assert isinstance(synth, Pyttsx3Synthesizer)
    silent = Pcm(np.zeros(16000, dtype=np.int16))
    spoken = synth.render("Relax your shoulders")
    results = [silent, spoken]
    monkeypatch.setattr(synth, "_render_once", lambda _words: results.pop(0))
    assert synth.render("Relax your shoulders") is spoken
    monkeypatch.setattr(synth, "_render_once", lambda _words: silent)
    with pytest.raises(FloorcoachError, match="keeps rendering silence"):
        synth.render("Relax your shoulders")
