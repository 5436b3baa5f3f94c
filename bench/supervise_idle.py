"""CPU used by the supervisors (daemon, deacon, witness, refinery) watching 30 idle agents.

    .venv/bin/python bench/supervise_idle.py [--agents 30] [--seconds 60]

Starts the fleet with default patrol intervals, slings N beads to N polecats whose runtime is an
idle program, then measures the CPU time of the supervisor processes over a window.
"""

from __future__ import annotations

import argparse
import os
import time

from _fleet_common import fleet_town, gt


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--agents", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=60)
    args = ap.parse_args()
    from gastown_tui.beads.store import Store
    from gastown_tui.infra.proc import cpu_seconds
    from gastown_tui.patrols import daemon

    settings = {"agents.idle.command": "sleep", "agents.idle.args": ["100000"], "default_agent": "idle"}
    with fleet_town(settings, {"max_polecats": args.agents + 5}) as (town, tm):
        st = Store(town.rig("demo").beads_dir)
        ids = [st.create(f"idle work {i}").id for i in range(args.agents)]
        gt(town, "sling", *ids, "demo", "--agent", "idle", "--no-convoy")
        gt(town, "up", "--no-mayor")
        time.sleep(5)  # let the first patrols settle
        panes = tm.panes()
        pids = {"daemon": daemon.status(town)["pid"]}
        for s in ("gt-deacon", "gt-demo-witness", "gt-demo-refinery"):
            pids[s] = panes[s].pid
        polecats = [s for s in panes if s.startswith("gt-demo-") and s not in pids]
        before = {k: cpu_seconds(p) for k, p in pids.items()}
        t0 = time.monotonic()
        time.sleep(args.seconds)
        wall = time.monotonic() - t0
        after = {k: cpu_seconds(p) for k, p in pids.items()}
        total = sum(after[k] - before[k] for k in pids)
        print(f"agents supervised: {len(polecats)} (cores: {os.cpu_count()})")
        for k in pids:
            print(f"  {k:<18} {100 * (after[k] - before[k]) / wall:5.2f}% of a core")
        print(f"supervisors total: {100 * total / wall:.2f}% of a core over {wall:.0f}s")


if __name__ == "__main__":
    main()
