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
