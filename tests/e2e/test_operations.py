"""The operations surface on a town that did real sim work: feed (and, below, the rest of issue 16)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import BIN, run_cli, wait_for
from tests.ops_helpers import build_worked_town, gt, kill_town_sessions

pytestmark = pytest.mark.tmux


@pytest.fixture(scope="module")
def worked(tmp_path_factory, tmux_socket):
    base = tmp_path_factory.mktemp("ops")
    with pytest.MonkeyPatch.context() as mp:
        home = base / "home"
        home.mkdir()
        mp.setenv("HOME", str(home))
        mp.setenv("XDG_CONFIG_HOME", str(home / ".config"))
        mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
        for k, v in (("GIT_AUTHOR_NAME", "Test Overseer"), ("GIT_AUTHOR_EMAIL", "overseer@example.com"),
                     ("GIT_COMMITTER_NAME", "Test Overseer"), ("GIT_COMMITTER_EMAIL", "overseer@example.com")):
            mp.setenv(k, v)
        mp.setenv("GT_TMUX_SOCKET", tmux_socket)
        for var in ("GT_TOWN_ROOT", "BD_ACTOR", "GT_ROLE", "GT_RIG", "GT_NAME", "TMUX", "TMUX_PANE", "GT_DEBUG"):
            mp.delenv(var, raising=False)
        mp.setenv("PATH", f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
        w = build_worked_town(base)
        try:
            yield w
        finally:
            kill_town_sessions(w["town"])


def feed_json(town, *args):
    r = gt(town, "feed", "--no-follow", "--json", *args)
    return [json.loads(line) for line in r.stdout.splitlines()]


# -- gt feed ------------------------------------------------------------------------------------

def test_feed_shows_the_work_that_happened(worked):
    town = worked["town"]
    events = feed_json(town)
    types = [e["type"] for e in events]
    assert types[0] == "town.installed" and "rig.added" in types
    assert types.count("sling") == 2 and types.count("done") == 2
    done_mail = [e for e in events if e["type"] == "mail.sent" and e["payload"]["subject"].startswith("POLECAT_DONE")]
    assert {e["payload"]["to"] for e in done_mail} == {"demo/witness"}
    assert len(done_mail) == 2
    assert [e["ts"] for e in events] == sorted(e["ts"] for e in events)

    # filters: type (prefix), rig, agent (actor or the payload's recipient), limit
    assert {e["type"] for e in feed_json(town, "--type", "mail")} == {"mail.sent"}
    assert all(e["rig"] == "demo" or e["actor"].startswith("demo/") for e in feed_json(town, "--rig", "demo"))
    polecat = worked["assignments"][0]["name"]
    mine = feed_json(town, "--agent", f"demo/polecats/{polecat}")
    assert {"done", "mail.sent"} <= {e["type"] for e in mine}
    assert all(e["actor"] == f"demo/polecats/{polecat}" or e["payload"].get("to") == f"demo/polecats/{polecat}"
               or e["payload"].get("agent") == f"demo/polecats/{polecat}" for e in mine)
    assert feed_json(town, "--agent", f"demo/{polecat}") == mine  # the short address is the same polecat
    assert feed_json(town, "-n", "2") == events[-2:]
    assert len(feed_json(town, "--since", "1h")) == len(events)
    assert feed_json(town, "--since", "1h", "--type", "nothing.like.this") == []

    text = gt(town, "feed", "--since", "1h").stdout.splitlines()  # not a terminal: prints and exits
    assert len(text) == len(events)
    assert any(" done " in ln and f"demo/polecats/{polecat}" in ln for ln in text)


def test_feed_follows_new_events_by_watching_the_file(worked):
    town = worked["town"]
    proc = subprocess.Popen([str(BIN / "gt"), "feed", "--follow", "--json", "--type", "mail", "-n", "0"], cwd=town,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines: list[str] = []
        import threading

        def read():
            for line in proc.stdout:
                lines.append(line)

        threading.Thread(target=read, daemon=True).start()
        wait_for(lambda: len(lines) >= 2, timeout=30, message="the recent mail events")
        before = len(lines)
        gt(town, "mail", "send", "mayor", "-s", "Feed follow check", "-m", "hello")
        gt(town, "escalate", "not a mail event", "-s", "low")  # filtered out by --type mail
        got = wait_for(lambda: [json.loads(x) for x in lines[before:]
                                if "Feed follow check" in x], timeout=30, message="the new mail in the feed")
        assert got[0]["type"] == "mail.sent" and got[0]["payload"]["to"] == "mayor"
        assert all(json.loads(x)["type"].startswith("mail") for x in lines)
        assert proc.poll() is None  # still following
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_feed_bad_input_is_one_sentence(worked):
    town = worked["town"]
    for args, word in ((["--since", "soon"], "is not a duration"), (["-n", "-3"], "--limit"),
                       (["--follow", "--no-follow"], "not allowed")):
        r = run_cli("gt", "feed", *args, cwd=town)
        assert r.returncode == 2 and word in r.stderr and "Traceback" not in r.stderr, (args, r.stderr)


# -- the operations guide's checklists, as written -------------------------------------------

def test_daily_and_weekly_checklists_run_as_written(worked):
    town = worked["town"]
    daily = [["feed"], ["escalate", "list"], ["doctor"], ["costs"], ["convoy", "list"]]
    weekly = [["doctor"], ["costs", "--since", "7d", "--by-rig"], ["orphans"], ["escalate", "stale"],
              ["convoy", "stranded"], ["cleanup", "--dry-run"]]
    for cmd in daily + weekly:
        r = run_cli("gt", *cmd, cwd=town)  # not a terminal: gt feed prints and exits
        assert r.returncode in (0, 1) and "Traceback" not in r.stderr, (cmd, r.stderr)
        if cmd[0] != "doctor":  # doctor exits 1 when it warns (no daemon in this town)
            assert r.returncode == 0, (cmd, r.stderr)
    r = run_cli("gt", "costs", "--by-agent", cwd=town)  # the incident playbook's "costs spiking?" branch
    assert r.returncode == 0 and "demo/polecats/" in r.stdout


# -- gt costs -----------------------------------------------------------------------------------

def test_costs_reads_the_sims_usage_per_agent(worked):
    town = worked["town"]
    names = {a["name"] for a in worked["assignments"]}
    rep = json.loads(gt(town, "costs", "--since", "7d", "--by-agent", "--by-model", "--json").stdout)
    assert rep["group_by"] == ["agent", "model"]
    rows = {r["agent"]: r for r in rep["rows"]}
    assert set(rows) == {f"demo/polecats/{n}" for n in names}
    for r in rows.values():
        assert r["model"] == "sim" and r["simulated"] is True and r["sources"] == ["sim"]
        assert r["records"] == 1 and r["input_tokens"] >= 1200 and r["output_tokens"] >= 300 and r["cost_usd"] > 0
    assert rep["total_cost_usd"] == 0 and rep["simulated_cost_usd"] == pytest.approx(sum(r["cost_usd"] for r in rows.values()))

    by_rig = json.loads(gt(town, "costs", "--since", "7d", "--by-rig", "--json").stdout)["rows"]
    assert [(r["rig"], r["records"]) for r in by_rig] == [("demo", 2)]
    text = gt(town, "costs", "--since", "7d", "--by-rig").stdout
    assert "simulated" in text and "demo" in text and "$" in text and "*" in text
    r = run_cli("gt", "costs", "--since", "often", cwd=town)
    assert r.returncode == 2 and "is not a duration" in r.stderr


def test_cost_spike_raises_one_escalation(worked, tmp_path):
    import shutil

    town = tmp_path / "copy"  # a copy: the spike settings must not leak into the other tests
    shutil.copytree(worked["town"], town, symlinks=True, ignore=shutil.ignore_patterns("polecats", "refinery", ".repo.git"))
    gt(town, "config", "set", "costs.spike_usd_per_hour", "0.001")
    gt(town, "config", "set", "costs.spike_include_simulated", "true")
    first = json.loads(gt(town, "costs", "spike", "--json").stdout)
    assert first["escalation"] and first["usd"] > 0.001
    assert json.loads(gt(town, "costs", "spike", "--json").stdout) == {"spike": None}
    escs = json.loads(gt(town, "escalate", "list", "--json").stdout)
    spikes = [e for e in escs if e["category"] == "cost"]
    assert [e["id"] for e in spikes] == [first["escalation"]] and spikes[0]["severity"] == "high"


# -- gt trail -----------------------------------------------------------------------------------

def test_trail_shows_what_each_sim_printed_and_did(worked):
    town = worked["town"]
    names = {a["name"] for a in worked["assignments"]}

    def logged():
        items = json.loads(gt(town, "trail", "--json").stdout)
        mine = {i["agent"]: i for i in items if i["agent"].startswith("demo/polecats/")}
        ok = set(mine) == {f"demo/polecats/{n}" for n in names} and all(
            any("committed" in ln["text"] for ln in i["lines"]) for i in mine.values())
        return mine if ok else None

    items = wait_for(logged, timeout=30, message="the sims' output in their trail logs")
    for it in items.values():
        assert it["session"].startswith("gt-demo-")
        assert "done" in {e["type"] for e in it["events"]}
        assert all("\x1b" not in ln["text"] for ln in it["lines"])  # stored as text, not escapes
    name = sorted(names)[0]
    one = json.loads(gt(town, "trail", f"demo/polecats/{name}", "-n", "3", "--screen", "--json").stdout)
    assert len(one) == 1 and len(one[0]["lines"]) <= 3 and one[0]["screen"] and one[0]["screen"][-1].startswith("sim>")
    text = gt(town, "trail", "--agent", f"demo/{name}", "--since", "1h").stdout
    assert text.startswith(f"== demo/polecats/{name} (gt-demo-{name})") and "last: done" in text

    # new output arrives in the log as the agent prints it
    gt(town, "nudge", f"demo/polecats/{name}", "echo trail-marker-42")
    wait_for(lambda: "trail-marker-42" in gt(town, "trail", f"demo/{name}", "-n", "0").stdout, timeout=30,
             message="the nudge's echo in the trail")
    r = run_cli("gt", "trail", "demo/not a name", cwd=town)
    assert r.returncode == 2 and "Traceback" not in r.stderr


# -- gt orphans / gt cleanup (last: it changes the town) ------------------------------------------

def _git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


def test_orphans_are_listed_and_only_safe_ones_cleaned(worked, tmux):
    import time

    from gastown_tui.town.layout import Town

    town = worked["town"]
    t = Town(town)
    clone = worked["clone"]
    bare = town / "demo" / ".repo.git"
    assert json.loads(gt(town, "orphans", "--json").stdout) == {k: [] for k in
                                                                ("sessions", "worktrees", "branches", "heartbeats", "trails", "beads", "pending",
                                                                 "processes")}
    # one of each kind
    tmux.new_session("gt-demo-ghost", ["sleep", "600"], cwd=town)
    (t.heartbeats_dir / "gt-demo-gone.json").write_text(json.dumps({"ts": time.time() - 999, "pid": 1, "role": "polecat"}))
    (t.runtime_dir / "trail" / "gt-demo-gone.log").write_text("1\tlast words\n")
    r = run_cli("bd", "create", "Hooked to a ghost", "--json", cwd=clone)
    ghost_bead = json.loads(r.stdout)["id"]
    assert run_cli("bd", "update", ghost_bead, "--status", "hooked", "--assignee", "demo/polecats/gone", cwd=clone).returncode == 0
    pending = clone / ".beads" / ".pending"
    pending.mkdir(exist_ok=True)
    stale = pending / f"{time.time_ns():020d}-999999-1-1.req"
    stale.write_text("{}")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    main = _git(bare, "rev-parse", "main").strip()
    _git(bare, "branch", "polecat/old/de-abc-1", main)  # merged: safe
    stray = town / "demo" / "polecats" / "stray"
    _git(bare, "worktree", "add", "-q", "-b", "polecat/stray/de-xyz-1", str(stray), "main")
    (stray / "wip.txt").write_text("unmerged work\n")
    _git(stray, "add", "wip.txt")
    _git(stray, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-q", "-m", "wip")

    found = json.loads(gt(town, "orphans", "--json").stdout)
    ids = {k: {i["id"]: i["safe"] for i in v} for k, v in found.items()}
    assert ids["sessions"] == {"gt-demo-ghost": True}
    assert ids["heartbeats"] == {"gt-demo-gone": True} and ids["trails"] == {"gt-demo-gone": True}
    assert ids["beads"] == {ghost_bead: True}
    assert ids["worktrees"] == {"demo/stray": False}
    assert ids["branches"] == {"demo:polecat/old/de-abc-1": True}
    assert [p["file"] for p in found["pending"]] == [stale.name]
    assert "gt cleanup" in gt(town, "orphans").stdout

    dry = json.loads(gt(town, "cleanup", "--dry-run", "--json").stdout)
    assert {(d["kind"], d["id"]) for d in dry["kept"]} == {("worktrees", "demo/stray")}
    assert len(dry["removed"]) == 6 and stale.exists() and tmux.has_session("gt-demo-ghost")

    res = json.loads(gt(town, "cleanup", "--json").stdout)
    assert {d["kind"] for d in res["removed"]} == {"sessions", "heartbeats", "trails", "beads", "branches", "pending"}
    assert not tmux.has_session("gt-demo-ghost") and not stale.exists()
    assert "polecat/old/de-abc-1" not in _git(bare, "branch", "--list", "polecat/old/*")
    bead = json.loads(run_cli("bd", "show", ghost_bead, "--json", cwd=clone).stdout)
    bead = bead[0] if isinstance(bead, list) else bead
    assert bead["status"] == "open" and not bead.get("assignee")
    assert stray.is_dir() and (stray / "wip.txt").exists()  # unmerged work is kept
    for a in worked["assignments"]:  # the sims' real work is untouched
        assert Path(a["path"]).is_dir()

    kept = json.loads(gt(town, "orphans", "--json").stdout)
    assert [i["id"] for i in kept["worktrees"]] == ["demo/stray"]
    forced = json.loads(gt(town, "cleanup", "--force", "--kind", "worktrees", "--json").stdout)
    assert [d["id"] for d in forced["removed"]] == ["demo/stray"] and not stray.exists()
    r = run_cli("gt", "cleanup", "--kind", "socks", cwd=town)
    assert r.returncode == 2 and "is not a kind of orphan" in r.stderr


# -- patrol digests and KRC -------------------------------------------------------------------

def test_patrol_checks_digest_into_one_bead_and_krc_prunes(worked):
    import time

    from gastown_tui.patrols import krc
    from gastown_tui.town.layout import Town

    town = worked["town"]
    t = Town(town)
    for _ in range(3):
        gt(town, "witness", "run", "demo", "--once")  # a real patrol pass each: MERGE_READY for the done polecats
    day = time.strftime("%Y-%m-%d", time.gmtime())
    checks = t.runtime_dir / "patrols" / "gt-demo-witness" / f"{day}.jsonl"
    assert len(checks.read_text().splitlines()) == 3

    assert json.loads(gt(town, "patrol", "digest", "--json").stdout) == []  # today is not finished
    dry = json.loads(gt(town, "patrol", "digest", "--date", day, "--dry-run", "--json").stdout)
    assert [(d["patrol"], d["passes"]) for d in dry] == [("gt-demo-witness", 3)] and checks.exists()
    res = json.loads(gt(town, "patrol", "digest", "--date", day, "--json").stdout)
    assert res[0]["burned"] == 3 and res[0]["bead"] and not checks.exists()
    assert res[0]["totals"]["polecats"] == 6  # two polecats seen on each of the three passes
    listed = json.loads(gt(town, "patrol", "digests", "--json").stdout)
    assert [(d["id"], d["patrol"], d["day"], d["passes"]) for d in listed] == [(res[0]["bead"], "gt-demo-witness", day, 3)]
    gt(town, "witness", "run", "demo", "--once")
    again = json.loads(gt(town, "patrol", "digest", "--date", day, "--json").stdout)
    assert again[0]["bead"] == res[0]["bead"] and again[0].get("already")  # one digest per patrol and day

    # KRC: the protocol mail the witness has handled is read; a month later it has expired
    rows = {r["kind"]: r for r in json.loads(gt(town, "krc", "list", "--json").stdout)}
    assert rows["wisps"]["ttl"] == "7d" and rows["heartbeats"]["expired"] == 0
    later = time.time() + 30 * 86400
    found = krc.expired(t, None, now=later)
    assert found["wisps"] and not krc.expired(t, None)["wisps"]  # nothing has expired today
    before = {w["id"] for w in found["wisps"]}
    out = krc.prune(t, None, now=later, kinds=("wisps",))
    assert out["removed"]["wisps"] == len(before)
    from gastown_tui.beads.store import Store

    left = {i.id for i in Store(t.beads_dir).list(include_closed=True, include_ephemeral=True)}
    assert not (before & left)
    assert json.loads(gt(town, "mail", "inbox", "demo/witness", "--json").stdout) is not None
    gt(town, "krc", "config", "heartbeats", "12h")
    assert json.loads(gt(town, "krc", "config", "--json").stdout)["heartbeats"] == "12h"
    r = run_cli("gt", "krc", "config", "heartbeats", "soon", cwd=town)
    assert r.returncode == 2 and "is not a duration" in r.stderr


# -- dogs and plugins ---------------------------------------------------------------------------

def test_dogs_run_their_chores_and_the_deacon_starts_due_ones(worked):
    import time

    from gastown_tui.patrols import dogs
    from gastown_tui.town.layout import Town

    town = worked["town"]
    t = Town(town)
    (town / "plugins").mkdir(exist_ok=True)
    (town / "plugins" / "stamp.toml").write_text(
        'description = "leave a stamp"\ncommand = "echo stamped > stamp.txt; echo done"\nschedule = "2h"\n')
    names = [d["name"] for d in json.loads(gt(town, "dog", "list", "--json").stdout)]
    assert names == ["boot", "digest", "krc", "orphans", "logs", "plugin:stamp"]

    res = json.loads(gt(town, "dog", "run", "orphans", "--json").stdout)
    assert res["status"] == "ok" and res["name"] == "orphans"
    assert json.loads(gt(town, "dog", "run", "krc", "--json").stdout)["status"] == "ok"
    r = run_cli("gt", "dog", "run", "cat", cwd=town)
    assert r.returncode == 1 and "no dog 'cat'" in r.stderr

    # the deacon: a dog never seen waits one interval, then is started as its own process
    now = time.time()
    assert dogs.start_due(t, now=now) == []
    started = dogs.start_due(t, now=now + 3 * 3600)
    assert set(started) == {"digest", "krc", "logs", "plugin:stamp"}  # orphans ran above: not due for 6 h
    assert dogs.start_due(t, now=now + 3 * 3600) == []  # claimed: not started twice
    wait_for(lambda: (town / "stamp.txt").exists() and all(
        (dogs.read_state(t, n).get("last_status") == "ok") for n in started), timeout=60, message="the dogs' runs")
    st = {d["name"]: d for d in json.loads(gt(town, "dog", "status", "--json").stdout)}
    assert st["plugin:stamp"]["runs"] == 1 and st["plugin:stamp"]["last_status"] == "ok"
    ran = [json.loads(ln)["payload"]["name"] for ln in gt(town, "feed", "--no-follow", "--json", "--type", "dog").stdout.splitlines()]
    assert set(started) | {"orphans", "krc"} <= set(ran)


def test_plugins_list_run_disable_time_out_and_open_gates(worked):
    town = worked["town"]
    rig_plugins = town / "demo" / "plugins"
    rig_plugins.mkdir(exist_ok=True)
    (rig_plugins / "ready.toml").write_text(
        'description = "is the flag there?"\ncommand = "test -f \\"$GT_GATE_ARG\\""\ngate = true\n')
    (rig_plugins / "slow.toml").write_text('command = ["sleep", "30"]\ntimeout = "1s"\n')
    (rig_plugins / "broken.toml").write_text('command = 42\n')
    items = {p["name"]: p for p in json.loads(gt(town, "plugin", "list", "--json").stdout)}
    assert {"demo/ready", "demo/slow", "demo/broken"} <= set(items)
    assert items["demo/ready"]["gate"] and items["demo/broken"]["error"] and not items["demo/broken"]["enabled"]

    r = run_cli("gt", "plugin", "run", "demo/slow", "--json", cwd=town)
    assert r.returncode == 1 and json.loads(r.stdout)["status"] == "timeout"
    r = run_cli("gt", "plugin", "run", "demo/broken", cwd=town)
    assert r.returncode == 2 and "cannot run" in r.stderr
    shown = json.loads(gt(town, "plugin", "show", "demo/slow", "--json").stdout)
    assert "timed out" in shown["log_tail"]

    # a custom gate type: open when the plugin says so (it runs in the rig's clone)
    clone = worked["clone"]
    r = run_cli("bd", "gate", "create", "plugin:demo/ready:flag.txt", "--json", cwd=clone)
    assert r.returncode == 0, r.stderr
    gate = json.loads(r.stdout)["id"]
    from gastown_tui.town.layout import Town
    from gastown_tui.work.gates import check_gates

    check_gates(Town(town))
    status = json.loads(run_cli("bd", "gate", "status", gate, "--json", cwd=clone).stdout)
    assert status["status"] == "open"
    (clone / "flag.txt").write_text("go\n")
    check_gates(Town(town))
    status = json.loads(run_cli("bd", "gate", "status", gate, "--json", cwd=clone).stdout)
    assert status["status"] == "closed"

    gt(town, "plugin", "disable", "demo/ready")
    assert not {p["name"]: p for p in json.loads(gt(town, "plugin", "list", "--json").stdout)}["demo/ready"]["enabled"]
    gt(town, "plugin", "enable", "demo/ready")
    r = run_cli("gt", "plugin", "show", "nope", cwd=town)
    assert r.returncode == 1 and "no plugin" in r.stderr
