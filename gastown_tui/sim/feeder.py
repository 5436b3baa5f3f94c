"""The demo feeder: new beads keep arriving in the demo town for a while (`gt demo`).

Every `every` seconds, for `minutes` minutes, it files a bead in the demo rig and slings it with
the product's own `work.sling.sling` (the exactly-once claim: a bead another slinger took first
is left to it) and tracks it in the "Live feed" convoy. Some beads carry the sim's fault labels,
so the supervisors are seen at work:

- `sim:stall`: the polecat hangs; the witness nudges it, then escalates;
- `sim:fail-tests`: the refinery's tests fail; MERGE_FAILED sends it back, then it is escalated;
- `sim:conflict`, two at once: both rewrite README.md's first line; the refinery sends the second
  one back with REWORK_REQUEST, the polecat rebases and it lands;
- `sim:crash`: the polecat dies mid-work; the witness restarts it and it finishes.

While `max_busy` polecats already have work a tick files nothing, so the machine is not flooded.

It runs in the background, one per town (an flock on `.runtime/demo-feed.lock`; pid in
`demo-feed.pid`, log in `demo-feed.log`), and stops when its time is up, on SIGTERM (`gt demo`
sends it when the cockpit quits; a sling under way finishes first), or when the town is down
(`gt down` stops the daemon and the deacon).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gastown_tui.errors import GtError
from gastown_tui.town.layout import Town

FEED_LABEL = "demo:feed"
CONVOY_TITLE = "Live feed"
DEFAULT_EVERY = 20.0
DEFAULT_MINUTES = 10.0
DEFAULT_MAX_BUSY = 6

# One tick files the beads of one row; a row of two conflict beads makes a conflicting pair.
# Supervision shows early: the first rows hold each fault once.
SCHEDULE: tuple[tuple[str | None, ...], ...] = (
    (None,), ("sim:conflict", "sim:conflict"), ("sim:stall",), ("sim:fail-tests",), (None,),
    ("sim:crash",), (None,), (None,),
)

# (function name, body): each bead adds one small module the sim writes and commits
_FUNCS = (
    ("cube", "return a ** 3"), ("square", "return a * a"), ("double", "return 2 * a"),
    ("half", "return a / 2"), ("inc", "return a + 1"), ("dec", "return a - 1"),
    ("sign", "return (a > 0) - (a < 0)"), ("clamp01", "return min(max(a, 0), 1)"),
)
_WHY = {
    None: "", "sim:stall": " (this polecat will hang: watch the witness nudge it, then escalate)",
    "sim:fail-tests": " (its tests will fail: the refinery sends it back)",
    "sim:conflict": " (it edits the README title, as its twin does: one of them conflicts)",
    "sim:crash": " (this polecat will crash once: the witness restarts it)",
}


def lock_path(town: Town) -> Path:
    return town.runtime_dir / "demo-feed.lock"


def pid_path(town: Town) -> Path:
    return town.runtime_dir / "demo-feed.pid"


def log_path(town: Town) -> Path:
    return town.runtime_dir / "demo-feed.log"


@dataclass
class FeedReport:
    created: list[str] = field(default_factory=list)
    slung: list[str] = field(default_factory=list)
    faults: dict[str, str] = field(default_factory=dict)  # bead id -> fault label
    stopped: str = ""  # why it stopped: "time", "signal", "town down"


def bead_spec(n: int, fault: str | None) -> tuple[str, str, list[str]]:
    """(title, description, labels) of the n-th fed bead (n from 1: unique names and files)."""
    from gastown_tui.sim.work import edit_block

    fn, body = _FUNCS[(n - 1) % len(_FUNCS)]
    name = f"{fn}_{n}"
    title = f"Add {name}()"
    desc = f"A small helper, fed by the demo{_WHY.get(fault, '')}." + edit_block(
        f"ops/{name}.py", f"def {name}(a):\n    {body}\n")
    labels = [FEED_LABEL, f"sim:slow={6 + (n * 5) % 10}"] + ([fault] if fault else [])
    return title, desc, labels


def _next_number(store) -> int:
    return 1 + sum(1 for i in store.list(include_closed=True) if FEED_LABEL in (i.labels or []))


def busy_polecats(town: Town, rig: str) -> int:
    """Beads of the rig on a polecat's hook or in progress (the feed waits while there are many)."""
    from gastown_tui.work.hook import HELD_STATUSES
    from gastown_tui.work.snapshot import read_issues

    return sum(1 for i in read_issues(town.rig(rig).beads_dir).values()
               if i.status in HELD_STATUSES and "/polecats/" in (i.assignee or ""))


def town_is_up(town: Town) -> bool:
    """The fleet runs while the daemon or the deacon does; `gt down` stops both."""
    from gastown_tui.infra.tmux import Tmux
    from gastown_tui.patrols import daemon
    from gastown_tui.town.identity import Agent

    return daemon.lock_held(town) or Tmux.for_town(town).has_session(Agent("deacon").session)


