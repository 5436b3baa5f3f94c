"""The mayor's `gt prime` starts with the pending-escalations block (concepts reference §4)."""

from __future__ import annotations

from gastown_tui.work import escalation
from tests.work_helpers import gt


def test_mayor_prime_starts_with_pending_escalations(rig_town):
    town = rig_town
    r = gt(town, "prime", "mayor")
    assert r.returncode == 0, r.stderr
    assert "PENDING ESCALATIONS" not in r.stdout  # nothing pending: no block
    escalation.create_escalation(town, "Data corruption detected", severity="critical")
    escalation.create_escalation(town, "Unresolvable merge conflict", severity="high")
    escalation.create_escalation(town, "Design decision needed", severity="medium")
    acked = escalation.create_escalation(town, "being handled", severity="medium")
    escalation.ack_escalation(town, acked.id, actor="mayor")
    r = gt(town, "prime", "mayor")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[:5] == [
        "## PENDING ESCALATIONS",
        "There are 3 escalation(s) awaiting attention:",
        "CRITICAL: 1",
        "HIGH: 1",
        "MEDIUM: 1",
    ]
    assert "Data corruption detected" in r.stdout and "being handled" not in r.stdout
    assert "# Gas Town: your role" in r.stdout  # the role text follows
    # other roles do not get the block
    assert "PENDING ESCALATIONS" not in gt(town, "prime", "deacon").stdout
