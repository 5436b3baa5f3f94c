"""The witness against real tmux sessions and a real rig: each failure class, and the healthy case."""

from __future__ import annotations

import time

import pytest

from gastown_tui.beads.store import Store
from gastown_tui.infra.tmux import Tmux
from gastown_tui.patrols import witness
from gastown_tui.patrols.witness import WitnessConfig, WitnessContext
from tests.conftest import wait_for
from tests.work_helpers import add_runtime, bead, gt, sessions


@pytest.fixture
def town(rig_town):
    add_runtime(rig_town, "ticker", "sh", ["-c", "while true; do date +%s.%N; sleep 0.3; done"])
    add_runtime(rig_town, "sleeper", "sleep", ["3600"])
    yield rig_town
    tm = Tmux.for_town(rig_town)
    for s in tm.list_sessions():
        if s.startswith("gt-demo-"):
            tm.kill_session(s)


def sling(town, runtime: str, title: str = "work") -> tuple[str, str]:
    b = bead(town, title)
    r = gt(town, "sling", b.id, "demo", "--agent", runtime, "--no-convoy")
    assert r.returncode == 0, r.stderr
    name = Store(town.rig("demo").beads_dir).get(b.id).assignee.rsplit("/", 1)[-1]
    return b.id, name


def ctx(town, logs=None):
    return WitnessContext(town, "demo", log=(logs.append if logs is not None else (lambda _m: None)))


@pytest.mark.tmux
def test_killed_polecat_is_restarted_then_reopened_and_escalated(town):
    bead_id, name = sling(town, "sleeper")
    cfg = WitnessConfig(stall_seconds=600, max_restarts=1)
    c = ctx(town)
    assert witness.patrol_once(c, cfg) == []
    Tmux.for_town(town).kill_session(f"gt-demo-{name}")
    acts = witness.patrol_once(c, cfg)
    assert [a.kind for a in acts] == ["restart"]
    assert f"gt-demo-{name}" in sessions(town)
    Tmux.for_town(town).kill_session(f"gt-demo-{name}")
    acts = witness.patrol_once(c, cfg)
    assert [a.kind for a in acts] == ["reopen_escalate"]
    iss = Store(town.rig("demo").beads_dir).get(bead_id)
    assert iss.status == "open" and not iss.assignee
    escs = Store(town.beads_dir).list(type="escalation")
    assert len(escs) == 1 and escs[0].data["related_issue"] == bead_id


@pytest.mark.tmux
def test_crashed_process_in_live_session_is_restarted(town):
    add_runtime(town, "dies", "sh", ["-c", "sleep 0.2; exit 7"])
    bead_id, name = sling(town, "dies")
    tm = Tmux.for_town(town)
    wait_for(lambda: (p := tm.panes().get(f"gt-demo-{name}")) and p.dead, timeout=15, message="the process died")
    logs: list[str] = []
    acts = witness.patrol_once(ctx(town, logs), WitnessConfig(max_restarts=2))
    assert [a.kind for a in acts] == ["restart"] and "process exited" in acts[0].reason
    assert any("restart" in line for line in logs)


@pytest.mark.tmux
def test_healthy_busy_agent_is_never_touched(town):
    # A 1 s setting against tmux's 1 s activity clock: the rule floors it (agents.status.is_stalled),
    # so a loaded machine delaying a pass or the ticker never makes a busy agent look stalled.
    bead_id, name = sling(town, "ticker")
    cfg = WitnessConfig(stall_seconds=1, max_restarts=1)
    c = ctx(town)
    start = time.monotonic()
    seen: list = []

    def patrol_for_three_seconds():
        seen.extend(witness.patrol_once(c, cfg))
        return time.monotonic() - start > 3.5

    wait_for(patrol_for_three_seconds, timeout=30, interval=0.3, message="3.5 s of patrols")
    assert seen == []
    assert Store(town.rig("demo").beads_dir).get(bead_id).status == "hooked"


