"""Polecats: ephemeral workers, each in its own worktree of the rig's bare repo (DESIGN §3, §7).

spawn_polecat  name from the pool -> agent bead ("spawning") -> (caller claims the bead) ->
               `git worktree add -b polecat/<name>/<bead>-<base36 time>` from the default branch ->
               `.beads/redirect` -> tmux session with the runtime and the beacon prompt. Every step registers its undo
               on an `Undo` so the caller can roll the whole sling back.
remove_polecat kill the session, remove the worktree and branch, free the name, retire the agent
               bead; refuses to discard unmerged commits or uncommitted changes without `force`
               (`work/nuke.py` adds giving its hooked work back).
list_polecats  one row per polecat of a rig (or the town), with liveness from ONE tmux call.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gastown_tui.errors import Conflict, GtError, NotFound
from gastown_tui.infra.safepath import remove_tree
from gastown_tui.town.identity import Agent
from gastown_tui.town.layout import Town, read_json


class Undo:
    """A stack of compensating actions, run newest first; each failure is swallowed and recorded."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, Callable[[], Any]]] = []
        self.errors: list[str] = []

    def push(self, what: str, fn: Callable[[], Any]) -> None:
        self.steps.append((what, fn))

    def run(self) -> None:
        while self.steps:
            what, fn = self.steps.pop()
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - keep undoing the rest
                self.errors.append(f"{what}: {e}")

    def clear(self) -> None:
        self.steps.clear()


def purge(store, issue_id: str) -> None:
    """Remove a record this operation created, leaving no tombstone (rollback only).

    The store's public API deletes by tombstoning; a rolled-back sling must leave no trace, so
    this drops the line from the image inside a locked transaction.
    """
    with store.transaction() as tx:
        for img in (tx._main(), tx._wisps()):
            if issue_id in img:
                img.remove(issue_id)


def restore(store, record: dict) -> None:
    """Put a record back exactly as it was (rollback only)."""
    store.put(dict(record))


