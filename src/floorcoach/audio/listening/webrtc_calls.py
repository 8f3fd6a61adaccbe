"""The WebRTC echo canceller's two per-frame calls, without livekit's per-call overhead.

livekit's `AudioProcessingModule` builds, serializes and parses a protobuf message and wraps
a new `AudioFrame` on every 10 ms call: 200 calls a second, each doing far more work in
Python than WebRTC does in C++ (the canceller was 35 % of the player's Python time, and
most of that was this wrapping: BENCHMARKS.md, resource budget). The request for a frame is
the same every time when the samples always sit in the same buffer, so it is serialized once
here and handed to livekit's C entry point as it is; only an answer that differs from the
first (good) one is parsed.

This reaches into livekit's FFI client, which is not a public interface: anything missing
or changed there makes `DirectApmCalls.attach` return None, and the caller keeps the public
path. Tests check both paths give identical output.
"""

from __future__ import annotations

import ctypes
import logging
from typing import Any

import numpy as np
import numpy.typing as npt

_LOGGER = logging.getLogger(__name__)


class _Call:
    """One prepared request: serialized once, sent as it is."""

    def __init__(self, client: Any, request: Any, field: str, response_type: Any) -> None:
        data = request.SerializeToString()
        self._buffer = ctypes.create_string_buffer(data, len(data))
        self._pointer = ctypes.cast(self._buffer, ctypes.POINTER(ctypes.c_ubyte))
        self._length = len(data)
        self._lib = client._ffi_lib
        self._field = field
        self._response_type = response_type
        self._response = ctypes.POINTER(ctypes.c_ubyte)()
        self._response_length = ctypes.c_size_t()
        self._good_answer: bytes | None = None

    def __call__(self) -> None:
        handle = self._lib.livekit_ffi_request(
            self._pointer,
            self._length,
            ctypes.byref(self._response),
            ctypes.byref(self._response_length),
        )
        answer = ctypes.string_at(self._response, self._response_length.value)
        self._lib.livekit_ffi_drop_handle(handle)
        if answer != self._good_answer:
            self._check(answer)

    def _check(self, answer: bytes) -> None:
        response = self._response_type()
        response.ParseFromString(answer)
        kind = response.WhichOneof("message")
        if kind != self._field:
            raise RuntimeError(f"livekit answered {kind!r} to {self._field}")
        error = getattr(response, self._field).error
        if error:
            raise RuntimeError(error)
        if self._good_answer is None:
            self._good_answer = answer


class DirectApmCalls:
    """`process_reverse_stream` and `process_stream` on fixed buffers of one frame each.

    Put the reference frame in `far` and call `reverse()`, put the microphone frame in `near`
    and call `capture()`: `near` then holds the cleaned frame.
    """

    def __init__(self, apm: Any, frame_samples: int, rate_hz: int) -> None:
        from livekit.rtc._ffi_client import FfiClient
        from livekit.rtc._proto import ffi_pb2

        client = FfiClient.instance
        self._apm = apm  # the requests name its handle: it must live as long as they do
        handle = apm._ffi_handle.handle
        self.far: npt.NDArray[np.int16] = np.zeros(frame_samples, dtype=np.int16)
        self.near: npt.NDArray[np.int16] = np.zeros(frame_samples, dtype=np.int16)
        calls = []
        for field, buffer in (
            ("apm_process_reverse_stream", self.far),
            ("apm_process_stream", self.near),
        ):
            request = ffi_pb2.FfiRequest()
            message = getattr(request, field)
            message.apm_handle = handle
            message.data_ptr = buffer.ctypes.data
            message.size = buffer.nbytes
            message.sample_rate = rate_hz
            message.num_channels = 1
            calls.append(_Call(client, request, field, ffi_pb2.FfiResponse))
        self.reverse, self.capture = calls

    @classmethod
    def attach(cls, apm: Any, frame_samples: int, rate_hz: int) -> DirectApmCalls | None:
        """The direct calls for `apm`, or None when this livekit's internals differ."""
        try:
            return cls(apm, frame_samples, rate_hz)
        except (ImportError, AttributeError, ValueError, TypeError) as exc:
            _LOGGER.info("livekit internals differ (%s): using its public calls", exc)
            return None
