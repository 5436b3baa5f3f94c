"""Costs from the runtimes' own records: sim, Claude Code transcripts, Codex rollouts; prices; spikes."""

from __future__ import annotations

import json
import time

import pytest

from gastown_tui.work import costs


def _ts(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def sim_lines(town, recs) -> None:
    p = town.runtime_dir / "sim" / "usage.jsonl"
    p.parent.mkdir(parents=True, exist_ok=True)
    with open(p, "a") as f:
        for r in recs:
            f.write(json.dumps(r) + "\n")


def claude_transcript(config, workdir, lines) -> None:
    d = config / "projects" / costs.claude_project_name(str(workdir))
    d.mkdir(parents=True, exist_ok=True)
    with open(d / "abc.jsonl", "a") as f:
        for ln in lines:
            f.write(json.dumps(ln, separators=(",", ":")) + "\n")


def assistant(workdir, mid, t, model="claude-opus-4-1-20250805", **usage):
    return {"type": "assistant", "cwd": str(workdir), "timestamp": _ts(t), "requestId": f"req-{mid}",
            "message": {"id": mid, "model": model, "role": "assistant", "content": [{"type": "text", "text": "hi"}],
                        "usage": {"input_tokens": 10, "output_tokens": 20, "cache_read_input_tokens": 1000,
                                  "cache_creation_input_tokens": 100, **usage}}}


def test_sim_usage_is_attributed_and_marked_simulated(rig_town):
    now = time.time()
    sim_lines(rig_town, [
        {"ts": _ts(now - 60), "session": "gt-demo-furiosa", "bead": "de-1", "input_tokens": 1000, "output_tokens": 100, "simulated": True},
        {"ts": _ts(now - 30), "session": "gt-demo-furiosa", "bead": "de-2", "input_tokens": 500, "output_tokens": 50, "simulated": True},
        {"ts": _ts(now - 30), "session": "gt-mayor", "bead": "hq-1", "input_tokens": 7, "output_tokens": 3, "simulated": True},
        {"ts": _ts(now - 40 * 86400), "session": "gt-demo-old", "bead": "de-0", "input_tokens": 9, "output_tokens": 9, "simulated": True},
    ])
    rep = costs.report(rig_town, since=now - 7 * 86400, by=("agent", "rig"))
    rows = {r["agent"]: r for r in rep["rows"]}
    assert set(rows) == {"demo/polecats/furiosa", "mayor"}  # the 40-day-old line is outside the window
    f = rows["demo/polecats/furiosa"]
    assert (f["input_tokens"], f["output_tokens"], f["records"], f["rig"], f["simulated"]) == (1500, 150, 2, "demo", True)
    assert f["cost_usd"] == pytest.approx((1500 * 3 + 150 * 15) / 1e6)
    assert rep["total_cost_usd"] == 0 and rep["simulated_cost_usd"] > 0  # simulated never counts as spend


def test_sim_fast_form_and_decoded_form_agree(rig_town, tmp_path):
    """A block with one odd line goes through the decoder; the sums are the same either way."""
    now = time.time()
    recs = [{"ts": _ts(now - i), "session": f"gt-demo-p{i % 3}", "bead": f"de-{i}", "input_tokens": i, "output_tokens": 2 * i,
             "simulated": True} for i in range(300)]
    sim_lines(rig_town, recs)
    plain = costs.report(rig_town, since=now - 3600, by=("agent",))["rows"]
    with open(rig_town.runtime_dir / "sim" / "usage.jsonl", "a") as f:
        f.write("garbage\n")
        f.write(json.dumps({"session": "gt-demo-p0", "ts": _ts(now), "input_tokens": 5, "output_tokens": 5}) + "\n")
    mixed = costs.report(rig_town, since=now - 3600, by=("agent",))
    p0 = {r["agent"]: r for r in mixed["rows"]}["demo/polecats/p0"]
    p0_before = {r["agent"]: r for r in plain}["demo/polecats/p0"]
    assert p0["input_tokens"] == p0_before["input_tokens"] + 5 and p0["records"] == p0_before["records"] + 1
    assert mixed["skipped_lines"] == 1


def test_claude_transcripts_count_each_message_once(rig_town, tmp_path, monkeypatch):
    config = tmp_path / "claude"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config))
    now = time.time()
    wd = rig_town.root / "demo" / "polecats" / "nux"
    claude_transcript(config, wd, [
        assistant(wd, "m1", now - 100), assistant(wd, "m1", now - 100),  # one reply, two content blocks
        assistant(wd, "m2", now - 50, output_tokens=1000),
        {"type": "user", "cwd": str(wd), "timestamp": _ts(now), "message": {"role": "user", "content": "usage?"}},
        assistant("/elsewhere/project", "m3", now - 10),  # not this town's work
    ])
    elsewhere = config / "projects" / costs.claude_project_name("/elsewhere/project")
    elsewhere.mkdir(parents=True)
    (elsewhere / "x.jsonl").write_text(json.dumps(assistant("/elsewhere/project", "m4", now)) + "\n")
    rep = costs.report(rig_town, since=now - 3600, by=("agent", "model"))
    assert len(rep["rows"]) == 1
    r = rep["rows"][0]
    assert (r["agent"], r["model"], r["simulated"]) == ("demo/polecats/nux", "claude-opus-4-1-20250805", False)
    assert (r["input_tokens"], r["output_tokens"], r["cache_read_tokens"], r["cache_write_tokens"]) == (20, 1020, 2000, 200)
    assert r["cost_usd"] == pytest.approx((20 * 15 + 1020 * 75 + 2000 * 1.5 + 200 * 18.75) / 1e6)
    assert rep["total_cost_usd"] == pytest.approx(r["cost_usd"])


