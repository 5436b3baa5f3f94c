"""Helpers shared by the work-distribution tests (sling, done, mail, convoys, polecats, crew)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import run_cli, wait_for


def rig_store(town, rig: str = "demo"):
    from gastown_tui.beads.store import Store

    return Store(town.rig(rig).beads_dir)


def town_store(town):
    from gastown_tui.beads.store import Store

    return Store(town.beads_dir)


def bead(town, title: str, *, rig: str = "demo", description: str = "", labels=(), status: str = "open"):
    return rig_store(town, rig).create(title, description=description, labels=list(labels), status=status)


def gt(town, *args: str, cwd: Path | None = None, env: dict | None = None):
    return run_cli("gt", "--town", str(town.root), *args, cwd=cwd, env=env)


def gt_json(town, *args: str, cwd: Path | None = None, env: dict | None = None):
    r = gt(town, *args, "--json", cwd=cwd, env=env)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def one_sentence(r) -> str:
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    assert "Traceback" not in r.stderr
    return lines[0]


def branches(repo: Path) -> list[str]:
    out = subprocess.run(["git", "-C", str(repo), "for-each-ref", "--format=%(refname:short)", "refs/heads/"],
                         capture_output=True, text=True, check=True)
    return sorted(out.stdout.split())


def worktrees(repo: Path) -> list[str]:
    out = subprocess.run(["git", "-C", str(repo), "worktree", "list", "--porcelain"], capture_output=True, text=True,
                         check=True)
    return [ln.split(" ", 1)[1] for ln in out.stdout.splitlines() if ln.startswith("worktree ")]


def sessions(town) -> list[str]:
    from gastown_tui.infra.tmux import Tmux

    return sorted(Tmux.for_town(town).list_sessions())


def snapshot(town, rig: str = "demo") -> dict:
    """Everything a failed sling must leave as it was."""
    rp = town.rig(rig)
    return {
        "rig_issues": (rp.beads_dir / "issues.jsonl").read_text(),
        "town_issues": (town.beads_dir / "issues.jsonl").read_text(),
        "branches": branches(rp.bare_repo),
        "worktrees": worktrees(rp.bare_repo),
        "polecats": sorted(p.name for p in rp.polecats_dir.iterdir()) if rp.polecats_dir.exists() else [],
        "sessions": sessions(town),
    }


def wait_mail(town, address: str, count: int, timeout: float = 60.0, msg_type: str | None = None):
    from gastown_tui.work.mail import inbox

    return wait_for(lambda: (m := inbox(town, address, msg_type=msg_type)) and len(m) >= count and m,
                    timeout=timeout, message=f"{count} message(s) for {address}")


def add_runtime(town, name: str, command: str, args: list[str] | None = None) -> None:
    """A custom runtime in settings/config.toml (prompt given by nudge, so argv is exactly this)."""
    from gastown_tui.town.config import load_settings

    s = load_settings(town.root)
    s.set(f"agents.{name}.command", command)
    if args is not None:
        s.set(f"agents.{name}.args", args)
    s.save()


@pytest.fixture
def sleeper_town(rig_town):
    """A town with rig 'demo' and a runtime 'sleeper' (`sleep 3600`) that never touches its hook."""
    add_runtime(rig_town, "sleeper", "sleep", ["3600"])
    yield rig_town
    from gastown_tui.infra.tmux import Tmux

    tm = Tmux.for_town(rig_town)
    for s in tm.list_sessions():
        if s.startswith(("gt-demo-", "gt-other-")):
            tm.kill_session(s)


# -- the rig's upstream (issue 15) ----------------------------------------------------------------

def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True, text=True).stdout.strip()


def other_clone(tmp_path: Path, upstream: Path, name: str = "other") -> Path:
    """Somebody else's clone of the upstream (another machine, another town)."""
    dest = tmp_path / name
    subprocess.run(["git", "clone", "-q", str(upstream), str(dest)], check=True)
    return dest


def push_from(clone: Path, path: str, text: str, msg: str) -> str:
    (clone / path).write_text(text)
    _git(clone, "add", "-A")
    _git(clone, "commit", "-q", "-m", msg)
    _git(clone, "push", "-q", "origin", "HEAD:main")
    return _git(clone, "rev-parse", "HEAD")


def upstream_file(upstream: Path, path: str) -> str | None:
    r = subprocess.run(["git", "-C", str(upstream), "show", f"main:{path}"], capture_output=True, text=True)
    return r.stdout if r.returncode == 0 else None
