"""Rig management: add (all or nothing), list, show, remove, park/unpark, per-rig config."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gastown_tui.errors import Conflict, GtError, NotFound, UsageError
from gastown_tui.infra.fsutil import atomic_write_text, file_lock
from gastown_tui.infra.safepath import remove_tree
from gastown_tui.town.layout import TOWN_PREFIX, RigPaths, Town, read_json, validate_rig_name, write_json

PREFIX_RE = re.compile(r"^[a-z][a-z0-9]{0,9}$")

# Per-rig settings in <rig>/config.json: key -> (type, default, help)
RIG_KEYS: dict[str, tuple[type, Any, str]] = {
    "merge_queue.test_command": (str, "", "command the refinery runs before merging (empty: no tests)"),
    "merge_queue.timeout_seconds": (int, 600, "time limit for the test command"),
    "merge_queue.enabled": (bool, True, "whether the refinery merges this rig's MRs"),
    "merge_queue.push": (bool, None, "push merged work to the rig's upstream (default: on when the git_url "
                                     "is a URL or a bare repository)"),
    "agent": (str, "", "runtime for this rig's polecats (overrides role_agents.polecat)"),
    "namepool.theme": (str, "", "polecat name theme for this rig"),
    "max_polecats": (int, 10, "most polecats the rig runs at once"),
}


def derive_prefix(name: str) -> str:
    """A short prefix from the rig name: 'gastown' -> 'ga', 'my_app' -> 'ma'."""
    parts = [p for p in name.split("_") if p]
    if len(parts) > 1:
        cand = "".join(p[0] for p in parts)[:4]
    else:
        cand = name[:2]
    return cand if len(cand) >= 2 else name[:3]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _rigs_lock(town: Town):
    return file_lock(town.locks_dir / "rigs.lock")


def _is_url(source: str) -> bool:
    return bool(re.match(r"^[a-z+]+://", source)) or bool(re.match(r"^[\w.-]+@[\w.-]+:", source))


def pushable_url(url: str) -> bool:
    """Whether a rig's git_url takes pushes: a URL or a local repository without a checkout of
    its own. A local working copy (a `.git` inside) is somebody's; git refuses pushes into its
    checked-out branch. A path that is missing is still the upstream, only unreachable."""
    return _is_url(url) or not (Path(url) / ".git").exists()


def _existing_prefix(beads_dir: Path) -> str | None:
    from gastown_tui.beads.store import read_config

    cfg = read_config(beads_dir)
    prefix = cfg.get("issue-prefix") or cfg.get("prefix")
    return prefix.rstrip("-") if prefix else None


def used_prefixes(town: Town) -> dict[str, str]:
    """prefix -> owner ('hq' for the town, else the rig name)."""
    out = {TOWN_PREFIX: "the town"}
    for name, entry in town.rigs().items():
        if entry.get("prefix"):
            out[entry["prefix"]] = name
    return out


def add_rig(town: Town, name: str, source: str, *, prefix: str | None = None, branch: str | None = None) -> dict[str, Any]:
    """Register a project as a rig. Any failure removes everything this call made."""
    from gastown_tui.beads.store import init_store
    from gastown_tui.infra import git

    validate_rig_name(name)
    if prefix is not None and not PREFIX_RE.match(prefix):
        raise UsageError(f"'{prefix}' is not a valid prefix",
                         hint="use 1-10 lowercase letters and digits, starting with a letter")
    if _is_url(source):
        clone_source = source
    else:
        src = Path(source).expanduser()
        if not src.exists():
            raise UsageError(f"{source} does not exist", hint="pass a git URL or the path of a local git repository")
        if not git.is_git_repo(src):
            raise UsageError(f"{source} is not a git repository", hint="run 'git init' there and commit, or pass a git URL")
        clone_source = str(src.resolve())

    rig = town.rig(name)
    with _rigs_lock(town):
        rigs = town.rigs()
        if name in rigs:
            raise Conflict(f"rig '{name}' already exists in this town",
                           hint=f"remove it first with 'gt rig remove {name}' or pick another name")
        if rig.root.exists():
            raise Conflict(f"{rig.root} already exists", hint="move it away or pick another rig name")
        made: list[Path] = [rig.root]
        try:
            rig.root.mkdir(parents=True)
            git.clone_bare(clone_source, rig.bare_repo)
            if branch:
                if not git.branch_exists(rig.bare_repo, branch):
                    raise UsageError(f"branch '{branch}' does not exist in {source}",
                                     hint="pass an existing branch with --branch, or leave it out")
                git.run_git(["symbolic-ref", "HEAD", f"refs/heads/{branch}"], rig.bare_repo)
            default_branch = branch or git.default_branch_of(rig.bare_repo)
            if not git.branch_exists(rig.bare_repo, default_branch):
                raise GtError(f"{source} has no commits on '{default_branch}'",
                              hint="commit something first, or pass --branch")
            rig.mayor_clone.parent.mkdir(parents=True)
            git.clone(rig.bare_repo, rig.mayor_clone, branch=default_branch)
            warnings = _drop_committed_redirect(rig)
            # The mayor's clone holds the rig's beads; `bd sync` there pulls and pushes them
            # through the upstream (other towns share it), so that is its origin. The bare repo
            # takes pushes to the branch refinery/rig has checked out (the refinery resyncs it).
            git_url = source if _is_url(source) else clone_source
            if pushable_url(git_url):
                git.repoint_origin(rig.mayor_clone, git_url, rig.bare_repo, default_branch, fetch=False)
            git.set_config(rig.bare_repo, "receive.denyCurrentBranch", "ignore")
            adopted = _existing_prefix(rig.beads_dir)
            if prefix and adopted and adopted != prefix:
                raise UsageError(f"the project's .beads/ already uses prefix '{adopted}', not '{prefix}'",
                                 hint=f"leave out --prefix or pass --prefix {adopted}")
            final_prefix = prefix or adopted or derive_prefix(name)
            owner = used_prefixes(town).get(final_prefix)
            if owner:
                if prefix or adopted:
                    raise Conflict(f"prefix '{final_prefix}' is already used by {owner}",
                                   hint="pass a different --prefix")
                final_prefix = _free_prefix(final_prefix, set(used_prefixes(town)))
            if adopted is None:
                init_store(rig.beads_dir, final_prefix)
            rig.refinery_worktree.parent.mkdir(parents=True)
            git.worktree_add(rig.bare_repo, rig.refinery_worktree, default_branch)
            for d in (rig.witness_dir, rig.crew_dir, rig.polecats_dir, rig.root / ".beads"):
                d.mkdir(parents=True, exist_ok=True)
            write_redirect(rig.root, rig.beads_dir)
            write_redirect(rig.refinery_worktree, rig.beads_dir)
            git_url = source if _is_url(source) else clone_source
            config = {"type": "rig", "version": 1, "name": name, "git_url": git_url,
                      "default_branch": default_branch, "beads": {"prefix": final_prefix},
                      "merge_queue": {"test_command": "", "timeout_seconds": 600}}
            write_json(rig.config_json, config)
            entry = {"git_url": git_url, "prefix": final_prefix, "added_at": _now()}
            _write_rigs(town, {**rigs, name: entry})
            made.append(town.rigs_json)
            _add_route(town, final_prefix, name)
        except BaseException:
            remove_tree(town.root, rig.root)
            if town.rigs_json in made:
                _write_rigs(town, rigs)
            _remove_route(town, name)
            raise
    git.commit_all(town.root, f"gt rig add {name}: {git_url}", author="mayor", email=town.info().get("owner"))
    from gastown_tui.town import events

    events.record(town.root, "rig.added", rig=name, payload={"git_url": git_url, "prefix": final_prefix})
    summary = rig_summary(town, name)
    if warnings:
        summary["warnings"] = warnings
    return summary


def _drop_committed_redirect(rig: RigPaths) -> list[str]:
    """The mayor's clone holds the rig's canonical store, so a `.beads/redirect` (or a `.beads`
    symlink) committed in the project would send every write elsewhere: it is removed (the
    town writes its own redirects in the other checkouts), with a warning."""
    beads = rig.beads_dir
    if beads.is_symlink():
        target = os.readlink(beads)
        beads.unlink()
        return [f"the project commits .beads as a symlink to {target!r}; the rig keeps its own store instead"]
    red = beads / "redirect"
    if red.is_file() or red.is_symlink():
        try:
            target = red.read_text(encoding="utf-8", errors="replace").strip()[:200]
        except OSError:
            target = "?"
        red.unlink()
        return [f"the project commits .beads/redirect (to {target!r}); replaced by the town's own store"]
    return []


def _free_prefix(base: str, used: set[str]) -> str:
    for i in range(2, 100):
        cand = f"{base}{i}"
        if cand not in used:
            return cand
    raise GtError("could not find a free prefix", hint="pass one with --prefix")


def write_redirect(checkout: Path, canonical_beads: Path) -> None:
    """`<checkout>/.beads/redirect` := the canonical store, relative to the checkout."""
    beads = checkout / ".beads"
    beads.mkdir(parents=True, exist_ok=True)
    rel = os.path.relpath(canonical_beads, checkout)
    atomic_write_text(beads / "redirect", rel + "\n")


def _write_rigs(town: Town, rigs: dict[str, Any]) -> None:
    data = read_json(town.rigs_json) if town.rigs_json.exists() else {"version": 1}
    data["rigs"] = dict(sorted(rigs.items()))
    write_json(town.rigs_json, data)


def _route_lines(town: Town) -> list[dict[str, Any]]:
    if not town.routes_jsonl.exists():
        return []
    out = []
    for line in town.routes_jsonl.read_text(encoding="utf-8").splitlines():
        if line.strip():
            out.append(json.loads(line))
    return out


def _write_routes(town: Town, routes: list[dict[str, Any]]) -> None:
    atomic_write_text(town.routes_jsonl, "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in routes))


def _add_route(town: Town, prefix: str, rig_name: str) -> None:
    routes = [r for r in _route_lines(town) if r.get("prefix") != f"{prefix}-"]
    routes.append({"prefix": f"{prefix}-", "path": f"{rig_name}/mayor/rig"})
    _write_routes(town, routes)


def _remove_route(town: Town, rig_name: str) -> None:
    routes = _route_lines(town)
    keep = [r for r in routes if r.get("path") != f"{rig_name}/mayor/rig"]
    if keep != routes:
        _write_routes(town, keep)


def rig_summary(town: Town, name: str) -> dict[str, Any]:
    entry = town.rigs()[name]
    rig = town.rig(name)
    cfg = read_json(rig.config_json) if rig.config_json.exists() else {}
    polecats = sorted(p.name for p in rig.polecats_dir.iterdir() if p.is_dir()) if rig.polecats_dir.is_dir() else []
    crew = sorted(p.name for p in rig.crew_dir.iterdir() if p.is_dir()) if rig.crew_dir.is_dir() else []
    return {
        "name": name,
        "prefix": entry.get("prefix"),
        "git_url": entry.get("git_url"),
        "default_branch": cfg.get("default_branch", "main"),
        "parked": bool(entry.get("parked", False)),
        "added_at": entry.get("added_at"),
        "path": str(rig.root),
        "polecats": polecats,
        "crew": crew,
        "config": {k: v for k, v in cfg.items() if k not in ("type", "version", "name", "git_url", "default_branch", "beads")},
    }


def list_rigs(town: Town) -> list[dict[str, Any]]:
    return [rig_summary(town, name) for name in sorted(town.rigs())]


def set_parked(town: Town, name: str, parked: bool) -> bool:
    """Park (or unpark) a rig; return False when it already was in that state."""
    with _rigs_lock(town):
        rigs = town.rigs()
        if name not in rigs:
            town.require_rig(name)
        if bool(rigs[name].get("parked")) == parked:
            return False
        entry = dict(rigs[name])
        if parked:
            entry["parked"] = True
        else:
            entry.pop("parked", None)
        rigs[name] = entry
        _write_rigs(town, rigs)
    from gastown_tui.infra import git

    git.commit_all(town.root, f"gt rig {'park' if parked else 'unpark'} {name}", author="mayor",
                   email=town.info().get("owner"), paths=[str(town.rigs_json.relative_to(town.root))])
    from gastown_tui.town import events

    events.record(town.root, "rig.parked" if parked else "rig.unparked", rig=name)
    return True


def remove_rig(town: Town, name: str, *, force: bool = False, live_sessions: list[str] | None = None,
               before_delete: Callable[[], object] | None = None) -> None:
    """Unregister a rig and delete its directory. Refuses unmerged polecat work without force.

    `before_delete` runs once the rig is unregistered (no supervisor restarts its agents any more)
    and before its directory goes: the caller stops the rig's sessions there."""
    from gastown_tui.infra import git

    rig = town.require_rig(name)
    if live_sessions and not force:
        raise Conflict(f"rig '{name}' has running sessions: {', '.join(live_sessions)}",
                       hint="stop them first or pass --force")
    if not force:
        unmerged = unmerged_branches(rig)
        if unmerged:
            raise Conflict(f"rig '{name}' has {len(unmerged)} branch(es) not merged into its default branch "
                           f"({', '.join(unmerged[:3])}{'...' if len(unmerged) > 3 else ''})",
                           hint="merge or delete them, or pass --force to discard them")
    with _rigs_lock(town):
        rigs = town.rigs()
        prefix = rigs[name].get("prefix")
        rigs.pop(name)
        _write_rigs(town, rigs)
        _remove_route(town, name)
    if before_delete is not None:
        before_delete()
    remove_tree(town.root, rig.root)
    git.commit_all(town.root, f"gt rig remove {name}", author="mayor", email=town.info().get("owner"))
    from gastown_tui.town import events

    events.record(town.root, "rig.removed", rig=name, payload={"prefix": prefix})


