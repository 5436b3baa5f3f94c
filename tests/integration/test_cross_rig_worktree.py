"""`gt worktree RIG`: a crew member's checkout in another rig, identity kept (gastown-understanding.md,
"Cross-Rig Work Patterns"), listed by `gt crew list`, finished with `gt done`, removed by `gt crew remove`."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from gastown_tui.agents import agent_beads
from gastown_tui.beads.store import Store
from gastown_tui.town.identity import Agent
from gastown_tui.town.rigs import add_rig
from tests.conftest import BIN, make_git_repo
from tests.work_helpers import gt, gt_json, one_sentence, upstream_file

IDENTITY_VARS = ("BD_ACTOR", "GT_ROLE", "GT_RIG", "GT_NAME", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL",
                 "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL")


@pytest.fixture
def two_rigs(up_town, tmp_path):
    """'demo' (from `upstream`) with crew joe, and 'tools' from a second bare upstream."""
    seed = make_git_repo(tmp_path / "tools-seed", {"README.md": "# tools\n"})
    tools_up = tmp_path / "tools.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(seed), str(tools_up)], check=True)
    add_rig(up_town, "tools", str(tools_up))
    gt_json(up_town, "crew", "add", "demo", "joe")
    return up_town, tools_up


def bare_env() -> dict:
    """A shell with no agent identity at all (the human cd'd into the worktree)."""
    return {k: v for k, v in os.environ.items() if k not in IDENTITY_VARS}


def test_worktree_in_another_rig_keeps_identity_and_is_crew(two_rigs):
    town, tools_up = two_rigs
    joe_env = {**os.environ, **Agent("crew", "demo", "joe").env(town.root, "overseer@example.com")}
    r = gt(town, "worktree", "tools", "--json", cwd=town.rig("demo").crew("joe"), env=joe_env)
    assert r.returncode == 0, r.stderr
    row = json.loads(r.stdout)
    path = town.rig("tools").root / "crew" / "demo-joe"
    assert row["path"] == str(path) and row["address"] == "demo/crew/joe" and row["cross_rig"] is True
    assert (path / ".beads" / "redirect").read_text().strip() == "../../mayor/rig/.beads"
    # Authorship kept even without any environment: the checkout's git identity is joe's.
    env = bare_env()
    (path / "fix.txt").write_text("fixed\n")
    subprocess.run(["git", "-C", str(path), "add", "-A"], check=True, env=env)
    subprocess.run(["git", "-C", str(path), "commit", "-qm", "fix"], check=True, env=env)
    author = subprocess.run(["git", "-C", str(path), "log", "-1", "--format=%an <%ae>"], capture_output=True,
                            text=True, env=env).stdout.strip()
    assert author == "demo/crew/joe <overseer@example.com>"
    # In joe's session (BD_ACTOR kept), beads made in the worktree go to the tools store as joe's.
    r = subprocess.run([str(BIN / "bd"), "create", "Found in tools", "--json"], cwd=path, env=joe_env,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    created = json.loads(r.stdout)
    assert created["id"].startswith("to-")  # in the tools rig's store
    assert Store(town.rig("tools").beads_dir).get(created["id"]).data.get("created_by") == "demo/crew/joe"
    # Listed with the crew; a second one is refused in one sentence.
    rows = {(r["rig"], r["name"]): r for r in gt_json(town, "crew", "list")}
    assert rows[("tools", "demo-joe")]["address"] == "demo/crew/joe"
    assert rows[("demo", "joe")]["cross_rig"] is False
    r = gt(town, "worktree", "tools", "--as", "demo/crew/joe")
    assert r.returncode == 1 and "already has a worktree in rig 'tools'" in one_sentence(r)
    r = gt(town, "worktree", "demo", "--as", "demo/crew/joe")
    assert r.returncode == 2 and "already works in rig 'demo'" in one_sentence(r)
    r = gt(town, "worktree", "tools", "--as", "demo/witness")
    assert r.returncode == 2 and "for crew members" in one_sentence(r)

    # Work slung to joe is finished from the worktree: pushed to the tools upstream, closed.
    store = Store(town.rig("tools").beads_dir)
    b = store.create("Fix the tools", status="hooked", assignee="demo/crew/joe")
    r = gt(town, "done", "--json", cwd=path, env=env)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["pushed"] is True
    assert upstream_file(tools_up, "fix.txt") == "fixed\n"
    assert store.get(b.id).status == "closed"

    # Removed by gt crew remove; joe himself stays.
    r = gt(town, "crew", "remove", "tools/demo-joe")
    assert r.returncode == 0, r.stderr
    assert not path.exists()
    assert [(r["rig"], r["name"]) for r in gt_json(town, "crew", "list")] == [("demo", "joe")]
    assert agent_beads.get(town, Agent("crew", "demo", "joe")).get("agent_state") != "dead"
