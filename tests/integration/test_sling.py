"""gt sling: spawning polecats, refusals that change nothing, all-or-nothing rollback, reuse, takeover."""

from __future__ import annotations

import json
import re

import pytest

from gastown_tui.agents import agent_beads
from gastown_tui.town.identity import Agent
from gastown_tui.town.rigs import add_rig
from gastown_tui.town import events
from tests.conftest import make_git_repo, wait_for
from tests.work_helpers import (sleeper_town,  # noqa: F401 - fixture
                                add_runtime, bead, branches, gt, gt_json, one_sentence, rig_store, sessions,
                                snapshot, town_store, worktrees)


@pytest.fixture
def town(sleeper_town):  # noqa: F811 - the shared fixture, under the name these tests use
    return sleeper_town


@pytest.mark.tmux
def test_sling_to_a_rig_spawns_a_polecat(town):
    b = bead(town, "Fix the thing")
    res = gt_json(town, "sling", b.id, "demo", "--agent", "sleeper")
    (a,) = res["assignments"]
    assert a["agent"] == "demo/polecats/furiosa" and a["spawned"] is True and a["bead"] == b.id
    assert re.fullmatch(rf"polecat/furiosa/{b.id}-[0-9a-z]+", a["branch"])
    rp = town.rig("demo")
    wt = rp.polecat("furiosa")
    assert str(wt) in worktrees(rp.bare_repo)
    assert a["branch"] in branches(rp.bare_repo)
    assert (wt / ".beads" / "redirect").read_text().strip() == "../../mayor/rig/.beads"
    assert "gt-demo-furiosa" in sessions(town)
    iss = rig_store(town).get(b.id)
    assert (iss.status, iss.assignee) == ("hooked", "demo/polecats/furiosa")
    ab = agent_beads.get(town, Agent("polecat", "demo", "furiosa"))
    assert ab.issue_type == "agent"
    assert (ab.get("agent_state"), ab.get("hook_bead"), ab.get("rig"), ab.get("role_type")) == (
        "working", b.id, "demo", "polecat")
    conv = gt_json(town, "convoy", "status", res["convoy"])
    assert conv["total"] == 1 and conv["beads"][0]["assignee"] == "demo/polecats/furiosa"
    assert any(e["type"] == "sling" and e["payload"]["bead"] == b.id for e in events.read(town.root))
    # the hook as the agent sees it, from its worktree
    h = gt_json(town, "hook", cwd=wt)
    assert h["agent"] == "demo/polecats/furiosa" and h["bead"]["id"] == b.id
    prime = gt(town, "prime", cwd=wt).stdout
    assert b.id in prime and "gt done" in prime and "ESCALATED" in prime
    # the session has the agent's identity
    from gastown_tui.infra.tmux import Tmux

    env = Tmux.for_town(town).run("show-environment", "-t", "=gt-demo-furiosa").stdout.decode()
    assert "BD_ACTOR=demo/polecats/furiosa" in env and "GIT_AUTHOR_NAME=demo/polecats/furiosa" in env
    assert "GIT_AUTHOR_EMAIL=overseer@example.com" in env and f"GT_TOWN_ROOT={town.root}" in env


@pytest.mark.tmux
def test_several_beads_get_several_polecats_and_one_convoy(town):
    ids = [bead(town, f"task {i}").id for i in range(3)]
    res = gt_json(town, "sling", *ids, "demo", "--agent", "sleeper")
    agents = [a["agent"] for a in res["assignments"]]
    assert len(set(agents)) == 3
    conv = gt_json(town, "convoy", "status", res["convoy"])
    assert sorted(x["id"] for x in conv["beads"]) == sorted(ids)
    assert len(gt_json(town, "polecat", "list", "demo")) == 3


