"""Exactly-once assignment: `gt sling` claims a bead by compare-and-set under the store's lock.

Concurrent slingers of one bead get one polecat and one hook between them (the losers roll back
the polecat they spawned); work awaiting merge and work a person claimed are refused without
`--force`.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from gastown_tui.agents import agent_beads
from gastown_tui.town.identity import Agent
from gastown_tui.town import events
from tests.conftest import BIN, run_cli
from tests.work_helpers import (sleeper_town,  # noqa: F401 - fixture
                                bead, branches, gt, gt_json, one_sentence, rig_store, sessions, worktrees)

pytestmark = pytest.mark.tmux


@pytest.fixture
def town(sleeper_town):  # noqa: F811
    return sleeper_town


def polecat_sessions(town) -> list[str]:
    return [s for s in sessions(town) if s.startswith("gt-demo-")]


def test_eight_concurrent_slings_of_one_bead_make_one_polecat_and_one_hook(town):
    b = bead(town, "Contested work")
    argv = [str(BIN / "gt"), "--town", str(town.root), "sling", b.id, "demo", "--agent", "sleeper",
            "--no-convoy", "--json"]
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ})
             for _ in range(8)]
    outs = [(p, *p.communicate(timeout=120)) for p in procs]
    won = [json.loads(out) for p, out, _ in outs if p.returncode == 0]
    lost = [err for p, _, err in outs if p.returncode != 0]
    assert len(won) == 1, [err for _, _, err in outs]
    assert all(p.returncode in (0, 1) for p, _, _ in outs)
    for err in lost:  # each loser says why in one sentence, no traceback
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert len(lines) == 1 and "Traceback" not in err, err
        assert b.id in lines[0], err
    (a,) = won[0]["assignments"]
    iss = rig_store(town).get(b.id)
    assert (iss.status, iss.assignee) == ("hooked", a["agent"])
    # the losers rolled back everything they spawned: one worktree, branch, name, session, agent bead
    rp = town.rig("demo")
    assert [p.name for p in rp.polecats_dir.iterdir()] == [a["name"]]
    assert [w for w in worktrees(rp.bare_repo) if "/polecats/" in w] == [a["path"]]
    assert [br for br in branches(rp.bare_repo) if br.startswith("polecat/")] == [a["branch"]]
    assert polecat_sessions(town) == [a["session"]]
    assert [x.address for x, _ in agent_beads.list_agents(town, role="polecat")] == [a["agent"]]
    assert [e["payload"]["bead"] for e in events.read(town.root) if e["type"] == "sling"] == [b.id]


def test_work_awaiting_merge_is_refused_without_force(town):
    b = bead(town, "Submitted work")
    (a,) = gt_json(town, "sling", b.id, "demo", "--agent", "sleeper", "--no-convoy")["assignments"]
    wt = town.rig("demo").polecat(a["name"])
    (wt / "done.txt").write_text("finished\n")
    env = Agent("polecat", "demo", a["name"]).env(town.root, "overseer@example.com")
    r = gt(town, "done", cwd=wt, env=env)
    assert r.returncode == 0, r.stderr
    iss = rig_store(town).get(b.id)
    assert iss.status == "in_progress"
    from gastown_tui.infra.tmux import Tmux

    Tmux.for_town(town).kill_session(a["session"])  # even with its polecat gone, the MR carries the work
    for target in ("demo", "demo/polecats/nux"):
        r = gt(town, "sling", b.id, target, "--agent", "sleeper", "--no-convoy")
        assert r.returncode == 1, r.stderr
        assert f"{b.id} is awaiting merge" in one_sentence(r)
    assert rig_store(town).get(b.id).data == iss.data
    assert polecat_sessions(town) == []
    r = gt(town, "sling", b.id, "demo/polecats/nux", "--agent", "sleeper", "--no-convoy", "--force")
    assert r.returncode == 0, r.stderr
    assert rig_store(town).get(b.id).assignee == "demo/polecats/nux"


def test_work_a_person_claimed_is_refused_without_force(town):
    b = bead(town, "Claimed by hand")
    r = run_cli("bd", "update", b.id, "--claim", "--actor", "alice", "--json", cwd=town.rig("demo").mayor_clone)
    assert r.returncode == 0, r.stderr
    assert rig_store(town).get(b.id).assignee == "alice"
    r = gt(town, "sling", b.id, "demo", "--agent", "sleeper", "--no-convoy")
    assert r.returncode == 1 and "assigned to alice" in one_sentence(r)
    assert polecat_sessions(town) == [] and not list(town.rig("demo").polecats_dir.glob("*"))
    r = gt(town, "sling", b.id, "demo", "--agent", "sleeper", "--no-convoy", "--force")
    assert r.returncode == 0, r.stderr


def test_a_lost_claim_rolls_back_the_spawned_polecat(town):
    """The claim is re-checked under the lock once the polecat's name and agent bead exist: a hook
    taken meanwhile (here by a concurrent `gt sling` to a named polecat) makes this sling undo its
    polecat before any checkout."""
    from gastown_tui.agents import polecats
    from gastown_tui.errors import Conflict
    from gastown_tui.work import sling as sling_mod

    b = bead(town, "Raced")
    real_spawn = polecats.spawn_polecat

    def spawn_then_lose_the_race(*args, **kw):
        # Between this sling's check and its claim, another process slings the bead.
        r = gt(town, "sling", b.id, "demo/polecats/nux", "--agent", "sleeper", "--no-convoy")
        assert r.returncode == 0, r.stderr
        return real_spawn(*args, **kw)

    polecats.spawn_polecat = spawn_then_lose_the_race
    try:
        with pytest.raises(Conflict) as exc:
            sling_mod.sling(town, [b.id], "demo", runtime="sleeper", no_convoy=True)
    finally:
        polecats.spawn_polecat = real_spawn
    assert "already hooked to demo/polecats/nux" in str(exc.value)
    assert rig_store(town).get(b.id).assignee == "demo/polecats/nux"
    assert sorted(p.name for p in town.rig("demo").polecats_dir.iterdir()) == ["nux"]
    assert polecat_sessions(town) == ["gt-demo-nux"]
    assert [x.address for x, _ in agent_beads.list_agents(town, role="polecat")] == ["demo/polecats/nux"]


def test_a_lost_claim_puts_a_reused_idle_polecat_back_as_it_was(town):
    from gastown_tui.agents import polecats
    from gastown_tui.errors import Conflict
    from gastown_tui.infra import git
    from gastown_tui.work import sling as sling_mod

    first = bead(town, "first")
    gt_json(town, "sling", first.id, "demo", "--agent", "sleeper", "--no-convoy")
    furiosa = Agent("polecat", "demo", "furiosa")
    rig_store(town).close(first.id, "merged")  # as after a merge: idle, nothing hooked, nothing unmerged
    agent_beads.set_state(town, furiosa, "idle", hook_bead="")
    wt = town.rig("demo").polecat("furiosa")
    old_branch = git.current_branch(wt)
    before = agent_beads.get(town, furiosa).to_json()
    b = bead(town, "raced")
    real_find = polecats.find_idle_polecat

    def find_then_lose_the_race(*args, **kw):
        r = gt(town, "sling", b.id, "demo/polecats/nux", "--agent", "sleeper", "--no-convoy")
        assert r.returncode == 0, r.stderr
        return real_find(*args, **kw)

    polecats.find_idle_polecat = find_then_lose_the_race
    try:
        with pytest.raises(Conflict) as exc:
            sling_mod.sling(town, [b.id], "demo", runtime="sleeper", no_convoy=True)
    finally:
        polecats.find_idle_polecat = real_find
    assert "already hooked to demo/polecats/nux" in str(exc.value)
    assert git.current_branch(wt) == old_branch and old_branch in branches(town.rig("demo").bare_repo)
    assert not [br for br in branches(town.rig("demo").bare_repo) if br.startswith(f"polecat/furiosa/{b.id}")]
    after = agent_beads.get(town, furiosa)
    assert (after.get("agent_state"), after.get("hook_bead") or "") == ("idle", "")
    assert after.get("branch") == before.get("branch")


def test_concurrent_formula_dispatches_sling_the_synthesis_once(town):
    r = gt(town, "formula", "run", "code-review", "--var", "target=feature/x", "--rig", "demo",
           "--agent", "sleeper", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    steps = {s["step"]: s["id"] for s in out["steps"]}
    for leg in ("correctness", "security", "performance", "style"):
        assert run_cli("bd", "close", steps[leg], "-r", "reviewed", cwd=town.rig("demo").mayor_clone).returncode == 0
    argv = [str(BIN / "gt"), "--town", str(town.root), "formula", "dispatch", out["molecule"], "--rig", "demo",
            "--agent", "sleeper", "--json"]
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ})
             for _ in range(4)]
    outs = [(p, *p.communicate(timeout=120)) for p in procs]
    assert all(p.returncode == 0 for p, _, _ in outs), [err for _, _, err in outs]  # a lost race is no error
    slung = [s for _, o, _ in outs for s in json.loads(o)["slung"]]
    assert slung == [steps["synthesis"]]
    holder = rig_store(town).get(steps["synthesis"]).assignee
    assert holder.startswith("demo/polecats/")
    assert [e["payload"]["agent"] for e in events.read(town.root)
            if e["type"] == "sling" and e["payload"]["bead"] == steps["synthesis"]] == [holder]
