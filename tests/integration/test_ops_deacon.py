"""The deacon's share of the operations work: a cost spike found on patrol is escalated."""

from __future__ import annotations

import json
import time

import pytest

from gastown_tui.infra.tmux import Tmux
from gastown_tui.patrols import deacon
from gastown_tui.patrols.deacon import DeaconConfig, DeaconContext
from gastown_tui.town.config import load_settings
from gastown_tui.work.escalation import list_escalations

pytestmark = pytest.mark.tmux


@pytest.fixture
def town(rig_town):
    yield rig_town
    tm = Tmux.for_town(rig_town)
    for sess in tm.list_sessions():
        tm.kill_session(sess)


def test_deacon_patrol_escalates_a_cost_spike_once(town):
    s = load_settings(town.root)
    s.set("costs.spike_usd_per_hour", 0.01)
    s.set("costs.spike_include_simulated", True)
    s.set("costs.check_seconds", 0)
    s.save()
    usage = town.runtime_dir / "sim" / "usage.jsonl"
    usage.parent.mkdir(parents=True, exist_ok=True)
    usage.write_text(json.dumps({"ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "session": "gt-demo-nux",
                                 "bead": "de-1", "input_tokens": 200_000, "output_tokens": 20_000, "simulated": True}) + "\n")
    logs: list[str] = []
    ctx = DeaconContext(town, log=logs.append)
    rep = deacon.patrol_once(ctx, DeaconConfig(feed_convoys=False))
    assert rep["cost_spike"] and rep["cost_spike"]["usd"] == pytest.approx(0.9)
    assert any("cost spike" in m for m in logs)
    assert deacon.patrol_once(ctx, DeaconConfig(feed_convoys=False))["cost_spike"] is None
    assert len([e for e in list_escalations(town) if e.data.get("category") == "cost"]) == 1
