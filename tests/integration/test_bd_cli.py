"""`bd` as a user runs it: every command, its --json shape, its errors, and the git merge driver."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.conftest import make_git_repo, run_cli


def bd(*args, cwd, input=None, ok=True):
    r = run_cli("bd", *args, cwd=cwd, input=input)
    if ok:
        assert r.returncode == 0, r.stderr
    return r


def bdj(*args, cwd):
    return json.loads(bd(*args, "--json", cwd=cwd).stdout)


@pytest.fixture
def proj(tmp_path):
    repo = make_git_repo(tmp_path / "proj")
    bd("init", "--prefix", "gt", cwd=repo)
    return repo


def test_issue_lifecycle_and_json_shapes(proj):
    a = bdj("create", "First <thing>", "-p", "1", "-t", "bug", "-l", "x,y", "-a", "bob", "-d", "desc", cwd=proj)
    assert a["title"] == "First <thing>" and a["priority"] == 1 and a["issue_type"] == "bug"
    assert a["labels"] == ["x", "y"] and a["assignee"] == "bob"
    b = bdj("create", "Second", "--deps", f"blocks:{a['id']}", "--stdin", cwd=proj) if False else None
    b = json.loads(bd("create", "Second", "--deps", f"blocks:{a['id']}", "--stdin", "--json", cwd=proj,
                      input="from stdin").stdout)
    assert b["description"] == "from stdin"
    kid = bdj("create", "Kid", "--parent", a["id"], cwd=proj)
    assert kid["id"] == a["id"] + ".1"
    for cmd in (["list"], ["ready", "--limit", "0"], ["blocked"], ["search", "thing"], ["show", a["id"], b["id"]]):
        out = bdj(*cmd, cwd=proj)
        assert isinstance(out, list) and all({"id", "title", "status", "priority", "issue_type"} <= set(i) for i in out)
    assert {i["id"] for i in bdj("ready", "--limit", "0", cwd=proj)} == {a["id"], kid["id"]}
    assert [i["id"] for i in bdj("blocked", cwd=proj)] == [b["id"]]
    assert bdj("blocked", cwd=proj)[0]["blocked_by"] == [a["id"]]
    assert bdj("update", b["id"], "--status", "in_progress", "--add-label", "z", cwd=proj)["labels"] == ["z"]
    assert bdj("close", a["id"], "--reason", "done", cwd=proj)[0]["status"] == "closed"
    assert bdj("list", cwd=proj) and all(i["status"] != "closed" for i in bdj("list", cwd=proj))
    assert any(i["id"] == a["id"] for i in bdj("list", "--all", cwd=proj))
    assert bdj("list", "--type", "bug", "--all", cwd=proj)[0]["id"] == a["id"]
    assert bdj("reopen", a["id"], cwd=proj)[0]["status"] == "open"
    assert bdj("stats", cwd=proj)["total"] == 3
    bd("comment", "add", a["id"], "looks good", "--actor", "carol", cwd=proj)
    assert bdj("comment", "list", a["id"], cwd=proj)[0]["author"] == "carol"
    bd("label", "add", a["id"], "urgent", cwd=proj)
    assert "urgent" in bdj("label", "list", a["id"], cwd=proj)
    assert bdj("dep", "list", b["id"], cwd=proj)["dependencies"][0]["depends_on_id"] == a["id"]
    assert bdj("dep", "tree", b["id"], cwd=proj)[1]["id"] == a["id"]
    assert bdj("dep", "cycles", cwd=proj) == []
    assert bdj("delete", kid["id"], cwd=proj)[0]["status"] == "tombstone"
    assert bdj("doctor", cwd=proj)["ok"] is True
    export = bd("export", cwd=proj).stdout.splitlines()
    ids = [json.loads(x)["id"] for x in export]
    assert ids == sorted(ids) and "\\u003cthing\\u003e" in export[ids.index(a["id"])]


def test_claim_is_atomic_from_the_cli(proj):
    a = bdj("create", "Contested", cwd=proj)
    assert bdj("update", a["id"], "--claim", "--actor", "alice", cwd=proj)["assignee"] == "alice"
    r = bd("update", a["id"], "--claim", "--actor", "bob", cwd=proj, ok=False)
    assert r.returncode == 1 and "already claimed by alice" in r.stderr and "Traceback" not in r.stderr


def test_errors_are_sentences(proj):
    a = bdj("create", "Something", cwd=proj)
    r = bd("show", a["id"] + "q", cwd=proj, ok=False)
    assert r.returncode == 1 and f"no issue {a['id']}q" in r.stderr and a["id"] in r.stderr
    r = bd("create", "x", "-p", "9", cwd=proj, ok=False)
    assert r.returncode == 2 and "0 (highest) to 4" in r.stderr
    r = bd("update", a["id"], "--status", "finished", cwd=proj, ok=False)
    assert r.returncode == 2 and "in_progress" in r.stderr
    b = bdj("create", "Other", "--deps", a["id"], cwd=proj)
    r = bd("dep", "add", a["id"], b["id"], cwd=proj, ok=False)
    assert r.returncode == 1 and "cycle" in r.stderr and f"{a['id']} -> {b['id']} -> {a['id']}" in r.stderr
    with open(proj / ".beads" / "issues.jsonl", "a") as f:
        f.write("{broken\n")
    r = bd("create", "y", cwd=proj, ok=False)
    assert r.returncode == 1 and "line 3" in r.stderr and "Traceback" not in r.stderr
    r = bd("list", cwd=proj)
    assert "line 3" in r.stderr and len(json.loads(bd("list", "--json", cwd=proj).stdout)) == 2
    assert bd("doctor", cwd=proj, ok=False).returncode == 1


def test_export_import_round_trip(proj, tmp_path):
    for t in ("a", "b", "c"):
        bd("create", t, cwd=proj)
    bd("export", "-o", str(tmp_path / "out.jsonl"), cwd=proj)
    other = make_git_repo(tmp_path / "other")
    bd("init", "--prefix", "gt", cwd=other)
    assert bdj("import", str(tmp_path / "out.jsonl"), "--dry-run", cwd=other)["created"] == 3
    assert bdj("list", cwd=other) == []
    assert bdj("import", str(tmp_path / "out.jsonl"), cwd=other)["created"] == 3
    assert bdj("import", str(tmp_path / "out.jsonl"), cwd=other)["unchanged"] == 3
    assert bd("export", cwd=other).stdout == bd("export", cwd=proj).stdout


def git(*args, cwd):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def test_git_merge_driver_merges_fields_of_the_same_issue(proj):
    a = bdj("create", "Shared issue", "-p", "2", cwd=proj)
    bd("sync", cwd=proj)
    git("add", ".gitattributes", cwd=proj)
    git("commit", "-qm", "attrs", cwd=proj)
    assert "merge=beads" in (proj / ".gitattributes").read_text()
    git("checkout", "-qb", "left", cwd=proj)
    bd("update", a["id"], "--priority", "0", "--add-label", "from-left", cwd=proj)
    bd("sync", "-m", "left change", cwd=proj)
    git("checkout", "-q", "main", cwd=proj)
    git("checkout", "-qb", "right", cwd=proj)
    bd("update", a["id"], "--assignee", "rita", "--notes", "right notes", "--add-label", "from-right", cwd=proj)
    bd("sync", "-m", "right change", cwd=proj)
    git("merge", "-q", "--no-edit", "left", cwd=proj)  # raises on conflict
    merged = bdj("show", a["id"], cwd=proj)[0]
    assert merged["priority"] == 0 and merged["assignee"] == "rita" and merged["notes"] == "right notes"
    assert merged["labels"] == ["from-left", "from-right"]
    assert "<<<<<<<" not in (proj / ".beads" / "issues.jsonl").read_text()
    log = git("log", "--format=%an %s", cwd=proj)
    assert "bd sync" in log or "left change" in log


def test_sync_commits_with_the_actor(proj):
    bd("create", "x", cwd=proj)
    out = bdj("sync", "--actor", "polecat-nux", cwd=proj)
    assert out["committed"] is True
    assert "polecat-nux" in git("log", "-1", "--format=%s|%an", cwd=proj)
    assert bdj("sync", cwd=proj)["committed"] is False


def test_fast_lane_answers_like_the_full_parser(proj):
    a = bdj("create", "Fast", "-p", "1", "-d", "desc", cwd=proj)
    bd("create", "Blocked", "--deps", a["id"], cwd=proj)
    # `-l` is not in the fast lane, so this goes through argparse; both must agree.
    assert bdj("show", a["id"], cwd=proj) == json.loads(bd("show", a["id"], "--json", "--actor", "x", "--town", str(proj), cwd=proj).stdout)
    assert [i["id"] for i in bdj("ready", cwd=proj)] == [a["id"]]
    r = bd("show", "gt-nothere", "--json", cwd=proj, ok=False)
    assert r.returncode == 1 and r.stderr.startswith("bd: no issue gt-nothere")
    r = bd("create", "bad", "-p", "7", cwd=proj, ok=False)
    assert r.returncode == 2 and "valid priorities" in r.stderr
