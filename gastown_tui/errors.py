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


def fault_error(e: BaseException) -> GtError:
    """An operating-system fault (or undecodable text) as one sentence with its fix (exit 1).

    The CLI framework turns every uncaught OSError/UnicodeError into this, so a read-only store,
    a full disk or an over-long name is a sentence in every command, never a traceback.
    """
    import errno

    if isinstance(e, UnicodeError):
        return GtError("some text is not valid UTF-8 (an argument, a file or the environment)",
                       hint="pass text in UTF-8 (check the terminal's locale and the file's encoding)")
    if not isinstance(e, OSError):
        return GtError(f"{type(e).__name__}: {e}", hint="run with GT_DEBUG=1 and report it")
    where = e.filename if e.filename is not None else "a file"
    code = e.errno
    if code == errno.EROFS:
        return GtError(f"cannot write {where}: the file system is read-only",
                       hint="remount it read-write or work in a writable copy; nothing was changed")
    if code in (errno.EACCES, errno.EPERM):
        return GtError(f"permission denied for {where}",
                       hint="check the owner and mode of that path; nothing was changed")
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return GtError("no space left on the device" + (f" holding {where}" if e.filename else ""),
                       hint="free some disk space and run the command again; nothing was changed")
    if code == errno.ENAMETOOLONG:
        shown = str(where)
        shown = shown if len(shown) <= 80 else shown[:40] + "..." + shown[-20:]
        return GtError(f"a name is too long for the file system: {shown}", hint="use a shorter name")
    if code == errno.ENOENT:
        return GtError(f"{where} does not exist", hint="check the path")
    if code == errno.ENOTDIR:
        return GtError(f"a part of {where} is not a directory", hint="check the path")
    if code == errno.EISDIR:
        return GtError(f"{where} is a directory, not a file", hint="check the path")
    return GtError(f"{e.strerror or type(e).__name__} ({where})", hint="check that path and try again")