def base36_time(ns: int | None = None) -> str:
    n = int((time.time_ns() if ns is None else ns) // 1_000_000)  # milliseconds
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out or "0"


def branch_name(name: str, bead_id: str) -> str:
    from gastown_tui.beads import ids

    return f"polecat/{name}/{ids.check_id(bead_id, 'bead')}-{base36_time()}"


def default_branch(town: Town, rig: str) -> str:
    cfg_path = town.rig(rig).config_json
    cfg = read_json(cfg_path) if cfg_path.exists() else {}
    return cfg.get("default_branch") or "main"


def polecat_runtime(town: Town, rig: str, explicit: str | None = None) -> str:
    """--agent, else the rig's `agent` setting, else role_agents.polecat, else default_agent."""
    if explicit:
        return explicit
    cfg_path = town.rig(rig).config_json
    cfg = read_json(cfg_path) if cfg_path.exists() else {}
    if cfg.get("agent"):
        return str(cfg["agent"])
    from gastown_tui.agents.sessions import agent_runtime_name

    return agent_runtime_name(town, Agent("polecat", rig, "x"))


def check_runtime(town: Town, name: str):
    """The Runtime for `name`; UsageError for an unknown one (before anything is changed)."""
    from gastown_tui.agents.runtimes import get_runtime
    from gastown_tui.town.config import load_settings

    return get_runtime(name, load_settings(town.root))


def _max_polecats(town: Town, rig: str) -> int:
    from gastown_tui.town.rigs import rig_config_get

    try:
        return int(rig_config_get(town, rig, "max_polecats"))
    except (GtError, TypeError, ValueError):
        return 10


def _exclude_redirect(bare_repo: Path) -> None:
    """Keep `.beads/redirect` out of every worktree's commits (info/exclude is shared by worktrees)."""
    path = bare_repo / "info" / "exclude"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    if ".beads/redirect" not in text.splitlines():
        from gastown_tui.infra.fsutil import atomic_write_text

        atomic_write_text(path, text + ("" if text.endswith("\n") or not text else "\n") + ".beads/redirect\n")


def create_worktree(town: Town, rig: str, bead_id: str, undo: Undo, *, name: str | None = None,
                    before_checkout: Callable[[str], Any] | None = None) -> dict[str, Any]:
    """Allocate a name and make its worktree on a fresh branch; returns {name, path, branch, base}.

    `before_checkout(name)` runs once the name is ours and before the (slow) git work: a sling
    claims its bead there, so a sling that loses the bead to another gives up before checking out.
    """
    from gastown_tui.agents import namepool
    from gastown_tui.infra import git
    from gastown_tui.town.rigs import write_redirect

    rp = town.require_rig(rig)
    base = default_branch(town, rig)
    name, path = namepool.allocate(town, rig, preferred=name)
    undo.push(f"free name {name}", lambda: (remove_tree(rp.polecats_dir, path), namepool.release(town, rig, name)))
    limit = _max_polecats(town, rig)
    if len(namepool.names_in_use(town, rig)) > limit:
        raise Conflict(f"rig '{rig}' already has {limit} polecat(s), its max_polecats",
                       hint=f"free some with 'gt polecat gc {rig}' or raise it with 'gt rig config set {rig} max_polecats N'")
    if before_checkout is not None:
        before_checkout(name)
    branch = branch_name(name, bead_id)
    git.worktree_add(rp.bare_repo, path, branch, new_branch=True, base=base)
    undo.push(f"delete branch {branch}", lambda: git.delete_branch(rp.bare_repo, branch, force=True))
    undo.push(f"remove worktree {path}", lambda: git.worktree_remove(rp.bare_repo, path, force=True))
    _exclude_redirect(rp.bare_repo)
    write_redirect(path, rp.beads_dir)
    return {"name": name, "path": path, "branch": branch, "base": base}


def start_session(town: Town, agent: Agent, runtime: str, undo: Undo, *, prompt: str | None = None):
    """Start the agent's session; fails (for rollback) when the runtime's program cannot run."""
    from gastown_tui.agents.sessions import beacon, start_agent, stop_agent

    rt = check_runtime(town, runtime)
    program = rt.command(None)[0] if rt.command(None) else ""
    if not program or (shutil.which(program) is None and not Path(program).is_file()):
        raise GtError(f"cannot start runtime '{runtime}': program '{program}' was not found",
                      hint="install it, or pick another runtime with --agent (for example --agent sim)")
    info = start_agent(town, agent, runtime=rt.name, prompt=prompt or beacon(agent))
    undo.push(f"stop session {agent.session}", lambda: stop_agent(town, agent))
    if info.dead:
        raise GtError(f"runtime '{runtime}' exited at once in {agent.session} (status {info.dead_status})",
                      hint="check the runtime's command with 'gt config get agents'")
    return info


def spawn_polecat(town: Town, rig: str, bead_id: str, *, runtime: str, undo: Undo,
                  name: str | None = None, hook: Callable[[Agent], Any] | None = None,
                  start: bool = True, model: str | None = None) -> dict[str, Any]:
    """Make a new polecat for `bead_id`: name, agent bead, (hook), worktree, redirect, session.

    `hook(agent)` runs after the agent bead exists and before the worktree is made and the session
    starts, so a lost claim costs no checkout and the agent finds its work on the first `gt prime`.
    All steps push their undo onto `undo`; the caller runs `undo.run()` if anything later fails.
    """
    from gastown_tui.agents import agent_beads

    def claim(name: str) -> None:  # before the checkout: "spawning" tells the witness and other slings
        agent = Agent("polecat", rig, name)
        prev = agent_beads.get(town, agent)
        agent_beads.upsert(town, agent, agent_state="spawning", hook_bead=bead_id, runtime=runtime,
                           model=model or "")
        if prev is None:
            undo.push(f"delete agent bead of {agent.address}",
                      lambda: purge(agent_beads._store(town), agent_beads.agent_bead_id(agent)))
        else:
            snapshot = prev.to_json()
            undo.push(f"restore agent bead of {agent.address}", lambda: restore(agent_beads._store(town), snapshot))
        if hook is not None:
            hook(agent)

    wt = create_worktree(town, rig, bead_id, undo, name=name, before_checkout=claim)
    agent = Agent("polecat", rig, wt["name"])
    agent_beads.upsert(town, agent, branch=wt["branch"])
    if start:
        start_session(town, agent, runtime, undo)
    agent_beads.set_state(town, agent, "working")
    return {"agent": agent, "name": wt["name"], "path": str(wt["path"]), "branch": wt["branch"],
            "base": wt["base"], "session": agent.session, "spawned": True}


# --- reading -------------------------------------------------------------------------------------

def polecat_names(town: Town, rig: str) -> list[str]:
    from gastown_tui.agents.namepool import names_in_use

    return names_in_use(town, rig)


def live_panes(town: Town) -> dict:
    """Every pane of the town's tmux server by session, in ONE tmux call ({} when no server runs)."""
    try:
        from gastown_tui.infra.tmux import Tmux

        return Tmux.for_town(town).panes()
    except Exception:  # noqa: BLE001 - no tmux server yet: nobody is alive
        return {}


def list_polecats(town: Town, rig: str | None = None, *, panes: dict | None = None) -> list[dict[str, Any]]:
    """Every polecat (worktree directory) of a rig or of the town, with state and liveness."""
    from gastown_tui.agents import agent_beads

    rigs = [rig] if rig else sorted(town.rigs())
    if rig:
        town.require_rig(rig)
    panes = live_panes(town) if panes is None else panes
    beads = {a.address: b for a, b in agent_beads.list_agents(town, role="polecat", include_closed=True)}
    out = []
    for r in rigs:
        for name in polecat_names(town, r):
            agent = Agent("polecat", r, name)
            b = beads.get(agent.address)
            pane = panes.get(agent.session)
            alive = pane is not None and not pane.dead
            state = (b.get("agent_state") if b is not None else None) or "unknown"
            if not alive and state in ("working", "spawning"):
                state_note = "dead"
            else:
                state_note = state
            out.append({
                "name": name, "rig": r, "address": agent.address, "session": agent.session,
                "path": str(town.rig(r).polecat(name)), "state": state_note, "recorded_state": state,
                "hook_bead": (b.get("hook_bead") if b is not None else None) or None,
                "branch": (b.get("branch") if b is not None else None) or None,
                "runtime": (b.get("runtime") if b is not None else None) or None,
                "session_alive": alive,
            })
    return out


def polecat_status(town: Town, rig: str, name: str) -> dict[str, Any]:
    """One polecat in detail: the list row plus git facts (branch, commits ahead, dirty)."""
    from gastown_tui.infra import git

    rows = [p for p in list_polecats(town, rig) if p["name"] == name]
    if not rows:
        raise NotFound(f"no polecat '{name}' in rig '{rig}'", hint=f"list them with 'gt polecat list {rig}'")
    row = dict(rows[0])
    path = Path(row["path"])
    base = default_branch(town, rig)
    try:
        row["branch"] = git.current_branch(path)
        row["commits_ahead"] = git.commits_ahead(path, "HEAD", base)
        row["dirty"] = bool(git.status_porcelain(path).strip())
        row["head"] = git.head_sha(path)
    except GtError:
        row.update(commits_ahead=None, dirty=None, head=None)
    return row


def unmerged_work(town: Town, rig: str, name: str) -> tuple[int, bool, str | None]:
    """(commits not in the default branch, uncommitted changes?, branch) of a polecat's worktree."""
    from gastown_tui.infra import git

    path = town.rig(rig).polecat(name)
    if not (path / ".git").exists():
        return 0, False, None
    base = default_branch(town, rig)
    try:
        branch = git.current_branch(path)
        ahead = git.commits_ahead(path, "HEAD", base)
        dirty = bool([ln for ln in git.status_porcelain(path).splitlines() if ln.strip()])
    except GtError:
        return 0, False, None
    return ahead, dirty, branch


def remove_polecat(town: Town, rig: str, name: str, *, force: bool = False) -> dict[str, Any]:
    """Remove a polecat's agent side: session, worktree, branch, name, agent bead.

    Without `force`, refuses when the worktree has uncommitted changes or commits not merged into
    the default branch (they would be lost). Its hooked work is the caller's (`work/nuke.py`).
    """
    from gastown_tui.agents import agent_beads
    from gastown_tui.agents.sessions import stop_agent
    from gastown_tui.infra import git

    rp = town.require_rig(rig)
    path = rp.polecat(name)
    agent = Agent("polecat", rig, name)
    if not path.exists() and agent_beads.get(town, agent) is None:
        raise NotFound(f"no polecat '{name}' in rig '{rig}'", hint=f"list them with 'gt polecat list {rig}'")
    ahead, dirty, branch = unmerged_work(town, rig, name)
    if not force and (ahead or dirty):
        what = []
        if ahead:
            what.append(f"{ahead} unmerged commit(s) on {branch}")
        if dirty:
            what.append("uncommitted changes")
        raise Conflict(f"polecat '{name}' has {' and '.join(what)}",
                       hint=f"finish with 'gt done' or pass --force to discard them (gt polecat nuke {name} --force)")
    stop_agent(town, agent)
    if path.exists():
        try:
            git.worktree_remove(rp.bare_repo, path, force=True)
        except GtError:
            remove_tree(rp.polecats_dir, path)
            git.run_git(["worktree", "prune"], rp.bare_repo, check=False)
    if branch and branch.startswith("polecat/") and git.branch_exists(rp.bare_repo, branch):
        git.delete_branch(rp.bare_repo, branch, force=True)
    agent_beads.retire(town, agent)
    return {"name": name, "rig": rig, "branch": branch}


def stale_polecats(town: Town, rig: str | None = None) -> list[dict[str, Any]]:
    """Polecats recorded as working whose session is gone or dead."""
    return [p for p in list_polecats(town, rig) if p["recorded_state"] in ("working", "spawning")
            and not p["session_alive"]]


def find_idle_polecat(town: Town, rig: str, *, panes: dict | None = None) -> dict[str, Any] | None:
    """An idle polecat that can take new work: no hook, clean worktree, nothing unmerged."""
    for p in list_polecats(town, rig, panes=panes):
        if p["recorded_state"] != "idle" or p["hook_bead"]:
            continue
        ahead, dirty, _ = unmerged_work(town, rig, p["name"])
        if ahead or dirty:
            continue
        return p
    return None
