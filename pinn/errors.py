"""The one exception type for problems a user can fix."""


class PinnError(Exception):
    """A user-facing error: bad input, missing data, diverged training.

    The message says what was wrong and what to do; the CLI prints it as one line and exits with code 2.
    """