def feed_once(town: Town, rig: str, n: int, faults: tuple[str | None, ...], report: FeedReport,
              log: Callable[[str], None], convoy_id: list[str]) -> int:
    """File and sling one row of the schedule; returns the next bead number."""
    from gastown_tui.beads.store import open_store
    from gastown_tui.work import convoy
    from gastown_tui.work.sling import AlreadyClaimed, sling

    store = open_store(db=town.rig(rig).beads_dir)
    for fault in faults:
        title, desc, labels = bead_spec(n, fault)
        n += 1
        bead = store.create(title, type="task", priority=2, description=desc, labels=labels, actor="overseer")
        report.created.append(bead.id)
        if fault:
            report.faults[bead.id] = fault
        try:
            res = sling(town, [bead.id], rig, runtime="sim", no_convoy=True, actor="overseer")
            report.slung.append(bead.id)
            who = ", ".join(str(r.get("agent", "")) for r in res.to_json()["assignments"])
            log(f"filed {bead.id} {title}{' [' + fault + ']' if fault else ''} and slung it" + (f" to {who}" if who else ""))
        except AlreadyClaimed:
            log(f"filed {bead.id}; another slinger took it first")
        except GtError as e:
            log(f"filed {bead.id}; sling failed: {e} (it stays ready: sling it from the cockpit with s)")
        try:
            if not convoy_id:
                got = convoy.create_convoy(town, CONVOY_TITLE, [bead.id], actor="overseer")
                convoy_id.append(got.get("id") if isinstance(got, dict) else str(got))
            else:
                convoy.add_beads(town, convoy_id[0], [bead.id])
        except GtError as e:
            log(f"convoy: {e}")
    return n


def feed(town: Town, *, rig: str, every: float = DEFAULT_EVERY, minutes: float = DEFAULT_MINUTES,
         max_busy: int = DEFAULT_MAX_BUSY, stop: threading.Event | None = None,
         log: Callable[[str], None] = lambda _m: None, town_up: Callable[[Town], bool] = town_is_up,
         clock: Callable[[], float] = time.monotonic) -> FeedReport:
    """The loop (see the module doc); returns what it did once it stops."""
    from gastown_tui.beads.store import open_store
    from gastown_tui.work import convoy

    stop = stop or threading.Event()
    report = FeedReport()
    n = _next_number(open_store(db=town.rig(rig).beads_dir))
    convoy_id = [c["id"] for c in convoy.list_convoys(town) if c.get("title") == CONVOY_TITLE][:1]
    deadline = clock() + minutes * 60
    row = 0
    log(f"feeding rig '{rig}': a bead every {every:g} s for {minutes:g} min")
    while True:
        if stop.is_set():
            report.stopped = "signal"
            break
        if clock() >= deadline:
            report.stopped = "time"
            break
        if not town_up(town):
            report.stopped = "town down"
            break
        busy = busy_polecats(town, rig)
        if busy >= max_busy:
            log(f"{busy} polecats at work: waiting before the next bead")
        else:
            try:
                n = feed_once(town, rig, n, SCHEDULE[row % len(SCHEDULE)], report, log, convoy_id)
            except GtError as e:  # a busy store or a git hiccup: try again next tick
                log(f"could not file a bead: {e}")
            row += 1
        due = clock() + every
        while not stop.is_set() and clock() < min(due, deadline):
            stop.wait(min(1.0, max(min(due, deadline) - clock(), 0.0)))
            if not town_up(town):
                break
    log(f"stopped ({report.stopped}): filed {len(report.created)} beads, slung {len(report.slung)}")
    return report


# -- the background process ---------------------------------------------------------------------

def status(town: Town) -> dict[str, Any]:
    from gastown_tui.infra.fsutil import lock_held
    from gastown_tui.infra.proc import pid_alive

    try:
        pid: int | None = int(pid_path(town).read_text().strip())
    except (FileNotFoundError, ValueError):
        pid = None
    running = lock_held(lock_path(town)) and pid_alive(pid)
    return {"running": running, "pid": pid if running else None, "log": str(log_path(town))}


def start(town: Town, *, rig: str, every: float = DEFAULT_EVERY, minutes: float = DEFAULT_MINUTES, wait: float = 10.0) -> dict[str, Any]:
    """Start the feeder in the background (a no-op when one runs); returns its status."""
    from gastown_tui.infra.proc import pid_alive, spawn_detached

    st = status(town)
    if st["running"]:
        return {**st, "started": False}
    argv = [sys.executable, "-m", "gastown_tui.sim.feeder", "--town", str(town.root), "--rig", rig,
            "--every", f"{every:g}", "--minutes", f"{minutes:g}"]
    pid = spawn_detached(argv, log_path=log_path(town), cwd=town.root)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        st = status(town)
        if st["running"] and st["pid"] == pid:
            return {**st, "started": True}
        if not pid_alive(pid):
            break
        time.sleep(0.05)
    raise GtError("the demo feeder did not start", hint=f"see its log: {log_path(town)}")


def stop(town: Town, *, timeout: float = 20.0) -> bool:
    """Stop the feeder (SIGTERM: a sling under way finishes); False when none was running."""
    from gastown_tui.infra.proc import terminate

    st = status(town)
    if not st["running"]:
        return False
    terminate(int(st["pid"]), timeout=timeout)
    return True


def main(argv: list[str] | None = None) -> int:
    import signal

    from gastown_tui.infra.fsutil import Lock, atomic_write_text

    p = argparse.ArgumentParser(prog="python -m gastown_tui.sim.feeder", description="feed the demo town new beads")
    p.add_argument("--town", required=True)
    p.add_argument("--rig", required=True)
    p.add_argument("--every", type=float, default=DEFAULT_EVERY)
    p.add_argument("--minutes", type=float, default=DEFAULT_MINUTES)
    p.add_argument("--max-busy", type=int, default=DEFAULT_MAX_BUSY)
    args = p.parse_args(argv)
    town = Town(Path(args.town))
    lock = Lock(lock_path(town))
    if not lock.acquire(blocking=False):
        print("another demo feeder already runs for this town", file=sys.stderr)
        return 1
    atomic_write_text(pid_path(town), f"{os.getpid()}\n")
    stop_event = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_a: stop_event.set())

    def log(msg: str) -> None:
        print(time.strftime("%H:%M:%S ") + msg, flush=True)

    try:
        feed(town, rig=args.rig, every=args.every, minutes=args.minutes, max_busy=args.max_busy,
             stop=stop_event, log=log)
    finally:
        pid_path(town).unlink(missing_ok=True)
        lock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
