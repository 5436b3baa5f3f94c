"""Death warrants: the controlled termination of a stuck agent, with a reason, a grace period and a record.

A warrant is a bead in the town store (type `event`, label `warrant`; persistent, so it is the
audit record) naming the target agent, the reason, who filed it and when its grace period ends.
Filing nudges the agent (it may finish or hand off in time). Executing — by hand, or by the
deacon's patrol once the grace period is over — stops the agent's session and puts its hooked
bead back in the ready pool (open, unassigned); its worktree is kept for inspection (`gt orphans`
lists it, `gt cleanup` removes it when nothing is unmerged). The state change is a compare-and-set
under the store's lock, so two executors never act on one warrant twice.
"""

from __future__ import annotations

import time
from typing import Any

from gastown_tui.errors import Conflict, NotFound, UsageError
from gastown_tui.town.identity import Agent, parse_address
from gastown_tui.town.layout import Town
from gastown_tui.work.hook import HELD_STATUSES

LABEL = "warrant"
DEFAULT_GRACE_SECONDS = 300.0


def _store(town: Town):
    from gastown_tui.beads.store import Store

    return Store(town.beads_dir, actor="deacon")


def to_json(iss) -> dict[str, Any]:
    d = iss.data
    return {"id": iss.id, "target": d.get("warrant_target"), "reason": d.get("warrant_reason") or "",
            "state": d.get("warrant_state") or "filed", "filed_by": d.get("created_by") or "",
            "filed_at": d.get("created_at"), "grace_until": d.get("warrant_grace_until"),
            "executed_by": d.get("warrant_executed_by"), "executed_at": d.get("warrant_executed_at"),
            "outcome": d.get("warrant_outcome"), "status": iss.status}


def file_warrant(town: Town, target: str, reason: str, *, grace_seconds: float = DEFAULT_GRACE_SECONDS,
                 actor: str = "overseer", now: float | None = None, tmux=None) -> dict[str, Any]:
    agent = parse_address(target, town.rigs())
    if agent.role in ("overseer",):
        raise UsageError("the overseer cannot be terminated", hint="name an agent, e.g. demo/polecats/furiosa")
    reason = (reason or "").strip()
    if not reason:
        raise UsageError("a warrant needs a reason", hint='pass --reason "why it must stop"')
    if grace_seconds < 0:
        raise UsageError("the grace period cannot be negative", hint="for example --grace 5m")
    now = time.time() if now is None else now
    store = _store(town)
    with store.transaction(actor=actor) as tx:
        open_ = [i for i in tx.list(type="event", label=LABEL)
                 if i.data.get("warrant_target") == agent.address and (i.data.get("warrant_state") or "filed") == "filed"]
        if open_:
            raise Conflict(f"{agent.address} already has a warrant: {open_[0].id}",
                           hint=f"execute it with 'gt warrant execute {open_[0].id}' or cancel it first")
        iss = tx.create(f"Warrant for {agent.address}: {reason}"[:200], type="event", priority=1,
                        description=f"Target: {agent.address}\nReason: {reason}\nFiled by: {actor}\n",
                        labels=[LABEL, f"target:{agent.address}"], actor=actor,
                        fields={"warrant_target": agent.address, "warrant_reason": reason, "warrant_state": "filed",
                                "warrant_grace_until": now + grace_seconds})
    _event(town, "warrant.filed", actor, agent, {"id": iss.id, "reason": reason, "grace_seconds": grace_seconds})
    _warn(town, agent, iss.id, reason, grace_seconds, tmux)
    return to_json(iss)


def _warn(town: Town, agent: Agent, wid: str, reason: str, grace: float, tmux) -> None:
    """Tell the agent (best effort): it may wrap up or hand off before the grace period ends."""
    if agent.role in ("witness", "refinery", "deacon"):
        return
    try:
        from gastown_tui.agents import nudge

        nudge.deliver(town, agent, f"[warrant {wid}] you will be stopped in {int(grace)} s: {reason}. "
                                   "Commit your work and run 'gt handoff' or 'gt done' now.", mode="queue",
                      sender="deacon", tmux=tmux)
    except Exception:  # noqa: BLE001 - the warrant stands whether or not the warning got through
        pass


