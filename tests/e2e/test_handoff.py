"""Handoff and session cycling on a real sim polecat: HANDOFF mail, same hook, a fresh process."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli, wait_for
from tests.ops_helpers import gt, gtj

pytestmark = pytest.mark.tmux


def _screen(tmux, session):
    return tmux.capture_many([session], ansi=False).get(session, "")


@pytest.fixture
def stalled(rig_town, tmux):
    town = rig_town.root
    clone = town / "demo" / "mayor" / "rig"
    r = run_cli("bd", "create", "Long job", "--json", "-l", "sim:stall", cwd=clone)
    bead = json.loads(r.stdout)["id"]
    a = gtj(town, "sling", bead, "demo", "--agent", "sim", "--no-convoy")["assignments"][0]
    wait_for(lambda: "sim:stall" in _screen(tmux, a["session"]), timeout=30, message="the sim to stall on its bead")
    return town, bead, a


def test_handoff_restarts_the_session_with_the_same_hook(stalled, tmux):
    town, bead, a = stalled
    address = f"demo/polecats/{a['name']}"
    pid_before = tmux.panes()[a["session"]].pid
    res = gtj(town, "handoff", address, "-m", "half way through", "--next", "finish the parser")
    assert res["restarted"] and res["bead"] == bead and res["agent"] == address
    wait_for(lambda: (p := tmux.panes().get(a["session"])) and p.pid != pid_before and not p.dead,
             timeout=30, message="a new process in the same session")
    # nothing on the hook is lost: same bead, still hooked to the same polecat
    hook = gtj(town, "hook", address)
    assert hook["bead"]["id"] == bead and hook["bead"]["assignee"] == address
    # the new session's prime starts with the handoff
    prime = gt(town, "prime", address).stdout
    assert prime.startswith(f"# Handoff from your previous session ({res['mail']})")
    assert "Doing: half way through" in prime and "Next: finish the parser" in prime and bead in prime
    # the restarted sim ran gt prime itself and went back to its hooked bead
    wait_for(lambda: "sim:stall" in _screen(tmux, a["session"]), timeout=30, message="the sim back on its bead")
    events = [json.loads(ln) for ln in gt(town, "feed", "--no-follow", "--json", "--type", "handoff").stdout.splitlines()]
    assert [e["payload"]["agent"] for e in events] == [address]
    # ack'd: prime no longer leads with it
    gt(town, "mail", "ack", res["mail"])
    assert not gt(town, "prime", address).stdout.startswith("# Handoff")


def test_witness_cycles_a_session_after_n_hours(stalled, tmux):
    from gastown_tui.work.handoff import cycle_sessions
    from gastown_tui.town.layout import Town

    town, bead, a = stalled
    t = Town(town)
    assert cycle_sessions(t, "demo", tmux=tmux) == []  # off by default
    gt(town, "config", "set", "witness.cycle_after_hours", "2")
    created = tmux.panes()[a["session"]].created
    assert cycle_sessions(t, "demo", tmux=tmux, now=created + 3600) == []  # one hour: not yet
    logs: list[str] = []
    done = cycle_sessions(t, "demo", tmux=tmux, now=created + 2.5 * 3600, log=logs.append)
    assert [d["agent"] for d in done] == [f"demo/polecats/{a['name']}"] and "2.5 h" in done[0]["reason"]
    assert any("cycled" in m for m in logs)
    # the cycle counts as the session's new start: not cycled again at once
    import time

    assert cycle_sessions(t, "demo", tmux=tmux, now=time.time() + 60) == []
    assert gtj(town, "hook", f"demo/polecats/{a['name']}")["bead"]["id"] == bead


def test_context_use_is_read_from_the_claude_transcript(rig_town, tmp_path, monkeypatch):
    from gastown_tui.work.handoff import context_used, cycle_due
    from gastown_tui.town.config import load_settings
    from gastown_tui.town.identity import Agent
    from gastown_tui.work.costs import claude_project_name

    config = tmp_path / "claude"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config))
    agent = Agent("polecat", "demo", "nux")
    wd = rig_town.root / "demo" / "polecats" / "nux"
    d = config / "projects" / claude_project_name(str(wd))
    d.mkdir(parents=True)
    line = {"type": "assistant", "cwd": str(wd), "message": {"id": "m", "usage": {
        "input_tokens": 5, "cache_read_input_tokens": 170_000, "cache_creation_input_tokens": 2_000, "output_tokens": 90}}}
    (d / "t.jsonl").write_text(json.dumps({"type": "user"}) + "\n" + json.dumps(line) + "\n")
    assert context_used(rig_town, agent) == 172_005
    s = load_settings(rig_town.root)
    s.set("witness.cycle_context_percent", 85.0)
    s.save()

    class Pane:
        created = 0.0

    assert "86% full" in cycle_due(rig_town, agent, Pane(), load_settings(rig_town.root), now=1.0)


def test_handoff_refuses_what_it_cannot_do(rig_town):
    r = run_cli("gt", "handoff", "overseer", cwd=rig_town.root)
    assert r.returncode == 2 and "overseer" in r.stderr
    r = run_cli("gt", "handoff", "demo/witness", cwd=rig_town.root)
    assert r.returncode == 2 and "patrol" in r.stderr
    r = run_cli("gt", "handoff", "demo/polecats/nobody", cwd=rig_town.root)
    assert r.returncode == 1 and "no session" in r.stderr and "Traceback" not in r.stderr




# -- warrants on the same stuck sim ------------------------------------------------------------

def test_warrant_is_filed_then_executed_by_the_deacon_after_its_grace(stalled, tmux):
    import time

    from gastown_tui.patrols import deacon
    from gastown_tui.patrols.deacon import DeaconConfig, DeaconContext
    from gastown_tui.town.layout import Town

    town, bead, a = stalled
    address = f"demo/polecats/{a['name']}"
    w = gtj(town, "warrant", "file", address, "--reason", "stuck for an hour", "--grace", "1h")
    assert (w["target"], w["state"], w["status"]) == (address, "filed", "open")
    r = run_cli("gt", "warrant", "file", address, "--reason", "again", cwd=town)
    assert r.returncode == 1 and "already has a warrant" in r.stderr
    assert [x["id"] for x in gtj(town, "warrant", "list")] == [w["id"]]
    r = run_cli("gt", "warrant", "execute", w["id"], cwd=town)
    assert r.returncode == 1 and "grace period" in r.stderr
    assert tmux.has_session(a["session"])  # nothing happened yet

    ctx = DeaconContext(Town(town), tmux=tmux)
    rep = deacon.patrol_once(ctx, DeaconConfig(feed_convoys=False), now=time.time() + 2 * 3600)
    assert rep["warrants"] == [w["id"]]
    wait_for(lambda: not tmux.has_session(a["session"]), timeout=20, message="the session stopped")
    b = json.loads(run_cli("bd", "show", bead, "--json", cwd=town / "demo" / "mayor" / "rig").stdout)
    b = b[0] if isinstance(b, list) else b
    assert b["status"] == "open" and not b.get("assignee")  # back in the pool
    assert (town / "demo" / "polecats" / a["name"]).is_dir()  # the worktree stays
    done = gtj(town, "warrant", "list", "--all")
    assert done[0]["state"] == "executed" and done[0]["executed_by"] == "deacon" and "session stopped" in done[0]["outcome"]
    assert gtj(town, "warrant", "list") == []
    types = [json.loads(ln)["type"] for ln in gt(town, "feed", "--no-follow", "--json", "--type", "warrant").stdout.splitlines()]
    assert types == ["warrant.filed", "warrant.executed"]


def test_warrant_cancel_and_bad_input(rig_town):
    town = rig_town.root
    w = gtj(town, "warrant", "file", "demo/polecats/ghost", "--reason", "test", "--grace", "0s")
    c = gtj(town, "warrant", "cancel", w["id"], "--reason", "false alarm")
    assert c["state"] == "cancelled" and c["status"] == "closed"
    for args, word in ((["file", "demo/polecats/x", "--reason", " "], "needs a reason"),
                       (["file", "not an address", "--reason", "x"], "not an agent address"),
                       (["file", "demo/polecats/x", "--reason", "x", "--grace", "soon"], "not a duration")):
        r = run_cli("gt", "warrant", *args, cwd=town)
        assert r.returncode == 2 and word in r.stderr, (args, r.stderr)
    r = run_cli("gt", "warrant", "execute", "hq-nope", cwd=town)
    assert r.returncode == 1 and "no warrant" in r.stderr
