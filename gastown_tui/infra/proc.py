"""Running a command for domain code (gate checks, test commands): the one place outside tmux/git
that spawns processes.

`run_command` never raises for a failing or missing command: it returns the exit status and the
combined output, so callers can decide. The command runs in its own process group under a small
guard process that asks the kernel to signal it when its caller dies (`PR_SET_PDEATHSIG`) and then
kills that group: a refinery killed with -9 mid-test leaves no test command behind. A timeout kills
the group too, and so does the end of the command (nothing it started survives it, or holds its
output open).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from gastown_tui.infra.pids import pid_alive  # noqa: F401 - its home is pids.py; callers import it from here too

TIMEOUT_STATUS = 124  # as coreutils `timeout` reports it
NOT_FOUND_STATUS = 127  # as a shell reports a missing program

# argv: caller pid, then the command. The command gets a process group of its own, which the guard
# kills when the command ends (nothing it started may hold the output pipe open), when the caller
# dies (PR_SET_PDEATHSIG sends the guard SIGTERM) and when the caller gives up (SIGTERM at timeout).
# Exit status: the command's (128+N when killed by signal N). Only builtins and ctypes: it starts
# for every command, so it must start fast.
_GUARD = r"""
import os, sys
try:
    import _signal as sig
except ImportError:
    import signal as sig
child = 0
def die(*_):
    if child:
        try:
            os.killpg(child, sig.SIGKILL)
        except OSError:
            pass
    os.killpg(0, sig.SIGKILL)
sig.signal(sig.SIGTERM, die)
sig.signal(sig.SIGHUP, die)
try:
    import ctypes
    ctypes.CDLL(None, use_errno=True).prctl(1, sig.SIGTERM)  # PR_SET_PDEATHSIG
except Exception:
    pass
if os.getppid() != int(sys.argv[1]):  # the caller died before the prctl took effect
    die()
child = os.fork()
if child == 0:
    try:
        os.setpgid(0, 0)
        os.execvp(sys.argv[2], sys.argv[2:])
    except FileNotFoundError:
        os.write(1, f"{sys.argv[2]}: command not found\n".encode())
    except OSError as e:
        os.write(1, f"{e}\n".encode())
    os._exit(127)
try:
    os.setpgid(child, child)
except OSError:
    pass
code = os.waitstatus_to_exitcode(os.waitpid(child, 0)[1])
try:
    os.killpg(child, sig.SIGKILL)  # whatever the command left running
except OSError:
    pass
sys.exit(code if code >= 0 else 128 - code)
"""


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_command(argv_or_shell: str | Sequence[str], cwd: Path | str | None = None, timeout: float = 60.0,
                env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run a command; a string goes through `sh -c`. Returns (exit status, stdout+stderr).

    Exit status 124 means it timed out, 127 that the program does not exist.
    """
    shell = isinstance(argv_or_shell, str)
    args = ["/bin/sh", "-c", argv_or_shell] if shell else list(argv_or_shell)
    if not args:
        return NOT_FOUND_STATUS, "no command given"
    guard = [sys.executable, "-I", "-S", "-c", _GUARD, str(os.getpid()), *args]
    try:
        proc = subprocess.Popen(guard, cwd=str(cwd) if cwd else None, stdout=subprocess.PIPE,
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
            os.kill(proc.pid, signal.SIGTERM)  # the guard kills the command's group, then its own
            proc.wait(timeout=5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        _kill_group(proc.pid)
        out, _ = proc.communicate()
        return TIMEOUT_STATUS, (out or "") + f"\n(timed out after {timeout:g}s)"
    finally:
        _kill_group(proc.pid)  # the guard's own group: nothing of it outlives the call
    return proc.returncode, out or ""


def which(program: str) -> str | None:
    """The full path of `program` on PATH, or None."""
    return shutil.which(program)


# --- background processes (the daemon) and liveness by pid ------------------------------------

def spawn_detached(argv: list[str], *, log_path: Path, cwd: Path, env: dict[str, str] | None = None) -> int:
    """Start `argv` in a new session, detached from our terminal, output appended to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(argv, cwd=str(cwd), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                env={**os.environ, **(env or {})}, start_new_session=True, close_fds=True)
    return proc.pid


def terminate(pid: int, *, timeout: float = 10.0) -> bool:
    """SIGTERM, wait up to `timeout`, then SIGKILL; True when the process is gone."""
    import time

    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return True
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not pid_alive(pid):
                return True
            time.sleep(0.05)
    return not pid_alive(pid)


def cpu_seconds(pid: int) -> float:
    """User+system CPU seconds used by a process so far (benches)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[-1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
