"""Wall time from `gt sling` of 10 sim beads to the last of them on the rig's upstream (a bare repo).

    cd bench && ../.venv/bin/python upstream_land.py [--beads 10]

Each sim polecat writes `work/<bead>.md`; the refinery merges, tests nothing, pushes. The clock
stops when every one of those files is on the upstream's `main`.
"""

from __future__ import annotations

import argparse
import subprocess
import time

from _fleet_common import fleet_town, gt, wait


def on_upstream(upstream, ids: list[str]) -> bool:
    r = subprocess.run(["git", "-C", str(upstream), "ls-tree", "-r", "--name-only", "main", "work/"],
                       capture_output=True, text=True)
    have = set(r.stdout.split())
    return all(f"work/{i}.md" in have for i in ids)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--beads", type=int, default=10)
    args = ap.parse_args()
    from gastown_tui.beads.store import Store

    settings = {"witness.patrol_seconds": 1, "refinery.patrol_seconds": 1, "deacon.patrol_seconds": 2,
                "deacon.feed_convoys": False, "default_agent": "sim"}
    with fleet_town(settings, {"max_polecats": args.beads + 2}, bare_upstream=True) as (town, tm):
        upstream = town.root.parent / "upstream.git"
        st = Store(town.rig("demo").beads_dir)
        ids = [st.create(f"feature {i}", labels=["sim:slow=2"]).id for i in range(args.beads)]
        gt(town, "up", "--no-mayor")
        t0 = time.monotonic()
        gt(town, "sling", *ids, "demo", "--agent", "sim")
        t_sling = time.monotonic() - t0
        wait(lambda: on_upstream(upstream, ids), 300, "every bead's work on the upstream", 0.2)
        total = time.monotonic() - t0
        pushes = subprocess.run(["git", "-C", str(upstream), "rev-list", "--count", "main"],
                                capture_output=True, text=True).stdout.strip()
        print(f"{args.beads} sim beads slung -> all on the upstream in {total:.1f}s "
              f"(sling took {t_sling:.1f}s; upstream main has {pushes} commits)")


if __name__ == "__main__":
    main()
