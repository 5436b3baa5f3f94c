"""The daemon's loop: each tick, bring back a lost fleet, run boot, commit beads on a debounce.

Kept apart from `daemon.py` (pidfile, start, stop, status), which the deacon and the lifecycle
commands use to supervise the daemon itself, so that no patrol module imports its supervisor.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from typing import Any

from gastown_tui.errors import Conflict
from gastown_tui.patrols.daemon import _read_pid, commit_beads, lock_path, pid_path
from gastown_tui.town.layout import Town


def tick(town: Town, *, now: float | None = None, log: Callable[[str], None] = lambda _m: None,
         fleet: dict[str, Any] | None = None) -> dict[str, Any]:
    """One tick. `fleet` is the daemon's memory between ticks of the tmux server and the sessions
    it ran: when that server is lost, the sessions are started again (`lifecycle.watch_fleet`)."""
    from gastown_tui.patrols.boot import boot_tick
    from gastown_tui.town.config import load_settings

    settings = load_settings(town.root)
    out: dict[str, Any] = {}
    if fleet is not None:
        from gastown_tui.patrols.lifecycle import watch_fleet

        try:
            out["restored"] = watch_fleet(town, fleet, log=log)
        except Exception as e:  # noqa: BLE001 - the daemon must keep ticking
            log(f"fleet check failed: {e}")
    try:
        out["boot"] = boot_tick(town, now=now, log=log)
    except Exception as e:  # noqa: BLE001 - the daemon must keep ticking
        log(f"boot failed: {e}")
        out["boot"] = {"error": str(e)}
    out["committed"] = commit_beads(town, now=now, debounce=float(settings.get("daemon.commit_debounce_seconds")),
                                    log=log)
    return out


def run(town: Town, *, once: bool = False, log: Callable[[str], None] = lambda _m: None) -> None:
    """The daemon itself (foreground). Holds the lock for its whole life."""
    from gastown_tui.town.config import load_settings

    from gastown_tui.infra.fsutil import Lock

    lock = Lock(lock_path(town))
    if not lock.acquire(blocking=False):
        lock.close()
        raise Conflict(f"a daemon already runs for this town (pid {_read_pid(town)})",
                       hint="stop it with 'gt daemon stop'") from None
    stopping = False

    def _term(_sig, _frm):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _term)
    from gastown_tui.infra.fsutil import atomic_write_text

    atomic_write_text(pid_path(town), f"{os.getpid()}\n")
    log(f"daemon starting (pid {os.getpid()}) for {town.root}")
    fleet: dict[str, Any] = {}
    try:
        while not stopping:
            tick(town, log=log, fleet=fleet)
            if once:
                break
            deadline = time.monotonic() + float(load_settings(town.root).get("daemon.tick_seconds"))
            while not stopping and time.monotonic() < deadline:
                time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
    finally:
        log("daemon stopping")
        try:
            if _read_pid(town) == os.getpid():
                pid_path(town).unlink()
        except FileNotFoundError:
            pass
        lock.close()
