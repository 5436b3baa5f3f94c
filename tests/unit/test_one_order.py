"""One merge-queue order and one severity rank, asked by every view (issue 11, divergence 5)."""

from __future__ import annotations

import json

from gastown_tui.beads.store import Store
from gastown_tui.patrols import refinery
from gastown_tui.work import escalation, mq
from gastown_tui.work.snapshot import load_snapshot
from tests.work_helpers import gt


def _mr(town, store, branch: str, created_at: str, priority: int = 2) -> str:
    iss = mq.create_mr(town, "demo", branch=branch, target="main", source_issue="de-none", worker="demo/polecats/x",
                       commit_sha="0" * 40, priority=priority)
    store.update(iss.id, created_at=created_at)
    return iss.id


def test_divergence_5_equal_priority_mrs_are_merged_and_listed_oldest_first_everywhere(rig_town):
    town = rig_town
    store = Store(town.rig("demo").beads_dir)
    # Equal priority; the ages disagree with the ids' order and with the timestamps' text order
    # (01:00+01:00 is 00:00Z, the oldest).
    newest = _mr(town, store, "polecat/a/de-1-x", "2026-01-01T00:45:00Z")
    oldest = _mr(town, store, "polecat/b/de-2-x", "2026-01-01T01:00:00+01:00")
    middle = _mr(town, store, "polecat/c/de-3-x", "2026-01-01T00:30:00.123456789Z")
    urgent = _mr(town, store, "polecat/d/de-4-x", "2026-01-02T00:00:00Z", priority=0)
    want = [urgent, oldest, middle, newest]

    rows = refinery.list_mrs(town, "demo")
    assert [m["id"] for m in refinery.queue_order(rows)] == want  # what the refinery merges next
    assert [m["id"] for m in rows] == want
    assert [m["id"] for m in mq.list_mrs(town, "demo")] == want
    r = gt(town, "mq", "list", "demo", "--json")
    assert r.returncode == 0, r.stderr
    assert [m["id"] for m in json.loads(r.stdout)] == want
    assert [b.id for b in load_snapshot(town, panes={}).merge_queue] == want  # the cockpit's screen


def test_the_mr_being_merged_leads_every_listing(rig_town):
    town = rig_town
    store = Store(town.rig("demo").beads_dir)
    first = _mr(town, store, "polecat/a/de-1-x", "2026-01-01T00:00:00Z")
    busy = _mr(town, store, "polecat/b/de-2-x", "2026-01-01T00:10:00Z")
    store.update(busy, status="in_progress")
    assert [m["id"] for m in refinery.list_mrs(town, "demo")] == [busy, first]
    assert [b.id for b in load_snapshot(town, panes={}).merge_queue] == [busy, first]


def test_one_severity_rank_orders_the_cli_and_the_cockpit(rig_town):
    town = rig_town
    low = escalation.create_escalation(town, "a low one", severity="low", actor="overseer")
    crit = escalation.create_escalation(town, "on fire", severity="critical", actor="overseer")
    med = escalation.create_escalation(town, "hmm", severity="medium", actor="overseer")
    # A priority edited by hand does not change the rank: severity decides.
    Store(town.beads_dir).update(low["id"] if isinstance(low, dict) else low.id, priority=0)
    ids = [getattr(x, "id", None) or x["id"] for x in (crit, med, low)]
    assert [e.id for e in escalation.list_escalations(town)] == ids
    assert [e.id for e in load_snapshot(town, panes={}).escalations] == ids
    assert [escalation.severity_rank(s) for s in ("critical", "high", "medium", "low", "bogus", None)] == [0, 1, 2, 3, 4, 4]
