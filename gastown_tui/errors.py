"""The error types every layer raises.

A ``GtError`` carries one sentence for the user and an exit status; the CLI prints the sentence
to stderr and exits with the status, never a traceback (``GT_DEBUG=1`` shows one).
"""

from __future__ import annotations


class GtError(Exception):
    """A failure the user can understand and act on (exit status 1)."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:  # one sentence, with the fix when we know it
        if self.hint:
            return f"{self.message.rstrip('.')}; {self.hint}"
        return self.message


class UsageError(GtError):
    """The command line itself is wrong: a bad name, value or combination (exit status 2)."""

    exit_code = 2


class NotFound(GtError):
    """A named thing (town, rig, bead, agent, session) does not exist (exit status 1)."""


class Conflict(GtError):
    """The thing exists already or is held by someone else (exit status 1)."""
