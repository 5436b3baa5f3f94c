"""gt doctor: finds problems, --fix repairs the safe ones and says so."""

from __future__ import annotations

import json

import pytest

from gastown_tui.agents.heartbeat import write_heartbeat
from gastown_tui.infra.tmux import Tmux
from tests.work_helpers import gt


def checks(town, *extra) -> tuple[int, dict]:
    r = gt(town, "doctor", "--json", *extra)
    return r.returncode, {c["name"]: c for c in json.loads(r.stdout)["checks"]}


def test_healthy_town(rig_town):
    rc, c = checks(rig_town)
    assert rc == 0
    assert {"tmux", "tmux socket", "town files", "beads stores", "routes", "orphans", "heartbeats", "daemon"} <= set(c)
    assert c["beads stores"]["status"] == "ok" and c["routes"]["status"] == "ok"
    assert c["daemon"]["status"] == "warn"


@pytest.mark.tmux
def test_orphans_and_stale_heartbeats_are_fixed(rig_town):
    town = rig_town
    tm = Tmux.for_town(town)
    tm.new_session("gt-ghost-rig", ["sleep", "600"], cwd=town.root)
    write_heartbeat(town, "gt-old-witness", role="witness", rig="old")
    (town.runtime_dir / "daemon.pid").write_text("999999\n")
    try:
        rc, c = checks(town)
        assert c["orphans"]["status"] == "warn" and "gt-ghost-rig" in c["orphans"]["message"]
        assert c["heartbeats"]["status"] == "warn"
        assert "stale pidfile" in c["daemon"]["message"]
        rc, c = checks(town, "--fix")
        assert "killed orphaned session gt-ghost-rig" in c["orphans"]["fixed"]
        assert c["heartbeats"]["fixed"] and c["daemon"]["fixed"] == ["removed the stale daemon pidfile"]
        assert "gt-ghost-rig" not in tm.list_sessions()
        rc, c = checks(town)
        assert c["orphans"]["status"] == "ok" and c["heartbeats"]["status"] == "ok"
    finally:
        tm.kill_session("gt-ghost-rig")


def test_a_broken_store_fails_with_a_fix(rig_town):
    town = rig_town
    with open(town.beads_dir / "issues.jsonl", "a") as f:
        f.write("{not json\n")
    r = gt(town, "doctor")
    assert r.returncode == 1
    assert "✗ beads stores" in r.stdout and "fix:" in r.stdout
    assert "Traceback" not in r.stderr
