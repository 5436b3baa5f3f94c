"""A new user's path through the CLI as real subprocesses: install, mayor start --agent sim,
nudge tricky texts, peek, compare the sim's received log; plus listings' --json shapes."""

from __future__ import annotations

import json

import pytest

from gastown_tui.agents.nudge import sanitize
from gastown_tui.sim.agent import read_log
from tests.conftest import run_cli, wait_sim_ready

pytestmark = pytest.mark.tmux

TRICKY = [
    "hello mayor",
    "line one\nline two\n\tindented with a tab",
    "unicode: 日本語 ✓ émoji 🚀",
    "shell: $(rm -rf ~) `id` ; && || > out < in \\ 'single' \"double\" $PATH",
    "escape: \x1b[31mred\x1b[0m \x1b]2;PWNED\x07 done",
    "k" * 4000,
]


def test_new_user_path(tmp_path, tmux):
    root = tmp_path / "gt"
    r = run_cli("gt", "install", str(root))
    assert r.returncode == 0, r.stderr
    r = run_cli("gt", "mayor", "start", "--agent", "sim", cwd=root)
    assert r.returncode == 0, r.stderr
    assert "gt-mayor" in r.stdout
    wait_sim_ready(tmux, "gt-mayor")
    again = run_cli("gt", "mayor", "start", "--agent", "sim", cwd=root)
    assert again.returncode == 1 and "already running" in again.stderr and "Traceback" not in again.stderr

    for text in TRICKY:
        r = run_cli("gt", "nudge", "mayor", text, cwd=root)
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith("delivered to mayor (verified")
    r = run_cli("gt", "nudge", "mayor", "--stdin", cwd=root, input="from stdin\nsecond line\n")
    assert r.returncode == 0, r.stderr
    got = [e["text"] for e in read_log(root / ".runtime" / "sim" / "gt-mayor.jsonl")]
    assert got == [sanitize(t) for t in TRICKY] + ["from stdin\nsecond line"]

    peek = run_cli("gt", "peek", "mayor", "5", cwd=root)
    assert peek.returncode == 0
    lines = peek.stdout.rstrip("\n").split("\n")
    assert len(lines) == 5 and lines[-1].startswith("sim>") and "\x1b[" not in peek.stdout

    status = run_cli("gt", "mayor", "status", "--json", cwd=root)
    data = json.loads(status.stdout)
    assert data["running"] is True and data["runtime"] == "sim" and data["state"] in ("idle", "working")
    assert set(data) >= {"address", "session", "running", "state", "reason", "pid"}

    sessions = json.loads(run_cli("gt", "session", "list", "--json", cwd=root).stdout)
    assert [s["session"] for s in sessions] == ["gt-mayor"]
    assert set(sessions[0]) == {"session", "address", "runtime", "pid", "dead", "dead_status", "activity",
                                "width", "height", "command"}
    assert (sessions[0]["width"], sessions[0]["height"]) == (200, 50)

    agents = json.loads(run_cli("gt", "agents", "status", "--json", cwd=root).stdout)
    assert agents[0]["address"] == "mayor" and agents[0]["state"] == "idle"
    assert set(agents[0]) == {"address", "session", "runtime", "state", "reason", "since", "pending",
                              "last_exit"}  # last_exit: a recent death (null here)
    explain = run_cli("gt", "agents", "status", "--explain", cwd=root)
    assert "at its prompt" in explain.stdout

    r = run_cli("gt", "mayor", "stop", cwd=root)
    assert r.returncode == 0
    r = run_cli("gt", "nudge", "mayor", "anyone?", cwd=root)
    assert r.returncode == 1 and "delivered" not in r.stdout and "no running session" in r.stderr


