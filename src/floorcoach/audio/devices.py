"""Find sound devices by index or name, and turn PortAudio's failures into one clear line."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Final, Literal

from floorcoach.errors import AudioDeviceError

_LOGGER = logging.getLogger(__name__)

DeviceKind = Literal["input", "output"]

NO_OUTPUT_MESSAGE: Final = (
    "no sound output device found; start a sound server or plug in a speaker "
    "— speech will be printed instead"
)
NO_INPUT_MESSAGE: Final = (
    "no sound input device found; start a sound server or plug in a microphone "
    "— type commands instead"
)
INSTALL_PORTAUDIO_MESSAGE: Final = (
    "the PortAudio library is missing; install libportaudio2: sudo apt install libportaudio2"
)


@dataclass(frozen=True)
class DeviceInfo:
    """One PortAudio device as the user sees it in `floorcoach devices`."""

    index: int
    name: str
    hostapi: str
    input_channels: int
    output_channels: int
    default_rate_hz: int
    is_default_input: bool
    is_default_output: bool

    def channels(self, kind: DeviceKind) -> int:
        """Channel count for input or output."""
        return self.input_channels if kind == "input" else self.output_channels

    def describe(self, kind: DeviceKind) -> str:
        """One line: index, name, channels, rate, and a default mark."""
        default = self.is_default_input if kind == "input" else self.is_default_output
        mark = " (default)" if default else ""
        return (
            f"{self.index:>3}  {self.name} [{self.hostapi}], {self.channels(kind)} ch, "
            f"{self.default_rate_hz} Hz{mark}"
        )


def import_sounddevice() -> ModuleType:
    """Import sounddevice late: PortAudio lists devices once, when it is first loaded."""
    try:
        import sounddevice
    except OSError as exc:
        # sounddevice raises OSError("PortAudio library not found") without libportaudio2.
        raise AudioDeviceError(INSTALL_PORTAUDIO_MESSAGE) from exc
    return sounddevice


def _default_indices(sd: Any) -> tuple[int, int]:
    try:
        default_in, default_out = sd.default.device
    except (TypeError, ValueError):
        return -1, -1
    return _as_index(default_in), _as_index(default_out)


def _as_index(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def list_devices() -> list[DeviceInfo]:
    """All devices PortAudio knows; empty when it knows none (no sound server, no card)."""
    sd = import_sounddevice()
    try:
        raw = sd.query_devices()
        hostapis = sd.query_hostapis()
    except sd.PortAudioError as exc:
        _LOGGER.debug("PortAudio cannot list devices: %s", exc)
        return []
    default_in, default_out = _default_indices(sd)
    devices = []
    for index, dev in enumerate(raw):
        try:
            hostapi = str(hostapis[dev["hostapi"]]["name"])
        except (IndexError, KeyError, TypeError):
            hostapi = "?"
        devices.append(
            DeviceInfo(
                index=index,
                name=str(dev["name"]),
                hostapi=hostapi,
                input_channels=int(dev["max_input_channels"]),
                output_channels=int(dev["max_output_channels"]),
                default_rate_hz=round(float(dev["default_samplerate"])),
                is_default_input=index == default_in,
                is_default_output=index == default_out,
            )
        )
    return devices


def find_device(spec: str | int | None, kind: DeviceKind = "output") -> DeviceInfo:
    """The device named by index or case-insensitive name substring (None: the default)."""
    candidates = [d for d in list_devices() if d.channels(kind) > 0]
    if not candidates:
        raise AudioDeviceError(NO_OUTPUT_MESSAGE if kind == "output" else NO_INPUT_MESSAGE)
    if spec is None or (isinstance(spec, str) and not spec.strip()):
        for dev in candidates:
            if dev.is_default_input if kind == "input" else dev.is_default_output:
                return dev
        return candidates[0]
    if isinstance(spec, int) or spec.strip().isdigit():
        index = int(spec)
        for dev in candidates:
            if dev.index == index:
                return dev
        raise AudioDeviceError(
            f"no {kind} device has index {index} (available: {_available(candidates)})"
        )
    wanted = spec.strip().casefold()
    exact = [d for d in candidates if d.name.casefold() == wanted]
    matches = exact or [d for d in candidates if wanted in d.name.casefold()]
    if not matches:
        raise AudioDeviceError(
            f"no {kind} device matches '{spec}' (available: {_available(candidates)})"
        )
    if len(matches) > 1:
        _LOGGER.info(
            "%d %s devices match '%s'; using %d %s",
            len(matches),
            kind,
            spec,
            matches[0].index,
            matches[0].name,
        )
    return matches[0]


def _available(devices: list[DeviceInfo]) -> str:
    return ", ".join(f"{d.index} {d.name}" for d in devices)
