"""Wall time for a 10-bead convoy of sim work to land: sling -> every branch merged -> convoy closed.

    .venv/bin/python bench/convoy_land.py [--beads 10]
"""

from __future__ import annotations

import argparse
import json
import time

from _fleet_common import fleet_town, gt, wait


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--beads", type=int, default=10)
    args = ap.parse_args()
    from gastown_tui.beads.store import Store

    settings = {"witness.patrol_seconds": 1, "refinery.patrol_seconds": 1, "deacon.patrol_seconds": 2,
                "deacon.feed_convoys": False, "default_agent": "sim"}
    with fleet_town(settings, {"max_polecats": args.beads + 2}) as (town, tm):
        st = Store(town.rig("demo").beads_dir)
        # sim:slow keeps each sim busy until the sling has spawned them all (a sling that reuses a
        # polecat which finished mid-sling is a separate problem, see the README).
        ids = [st.create(f"feature {i}", labels=["sim:slow=2"]).id for i in range(args.beads)]
        conv = json.loads(gt(town, "convoy", "create", "bench", *ids, "--notify", "overseer", "--json").stdout)
        gt(town, "up", "--no-mayor")
        t0 = time.monotonic()
        gt(town, "sling", *ids, "demo", "--agent", "sim", "--no-convoy")
        t_sling = time.monotonic() - t0
        wait(lambda: Store(town.beads_dir).get(conv["id"]).status == "closed", 300, "the convoy to land", 0.2)
        total = time.monotonic() - t0
        print(f"{args.beads}-bead convoy of sim work landed in {total:.1f}s (sling took {t_sling:.1f}s)")


if __name__ == "__main__":
    main()
