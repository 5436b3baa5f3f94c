"""A new user's path, end to end, with real processes: town, rig, beads, convoy, three sim polecats.

Three `gt sling ... --agent sim` run at once; each sim polecat reads its hook, edits files in its
own worktree, commits as itself and runs `gt done`. Then: three MR beads in the rig store, three
POLECAT_DONE messages for the witness, the branches in the bare repo, and the convoy's progress.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import BIN, make_git_repo, run_cli, wait_for


def gt(town: Path, *args: str, cwd: Path | None = None):
    r = run_cli("gt", *args, cwd=cwd or town)
    assert r.returncode == 0, (args, r.stderr)
    return r


def gtj(town: Path, *args: str):
    return json.loads(gt(town, *args, "--json").stdout)


def bd_create(rig_clone: Path, title: str, description: str = "", labels: str = "") -> str:
    args = ["create", title, "--json"] + (["-d", description] if description else []) + (["-l", labels] if labels else [])
    r = run_cli("bd", *args, cwd=rig_clone)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["id"]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


def kill_sessions(town: Path) -> None:
    from gastown_tui.infra.tmux import Tmux
    from gastown_tui.town.layout import Town

    tm = Tmux.for_town(Town(town))
    for s in tm.list_sessions():
        if s.startswith("gt-demo-"):
            tm.kill_session(s)


@pytest.mark.tmux
def test_three_sim_polecats_work_in_parallel(tmp_path):
    project = make_git_repo(tmp_path / "project", {"README.md": "# demo\n", "src/app.py": "print('hi')\n"})
    town = tmp_path / "town"
    gt(tmp_path, "install", str(town), "--owner", "overseer@example.com")
    gt(town, "rig", "add", "demo", str(project))
    clone = town / "demo" / "mayor" / "rig"
    ids = [
        bd_create(clone, "Greet in French", "Change the greeting.\n\n```file: src/app.py\nprint('bonjour')\n```\n"),
        bd_create(clone, "Add a changelog", "file: CHANGELOG.md\n```markdown\n# Changes\n\n- first\n```\n"),
        bd_create(clone, "Think about caching"),
    ]
    conv = gtj(town, "convoy", "create", "First batch", *ids)
    assert conv["total"] == 3
    try:
        env = {**os.environ}
        procs = [subprocess.Popen([str(BIN / "gt"), "sling", i, "demo", "--agent", "sim", "--json"], cwd=town, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in ids]
        outs = [p.communicate(timeout=120) for p in procs]
        assert all(p.returncode == 0 for p in procs), [o[1] for o in outs]
        assignments = [json.loads(o[0])["assignments"][0] for o in outs]
        assert all(json.loads(o[0])["convoy"] is None for o in outs)  # already tracked by our convoy
        names = {a["name"] for a in assignments}
        assert len(names) == 3
        paths = {a["path"] for a in assignments}
        assert len(paths) == 3

        # three POLECAT_DONE messages for the witness
        def done_mail():
            msgs = gtj(town, "mail", "inbox", "demo/witness")
            done = [m for m in msgs if m["subject"].startswith("POLECAT_DONE ")]
            return done if len(done) == 3 else None

        done = wait_for(done_mail, timeout=90, message="three POLECAT_DONE messages")
        assert {m["from"] for m in done} == {f"demo/polecats/{n}" for n in names}

        # three MR beads in the rig store
        r = run_cli("bd", "list", "--type", "merge-request", "--json", cwd=clone)
        assert r.returncode == 0, r.stderr
        mrs = json.loads(r.stdout)
        assert len(mrs) == 3
        assert {m["source_issue"] for m in mrs} == set(ids)
        bare = town / "demo" / ".repo.git"
        heads = set(git(bare, "for-each-ref", "--format=%(refname:short)", "refs/heads/").split())
        for a, mr in ((a, next(m for m in mrs if m["source_issue"] == a["bead"])) for a in assignments):
            assert mr["branch"] == a["branch"] and a["branch"] in heads
            assert git(bare, "rev-parse", a["branch"]).strip() == mr["commit_sha"]
            assert git(bare, "log", "-1", "--format=%an", a["branch"]).strip() == mr["worker"]

        # the work itself, each in its own worktree
        by_bead = {a["bead"]: Path(a["path"]) for a in assignments}
        assert (by_bead[ids[0]] / "src/app.py").read_text() == "print('bonjour')\n"
        assert (by_bead[ids[1]] / "CHANGELOG.md").read_text() == "# Changes\n\n- first\n"
        assert ids[2] in (by_bead[ids[2]] / "work" / f"{ids[2]}.md").read_text()
        assert not (by_bead[ids[0]] / "CHANGELOG.md").exists()
        assert (project / "src/app.py").read_text() == "print('hi')\n"

        # the convoy shows the progress: all three submitted, none merged yet
        st = gtj(town, "convoy", "status", conv["id"])
        assert (st["status"], st["total"], st["closed"]) == ("open", 3, 0)
        assert {b["id"]: b["status"] for b in st["beads"]} == {i: "in_progress" for i in ids}
        assert {b["assignee"] for b in st["beads"]} == {f"demo/polecats/{n}" for n in names}
        assert {p["state"] for p in gtj(town, "polecat", "list", "demo")} == {"idle"}

        # the merge queue lands them (as the refinery will): the convoy lands with the last bead
        for i in ids:
            assert run_cli("bd", "close", i, cwd=clone).returncode == 0
        assert gtj(town, "convoy", "status", conv["id"])["status"] == "closed"
    finally:
        kill_sessions(town)


@pytest.mark.tmux
def test_sim_crash_fault_finishes_after_a_restart(tmp_path):
    project = make_git_repo(tmp_path / "project")
    town = tmp_path / "town"
    gt(tmp_path, "install", str(town), "--owner", "overseer@example.com")
    gt(town, "rig", "add", "demo", str(project))
    clone = town / "demo" / "mayor" / "rig"
    bead = bd_create(clone, "Crashy work", labels="sim:crash")
    from gastown_tui.infra.tmux import Tmux
    from gastown_tui.town.layout import Town

    t = Town(town)
    tm = Tmux.for_town(t)
    try:
        res = gtj(town, "sling", bead, "demo", "--agent", "sim", "--no-convoy")
        session = res["assignments"][0]["session"]
        pane = wait_for(lambda: (p := tm.panes().get(session)) and p.dead and p, timeout=60,
                        message="the sim to crash")
        screen = tm.capture_many([session], ansi=False).get(session, "")
        assert "sim crashed mid-work" in screen and "gt done" not in screen
        # tmux under load sometimes marks the pane dead without ever recording the exit status
        assert pane.dead_status in (3, None), screen
        assert gtj(town, "polecat", "stale")[0]["session"] == session
        from gastown_tui.agents.sessions import start_agent
        from gastown_tui.town.identity import Agent

        start_agent(t, Agent("polecat", "demo", res["assignments"][0]["name"]), runtime="sim")
        msgs = wait_for(lambda: gtj(town, "mail", "inbox", "demo/witness") or None, timeout=60,
                        message="POLECAT_DONE after the restart")
        assert msgs[0]["subject"].startswith("POLECAT_DONE ")
        assert not tm.panes()[session].dead
    finally:
        kill_sessions(town)


@pytest.mark.tmux
def test_sim_faults_and_an_idle_polecat_woken_for_new_work(tmp_path):
    project = make_git_repo(tmp_path / "project", {"README.md": "# demo\nsecond line\n"})
    town = tmp_path / "town"
    gt(tmp_path, "install", str(town), "--owner", "overseer@example.com")
    gt(town, "rig", "add", "demo", str(project))
    clone = town / "demo" / "mayor" / "rig"
    bare = town / "demo" / ".repo.git"
    first = bd_create(clone, "Conflicting work", labels="sim:conflict,sim:fail-tests,sim:slow=0.2")
    try:
        a = gtj(town, "sling", first, "demo", "--agent", "sim", "--no-convoy")["assignments"][0]
        wait_for(lambda: gtj(town, "mail", "inbox", "demo/witness") or None, timeout=60, message="first POLECAT_DONE")
        files = git(bare, "show", "--name-only", "--format=", a["branch"]).split()
        assert sorted(files) == sorted(["README.md", "SIM_TESTS", f"work/{first}.md"])
        readme = git(bare, "show", f"{a['branch']}:README.md").splitlines()
        assert readme[0] != "# demo" and readme[1] == "second line"
        assert git(bare, "show", f"{a['branch']}:SIM_TESTS").strip() == "FAIL"
        usage = (town / ".runtime" / "sim" / "usage.jsonl").read_text().splitlines()
        assert json.loads(usage[0])["simulated"] is True

        # the refinery merged it (fast-forward main) and closed the bead: the polecat is free again
        git(bare, "update-ref", "refs/heads/main", git(bare, "rev-parse", a["branch"]).strip())
        assert run_cli("bd", "close", first, cwd=clone).returncode == 0
        second = bd_create(clone, "Follow-up")
        b = gtj(town, "sling", second, "demo", "--agent", "sim", "--no-convoy")["assignments"][0]
        assert (b["name"], b["spawned"]) == (a["name"], False)
        msgs = wait_for(lambda: (m := gtj(town, "mail", "inbox", "demo/witness")) and len(m) == 2 and m,
                        timeout=60, message="the woken polecat's POLECAT_DONE")
        assert second in msgs[1]["body"]
        assert git(bare, "show", "--name-only", "--format=", b["branch"]).split() == [f"work/{second}.md"]
    finally:
        kill_sessions(town)


def test_hook_and_prime_outside_an_agent_explain_themselves(tmp_path):
    town = tmp_path / "town"
    gt(tmp_path, "install", str(town), "--owner", "overseer@example.com")
    r = run_cli("gt", "hook", cwd=tmp_path, env={"GT_TOWN_ROOT": str(town)})
    assert r.returncode == 1 and "cannot tell which agent you are" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("gt", "prime", cwd=town)  # the town root is the mayor's place
    assert r.returncode == 0 and "mayor" in r.stdout and "gt sling" in r.stdout
