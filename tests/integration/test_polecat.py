"""gt polecat list|status|nuke|gc|stale."""

from __future__ import annotations

import subprocess

import pytest

from gastown_tui.agents import agent_beads
from gastown_tui.town.identity import Agent
from tests.work_helpers import bead, branches, gt, gt_json, one_sentence, rig_store, sessions
from tests.work_helpers import sleeper_town  # noqa: F401 - a fixture

pytestmark = pytest.mark.tmux  # every test here starts tmux sessions


ROW_KEYS = {"name", "rig", "address", "session", "path", "state", "hook_bead", "branch", "runtime", "session_alive"}


@pytest.fixture
def town(sleeper_town):  # noqa: F811 - the shared fixture, under the name these tests use
    return sleeper_town


def test_list_status_and_stale(town):
    b = bead(town, "work")
    gt_json(town, "sling", b.id, "demo", "--agent", "sleeper", "--no-convoy")
    (row,) = gt_json(town, "polecat", "list", "demo")
    assert ROW_KEYS <= set(row)
    assert (row["name"], row["state"], row["hook_bead"], row["runtime"], row["session_alive"]) == (
        "furiosa", "working", b.id, "sleeper", True)
    st = gt_json(town, "polecat", "status", "demo/furiosa")
    assert st["commits_ahead"] == 0 and st["dirty"] is False and st["branch"] == row["branch"]
    assert gt_json(town, "polecat", "stale") == []
    from gastown_tui.infra.tmux import Tmux

    Tmux.for_town(town).kill_session("gt-demo-furiosa")
    (stale,) = gt_json(town, "polecat", "stale")
    assert stale["name"] == "furiosa" and stale["state"] == "dead"
    r = gt(town, "polecat", "status", "ghost", "--rig", "demo")
    assert r.returncode == 1 and "no polecat 'ghost'" in one_sentence(r)


def test_nuke_refuses_unmerged_work_without_force(town):
    b = bead(town, "work")
    res = gt_json(town, "sling", b.id, "demo", "--agent", "sleeper", "--no-convoy")
    branch = res["assignments"][0]["branch"]
    wt = town.rig("demo").polecat("furiosa")
    (wt / "x.txt").write_text("x")
    subprocess.run(["git", "-C", str(wt), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(wt), "commit", "-qm", "work"], check=True)
    r = gt(town, "polecat", "nuke", "furiosa")
    assert r.returncode == 1 and "1 unmerged commit(s)" in one_sentence(r) and "--force" in r.stderr
    assert wt.exists() and branch in branches(town.rig("demo").bare_repo)
    r = gt(town, "polecat", "nuke", "furiosa", "--force", "--json")
    assert r.returncode == 0, r.stderr
    assert not wt.exists()
    assert branch not in branches(town.rig("demo").bare_repo)
    assert "gt-demo-furiosa" not in sessions(town)
    iss = rig_store(town).get(b.id)
    assert (iss.status, iss.assignee) == ("open", "")
    ab = agent_beads.get(town, Agent("polecat", "demo", "furiosa"))
    assert ab.status == "closed" and ab.get("agent_state") == "dead"
    assert gt_json(town, "polecat", "list") == []
    # the name is free again and the agent bead comes back to life
    b2 = bead(town, "again")
    assert gt_json(town, "sling", b2.id, "demo", "--agent", "sleeper", "--no-convoy")["assignments"][0]["name"] == "furiosa"
    assert agent_beads.get(town, Agent("polecat", "demo", "furiosa")).status == "open"


def test_gc_removes_only_polecats_holding_nothing(town):
    a, b = bead(town, "a"), bead(town, "b")
    gt_json(town, "sling", a.id, b.id, "demo", "--agent", "sleeper", "--no-convoy")
    agent_beads.set_state(town, Agent("polecat", "demo", "furiosa"), "idle", hook_bead="")
    removed = gt_json(town, "polecat", "gc")
    assert [r["name"] for r in removed] == ["furiosa"]
    assert [p["name"] for p in gt_json(town, "polecat", "list")] == ["nux"]
