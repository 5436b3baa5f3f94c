"""Is a process alive? One answer for lock owners, pidfiles and queued bd clients.

Its own module, importing only `os`, so the store's hot path can ask without importing subprocess.
"""

from __future__ import annotations

import os


def pid_alive(pid: int | None) -> bool:
    """True when `pid` runs and is not a zombie."""
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of ours still answers kill(0): reap it
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True


def processes_under(root: str) -> dict[int, str]:
    """Processes whose executable lies inside directory `root`: pid -> executable path. A runtime
    that installs its own helpers in an agent's private home (Codex's app-server daemon) leaves
    them running after the agent's session ends; this is how they are found (Linux /proc)."""
    prefix = os.path.realpath(root).rstrip(os.sep) + os.sep
    out: dict[int, str] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return out
    for name in names:
        if not name.isdigit():
            continue
        try:
            exe = os.readlink(f"/proc/{name}/exe")
        except OSError:
            continue
        if exe.endswith(" (deleted)"):
            exe = exe[: -len(" (deleted)")]
        if exe.startswith(prefix):
            out[int(name)] = exe
    return out


def terminate_under(pid: int, root: str) -> bool:
    """SIGTERM `pid` if it still runs an executable inside `root` (checked again now: the pid
    may have been reused since it was listed); True when signalled."""
    import signal

    if pid not in processes_under(root):
        return False
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        return False
    return True
