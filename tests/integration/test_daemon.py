"""The daemon as a real background process: one per town, boot restarts the deacon, beads commits."""

from __future__ import annotations

import json
import subprocess

import pytest

from gastown_tui.beads.store import Store
from gastown_tui.infra.tmux import Tmux
from gastown_tui.town.config import load_settings
from tests.conftest import wait_for
from tests.work_helpers import gt, one_sentence, sessions


pytestmark = pytest.mark.tmux  # every test here starts tmux sessions


@pytest.fixture
def town(town):
    s = load_settings(town.root)
    s.set("daemon.tick_seconds", 1)
    s.set("daemon.commit_debounce_seconds", 0)
    s.set("deacon.patrol_seconds", 1)
    s.set("deacon.heartbeat_stale_seconds", 3)
    s.save()
    yield town
    gt(town, "daemon", "stop")
    tm = Tmux.for_town(town)
    for sess in tm.list_sessions():
        tm.kill_session(sess)


def status(town) -> dict:
    r = gt(town, "daemon", "status", "--json")
    return json.loads(r.stdout)


def test_start_status_single_instance_stop(town):
    assert status(town)["running"] is False
    r = gt(town, "daemon", "start")
    assert r.returncode == 0, r.stderr
    st = status(town)
    assert st["running"] is True and st["pid"] > 0
    assert (town.runtime_dir / "daemon.pid").read_text().strip() == str(st["pid"])
    r = gt(town, "daemon", "start")
    assert r.returncode == 1 and "already runs" in one_sentence(r)
    r = gt(town, "daemon", "run", "--once")
    assert r.returncode == 1 and "already runs" in one_sentence(r)
    # Boot sees no deacon and starts one; the deacon writes its heartbeat.
    wait_for(lambda: "gt-deacon" in sessions(town), timeout=30, message="boot started the deacon")
    wait_for(lambda: (town.heartbeats_dir / "gt-deacon.json").exists(), timeout=30, message="deacon heartbeat")
    r = gt(town, "daemon", "logs", "-n", "20")
    assert "daemon starting" in r.stdout
    r = gt(town, "daemon", "stop")
    assert r.returncode == 0 and "stopped" in r.stdout
    assert status(town)["running"] is False
    assert not (town.runtime_dir / "daemon.pid").exists()
    r = gt(town, "daemon", "stop")
    assert r.returncode == 0 and "not running" in r.stdout


def test_boot_restarts_a_killed_deacon(town):
    r = gt(town, "daemon", "start")
    assert r.returncode == 0, r.stderr
    wait_for(lambda: "gt-deacon" in sessions(town), timeout=30, message="deacon up")
    tm = Tmux.for_town(town)
    first = tm.panes()["gt-deacon"].pid
    tm.kill_session("gt-deacon")
    wait_for(lambda: (p := tm.panes().get("gt-deacon")) and p.pid != first, timeout=30,
             message="boot restarted the deacon")

    def boot_state():
        try:
            st = json.loads((town.boot_dir / "state.json").read_text())
        except (FileNotFoundError, ValueError):
            return None
        return st if st.get("restarts", 0) >= 2 else None

    state = wait_for(boot_state, timeout=30, message="boot recorded the second start")
    assert "no deacon session" in state["last_restart"]["reason"]


def test_run_once_commits_changed_beads(town):
    Store(town.beads_dir).create("something to remember")
    r = gt(town, "daemon", "run", "--once")
    assert r.returncode == 0, r.stderr
    log = subprocess.run(["git", "-C", str(town.root), "log", "--format=%s", "-3"], capture_output=True,
                         text=True, check=True).stdout
    assert "beads: sync (gt daemon)" in log
    porcelain = subprocess.run(["git", "-C", str(town.root), "status", "--porcelain", "--", ".beads"],
                               capture_output=True, text=True, check=True).stdout
    assert porcelain == ""
