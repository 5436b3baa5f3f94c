"""Runtime helpers that outlive their agent: Codex starts an app-server daemon from the agent's
own CODEX_HOME (`.runtime/codex/<session>/packages/...`) that keeps running after the session
ends. `gt orphans` lists such processes, `gt cleanup` and `gt down` stop them."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.conftest import wait_for
from tests.work_helpers import gt

pytestmark = pytest.mark.tmux


def helper(town, session: str) -> subprocess.Popen:
    """A real process whose executable lives in the agent's runtime home, as Codex's daemon does."""
    bindir = town.runtime_dir / "codex" / session / "packages" / "bin"
    bindir.mkdir(parents=True)
    exe = bindir / "app-server"
    shutil.copy(shutil.which("sleep"), exe)
    return subprocess.Popen([str(exe), "600"], start_new_session=True)


def test_helpers_of_a_gone_session_are_orphans_and_cleanup_stops_only_them(rig_town, tmux):
    gone = helper(rig_town, "gt-demo-nux")
    tmux.new_session("gt-demo-slit", ["sleep", "600"], cwd=rig_town.root)  # its agent still runs
    live = helper(rig_town, "gt-demo-slit")
    try:
        r = gt(rig_town, "orphans", "--kind", "processes", "--json")
        assert r.returncode == 0, r.stderr
        found = json.loads(r.stdout)["processes"]
        assert [(p["pid"], p["session"], p["safe"]) for p in found] == [(gone.pid, "gt-demo-nux", True)]
        r = gt(rig_town, "cleanup", "--kind", "processes")
        assert r.returncode == 0 and f"removed process {gone.pid}" in r.stdout, r.stdout + r.stderr
        assert wait_for(lambda: gone.poll() is not None, timeout=10, message="the orphaned helper to exit")
        assert live.poll() is None  # the running agent's helper is left alone
    finally:
        for p in (gone, live):
            p.kill()
            p.wait()


def test_gt_down_stops_the_helpers_of_the_sessions_it_stopped(rig_town, tmux):
    tmux.new_session("gt-demo-nux", ["sleep", "600"], cwd=rig_town.root)
    h = helper(rig_town, "gt-demo-nux")
    try:
        r = gt(rig_town, "down", "--json")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["helpers_stopped"] == [h.pid]
        assert wait_for(lambda: h.poll() is not None, timeout=10, message="gt down to stop the helper")
    finally:
        h.kill()
        h.wait()
