"""WITNESS_PING (concepts reference §17): witness -> deacon every patrol; a silent witness is
restarted by the deacon, and when that does not help the deacon escalates to the mayor."""

from __future__ import annotations

import time

import pytest

from gastown_tui.infra.tmux import Tmux
from gastown_tui.patrols import deacon, witness
from gastown_tui.town.config import load_settings
from gastown_tui.work import escalation, mail, protocol
from tests.conftest import wait_for
from tests.work_helpers import add_runtime


def pings(town):
    return mail.inbox(town, "deacon", msg_type="WITNESS_PING")


def test_protocol_table_says_witness_to_deacon():
    assert "| WITNESS_PING    | witness → deacon" in protocol.__doc__


def test_each_witness_patrol_renews_one_ping_and_the_deacon_consumes_it(rig_town):
    town = rig_town
    ctx = witness.WitnessContext(town, "demo")
    witness.patrol_once(ctx, witness.WitnessConfig(), now=1000.0)
    first = pings(town)
    assert [(m["from"], m["subject"]) for m in first] == [("demo/witness", "WITNESS_PING demo")]
    assert protocol.parse_body(first[0]["body"])["Pinged"] == "1000.000"
    assert deacon.witness_pings(town) == {"demo": 1000.0}
    assert all(m["read"] for m in pings(town))  # consumed
    witness.patrol_once(ctx, witness.WitnessConfig(), now=1010.0)
    again = pings(town)
    assert [m["id"] for m in again] == [first[0]["id"]]  # renewed in place, not one wisp per patrol
    assert not again[0]["read"] and deacon.witness_pings(town) == {"demo": 1010.0}


def test_a_ping_signed_by_another_witness_does_not_count(rig_town):
    town = rig_town
    mail.send_mail(town, "deacon", "WITNESS_PING demo", "Rig: demo\nPinged: 5000", sender="mayor", nudge=False)
    assert deacon.witness_pings(town) == {}


@pytest.fixture
def silent_witness_town(rig_town):
    """The witness role handed to a runtime that never pings (as a hung witness would be)."""
    add_runtime(rig_town, "sleeper", "sleep", ["3600"])
    s = load_settings(rig_town.root)
    s.set("role_agents.witness", "sleeper")
    s.save()
    yield rig_town
    tm = Tmux.for_town(rig_town)
    for sess in tm.list_sessions():
        tm.kill_session(sess)


@pytest.mark.tmux
def test_a_silent_witness_is_restarted_then_escalated_to_the_mayor(silent_witness_town):
    town = silent_witness_town
    tm = Tmux.for_town(town)
    deacon.start_patrol(town, witness.Agent("witness", "demo"), tm)
    pid = wait_for(lambda: (p := tm.panes().get("gt-demo-witness")) and p.pid, message="the witness session")
    ctx = deacon.DeaconContext(town, tm)
    cfg = deacon.DeaconConfig(ping_stale_seconds=60, feed_convoys=False)
    t0 = time.time()
    facts = deacon.observe(town, tm)
    assert deacon.watch_witnesses(ctx, facts, cfg, t0) == {}  # first sight: the clock starts
    assert deacon.watch_witnesses(ctx, facts, cfg, t0 + 30) == {}  # not silent long enough
    assert deacon.watch_witnesses(ctx, deacon.observe(town, tm), cfg, t0 + 61) == {"demo": "restarted"}
    wait_for(lambda: (p := tm.panes().get("gt-demo-witness")) is not None and p.pid != pid,
             message="a new witness process")
    assert escalation.list_escalations(town) == []
    # the restarted witness still does not ping: the mayor hears of it, once
    assert deacon.watch_witnesses(ctx, deacon.observe(town, tm), cfg, t0 + 122) == {"demo": "escalated"}
    escs = escalation.list_escalations(town)
    assert [(e.data["routed_to"], e.data["severity"]) for e in escs] == [("mayor", "high")]
    assert "demo/witness stopped pinging" in escs[0].title
    assert any(m["subject"].startswith("ESCALATION") for m in mail.inbox(town, "mayor"))
    assert deacon.watch_witnesses(ctx, deacon.observe(town, tm), cfg, t0 + 500) == {}

    # a ping clears it: the witness is watched afresh
    witness.ping_deacon(town, "demo", now=t0 + 501)
    assert deacon.watch_witnesses(ctx, deacon.observe(town, tm), cfg, t0 + 502) == {}
    assert deacon.watch_witnesses(ctx, deacon.observe(town, tm), cfg, t0 + 562) == {"demo": "restarted"}


@pytest.mark.tmux
def test_a_real_witness_patrol_keeps_the_deacon_quiet(rig_town):
    town = rig_town
    s = load_settings(town.root)
    s.set("witness.patrol_seconds", 1)
    s.save()
    tm = Tmux.for_town(town)
    try:
        deacon.start_patrol(town, witness.Agent("witness", "demo"), tm)
        wait_for(lambda: pings(town), timeout=30, message="the witness's first WITNESS_PING")
        ctx = deacon.DeaconContext(town, tm)
        cfg = deacon.DeaconConfig(ping_stale_seconds=60, feed_convoys=False)
        t0 = time.time()
        deacon.watch_witnesses(ctx, deacon.observe(town, tm), cfg, t0)
        # the witness keeps pinging: 61 s after the clock started, its newest ping is still fresh
        # (a silent witness would be restarted now, as the test above shows)
        wait_for(lambda: deacon.witness_pings(town).get("demo", 0) > t0 + 1.5, timeout=30, message="a newer ping")
        assert deacon.watch_witnesses(ctx, deacon.observe(town, tm), cfg, t0 + 61) == {}
    finally:
        for sess in tm.list_sessions():
            tm.kill_session(sess)
