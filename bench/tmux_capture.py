"""Capturing 30 agent panes: ONE tmux process per refresh (budget: ≤ 15 ms).

Starts 30 sim agents on a private tmux server, then times `Tmux.capture_many` over all of them
(and, for comparison, one `capture` per pane). Usage: python bench/tmux_capture.py [ROUNDS]
"""

from __future__ import annotations

import sys
import time

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _agents_common import bench_town, summary, wait_prompt  # noqa: E402


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    from gastown_tui.agents.sessions import start_agent
    from gastown_tui.town.identity import Agent

    with bench_town() as (town, tm):
        agents = [Agent("crew", "bench", f"a{i:02d}") for i in range(30)]
        for a in agents:
            start_agent(town, a, runtime="sim", cwd=town.root, tmux=tm)
        names = [a.session for a in agents]
        wait_prompt(tm, names)
        for ansi in (True, False):
            times = []
            calls0 = tm.calls
            for _ in range(rounds):
                t = time.perf_counter()
                got = tm.capture_many(names, ansi=ansi)
                times.append(time.perf_counter() - t)
                assert len(got) == 30
            per = (tm.calls - calls0) / rounds
            print(f"capture_many 30 panes (ansi={ansi}): {summary(times)}  tmux processes/refresh {per:.0f}")
        times = []
        for _ in range(max(rounds // 5, 3)):
            t = time.perf_counter()
            for n in names:
                tm.capture(n)
            times.append(time.perf_counter() - t)
        print(f"one capture per pane (30 processes, for comparison): {summary(times)}")
        times = []
        for _ in range(rounds):
            t = time.perf_counter()
            tm.panes()
            times.append(time.perf_counter() - t)
        print(f"panes() listing of 30 sessions (1 process): {summary(times)}")


if __name__ == "__main__":
    main()
