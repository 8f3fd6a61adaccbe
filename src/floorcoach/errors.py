"""The project's error types: every failure a user can cause names what to do about it."""


class FloorcoachError(Exception):
    """Base error: `message` is one line, fit to print (and say) as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class RoutineError(FloorcoachError):
    """A routine, exercise library or guidance file is missing or invalid."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        # One line per problem, each naming file, line, exercise and field.
        self.problems: list[str] = problems if problems is not None else [message]


class AudioDeviceError(FloorcoachError):
    """No usable sound device, or the device went away."""


class RecognizerError(FloorcoachError):
    """The speech recognizer could not be built or could not run."""


class ModelNotFoundError(RecognizerError):
    """A voice model was not found where it was looked for."""


class HistoryError(FloorcoachError):
    """The history database cannot be used (the session goes on without it)."""


def with_fallback(error: object, fallback: str) -> str:
    """An error's message ending in what the player does instead, said once.

    Device errors end in a fallback of their own ("... — speech will be printed instead");
    the caller knows better what happens next (it may keep retrying), so its words replace it.
    """
    return f"{str(error).split(' — ')[0]}; {fallback}"
