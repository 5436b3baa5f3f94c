"""Orphans — things that belong to nothing — and their cleanup (`gt orphans`, `gt cleanup`).

Kinds: sessions no agent owns, polecat worktrees with no session, hook or MR, polecat branches
with no worktree and no MR (`deacon.find_orphans` decides those three), heartbeats of stopped
sessions, trail logs of agents that no longer exist, beads hooked to polecats that no longer
exist, request files left in a store's `.pending/` by processes that died, and runtime helper
processes (Codex's app-server daemon) of agents whose session is gone.

Cleanup removes only what is safe: a worktree or branch holding work not merged into the rig's
default branch (or uncommitted changes) stays unless `force`; a bead is never deleted, only put
back in the ready pool (open, unassigned). Nothing here prints.
"""

from __future__ import annotations

import os
import time
from typing import Any

from gastown_tui.town.identity import Agent, agent_from_session
from gastown_tui.work.hook import HELD_STATUSES
from gastown_tui.town.layout import Town

KINDS = ("sessions", "worktrees", "branches", "heartbeats", "trails", "beads", "pending", "processes")
RUNTIME_HOMES = ("codex", "claude")  # per-agent runtime homes under .runtime/ (agents/runtime_setup.py)
PENDING_GRACE_SECONDS = 300.0  # a queued request younger than this may still be in flight


def _pid_alive(pid: int) -> bool:
    from gastown_tui.infra.pids import pid_alive

    return pid_alive(pid)


def _agent_exists(town: Town, agent: Agent | None) -> bool:
    if agent is None:
        return False
    if agent.role == "polecat":
        return town.rig(agent.rig).polecat(agent.name).is_dir()
    if agent.role == "crew":
        return town.rig(agent.rig).crew(agent.name).is_dir()
    return agent.rig is None or agent.rig in town.rigs()


def _stores(town: Town) -> list[tuple[str | None, Any]]:
    from gastown_tui.beads.store import Store

    out: list[tuple[str | None, Any]] = [(None, Store(town.beads_dir))] if town.beads_dir.is_dir() else []
    for rig in sorted(town.rigs()):
        bd = town.rig(rig).beads_dir
        if bd.is_dir():
            out.append((rig, Store(bd)))
    return out


def find(town: Town, tmux, *, now: float | None = None) -> dict[str, list[dict[str, Any]]]:
    """Every orphan, by kind; each item says what it is and whether cleanup may remove it."""
    from gastown_tui.agents import trail
    from gastown_tui.agents.polecats import unmerged_work
    from gastown_tui.infra import git
    from gastown_tui.patrols.deacon import find_orphans
    from gastown_tui.agents.heartbeat import all_heartbeats

    now = time.time() if now is None else now
    rigs = town.rigs()
    panes = tmux.panes()
    sessions, worktrees, branches = find_orphans(town, panes)
    out: dict[str, list[dict[str, Any]]] = {k: [] for k in KINDS}
    out["sessions"] = [{"id": s, "safe": True, "why": "no agent owns this session"} for s in sessions]
    for w in worktrees:
        rig, _, name = w.partition("/")
        ahead, dirty, branch = unmerged_work(town, rig, name)
        why = "no session, no hooked work and no merge request"
        held = ([f"{ahead} unmerged commit(s)"] if ahead else []) + (["uncommitted changes"] if dirty else [])
        if held:
            why += " — but it holds " + " and ".join(held)
        out["worktrees"].append({"id": w, "rig": rig, "name": name, "branch": branch, "unmerged_commits": ahead,
                                 "uncommitted": dirty, "safe": not ahead and not dirty, "why": why})
    for b in branches:
        rig, _, br = b.partition(":")
        base = str(town.rig_config(rig).get("default_branch") or "main")
        merged = git.git_ok(["merge-base", "--is-ancestor", br, base], town.rig(rig).bare_repo)
        out["branches"].append({"id": b, "rig": rig, "branch": br, "merged": merged, "safe": merged,
                                "why": "no worktree and no merge request" + ("" if merged else f" — not merged into {base}")})
    for sess in sorted(all_heartbeats(town)):
        if sess not in panes:
            out["heartbeats"].append({"id": sess, "safe": True, "why": "its session is not running"})
    for sess in trail.sessions_with_logs(town):
        if sess not in panes and not _agent_exists(town, agent_from_session(sess, rigs)):
            out["trails"].append({"id": sess, "safe": True, "why": "output log of an agent that no longer exists"})
    for rig, store in _stores(town):
        for iss in store.list(status=HELD_STATUSES):
            who = iss.assignee or ""
            if "/polecats/" not in who:
                continue
            try:
                from gastown_tui.town.identity import parse_address

                agent = parse_address(who)
            except Exception:  # noqa: BLE001 - an assignee that is no address is not a polecat's
                continue
            if agent.rig in rigs and not _agent_exists(town, agent):
                out["beads"].append({"id": iss.id, "rig": rig, "assignee": who, "status": iss.status, "safe": True,
                                     "why": f"{iss.status} on {who}, which no longer exists (cleanup reopens it)"})
        pending = store.beads_dir / ".pending"
        try:
            entries = sorted(os.listdir(pending))
        except OSError:
            entries = []
        for e in entries:
            stem, dot, ext = e.rpartition(".")
            parts = stem.split("-")
            if not dot or ext not in ("fifo", "req", "res") or len(parts) < 2 or not parts[1].isdigit():
                continue
            try:
                age = now - os.lstat(pending / e).st_mtime
            except OSError:
                continue
            if age > PENDING_GRACE_SECONDS and not _pid_alive(int(parts[1])):
                out["pending"].append({"id": f"{store.beads_dir}/.pending/{e}", "store": str(store.beads_dir),
                                       "file": e, "safe": True, "why": f"left by process {parts[1]}, which is gone"})
    out["processes"] = runtime_helpers(town, panes)
    return out