def test_codex_rollouts_use_the_turn_deltas(rig_town, tmp_path, monkeypatch):
    home = tmp_path / "codex"
    monkeypatch.setenv("CODEX_HOME", str(home))
    now = time.time()
    wd = rig_town.root / "demo" / "crew" / "max"
    d = home / "sessions" / "2026" / "12" / "01"
    d.mkdir(parents=True)
    lines = [{"timestamp": _ts(now - 100), "type": "session_meta", "payload": {"id": "s", "cwd": str(wd)}},
             {"timestamp": _ts(now - 100), "type": "turn_context", "payload": {"cwd": str(wd), "model": "gpt-5-codex"}}]
    for k in range(3):
        lines.append({"timestamp": _ts(now - 90 + k), "type": "event_msg", "payload": {"type": "token_count", "info": {
            "total_token_usage": {"input_tokens": 1000 * (k + 1)},
            "last_token_usage": {"input_tokens": 1000, "cached_input_tokens": 600, "output_tokens": 50}}}})
    lines.append({"timestamp": _ts(now), "type": "event_msg", "payload": {"type": "token_count", "info": None}})
    (d / "rollout-2026-12-01-s.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    rows = costs.report(rig_town, since=now - 3600, by=("agent", "model"))["rows"]
    assert [(r["agent"], r["model"], r["input_tokens"], r["cache_read_tokens"], r["output_tokens"]) for r in rows] == \
        [("demo/crew/max", "gpt-5-codex", 1200, 1800, 150)]
    assert rows[0]["cost_usd"] == pytest.approx((1200 * 1.25 + 1800 * 0.125 + 150 * 10) / 1e6)


def test_prices_from_settings_come_first(rig_town):
    from gastown_tui.town.config import load_settings

    s = load_settings(rig_town.root)
    s.set("costs.prices", {"sim": {"input": 100, "output": 0}})
    s.save()
    table = costs.price_table(load_settings(rig_town.root))
    assert costs.price_for("sim", table) == (100.0, 0.0, 0.0, 0.0)
    assert costs.price_for("claude-sonnet-4-5-20250929", table) == (3.0, 15.0, 0.3, 3.75)
    assert costs.price_for("mystery-model", table) == costs.DEFAULT_PRICES[-1][1]


def test_cost_spike_escalates_once_per_hour(rig_town):
    from gastown_tui.town.config import load_settings
    from gastown_tui.work.escalation import list_escalations

    now = time.time()
    s = load_settings(rig_town.root)
    s.set("costs.spike_usd_per_hour", 0.01)
    s.save()
    sim_lines(rig_town, [{"ts": _ts(now - 5), "session": "gt-demo-nux", "bead": "de-1", "input_tokens": 100_000,
                          "output_tokens": 10_000, "simulated": True}])
    assert costs.check_spike(rig_town, now=now) is None  # simulated spend does not count by default
    s = load_settings(rig_town.root)
    s.set("costs.spike_include_simulated", True)
    s.save()
    spike = costs.check_spike(rig_town, now=now)
    assert spike and spike["usd"] == pytest.approx(0.45) and spike["hour"] == _ts(now - 5)[:13]
    assert costs.check_spike(rig_town, now=now + 1) is None  # the same hour is not raised twice
    escs = [e for e in list_escalations(rig_town) if e.data.get("category") == "cost"]
    assert len(escs) == 1 and escs[0].data["severity"] == "high" and "Cost spike" in escs[0].title


def test_agent_costs_for_the_cockpit(rig_town):
    now = time.time()
    sim_lines(rig_town, [{"ts": _ts(now), "session": "gt-demo-nux", "bead": "de-1", "input_tokens": 10,
                          "output_tokens": 1, "simulated": True}])
    got = costs.agent_costs(rig_town, since=now - 3600)
    assert got["demo/polecats/nux"]["input_tokens"] == 10 and got["demo/polecats/nux"]["simulated"] is True


def test_a_reused_polecat_name_starts_from_zero_in_its_session_costs(rig_town, tmp_path, monkeypatch):
    """Session costs count an agent's records from its session's start: a new polecat given a
    finished one's name does not inherit its spend (sim and Claude records alike)."""
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    wt = rig_town.root / "demo" / "polecats" / "nux"
    wt.mkdir(parents=True, exist_ok=True)
    start = float(int(time.time()) - 100)
    sim_lines(rig_town, [
        {"ts": _ts(start - 500), "session": "gt-demo-nux", "bead": "de-1", "input_tokens": 9000,
         "output_tokens": 900, "simulated": True},  # the previous nux
        {"ts": _ts(start + 10), "session": "gt-demo-nux", "bead": "de-2", "input_tokens": 10,
         "output_tokens": 1, "simulated": True},
        {"ts": _ts(start + 20), "session": "gt-demo-furiosa", "bead": "de-3", "input_tokens": 5,
         "output_tokens": 5, "simulated": True},  # no current session: not counted
    ])
    claude_transcript(tmp_path / "claude", wt, [assistant(wt, "m-old", start - 400, input_tokens=7000),
                                                assistant(wt, "m-new", start + 30, input_tokens=20)])
    sessions = {"demo/polecats/nux": start}
    got = costs.agent_costs(rig_town, sessions=sessions)
    assert set(got) == {"demo/polecats/nux"}
    assert got["demo/polecats/nux"]["input_tokens"] == 10 + 20
    assert costs.agent_costs(rig_town)["demo/polecats/nux"]["input_tokens"] == 9000 + 10 + 7000 + 20  # all time
    rep = costs.report(rig_town, by=("agent",), sessions=sessions)  # `gt costs --current`
    assert sum(r["input_tokens"] for r in rep["rows"]) == 30
    assert sum(r["cost_usd"] for r in rep["rows"]) == pytest.approx(got["demo/polecats/nux"]["cost_usd"])
    # the decoder's path (a block with a line the fast form does not match) agrees
    sim_lines(rig_town, [{"ts": _ts(start + 40), "session": "gt-demo-nux", "bead": "de-4", "input_tokens": 1,
                          "output_tokens": 1, "simulated": True, "extra": 1}])
    assert costs.agent_costs(rig_town, sessions=sessions)["demo/polecats/nux"]["input_tokens"] == 31


def test_current_sessions_take_no_time_window(rig_town):
    from tests.work_helpers import gt, one_sentence

    r = gt(rig_town, "costs", "--current", "--since", "1h")
    assert r.returncode == 2 and "--since does not apply" in one_sentence(r)
    assert gt(rig_town, "costs", "--since", "1h", "--json").returncode == 0
    assert gt(rig_town, "costs", "--current", "--json").returncode == 0
    r = gt(rig_town, "costs", "spike", "--current")
    assert r.returncode == 2 and "do not apply" in one_sentence(r)
