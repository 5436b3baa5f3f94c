"""Sling latency: `gt sling BEAD RIG --agent sim` until the agent's session is running.

Budget (issue 5): ≤ 2 s. For each of N beads: run the real CLI (new polecat: name, worktree,
redirect, agent bead, hook, tmux session), then poll tmux until the session's pane is alive and
the sim has drawn its screen. Prints the CLI wall time and the time to a running agent.
Usage: python bench/sling_latency.py [N]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        sock = f"gt-bench-{os.getpid()}"
        env = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
               "GT_TMUX_SOCKET": sock, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
               "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com",
               "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
        proj = tmp / "proj"
        proj.mkdir()
        (proj / "README.md").write_text("# bench\n")
        for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "init"]):
            subprocess.run(["git", *args], cwd=proj, env=env, check=True)
        town = tmp / "town"
        run = lambda *a, cwd=town: subprocess.run([str(BIN / a[0]), *a[1:]], cwd=cwd, env=env,  # noqa: E731
                                                 capture_output=True, text=True, check=True)
        run("gt", "install", str(town), "--owner", "bench@example.com", cwd=tmp)
        run("gt", "rig", "add", "demo", str(proj))
        clone = town / "demo" / "mayor" / "rig"
        # sim:stall keeps each polecat busy after start, so every sling spawns a new one
        beads = [json.loads(run("bd", "create", f"bench {i}", "-l", "sim:stall", "--json", cwd=clone).stdout)["id"]
                 for i in range(n)]
        cli, ready = [], []
        try:
            for b in beads:
                t0 = time.perf_counter()
                out = json.loads(run("gt", "sling", b, "demo", "--agent", "sim", "--no-convoy", "--json").stdout)
                t1 = time.perf_counter()
                session = out["assignments"][0]["session"]
                while True:
                    p = subprocess.run(["tmux", "-L", sock, "capture-pane", "-p", "-t", f"={session}:"],
                                       capture_output=True, text=True, env=env)
                    if p.returncode == 0 and "sim agent" in p.stdout:
                        break
                    if time.perf_counter() - t0 > 30:
                        raise SystemExit(f"{session} did not start within 30 s")
                    time.sleep(0.01)
                t2 = time.perf_counter()
                cli.append(t1 - t0)
                ready.append(t2 - t0)
        finally:
            subprocess.run(["tmux", "-L", sock, "kill-server"], capture_output=True)
        print(f"slings: {n} (each a new polecat)")
        print(f"gt sling CLI wall     median {statistics.median(cli) * 1000:7.1f} ms  max {max(cli) * 1000:7.1f} ms")
        print(f"sling -> agent running median {statistics.median(ready) * 1000:7.1f} ms  max {max(ready) * 1000:7.1f} ms"
              f"  (budget 2000 ms)")


if __name__ == "__main__":
    main()