def runtime_helpers(town: Town, panes: dict) -> list[dict[str, Any]]:
    """Processes running from an agent's private runtime home (`.runtime/codex/<session>/`, where
    Codex installs and starts its app-server daemon) while that agent's session is not running:
    nothing stops them otherwise, and a day of polecats would leave hundreds."""
    from gastown_tui.infra.pids import processes_under

    out = []
    for kind in RUNTIME_HOMES:
        base = os.path.join(town.runtime_dir, kind)
        try:
            sessions = sorted(os.listdir(base))
        except OSError:
            continue
        for sess in sessions:
            if sess in panes or sess.startswith("."):
                continue
            root = os.path.join(base, sess)
            for pid, exe in sorted(processes_under(root).items()):
                out.append({"id": str(pid), "pid": pid, "session": sess, "root": root, "exe": exe, "safe": True,
                            "why": f"{kind} helper of {sess}, whose session is not running"})
    return out


def stop_runtime_helpers(town: Town, panes: dict) -> list[dict[str, Any]]:
    """SIGTERM every orphaned runtime helper (see `runtime_helpers`); returns those signalled."""
    from gastown_tui.infra.pids import terminate_under

    return [item for item in runtime_helpers(town, panes) if terminate_under(item["pid"], item["root"])]


def cleanup(town: Town, tmux, *, dry_run: bool = False, force: bool = False,
            kinds: tuple[str, ...] = KINDS) -> dict[str, Any]:
    """Remove the safe orphans (all of them with `force`); returns what was (or would be) done and kept."""
    from gastown_tui.agents import trail
    from gastown_tui.work.nuke import nuke_polecat
    from gastown_tui.errors import GtError
    from gastown_tui.infra import git
    from gastown_tui.infra.fsutil import file_lock
    from gastown_tui.agents.heartbeat import remove_heartbeat

    found = find(town, tmux)
    done: list[dict[str, Any]] = []
    kept: list[dict[str, Any]] = []
    for kind in kinds:
        for item in found.get(kind, []):
            if not item["safe"] and not force:
                kept.append({"kind": kind, **item})
                continue
            entry = {"kind": kind, "id": item["id"], "why": item["why"]}
            if dry_run:
                done.append(entry)
                continue
            try:
                if kind == "sessions":
                    tmux.kill_session(item["id"])
                elif kind == "worktrees":
                    nuke_polecat(town, item["rig"], item["name"], force=True)  # `safe` (or force) decided above
                elif kind == "branches":
                    git.delete_branch(town.rig(item["rig"]).bare_repo, item["branch"], force=True)
                elif kind == "heartbeats":
                    remove_heartbeat(town, item["id"])
                elif kind == "trails":
                    for suffix in ("", ".1"):
                        try:
                            os.unlink(str(trail.log_path(town, item["id"])) + suffix)
                        except FileNotFoundError:
                            pass
                elif kind == "beads":
                    _reopen(town, item)
                elif kind == "pending":
                    _remove_pending(item, file_lock)
                elif kind == "processes":
                    from gastown_tui.infra.pids import terminate_under

                    if not terminate_under(item["pid"], item["root"]):
                        continue  # it ended (or the pid is another program's now): nothing done
            except GtError as e:
                kept.append({"kind": kind, **item, "error": str(e)})
                continue
            done.append(entry)
    if done and not dry_run:
        from gastown_tui.town import events

        events.record(town.root, "cleanup", payload={"removed": len(done), "kinds": sorted({d["kind"] for d in done})})
    return {"dry_run": dry_run, "removed": done, "kept": kept}


def _reopen(town: Town, item: dict[str, Any]) -> None:
    """Back to the pool — decided again under the store's lock: only if still on that missing polecat."""
    from gastown_tui.beads.routes import store_for_id

    store = store_for_id(town.root, item["id"])
    with store.transaction(actor="deacon") as tx:
        iss = tx.get(item["id"])
        if iss.assignee == item["assignee"] and iss.status in HELD_STATUSES:
            tx.update(iss.id, status="open", assignee=None,
                      notes=((iss.data.get("notes") or "") + f"\nReopened by gt cleanup: {item['assignee']} no longer exists.").strip())


def _remove_pending(item: dict[str, Any], file_lock) -> None:
    from pathlib import Path

    from gastown_tui.beads.store import Store

    store = Store(Path(item["store"]))
    path = store.beads_dir / ".pending" / item["file"]
    with file_lock(store.lock_path):  # no combiner is reading the queue while we tidy it
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
