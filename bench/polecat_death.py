"""How fast the witness notices a killed polecat (kill -> restart event), with default settings.

    .venv/bin/python bench/polecat_death.py [--trials 5]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from _fleet_common import events, fleet_town, gt, wait


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=5)
    args = ap.parse_args()
    from gastown_tui.beads.store import Store

    settings = {"agents.idle.command": "sleep", "agents.idle.args": ["100000"],
                "witness.max_restarts": args.trials + 1}
    with fleet_town(settings) as (town, tm):
        b = Store(town.rig("demo").beads_dir).create("victim").id
        gt(town, "sling", b, "demo", "--agent", "idle", "--no-convoy")
        gt(town, "up", "--no-mayor")
        sess = next(s for s in tm.panes() if s.startswith("gt-demo-") and not s.endswith(("witness", "refinery")))
        lat = []
        for _ in range(args.trials):
            wait(lambda: sess in tm.panes(), 30, "polecat session")
            time.sleep(random.uniform(0.5, 5.5))  # land anywhere in the witness cycle
            n = sum(1 for e in events(town) if e["type"] == "witness.restart")
            t0 = time.monotonic()
            tm.kill_session(sess)
            wait(lambda n=n: sum(1 for e in events(town) if e["type"] == "witness.restart") > n, 60, "restart")
            lat.append(time.monotonic() - t0)
        print(f"killed polecat noticed and restarted (witness.patrol_seconds=5): "
              f"median {statistics.median(lat):.2f}s, max {max(lat):.2f}s over {len(lat)} kills")


if __name__ == "__main__":
    main()