def list_warrants(town: Town, *, include_closed: bool = False) -> list[dict[str, Any]]:
    items = [to_json(i) for i in _store(town).list(type="event", label=LABEL, include_closed=include_closed)]
    return sorted(items, key=lambda w: (w["state"] != "filed", str(w["filed_at"])))


def execute(town: Town, wid: str, *, actor: str = "overseer", force: bool = False, now: float | None = None,
            tmux=None) -> dict[str, Any]:
    """Carry out a filed warrant (before its grace period ends only with `force`)."""
    now = time.time() if now is None else now
    store = _store(town)
    with store.transaction(actor=actor) as tx:  # filed -> executed, once
        iss = tx.try_get(wid)
        if iss is None or LABEL not in (iss.labels or []):
            raise NotFound(f"no warrant {wid}", hint="list them with 'gt warrant list'")
        w = to_json(iss)
        if w["state"] != "filed":
            raise Conflict(f"warrant {wid} is already {w['state']}", hint="list open ones with 'gt warrant list'")
        grace = float(w["grace_until"] or 0)
        if now < grace and not force:
            raise Conflict(f"warrant {wid} is still in its grace period ({int(grace - now)} s left)",
                           hint=f"wait, or pass --now to execute it at once (gt warrant execute {wid} --now)")
        tx.update(wid, warrant_state="executed", warrant_executed_by=actor, warrant_executed_at=now)
    agent = parse_address(w["target"])
    outcome = _terminate(town, agent, tmux)
    iss = store.update(wid, warrant_outcome=outcome)
    store.close(wid, reason=f"executed: {outcome}", actor=actor)
    _event(town, "warrant.executed", actor, agent, {"id": wid, "outcome": outcome})
    return to_json(store.get(wid)) | {"outcome": outcome}


def _terminate(town: Town, agent: Agent, tmux) -> str:
    from gastown_tui.agents.sessions import stop_agent
    from gastown_tui.beads.routes import store_for_id
    from gastown_tui.work.hook import hooked

    said = []
    # The hook goes first: a witness that saw the session gone while the bead was still hooked
    # would restart the agent and undo the warrant.
    try:
        bead = hooked(town, agent)
    except Exception:  # noqa: BLE001
        bead = None
    freed = None
    if bead is not None:
        s = store_for_id(town.root, bead.id)
        with s.transaction(actor="deacon") as tx:
            cur = tx.get(bead.id)
            if cur.assignee == agent.address and cur.status in HELD_STATUSES:
                tx.update(bead.id, status="open", assignee=None)
                freed = bead.id
    stopped = stop_agent(town, agent, tmux=tmux) if agent.role != "overseer" else False
    said.append("session stopped" if stopped else "no session was running")
    if freed:
        said.append(f"{freed} back in the ready pool")
    return "; ".join(said)


def cancel(town: Town, wid: str, *, actor: str = "overseer", reason: str = "") -> dict[str, Any]:
    store = _store(town)
    with store.transaction(actor=actor) as tx:
        iss = tx.try_get(wid)
        if iss is None or LABEL not in (iss.labels or []):
            raise NotFound(f"no warrant {wid}", hint="list them with 'gt warrant list'")
        if (iss.data.get("warrant_state") or "filed") != "filed":
            raise Conflict(f"warrant {wid} is already {iss.data.get('warrant_state')}")
        tx.update(wid, warrant_state="cancelled", warrant_outcome=reason or "cancelled")
        tx.close(wid, reason=f"cancelled: {reason}" if reason else "cancelled", actor=actor)
    return to_json(store.get(wid))


def execute_due(town: Town, *, now: float | None = None, actor: str = "deacon", tmux=None) -> list[dict[str, Any]]:
    """The deacon's patrol step: every filed warrant past its grace period is carried out."""
    now = time.time() if now is None else now
    out = []
    for w in list_warrants(town):
        if w["state"] == "filed" and float(w["grace_until"] or 0) <= now:
            try:
                out.append(execute(town, w["id"], actor=actor, now=now, tmux=tmux))
            except Conflict:
                continue  # someone else executed or cancelled it meanwhile
    return out


def _event(town: Town, type: str, actor: str, agent: Agent, payload: dict[str, Any]) -> None:
    from gastown_tui.town import events

    events.record(town.root, type, actor=actor, rig=agent.rig, payload={"agent": agent.address, **payload})
