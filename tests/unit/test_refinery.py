"""The merge queue's rules as pure functions."""

from __future__ import annotations

from gastown_tui.patrols.refinery import failure_count, next_step_after_failure, queue_order


def test_queue_is_priority_then_age_and_only_open():
    mrs = [
        {"id": "a", "status": "open", "priority": 2, "created_at": "2026-01-01T00:00:01Z"},
        {"id": "b", "status": "open", "priority": 0, "created_at": "2026-01-01T00:00:05Z"},
        {"id": "c", "status": "open", "priority": 2, "created_at": "2026-01-01T00:00:00Z"},
        {"id": "d", "status": "closed", "priority": 0, "created_at": "2026-01-01T00:00:00Z"},
        {"id": "e", "status": "in_progress", "priority": 0, "created_at": "2026-01-01T00:00:00Z"},
    ]
    assert [m["id"] for m in queue_order(mrs)] == ["b", "c", "a"]


def test_failures_count_only_sent_back_mrs_of_that_bead():
    mrs = [
        {"id": "1", "source_issue": "x", "status": "closed", "close_reason": "rework: conflict"},
        {"id": "2", "source_issue": "x", "status": "closed", "close_reason": "merge-failed: tests"},
        {"id": "3", "source_issue": "x", "status": "closed", "close_reason": "merged at abc"},
        {"id": "4", "source_issue": "y", "status": "closed", "close_reason": "rework: conflict"},
        {"id": "5", "source_issue": "x", "status": "open"},
    ]
    assert failure_count(mrs, "x") == 2


def test_after_failure_back_to_worker_until_the_limit_then_escalate():
    assert next_step_after_failure(1, 2, True) == "back-to-worker"
    assert next_step_after_failure(1, 2, False) == "reopen"
    assert next_step_after_failure(2, 2, True) == "escalate"
