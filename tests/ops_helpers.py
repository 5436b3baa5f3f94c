"""A town that did real sim work, shared by the operations tests (feed, costs, trail, orphans ...).

Built once per test module (it costs two sim polecats' worth of tmux, git and `gt done`): a rig,
two beads slung to sim polecats, both handed in (POLECAT_DONE mail, MR beads, pushed branches).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.conftest import BIN, make_git_repo, run_cli, wait_for


def gt(town: Path, *args: str, cwd: Path | None = None, env: dict | None = None):
    r = run_cli("gt", *args, cwd=cwd or town, env=env)
    assert r.returncode == 0, (args, r.stderr)
    return r


def gtj(town: Path, *args: str):
    return json.loads(gt(town, *args, "--json").stdout)


def bd_create(clone: Path, title: str, description: str = "") -> str:
    r = run_cli("bd", "create", title, "--json", *(["-d", description] if description else []), cwd=clone)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["id"]


def build_worked_town(base: Path) -> dict:
    """Install, add rig 'demo', sling two beads to sim polecats and wait until both are done."""
    project = make_git_repo(base / "project", {"README.md": "# demo\n", "src/app.py": "print('hi')\n"})
    town = base / "town"
    gt(base, "install", str(town), "--owner", "overseer@example.com")
    gt(town, "rig", "add", "demo", str(project))
    clone = town / "demo" / "mayor" / "rig"
    ids = [bd_create(clone, "Greet in French", "```file: src/app.py\nprint('bonjour')\n```\n"),
           bd_create(clone, "Think about caching")]
    procs = [subprocess.Popen([str(BIN / "gt"), "sling", i, "demo", "--agent", "sim", "--json"], cwd=town,
                              env={**os.environ}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in ids]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outs]
    assignments = [json.loads(o[0])["assignments"][0] for o in outs]

    def done_mail():
        msgs = gtj(town, "mail", "inbox", "demo/witness")
        done = [m for m in msgs if m["subject"].startswith("POLECAT_DONE ")]
        return done if len(done) == 2 else None

    wait_for(done_mail, timeout=90, message="two POLECAT_DONE messages")
    return {"town": town, "clone": clone, "beads": ids, "assignments": assignments, "project": project}


def kill_town_sessions(town: Path) -> None:
    from gastown_tui.infra.tmux import Tmux
    from gastown_tui.town.layout import Town

    tm = Tmux.for_town(Town(town))
    for s in tm.list_sessions():
        if s.startswith("gt-demo-"):
            tm.kill_session(s)