def unmerged_branches(rig: RigPaths) -> list[str]:
    from gastown_tui.infra import git

    if not rig.bare_repo.exists():
        return []
    cfg = read_json(rig.config_json) if rig.config_json.exists() else {}
    base = cfg.get("default_branch", "main")
    out = git.run_git(["for-each-ref", "--format=%(refname:short)", "--no-merged", base, "refs/heads/"],
                      rig.bare_repo, check=False)
    return [b for b in out.splitlines() if b.strip()]


# --- per-rig config -------------------------------------------------------------------------

def _rig_key(key: str) -> tuple[type, Any, str]:
    if key not in RIG_KEYS:
        raise UsageError(f"'{key}' is not a rig setting", hint="rig settings: " + ", ".join(RIG_KEYS))
    return RIG_KEYS[key]


def rig_config_get(town: Town, name: str, key: str) -> Any:
    typ, default, _ = _rig_key(key)
    node: Any = read_json(town.require_rig(name).config_json)
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


def rig_config_set(town: Town, name: str, key: str, raw: str | None) -> Any:
    """Set (raw is text from the command line) or unset (raw None) a per-rig setting."""
    typ, default, _ = _rig_key(key)
    value: Any = None
    if raw is not None:
        try:
            if typ is bool:
                if raw.lower() not in ("true", "false", "yes", "no", "on", "off", "1", "0"):
                    raise ValueError
                value = raw.lower() in ("true", "yes", "on", "1")
            else:
                value = typ(raw)
        except ValueError:
            kind = {int: "an integer", bool: "true or false"}.get(typ, typ.__name__)
            raise UsageError(f"'{key}' takes {kind}, not '{raw}'",
                             hint=f"for example: gt rig config set {name} {key} {default!r}") from None
    rig = town.require_rig(name)
    with _rigs_lock(town):
        cfg = read_json(rig.config_json)
        parts = key.split(".")
        node = cfg
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        if raw is None:
            node.pop(parts[-1], None)
        else:
            node[parts[-1]] = value
        write_json(rig.config_json, cfg)
    from gastown_tui.infra import git

    git.commit_all(town.root, f"gt rig config {name}: {key}", author="mayor", email=town.info().get("owner"),
                   paths=[str(rig.config_json.relative_to(town.root))])
    return value


__all__ = ["add_rig", "list_rigs", "rig_summary", "remove_rig", "set_parked", "rig_config_get",
           "rig_config_set", "RIG_KEYS", "NotFound", "write_redirect"]
