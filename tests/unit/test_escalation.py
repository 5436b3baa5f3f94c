"""Escalation routing rules (pure) and the store side on a real town store."""

from __future__ import annotations

import pytest

from gastown_tui.errors import UsageError
from gastown_tui.work import escalation as esc


def test_initial_routing_by_severity():
    assert esc.initial_target("low") == "deacon"
    assert esc.initial_target("medium") == "deacon"
    assert esc.initial_target("high") == "mayor"
    assert esc.initial_target("critical") == "overseer"
    with pytest.raises(UsageError):
        esc.initial_target("urgent")


def test_ladder_goes_up_one_level_and_stops_at_the_overseer():
    assert esc.next_target("deacon") == "mayor"
    assert esc.next_target("mayor") == "overseer"
    assert esc.next_target("overseer") == "overseer"
    assert esc.next_target("demo/witness") == "mayor"


def test_stale_only_when_open_unacked_and_old():
    base = {"status": "open", "routed_at_epoch": 1000.0}
    assert esc.is_stale(base, 1000 + 3600, 3600)
    assert not esc.is_stale(base, 1000 + 3599, 3600)
    assert not esc.is_stale({**base, "acked_by": "mayor"}, 99999, 3600)
    assert not esc.is_stale({**base, "status": "closed"}, 99999, 3600)
    assert esc.is_stale({"status": "open", "updated_at": "2026-01-01T00:00:00.123456789Z"},
                        esc._epoch("2026-01-01T02:00:00Z"), 3600)


def test_create_ack_close_and_reescalate(town):
    e = esc.create_escalation(town, "deploy is stuck", severity="medium", category="stuck", actor="demo/witness",
                              now=1000.0)
    assert (e.priority, e.data["routed_to"], e.issue_type) == (2, "deacon", "escalation")
    crit = esc.create_escalation(town, "disk full", severity="critical", now=1000.0)
    assert crit.data["routed_to"] == "overseer" and crit.priority == 0
    from gastown_tui.beads.store import Store

    mail = Store(town.beads_dir).list(type="message", include_ephemeral=True)
    assert {m.assignee for m in mail} >= {"deacon", "overseer"}
    assert [x.id for x in esc.stale_escalations(town, now=1000 + 7200, stale_seconds=3600)] == [crit.id, e.id]
    up = esc.reescalate(town, e.id, now=1000 + 7200)
    assert up.data["routed_to"] == "mayor" and up.data["escalation_level"] == 1
    assert [x.id for x in esc.stale_escalations(town, now=1000 + 7300, stale_seconds=3600)] == [crit.id]
    esc.ack_escalation(town, crit.id, actor="overseer")
    assert esc.stale_escalations(town, now=1000 + 99999, stale_seconds=3600)[0].id == e.id
    esc.close_escalation(town, e.id, "fixed")
    assert [x.id for x in esc.list_escalations(town)] == [crit.id]


def test_structured_decision_needs_a_question(town):
    with pytest.raises(UsageError):
        esc.create_escalation(town, "pick one", options=["a", "b"])
    d = esc.create_escalation(town, "pick one", question="Which db?", options=["pg", "sqlite"], issue="de-1")
    j = esc.to_json(d)
    assert (j["question"], j["options"], j["issue"]) == ("Which db?", ["pg", "sqlite"], "de-1")


def test_dedupe_returns_the_open_one(town):
    a = esc.create_escalation(town, "same thing", issue="de-1", dedupe=True)
    b = esc.create_escalation(town, "same thing", issue="de-1", dedupe=True)
    assert a.id == b.id
