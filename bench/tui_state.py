"""State change -> cockpit screen (issue 14: ≤ 2 s after the status engine decides it).

Polecat sessions (plain shell loops, as in bench/tui_cockpit.py) print a line every 0.3 s for
PRINT_SECONDS (past the classifier's 30 s start-up grace and 10 s hysteresis), then stop: the
status engine calls each one stalled once its output is 10 s old (ACTIVE_SECONDS; the stall
threshold is 5 s). They start STAGGER apart, so their stalls fall at different points of the
cockpit's one-second poll. More polecats keep printing every 2 s meanwhile (`--busy`). Two
measurements:

1. headless pilot: the cockpit (CockpitApp over TownSource, live, 160×50) runs in this process;
   its own engine's poll is wrapped to note when it first returns `stalled` for a polecat, and
   the time until that polecat's tree row says `stalled` is taken: exactly "engine decides ->
   tree shows it".
2. through tmux: real `gt tui` processes in outer tmux panes (160×50), started a random part of a
   second apart (a stall is decided on a whole second of tmux's activity clock, so one cockpit
   would sample one phase of its one-second poll only); the decision's clock is a second status
   engine (the same classifier on the same panes) polled every 100 ms by the bench, and the time
   until each pane's text shows the row stalled is taken (polled every 50 ms). It includes the
   cockpit's own poll phase (up to its 1 s refresh), its paint and the outer tmux.

Usage: .venv/bin/python bench/tui_state.py [--stalls 6] [--busy 20] [--cockpits 4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _fleet_common import BIN, fleet_town, wait  # noqa: E402

STAGGER = 1.37  # seconds between two stalling polecats: not a multiple of the 1 s poll
PRINT_SECONDS = 32


def p95(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(0.95 * (len(xs) - 1))))]


def start_busy(tm, town, n: int) -> None:
    loop = "while true; do echo busy $(date +%s); sleep 2; done"
    for i in range(n):
        tm.new_session(f"gt-demo-b{i:02d}", ["sh", "-c", loop], cwd=town.root, width=120, height=40)


def start_stalls(tm, town, n: int) -> list[str]:
    """`n` polecats that print, then stop, STAGGER apart; returns their addresses."""
    loop = (f"end=$(( $(date +%s) + {PRINT_SECONDS} )); while [ $(date +%s) -lt $end ]; do echo line $(date +%s%N); "
            "sleep 0.3; done; exec sleep 100000")
    out = []
    for i in range(n):
        tm.new_session(f"gt-demo-s{i:02d}", ["sh", "-c", loop], cwd=town.root, width=120, height=40)
        out.append(f"demo/polecats/s{i:02d}")
        time.sleep(STAGGER)
    return out


def report(what: str, lat: list[float]) -> None:
    print(f"{what}: median {statistics.median(lat) * 1000:.0f} ms, p95 {p95(lat) * 1000:.0f} ms, "
          f"max {max(lat) * 1000:.0f} ms over {len(lat)} (budget ≤ 2000 ms)")


async def headless(town, tm, stalls: int) -> list[float]:
    from gastown_tui.tui.app import CockpitApp
    from gastown_tui.tui.source import TownSource
    from gastown_tui.tui.widgets.tree import TownTree

    src = TownSource(town)
    app = CockpitApp(src)
    decided: dict[str, float] = {}
    shown: dict[str, float] = {}
    async with app.run_test(size=(160, 50)) as pilot:
        while app.snapshot is None or src._engine is None:
            await pilot.pause(0.01)
        engine = src._engine
        poll = engine.poll

        def noting_poll():
            rows = poll()
            now = time.monotonic()
            for addr, r in rows.items():
                if r.status.state == "stalled":
                    decided.setdefault(addr, now)
            return rows

        engine.poll = noting_poll
        addrs = await asyncio.to_thread(start_stalls, tm, town, stalls)
        tree = app.query_one("#tree", TownTree)
        deadline = time.monotonic() + 120
        while len(shown) < len(addrs):
            if time.monotonic() > deadline:
                raise SystemExit(f"timed out: decided {sorted(decided)}, shown {sorted(shown)}")
            for a in addrs:
                node = tree._keyed.get(a)
                if a not in shown and node is not None and " stalled" in node.label.plain:
                    shown[a] = time.monotonic()
            await pilot.pause(0.005)
    return [shown[a] - decided[a] for a in addrs]


def through_tmux(town, tm, stalls: int, cockpits: int) -> list[float]:
    """`cockpits` `gt tui` processes started a random part of a second apart: each polls on its
    own phase of the second, so together they sample every point of the one-second poll."""
    import random

    from gastown_tui.infra.tmux import Tmux
    from gastown_tui.patrols.witness import status_engine

    outer = Tmux(f"gt-bench-outer-{os.getpid()}")
    env = {"GT_TMUX_SOCKET": os.environ["GT_TMUX_SOCKET"], "TERM": "xterm-256color"}
    decided: dict[str, float] = {}
    stop = threading.Event()

    def engine_clock() -> None:
        eng = status_engine(town)
        while not stop.is_set():
            now = time.monotonic()
            for addr, r in eng.poll().items():
                if r.status.state == "stalled":
                    decided.setdefault(addr, now)
            time.sleep(0.1)

    names = [f"cockpit{k}" for k in range(cockpits)]
    try:
        for name in names:
            outer.new_session(name, [str(BIN / "gt"), "tui", "--town", str(town.root)], cwd=town.root,
                              env=env, width=160, height=50)
            time.sleep(random.uniform(0.1, 1.1))
        for name in names:
            wait(lambda n=name: "workers" in outer.capture_many([n], ansi=False).get(n, ""), 30, "the cockpit")
        time.sleep(2)
        t = threading.Thread(target=engine_clock, daemon=True)
        t.start()
        addrs: list[str] = []
        starter = threading.Thread(target=lambda: addrs.extend(start_stalls(tm, town, stalls)), daemon=True)
        starter.start()
        shown: dict[tuple[str, str], float] = {}
        deadline = time.monotonic() + 150
        while starter.is_alive() or len(shown) < len(addrs) * len(names):
            if time.monotonic() > deadline:
                raise SystemExit(f"timed out: decided {sorted(decided)}, shown {sorted(shown)}")
            texts = outer.capture_many(names, ansi=False)
            now = time.monotonic()
            for name in names:
                for a in list(addrs):
                    if (name, a) not in shown and f" {a.rsplit('/', 1)[-1]} stalled" in texts.get(name, ""):
                        shown[(name, a)] = now
            time.sleep(0.05)
        stop.set()
        t.join(5)
        return [at - decided[a] for (_name, a), at in shown.items()]
    finally:
        stop.set()
        outer.kill_server()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stalls", type=int, default=6)
    ap.add_argument("--busy", type=int, default=20)
    ap.add_argument("--cockpits", type=int, default=4)
    args = ap.parse_args()
    settings = {"witness.stall_seconds": 5}  # the floor: output 10 s old (ACTIVE_SECONDS) is then a stall
    with fleet_town(settings) as (town, tm):
        start_busy(tm, town, args.busy)
        report("state change -> tree, headless pilot (the cockpit's own engine decides)",
               asyncio.run(headless(town, tm, args.stalls)))
    with fleet_town(settings) as (town, tm):
        start_busy(tm, town, args.busy)
        report("state change -> `gt tui` pane, through tmux (a 100 ms engine clock decides)",
               through_tmux(town, tm, args.stalls, args.cockpits))


if __name__ == "__main__":
    main()
