"""Agent beads: one record per agent in the town store (`issue_type: "agent"`).

The id is derived from the address so lookups never scan: `hq-<rig>-polecat-<name>`,
`hq-<rig>-crew-<name>`, `hq-<rig>-witness`, `hq-<rig>-refinery`, `hq-mayor`, `hq-deacon`.
JSONL keys:

    agent_address  the address (`demo/polecats/nux`)
    agent_state    spawning | working | idle | done | dead
    hook_bead      the bead on the agent's hook ("" when none)
    rig            the rig (absent for town agents)
    role_type      polecat | crew | witness | refinery | mayor | deacon
    runtime        the runtime it was started with (claude, sim, ...)
    branch         (polecats) the worktree's current branch
    last_activity  when the state last changed

A dead/nuked polecat's bead is closed; a new polecat with the same name reopens it.
"""

from __future__ import annotations

from typing import Any

from gastown_tui.town.identity import Agent, parse_address
from gastown_tui.town.layout import Town

STATES = ("spawning", "working", "idle", "done", "dead")


def agent_bead_id(agent: Agent) -> str:
    if agent.role in ("mayor", "deacon", "overseer"):
        return f"hq-{agent.role}"
    if agent.role in ("witness", "refinery"):
        return f"hq-{agent.rig}-{agent.role}"
    return f"hq-{agent.rig}-{agent.role}-{agent.name}"


def _store(town: Town):
    from gastown_tui.beads.store import Store

    return Store(town.beads_dir)


def get(town: Town, agent: Agent):
    """The agent's bead, or None."""
    return _store(town).try_get(agent_bead_id(agent))


def upsert(town: Town, agent: Agent, *, tx=None, **fields: Any):
    """Create or update the agent's bead with `fields` (agent_state, hook_bead, runtime, branch ...)."""
    from gastown_tui.beads.codec import format_ts

    if "agent_state" in fields and fields["agent_state"] not in STATES:
        raise ValueError(f"bad agent_state {fields['agent_state']}")
    bead_id = agent_bead_id(agent)
    fields = {**fields, "last_activity": format_ts()}

    def apply(t):
        cur = t.try_get(bead_id)
        if cur is None:
            base = {"agent_address": agent.address, "role_type": agent.role}
            if agent.rig:
                base["rig"] = agent.rig
            clean = {k: v for k, v in {**base, **fields}.items() if v is not None}
            return t.create(agent.address, type="agent", priority=4, id=bead_id, assignee=agent.address,
                            fields=clean, actor=agent.address)
        upd = dict(fields)
        if cur.status in ("closed", "tombstone") and fields.get("agent_state") not in (None, "dead"):
            upd["status"] = "open"
        return t.update(bead_id, **{k: (None if v == "" else v) for k, v in upd.items()})

    if tx is not None:
        return apply(tx)
    with _store(town).transaction(actor=agent.address) as t:
        return apply(t)


def set_state(town: Town, agent: Agent, state: str, *, hook_bead: str | None = None, tx=None, **extra: Any):
    """Set agent_state (and hook_bead when given; "" clears it)."""
    fields: dict[str, Any] = {"agent_state": state, **extra}
    if hook_bead is not None:
        fields["hook_bead"] = hook_bead
    return upsert(town, agent, tx=tx, **fields)


def retire(town: Town, agent: Agent, *, tx=None) -> None:
    """Mark a removed agent dead and close its bead (its name is free again)."""
    bead_id = agent_bead_id(agent)

    def apply(t):
        if t.try_get(bead_id) is None:
            return
        t.update(bead_id, agent_state="dead", hook_bead=None)
        t.close(bead_id, "retired")

    if tx is not None:
        apply(tx)
        return
    with _store(town).transaction(actor=agent.address) as t:
        apply(t)


def list_agents(town: Town, *, rig: str | None = None, role: str | None = None,
                include_closed: bool = False) -> list[tuple[Agent, Any]]:
    """(Agent, bead) for each agent bead, optionally filtered by rig and role."""
    out = []
    for b in _store(town).list(type="agent", include_closed=include_closed):
        if rig is not None and b.get("rig") != rig:
            continue
        if role is not None and b.get("role_type") != role:
            continue
        try:
            a = parse_address(b.get("agent_address") or b.title)
        except Exception:
            continue
        out.append((a, b))
    return out
