"""Patrol check summaries: totals, problem statuses and long gaps are what a digest reports."""

from __future__ import annotations

from gastown_tui.patrols.krc import summarize


def test_summary_counts_totals_and_anomalies():
    recs = [{"ts": 1000.0 + 10 * i, "status": "ok", "actions": 1, "polecats": 3} for i in range(10)]
    recs.append({"ts": 1090.0 + 600, "status": "ok", "actions": 0, "polecats": 3})  # a 10-minute silence
    recs.append({"ts": 1700.0, "status": "failed", "actions": 0})
    s = summarize(recs)
    assert s["passes"] == 12 and s["totals"] == {"actions": 10, "polecats": 33}
    assert s["statuses"] == {"ok": 11, "failed": 1}
    assert any("status 'failed'" in a for a in s["anomalies"])
    assert any("gap" in a and "600 s" in a for a in s["anomalies"])


def test_quiet_regular_passes_have_no_anomalies():
    s = summarize([{"ts": float(t), "status": "ok"} for t in range(0, 300, 5)])
    assert s["anomalies"] == [] and s["passes"] == 60
