"""The real Claude Code and Codex (pinned, from npm) working beads in our fleet against the scripted model.

No model service and no bill: `ANTHROPIC_BASE_URL` points Claude Code at `gastown_tui.sim.model` on
loopback, which plays the work loop through Claude Code's own Bash, Read and Write tools.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from gastown_tui.beads.store import Store
from gastown_tui.infra.tmux import Tmux
from tests.conftest import wait_for
from tests.e2e.test_fleet import fast_settings, main_files, rig_store
from tests import real_agents
from tests.real_agents import model_log, use_claude, use_codex
from tests.work_helpers import gt, gt_json, sessions

pytestmark = [pytest.mark.slow, pytest.mark.tmux]
scripted_model = real_agents.scripted_model  # the fixture, used by name below


@pytest.fixture
def fleet(rig_town):
    yield rig_town
    gt(rig_town, "down")
    tm = Tmux.for_town(rig_town)
    for s in tm.list_sessions():
        tm.kill_session(s)


def polecat_of(town, bead_id: str) -> str:
    iss = rig_store(town).get(bead_id)
    return iss.assignee.rsplit("/", 1)[-1]


def test_real_claude_takes_a_bead_to_a_merge_request_and_takes_a_verified_nudge(fleet, scripted_model, tmp_path):
    town = fleet
    use_claude(town, scripted_model)
    bead = rig_store(town).create("Add a greeting", description="file: hello.txt\n```\nhello from claude\n```\n").id
    r = gt(town, "sling", bead, "demo", "--agent", "claude", "--no-convoy")
    assert r.returncode == 0, r.stderr
    name = polecat_of(town, bead)

    def handed_in():
        mrs = rig_store(town).list(type="merge-request")
        return [m for m in mrs if m.data.get("source_issue") == bead or bead in (m.title or "")]

    wait_for(handed_in, timeout=120, interval=0.5, message=f"Claude Code to run gt done for {bead}\n" + model_log(tmp_path))
    wt = town.rig("demo").polecat(name)
    log = subprocess.run(["git", "-C", str(wt), "log", "-1", "--format=%an|%s", "--", "hello.txt"],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert log == f"demo/polecats/{name}|{bead}: Add a greeting"  # committed as the agent, through Claude Code
    assert (wt / "hello.txt").read_text() == "hello from claude\n"
    # Claude Code's own transcript has the usage the service reported (what gt costs reads).
    cfg = town.root / ".runtime" / "claude" / f"gt-demo-{name}"
    usage = [json.loads(ln).get("message", {}).get("usage") for f in cfg.glob("projects/*/*.jsonl")
             for ln in f.read_text().splitlines() if '"usage"' in ln]
    assert usage and all(u["input_tokens"] > 0 for u in usage if u)
    costs = gt_json(town, "costs", "--by-agent")
    row = next(r for r in costs["rows"] if r["agent"] == f"demo/polecats/{name}")
    assert row["sources"] == ["claude"] and not row["simulated"] and row["input_tokens"] > 0
    # Its real screen at rest is read as idle, and a nudge lands in its real input box.
    wait_for(lambda: gt_json(town, "agents", "status").__iter__() and any(
        a["address"] == f"demo/polecats/{name}" and a["state"] == "idle" for a in gt_json(town, "agents", "status")),
        timeout=60, interval=0.5, message="the status engine to see Claude Code idle")
    before = model_log(tmp_path).count("Checking my hook")
    r = gt(town, "nudge", f"demo/polecats/{name}", "check your hook again", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["status"] == "delivered", r.stdout + r.stderr
    wait_for(lambda: model_log(tmp_path).count("Checking my hook") > before, timeout=60,
             message="the nudge to reach the model as a new instruction")


@pytest.mark.parametrize("runtime", ["claude", "codex"])
def test_real_runtime_fleet_lands_a_convoy_with_a_stall_and_a_conflict(fleet, scripted_model, tmp_path, runtime):
    """Claude Code (Messages API) and Codex (Responses API), each in the whole fleet."""
    town = fleet
    (use_claude if runtime == "claude" else use_codex)(town, scripted_model)
    fast_settings(town, default_agent=runtime, **{"deacon.feed_convoys": False, "witness.stall_seconds": 8})
    st = rig_store(town)
    readme = st.create("Rewrite the readme", description=f"file: README.md\n```\n# rewritten by {runtime}\n```\n").id
    conflict = st.create("Retitle the readme", labels=["sim:conflict"]).id
    stall = st.create("Think hard first", labels=["sim:stall=once"]).id
    ids = [readme, conflict, stall]
    conv = gt_json(town, "convoy", "create", f"three with {runtime}", *ids, "--notify", "overseer")
    r = gt(town, "up", "--no-mayor")
    assert r.returncode == 0, r.stdout + r.stderr
    r = gt(town, "sling", *ids, "demo", "--agent", runtime, "--no-convoy")
    assert r.returncode == 0, r.stderr

    def landed():
        s = rig_store(town)
        return all(s.get(i).status == "closed" for i in ids) and \
            gt_json(town, "convoy", "status", conv["id"])["status"] == "closed"

    wait_for(landed, timeout=240, interval=1.0, message=f"three beads merged by real {runtime}\n" + model_log(tmp_path))
    files = main_files(town)
    assert f"work/{conflict}.md" in files and f"work/{stall}.md" in files
    events = [json.loads(ln) for ln in (town.root / ".events.jsonl").read_text().splitlines() if ln.strip()]
    nudged = {e["payload"].get("bead") for e in events if e["type"] == "witness.nudge"}
    assert stall in nudged  # the witness saw the stall and nudged the agent back to work
    assert "mq.conflict" in [e["type"] for e in events]  # one readme edit conflicted with the other ...
    mails = Store(town.beads_dir).list(type="message", include_ephemeral=True, include_closed=True)
    assert any(m.title.startswith("REWORK_REQUEST") and "README.md" in m.description for m in mails)  # ... went back
    mrs = rig_store(town).list(type="merge-request", include_closed=True)
    assert all(m.status == "closed" for m in mrs) and any("merged" in (m.close_reason or "") for m in mrs)
    assert not Store(town.beads_dir).list(type="escalation")  # nothing needed a human
    costs = gt_json(town, "costs", "--by-agent")  # read from the runtime's own usage records
    assert any(r["sources"] == [runtime] and r["input_tokens"] > 0 for r in costs["rows"]), costs
    if runtime == "codex":  # Codex ran with the town's own home, naming the scripted endpoint
        homes = list((town.root / ".runtime" / "codex").iterdir())
        assert homes and all(scripted_model in (h / "config.toml").read_text() for h in homes)
        # ... and started its app-server daemon from there, which outlives the session: gt down stops it
        from gastown_tui.infra.pids import processes_under

        assert gt(town, "down").returncode == 0
        wait_for(lambda: not processes_under(str(town.root / ".runtime" / "codex")), timeout=30, interval=0.5,
                 message="Codex's helpers to stop with the town")


def test_a_runtime_failing_at_start_is_explained_and_not_restart_looped(fleet, scripted_model):
    """Claude Code refuses to run as root without IS_SANDBOX; as another user, a bad flag fails it."""
    from gastown_tui.agents.runtime_setup import running_as_root
    from gastown_tui.town.config import load_settings

    town = fleet
    use_claude(town, scripted_model, **({"IS_SANDBOX": ""} if running_as_root() else {}))
    expected = "cannot be used with root" if running_as_root() else "unknown option"
    if not running_as_root():
        s = load_settings(town.root)
        s.set("agents.claude.args", ["--no-such-flag"])
        s.save()
    fast_settings(town, default_agent="claude", **{"deacon.feed_convoys": False, "witness.max_restarts": 5})
    bead = rig_store(town).create("Never started").id
    r = gt(town, "sling", bead, "demo", "--agent", "claude", "--no-convoy")
    assert r.returncode == 0, r.stderr
    name = polecat_of(town, bead)
    session = f"gt-demo-{name}"
    wait_for(lambda: any(a["session"] == session and a["state"] == "dead" for a in gt_json(town, "agents", "status")),
             timeout=30, message="the polecat's pane to die")
    row = next(a for a in gt_json(town, "agents", "status") if a["session"] == session)
    assert expected in row["reason"]  # the runtime's own words, not just "status 1"
    r = gt(town, "agents", "status", "--explain")
    assert expected in r.stdout
    r = gt(town, "peek", f"demo/polecats/{name}", "5")
    assert expected in r.stdout
    r = gt(town, "witness", "start", "demo")
    assert r.returncode == 0, r.stderr

    def escalated():
        return [e for e in Store(town.beads_dir).list(type="escalation") if e.data.get("related_issue") == bead]

    esc = wait_for(escalated, timeout=90, interval=0.5, message="the witness to escalate the start-up failure")[0]
    assert expected in esc.description and "same way twice" in esc.description
    restarts = [json.loads(ln) for ln in (town.root / ".events.jsonl").read_text().splitlines()
                if '"witness.restart"' in ln]
    assert len(restarts) == 1  # one retry, then the same failure stops the loop (max_restarts is 5)
    # The pane is gone now; its last screen is still there for the operator.
    assert session not in sessions(town)
    r = gt(town, "peek", f"demo/polecats/{name}")
    assert r.returncode == 0 and expected in r.stdout and "last screen" in r.stderr