@pytest.mark.tmux
def test_stalled_agent_is_nudged_then_escalated(town):
    bead_id, name = sling(town, "sleeper")
    cfg = WitnessConfig(stall_seconds=1, max_restarts=1)
    c = ctx(town)
    kinds: list[str] = []

    def until_escalated():
        kinds.extend(a.kind for a in witness.patrol_once(c, cfg))
        return "escalate_stall" in kinds

    wait_for(until_escalated, timeout=60, interval=0.3, message="nudge then escalation")
    assert kinds == ["nudge", "escalate_stall"]
    escs = Store(town.beads_dir).list(type="escalation")
    assert escs and escs[0].data["category"] == "stuck" and escs[0].data["related_issue"] == bead_id
    assert f"gt-demo-{name}" in sessions(town)  # a stalled agent is not killed


@pytest.mark.tmux
def test_agent_running_after_its_bead_closed_is_retired(town):
    bead_id, name = sling(town, "sleeper")
    Store(town.rig("demo").beads_dir).close(bead_id, "done by hand")
    acts = witness.patrol_once(ctx(town), WitnessConfig())
    assert [a.kind for a in acts] == ["retire"]
    assert f"gt-demo-{name}" not in sessions(town)
    # No commits on its branch: nothing unmerged, so the worktree went too.
    assert not town.rig("demo").polecat(name).exists()


def test_witness_run_once_from_the_cli_writes_a_heartbeat(town):
    r = gt(town, "witness", "run", "demo", "--once")
    assert r.returncode == 0, r.stderr
    assert "witness for rig demo" in r.stdout
    assert (town.heartbeats_dir / "gt-demo-witness.json").exists()
    r = gt(town, "witness", "status", "--json")
    assert r.returncode == 0
    import json

    rows = json.loads(r.stdout)
    assert rows[0]["agent"] == "demo/witness" and rows[0]["heartbeat_age"] is not None
    r = gt(town, "witness", "run", "nope", "--once")
    assert r.returncode == 1 and "no rig named 'nope'" in r.stderr


def test_polecat_that_gives_up_is_escalated(town):
    from gastown_tui.work import protocol
    from gastown_tui.work.mail import send_mail

    send_mail(town, "demo/witness", protocol.subject("POLECAT_DONE", "nux"),
              protocol.body({"Polecat": "nux", "Rig": "demo", "Bead": "de-xyz", "Status": "ESCALATED",
                             "Note": "the spec contradicts itself"}), sender="demo/polecats/nux")
    witness.patrol_once(ctx(town), WitnessConfig())
    escs = Store(town.beads_dir).list(type="escalation")
    assert len(escs) == 1 and escs[0].data["related_issue"] == "de-xyz"
    assert "contradicts" in escs[0].description
    from gastown_tui.work.mail import inbox

    assert inbox(town, "demo/witness", unread_only=True) == []


@pytest.mark.tmux
def test_a_stalled_escalated_polecat_is_stalled_in_the_cockpit_and_found_by_b(town):
    """Divergence: the cockpit showed a stalled, already-escalated polecat as working while `b`
    said nobody needed attention. The cockpit now asks the one classifier, fed the witness's
    evidence, with the threshold from settings."""
    from gastown_tui.town.config import load_settings
    from gastown_tui.tui.source import TownSource

    s = load_settings(town.root)
    s.set("witness.stall_seconds", 1)  # floored to MIN_STALL_SECONDS by the rule
    s.save()
    bead_id, name = sling(town, "sleeper")
    cfg = WitnessConfig.from_settings(town)
    c = ctx(town)
    kinds: list[str] = []

    def until_escalated():
        kinds.extend(a.kind for a in witness.patrol_once(c, cfg))
        return "escalate_stall" in kinds

    wait_for(until_escalated, timeout=60, interval=0.3, message=f"nudge then escalation (saw {kinds})")
    address = f"demo/polecats/{name}"
    snap = TownSource(town).snapshot()
    assert snap.agent(address).state == "stalled"
    assert snap.next_needing_attention() is not None
    assert snap.next_needing_attention().address == address
    # `gt status` and `gt agents status` say the same.
    import json

    st = json.loads(gt(town, "status", "--json").stdout)
    assert next(a for a in st["agents"] if a["agent"] == address)["state"] == "stalled"
    rows = json.loads(gt(town, "agents", "status", "--json").stdout)
    assert next(r for r in rows if r["address"] == address)["state"] == "stalled"
