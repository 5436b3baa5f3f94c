"""Shared set-up for the supervision benches: a throwaway town with one rig, on a private tmux socket."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


@contextlib.contextmanager
def fleet_town(settings: dict | None = None, rig_config: dict | None = None, *, bare_upstream: bool = False):
    """With `bare_upstream`, the rig is added from a bare clone at `<tmp>/upstream.git` (as from a git server)."""
    os.environ["GT_TMUX_SOCKET"] = f"gt-bench-{os.getpid()}"
    for var in ("GT_TOWN_ROOT", "BD_ACTOR", "GT_ROLE", "GT_RIG", "TMUX"):
        os.environ.pop(var, None)
    os.environ.setdefault("GIT_AUTHOR_NAME", "Bench")
    os.environ.setdefault("GIT_AUTHOR_EMAIL", "bench@example.com")
    os.environ.setdefault("GIT_COMMITTER_NAME", "Bench")
    os.environ.setdefault("GIT_COMMITTER_EMAIL", "bench@example.com")
    os.environ["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    from gastown_tui.infra.tmux import Tmux
    from gastown_tui.town.config import load_settings
    from gastown_tui.town.install import install_town
    from gastown_tui.town.rigs import add_rig

    with tempfile.TemporaryDirectory(prefix="gt-bench-") as d:
        proj = Path(d) / "project"
        proj.mkdir()
        subprocess.run(["git", "init", "-q", "-b", "main", str(proj)], check=True)
        (proj / "README.md").write_text("# bench\n")
        subprocess.run(["git", "-C", str(proj), "add", "-A"], check=True)
        subprocess.run(["git", "-C", str(proj), "commit", "-qm", "init"], check=True)
        town = install_town(Path(d) / "town", name="bench", owner="bench@example.com").town
        source = proj
        if bare_upstream:
            source = Path(d) / "upstream.git"
            subprocess.run(["git", "clone", "-q", "--bare", str(proj), str(source)], check=True)
        add_rig(town, "demo", str(source))
        s = load_settings(town.root)
        for k, v in (settings or {}).items():
            s.set(k, v)
        s.save()
        for k, v in (rig_config or {}).items():
            gt(town, "rig", "config", "set", "demo", k, str(v))
        tm = Tmux.for_town(town)
        try:
            yield town, tm
        finally:
            gt(town, "down")
            tm.kill_server()


def gt(town, *args: str) -> subprocess.CompletedProcess:
    r = subprocess.run([str(BIN / "gt"), "--town", str(town.root), *args], capture_output=True, text=True)
    if r.returncode != 0 and args[0] not in ("down",):
        raise SystemExit(f"gt {' '.join(args)} failed: {r.stderr or r.stdout}")
    return r


def events(town) -> list[dict]:
    path = town.root / ".events.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()] if path.exists() else []


def wait(cond, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)
