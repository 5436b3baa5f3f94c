"""Running a command for domain code (gate checks): the one place outside tmux/git that spawns processes.

`run_command` never raises for a failing or missing command: it returns the exit status and the
combined output, so callers can decide. A timeout kills the whole process group.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path

TIMEOUT_STATUS = 124  # as coreutils `timeout` reports it
NOT_FOUND_STATUS = 127  # as a shell reports a missing program


def run_command(argv_or_shell: str | Sequence[str], cwd: Path | str | None = None, timeout: float = 60.0,
                env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run a command; a string goes through `sh -c`. Returns (exit status, stdout+stderr).

    Exit status 124 means it timed out, 127 that the program does not exist.
    """
    shell = isinstance(argv_or_shell, str)
    args = ["/bin/sh", "-c", argv_or_shell] if shell else list(argv_or_shell)
    try:
        proc = subprocess.Popen(args, cwd=str(cwd) if cwd else None, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
                                env={**os.environ, **(env or {})}, start_new_session=True)
    except FileNotFoundError:
        return NOT_FOUND_STATUS, f"{args[0]}: command not found"
    except (NotADirectoryError, PermissionError) as e:
        return NOT_FOUND_STATUS, str(e)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, _ = proc.communicate()
        return TIMEOUT_STATUS, (out or "") + f"\n(timed out after {timeout:g}s)"
    return proc.returncode, out or ""


def which(program: str) -> str | None:
    """The full path of `program` on PATH, or None."""
    return shutil.which(program)