@pytest.mark.tmux
def test_refusals_change_nothing(town, tmp_path):
    add_rig(town, "other", str(make_git_repo(tmp_path / "other")))
    closed = bead(town, "closed one", status="closed")
    foreign = bead(town, "foreign", rig="other")
    held = bead(town, "held")
    gt_json(town, "sling", held.id, "demo", "--agent", "sleeper", "--no-convoy")
    before = snapshot(town)
    cases = [
        ((("de-zzzzz", "demo")), 1, "no bead de-zzzzz"),
        (((held.id, "nowhere")), 1, "no rig named 'nowhere'"),
        (((closed.id, "demo")), 1, "is closed"),
        (((held.id, "demo")), 1, "already hooked to demo/polecats/furiosa, which is running"),
        (((foreign.id, "demo")), 2, "belongs to rig 'other'"),
        (((held.id, "demo", "--agent", "nope")), 1, "already hooked"),
        ((("de-zzzzz",)), 2, "needs at least one bead and a target"),
    ]
    for args, code, text in cases:
        r = gt(town, "sling", *args)
        assert r.returncode == code, (args, r.stderr)
        assert text in one_sentence(r), (args, r.stderr)
    fresh = bead(town, "fresh")
    before = snapshot(town)
    r = gt(town, "sling", fresh.id, "demo", "--agent", "nope")
    assert r.returncode == 2 and "not an agent runtime" in one_sentence(r)
    r = gt(town, "sling", fresh.id, "demo", "--agent", "sleeper", "--dry-run", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["dry_run"] is True
    assert snapshot(town) == before


def test_a_runtime_that_cannot_start_rolls_everything_back(town):
    add_runtime(town, "broken", "/nonexistent/no-such-agent-program")
    a, b = bead(town, "one"), bead(town, "two")
    before = snapshot(town)
    events_before = len(events.read(town.root))
    r = gt(town, "sling", a.id, b.id, "demo", "--agent", "broken")
    assert r.returncode == 1 and "cannot start runtime 'broken'" in one_sentence(r)
    after = snapshot(town)
    assert after == before  # byte for byte: stores, branches, worktrees, names, sessions
    assert agent_beads.list_agents(town) == []
    assert town_store(town).list(type="convoy") == []
    assert rig_store(town).get(a.id).status == "open" and not rig_store(town).get(a.id).assignee
    assert len([e for e in events.read(town.root) if e["type"] == "sling"]) == 0
    assert len(events.read(town.root)) == events_before


@pytest.mark.tmux
def test_force_takes_a_live_hook_and_a_dead_agents_hook_is_taken_over(town):
    b = bead(town, "contested")
    gt_json(town, "sling", b.id, "demo", "--agent", "sleeper", "--no-convoy")
    r = gt(town, "sling", b.id, "demo/polecats/nux", "--agent", "sleeper", "--force", "--no-convoy", "--json")
    assert r.returncode == 0, r.stderr
    assert rig_store(town).get(b.id).assignee == "demo/polecats/nux"
    assert agent_beads.get(town, Agent("polecat", "demo", "furiosa")).get("hook_bead") in (None, "")
    # nux dies: its hook can be taken without --force
    from gastown_tui.infra.tmux import Tmux

    Tmux.for_town(town).kill_session("gt-demo-nux")
    r = gt(town, "sling", b.id, "demo/polecats/slit", "--agent", "sleeper", "--no-convoy")
    assert r.returncode == 0, r.stderr
    assert rig_store(town).get(b.id).assignee == "demo/polecats/slit"


@pytest.mark.tmux
def test_an_idle_polecat_is_reused_on_a_fresh_branch(town):
    first = bead(town, "first")
    gt_json(town, "sling", first.id, "demo", "--agent", "sleeper", "--no-convoy")
    agent = Agent("polecat", "demo", "furiosa")
    # as after a merged `gt done`: idle, nothing hooked, nothing unmerged
    rig_store(town).close(first.id, "merged")
    agent_beads.set_state(town, agent, "idle", hook_bead="")
    second = bead(town, "second")
    res = gt_json(town, "sling", second.id, "demo", "--agent", "sleeper", "--no-convoy")
    (a,) = res["assignments"]
    assert a["agent"] == "demo/polecats/furiosa" and a["spawned"] is False
    assert a["branch"].startswith(f"polecat/furiosa/{second.id}-")
    from gastown_tui.infra import git

    assert git.current_branch(town.rig("demo").polecat("furiosa")) == a["branch"]
    assert agent_beads.get(town, agent).get("hook_bead") == second.id
    assert [p["name"] for p in gt_json(town, "polecat", "list")] == ["furiosa"]
    # the first bead's branch (merged: nothing ahead of main) is not left behind
    assert [b for b in branches(town.rig("demo").bare_repo) if b.startswith("polecat/")] == [a["branch"]]


def test_sling_to_crew_hooks_without_spawning(town):
    from gastown_tui.work.crew import add_crew

    add_crew(town, "demo", "ann")
    b = bead(town, "for ann")
    res = gt_json(town, "sling", b.id, "demo/crew/ann", "--no-convoy")
    assert res["assignments"][0]["agent"] == "demo/crew/ann"
    assert rig_store(town).get(b.id).assignee == "demo/crew/ann"
    assert gt_json(town, "hook", "demo/crew/ann")["bead"]["id"] == b.id
    r = gt(town, "unsling", b.id)
    assert r.returncode == 0, r.stderr
    iss = rig_store(town).get(b.id)
    assert (iss.status, iss.assignee) == ("open", "")
    assert gt_json(town, "hook", "demo/crew/ann")["bead"] is None
    wait_for(lambda: True)


@pytest.mark.tmux
def test_a_failure_on_the_second_bead_rolls_back_the_first(town):
    from gastown_tui.town.rigs import rig_config_set

    rig_config_set(town, "demo", "max_polecats", "1")
    a, b = bead(town, "one"), bead(town, "two")
    before = snapshot(town)
    r = gt(town, "sling", a.id, b.id, "demo", "--agent", "sleeper")
    assert r.returncode == 1 and "max_polecats" in one_sentence(r)
    assert snapshot(town) == before  # the first polecat (worktree, branch, session, hook) is gone too
    assert agent_beads.list_agents(town, include_closed=True) == []


@pytest.mark.tmux
def test_reusing_a_polecat_that_went_idle_after_the_pane_listing_keeps_its_session(town):
    """A polecat spawned earlier in the same sling is missing from the sling's first pane listing;
    if it finishes and goes idle before the next bead, reuse must not try to start it again."""
    from gastown_tui.agents import polecats
    from gastown_tui.work import sling as sling_mod

    first = bead(town, "first")
    gt_json(town, "sling", first.id, "demo", "--agent", "sleeper", "--no-convoy")
    agent = Agent("polecat", "demo", "furiosa")
    rig_store(town).close(first.id, "merged")
    agent_beads.set_state(town, agent, "idle", hook_bead="")
    assert agent.session in sessions(town)
    second = bead(town, "second")
    idle = polecats.find_idle_polecat(town, "demo", panes={})
    undo = polecats.Undo()
    row = sling_mod._reuse_polecat(town, idle, second.id, "sleeper", undo, {}, rig_store(town),
                                   rig_store(town).get(second.id))
    assert row is not None and row["started"] is False and row["wake"] is True
    assert agent_beads.get(town, agent).get("hook_bead") == second.id
