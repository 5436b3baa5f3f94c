"""gt up/down/start/shutdown and rig reboot against real tmux and git."""

from __future__ import annotations

import json
import subprocess

import pytest

from gastown_tui.infra.tmux import Tmux
from gastown_tui.town.config import load_settings
from tests.conftest import wait_for
from tests.work_helpers import add_runtime, bead, gt, sessions


pytestmark = pytest.mark.tmux  # every test here starts tmux sessions


@pytest.fixture
def town(rig_town):
    s = load_settings(rig_town.root)
    s.set("daemon.tick_seconds", 1)
    s.set("deacon.patrol_seconds", 1)
    s.set("witness.patrol_seconds", 1)
    s.set("refinery.patrol_seconds", 1)
    s.save()
    add_runtime(rig_town, "sleeper", "sleep", ["3600"])
    yield rig_town
    gt(rig_town, "down")
    tm = Tmux.for_town(rig_town)
    for sess in tm.list_sessions():
        tm.kill_session(sess)


SERVICES = {"gt-deacon", "gt-demo-witness", "gt-demo-refinery"}


def test_up_is_idempotent_and_down_keeps_worktrees(town):
    r = gt(town, "up", "--no-mayor", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["daemon"]["action"] == "started"
    assert {a["session"] for a in out["agents"]} == SERVICES
    assert SERVICES <= set(sessions(town))
    r = gt(town, "up", "--no-mayor", "--json")
    out = json.loads(r.stdout)
    assert out["daemon"]["action"] == "already running"
    assert all(a["action"] == "already running" for a in out["agents"])
    b = bead(town, "keep me")
    assert gt(town, "sling", b.id, "demo", "--agent", "sleeper", "--no-convoy").returncode == 0
    st = json.loads(gt(town, "status", "--json").stdout)
    pole = [a for a in st["agents"] if a["role"] == "polecat"]
    assert pole and pole[0]["hook"] == b.id and pole[0]["unread_mail"] >= 0
    assert st["services"]["rigs"]["demo"]["witness"]["state"] == "running"
    # Patrol loops have no prompt: once they beat, the status engine calls them working.
    witness = wait_for(lambda: [a for a in json.loads(gt(town, "status", "--json").stdout)["agents"]
                                if a["agent"] == "demo/witness" and a["state"] == "working"],
                       timeout=30, message="the witness to be reported working by its heartbeat")
    assert "heartbeat" in witness[0]["reason"]
    r = gt(town, "down")
    assert r.returncode == 0, r.stderr
    assert sessions(town) == []
    assert town.rig("demo").polecat(pole[0]["agent"].rsplit("/", 1)[-1]).is_dir()
    # start --all brings back services and the polecat with hooked work.
    r = gt(town, "start", "--all", "--json")
    assert r.returncode == 0, r.stderr
    assert SERVICES <= set(sessions(town)) and pole[0]["session"] in sessions(town)


def test_shutdown_never_deletes_unmerged_work_without_force(town):
    b1, b2 = bead(town, "unmerged"), bead(town, "empty")
    assert gt(town, "sling", b1.id, b2.id, "demo", "--agent", "sleeper", "--no-convoy").returncode == 0
    rp = town.rig("demo")
    names = sorted(p.name for p in rp.polecats_dir.iterdir())
    wt = rp.polecat(names[0])
    (wt / "new.txt").write_text("work\n")
    subprocess.run(["git", "-C", str(wt), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(wt), "commit", "-qm", "work"], check=True)
    r = gt(town, "shutdown", "--polecats-only", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert [k["agent"] for k in out["kept"]] == [f"demo/polecats/{names[0]}"]
    assert out["removed"] == [f"demo/polecats/{names[1]}"]
    assert wt.is_dir() and not rp.polecat(names[1]).exists()
    assert f"gt-demo-{names[0]}" not in sessions(town)
    r = gt(town, "shutdown", "--force", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["removed"] == [f"demo/polecats/{names[0]}"]
    assert not wt.exists()


def test_rig_reboot_restarts_the_patrols(town):
    r = gt(town, "rig", "reboot", "demo", "--json")
    assert r.returncode == 0, r.stderr
    tm = Tmux.for_town(town)
    first = tm.panes()["gt-demo-witness"].pid
    r = gt(town, "rig", "reboot", "demo")
    assert r.returncode == 0 and "demo/witness restarted" in r.stdout
    assert tm.panes()["gt-demo-witness"].pid != first
    r = gt(town, "rig", "reboot", "nope")
    assert r.returncode == 1 and "no rig named 'nope'" in r.stderr