def test_nudge_modes_dnd_and_json(tmp_path, tmux):
    root = tmp_path / "gt"
    assert run_cli("gt", "install", str(root)).returncode == 0
    assert run_cli("gt", "mayor", "start", "--agent", "sim", cwd=root).returncode == 0
    wait_sim_ready(tmux, "gt-mayor")
    r = run_cli("gt", "nudge", "mayor", "later", "--mode", "queue", "--json", cwd=root)
    assert r.returncode == 0
    assert json.loads(r.stdout)["status"] == "queued"
    assert run_cli("gt", "dnd", "on", "mayor", cwd=root).returncode == 0
    r = run_cli("gt", "nudge", "mayor", "not now", cwd=root)
    assert r.returncode == 0 and r.stdout.startswith("queued (not yet delivered)")
    st = json.loads(run_cli("gt", "dnd", "status", "mayor", "--json", cwd=root).stdout)
    assert st == {"address": "mayor", "dnd": True, "queued": 2}
    r = run_cli("gt", "nudge", "mayor", "urgent", "--force", "--json", cwd=root)
    res = json.loads(r.stdout)
    assert r.returncode == 0 and res["status"] == "delivered" and res["target"] == "mayor"
    r = run_cli("gt", "dnd", "off", "mayor", cwd=root)
    assert "delivered 2 queued nudges" in r.stdout
    got = [e["text"] for e in read_log(root / ".runtime" / "sim" / "gt-mayor.jsonl")]
    assert got == ["urgent", "later", "not now"]


@pytest.mark.parametrize("argv,code,needle", [
    (["nudge", "mayor"], 2, "needs a MESSAGE"),
    (["nudge", "nobody/x/y/z", "hi"], 2, "is not an agent address"),
    (["nudge", "mayor", "hi", "--mode", "loud"], 2, "invalid choice"),
    (["nudge", "mayor", "   "], 2, "message is empty"),
    (["peek", "mayor"], 1, "no running session"),
    (["session", "kill", "mayor"], 1, "no tmux session"),
    (["mayor", "start", "--agent", "clod"], 2, "is not an agent runtime"),
    (["config", "agent", "show", "nope"], 2, "is not an agent runtime"),
])
def test_cli_errors_are_one_sentence(tmp_path, tmux, argv, code, needle):
    root = tmp_path / "gt"
    assert run_cli("gt", "install", str(root)).returncode == 0
    r = run_cli("gt", *argv, cwd=root)
    assert r.returncode == code, (r.stdout, r.stderr)
    assert needle in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_config_agent_list_show_set(tmp_path):
    root = tmp_path / "gt"
    assert run_cli("gt", "install", str(root)).returncode == 0
    rows = json.loads(run_cli("gt", "config", "agent", "list", "--json", cwd=root).stdout)
    assert {r["name"] for r in rows} >= {"claude", "codex", "gemini", "aider", "opencode", "sim"}
    assert set(rows[0]) >= {"name", "command", "prompt_mode", "submit_keys", "ready_patterns", "busy_patterns",
                            "permission_patterns", "env", "custom", "default"}
    assert run_cli("gt", "config", "agent", "set", "mybot", "command", "mybot --fast", cwd=root).returncode == 0
    assert run_cli("gt", "config", "agent", "set", "mybot", "ready_patterns", "^bot> ,^ready", cwd=root).returncode == 0
    show = json.loads(run_cli("gt", "config", "agent", "show", "mybot", "--json", cwd=root).stdout)
    assert show["command"] == ["mybot", "--fast"] and show["ready_patterns"] == ["^bot> ", "^ready"]
    assert show["custom"] is True and show["prompt_mode"] == "nudge"
    bad = run_cli("gt", "config", "agent", "set", "mybot", "busy_patterns", "(", cwd=root)
    assert bad.returncode == 2 and "not a valid regex" in bad.stderr
    assert "busy_patterns" not in (root / "settings" / "config.toml").read_text()  # nothing half-written
    bad = run_cli("gt", "config", "agent", "set", "mybot", "colour", "red", cwd=root)
    assert bad.returncode == 2 and "not a runtime field" in bad.stderr
