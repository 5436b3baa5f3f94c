"""Cockpit performance with the real fixture (5,306 beads) and 30 agents (issue 14 budgets).

Prints, with the budget beside each figure:
  first paint (headless app and a real `gt tui` process in a tmux pane)  ≤ 0.7 s
  bead change -> screen, p95 (a bead written through the store)          ≤ 250 ms
  keypress -> repaint, p95 (a key into the outer pane -> first bytes back) ≤ 30 ms
  idle CPU of the cockpit process (+ its children, live and reaped)      ≤ 1.5-2 % of a core
  CPU with all 30 agents printing                                        ≤ 15 % of a core
  RSS of the cockpit process                                             ≤ 200 MB
  selected agent's output -> outer tmux pane, p95                        ≤ 30 ms
  selected agent's output -> output widget, p95 (in-process, headless)   (for comparison)

"Through tmux" figures are what a control-mode client on the outer session receives: the
cockpit's work, its terminal writes and the outer tmux server; not the user's terminal drawing.

Usage: python bench/tui_cockpit.py [SECONDS_PER_CPU_SAMPLE]   (default 10)
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _fleet_common import BIN, fleet_town, wait  # noqa: E402

FIXTURE = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "real" / "gastown-issues.jsonl"
AGENTS = 30


def p95(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(0.95 * (len(xs) - 1))))]


def proc_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def start_agents(town, tm, flag: Path) -> None:
    loop = f'while true; do if [ -f "{flag}" ]; then echo "\033[32mworking\033[0m line $(date +%s%N)"; fi; sleep 0.2; done'
    for i in range(AGENTS):
        tm.new_session(f"gt-demo-p{i:02d}", ["sh", "-c", loop], cwd=town.root, width=120, height=40)


async def headless(town) -> dict[str, float]:
    from gastown_tui.beads.store import open_store
    from gastown_tui.tui.app import CockpitApp
    from gastown_tui.tui.source import TownSource

    t0 = time.perf_counter()
    app = CockpitApp(TownSource(town))
    out: dict[str, float] = {}
    async with app.run_test(size=(160, 50)) as pilot:
        while app.snapshot is None:
            await pilot.pause(0.005)
        await pilot.pause()
        out["first_paint"] = time.perf_counter() - t0
        out["agents_shown"] = len(app.snapshot.agents)
        beads_dir = town.rig("demo").beads_dir
        lat = []
        for i in range(20):
            title = f"bench bead {i}"
            started = time.perf_counter()
            await asyncio.to_thread(lambda t=title: open_store(db=beads_dir).create(t))
            while not any(b.title == title for b in app.snapshot.ready):
                await pilot.pause(0.005)
            lat.append(time.perf_counter() - started)
        out["bead_p95"] = p95(lat)
        out["bead_median"] = statistics.median(lat)
        # output -> the output widget's lines, in process (no outer terminal in the measurement):
        # select p00, let all 30 print, and take the age of each stamped line when it first shows
        from gastown_tui.tui.widgets.output import AgentOutput

        app.select_agent("demo/polecats/p00") if app.snapshot.agent("demo/polecats/p00") else None
        flag = town.runtime_dir / "bench-print"
        flag.write_text("go")
        w = app.query_one("#output", AgentOutput)
        seen, lags = 0, []
        end = time.monotonic() + 6
        while time.monotonic() < end:
            stamps = [int(m) for m in re.findall(r"line (\d{16,})", "\n".join(w.plain.split("\n")[-5:]))]
            if stamps and max(stamps) > seen:
                seen = max(stamps)
                lags.append(time.time() - seen / 1e9)
            await pilot.pause(0.002)
        flag.unlink()
        out["inproc_p95"] = p95(lags) if lags else float("nan")
        out["inproc_median"] = statistics.median(lags) if lags else float("nan")
    return out


class OuterView:
    """What a user attached to the outer tmux sees, as it arrives: a control-mode client on the
    outer session streams the bytes the cockpit writes to its pane (`%output`), each stamped on
    arrival by a reader thread. Keys go in through the same client (`send-keys`, no process
    started per key). The figures therefore include the cockpit's work, its terminal writes, and
    the outer tmux server reading them and passing them on; they leave out only the user's own
    terminal drawing the bytes. The bench's overhead is one pipe read per chunk."""

    def __init__(self, socket_name: str, session: str) -> None:
        import subprocess
        import threading

        self.proc = subprocess.Popen([shutil.which("tmux") or "tmux", "-L", socket_name, "-C", "attach-session",
                                      "-t", f"={session}", "-f", "ignore-size"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.session = session
        self.chunks: list[tuple[float, float, bytes]] = []  # (perf_counter, wall time, bytes)
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        from gastown_tui.infra.watch import _unescape

        for raw in self.proc.stdout:
            if raw.startswith(b"%output "):
                now, wall = time.perf_counter(), time.time()
                data = _unescape(raw.rstrip(b"\n").split(b" ", 2)[2])
                with self.cond:
                    self.chunks.append((now, wall, data))
                    self.cond.notify_all()

    def send_key(self, key: str) -> float:
        started = time.perf_counter()
        self.proc.stdin.write(f"send-keys -t ={self.session}: {key}\n".encode())
        self.proc.stdin.flush()
        return started

    def first_output_after(self, t: float, timeout: float = 5.0) -> float | None:
        deadline = time.perf_counter() + timeout
        with self.cond:
            while True:
                first = None
                for at, _w, _d in reversed(self.chunks):
                    if at <= t:
                        break
                    first = at
                if first is not None:
                    return first
                left = deadline - time.perf_counter()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def mark(self) -> tuple[int, int]:
        with self.cond:
            return len(self.chunks), time.time_ns()

    def stamp_lags(self, since: tuple[int, int]) -> list[float]:
        """For each line printed after `since`, its age when the outer pane first received it."""
        with self.cond:
            chunks = self.chunks[since[0]:]
        lags, newest, carry = [], since[1], ""
        for _at, wall, data in chunks:
            text = carry + _ANSI.sub("", data.decode("utf-8", errors="replace"))
            for m in re.finditer(r"line (\d{19})", text):
                stamp = int(m.group(1))
                if stamp > newest:
                    newest = stamp
                    lags.append(wall - stamp / 1e9)
            carry = text[-40:]
        return lags

    def close(self) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=2)
        except Exception:  # noqa: BLE001 - best effort: our own child
            self.proc.kill()


_ANSI = re.compile(r"\x1b(?:\[[0-9;:?<=>]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|P[^\x1b]*\x1b\\|[()][0-9A-Za-z]|[@-Z\\-_])")


def tree_cpu(pid: int) -> float:
    """CPU seconds of `pid`, its reaped children and its live children (the control client)."""
    total = proc_cpu(pid)
    try:
        kids = []
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                kids += [int(k) for k in f.read().split()]
        for k in kids:
            total += proc_cpu(k)
    except OSError:
        pass
    return total


def real_process(town, seconds: float, flag: Path) -> dict[str, float]:
    from gastown_tui.infra.tmux import Tmux

    outer = Tmux(f"gt-bench-outer-{os.getpid()}")
    env = {"GT_TMUX_SOCKET": os.environ["GT_TMUX_SOCKET"], "TERM": "xterm-256color"}
    out: dict[str, float] = {}
    view = None
    try:
        t0 = time.perf_counter()
        info = outer.new_session("cockpit", [str(BIN / "gt"), "tui", "--town", str(town.root)], cwd=town.root,
                                 env=env, width=160, height=50)
        wait(lambda: "workers" in outer.capture_many(["cockpit"], ansi=False).get("cockpit", ""), 30, "the cockpit", 0.01)
        out["real_first_paint"] = time.perf_counter() - t0
        pid = info.pid
        view = OuterView(outer.socket_name, "cockpit")
        time.sleep(3)  # let it settle (first captures, watch start)
        # select the first polecat (tree: mayor, deacon, rig, witness, refinery, polecats, p00), so the
        # streamed output of the visible agent is part of every figure below
        for k in ["1", *["Down"] * 6]:
            view.send_key(k)
            time.sleep(0.05)
        time.sleep(1)
        c0, w0 = tree_cpu(pid), time.monotonic()
        time.sleep(seconds)
        out["idle_cpu_pct"] = 100 * (tree_cpu(pid) - c0) / (time.monotonic() - w0)
        # keypress -> repaint as a user sees it: a key into the outer pane, then the first bytes the
        # cockpit writes back (agents idle, so nothing else repaints)
        keys = []
        for i in range(40):
            time.sleep(0.15)
            started = view.send_key("Down" if i % 20 < 10 else "Up")
            seen = view.first_output_after(started)
            if seen is not None:
                keys.append(seen - started)
        out["key_p95"], out["key_median"] = p95(keys), statistics.median(keys)
        # back on p00 (the walk above returns to where it started)
        flag.write_text("go")
        time.sleep(2)
        c0, w0 = tree_cpu(pid), time.monotonic()
        mark = view.mark()
        time.sleep(seconds)
        out["busy_cpu_pct"] = 100 * (tree_cpu(pid) - c0) / (time.monotonic() - w0)
        out["rss_mb"] = rss_mb(pid)
        # agent output -> outer pane: each line carries its birth time (ns); the age of each new
        # newest stamp when its bytes reached the outer client
        lags = view.stamp_lags(mark)
        out["output_n"] = len(lags)
        out["output_p95"] = p95(lags) if lags else float("nan")
        out["output_median"] = statistics.median(lags) if lags else float("nan")
        out["output_max"] = max(lags) if lags else float("nan")
        flag.unlink()
    finally:
        if view is not None:
            view.close()
        outer.kill_server()
    return out


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
    load_before = os.getloadavg()[0]
    with fleet_town() as (town, tm):
        beads_dir = town.rig("demo").beads_dir
        shutil.copy(FIXTURE, beads_dir / "issues.jsonl")
        flag = town.runtime_dir / "bench-print"
        start_agents(town, tm, flag)
        h = asyncio.run(headless(town))
        r = real_process(town, seconds, flag)
    print(f"cockpit bench: {AGENTS} agents, real fixture ({FIXTURE.name}), {h['agents_shown']:.0f} agents shown; "
          f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after, {os.cpu_count()} cores")
    print(f"  first paint (headless)        {h['first_paint'] * 1000:7.0f} ms   budget 700 ms")
    print(f"  first paint (gt tui in tmux)  {r['real_first_paint'] * 1000:7.0f} ms   budget 700 ms")
    print(f"  bead change -> screen  p95    {h['bead_p95'] * 1000:7.0f} ms   (median {h['bead_median'] * 1000:.0f})   budget 250 ms")
    print(f"  keypress -> repaint    p95    {r['key_p95'] * 1000:7.1f} ms   (median {r['key_median'] * 1000:.1f}; "
          "key into the outer pane to the first bytes back)   budget 30 ms")
    print(f"  idle CPU                      {r['idle_cpu_pct']:7.2f} %    budget 1.5-2 % of a core")
    print(f"  30 agents printing CPU        {r['busy_cpu_pct']:7.2f} %    budget 15 % of a core")
    print(f"  agent output -> outer pane p95 {r['output_p95'] * 1000:6.1f} ms   (median {r['output_median'] * 1000:.1f}, "
          f"max {r['output_max'] * 1000:.0f}, {r['output_n']:.0f} lines; control client on the outer session)   budget 30 ms")
    print(f"  output -> widget p95 (in-process, headless)  {h['inproc_p95'] * 1000:7.1f} ms   "
          f"(median {h['inproc_median'] * 1000:.1f})   target 30 ms")
    print(f"  RSS                           {r['rss_mb']:7.1f} MB   budget 200 MB")


if __name__ == "__main__":
    main()
