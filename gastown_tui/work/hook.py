"""The hook: the bead an agent must work on (`status: hooked`, `assignee: <address>`).

This is the one definition (`on_hook`, `hooks_by_agent`): `gt status`, `gt hook`, the witness,
the deacon and the cockpit all ask it. `in_progress` is not a hook: `gt done` leaves the handed-in
bead `in_progress` while it waits for the merge.

`whoami` answers "which agent is this process?" from `GT_ROLE`/`BD_ACTOR`, else from the working
directory inside the town. `hooked` finds the agent's hooked bead: first through the agent bead's
`hook_bead`, then by scanning the rig's store (so a hook set by hand with `bd` is still found).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from gastown_tui.errors import Conflict, NotFound
from gastown_tui.town.identity import Agent, agent_from_env, parse_address
from gastown_tui.town.layout import Town


HOOK_STATUS = "hooked"
# A bead an agent holds: on its hook, or being worked (`gt done` moves it to in_progress while
# its merge request waits). Never slung again, reopened or counted as free while it is so.
HELD_STATUSES = (HOOK_STATUS, "in_progress")
# Bookkeeping beads that are assigned but never work on a hook.
_NEVER_HOOKED = frozenset({"merge-request", "message", "agent"})


def on_hook(issue, address: str | None = None) -> bool:
    """Is `issue` on an agent's hook (on `address`'s, when given)?"""
    return (issue.status == HOOK_STATUS and bool(issue.assignee) and issue.issue_type not in _NEVER_HOOKED
            and (address is None or issue.assignee == address))


def hooks_by_agent(issues: Iterable) -> dict[str, Any]:
    """address -> the bead on its hook (the lowest id when a store holds several)."""
    out: dict[str, Any] = {}
    for iss in sorted((i for i in issues if on_hook(i)), key=lambda i: i.id):
        out.setdefault(iss.assignee, iss)
    return out


def whoami(town: Town, *, environ: dict[str, str] | None = None, cwd: Path | None = None,
           address: str | None = None) -> Agent:
    """The agent this process is (or `address` when given)."""
    if address:
        return parse_address(address, town.rigs())
    env = dict(os.environ if environ is None else environ)
    agent = agent_from_env(env, cwd or Path.cwd(), town.root)
    if agent is None:
        raise NotFound("cannot tell which agent you are",
                       hint="run this inside an agent's session or directory, or pass the agent's address")
    return agent


def rig_store(town: Town, rig: str):
    from gastown_tui.beads.store import Store

    return Store(town.require_rig(rig).beads_dir)


def stores_for(town: Town, agent: Agent) -> list:
    """Stores where the agent's hooked bead may live: its rig's store, then the town's."""
    from gastown_tui.beads.store import Store

    out = []
    if agent.rig and agent.rig in town.rigs():
        out.append(rig_store(town, agent.rig))
    out.append(Store(town.beads_dir))
    return out


def hooked(town: Town, agent: Agent):
    """The agent's hooked bead (an Issue), or None."""
    from gastown_tui.agents import agent_beads

    ab = agent_beads.get(town, agent)
    hb = ab.get("hook_bead") if ab is not None else None
    if hb:
        try:
            from gastown_tui.beads.routes import store_for_id

            iss = store_for_id(town.root, hb).try_get(hb)
        except NotFound:
            iss = None
        if iss is not None and on_hook(iss, agent.address):
            return iss
    for store in stores_for(town, agent):
        found = hooks_by_agent(store.list(status=HOOK_STATUS, assignee=agent.address)).get(agent.address)
        if found is not None:
            return found
    return None


def hook_info(town: Town, agent: Agent) -> dict[str, Any]:
    """The `gt hook --json` shape: the agent, its state, and its hooked bead (or null)."""
    from gastown_tui.agents import agent_beads

    ab = agent_beads.get(town, agent)
    bead = hooked(town, agent)
    return {
        "agent": agent.address,
        "role": agent.role,
        "rig": agent.rig,
        "session": agent.session if agent.role != "overseer" else None,
        "workdir": str(agent.workdir(town.root)),
        "agent_state": ab.get("agent_state") if ab is not None else None,
        "branch": ab.get("branch") if ab is not None else None,
        "bead": _bead_json(bead) if bead is not None else None,
    }


def _bead_json(iss) -> dict[str, Any]:
    return {"id": iss.id, "title": iss.title, "description": iss.description, "status": iss.status,
            "priority": iss.priority, "type": iss.issue_type, "assignee": iss.assignee, "labels": iss.labels}


def hook_bead(town: Town, agent: Agent, bead_id: str, *, force: bool = False, tx=None) -> Any:
    """Put `bead_id` on `agent`'s hook (bead hooked + assigned, agent bead's hook_bead)."""
    from gastown_tui.agents import agent_beads
    from gastown_tui.beads.routes import store_for_id

    store = store_for_id(town.root, bead_id)
    with store.transaction(actor=agent.address) as t:
        iss = t.get(bead_id)
        if iss.status in ("closed", "tombstone"):
            raise Conflict(f"{bead_id} is {iss.status}", hint=f"reopen it first with 'bd reopen {bead_id}'")
        if iss.status == "hooked" and iss.assignee and iss.assignee != agent.address and not force:
            raise Conflict(f"{bead_id} is already on {iss.assignee}'s hook", hint="pass --force to take it over")
        iss = t.update(bead_id, status="hooked", assignee=agent.address)
    agent_beads.upsert(town, agent, hook_bead=bead_id, tx=tx)
    return iss


def unsling(town: Town, agent: Agent | None = None, bead_id: str | None = None) -> dict[str, Any]:
    """Take work off a hook: the bead goes back to open and unassigned; the agent goes idle.

    Give the agent (its current hook is removed) or the bead (whoever holds it lets go).
    """
    from gastown_tui.agents import agent_beads
    from gastown_tui.beads.routes import store_for_id

    if bead_id is None:
        if agent is None:
            raise NotFound("nothing to unsling", hint="pass a bead id or run inside an agent")
        iss = hooked(town, agent)
        if iss is None:
            raise NotFound(f"{agent.address} has nothing on its hook", hint="see hooks with 'gt hook'")
        bead_id = iss.id
    store = store_for_id(town.root, bead_id)
    with store.transaction() as t:
        iss = t.get(bead_id)
        if iss.status != "hooked":
            raise Conflict(f"{bead_id} is not on a hook (status {iss.status})", hint="nothing to do")
        holder = iss.assignee
        t.update(bead_id, status="open", assignee=None)
    if holder:
        try:
            holder_agent = parse_address(holder)
            ab = agent_beads.get(town, holder_agent)
            if ab is not None and ab.get("hook_bead") == bead_id:
                agent_beads.set_state(town, holder_agent, "idle", hook_bead="")
        except Exception:  # noqa: BLE001 - a hook held by a non-agent name has no agent bead
            pass
    from gastown_tui.town import events

    events.record(town.root, "unsling", rig=agent.rig if agent else None, payload={"bead": bead_id, "from": holder})
    return {"bead": bead_id, "from": holder}
