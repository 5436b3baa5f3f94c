"""Nudge to an idle sim: wall time from `gt nudge` start to verified delivery (budget p95 ≤ 1.5 s).

Also times the in-process `deliver()` call. Usage: python bench/nudge_latency.py [N]
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _agents_common import bench_town, summary, wait_prompt  # noqa: E402

GT = str(Path(sys.executable).parent / "gt")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    from gastown_tui.agents.nudge import deliver
    from gastown_tui.agents.sessions import start_agent
    from gastown_tui.sim.agent import read_log
    from gastown_tui.town.identity import Agent

    with bench_town() as (town, tm):
        start_agent(town, Agent("mayor"), runtime="sim", tmux=tm)
        wait_prompt(tm, ["gt-mayor"])
        env = {**os.environ, "GT_TOWN_ROOT": str(town.root)}
        cli = []
        for i in range(n):
            t = time.perf_counter()
            r = subprocess.run([GT, "nudge", "mayor", f"bench message {i}: $(x) ✓ 'q'"], env=env,
                               capture_output=True, text=True)
            cli.append(time.perf_counter() - t)
            if r.returncode != 0:
                raise SystemExit(f"nudge {i} failed: {r.stderr.strip()}")
        inproc = []
        for i in range(n):
            t = time.perf_counter()
            res = deliver(town, "mayor", f"in-process {i}\nsecond line", tmux=tm)
            inproc.append(time.perf_counter() - t)
            assert res.status == "delivered", res.detail
        got = read_log(town.runtime_dir / "sim" / "gt-mayor.jsonl")
        assert len(got) == 2 * n, len(got)
        print(f"gt nudge (process start -> verified): {summary(cli)}")
        print(f"deliver() in process:                 {summary(inproc)}")


if __name__ == "__main__":
    main()
