"""Hostile input at the doors (issue 12): bad ids, names and fields are refused in one sentence,
nothing is written, and what arrives by git is reported, never used as a name."""

from __future__ import annotations

import json

import pytest

from tests.conftest import make_git_repo, run_cli

TS = "2026-01-01T00:00:00Z"


def bd(*args, cwd, input=None):
    return run_cli("bd", *args, cwd=cwd, input=input)


def record(issue_id, **kw):
    return json.dumps({"id": issue_id, "title": "t", "status": "open", "priority": 1, "issue_type": "task",
                       "created_at": TS, "updated_at": TS, **kw})


@pytest.fixture
def proj(tmp_path):
    repo = make_git_repo(tmp_path / "proj")
    assert bd("init", "--prefix", "gt", cwd=repo).returncode == 0
    return repo


def store_bytes(repo):
    return (repo / ".beads" / "issues.jsonl").read_bytes()


def refused(r, *words):
    assert r.returncode in (1, 2), r
    assert "Traceback" not in r.stderr
    err = r.stderr.strip()
    assert err.count("\n") == 0, err  # one sentence
    for w in words:
        assert w in err, err
    return err


@pytest.mark.parametrize("bad", ["../../etc", "pr-a/../../victim", "gt-a\tb", "gt-a b", "gt-a\x1b[2Jb", "gt-x..1"])
def test_create_refuses_a_bad_id(proj, bad):
    before = store_bytes(proj)
    err = refused(bd("create", "x", "--id", bad, cwd=proj), "not a valid bead id")
    assert "\x1b" not in err and "\t" not in err
    assert store_bytes(proj) == before


def test_import_refuses_a_bad_id_and_imports_nothing(proj, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(record("gt-good") + "\n" + record("pr-a/../../../../victim") + "\n")
    before = store_bytes(proj)
    refused(bd("import", str(src), cwd=proj), "pr-a/../../../../victim", "not a valid bead id", "nothing was imported")
    assert store_bytes(proj) == before


def test_merge_driver_refuses_an_id_brought_in_by_a_side(tmp_path):
    base, ours, theirs = (tmp_path / n for n in ("base", "ours", "theirs"))
    base.write_text(record("gt-a") + "\n")
    ours.write_text(record("gt-a") + "\n")
    theirs.write_text(record("gt-a") + "\n" + record("gt-a/../../x") + "\n")
    before = ours.read_bytes()
    refused(bd("merge", str(base), str(ours), str(theirs), cwd=tmp_path), "theirs", "not a valid bead id")
    assert ours.read_bytes() == before


def test_doctor_reports_a_bad_id_that_arrived_by_git_escaped(proj):
    with (proj / ".beads" / "issues.jsonl").open("a") as f:
        f.write(record("gt-a/../../x\x1b]0;pwn\x07") + "\n")
    r = bd("doctor", cwd=proj)
    assert r.returncode == 1
    assert "bad-id" in r.stdout and "gt-a/../../x" in r.stdout
    assert "\x1b" not in r.stdout and "\x07" not in r.stdout
    findings = json.loads(bd("doctor", "--json", cwd=proj).stdout)["findings"]
    assert [f["check"] for f in findings] == ["bad-id"]


@pytest.mark.parametrize("args, words", [
    (["create", "x", "--deps", "bogus"], ["bogus", "not a valid bead id"]),
    (["create", "x", "-a", "bob\nroot"], ["assignee", "newline"]),
    (["create", "x", "--assignee", "bob\nroot"], ["assignee", "newline"]),
    (["create", "x", "-l", "ok,a\nb"], ["label", "newline"]),
])
def test_create_refuses_silently_accepted_fields(proj, args, words):
    before = store_bytes(proj)
    refused(bd(*args, cwd=proj), *words)
    assert store_bytes(proj) == before


def test_update_and_label_refuse_a_newline(proj):
    iid = json.loads(bd("create", "x", "--json", cwd=proj).stdout)["id"]
    before = store_bytes(proj)
    refused(bd("label", "add", iid, "a\nb", cwd=proj), "label")
    refused(bd("update", iid, "--assignee", "a\nb", cwd=proj), "assignee")
    assert store_bytes(proj) == before
