"""The status engine on a live server: bounded tmux calls, real sims changing state."""

from __future__ import annotations

import time

import pytest

from gastown_tui.agents.nudge import deliver
from gastown_tui.agents.sessions import start_agent
from gastown_tui.agents.status import StatusEngine
from gastown_tui.town.identity import Agent
from tests.conftest import wait_for, wait_sim_ready

pytestmark = pytest.mark.tmux


def test_watching_30_idle_agents_costs_one_listing_per_poll(town, tmux, tmp_path):
    agents = [Agent("crew", "w", f"a{i:02d}") for i in range(30)]
    for a in agents:
        start_agent(town, a, runtime="sim", cwd=tmp_path, tmux=tmux)
    for a in agents:
        wait_sim_ready(tmux, a.session)
    eng = StatusEngine(town, tmux=tmux)
    rows = eng.poll()
    assert {r.session for r in rows.values()} >= {a.session for a in agents}
    # Let window_activity (1 s resolution) age, so no pane counts as freshly active.
    wait_for(lambda: all(p.activity < time.time() - 2 for n, p in tmux.panes().items() if n.startswith("gt-w-")),
             timeout=10, message="activity to age")
    eng.poll()
    calls = tmux.calls
    for _ in range(10):
        rows = eng.poll()
    assert tmux.calls - calls == 10  # one list-panes per poll, no captures: nothing changed
    states = {r.status.state for r in rows.values() if r.session.startswith("gt-w-")}
    assert states == {"idle"}


def test_engine_follows_a_sim_through_busy_idle_and_death(town, tmux, tmp_path):
    mayor = Agent("mayor")
    start_agent(town, mayor, runtime="sim", extra_env={"GT_SIM_FAULTS": "slow=1.5"}, tmux=tmux)
    wait_sim_ready(tmux, mayor.session)
    eng = StatusEngine(town, tmux=tmux)
    wait_for(lambda: eng.poll()["mayor"].status.state == "idle", message="idle")
    assert deliver(town, mayor, "work a little", tmux=tmux).status == "delivered"
    wait_for(lambda: eng.poll()["mayor"].status.state == "working", message="working")
    row = wait_for(lambda: (r := eng.poll()["mayor"]).status.state == "idle" and r, timeout=20, message="idle again")
    assert row.runtime == "sim" and row.session == "gt-mayor"
    tmux.kill_session("gt-mayor")
    row = eng.poll()["mayor"]
    assert row.status.state == "dead" and row.status.reason == "no tmux session"
