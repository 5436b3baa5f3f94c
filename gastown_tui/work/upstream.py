"""A rig's upstream: the repository `gt rig add` was given, where finished work must end up.

The rig's bare repository (`<rig>/.repo.git`) has it as `origin`. Its branches are fetched into
`refs/remotes/origin/*` (never onto local branches), and the default branch is pushed there by the
refinery after each tested merge — never forced. Crew clones of a rig with a pushable upstream have
it as their own `origin` and push to it directly; the refinery's next fetch brings their commits
into the rig, so polecat worktrees branch from the latest upstream `main`.

"Pushable" means a URL or a local *bare* repository: a local working repository has its own
checkout of the branch (git refuses pushes into it), so such a rig fetches but does not push
unless `merge_queue.push` is set explicitly.

The refinery's record of its last fetch and push (time, commit, error) lives in
`.runtime/upstream/<rig>.json`, so `gt mq status` and `gt doctor` answer without the network.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gastown_tui.errors import GtError
from gastown_tui.town.layout import Town, read_json

REMOTE = "origin"


@dataclass(frozen=True)
class Upstream:
    url: str | None
    pushable: bool  # a URL or a local bare repository
    push: bool  # merge_queue.push, defaulting to `pushable`
    branch: str


def upstream_of(town: Town, rig: str) -> Upstream:
    cfg = town.rig_config(rig)
    url = cfg.get("git_url") or (town.rigs().get(rig) or {}).get("git_url") or None
    url = str(url) if url else None
    from gastown_tui.town.rigs import pushable_url

    pushable = bool(url) and pushable_url(url)
    explicit = (cfg.get("merge_queue") or {}).get("push")
    push = bool(url) and (pushable if explicit is None else bool(explicit))
    return Upstream(url, pushable, push, str(cfg.get("default_branch") or "main"))


# --- the refinery's record -------------------------------------------------------------------------

def _record_path(town: Town, rig: str) -> Path:
    return town.runtime_dir / "upstream" / f"{rig}.json"


def read_record(town: Town, rig: str) -> dict[str, Any]:
    try:
        data = read_json(_record_path(town, rig))
    except (GtError, OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _update_record(town: Town, rig: str, **fields: Any) -> None:
    from gastown_tui.infra.fsutil import file_lock
    from gastown_tui.town.layout import write_json

    path = _record_path(town, rig)
    path.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(town.locks_dir / f"upstream-{rig}.lock"):
        write_json(path, {**read_record(town, rig), **fields})


# --- moving the rig's default branch -----------------------------------------------------------------

def set_default_branch(town: Town, rig: str, branch: str, new: str, old: str) -> None:
    """Compare-and-set the rig's `branch` from `old` to `new`; `refinery/rig` follows when it holds it."""
    from gastown_tui.infra import git

    rp = town.rig(rig)
    git.move_branch(rp.bare_repo, branch, new, old)
    wt = rp.refinery_worktree
    if wt.is_dir() and git.current_branch(wt) == branch:
        # The refinery's checkout is ours alone: bring its files to the branch it holds.
        git.run_git(["reset", "-q", "--hard", "HEAD"], wt)


# --- fetch --------------------------------------------------------------------------------------------

def fetch(town: Town, rig: str, *, timeout: float = 30.0, min_interval: float = 0.0,
          now: float | None = None) -> dict[str, Any]:
    """Fetch the upstream (at most every `min_interval` seconds) and fast-forward the rig's
    default branch to it when the rig has nothing unpushed. Returns what happened; raises
    `RemoteError` when the upstream cannot be reached (the record keeps the error)."""
    from gastown_tui.infra import git

    up = upstream_of(town, rig)
    now = time.time() if now is None else now
    if not up.url:
        return {"fetched": False, "reason": "no upstream"}
    rec = read_record(town, rig)
    last = rec.get("fetched_at")
    if min_interval > 0 and isinstance(last, int | float) and now - last < min_interval:
        return {"fetched": False, "reason": "fetched recently"}
    bare = town.rig(rig).bare_repo
    try:
        git.fetch_upstream(bare, remote=REMOTE, timeout=timeout)
    except git.RemoteError as e:
        _update_record(town, rig, fetched_at=now, fetch_error=str(e))
        raise
    _update_record(town, rig, fetched_at=now, fetch_error=None)
    return {"fetched": True, **catch_up(town, rig)}


def catch_up(town: Town, rig: str) -> dict[str, Any]:
    """Fast-forward the local default branch to the fetched upstream one when it is strictly behind."""
    from gastown_tui.infra import git

    up = upstream_of(town, rig)
    bare = town.rig(rig).bare_repo
    local = git.branch_sha(bare, up.branch)
    remote = git.remote_branch_sha(bare, up.branch, REMOTE)
    if not local or not remote or local == remote:
        return {"moved": False}
    if git.is_ancestor(bare, local, remote):
        set_default_branch(town, rig, up.branch, remote, local)
        return {"moved": True, "from": local, "to": remote}
    return {"moved": False, "diverged": not git.is_ancestor(bare, remote, local)}


def record_push(town: Town, rig: str, commit: str | None, error: str | None = None) -> None:
    if error:
        _update_record(town, rig, push_error=error, push_failed_at=time.time())
    else:
        _update_record(town, rig, pushed_commit=commit, pushed_at=time.time(), push_error=None)


# --- status ---------------------------------------------------------------------------------------------

def status(town: Town, rig: str) -> dict[str, Any]:
    """What is pushed: the rig's default branch against the last-fetched upstream branch."""
    from gastown_tui.infra import git

    up = upstream_of(town, rig)
    bare = town.rig(rig).bare_repo
    local = git.branch_sha(bare, up.branch)
    remote = git.remote_branch_sha(bare, up.branch, REMOTE) if up.url else None
    counts = git.ahead_behind(bare, f"refs/heads/{up.branch}", f"refs/remotes/{REMOTE}/{up.branch}") \
        if local and remote else None
    rec = read_record(town, rig)
    ahead, behind = counts if counts else (None, None)
    return {"upstream": up.url, "branch": up.branch, "push": up.push, "pushable": up.pushable,
            "local": local, "remote": remote, "ahead": ahead, "behind": behind,
            "pushed": bool(up.push and counts is not None and ahead == 0),
            "fetched_at": rec.get("fetched_at"), "fetch_error": rec.get("fetch_error"),
            "pushed_at": rec.get("pushed_at"), "pushed_commit": rec.get("pushed_commit"),
            "push_error": rec.get("push_error")}
