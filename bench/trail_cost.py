"""The cost of keeping `gt trail`'s output logs: 30 agents printing a line every 200 ms.

Budget (issue 16): ≤ 0.5% of a core, bounded on disk. Runs the workload twice on a private tmux
server — without the logs, then with `pipe-pane` into the trail writer (as `start_agent` sets
it up) — and reports the writers' CPU, the tmux server's extra CPU, their sum as % of one core,
and the bytes on disk against the bound (2 x trail.max_bytes per session).
Usage: python bench/trail_cost.py [SECONDS] [AGENTS]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")
LOOP = "i=0; while :; do i=$((i+1)); echo \"[agent] step $i: editing src/module_$i.py and running the tests\"; sleep 0.2; done"


def cpu_of(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except OSError:
        return 0.0


def writer_pids(marker: str) -> list[int]:
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    cmd = f.read()
            except OSError:
                continue
            argv = cmd.split(b"\0")
            # the writer itself (the tmux server's own command line can name it too: not that one)
            if len(argv) > 3 and argv[3].endswith(b"trail_writer.py") and marker.encode() in cmd:
                out.append(int(d))
    return out


def mem_kb(pid: int, field: str) -> int:
    """`VmRSS` (counts the interpreter's shared pages in every process) from status, or `Pss`
    (shared pages split among the processes sharing them: what the machine pays) from smaps_rollup."""
    name = "status" if field == "VmRSS" else "smaps_rollup"
    try:
        with open(f"/proc/{pid}/{name}") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def phase(tm, town, agents: int, seconds: float, trail: bool, max_bytes: int) -> dict:
    from gastown_tui.agents.trail import pipe_command

    names = [f"gt-bench-a{i:02d}" for i in range(agents)]
    for n in names:
        tm.new_session(n, ["sh", "-c", LOOP], cwd=town.root, width=120, height=40,
                       pipe=pipe_command(town, n, max_bytes) if trail else None)
    time.sleep(3)  # everything started and settled
    server = int(tm.run("display-message", "-p", "#{pid}").stdout.decode().strip())
    writers = writer_pids(str(town.root)) if trail else []
    s0, w0 = cpu_of(server), sum(cpu_of(p) for p in writers)
    t0 = time.monotonic()
    time.sleep(seconds)
    wall = time.monotonic() - t0
    s1, w1 = cpu_of(server), sum(cpu_of(p) for p in writers)
    rss = sum(mem_kb(p, "VmRSS") for p in writers)
    pss = sum(mem_kb(p, "Pss") for p in writers)
    for n in names:
        tm.kill_session(n)
    return {"server": (s1 - s0) / wall, "writers": (w1 - w0) / wall, "n_writers": len(writers), "rss_kb": rss,
            "pss_kb": pss}


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 30
    agents = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    os.environ["GT_TMUX_SOCKET"] = f"gt-bench-trail-{os.getpid()}"
    from gastown_tui.agents.trail import disk_usage
    from gastown_tui.infra.tmux import Tmux
    from gastown_tui.town.install import install_town

    max_bytes = 16_384  # small, so this run rotates and the bound is exercised
    with tempfile.TemporaryDirectory(prefix="gt-bench-") as d:
        town = install_town(Path(d) / "town", name="bench", owner="bench@example.com").town
        tm = Tmux.for_town(town)
        try:
            off = phase(tm, town, agents, seconds, False, max_bytes)
            on = phase(tm, town, agents, seconds, True, max_bytes)
        finally:
            tm.kill_server()
        deadline = time.monotonic() + 30
        while writer_pids(str(town.root)) and time.monotonic() < deadline:
            time.sleep(0.2)  # each writer flushes its last batch at EOF and exits
        disk = disk_usage(town)
        files = len(os.listdir(town.runtime_dir / "trail"))
    extra = on["server"] - off["server"]
    print(f"{agents} agents, a line every 200 ms each, {seconds:.0f} s per phase")
    print(f"tmux server without logs {off['server'] * 100:.2f}% of a core, with {on['server'] * 100:.2f}% "
          f"(extra {extra * 100:.2f}%)")
    print(f"writers ({on['n_writers']}): {on['writers'] * 100:.2f}% of a core, {on['rss_kb'] / 1024:.0f} MB RSS in all, "
          f"{on['pss_kb'] / 1024:.0f} MB PSS ({on['pss_kb'] / max(1, on['n_writers']) / 1024:.1f} MB each)")
    print(f"trail cost (writers + extra tmux): {(on['writers'] + max(0.0, extra)) * 100:.2f}% of a core")
    print(f"disk: {disk / 1024:.0f} KiB in {files} files; bound 2 x {max_bytes // 1024} KiB x {agents} = "
          f"{2 * max_bytes * agents // 1024} KiB")


if __name__ == "__main__":
    main()
