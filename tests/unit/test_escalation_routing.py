"""Escalation routing by category (concepts reference §20), decisions answered later, gate timeouts."""

from __future__ import annotations

import pytest

from gastown_tui.beads.store import Store
from gastown_tui.errors import Conflict, UsageError
from gastown_tui.work import escalation as esc

# The reference's table, row by row: category -> (first hop, the hop after it).
TABLE = {
    "decision": ("deacon", "mayor"),
    "help": ("deacon", "mayor"),
    "blocked": ("mayor", "overseer"),
    "failed": ("deacon", "mayor"),
    "emergency": ("overseer", "overseer"),
    "gate_timeout": ("deacon", "mayor"),
    "lifecycle": ("demo/witness", "deacon"),
}


@pytest.mark.parametrize("category", sorted(TABLE))
def test_each_category_routes_as_the_reference_says(category):
    first, then = TABLE[category]
    assert esc.category_target(category, "medium", rig="demo") == first
    assert esc.next_target(first, category) == then


def test_category_wins_over_severity_and_unrouted_categories_keep_severity():
    assert esc.category_target("blocked", "low") == "mayor"
    assert esc.category_target("emergency", "low") == "overseer"
    assert esc.category_target(None, "critical") == "overseer"
    assert esc.category_target("stuck", "high") == "mayor"
    assert esc.category_target("lifecycle", "medium", rig=None) == "deacon"  # no rig known: the next hop
    with pytest.raises(UsageError):
        esc.check_category("whatever")
    assert esc.check_category("Gate-Timeout") == "gate_timeout"


def test_lifecycle_goes_to_the_raisers_rig_witness_and_stale_ones_climb_its_ladder(rig_town):
    town = rig_town
    e = esc.create_escalation(town, "nux needs a recycle", category="lifecycle", actor="demo/polecats/nux", now=1000.0)
    assert e.data["routed_to"] == "demo/witness"
    mail = Store(town.beads_dir).list(type="message", include_ephemeral=True)
    assert any(m.assignee == "demo/witness" for m in mail)
    up = esc.reescalate(town, e.id, now=9999.0)
    assert up.data["routed_to"] == "deacon"
    b = Store(town.rig("demo").beads_dir).create("work")
    by_issue = esc.create_escalation(town, "worker stuck", category="lifecycle", issue=b.id, actor="overseer")
    assert by_issue.data["routed_to"] == "demo/witness"


def test_blocked_starts_at_the_mayor_and_emergency_at_the_overseer(town):
    assert esc.create_escalation(town, "waiting on vendor", category="blocked").data["routed_to"] == "mayor"
    assert esc.create_escalation(town, "key leaked", category="emergency").data["routed_to"] == "overseer"
    assert esc.create_escalation(town, "tests crash", category="failed").data["routed_to"] == "deacon"


def test_a_decision_is_written_into_its_issue_and_answered_later(rig_town):
    town = rig_town
    store = Store(town.rig("demo").beads_dir)
    b = store.create("admin panel login")
    d = esc.create_escalation(town, "Which auth approach?", question="Which authentication approach?",
                              options=["JWT tokens", "Session cookies", "OAuth2"],
                              context="Admin panel needs login", issue=b.id, actor="demo/polecats/nux")
    assert d.data["category"] == "decision" and d.data["routed_to"] == "deacon"
    iss = store.get(b.id)
    assert iss.get("decision") == {"escalation": d.id, "question": "Which authentication approach?",
                                   "options": ["JWT tokens", "Session cookies", "OAuth2"],
                                   "context": "Admin panel needs login", "answer": None}
    assert "## Decision needed" in iss.notes and "2. Session cookies" in iss.notes
    assert f"gt escalate answer {d.id} OPTION" in iss.notes

    with pytest.raises(UsageError):
        esc.answer_escalation(town, d.id, "Carrier pigeon")
    with pytest.raises(UsageError):
        esc.answer_escalation(town, d.id, "4")
    done = esc.answer_escalation(town, d.id, "oauth2", actor="mayor")
    assert done.is_closed and done.data["answer"] == "OAuth2" and done.close_reason == "answered: OAuth2"
    iss = store.get(b.id)
    assert iss.get("decision")["answer"] == "OAuth2" and iss.get("decision")["answered_by"] == "mayor"
    assert "Decision (" + d.id + "): OAuth2" in iss.notes
    # the raiser hears the answer
    mail = Store(town.beads_dir).list(type="message", include_ephemeral=True)
    assert any(m.assignee == "demo/polecats/nux" and "OAuth2" in m.title for m in mail)
    with pytest.raises(Conflict):
        esc.answer_escalation(town, d.id, "1")
    plain = esc.create_escalation(town, "no question here")
    with pytest.raises(UsageError):
        esc.answer_escalation(town, plain.id, "1")


def test_answer_by_number(town):
    d = esc.create_escalation(town, "pick", question="Which db?", options=["pg", "sqlite"])
    assert esc.answer_escalation(town, d.id, "2").data["answer"] == "sqlite"


def test_a_gate_that_times_out_raises_a_gate_timeout_escalation(rig_town):
    from gastown_tui.work import gates

    town = rig_town
    store = Store(town.rig("demo").beads_dir)
    g = gates.create_gate(store, "human:approve the design", timeout="1s", town=town, now=1000.0)
    assert gates.check_gates(town, now=1000.5) == []
    res = gates.check_gates(town, now=1002.0)
    assert [r.id for r in res] == [g.id] and res[0].timed_out
    found = [e for e in esc.list_escalations(town) if e.data.get("related_issue") == g.id]
    assert len(found) == 1
    assert found[0].data["category"] == "gate_timeout" and found[0].data["routed_to"] == "deacon"
