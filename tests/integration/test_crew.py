"""gt crew add|list|at|remove."""

from __future__ import annotations

import subprocess

import pytest

from gastown_tui.agents import agent_beads
from gastown_tui.town.identity import Agent
from tests.work_helpers import add_runtime, gt, gt_json, one_sentence, sessions

pytestmark = pytest.mark.tmux  # every test here starts tmux sessions


def test_crew_lifecycle(rig_town):
    town = rig_town
    row = gt_json(town, "crew", "add", "demo", "ann")
    path = town.rig("demo").crew("ann")
    assert row["address"] == "demo/crew/ann" and row["path"] == str(path) and row["branch"] == "main"
    assert (path / ".git").is_dir() and (path / "README.md").exists()  # a full clone
    assert (path / ".beads" / "redirect").read_text().strip() == "../../mayor/rig/.beads"
    origin = subprocess.run(["git", "-C", str(path), "remote", "get-url", "origin"], capture_output=True, text=True).stdout.strip()
    assert origin == str(town.rig("demo").bare_repo)
    assert subprocess.run(["git", "-C", str(path), "status", "--porcelain"], capture_output=True, text=True).stdout == ""
    assert agent_beads.get(town, Agent("crew", "demo", "ann")).get("role_type") == "crew"
    assert [r["name"] for r in gt_json(town, "crew", "list")] == ["ann"]
    r = gt(town, "crew", "add", "demo", "ann")
    assert r.returncode == 1 and "already exists" in one_sentence(r)

    add_runtime(town, "sleeper", "sleep", ["3600"])
    r = gt(town, "crew", "at", "ann", "--agent", "sleeper", "--no-attach")
    assert r.returncode == 0, r.stderr
    assert "gt-demo-crew-ann" in sessions(town)
    assert gt_json(town, "crew", "list", "demo")[0]["session_alive"] is True
    # again: the running session is kept
    assert gt(town, "crew", "at", "demo/ann", "--no-attach").returncode == 0

    (path / "notes.txt").write_text("wip")
    r = gt(town, "crew", "remove", "ann")
    assert r.returncode == 1 and "uncommitted changes" in one_sentence(r)
    r = gt(town, "crew", "remove", "ann", "--force")
    assert r.returncode == 0, r.stderr
    assert not path.exists() and "gt-demo-crew-ann" not in sessions(town)
    assert gt_json(town, "crew", "list") == []
    r = gt(town, "crew", "at", "ann", "--no-attach")
    assert r.returncode == 1 and "no crew member 'ann'" in one_sentence(r)
