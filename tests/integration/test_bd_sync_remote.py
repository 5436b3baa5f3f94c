"""`bd sync` with a remote: two towns share one upstream; their concurrent bead changes converge
through git with the beads merge driver, and nothing is lost."""

from __future__ import annotations

import json
import subprocess

import pytest

from gastown_tui.town.install import install_town
from gastown_tui.town.rigs import add_rig
from tests.conftest import make_git_repo, run_cli


def bd(cwd, *args: str):
    r = run_cli("bd", *args, cwd=cwd)
    assert r.returncode == 0, (args, r.stderr)
    return r


def bdj(cwd, *args: str):
    return json.loads(bd(cwd, *args, "--json").stdout)


def git(cwd, *args: str) -> str:
    return subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True, text=True).stdout.strip()


def all_issues(clone) -> dict[str, dict]:
    return {i["id"]: i for i in bdj(clone, "list", "--all")}


@pytest.fixture
def two_towns(tmp_path, upstream):
    """Town A adds the project and shares three beads; town B adds the same upstream later."""
    a = install_town(tmp_path / "townA", name="a", owner="a@example.com").town
    add_rig(a, "demo", str(upstream))
    ca = a.rig("demo").mayor_clone
    ids = [bdj(ca, "create", title)["id"] for title in ("Shared", "Edited in A, deleted in B", "Deleted in A")]
    out = bdj(ca, "sync")
    assert out["committed"] and out["pushed"]
    assert "merge=beads" in git(upstream, "show", "main:.gitattributes")
    b = install_town(tmp_path / "townB", name="b", owner="b@example.com").town
    add_rig(b, "demo", str(upstream))
    cb = b.rig("demo").mayor_clone
    return ca, cb, ids


def test_concurrent_changes_from_two_towns_converge(two_towns, upstream):
    ca, cb, (x, z, w) = two_towns
    assert set(all_issues(cb)) == {x, z, w}  # B adopted A's beads
    # Concurrent edits, neither town has seen the other's.
    bd(ca, "update", x, "--priority", "0")
    bd(ca, "label", "add", x, "from-a")
    bd(ca, "comment", "add", x, "comment from A")
    bd(ca, "update", z, "--title", "Edited in A")
    bd(ca, "delete", w)
    bd(cb, "update", x, "--assignee", "bob")
    bd(cb, "label", "add", x, "from-b")
    bd(cb, "comment", "add", x, "comment from B")
    bd(cb, "delete", z)
    bd(cb, "update", w, "--description", "edited in B")
    new_b = bdj(cb, "create", "Made in B")["id"]
    assert bdj(ca, "sync")["pushed"]
    out = bdj(cb, "sync")  # B pulls A's change through the merge driver, then pushes the result
    assert out["pulled"] and out["pushed"]
    assert bdj(ca, "sync")["pulled"]
    ia, ib = all_issues(ca), all_issues(cb)
    assert ia == ib
    sx = ia[x]
    assert sx["priority"] == 0 and sx["assignee"] == "bob"
    assert sorted(sx["labels"]) == ["from-a", "from-b"]
    texts = sorted(c["text"] for c in bdj(ca, "comment", "list", x))
    assert texts == ["comment from A", "comment from B"]
    assert new_b in ia
    # A delete on one side and an edit on the other: the tombstone wins, on both sides.
    assert z not in ia and w not in ia
    assert bd(ca, "export").stdout == bd(cb, "export").stdout
    jsonl = git(upstream, "show", "main:.beads/issues.jsonl")
    assert "<<<<<<<" not in jsonl and "comment from A" in jsonl and "comment from B" in jsonl


def test_adopting_a_project_with_beads_keeps_its_history(tmp_path, town):
    proj = make_git_repo(tmp_path / "proj")
    bd(proj, "init", "--prefix", "pj")
    first = bdj(proj, "create", "Old bug")["id"]
    bd(proj, "sync", "-m", "first beads")
    bd(proj, "close", first)
    bd(proj, "sync", "-m", "closed it")
    bare = tmp_path / "proj.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(proj), str(bare)], check=True)
    add_rig(town, "demo", str(bare))
    clone = town.rig("demo").mayor_clone
    assert bdj(clone, "show", first)[0]["status"] == "closed"
    log = git(clone, "log", "--format=%s", "--", ".beads/issues.jsonl")
    assert "closed it" in log and "first beads" in log
    bdj(clone, "create", "New in the town")
    assert bdj(clone, "sync")["pushed"]
    log = git(bare, "log", "--format=%s", "main", "--", ".beads/issues.jsonl")
    assert "closed it" in log and "first beads" in log and "bd sync" in log.splitlines()[0]


def test_sync_with_an_unreachable_remote_is_one_sentence_and_keeps_the_commit(two_towns, upstream, tmp_path):
    ca, _cb, (x, _z, _w) = two_towns
    upstream.rename(tmp_path / "gone.git")
    bd(ca, "update", x, "--priority", "1")
    r = run_cli("bd", "sync", cwd=ca)
    assert r.returncode == 1
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in r.stderr
    assert "does not appear to be a git repository" in lines[0]
    assert "bd sync" in git(ca, "log", "-1", "--format=%s")  # committed locally, nothing lost


def test_a_pull_logs_the_ids_it_changed_so_kept_answers_update(two_towns):
    """`bd sync` pulls under the store's lock and logs which ids the pull changed (beads.changelog):
    exactly those whose records differ, so a memo kept for the version before (the inbox) is
    updated instead of computed afresh."""
    from gastown_tui.beads import changelog
    from gastown_tui.beads.jsonl import fingerprint
    from tests.integration.test_lane_equivalence import naive_records

    ca, cb, (x, z, w) = two_towns
    bd(ca, "update", x, "--title", "changed in A")
    bd(ca, "delete", w)
    new_a = bdj(ca, "create", "Made in A")["id"]
    assert bdj(ca, "sync")["pushed"]
    beads = cb / ".beads"
    names = ("issues.jsonl", "wisps.jsonl")
    (beads / "wisps.jsonl").touch()  # (the oracle reads both files)

    def versions():
        return tuple(fingerprint(str(beads / n)) for n in names)
    before, records_before = versions(), naive_records(beads)
    assert bdj(cb, "sync")["pulled"]
    after, records_after = versions(), naive_records(beads)
    assert before != after
    differ = {i for i in records_before.keys() | records_after.keys() if records_before.get(i) != records_after.get(i)}
    assert differ == {x, w, new_a}
    assert changelog.changed_ids(str(beads.resolve()), names, before, after) == differ
