"""Watching 30 idle agents with the status engine once a second.

Budget: ≤ 1 tmux subprocess per second on average, ≤ 1% of a core (watcher + its tmux clients
+ the tmux server's share). Usage: python bench/watch_idle.py [SECONDS]
"""

from __future__ import annotations

import os
import resource
import sys
import time

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _agents_common import bench_town, wait_prompt  # noqa: E402


def _server_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _own_cpu() -> float:
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0
    from gastown_tui.agents.sessions import start_agent
    from gastown_tui.agents.status import StatusEngine
    from gastown_tui.town.identity import Agent

    with bench_town() as (town, tm):
        agents = [Agent("crew", "bench", f"w{i:02d}") for i in range(30)]
        for a in agents:
            start_agent(town, a, runtime="sim", cwd=town.root, tmux=tm)
        wait_prompt(tm, [a.session for a in agents])
        server_pid = int(tm.run("display-message", "-p", "#{pid}").stdout.decode().strip())
        eng = StatusEngine(town, tmux=tm)
        eng.poll()
        time.sleep(2.5)  # let window_activity age past its 1 s resolution
        eng.poll()
        calls0, cpu0, srv0, t0 = tm.calls, _own_cpu(), _server_cpu(server_pid), time.monotonic()
        polls = 0
        while time.monotonic() - t0 < seconds:
            rows = eng.poll()
            polls += 1
            time.sleep(max(0.0, t0 + polls - time.monotonic()))
        wall = time.monotonic() - t0
        calls = tm.calls - calls0
        own = _own_cpu() - cpu0
        srv = _server_cpu(server_pid) - srv0
        states = sorted({r.status.state for r in rows.values()})
        print(f"watched 30 idle sims for {wall:.1f}s: {polls} polls, {calls} tmux subprocesses "
              f"({calls / wall:.2f}/s), states {states}")
        print(f"CPU: watcher+tmux clients {own / wall * 100:.2f}% of a core, tmux server {srv / wall * 100:.2f}%, "
              f"total {(own + srv) / wall * 100:.2f}%")


if __name__ == "__main__":
    main()
