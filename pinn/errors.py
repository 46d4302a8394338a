"""The one exception type for problems a user can fix."""


class PinnError(Exception):
    """A user-facing error: bad input, missing data, diverged training.

    The message says what was wrong and what to do; the CLI prints it as one line and exits with code 2.
    """


class Diverged(PinnError):
    """Training stopped because the loss became NaN or infinite; ``last_good`` holds the last finite model
    state (a state dict) and ``step`` the step where it happened, so the caller can save them."""

    def __init__(self, message: str, last_good: dict, step: int) -> None:
        super().__init__(message)
        self.last_good = last_good
        self.step = step


class WriteError(PinnError):
    """A file could not be written (disk full, file size limit, read-only or missing folder): the message
    names the file and the reason; a run folder left unfinished by it is removed."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) during a run, with a note of what was kept; the CLI prints ``pinn: interrupted;
    <note>`` as one line and exits with code 130."""

    def __init__(self, note: str = "") -> None:
        super().__init__(note)
        self.note = note
