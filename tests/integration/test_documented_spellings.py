"""Every spelling the Gas Town documents (../shared/docs) give, run as they write it (issue 17).

Each test runs the commands exactly as the operations guide, the concepts reference or the
understanding document spell them, as real subprocesses against a real town.
"""

from __future__ import annotations

import json

import pytest

from gastown_tui.beads.store import Store
from gastown_tui.infra.tmux import Tmux
from tests.conftest import BIN, run_cli, wait_for
from tests.work_helpers import add_runtime, bead, gt, gt_json, one_sentence, sessions
from tests.work_helpers import sleeper_town  # noqa: F401 - a fixture


def bd(town, *args, cwd=None, env=None):
    return run_cli("bd", *args, cwd=cwd or town.rig("demo").mayor_clone, env=env)


@pytest.fixture
def two_rigs(rig_town, project_repo):
    from gastown_tui.town.rigs import add_rig

    add_rig(rig_town, "beads", str(project_repo), prefix="bd")
    return rig_town


# --- bd ------------------------------------------------------------------------------------------

def test_bd_create_prefix_routes_to_another_rig_from_anywhere(two_rigs):
    town = two_rigs
    # "bd create --prefix beads ..." from the demo rig's clone, by rig name and by prefix
    r = bd(town, "create", "--prefix", "beads", "Fix authentication bug", "--json")
    assert r.returncode == 0, r.stderr
    made = json.loads(r.stdout)
    assert made["id"].startswith("bd-")
    assert Store(town.rig("beads").beads_dir).get(made["id"]).title == "Fix authentication bug"
    assert Store(town.rig("demo").beads_dir).try_get(made["id"]) is None
    for spelling in ("bd", "bd-"):
        r = bd(town, "create", "--prefix", spelling, "again", cwd=town.root)
        assert r.returncode == 0 and r.stdout.startswith("Created bd-"), r.stderr
    r = bd(town, "create", "--prefix", "nope", "x", cwd=town.root)
    assert r.returncode == 1 and "no rig or prefix 'nope'" in one_sentence(r) and "known prefixes" in r.stderr


def test_bd_ready_parent_lists_descendants_and_molecule_steps(rig_town):
    town = rig_town
    store = Store(town.rig("demo").beads_dir)
    epic = store.create("the epic", type="epic")
    kid = store.create("child", parent=epic.id)
    grandkid = store.create("grandchild", parent=kid.id)
    store.create("unrelated")
    r = bd(town, "ready", f"--parent={epic.id}", "--json")
    assert r.returncode == 0, r.stderr
    assert {i["id"] for i in json.loads(r.stdout)} == {kid.id, grandkid.id}
    # a molecule's ready steps, as the concepts reference's old three-command workflow writes it
    mol = json.loads(bd(town, "mol", "pour", "polecat-work", "--var", "issue=" + kid.id, "--json").stdout)["id"]
    r = bd(town, "ready", f"--parent={mol}", "--json")
    assert r.returncode == 0, r.stderr
    assert [i["id"] for i in json.loads(r.stdout)] == [f"{mol}.1"]


def test_bd_gate_create_takes_its_title_as_a_positional(rig_town, tmp_path):
    town = rig_town
    fake = tmp_path / "ghbin"  # the GitHub CLI is an external program: a stand-in answers `gh run view`
    fake.mkdir()
    (fake / "gh").write_text("#!/bin/sh\necho '{\"status\": \"in_progress\", \"conclusion\": \"\"}'\n")
    (fake / "gh").chmod(0o755)
    env = {"PATH": f"{fake}:{BIN}:/usr/bin:/bin"}
    r = bd(town, "gate", "create", "gh:run:12345", "Wait for CI", "--json", env=env)
    assert r.returncode == 0, r.stderr
    g = json.loads(r.stdout)
    assert g["title"] == "Wait for CI" and g["type"] == "gh:run" and g["arg"] == "12345"
    r = bd(town, "gate", "create", "timer:1h", "A", "--title", "B", env=env)
    assert r.returncode == 2 and "once" in one_sentence(r)


