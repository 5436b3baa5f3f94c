"""Crew on main: a crew clone commits and pushes to main, and the push reaches the upstream;
slung work is finished with `gt done` (push, close, notify — no merge request)."""

from __future__ import annotations

import json
import os
import subprocess

from gastown_tui.beads.store import Store
from gastown_tui.patrols import refinery
from gastown_tui.patrols.refinery import RefineryConfig, RefineryContext
from gastown_tui.town.identity import Agent
from tests.integration.test_refinery import git
from tests.work_helpers import bead, gt, gt_json, one_sentence, other_clone, push_from, upstream_file


def crew_env(town, rig: str, name: str) -> dict:
    return {**os.environ, **Agent("crew", rig, name).env(town.root, "overseer@example.com")}


def commit(clone, path: str, text: str, msg: str, env=None) -> None:
    (clone / path).write_text(text)
    subprocess.run(["git", "-C", str(clone), "add", "-A"], check=True, env=env)
    subprocess.run(["git", "-C", str(clone), "commit", "-q", "-m", msg], check=True, env=env)


def test_crew_pushes_to_main_and_it_reaches_the_upstream(up_town, upstream):
    town = up_town
    gt_json(town, "crew", "add", "demo", "ann")
    clone = town.rig("demo").crew("ann")
    assert git(clone, "remote", "get-url", "origin") == str(upstream)
    assert git(clone, "remote", "get-url", "rig") == str(town.rig("demo").bare_repo)
    env = crew_env(town, "demo", "ann")
    commit(clone, "notes.md", "crew notes\n", "crew: notes", env)
    r = subprocess.run(["git", "-C", str(clone), "push", "-q"], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr  # plain `git push`, as the documents say
    assert upstream_file(upstream, "notes.md") == "crew notes\n"
    assert git(upstream, "log", "-1", "--format=%an", "main") == "demo/crew/ann"
    # The refinery's next fetch brings it into the rig: new polecats start from it.
    refinery.patrol_once(RefineryContext(town, "demo"), RefineryConfig(fetch_seconds=0))
    rp = town.rig("demo")
    assert git(rp.bare_repo, "rev-parse", "main") == git(upstream, "rev-parse", "main")
    assert (rp.refinery_worktree / "notes.md").read_text() == "crew notes\n"


def test_crew_push_to_a_rig_without_pushable_upstream_goes_to_the_rig(rig_town):
    town = rig_town  # made from a working repository: the rig's bare repo is the crew's origin
    gt_json(town, "crew", "add", "demo", "ann")
    clone = town.rig("demo").crew("ann")
    rp = town.rig("demo")
    assert git(clone, "remote", "get-url", "origin") == str(rp.bare_repo)
    commit(clone, "notes.md", "crew notes\n", "crew: notes")
    r = subprocess.run(["git", "-C", str(clone), "push", "-q", "origin", "main"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr  # no more "branch is currently checked out"
    assert git(rp.bare_repo, "rev-parse", "main") == git(clone, "rev-parse", "HEAD")
    # A push that would overwrite is still refused.
    subprocess.run(["git", "-C", str(clone), "reset", "-q", "--hard", "HEAD~1"], check=True)
    commit(clone, "other.md", "x\n", "diverged")
    r = subprocess.run(["git", "-C", str(clone), "push", "-q", "origin", "main"], capture_output=True, text=True)
    assert r.returncode != 0 and "rejected" in r.stderr
    # The refinery's checkout follows the branch that moved under it.
    from tests.integration.test_refinery import make_mr

    make_mr(town, "add a", "nux", {"a.txt": "a\n"})
    outs = refinery.patrol_once(RefineryContext(town, "demo"), RefineryConfig())
    assert [o.kind for o in outs] == ["merged"]
    assert (rp.refinery_worktree / "notes.md").exists() and (rp.refinery_worktree / "a.txt").exists()


def test_crew_takes_slung_work_and_gt_done_pushes_closes_and_notifies(up_town, upstream, tmp_path):
    town = up_town
    gt_json(town, "crew", "add", "demo", "ann")
    clone = town.rig("demo").crew("ann")
    b = bead(town, "Write the changelog")
    out = gt_json(town, "sling", b.id, "demo/crew/ann")
    conv = out["convoy"]
    assert conv
    # Someone else pushes meanwhile: gt done rebases onto it and pushes.
    push_from(other_clone(tmp_path, upstream), "theirs.txt", "theirs\n", "theirs")
    env = crew_env(town, "demo", "ann")
    commit(clone, "CHANGELOG.md", "# Changes\n", "changelog", env)
    (clone / "leftover.txt").write_text("not committed yet\n")
    r = gt(town, "done", "--json", cwd=clone, env=env)
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["mr"] is None and res["pushed"] is True and res["committed_leftovers"] is True
    assert upstream_file(upstream, "CHANGELOG.md") == "# Changes\n"
    assert upstream_file(upstream, "leftover.txt") == "not committed yet\n"
    assert upstream_file(upstream, "theirs.txt") == "theirs\n"
    assert git(upstream, "rev-parse", "main") == res["commit"]
    store = Store(town.rig("demo").beads_dir)
    assert store.get(b.id).status == "closed" and store.get(b.id).close_reason.startswith("pushed to main")
    assert not store.list(type="merge-request")
    mail = gt_json(town, "mail", "inbox", "mayor")
    assert any(b.id in m["subject"] and "demo/crew/ann" in m["subject"] for m in mail)
    assert Store(town.beads_dir).get(conv).status == "closed"  # the convoy landed
    r = gt(town, "done", cwd=clone, env=env)
    assert r.returncode == 1 and "nothing on its hook" in one_sentence(r)


def test_crew_done_with_a_conflicting_upstream_keeps_the_work(up_town, upstream, tmp_path):
    town = up_town
    gt_json(town, "crew", "add", "demo", "ann")
    clone = town.rig("demo").crew("ann")
    b = bead(town, "Edit the readme")
    gt_json(town, "sling", b.id, "demo/crew/ann", "--no-convoy")
    push_from(other_clone(tmp_path, upstream), "README.md", "# theirs\n", "theirs")
    env = crew_env(town, "demo", "ann")
    commit(clone, "README.md", "# ours\n", "ours", env)
    mine = git(clone, "rev-parse", "HEAD")
    r = gt(town, "done", cwd=clone, env=env)
    assert r.returncode == 1
    assert "conflict with it in README.md" in one_sentence(r)
    assert git(clone, "rev-parse", "HEAD") == mine  # the rebase was aborted: nothing lost
    assert Store(town.rig("demo").beads_dir).get(b.id).status == "hooked"


def test_crew_done_refused_by_the_upstream_is_one_sentence_and_keeps_everything(up_town, upstream):
    town = up_town
    gt_json(town, "crew", "add", "demo", "ann")
    clone = town.rig("demo").crew("ann")
    hook = upstream / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'no pushes on Fridays' >&2\nexit 1\n")
    hook.chmod(0o755)
    b = bead(town, "Friday work")
    gt_json(town, "sling", b.id, "demo/crew/ann", "--no-convoy")
    env = crew_env(town, "demo", "ann")
    commit(clone, "friday.txt", "work\n", "friday", env)
    r = gt(town, "done", cwd=clone, env=env)
    assert r.returncode == 1
    line = one_sentence(r)
    assert "pre-receive hook declined" in line and "no pushes on Fridays" in line
    assert upstream_file(upstream, "friday.txt") is None
    assert (clone / "friday.txt").exists() and "friday" in git(clone, "log", "-1", "--format=%s")
    assert Store(town.rig("demo").beads_dir).get(b.id).status == "hooked"
