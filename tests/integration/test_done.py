"""gt done: leftovers committed, branch in the bare repo, MR bead, POLECAT_DONE to the witness, agent idle."""

from __future__ import annotations

import subprocess

import pytest

from gastown_tui.agents import agent_beads
from gastown_tui.town.identity import Agent
from gastown_tui.work import mq, protocol
from tests.work_helpers import add_runtime, bead, gt, gt_json, one_sentence, rig_store


@pytest.fixture
def slung(rig_town):
    add_runtime(rig_town, "sleeper", "sleep", ["3600"])
    b = bead(rig_town, "Write the greeting", description="say hi")
    res = gt_json(rig_town, "sling", b.id, "demo", "--agent", "sleeper", "--no-convoy")
    yield rig_town, b, res["assignments"][0]
    from gastown_tui.infra.tmux import Tmux

    Tmux.for_town(rig_town).kill_session("gt-demo-furiosa")


def agent_env(town, name="furiosa"):
    return Agent("polecat", "demo", name).env(town.root, "overseer@example.com")


@pytest.mark.tmux
def test_done_hands_the_work_in(slung):
    town, b, a = slung
    wt = town.rig("demo").polecat("furiosa")
    (wt / "hello.txt").write_text("hi\n")  # left uncommitted: gt done commits it
    r = gt(town, "done", "-m", "all good", "--json", cwd=wt, env=agent_env(town))
    assert r.returncode == 0, r.stderr
    import json

    res = json.loads(r.stdout)
    assert res["committed_leftovers"] is True and res["bead"] == b.id and res["branch"] == a["branch"]
    bare = town.rig("demo").bare_repo
    head = subprocess.run(["git", "-C", str(bare), "rev-parse", a["branch"]], capture_output=True, text=True).stdout.strip()
    assert head == res["commit"]
    author = subprocess.run(["git", "-C", str(bare), "log", "-1", "--format=%an <%ae>", a["branch"]],
                            capture_output=True, text=True).stdout.strip()
    assert author == "demo/polecats/furiosa <overseer@example.com>"
    files = subprocess.run(["git", "-C", str(bare), "show", "--name-only", "--format=", a["branch"]],
                           capture_output=True, text=True).stdout.split()
    assert files == ["hello.txt"]  # .beads/redirect is never committed
    (mr,) = mq.list_mrs(town, "demo")
    assert mr["id"] == res["mr"]
    assert (mr["branch"], mr["target"], mr["source_issue"], mr["worker"], mr["commit_sha"]) == (
        a["branch"], "main", b.id, "demo/polecats/furiosa", res["commit"])
    assert rig_store(town).get(mr["id"]).issue_type == "merge-request"
    (msg,) = gt_json(town, "mail", "inbox", "demo/witness")
    t, arg, fields = protocol.parse(msg["subject"], msg["body"])
    assert (t, arg, msg["from"]) == ("POLECAT_DONE", "furiosa", "demo/polecats/furiosa")
    assert fields["Bead"] == b.id and fields["MR"] == mr["id"] and fields["Status"] == "COMPLETED"
    assert fields["Note"] == "all good"
    ab = agent_beads.get(town, Agent("polecat", "demo", "furiosa"))
    assert ab.get("agent_state") == "idle" and not ab.get("hook_bead")
    src = rig_store(town).get(b.id)
    assert src.status == "in_progress" and src.assignee == "demo/polecats/furiosa"
    assert gt_json(town, "hook", cwd=wt, env=agent_env(town))["bead"] is None


@pytest.mark.tmux
def test_done_with_nothing_to_merge_or_deferred(slung):
    town, b, _ = slung
    wt = town.rig("demo").polecat("furiosa")
    r = gt(town, "done", cwd=wt, env=agent_env(town))
    assert r.returncode == 1 and "nothing to merge" in one_sentence(r)
    assert mq.list_mrs(town, "demo") == []
    r = gt(town, "done", "--status", "deferred", "-m", "later", cwd=wt, env=agent_env(town))
    assert r.returncode == 0, r.stderr
    iss = rig_store(town).get(b.id)
    assert (iss.status, iss.assignee) == ("open", "")
    (msg,) = gt_json(town, "mail", "inbox", "demo/witness")
    assert protocol.parse_body(msg["body"])["Status"] == "DEFERRED"
    assert mq.list_mrs(town, "demo") == []


@pytest.mark.tmux
def test_done_escalated_blocks_the_bead(slung):
    town, b, _ = slung
    wt = town.rig("demo").polecat("furiosa")
    r = gt(town, "done", "--status", "ESCALATED", "-m", "the spec is wrong", cwd=wt, env=agent_env(town))
    assert r.returncode == 0, r.stderr
    assert rig_store(town).get(b.id).status == "blocked"
    (msg,) = gt_json(town, "mail", "inbox", "demo/witness")
    assert protocol.parse_body(msg["body"])["Status"] == "ESCALATED"


def test_done_outside_a_polecat_says_where_it_works(rig_town, tmp_path):
    r = gt(rig_town, "done", cwd=rig_town.root)
    assert r.returncode == 2
    line = one_sentence(r)
    assert "polecat" in line and "polecats/<name>" in line
    r = gt(rig_town, "done", cwd=rig_town.rig("demo").crew_dir, env={"BD_ACTOR": "demo/crew/ann", "GT_ROLE": "crew"})
    # Crew may hand work in too (issue 15), but only from a clone that exists.
    assert r.returncode == 1 and "demo/crew/ann has no clone" in one_sentence(r)
    r = gt(rig_town, "done", "--status", "MAYBE", cwd=rig_town.root)
    assert r.returncode == 2
