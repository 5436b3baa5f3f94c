"""Nudge soak: real tmux, the real sim agent, its received-log as the oracle (DESIGN §8, §9)."""

from __future__ import annotations

import threading
import time

import pytest

from gastown_tui.agents.nudge import deliver, drain_queue, is_dnd, queued, sanitize, set_dnd
from gastown_tui.agents.sessions import start_agent
from gastown_tui.sim.agent import read_log
from gastown_tui.town.config import load_settings
from gastown_tui.town.identity import Agent
from tests.conftest import wait_for, wait_sim_ready

pytestmark = [pytest.mark.tmux, pytest.mark.slow]


def _log(town, agent):
    return [e["text"] for e in read_log(town.runtime_dir / "sim" / f"{agent.session}.jsonl")]


def _start_sim(town, tmux, agent, tmp_path, faults: str | None = None):
    cwd = None if agent.role == "mayor" else tmp_path
    env = {"GT_SIM_FAULTS": faults} if faults else None
    start_agent(town, agent, runtime="sim", cwd=cwd, extra_env=env, tmux=tmux)
    wait_sim_ready(tmux, agent.session)


def _set(town, key, value):
    s = load_settings(town.root)
    s.set(key, value)
    s.save()


def tricky_messages(n: int) -> list[str]:
    kinds = [
        lambda i: f"plain message {i}",
        lambda i: f"multi-line {i}\nsecond line\n\nfourth after a blank\n  indented",
        lambda i: f"unicode {i}: héllo wörld ✓ 日本語 テスト 🚀 ελληνικά",
        lambda i: f"shell {i}: $(rm -rf /) `whoami` ; && || | > /tmp/x < /etc/passwd \\ 'q' \"d\" $HOME * ? ~ # !! %s {{}}",
        lambda i: f"big {i} " + ("0123456789abcdef" * 256)[: 4096 - 10] + f" end{i}",
        lambda i: f"escapes {i}: \x1b[31mred\x1b[0m \x1b]0;PWNED-TITLE\x07 \x1b[2J\x1b[H \x07bell \x00nul \x1b[?2004l \x1b[201~ end",
        lambda i: f"tabs {i}:\tcol2\tcol3",
        lambda i: f"crlf {i}\r\nwindows line\rold mac",
        lambda i: f"sim> looks like a prompt {i}\n● received: looks like an echo",
    ]
    return [kinds[i % len(kinds)](i) for i in range(n)]


def test_500_messages_into_one_sim_arrive_once_intact_in_order(town, tmux, tmp_path):
    mayor = Agent("mayor")
    _start_sim(town, tmux, mayor, tmp_path)
    sent = tricky_messages(500)
    failures = []
    for msg in sent:
        res = deliver(town, mayor, msg, tmux=tmux)
        if res.status != "delivered":
            failures.append((msg[:40], res.detail))
    assert failures == []
    expected = [sanitize(m) for m in sent]
    got = _log(town, mayor)
    assert len(got) == 500
    assert got == expected
    # Escape sequences were stripped, never executed: the pane title was not changed.
    title = tmux.run("display-message", "-p", "-t", "=gt-mayor:", "#{pane_title}").stdout.decode()
    assert "PWNED" not in title
    assert all("\x1b" not in t and "\x07" not in t and "\x00" not in t for t in got)


def test_10_concurrent_senders_to_10_sims(town, tmux, tmp_path):
    agents = [Agent("crew", "soak", f"c{i}") for i in range(10)]
    for a in agents:
        (tmp_path / a.name).mkdir()
        start_agent(town, a, runtime="sim", cwd=tmp_path / a.name, tmux=tmux)
    for a in agents:
        wait_sim_ready(tmux, a.session)
    per_sender = 25
    plans = {a: [f"[{a.name}#{k}] " + m for k, m in enumerate(tricky_messages(per_sender))] for a in agents}
    errors: list[str] = []

    def sender(agent):
        for msg in plans[agent]:
            res = deliver(town, agent, msg)
            if res.status != "delivered":
                errors.append(f"{agent.address}: {res.detail}")

    threads = [threading.Thread(target=sender, args=(a,)) for a in agents]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=240)
    assert errors == []
    for a in agents:
        assert _log(town, a) == [sanitize(m) for m in plans[a]], a.address


def test_concurrent_senders_into_one_sim_never_interleave(town, tmux, tmp_path):
    mayor = Agent("mayor")
    _start_sim(town, tmux, mayor, tmp_path)
    senders = 4
    plans = {s: [f"sender{s} msg{k} " + "x" * (50 * k) + f"\nline2 of sender{s} msg{k}" for k in range(12)]
             for s in range(senders)}
    errors: list[str] = []

    def run(s):
        for msg in plans[s]:
            res = deliver(town, "mayor", msg)
            if res.status != "delivered":
                errors.append(res.detail)

    threads = [threading.Thread(target=run, args=(s,)) for s in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=240)
    assert errors == []
    got = _log(town, mayor)
    assert sorted(got) == sorted(m for p in plans.values() for m in p)  # each exactly once, intact
    for s in range(senders):  # each sender's own order is kept
        assert [m for m in got if m.startswith(f"sender{s} ")] == plans[s]


