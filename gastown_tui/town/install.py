"""`gt install`: create a town (DESIGN §3) and make it a git repository with a first commit."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from gastown_tui.errors import GtError, UsageError
from gastown_tui.town.config import DEFAULT_CONFIG
from gastown_tui.town.layout import TOWN_PREFIX, Town, write_json

TOWN_GITIGNORE = """\
# Runtime state: pids, heartbeats, locks, nudge queues, logs
.runtime/
# Ephemeral beads and the store lock
.beads/wisps.jsonl
.beads/.jsonl.lock
.beads/*.tmp
# Rigs' repositories and checkouts are versioned in the rigs themselves
*/.repo.git/
*/mayor/
*/refinery/
*/crew/
*/polecats/
*/witness/
*/.beads/
"""


@dataclass
class InstallResult:
    town: Town
    created: bool  # False: it was already a town and nothing changed


def install_town(path: Path, *, name: str | None = None, owner: str | None = None) -> InstallResult:
    from gastown_tui.beads.store import init_store
    from gastown_tui.infra import git

    root = Path(path).expanduser().absolute()
    town = Town(root.resolve() if root.exists() else root)
    if root.exists() and not root.is_dir():
        raise UsageError(f"{root} is a file, not a directory", hint="choose a new or empty directory for the town")
    if town.is_town():
        return InstallResult(town, created=False)
    if root.exists() and any(root.iterdir()):
        raise UsageError(f"{root} is not empty and is not a Gas Town",
                         hint="choose a new or empty directory, or pass the path of an existing town")
    if name is not None and not name.strip():
        raise UsageError("the town name is empty", hint="pass --name NAME or leave it out")

    git_name, git_email = git.user_identity()
    owner = owner or git_email or "overseer@localhost"
    if "@" not in owner:
        raise UsageError(f"'{owner}' is not an email address", hint="pass --owner you@example.com")
    made_root = not root.exists()
    try:
        root.mkdir(parents=True, exist_ok=True)
        town = Town(root.resolve())
        for d in (town.mayor_dir, town.settings_dir, town.runtime_dir, town.locks_dir, town.heartbeats_dir,
                  town.formulas_dir, town.boot_dir, town.root / "deacon"):
            d.mkdir(parents=True, exist_ok=True)
        created_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        town_info = {"type": "town", "version": 1, "name": name or root.name, "owner": owner,
                     "created_at": created_at}
        write_json(town.rigs_json, {"version": 1, "rigs": {}})
        town.config_toml.write_text(DEFAULT_CONFIG, encoding="utf-8")
        init_store(town.beads_dir, TOWN_PREFIX)
        town.routes_jsonl.write_text(json.dumps({"prefix": f"{TOWN_PREFIX}-", "path": "."},
                                                separators=(",", ":")) + "\n", encoding="utf-8")
        town.events_jsonl.touch()
        (town.root / ".gitignore").write_text(TOWN_GITIGNORE, encoding="utf-8")
        (town.formulas_dir / ".gitkeep").touch()
        (town.boot_dir / ".gitkeep").touch()
        # town.json last: its presence is what makes this directory a town.
        write_json(town.town_json, town_info)
        if not git.is_git_repo(town.root) or git.run_git(["rev-parse", "--show-toplevel"], town.root) != str(town.root):
            git.init_repo(town.root)
        git.commit_all(town.root, f"gt install: create town '{town_info['name']}'",
                       author="mayor", email=owner)
    except BaseException:
        _undo_install(root, made_root)
        raise
    from gastown_tui.town import events

    events.record(town.root, "town.installed", actor="overseer", payload={"name": town_info["name"]})
    return InstallResult(town, created=True)


def _undo_install(root: Path, made_root: bool) -> None:
    import shutil

    if made_root:
        shutil.rmtree(root, ignore_errors=True)
    elif root.is_dir():
        for child in root.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)


def town_summary(town: Town) -> dict:
    info = town.info()
    return {"path": str(town.root), **info, "rigs": sorted(town.rigs()), "tmux_socket": town.tmux_socket}


__all__ = ["install_town", "InstallResult", "town_summary", "GtError"]
