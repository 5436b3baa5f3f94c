"""The daemon: one small background process per town (DESIGN §6). Every tick it runs boot
(restart the deacon when its heartbeat is stale) and commits changed beads on a debounce; and,
since it alone lives outside tmux, it brings the fleet back after a tmux server loss.
Nothing else: "the daemon is dumb".

One instance per town: an flock on `.runtime/daemon.lock` held for the process's life; the pid is
in `.runtime/daemon.pid`, the log in `.runtime/daemon.log`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gastown_tui.errors import Conflict, GtError
from gastown_tui.town.layout import Town


def pid_path(town: Town) -> Path:
    return town.runtime_dir / "daemon.pid"


def log_path(town: Town) -> Path:
    return town.runtime_dir / "daemon.log"


def lock_path(town: Town) -> Path:
    return town.runtime_dir / "daemon.lock"


def _read_pid(town: Town) -> int | None:
    try:
        return int(pid_path(town).read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def lock_held(town: Town) -> bool:
    """True when some process holds the daemon lock (the daemon runs)."""
    from gastown_tui.infra.fsutil import lock_held as held

    return held(lock_path(town))


def status(town: Town) -> dict[str, Any]:
    from gastown_tui.infra.proc import pid_alive

    pid = _read_pid(town)
    running = lock_held(town) and pid_alive(pid)
    out: dict[str, Any] = {"running": running, "pid": pid if running else None, "log": str(log_path(town)),
                           "pidfile": str(pid_path(town))}
    try:
        out["started_at"] = pid_path(town).stat().st_mtime if running else None
    except FileNotFoundError:
        out["started_at"] = None
    return out


def crashed(town: Town) -> bool:
    """The daemon died without stopping (killed, crashed): its pid file is left and nobody holds
    its lock. A daemon that was never started, or was stopped (`gt daemon stop`, `gt down`),
    removed its pid file and is left alone."""
    return pid_path(town).is_file() and not status(town)["running"]


def start(town: Town, *, wait: float = 10.0) -> dict[str, Any]:
    """Start the daemon in the background; Conflict when it already runs."""
    from gastown_tui.infra.proc import spawn_detached

    st = status(town)
    if st["running"]:
        raise Conflict(f"the daemon already runs (pid {st['pid']})", hint="stop it with 'gt daemon stop'")
    argv = [sys.executable, "-m", "gastown_tui.cli.gt", "daemon", "run", "--town", str(town.root)]
    pid = spawn_detached(argv, log_path=log_path(town), cwd=town.root)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        st = status(town)
        if st["running"] and st["pid"] == pid:
            return st
        from gastown_tui.infra.proc import pid_alive

        if not pid_alive(pid):
            raise GtError("the daemon exited right after starting", hint=f"see its log: {log_path(town)}")
        time.sleep(0.05)
    raise GtError(f"the daemon did not come up within {wait:g}s", hint=f"see its log: {log_path(town)}")


def stop(town: Town, *, timeout: float = 10.0) -> bool:
    """Stop the daemon; False when it was not running."""
    from gastown_tui.infra.proc import terminate

    st = status(town)
    if not st["running"]:
        return False
    terminate(int(st["pid"]), timeout=timeout)
    try:
        pid_path(town).unlink()
    except FileNotFoundError:
        pass
    return True


def tail_log(town: Town, lines: int = 50) -> list[str]:
    try:
        text = log_path(town).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    return text.splitlines()[-lines:] if lines > 0 else []


# --- the loop ----------------------------------------------------------------------------------------

def beads_dirs(town: Town) -> list[tuple[Path, Path]]:
    """(repository, .beads dir) pairs whose changes the daemon commits: the town's and each rig's."""
    out = [(town.root, town.beads_dir)]
    for name in sorted(town.rigs()):
        rp = town.rig(name)
        if rp.beads_dir.is_dir():
            out.append((rp.mayor_clone, rp.beads_dir))
    return out


def commit_due(last_change: float | None, now: float, debounce: float) -> bool:
    """Pure: commit once the store has been quiet for `debounce` seconds."""
    return last_change is not None and now - last_change >= debounce


def commit_beads(town: Town, *, now: float | None = None, debounce: float = 0.0,
                 log: Callable[[str], None] = lambda _m: None) -> list[str]:
    """Commit changed `.beads/` files of every repository that has been quiet for `debounce` s."""
    from gastown_tui.infra import git

    now = time.time() if now is None else now
    committed = []
    for repo, beads in beads_dirs(town):
        issues = beads / "issues.jsonl"
        try:
            mtime = issues.stat().st_mtime
        except FileNotFoundError:
            continue
        if not commit_due(mtime, now, debounce):
            continue
        rel = str(beads.relative_to(repo))
        try:
            if git.run_git(["status", "--porcelain", "--", rel], repo):
                if git.commit_all(repo, "beads: sync (gt daemon)", author="deacon", paths=[rel]):
                    committed.append(str(repo))
                    log(f"committed beads in {repo}")
        except GtError as e:
            log(f"could not commit beads in {repo}: {e}")
    return committed
