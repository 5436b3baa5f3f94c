"""Nuking polecats: the agent side goes (`agents/polecats.remove_polecat`) and the bead on its
hook goes back to the pool (open, unassigned), so no work is lost with the worker.
"""

from __future__ import annotations

from typing import Any

from gastown_tui.errors import GtError
from gastown_tui.town.identity import Agent
from gastown_tui.town.layout import Town


def nuke_polecat(town: Town, rig: str, name: str, *, force: bool = False) -> dict[str, Any]:
    """Remove a polecat entirely: session, worktree, branch, name, agent bead; its hooked bead reopens.

    Without `force`, refuses when the worktree has uncommitted changes or commits not merged into
    the default branch (they would be lost); nothing is changed then.
    """
    from gastown_tui.agents.polecats import remove_polecat
    from gastown_tui.town import events
    from gastown_tui.work.hook import hooked

    try:
        held = hooked(town, Agent("polecat", rig, name))
    except GtError:
        held = None
    res = remove_polecat(town, rig, name, force=force)
    reopened = None
    if held is not None:
        try:
            from gastown_tui.beads.routes import store_for_id

            store_for_id(town.root, held.id).update(held.id, status="open", assignee=None)
            reopened = held.id
        except GtError:
            pass
    events.record(town.root, "polecat.nuked", rig=rig,
                  payload={"name": name, "branch": res["branch"], "reopened": reopened})
    return {**res, "reopened": reopened}


def gc_polecats(town: Town, rig: str | None = None) -> list[dict[str, Any]]:
    """Nuke polecats that hold nothing: not alive or idle/done, no hook, no unmerged or uncommitted work."""
    from gastown_tui.agents.polecats import list_polecats, unmerged_work

    removed = []
    for p in list_polecats(town, rig):
        if p["hook_bead"] and p["recorded_state"] not in ("idle", "done", "dead"):
            continue
        if p["session_alive"] and p["recorded_state"] not in ("idle", "done"):
            continue
        ahead, dirty, _ = unmerged_work(town, p["rig"], p["name"])
        if ahead or dirty:
            continue
        removed.append(nuke_polecat(town, p["rig"], p["name"], force=False))
    return removed
