"""One reader of `.beads` (issue 11): each divergence the old lanes had, and corrupt-store reads (issue 12.6).

Every test runs the real CLIs as agents do (one process per command) against real files.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from gastown_tui.beads.codec import encode_issue
from gastown_tui.beads.store import PENDING, Store, init_store
from tests.conftest import make_git_repo, run_cli
from tests.work_helpers import gt, town_store

TS = "2026-01-05T10:00:00Z"


def _msg(mid: str, to: str, title: str = "hello", **extra) -> dict:
    return {"id": mid, "title": title, "status": "open", "priority": 2, "issue_type": "message", "assignee": to,
            "created_at": TS, "updated_at": TS, "sender": "overseer", "labels": ["from:overseer"], **extra}


def _append(path, *lines: str) -> None:
    with open(path, "a", encoding="utf-8") as f:
        for line in lines:
            f.write(line + "\n")


def _inbox(town, addr: str, *flags: str) -> list[str]:
    r = gt(town, "mail", "inbox", addr, "--json", *flags)
    assert r.returncode == 0, r.stderr
    return [m["id"] for m in json.loads(r.stdout)]


@pytest.fixture
def proj(tmp_path):
    repo = make_git_repo(tmp_path / "proj")
    assert run_cli("bd", "init", "--prefix", "gt", cwd=repo).returncode == 0
    return repo


def bd(proj, *args, input=None):
    return run_cli("bd", *args, cwd=proj, input=input)


# --- the divergences of the old lanes ----------------------------------------------------------

def test_divergence1_ready_warns_the_same_for_every_form(proj):
    s = Store(proj / ".beads")
    s.create("work")
    _append(s.issues_path, *[f'{{"id":"gt-bad{i}","title":"tr' for i in range(7)])
    forms = [("ready", "--json"), ("ready", "--json", "--sort", "hybrid"), ("ready", "--sort", "hybrid", "--json"),
             ("ready", "--json", "-n", "10"), ("ready",)]
    errs = set()
    for form in forms:
        r = bd(proj, *form)
        assert r.returncode == 0, r.stderr
        errs.add(r.stderr)
    assert len(errs) == 1, errs
    err = errs.pop()
    assert err.count("bd: warning:") == 6 and "2 more unreadable lines" in err  # 5 named, then the count


def test_divergence2_a_message_reassigned_by_a_later_line_leaves_the_first_inbox(rig_town):
    path = town_store(rig_town).issues_path
    _append(path, encode_issue(_msg("hq-m1", "mayor")).decode(), encode_issue(_msg("hq-m1", "deacon")).decode())
    assert _inbox(rig_town, "mayor") == []
    assert _inbox(rig_town, "deacon") == ["hq-m1"]


def test_divergence3_a_message_written_with_spaces_is_in_the_inbox(rig_town):
    path = town_store(rig_town).issues_path
    _append(path, json.dumps(_msg("hq-m2", "mayor")), json.dumps(_msg("hq-m3", "demo/witness"), indent=None,
                                                                   separators=(" , ", " : ")))
    assert _inbox(rig_town, "mayor") == ["hq-m2"]
    assert _inbox(rig_town, "demo/witness") == ["hq-m3"]
    # an address spelled with JSON escapes is the same address
    _append(path, encode_issue(_msg("hq-m4", "demo/witness")).decode().replace("demo/witness", "demo\\/witness"))
    assert _inbox(rig_town, "demo/witness") == ["hq-m3", "hq-m4"]


def test_divergence4_the_main_file_wins_over_wisps_in_every_lane(rig_town):
    from gastown_tui.work.snapshot import read_issues

    store = town_store(rig_town)
    _append(store.issues_path, encode_issue(_msg("hq-m5", "mayor", "main copy")).decode())
    _append(store.wisps_path, encode_issue(_msg("hq-m5", "mayor", "wisp copy", ephemeral=True)).decode())
    assert read_issues(rig_town.beads_dir)["hq-m5"].title == "main copy"
    assert Store(rig_town.beads_dir).get("hq-m5").title == "main copy"
    r = gt(rig_town, "mail", "inbox", "mayor", "--json")
    assert [m["subject"] for m in json.loads(r.stdout)] == ["main copy"]
    r = run_cli("bd", "show", "hq-m5", "--json", "--db", str(rig_town.beads_dir))
    assert json.loads(r.stdout)[0]["title"] == "main copy"


def test_divergence6_molecule_steps_are_ready_by_bd_readys_rules(proj):
    from gastown_tui.work import formulas as F
    from gastown_tui.work import molecules as M

    s = Store(proj / ".beads")
    mol = M.pour(s, F.load_formula("polecat-work", F.search_paths()), {"issue": "gt-x"})

    def ready_ids():
        r = bd(proj, "ready", "--mol", mol, "--json")
        assert r.returncode == 0, r.stderr
        return [i["id"] for i in json.loads(r.stdout)]

    first = M.steps(s, mol)[0].id
    assert ready_ids() == [first]
    s.update(first, defer_until="2999-01-01T00:00:00Z")
    assert ready_ids() == []  # deferred to the future: not ready, as in bd ready
    s.update(first, defer_until=None, pinned=True)
    assert ready_ids() == []  # pinned
    s.update(first, pinned=None)
    assert ready_ids() == [first]
    gate = s.create("blocker")
    s.add_dependency(mol, gate.id, "blocks")  # the molecule itself is blocked: its steps are too
    assert ready_ids() == []
    assert M.steps(s, mol)[0].state == M.BLOCKED
    s.close(gate.id)
    assert ready_ids() == [first]


# --- a corrupt store (issue 12 item 6) ------------------------------------------------------------

def _truncate_last(path, iid: str) -> None:
    _append(path, f'{{"id":"{iid}","title":"half a li')


def test_show_names_the_unreadable_line_and_never_a_traceback(proj):
    s = Store(proj / ".beads")
    ok = s.create("fine")
    _truncate_last(s.issues_path, "gt-torn")
    for args in (("show", "gt-torn", "--json"), ("show", "gt-torn")):
        r = bd(proj, *args)
        assert r.returncode == 1 and "Traceback" not in r.stderr and "SystemError" not in r.stderr
        assert "issues.jsonl line 2" in r.stderr and "gt-torn" in r.stderr and "closest" not in r.stderr
    r = bd(proj, "show", ok.id, "--json")
    assert r.returncode == 0 and json.loads(r.stdout)[0]["id"] == ok.id
    assert "line 2" in r.stderr and "warning" in r.stderr


def test_ready_and_list_warn_about_unreadable_lines(proj):
    s = Store(proj / ".beads")
    s.create("fine")
    _truncate_last(s.issues_path, "gt-torn")
    for args in (("ready", "--json"), ("ready",), ("list", "--json")):
        r = bd(proj, *args)
        assert r.returncode == 0 and "line 2" in r.stderr and "bd doctor" in r.stderr, (args, r.stderr)


def test_export_warns_and_fails_on_unreadable_lines(proj, tmp_path):
    s = Store(proj / ".beads")
    s.create("fine")
    _append(s.issues_path, "<<<<<<< HEAD")
    out = tmp_path / "out.jsonl"
    r = bd(proj, "export", "-o", str(out))
    assert r.returncode == 1 and "conflict marker" in r.stderr and "warning" in r.stderr
    assert not out.exists()  # nothing half-made
    r = bd(proj, "export")
    assert r.returncode == 1 and r.stdout == ""


def test_sync_refuses_to_commit_a_store_that_does_not_parse(proj):
    s = Store(proj / ".beads")
    s.create("fine")
    assert bd(proj, "sync").returncode == 0
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=proj, capture_output=True, text=True).stdout
    _truncate_last(s.issues_path, "gt-torn")
    r = bd(proj, "sync")
    assert r.returncode == 1 and "refusing to commit" in r.stderr and "line 2" in r.stderr
    assert subprocess.run(["git", "rev-parse", "HEAD"], cwd=proj, capture_output=True, text=True).stdout == head


def test_mail_inbox_on_a_truncated_line_warns_and_answers(rig_town):
    path = town_store(rig_town).issues_path
    _append(path, encode_issue(_msg("hq-m6", "mayor")).decode(), '{"id":"hq-m7","title":"tr","assignee":"mayo')
    for flags in ((), ("--unread",), ("--all",)):
        r = gt(rig_town, "mail", "inbox", "mayor", "--json", *flags)
        assert r.returncode == 0 and "Traceback" not in r.stderr and "SystemError" not in r.stderr
        assert [m["id"] for m in json.loads(r.stdout)] == ["hq-m6"]
        assert "gt: warning:" in r.stderr and "bd doctor" in r.stderr


def test_dead_writers_pending_files_are_reported_and_removed(proj):
    beads = proj / ".beads"
    pending = beads / PENDING
    pending.mkdir(exist_ok=True)
    dead = subprocess.Popen(["true"])
    dead.wait()
    stem = f"{1:020d}-{dead.pid}-1-1"
    os.mkfifo(pending / f"{stem}.fifo")
    (pending / f"{stem}.res").write_text("{}")
    live = f"{2:020d}-{os.getpid()}-1-1.fifo"
    os.mkfifo(pending / live)
    r = bd(proj, "doctor", "--json")
    found = [f for f in json.loads(r.stdout)["findings"] if f["check"] == "pending-leftover"]
    assert sorted(os.path.basename(f["file"]) for f in found) == [f"{stem}.fifo", f"{stem}.res"]
    assert bd(proj, "create", "next writer").returncode == 0
    assert sorted(os.listdir(pending)) == [live]  # the live one is someone's wait, left alone
    r = bd(proj, "doctor", "--json")
    assert not [f for f in json.loads(r.stdout)["findings"] if f["check"] == "pending-leftover"]


def test_known_problems_cover_the_whole_file_whatever_a_read_parsed(tmp_path):
    s = init_store(tmp_path, "gt")
    a = s.create("a")
    _truncate_last(s.issues_path, "gt-torn")
    fresh = Store(s.beads_dir)
    assert fresh.get(a.id).title == "a"  # a lookup that never touched the bad line
    assert [p.line for p in fresh.known_problems()] == [2]
    assert [p.line for p in Store(s.beads_dir).known_problems()] == [2]  # the remembered verdict


def test_a_deleted_main_record_shadows_its_wisp_for_ready_work(tmp_path):
    """Found by the lane-equivalence generator: bd ready's summary let an open wisp copy of a
    deleted issue block its dependents, while every other read saw the tombstone."""
    s = init_store(tmp_path, "gt")
    gone = s.create("deleted one")
    s.delete(gone.id)
    waiting = s.create("waits on it", deps=[("blocks", gone.id)])
    _append(s.wisps_path, encode_issue({"id": gone.id, "title": "wisp copy", "status": "open", "priority": 2,
                                        "created_at": TS, "updated_at": TS}).decode())
    assert waiting.id in [i.id for i in Store(s.beads_dir).ready(limit=None)]
    r = run_cli("bd", "ready", "--json", "-n", "0", "--db", str(s.beads_dir))
    assert waiting.id in [d["id"] for d in json.loads(r.stdout)]