def test_bd_squash_and_burn_at_top_level(rig_town):
    town = rig_town
    b = bead(town, "work")
    mol = json.loads(bd(town, "mol", "pour", "polecat-work", "--var", "issue=" + b.id, "--json").stdout)["id"]
    wisp = json.loads(bd(town, "mol", "wisp", "polecat-work", "--var", "issue=" + b.id, "--json").stdout)["id"]
    r = bd(town, "squash", mol, "--json")
    assert r.returncode == 0, r.stderr
    digest = json.loads(r.stdout)["digest"]
    assert Store(town.rig("demo").beads_dir).get(digest).is_closed
    r = bd(town, "burn", wisp, "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["deleted"] >= 1, r.stderr
    assert "squash" in bd(town, "--help").stdout and "burn" in bd(town, "--help").stdout


# --- gt escalate -----------------------------------------------------------------------------------

def test_escalate_severity_in_any_case_forward_and_context(rig_town):
    town = rig_town
    r = gt(town, "escalate", "-s", "CRITICAL", "Data corruption detected", "--json")
    assert r.returncode == 0, r.stderr
    e = json.loads(r.stdout)
    assert e["severity"] == "critical" and e["priority"] == 0 and e["routed_to"] == "overseer"
    assert gt(town, "escalate", "-s", "High", "x").returncode == 0
    r = gt(town, "escalate", "-s", "URGENT", "x")
    assert r.returncode == 2 and "'urgent' is not a severity" in one_sentence(r)

    # the deacon forwards what it could not resolve
    r = gt(town, "escalate", "--forward", "--to", "mayor", "Deacon couldn't resolve", "--json",
           env={"BD_ACTOR": "deacon"})
    assert r.returncode == 0, r.stderr
    f = json.loads(r.stdout)
    assert f["routed_to"] == "mayor" and f["forwarded_by"] == "deacon" and f["level"] == 1
    # ... and an existing escalation one tier up its ladder
    first = gt_json(town, "escalate", "--type", "help", "need guidance")
    assert first["routed_to"] == "deacon"
    r = gt(town, "escalate", "--forward", first["id"], "tried twice", env={"BD_ACTOR": "deacon"})
    assert r.returncode == 0 and "to mayor" in r.stdout, r.stderr
    assert gt_json(town, "escalate", "show", first["id"])["routed_to"] == "mayor"

    # the structured decision pattern, as written
    b = bead(town, "admin panel login")
    r = gt(town, "escalate", "--type", "decision", "--question", "Which authentication approach?",
           "--options", "JWT tokens,Session cookies,OAuth2", "--context", "Admin panel needs login",
           "--issue", b.id, "Which auth approach?", "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["context"] == "Admin panel needs login" and d["options"] == ["JWT tokens", "Session cookies", "OAuth2"]
    r = gt(town, "escalate", "--context", "only context", "no question")
    assert r.returncode == 2 and "--question" in one_sentence(r)
    help_text = gt(town, "escalate", "--help").stdout
    for flag in ("--severity", "--type", "--to", "--forward", "--question", "--options", "--context", "--issue"):
        assert flag in help_text


# --- gt park / resume ---------------------------------------------------------------------------

def test_park_with_an_inline_gate_spec_and_resume_check_handoff(rig_town, tmp_path):
    town = rig_town
    nux = "demo/polecats/nux"
    town.rig("demo").polecat("nux").mkdir(parents=True)
    r = gt(town, "park", "--gate", "timer:1h", "--handoff", "Remember to check test results first", "--as", nux,
           "--json")
    assert r.returncode == 0, r.stderr
    rec = json.loads(r.stdout)
    gate = Store(town.beads_dir).get(rec["gate"])
    assert gate.issue_type == "gate" and gate.get("gate_type") == "timer"
    r = gt(town, "resume", "--check-handoff", "--as", nux)
    assert r.returncode == 0, r.stderr
    assert "Handoff message: Remember to check test results first" in r.stdout and "waiting" in r.stdout
    assert gt(town, "resume", "--as", nux).returncode == 1  # still parked: the gate has not opened

    # gh:pr:456 with --message (the GitHub CLI is an external program: a stand-in answers)
    fake = tmp_path / "ghbin"
    fake.mkdir()
    (fake / "gh").write_text("#!/bin/sh\necho '{\"state\": \"OPEN\"}'\n")
    (fake / "gh").chmod(0o755)
    furiosa = "demo/polecats/furiosa"
    town.rig("demo").polecat("furiosa").mkdir(parents=True)
    r = gt(town, "park", "--gate", "gh:pr:456", "--message", "Waiting for review", "--as", furiosa,
           env={"PATH": f"{fake}:{BIN}:/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    assert "created for gh:pr:456" in r.stdout
    r = gt(town, "resume", "--as", furiosa, "--force")
    assert r.returncode == 0 and "Handoff message: Waiting for review" in r.stdout, r.stderr
    # not parked any more: the HANDOFF mail still carries the message
    r = gt(town, "resume", "--check-handoff", "--as", furiosa)
    assert r.returncode == 0 and "Handoff message: Waiting for review" in r.stdout, r.stderr
    assert "--check-handoff" in gt(town, "resume", "--help").stdout
    assert "--message" in gt(town, "park", "--help").stdout


# --- gt done / gt polecat done --------------------------------------------------------------------

@pytest.mark.tmux
def test_done_exit_spellings_and_polecat_done(sleeper_town):  # noqa: F811 - the fixture
    town = sleeper_town
    a = bead(town, "defer me")
    assert gt(town, "sling", a.id, "demo", "--agent", "sleeper", "--no-convoy").returncode == 0
    wt = next(p for p in town.rig("demo").polecats_dir.iterdir() if p.is_dir())
    # `gt polecat done --exit DEFERRED` in the polecat's worktree: the bead goes back
    r = run_cli("gt", "polecat", "done", "--exit", "DEFERRED", cwd=wt)
    assert r.returncode == 0, r.stderr
    assert Store(town.rig("demo").beads_dir).get(a.id).status == "open"

    b = bead(town, "merge me")
    assert gt(town, "sling", b.id, f"demo/polecats/{wt.name}", "--agent", "sleeper", "--no-convoy",
              "--force").returncode == 0
    (wt / "feature.txt").write_text("done\n")
    r = run_cli("gt", "done", "--exit", "MERGED", "--json", cwd=wt)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["status"] == "COMPLETED" and out["mr"]
    r = run_cli("gt", "done", "--exit", "SIDEWAYS", cwd=wt)
    assert r.returncode == 2 and "'SIDEWAYS' is not a done status" in one_sentence(r)
    for cmd in (("done", "--help"), ("polecat", "done", "--help")):
        assert "--exit" in gt(town, *cmd).stdout


# --- mail --human ----------------------------------------------------------------------------------

def test_mail_send_and_inbox_human(rig_town):
    town = rig_town
    r = gt(town, "mail", "send", "--human", "-s", "Need a decision", "-m", "see hq-x", "--json",
           env={"BD_ACTOR": "mayor"})
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["to"] == "overseer"
    r = gt(town, "mail", "inbox", "--human", "--json")
    assert r.returncode == 0, r.stderr
    assert [m["subject"] for m in json.loads(r.stdout)] == ["Need a decision"]
    r = gt(town, "mail", "send", "mayor", "--human", "-s", "x")
    assert r.returncode == 2 and "not both" in one_sentence(r)


# --- the rig from the current directory -------------------------------------------------------------

def test_mq_status_and_witness_take_the_rig_from_the_directory(rig_town):
    town = rig_town
    here = town.rig("demo").root
    r = run_cli("gt", "mq", "status", "--json", cwd=here)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["rig"] == "demo"
    r = run_cli("gt", "witness", "attach", cwd=here / "mayor" / "rig")
    assert r.returncode == 1 and "demo/witness is not running" in one_sentence(r)
    r = run_cli("gt", "mq", "status", cwd=town.root)
    assert r.returncode == 2 and "which rig?" in one_sentence(r)


# --- sessions, rigs, agents, nudge channels (real tmux) ------------------------------------------

@pytest.fixture
def fleet(rig_town):
    from gastown_tui.town.config import load_settings

    s = load_settings(rig_town.root)
    for role in ("witness", "refinery", "deacon"):
        s.set(f"{role}.patrol_seconds", 1)
    s.set("channels.leads", ["mayor", "demo/witness"])
    s.save()
    add_runtime(rig_town, "sleeper", "sleep", ["3600"])
    yield rig_town
    tm = Tmux.for_town(rig_town)
    for sess in tm.list_sessions():
        tm.kill_session(sess)


@pytest.mark.tmux
def test_rig_start_status_stop_and_session_verbs(fleet):
    town = fleet
    r = gt(town, "rig", "start", "demo", "--json")
    assert r.returncode == 0, r.stderr
    assert {"gt-demo-witness", "gt-demo-refinery"} <= set(sessions(town))
    st = json.loads(run_cli("gt", "rig", "status", "--json", cwd=town.rig("demo").root).stdout)
    assert st["rig"] == "demo" and {s["state"] for s in st["services"]} == {"running"}

    # bare `gt agents` is `gt agents status`
    wait_for(lambda: {a["address"] for a in gt_json(town, "agents")} >= {"demo/witness", "demo/refinery"},
             timeout=30, message="both patrols listed by bare 'gt agents'")
    r = gt(town, "agents")
    assert r.returncode == 0 and "demo/witness" in r.stdout, r.stderr

    health = wait_for(lambda: [h for h in gt_json(town, "session", "health")
                               if h["address"] == "demo/witness" and h["heartbeat_age"] is not None],
                      timeout=30, message="the witness's heartbeat in 'gt session health'")
    assert health[0]["alive"] is True
    tm = Tmux.for_town(town)
    pid = tm.panes()["gt-demo-witness"].pid
    r = gt(town, "session", "restart", "demo/witness")
    assert r.returncode == 0, r.stderr
    assert wait_for(lambda: (p := tm.panes().get("gt-demo-witness")) is not None and p.pid != pid,
                    timeout=30, message="a new witness process")
    r = gt(town, "session", "stop", "demo/refinery")
    assert r.returncode == 0 and "stopped" in r.stdout, r.stderr
    assert "gt-demo-refinery" not in sessions(town)

    r = gt(town, "rig", "stop", "demo", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["stopped"] == ["gt-demo-witness"]
    assert [s for s in sessions(town) if s.startswith("gt-demo-")] == []


@pytest.mark.tmux
def test_nudge_bare_witness_and_channels(fleet):
    town = fleet
    assert gt(town, "mayor", "start", "--agent", "sim").returncode == 0
    assert gt(town, "witness", "start", "demo").returncode == 0
    from tests.conftest import wait_sim_ready

    wait_sim_ready(Tmux.for_town(town), "gt-mayor")
    r = run_cli("gt", "nudge", "witness", "are you there?", "--json", cwd=town.rig("demo").root)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["target"] == "demo/witness"

    r = gt(town, "nudge", "channel:leads", "standup in five", "--json")
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)["results"]
    assert sorted(x["target"] for x in got) == ["demo/witness", "mayor"]
    assert all(x["status"] == "delivered" for x in got)
    r = gt(town, "nudge", "channel:all", "hello", "--json")
    assert sorted(x["target"] for x in json.loads(r.stdout)["results"]) == ["demo/witness", "mayor"]
    r = gt(town, "nudge", "channel:demo", "rig only", "--json")
    assert [x["target"] for x in json.loads(r.stdout)["results"]] == ["demo/witness"]
    r = gt(town, "nudge", "channel:nobody", "x")
    assert r.returncode == 2 and "no nudge channel 'nobody'" in one_sentence(r)
    r = gt(town, "nudge", "witness", "x")  # from the town root there is no current rig
    assert r.returncode == 2 and "which rig?" in one_sentence(r)


@pytest.mark.tmux
def test_shutdown_all_also_stops_crew(fleet):
    town = fleet
    assert gt(town, "crew", "add", "demo", "ann").returncode == 0
    assert gt(town, "crew", "at", "ann", "--agent", "sleeper", "--no-attach").returncode == 0
    assert gt(town, "witness", "start", "demo").returncode == 0
    r = gt(town, "shutdown", "--json")
    assert r.returncode == 0, r.stderr
    assert sessions(town) == ["gt-demo-crew-ann"]  # crew keep working by default
    r = gt(town, "shutdown", "--all", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["stopped"] == ["gt-demo-crew-ann"]
    assert sessions(town) == []
    r = gt(town, "shutdown", "--all", "--polecats-only")
    assert r.returncode == 2 and "contradict" in one_sentence(r)


def test_peek_takes_a_polecats_bare_name(rig_town):
    town = rig_town
    town.rig("demo").polecat("toast").mkdir(parents=True)
    r = gt(town, "peek", "toast")  # "gt peek <polecat>": no session yet, but the name resolved
    assert r.returncode == 1 and "gt-demo-toast" in one_sentence(r)
    r = gt(town, "peek", "nobody")
    assert r.returncode == 2 and "is not an agent address" in one_sentence(r)
