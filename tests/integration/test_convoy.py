"""Convoys: cross-rig tracking, status shape, landing however beads close, notify, reopen, stranded."""

from __future__ import annotations

import json

from gastown_tui.town.rigs import add_rig
from gastown_tui.work import convoy
from tests.conftest import make_git_repo, run_cli
from tests.work_helpers import bead, gt, gt_json, one_sentence, rig_store, town_store


def test_create_status_shape_and_cross_rig(rig_town, tmp_path):
    add_rig(rig_town, "other", str(make_git_repo(tmp_path / "other")))
    a = bead(rig_town, "alpha")
    b = bead(rig_town, "beta", rig="other")
    r = gt(rig_town, "convoy", "create", "Batch", a.id, b.id, "--json")
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert s["id"].startswith("hq-cv-") and len(s["id"]) == len("hq-cv-") + 5
    st = gt_json(rig_town, "convoy", "status", s["id"])
    assert {"id", "title", "status", "total", "closed"} <= set(st)
    assert (st["title"], st["status"], st["total"], st["closed"]) == ("Batch", "open", 2, 0)
    assert [(x["id"], x["status"], x["assignee"]) for x in st["beads"]] == [(a.id, "open", None), (b.id, "open", None)]
    conv = town_store(rig_town).get(s["id"])
    assert conv.issue_type == "convoy"
    assert {(d["depends_on_id"], d["type"]) for d in conv.dependencies} == {(a.id, "tracks"), (b.id, "tracks")}


def test_lands_when_the_last_bead_closes_by_bd_and_notifies(rig_town):
    a, b = bead(rig_town, "alpha"), bead(rig_town, "beta")
    s = convoy.create_convoy(rig_town, "Two", [a.id, b.id], notify=["mayor"])
    cwd = rig_town.rig("demo").mayor_clone
    assert run_cli("bd", "close", a.id, cwd=cwd).returncode == 0
    assert gt_json(rig_town, "convoy", "status", s["id"])["status"] == "open"
    assert convoy.check_convoys(rig_town) == []
    r = run_cli("bd", "close", b.id, cwd=cwd)
    assert r.returncode == 0, r.stderr
    assert convoy.check_convoys(rig_town) == [s["id"]]
    assert convoy.check_convoys(rig_town) == []  # exactly once
    st = gt_json(rig_town, "convoy", "status", s["id"])
    assert (st["status"], st["closed"], st["total"], st["close_reason"]) == ("closed", 2, 2, "landed")
    inbox = gt_json(rig_town, "mail", "inbox", "mayor")
    assert len(inbox) == 1 and inbox[0]["subject"] == "Convoy landed: Two" and s["id"] in inbox[0]["body"]
    # adding an open bead reopens it
    c = bead(rig_town, "gamma")
    st = gt_json(rig_town, "convoy", "add", s["id"], c.id)
    assert st["status"] == "open" and st["total"] == 3


def test_status_lands_a_convoy_whose_beads_were_closed_elsewhere(rig_town):
    a = bead(rig_town, "alpha")
    s = convoy.create_convoy(rig_town, "One", [a.id])
    rig_store(rig_town).close(a.id, "done by hand")
    assert gt_json(rig_town, "convoy", "status", s["id"])["status"] == "closed"
    assert gt_json(rig_town, "convoy", "list") == []
    assert [c["id"] for c in gt_json(rig_town, "convoy", "list", "--all")] == [s["id"]]


def test_list_remove_close_and_stranded(rig_town):
    a, b = bead(rig_town, "alpha"), bead(rig_town, "beta")
    s = convoy.create_convoy(rig_town, "Pair", [a.id, b.id])
    rows = gt_json(rig_town, "convoy", "list")
    assert [(c["id"], c["total"], c["closed"]) for c in rows] == [(s["id"], 2, 0)]
    stranded = gt_json(rig_town, "convoy", "stranded")
    assert stranded[0]["id"] == s["id"] and sorted(stranded[0]["unassigned"]) == sorted([a.id, b.id])
    assert gt_json(rig_town, "convoy", "remove", s["id"], b.id)["total"] == 1
    r = gt(rig_town, "convoy", "remove", s["id"], b.id)
    assert r.returncode == 1 and "does not track" in one_sentence(r)
    assert gt_json(rig_town, "convoy", "close", s["id"])["status"] == "closed"
    r = gt(rig_town, "convoy", "close", s["id"])
    assert r.returncode == 1 and "already closed" in one_sentence(r)


def test_bad_input(rig_town):
    before = (rig_town.beads_dir / "issues.jsonl").read_text()
    r = gt(rig_town, "convoy", "create", "X", "de-nope")
    assert r.returncode == 1 and "de-nope" in one_sentence(r)
    r = gt(rig_town, "convoy", "status", "hq-cv-zzzzz")
    assert r.returncode == 1 and "no convoy" in one_sentence(r)
    a = bead(rig_town, "alpha")
    r = gt(rig_town, "convoy", "create", "X", a.id, "--notify", "ghost/witness")
    assert r.returncode == 2
    assert (rig_town.beads_dir / "issues.jsonl").read_text() == before
