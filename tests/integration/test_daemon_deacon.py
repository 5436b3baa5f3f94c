"""The deacon's patrol against a real town: patrols kept running, stale escalations re-routed,
stranded convoys fed, landed convoys closed, orphans reported."""

from __future__ import annotations

import json

import pytest

from gastown_tui.infra.tmux import Tmux
from gastown_tui.patrols import deacon
from gastown_tui.patrols.deacon import DeaconConfig, DeaconContext
from gastown_tui.work import escalation
from tests.conftest import wait_for
from tests.work_helpers import add_runtime, bead, gt, gt_json, sessions


pytestmark = pytest.mark.tmux  # every test here starts tmux sessions


@pytest.fixture
def town(rig_town):
    add_runtime(rig_town, "sleeper", "sleep", ["3600"])
    from gastown_tui.town.config import load_settings

    s = load_settings(rig_town.root)
    s.set("default_agent", "sleeper")
    s.save()
    yield rig_town
    tm = Tmux.for_town(rig_town)
    for sess in tm.list_sessions():
        tm.kill_session(sess)


def test_deacon_starts_patrols_and_leaves_parked_rigs_alone(town):
    logs: list[str] = []
    rep = deacon.patrol_once(DeaconContext(town, log=logs.append), DeaconConfig(feed_convoys=False))
    assert sorted(rep["started"]) == ["gt-demo-refinery", "gt-demo-witness"]
    assert {"gt-demo-witness", "gt-demo-refinery"} <= set(sessions(town))
    rep = deacon.patrol_once(DeaconContext(town), DeaconConfig(feed_convoys=False))
    assert rep["started"] == []
    assert gt(town, "rig", "park", "demo").returncode == 0
    deacon.patrol_once(DeaconContext(town), DeaconConfig(feed_convoys=False))
    wait_for(lambda: not {"gt-demo-witness", "gt-demo-refinery"} & set(sessions(town)), timeout=10,
             message="parked rig's patrols stopped")
    assert (town.heartbeats_dir / "gt-deacon.json").exists()


def test_deacon_reescalates_stale_escalations(town):
    e = escalation.create_escalation(town, "nobody answers", severity="low", now=1000.0)
    rep = deacon.patrol_once(DeaconContext(town), DeaconConfig(stale_seconds=60, feed_convoys=False), now=2000.0)
    assert rep["reescalated"] == [e.id]
    assert escalation.get_escalation(town, e.id).data["routed_to"] == "mayor"
    rep = deacon.patrol_once(DeaconContext(town), DeaconConfig(stale_seconds=60, feed_convoys=False), now=2010.0)
    assert rep["reescalated"] == []


def test_deacon_feeds_stranded_convoys_and_lands_finished_ones(town):
    b1, b2 = bead(town, "ready work"), bead(town, "done already")
    conv = gt_json(town, "convoy", "create", "batch", b1.id, "--notify", "overseer")
    rep = deacon.patrol_once(DeaconContext(town), DeaconConfig())
    assert rep["fed"] == [b1.id]
    from gastown_tui.beads.store import Store

    store = Store(town.rig("demo").beads_dir)
    assert store.get(b1.id).status == "hooked"
    done = gt_json(town, "convoy", "create", "finished", b2.id, "--notify", "overseer")
    store.close(b2.id, "done")
    rep = deacon.patrol_once(DeaconContext(town), DeaconConfig())
    assert done["id"] in rep["landed"] and conv["id"] not in rep["landed"]
    inbox = gt_json(town, "mail", "inbox", "overseer")
    assert any("landed" in m["subject"].lower() for m in inbox)


def test_deacon_reports_orphans_and_cli_once(town):
    tm = Tmux.for_town(town)
    tm.new_session("gt-demo-ghost", ["sleep", "600"], cwd=town.root)
    rep = deacon.patrol_once(DeaconContext(town), DeaconConfig(feed_convoys=False))
    assert "gt-demo-ghost" in rep["orphans"]["sessions"]
    r = gt(town, "deacon", "run", "--once")
    assert r.returncode == 0, r.stderr
    assert "orphaned session: gt-demo-ghost" in r.stdout
    st = json.loads(gt(town, "deacon", "status", "--json").stdout)
    assert st[0]["agent"] == "deacon" and st[0]["heartbeat_age"] is not None
