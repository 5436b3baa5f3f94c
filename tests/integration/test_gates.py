"""Gates against a real town: timer/human/mail/bead/command gates, timeouts, park and resume of a sim agent."""

from __future__ import annotations

import json
import os
import time

import pytest

from gastown_tui.beads.store import Store
from gastown_tui.town.identity import Agent
from gastown_tui.work import gates as G
from gastown_tui.work.mail import inbox, send_mail
from tests.conftest import BIN, run_cli, wait_for, wait_sim_ready


def bd(town, *args, env=None):
    return run_cli("bd", *args, cwd=town.root, env=env)


def gt(town, *args, env=None):
    return run_cli("gt", *args, cwd=town.root, env=env)


def create(town, *args) -> str:
    r = bd(town, "gate", "create", *args, "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["id"]


@pytest.mark.tmux
def test_timer_gate_parks_and_resumes_a_sim_agent(rig_town, tmux):
    town = rig_town
    nux = Agent("polecat", "demo", "nux")
    workdir = nux.workdir(town.root)
    workdir.mkdir(parents=True)
    from gastown_tui.agents.sessions import start_agent
    from gastown_tui.sim.agent import read_log

    start_agent(town, nux, runtime="sim", prompt="", tmux=tmux)
    wait_sim_ready(tmux, nux.session)

    gate = create(town, "timer:1s")
    r = gt(town, "park", "--gate", gate, "--handoff", "pick up the review at step 3", "--as", nux.address, "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["gate"] == gate
    status = json.loads(bd(town, "gate", "status", gate, "--json").stdout)
    assert [w["address"] for w in status["waiters"]] == [nux.address]
    assert status["open"] is False and status["type"] == "timer"
    # The agent left itself a HANDOFF mail.
    assert any(m["subject"] == f"HANDOFF {nux.address}" for m in inbox(town, nux.address))
    # Too early: resume refuses, and says why.
    early = gt(town, "resume", "--as", nux.address)
    assert early.returncode == 1 and "has not opened yet" in early.stderr

    # The deacon's patrol: poll check_gates until the timer has elapsed.
    results = wait_for(lambda: G.check_gates(town), timeout=20, message="the timer gate to open")
    assert [r.id for r in results] == [gate] and results[0].woke == (nux.address,)
    assert G.check_gates(town) == []  # opened once only

    # The sim was woken by the mail's nudge...
    log = town.root / ".runtime" / "sim" / f"{nux.session}.jsonl"
    wait_for(lambda: any(gate in e["text"] and "resume" in e["text"] for e in read_log(log)), timeout=30,
             message="the wake-up nudge in the sim's log")
    # ...and resumes with its handoff.
    r = gt(town, "resume", "--as", nux.address)
    assert r.returncode == 0, r.stderr
    assert "pick up the review at step 3" in r.stdout and f"Gate {gate} opened" in r.stdout
    again = gt(town, "resume", "--as", nux.address)
    assert again.returncode == 1 and "is not parked" in again.stderr


def test_human_gate_opens_only_by_hand_and_notifies(rig_town):
    town = rig_town
    gate = create(town, "human:approve the release", "--notify", "mayor")
    assert G.check_gates(town) == []
    r = bd(town, "gate", "resolve", gate, "-r", "approved by the overseer", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["woke"] == ["mayor"]
    assert any(gate in m["subject"] for m in inbox(town, "mayor"))
    again = bd(town, "gate", "resolve", gate)
    assert again.returncode == 1 and "already closed" in again.stderr
    listed = json.loads(bd(town, "gate", "list", "--all", "--json").stdout)
    row = next(g for g in listed if g["id"] == gate)
    assert set(row) >= {"id", "title", "type", "arg", "status", "open", "timed_out", "reason", "waiters", "notify"}
    assert row["open"] is True and row["reason"] == "approved by the overseer"


def test_bead_gate_opens_when_the_bead_closes_and_can_block_a_step(rig_town):
    town = rig_town
    rig_store = Store(town.rig("demo").beads_dir)
    bead = rig_store.create("Ship the API")
    step = rig_store.create("Announce it")
    gate = G.create_gate(Store(town.beads_dir), f"bead:{bead.id}", town=town)
    rig_store.add_dependency(step.id, gate.id, "blocks")
    assert G.check_gates(town) == []
    rig_store.close(bead.id, "done")
    (res,) = G.check_gates(town)
    assert res.id == gate.id and bead.id in res.reason and not res.timed_out
    with pytest.raises(Exception, match="no bead"):
        G.create_gate(Store(town.beads_dir), "bead:hq-nope", town=town)


def test_mail_gate_opens_when_matching_mail_arrives(rig_town):
    town = rig_town
    gate = create(town, "mail:DEPLOYED")
    send_mail(town, "mayor", "unrelated news", "x", sender="deacon")
    assert G.check_gates(town) == []
    send_mail(town, "mayor", "DEPLOYED v1.2", "all green", sender="demo/refinery")
    (res,) = G.check_gates(town)
    assert res.id == gate and "DEPLOYED v1.2" in res.reason


def test_command_gate_opens_when_the_command_exits_zero(rig_town):
    town = rig_town
    gate = create(town, "command:test -f ready.flag")
    assert G.check_gates(town) == []
    (town.root / "ready.flag").write_text("")
    (res,) = G.check_gates(town)
    assert res.id == gate


def test_timeout_closes_a_gate_as_timed_out(rig_town):
    town = rig_town
    gate = create(town, "human:never", "--timeout", "2s")
    assert G.check_gates(town) == []
    (res,) = G.check_gates(town, now=time.time() + 3)
    assert res.id == gate and res.timed_out
    st = json.loads(bd(town, "gate", "status", gate, "--json").stdout)
    assert st["timed_out"] is True and st["open"] is False and st["status"] == "closed"


def test_bad_gates_are_one_sentence_and_write_nothing(rig_town):
    town = rig_town
    before = (town.beads_dir / "issues.jsonl").read_text()
    for spec, code, words in (("bogus:1", 2, "is not a gate"), ("timer:soon", 2, "is not a duration"),
                              ("timer:", 2, "needs an argument"), ("bead:hq-zzz", 1, "no bead hq-zzz")):
        r = bd(town, "gate", "create", spec)
        assert r.returncode == code, (spec, r.stderr)
        assert words in r.stderr and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = bd(town, "gate", "create", "timer:1m", "--notify", "nobody/at/all")
    assert r.returncode == 2
    assert (town.beads_dir / "issues.jsonl").read_text() == before


def test_gh_gates_need_the_gh_cli(rig_town):
    r = bd(rig_town, "gate", "create", "gh:pr:42", env={"PATH": str(BIN)})
    assert r.returncode == 1
    assert "needs the GitHub CLI 'gh', which is not on PATH" in r.stderr


def test_gh_gate_checks_through_gh(rig_town, tmp_path, monkeypatch):
    # A stand-in `gh` on PATH answers like the real one; the gate opens when the PR is merged.
    fake = tmp_path / "fakebin"
    fake.mkdir()
    state = tmp_path / "state"
    state.write_text("OPEN")
    (fake / "gh").write_text(f"#!/bin/sh\necho '{{\"state\": \"'$(cat {state})'\"}}'\n")
    (fake / "gh").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")
    gate = G.create_gate(Store(rig_town.beads_dir), "gh:pr:42", town=rig_town)
    assert G.check_gates(rig_town) == []
    state.write_text("MERGED")
    (res,) = G.check_gates(rig_town)
    assert res.id == gate.id and "merged" in res.reason


def test_durations():
    assert G.parse_duration("90") == 90 and G.parse_duration("1h30m") == 5400 and G.parse_duration("2d") == 172800
    assert G.parse_spec("gh:run:123") == ("gh:run", "123")


def test_park_refuses_missing_or_closed_gates(rig_town):
    town = rig_town
    (town.rig("demo").polecat("nux")).mkdir(parents=True)
    r = gt(town, "park", "--gate", "hq-nope", "--as", "demo/polecats/nux")
    assert r.returncode == 1 and "no gate hq-nope" in r.stderr
    gate = create(town, "human:ok")
    assert bd(town, "gate", "resolve", gate).returncode == 0
    r = gt(town, "park", "--gate", gate, "--as", "demo/polecats/nux")
    assert r.returncode == 1 and "already closed" in r.stderr
    r = gt(town, "resume", "--as", "demo/polecats/nux")
    assert r.returncode == 1 and "is not parked" in r.stderr
