"""scripts/train_bandwidth: fits the map from wideband recordings and skips telephone-band ones."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt

from floorcoach.audio.listening.bandwidth import BandwidthExtender, low_pass, power_frames
from floorcoach.audio.pcm import Pcm, write_wav
from speech_fixtures import espeak, to_int16

REPO = Path(__file__).resolve().parents[2]
SENTENCES = (
    "Slide your heel up the floor, then let it go back down.",
    "Press the small of your back into the mat and breathe out.",
    "Six slow stretches for each side, resting in between.",
    "Keep your shoulders soft and your chin tucked in.",
)


def _write(path: Path, samples: npt.NDArray[np.int16]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_wav(path, Pcm(samples))


def test_the_map_is_fitted_on_wideband_clips_only(tmp_path: Path) -> None:
    voices = ("en-us", "en-gb", "en-us+f3", "en-gb+m3")
    manifest = []
    for i, (text, voice) in enumerate(zip(SENTENCES, voices, strict=True)):
        _write(tmp_path / "speech" / f"clips/{i}.wav", espeak(text, tmp_path / "tts", voice))
        manifest.append({"file": f"clips/{i}.wav"})
    cut = espeak("A telephone line cuts this one.", tmp_path / "tts")
    _write(tmp_path / "speech" / "clips/cut.wav", to_int16(low_pass(cut / 32768.0) * 32768.0))
    manifest.append({"file": "clips/cut.wav"})
    (tmp_path / "speech" / "manifest.json").write_text(json.dumps(manifest))

    out = tmp_path / "model"
    subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "train_bandwidth"),
            "--speech",
            str(tmp_path / "speech"),
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    summary = json.loads((out / "extension.json").read_text())
    assert (summary["clips"], summary["clips_skipped"]) == (4, 1)
    assert summary["rms_error_db"] < summary["target_spread_db"]

    # the fitted map predicts another voice's high band from its telephone band
    held_out = espeak("Hold it for five seconds, then relax.", tmp_path / "tts", "en-us+m7")
    extended = BandwidthExtender.load(out).extend(to_int16(low_pass(held_out / 32768.0) * 32768.0))
    freqs = np.fft.rfftfreq(512, 1 / 16_000)
    high = (freqs > 4500) & (freqs < 7500)

    def high_db(samples: npt.NDArray[np.int16]) -> npt.NDArray[np.float64]:
        power = power_frames(samples.astype(np.float64) / 32768.0)
        return np.asarray(10 * np.log10(power[:, high].sum(axis=1) + 1e-12))

    real, predicted = high_db(held_out), high_db(extended)
    speech = real > real.max() - 40
    assert np.corrcoef(real[speech], predicted[speech])[0, 1] > 0.4
