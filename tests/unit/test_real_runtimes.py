"""Real agent CLIs without a model bill: recorded Claude Code 2.1.332 screens, the scripted model's
turns, and what a runtime needs before it starts unattended."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gastown_tui.agents import runtime_setup
from gastown_tui.agents.runtimes import get_runtime
from gastown_tui.agents.status import PaneSample, raw_state
from gastown_tui.sim.model import Script, sse_events

CLAUDE = Path(__file__).resolve().parents[1] / "fixtures" / "panes" / "claude-2.1.332"
NOW = 1_800_000_000.0


def screen(name: str, **kw) -> PaneSample:
    return PaneSample(session="gt-x", text=(CLAUDE / f"{name}.txt").read_text(encoding="utf-8"),
                      activity=NOW - 2, created=NOW - 300, **kw)


@pytest.mark.parametrize("fixture,state,reason", [
    ("idle", "idle", "at its prompt"),
    ("busy", "working", "esc to interrupt"),
    ("permission", "waiting", "Do you want to proceed?"),
    ("dialog_auto_mode", "waiting", "Enter to continue"),
])
def test_recorded_claude_2_1_332_screens(fixture, state, reason):
    got, why = raw_state(screen(fixture), get_runtime("claude"), NOW)
    assert (got, reason in why) == (state, True), why


def test_idle_claude_with_stale_hooked_work_is_stalled():
    idle = PaneSample(session="gt-x", text=(CLAUDE / "idle.txt").read_text(encoding="utf-8"), activity=NOW - 1300,
                      created=NOW - 3000, hooked=True, progress=NOW - 1200)  # an idle Claude Code prints nothing
    got, why = raw_state(idle, get_runtime("claude"), NOW)
    assert got == "stalled" and "no progress" in why


# --- the scripted model ---------------------------------------------------------------------------

TOOLS = [{"name": n} for n in ("Bash", "Read", "Write", "Edit")]


class Convo:
    """A conversation as Claude Code sends it: the beacon, then our tool_use turns and their results."""

    def __init__(self, first: str = "[GAS TOWN] You are demo/polecats/nux (polecat). Run `gt prime`.") -> None:
        self.messages: list[dict] = [{"role": "user", "content": [{"type": "text", "text": first}]}]

    def ask(self, script: Script) -> dict:
        turn = script.next_turn({"model": "m", "tools": TOOLS, "messages": self.messages, "stream": True})
        self.messages.append({"role": "assistant", "content": turn.blocks})
        tool = next((b for b in turn.blocks if b["type"] == "tool_use"), None)
        return {"stop": turn.stop_reason, "tool": tool, "text": " ".join(b.get("text", "") for b in turn.blocks)}

    def answer(self, tool: dict, text: str, error: bool = False) -> None:
        self.messages.append({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": tool["id"], "content": text, "is_error": error},
            {"type": "text", "text": "<system-reminder>noise</system-reminder>"}]})

    def say(self, text: str) -> None:
        self.messages.append({"role": "user", "content": text})


def hook_json(labels=(), description="implement it", bead_id="de-abc") -> str:
    return json.dumps({"agent": "demo/polecats/nux", "workdir": "/w/nux", "bead": {
        "id": bead_id, "title": "A feature", "description": description, "labels": list(labels)}})


def run_loop(script: Script, convo: Convo, labels=(), description="implement it", max_turns=20) -> list[str]:
    """Answer every tool call plausibly; the steps taken, by tool name and first word."""
    taken = []
    for _ in range(max_turns):
        r = convo.ask(script)
        if r["stop"] != "tool_use":
            taken.append("end:" + r["text"][:20])
            return taken
        tool = r["tool"]
        cmd = tool["input"].get("command") or tool["input"].get("file_path")
        taken.append(f"{tool['name']}:{cmd}")
        convo.answer(tool, hook_json(labels, description) if cmd == "gt hook --json" else "ok")
    raise AssertionError(f"no end after {max_turns} turns: {taken}")


def test_script_walks_the_whole_work_loop():
    steps = run_loop(Script(), Convo(), description="file: src/a.py\n```\nprint(1)\n```\n")
    assert steps[:2] == ["Bash:gt prime", "Bash:gt hook --json"]
    assert steps[2:4] == ["Read:/w/nux/src/a.py", "Write:/w/nux/src/a.py"]
    assert steps[4].startswith("Bash:git add -A && git commit")
    assert steps[5] == "Bash:gt done" and steps[6].startswith("end:Done")


def test_a_second_go_catches_up_with_the_default_branch_first():
    script, c = Script(), Convo()
    first = run_loop(script, c)
    assert not any("rebase" in s for s in first)
    c.say("REWORK_REQUEST: your branch conflicts in README.md; rebase and hand it in again")
    again = run_loop(script, c)
    assert again[2].startswith("Bash:b=$(git") and "rebase -q -X theirs" in again[2]


def test_script_without_edits_writes_the_work_note_and_with_nothing_hooked_waits():
    steps = run_loop(Script(), Convo())
    assert "Write:/w/nux/work/de-abc.md" in steps
    c, s = Convo(), Script()
    c.answer(c.ask(s)["tool"], "prime text")
    tool = c.ask(s)["tool"]
    c.answer(tool, json.dumps({"agent": "x", "bead": None}))
    assert c.ask(s)["text"].startswith("Nothing is on my hook")


def test_script_faults_stall_conflict_failtests_and_crash_once():
    assert run_loop(Script(), Convo(), labels=["sim:stall"])[-1] == "end:Let me think about h"
    steps = run_loop(Script(), Convo(), labels=["sim:conflict", "sim:fail-tests"])
    assert any("README.md" in s for s in steps) and any("SIM_TESTS" in s for s in steps)
    script = Script()
    first = run_loop(script, Convo(), labels=["sim:crash"])
    assert "Bash:kill -9 $PPID" in first
    again = run_loop(script, Convo(), labels=["sim:crash"])  # the restarted agent finishes
    assert "Bash:kill -9 $PPID" not in again and "Bash:gt done" in again


def test_stall_once_proceeds_after_a_nudge_in_the_same_conversation():
    script, c = Script(), Convo()
    assert run_loop(script, c, labels=["sim:stall=once"])[-1].startswith("end:Let me think")
    c.say("[gt nudge from demo/witness] you have made no progress; check your hook")
    assert "Bash:gt done" in run_loop(script, c, labels=["sim:stall=once"])


def test_failed_gt_done_is_reported_not_claimed():
    script, c = Script(), Convo()
    for _ in range(12):
        r = c.ask(script)
        if r["stop"] != "tool_use":
            break
        cmd = r["tool"]["input"].get("command")
        if cmd == "gt done":
            c.answer(r["tool"], "gt: nothing to hand in", error=True)
        else:
            c.answer(r["tool"], hook_json() if cmd == "gt hook --json" else "ok")
    assert r["text"].startswith("`gt done` failed: gt: nothing to hand in")


def test_requests_without_tools_get_text_and_the_stream_is_well_formed():
    s = Script()
    assert s.next_turn({"messages": [{"role": "user", "content": "title?"}]}).stop_reason == "end_turn"
    c = Convo()
    turn = s.next_turn({"tools": TOOLS, "messages": c.messages})
    events = [e for e, _, _ in sse_events({"messages": c.messages}, turn, "msg_1")]
    assert events[0] == "message_start" and events[-2:] == ["message_delta", "message_stop"]
    assert events.count("content_block_start") == events.count("content_block_stop") == len(turn.blocks)
    data = [d for e, d, _ in sse_events({"messages": c.messages}, turn, "msg_1")]
    tool_start = next(d for d in data if d.get("content_block", {}).get("type") == "tool_use")
    delta = next(d for d in data if d.get("delta", {}).get("type") == "input_json_delta")
    assert json.loads(delta["delta"]["partial_json"]) == {"command": "gt prime", "description": tool_start and
                                                          "Loading my role and hooked work with gt prime"}
    assert data[0]["message"]["usage"]["input_tokens"] > 0 and data[-2]["usage"]["output_tokens"] > 0


# --- starting unattended ------------------------------------------------------------------------------

def test_claude_with_a_town_endpoint_gets_a_settled_config_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(runtime_setup, "running_as_root", lambda: True)
    rt = get_runtime("claude")
    env = {"ANTHROPIC_BASE_URL": "http://127.0.0.1:9", "ANTHROPIC_API_KEY": "sk-ant-0123456789abcdefghijXYZ"}
    extra = runtime_setup.prepare(tmp_path, rt, "gt-demo-nux", tmp_path / "wt", env)
    assert extra["IS_SANDBOX"] == "1"
    cfg = Path(extra["CLAUDE_CONFIG_DIR"])
    assert cfg == tmp_path / ".runtime" / "claude" / "gt-demo-nux"
    data = json.loads((cfg / ".claude.json").read_text())
    assert data["hasCompletedOnboarding"] is True
    assert data["customApiKeyResponses"]["approved"] == [env["ANTHROPIC_API_KEY"][-20:]]
    assert data["projects"][str(tmp_path / "wt")]["hasTrustDialogAccepted"] is True
    # A second start keeps what Claude Code wrote there and adds nothing twice.
    data["numStartups"] = 7
    (cfg / ".claude.json").write_text(json.dumps(data))
    runtime_setup.prepare(tmp_path, rt, "gt-demo-nux", tmp_path / "wt", env)
    again = json.loads((cfg / ".claude.json").read_text())
    assert again["numStartups"] == 7 and again["customApiKeyResponses"]["approved"] == data["customApiKeyResponses"]["approved"]


def test_claude_without_a_town_endpoint_keeps_the_users_config(tmp_path, monkeypatch):
    monkeypatch.setattr(runtime_setup, "running_as_root", lambda: False)
    assert runtime_setup.prepare(tmp_path, get_runtime("claude"), "gt-mayor", tmp_path, {}) == {}
    assert not (tmp_path / ".runtime").exists()
    assert runtime_setup.prepare(tmp_path, get_runtime("sim"), "gt-mayor", tmp_path, {"ANTHROPIC_BASE_URL": "x"}) == {}


def test_a_failing_gt_hook_is_reported_not_taken_for_an_empty_hook():
    script, c = Script(), Convo()
    c.answer(c.ask(script)["tool"], "prime")
    c.answer(c.ask(script)["tool"], "Not run · auto mode's check had no usable answer", error=True)
    assert c.ask(script)["text"].startswith("`gt hook` failed: Not run")


# --- the Responses API (Codex) ------------------------------------------------------------------------

def responses_loop(script, labels=(), description="implement it", max_turns=20):
    from gastown_tui.sim.model import response_items

    items = [{"type": "message", "role": "user", "content": [{"type": "input_text", "text":
              "<environment_context><cwd>/w/nux</cwd></environment_context>"}]},
             {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "[GAS TOWN] run gt prime"}]}]
    cmds = []
    for _ in range(max_turns):
        turn = script.next_response({"tools": [{"type": "function", "name": "exec_command"}], "input": items})
        out = response_items(turn)
        items += out
        call = next((i for i in out if i["type"] == "function_call"), None)
        if call is None:
            return cmds, out
        args = json.loads(call["arguments"])
        assert args["login"] is False  # a login shell would reset PATH and lose `gt`
        cmds.append(args["cmd"])
        result = hook_json(labels, description) if args["cmd"] == "gt hook --json" else "ok"
        items.append({"type": "function_call_output", "call_id": call["call_id"],
                      "output": f"Process exited with code 0\nOutput:\n{result}"})
    raise AssertionError(cmds)


def test_responses_script_does_the_loop_with_the_shell_tool_alone(tmp_path):
    import subprocess

    cmds, final = responses_loop(Script(), description="file: a-b/x.txt\n```\nit's \"quoted\" $HOME\n```\n")
    assert cmds[:2] == ["gt prime", "gt hook --json"] and cmds[-1] == "gt done"
    write = next(c for c in cmds if "printf" in c)
    # The write command reproduces the content exactly, quotes and all.
    subprocess.run(["bash", "-c", write.replace("/w/nux", str(tmp_path))], check=True)
    assert (tmp_path / "a-b" / "x.txt").read_text() == "it's \"quoted\" $HOME\n"
    assert final[0]["type"] == "message" and "handed in" in final[0]["content"][0]["text"]


def test_responses_stream_is_well_formed_and_reports_usage():
    from gastown_tui.sim.model import responses_events

    body = {"input": [{"type": "message", "role": "user", "content": "go"}],
            "tools": [{"type": "function", "name": "exec_command"}]}
    turn = Script().next_response(body)
    events = responses_events(body, turn, "resp_1")
    names = [e for e, _, _ in events]
    assert names[0] == "response.created" and names[-1] == "response.completed"
    assert names.count("response.output_item.added") == names.count("response.output_item.done") == 2
    done = events[-1][1]["response"]
    assert done["usage"]["input_tokens"] > 0 and done["output"][-1]["type"] == "function_call"


def test_codex_with_a_town_endpoint_gets_its_own_home(tmp_path):
    extra = runtime_setup.prepare(tmp_path, get_runtime("codex"), "gt-demo-nux", tmp_path / "wt",
                                  {"OPENAI_BASE_URL": "http://127.0.0.1:9"})
    import tomllib

    cfg = tomllib.loads((Path(extra["CODEX_HOME"]) / "config.toml").read_text())
    assert cfg["model_providers"]["gastown"]["base_url"] == "http://127.0.0.1:9/v1"
    assert cfg["model_providers"]["gastown"]["wire_api"] == "responses"
    assert cfg["projects"][str(tmp_path / "wt")]["trust_level"] == "trusted"
    assert runtime_setup.prepare(tmp_path, get_runtime("codex"), "gt-x", tmp_path, {}) == {}


def test_recorded_codex_0_171_idle_screen():
    text = (CLAUDE.parent / "codex-0.171.0" / "idle.txt").read_text(encoding="utf-8")
    got, why = raw_state(PaneSample(session="gt-x", text=text, activity=NOW - 2, created=NOW - 300),
                         get_runtime("codex"), NOW)
    assert got == "idle", why


def test_a_preset_moved_to_another_path_keeps_its_flags():
    from gastown_tui.agents.runtimes import _from_settings

    moved = _from_settings("claude", {"command": "/opt/agents/bin/claude"}, get_runtime("claude"))
    assert moved.program == ("/opt/agents/bin/claude", "--dangerously-skip-permissions")
    other = _from_settings("claude", {"command": "my-wrapper"}, get_runtime("claude"))
    assert other.program == ("my-wrapper",)  # another program: the preset's flags may not apply
    both = _from_settings("claude", {"command": "/x/claude", "args": ["--verbose"]}, get_runtime("claude"))
    assert both.program == ("/x/claude", "--verbose")


def test_exit_signature_is_the_last_words_whatever_status_tmux_recorded():
    from gastown_tui.agents.exits import summarize

    text = "Pane is dead (status 1, Tue Dec  1 10:03:08 2026)--dangerously-skip-permissions cannot be used\n\n\n"
    first, later = summarize(text, None), summarize(text.replace("10:03:08", "10:03:11"), 1)
    assert first["last_line"] == "--dangerously-skip-permissions cannot be used"
    assert first["signature"] == later["signature"] != ""
    assert summarize("\n\n", 1)["signature"] == ""


def test_session_derived_paths_go_through_the_confining_function(tmp_path):
    from gastown_tui.agents import heartbeat, nudge
    from gastown_tui.infra.safepath import UnsafePath
    from gastown_tui.town.layout import Town

    town = Town(tmp_path)
    for make in (lambda: heartbeat.heartbeat_path(town, "../../etc/x"), lambda: heartbeat.checks_dir(town, "../up")):
        with pytest.raises(UnsafePath):
            make()

    class Fake:
        session = "../../outside"

    for make in (nudge._queue_path, nudge._lock_path, nudge._dnd_path):
        with pytest.raises(UnsafePath):
            make(town, Fake())
    assert nudge._queue_path(town, type("A", (), {"session": "gt-demo-nux"})()).parent == town.runtime_dir / "nudge_queue"


def test_the_scripted_model_never_writes_outside_the_worktree():
    steps = run_loop(Script(), Convo(), description="file: ../../etc/passwd\n```\nx\n```\nfile: ok.txt\n```\ny\n```\n")
    assert "Write:/w/nux/ok.txt" in steps and not any("passwd" in s for s in steps)