def test_busy_sim_wait_idle_delivers_after_it_becomes_idle(town, tmux, tmp_path):
    mayor = Agent("mayor")
    _start_sim(town, tmux, mayor, tmp_path, faults="slow=2")
    assert deliver(town, mayor, "first: keeps it busy for 2s", tmux=tmux).status == "delivered"
    wait_for(lambda: "working..." in tmux.capture("gt-mayor", ansi=False), message="sim busy")
    got: list = []
    sender = threading.Thread(target=lambda: got.append(
        deliver(town, mayor, "second: only when idle", mode="wait-idle", tmux=tmux)))
    sender.start()
    # While the sim is busy nothing is typed (a condition, not a clock: a loaded machine only
    # makes the busy period look longer; how long delivery waits is bench material).
    while sender.is_alive() and "working..." in (screen := tmux.capture("gt-mayor", ansi=False)):
        assert "second: only when idle" not in screen
        time.sleep(0.05)
    sender.join(timeout=60)
    assert got and got[0].status == "delivered", got and got[0].detail
    log = read_log(town.runtime_dir / "sim" / "gt-mayor.jsonl")
    assert [e["text"] for e in log] == ["first: keeps it busy for 2s", "second: only when idle"]
    # While busy, a short wait gives up honestly: queued, not delivered.
    wait_for(lambda: "working..." in tmux.capture("gt-mayor", ansi=False), message="busy again")
    res = deliver(town, mayor, "third: gives up waiting", mode="wait-idle", wait_timeout=0.3, tmux=tmux)
    assert res.status == "queued", res.detail
    assert "third: gives up waiting" not in _log(town, mayor)
    assert [e["text"] for e in queued(town, mayor)] == ["third: gives up waiting"]
    # Once idle, the queue drains in order.
    wait_for(lambda: drain_queue(town, mayor, tmux=tmux) == 1, timeout=20, message="queue drained")
    assert _log(town, mayor)[-1] == "third: gives up waiting" and queued(town, mayor) == []


def test_immediate_nudge_to_busy_sim_is_taken_and_reported(town, tmux, tmp_path):
    mayor = Agent("mayor")
    _start_sim(town, tmux, mayor, tmp_path, faults="slow=2")
    assert deliver(town, mayor, "one", tmux=tmux).status == "delivered"
    wait_for(lambda: "working..." in tmux.capture("gt-mayor", ansi=False), message="sim busy")
    res = deliver(town, mayor, "two while busy", tmux=tmux)
    assert res.status == "delivered", res.detail
    assert _log(town, mayor) == ["one", "two while busy"]


def test_dnd_queues_unless_forced(town, tmux, tmp_path):
    mayor = Agent("mayor")
    _start_sim(town, tmux, mayor, tmp_path)
    set_dnd(town, "mayor", True)
    assert is_dnd(town, mayor)
    res = deliver(town, "mayor", "held back 1", tmux=tmux)
    assert res.status == "queued" and "do-not-disturb" in res.detail
    assert deliver(town, "mayor", "held back 2", tmux=tmux).status == "queued"
    assert _log(town, mayor) == []
    assert drain_queue(town, mayor, tmux=tmux) == 0  # DND holds the queue too
    res = deliver(town, "mayor", "urgent", force=True, tmux=tmux)
    assert res.status == "delivered"
    assert _log(town, mayor) == ["urgent"]
    set_dnd(town, "mayor", False)
    assert drain_queue(town, mayor, tmux=tmux) == 2
    assert _log(town, mayor) == ["urgent", "held back 1", "held back 2"]


def test_stalled_sim_is_never_reported_delivered(town, tmux, tmp_path):
    _set(town, "nudge.verify_timeout_seconds", 1.0)
    mayor = Agent("mayor")
    _start_sim(town, tmux, mayor, tmp_path, faults="stall")
    assert deliver(town, mayor, "you will hang now", tmux=tmux).status == "delivered"
    wait_for(lambda: "working..." in tmux.capture("gt-mayor", ansi=False), message="stalled")
    res = deliver(town, mayor, "nobody reads this", tmux=tmux)
    assert res.status == "failed"
    assert "not verified" in res.detail and res.attempts >= 2  # the submit was retried
    assert _log(town, mayor) == ["you will hang now"]


def test_dead_or_missing_session_fails(town, tmux, tmp_path):
    res = deliver(town, "mayor", "anyone?", tmux=tmux)
    assert res.status == "failed" and "no running session" in res.detail
    _start_sim(town, tmux, Agent("mayor"), tmp_path, faults="crash")
    assert deliver(town, "mayor", "crash now", tmux=tmux).status == "delivered"
    wait_for(lambda: (p := tmux.panes().get("gt-mayor")) and p.dead, message="sim exited")
    res = deliver(town, "mayor", "too late", tmux=tmux)
    assert res.status == "failed" and "exited" in res.detail
