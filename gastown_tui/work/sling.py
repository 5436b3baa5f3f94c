"""Sling: put beads on agents' hooks, spawning polecats as needed (DESIGN §7).

`sling(town, bead_ids, target)` where target is a rig name (reuse an idle polecat or spawn a new
one, one per bead) or an agent address (that agent; a polecat address that does not exist yet is
spawned with that name). It refuses, before changing anything: unknown beads, closed beads, beads
held by a live agent or a person, beads awaiting merge (both unless `force`; a hook held by a dead
agent is taken over), beads whose prefix belongs to another rig, unknown rigs and unknown runtimes.

All or nothing: each step pushes its undo (remove worktree, delete branch, kill session, restore
the bead's status/assignee, restore agent beads, delete the convoy) and any failure runs them all,
newest first, before the error reaches the caller.

Exactly once: the refusals above are checked first (cheaply, to refuse before spawning anything)
and then again, by the same rule (`claim_refusal`), inside the bead store's transaction that
hooks the bead — a compare-and-set. Concurrent slingers (a user, the deacon feeding convoys,
`gt demo`, `gt formula dispatch`) may all pass the first check; only one wins the second, and the
others roll back the polecat they spawned and fail with `AlreadyClaimed`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gastown_tui.errors import Conflict, GtError, NotFound, UsageError
from gastown_tui.town.identity import Agent, parse_address
from gastown_tui.town.layout import Town


class AlreadyClaimed(Conflict):
    """The bead is someone else's (a live holder, a claim by a person, or work awaiting merge).

    Callers that sweep many beads (deacon, demo, dispatch) skip such a bead: another slinger won.
    """


@dataclass
class SlingResult:
    assignments: list[dict[str, Any]] = field(default_factory=list)
    convoy: str | None = None
    dry_run: bool = False
    molecules: dict[str, str] = field(default_factory=dict)  # bead id -> attached molecule (--formula)

    def to_json(self) -> dict[str, Any]:
        rows = [{k: (v.address if isinstance(v, Agent) else v) for k, v in a.items()} for a in self.assignments]
        return {"assignments": rows, "convoy": self.convoy, "dry_run": self.dry_run, "molecules": dict(self.molecules)}


def _alive(panes: dict, agent: Agent) -> bool:
    try:
        p = panes.get(agent.session)
    except UsageError:
        return False
    return p is not None and not p.dead


def _holder_state(town: Town, panes: dict, holder: str) -> str | None:
    """How `holder` (a bead's assignee) still holds its work, in words; None when it is a dead agent,
    whose hook may be taken over.

    A running session holds it; so does a polecat whose agent bead says it is being spawned (the
    sling that hooked it has not started its session yet); so does any assignee that is not an
    agent with a session (a person who claimed it with `bd update --claim`, the overseer).
    """
    try:
        agent = parse_address(holder)
    except UsageError:
        return ""
    if agent.role == "overseer":
        return ""
    if _alive(panes, agent):
        return "which is running"
    from gastown_tui.agents import agent_beads

    ab = agent_beads.get(town, agent)
    return "which is being spawned" if ab is not None and ab.get("agent_state") == "spawning" else None


def _awaiting_merge(view, bead_id: str) -> str | None:
    """The open merge request that carries this bead's work (submitted with `gt done`), if any."""
    for mr in view.list(type="merge-request", status=("open", "in_progress")):
        if mr.get("source_issue") == bead_id:
            return mr.id
    return None


def claim_refusal(view, iss, address: str | None, *, force: bool, holder_state) -> GtError | None:
    """Why `iss` may not be put on `address` (None: an agent not chosen yet), or None when it may.

    The one rule of who may take a bead, used before anything is spawned and again under the
    store's lock: it must be unassigned, or already this agent's, or held by a dead agent
    (`holder_state(assignee)` is None); work awaiting merge and a live holder's work only with
    `force`; closed and deleted beads never. `view` is the store (or its open transaction).
    """
    bid = iss.id
    if iss.status == "tombstone":
        return NotFound(f"no bead {bid}", hint="list beads with 'bd list' in the rig, or 'bd ready'")
    if iss.status == "closed":
        return Conflict(f"{bid} is closed", hint=f"reopen it first with 'bd reopen {bid}'")
    if force:
        return None
    if iss.status == "in_progress":
        mr = _awaiting_merge(view, bid)
        if mr is not None:
            return AlreadyClaimed(f"{bid} is awaiting merge in {mr} (submitted by {iss.assignee or 'its worker'})",
                                  hint="wait for the refinery, or pass --force to have it worked again")
    holder = iss.assignee or ""
    if holder and holder != address:
        how = holder_state(holder)
        if how is not None:
            held = "hooked to" if iss.status == "hooked" else f"{iss.status.replace('_', ' ')} and assigned to"
            return AlreadyClaimed(f"{bid} is already {held} {holder}" + (f", {how}" if how else ""),
                                  hint="pass --force to take it over, or 'gt unsling' it first")
    return None


def _rig_of_prefix(town: Town, bead_id: str) -> str | None:
    """The rig that owns the bead's prefix (None for town beads)."""
    best, best_len = None, 0
    for name, entry in town.rigs().items():
        p = (entry.get("prefix") or "") + "-"
        if bead_id.startswith(p) and len(p) > best_len:
            best, best_len = name, len(p)
    return best


def _validate(town: Town, bead_ids: list[str], target: str, force: bool, panes: dict):
    """Everything that can be refused without changing anything. Returns (target rig|None, agent|None, beads)."""
    from gastown_tui.beads.routes import store_for_id

    if not bead_ids:
        raise UsageError("nothing to sling", hint="give at least one bead id: gt sling BEAD... TARGET")
    if len(set(bead_ids)) != len(bead_ids):
        raise UsageError("the same bead is named twice", hint="name each bead once")
    from gastown_tui.beads import ids

    for bead_id in bead_ids:  # an id becomes a branch and file names: the grammar first
        ids.check_id(bead_id, "bead")
    rigs = town.rigs()
    target_rig: str | None = None
    target_agent: Agent | None = None
    if "/" not in target and target not in ("mayor", "deacon", "overseer"):
        if target not in rigs:
            known = ", ".join(sorted(rigs)) or "none yet (add one with 'gt rig add')"
            raise NotFound(f"no rig named '{target}' in this town", hint=f"known rigs: {known}; or give an agent address")
        target_rig = target
    else:
        target_agent = parse_address(target, rigs)
        if target_agent.role == "overseer":
            raise UsageError("cannot sling work to the overseer", hint="sling it to a rig or an agent")
        target_rig = target_agent.rig
        if len(bead_ids) > 1 and target_agent.role == "polecat":
            raise UsageError("one polecat takes one bead", hint=f"sling several beads to the rig ('{target_agent.rig}') instead")
    if target_rig and rigs.get(target_rig, {}).get("parked"):
        raise Conflict(f"rig '{target_rig}' is parked", hint=f"unpark it first with 'gt rig unpark {target_rig}'")
    beads = []
    for bid in bead_ids:
        store = store_for_id(town.root, bid)
        iss = store.try_get(bid)
        if iss is None or iss.status == "tombstone":
            raise NotFound(f"no bead {bid}", hint="list beads with 'bd list' in the rig, or 'bd ready'")
        if iss.status == "closed":
            raise Conflict(f"{bid} is closed", hint=f"reopen it first with 'bd reopen {bid}'")
        owner = _rig_of_prefix(town, bid)
        if target_rig is not None and owner is not None and owner != target_rig:
            raise UsageError(f"{bid} belongs to rig '{owner}', not '{target_rig}'",
                             hint=f"sling it to '{owner}' instead")
        if iss.status == "hooked" and target_agent is not None and iss.assignee == target_agent.address:
            raise Conflict(f"{bid} is already on {iss.assignee}'s hook", hint="nothing to do")
        refusal = claim_refusal(store, iss, target_agent.address if target_agent else None, force=force,
                                holder_state=lambda h: _holder_state(town, panes, h))
        if refusal is not None:
            raise refusal
        beads.append((store, iss))
    if target_agent is not None and target_agent.role == "crew" and not target_agent.workdir(town.root).is_dir():
        raise NotFound(f"no crew member '{target_agent.name}' in rig '{target_agent.rig}'",
                       hint=f"add one with 'gt crew add {target_agent.rig} {target_agent.name}'")
    return target_rig, target_agent, beads


def _hook(town: Town, store, iss, agent: Agent, undo, *, force: bool = False,
          model: str | None = None) -> None:
    """Claim `iss` for `agent` (compare-and-set under the store's lock), with the undo that restores
    the bead and the previous holder. Raises (for rollback) when another slinger got there first.

    The bead remembers when it was slung and with which model (`bd stats --group-by=model`)."""
    from gastown_tui.agents import agent_beads, polecats
    from gastown_tui.beads.codec import format_ts

    fresh: dict | None = None

    def holder_state(h: str) -> str | None:  # ask tmux now, not when the sling began: the holder may be new
        nonlocal fresh
        fresh = polecats.live_panes(town) if fresh is None else fresh
        return _holder_state(town, fresh, h)

    with store.transaction(actor=agent.address) as tx:
        cur = tx.try_get(iss.id)
        if cur is None:
            raise NotFound(f"no bead {iss.id}", hint="it was removed while slinging; list beads with 'bd list'")
        refusal = claim_refusal(tx, cur, agent.address, force=force, holder_state=holder_state)
        if refusal is not None:
            raise refusal
        record = dict(cur.data)
        tx.update(iss.id, status="hooked", assignee=agent.address, actor=agent.address, slung_at=format_ts(),
                  model=model)

    def unhook() -> None:  # only while it is still ours: a later --force may have taken it since
        with store.transaction(actor=agent.address) as tx:
            now = tx.try_get(iss.id)
            if now is not None and now.assignee == agent.address:
                tx.put(dict(record))

    undo.push(f"restore {iss.id}", unhook)
    prev_holder = record.get("assignee") or None
    if prev_holder and prev_holder != agent.address:  # a dead agent's hook taken over
        try:
            old = parse_address(prev_holder)
            ab = agent_beads.get(town, old)
            if ab is not None and ab.get("hook_bead") == iss.id:
                snap = ab.to_json()
                agent_beads.set_state(town, old, "dead" if ab.get("agent_state") != "idle" else "idle", hook_bead="")
                undo.push(f"restore agent bead of {prev_holder}",
                          lambda: polecats.restore(agent_beads._store(town), snap))
        except UsageError:
            pass


def _reuse_polecat(town: Town, p: dict, bead_id: str, runtime: str, undo, panes: dict, store, iss, *,
                   force: bool = False, model: str | None = None) -> dict | None:
    """Give an idle polecat new work: claim it, new branch in its worktree, hook, wake it."""
    from gastown_tui.agents import agent_beads, polecats
    from gastown_tui.infra import git

    agent = Agent("polecat", p["rig"], p["name"])
    # The listing was taken when the sling began; a polecat spawned by this same sling may have
    # finished and gone idle since, so ask tmux again before deciding its session is gone.
    live = _alive(panes, agent) or _alive(polecats.live_panes(town), agent)
    # Claim under the town store's lock: two slings never get the same idle polecat. Without a
    # session it is "spawning" until one runs, so no other sling takes its hook for a dead one's.
    snap = None
    with agent_beads._store(town).transaction(actor=agent.address) as tx:
        ab = tx.try_get(agent_beads.agent_bead_id(agent))
        if ab is None or ab.get("agent_state") != "idle" or ab.get("hook_bead"):
            return None
        snap = ab.to_json()
        agent_beads.upsert(town, agent, tx=tx, agent_state="working" if live else "spawning", hook_bead=bead_id,
                           runtime=runtime, model=model or "")
    undo.push(f"restore agent bead of {agent.address}", lambda: polecats.restore(agent_beads._store(town), snap))
    path = town.rig(agent.rig).polecat(agent.name)
    old_branch = git.current_branch(path)
    old_sha = git.rev_parse(path, "HEAD")
    branch = polecats.branch_name(agent.name, bead_id)
    base = polecats.default_branch(town, agent.rig)
    git.switch_new_branch(path, branch, base)
    undo.push(f"delete branch {branch}", lambda: git.delete_branch(path, branch, force=True))
    undo.push(f"switch back to {old_branch}", lambda: git.switch_branch(path, old_branch))
    # The finished branch was held by this worktree, so the refinery could not delete it when it
    # merged; once merged it is dead weight, and nothing else would ever remove it.
    if old_branch.startswith("polecat/") and old_branch != branch and git.commits_ahead(path, old_branch, base) == 0:
        git.delete_branch(path, old_branch, force=True)
        undo.push(f"restore branch {old_branch}", lambda: git.update_ref(path, old_branch, old_sha))
    agent_beads.upsert(town, agent, branch=branch)
    _hook(town, store, iss, agent, undo, force=force, model=model)
    started = False
    if not live:
        polecats.start_session(town, agent, runtime, undo)
        agent_beads.set_state(town, agent, "working")
        started = True
    return {"agent": agent, "name": agent.name, "path": str(path), "branch": branch, "base": base,
            "session": agent.session, "spawned": False, "started": started, "wake": not started}


def sling(town: Town, bead_ids: list[str], target: str, *, runtime: str | None = None, no_convoy: bool = False,
          force: bool = False, dry_run: bool = False, actor: str | None = None,
          formula: str | None = None, formula_vars: dict[str, str] | None = None,
          model: str | None = None) -> SlingResult:
    """Hook each bead on an agent of `target` (rig or address); all or nothing. See the module doc.

    With `model`, new or reused polecats run their runtime with its model flag (`--model NAME`);
    `[models."NAME"] runtime = ...` in settings picks the runtime that serves it. The model is
    recorded on the agent bead, the bead, the MR (by `gt done`) and the events.

    With `formula`, a molecule of it is poured and attached to each bead before the agent starts
    (`work.molecules.attach_for_sling`), so `gt prime` shows the checklist.
    """
    from gastown_tui.agents import polecats
    from gastown_tui.town import events

    panes = polecats.live_panes(town)
    target_rig, target_agent, beads = _validate(town, list(bead_ids), target, force, panes)
    if model is not None:
        from gastown_tui.agents.runtimes import resolve_model
        from gastown_tui.town.config import load_settings

        if target_agent is not None and target_agent.role != "polecat":
            raise UsageError(f"--model starts polecats with a model, and {target_agent.address} is not a polecat",
                             hint="sling to a rig (or a polecat) to compare models")
        model, _, mapped = resolve_model(model, runtime, load_settings(town.root))
        runtime = runtime or mapped
    rt_name = None
    if target_agent is None or target_agent.role == "polecat":
        rt_name = polecats.polecat_runtime(town, target_rig, runtime)
        polecats.check_runtime(town, rt_name)
    elif runtime:
        polecats.check_runtime(town, runtime)
        rt_name = runtime
    if formula:  # bad formula or vars: refused before anything changes
        from gastown_tui.work.formulas import load_formula, render, search_paths

        f = load_formula(formula, search_paths(town, target_rig))
        for _, iss in beads:
            render(f, {**({"issue": iss.id} if "issue" in f.vars else {}), **(formula_vars or {})})
    result = SlingResult(dry_run=dry_run)
    if dry_run:
        for _, iss in beads:
            who = target_agent.address if target_agent else f"{target_rig}/polecats/<next free>"
            result.assignments.append({"bead": iss.id, "agent": who, "runtime": rt_name, "spawned": target_agent is None})
        return result

    undo = polecats.Undo()
    wake: list[Agent] = []
    try:
        if formula:
            from gastown_tui.work.molecules import attach_for_sling

            for store, iss in beads:
                mol = attach_for_sling(town, store, iss.id, formula, formula_vars, target_rig, undo, actor=actor)
                result.molecules[iss.id] = mol
        for store, iss in beads:
            if target_agent is None:
                row = None
                idle = polecats.find_idle_polecat(town, target_rig, panes=panes)
                if idle is not None:
                    row = _reuse_polecat(town, idle, iss.id, rt_name, undo, panes, store, iss, force=force,
                                         model=model)
                if row is None:
                    row = polecats.spawn_polecat(
                        town, target_rig, iss.id, runtime=rt_name, undo=undo, model=model,
                        hook=lambda a, s=store, i=iss: _hook(town, s, i, a, undo, force=force, model=model))
            elif target_agent.role == "polecat":
                path = target_agent.workdir(town.root)
                if path.is_dir():
                    p = next((x for x in polecats.list_polecats(town, target_agent.rig, panes=panes)
                              if x["name"] == target_agent.name), None)
                    row = _reuse_polecat(town, p, iss.id, rt_name, undo, panes, store, iss,
                                          force=force, model=model) if p else None
                    if row is None:
                        raise Conflict(f"{target_agent.address} is busy (state {p['recorded_state'] if p else 'unknown'})",
                                       hint=f"sling to the rig ('{target_agent.rig}') to get a free polecat")
                else:
                    row = polecats.spawn_polecat(
                        town, target_agent.rig, iss.id, runtime=rt_name, undo=undo, name=target_agent.name,
                        model=model, hook=lambda a, s=store, i=iss: _hook(town, s, i, a, undo, force=force,
                                                                          model=model))
            else:
                _hook(town, store, iss, target_agent, undo, force=force)
                from gastown_tui.agents import agent_beads

                ab = agent_beads.get(town, target_agent)
                snap = ab.to_json() if ab is not None else None
                agent_beads.upsert(town, target_agent, agent_state="working", hook_bead=iss.id)
                if snap is not None:
                    undo.push("restore agent bead", lambda s=snap: polecats.restore(agent_beads._store(town), s))
                else:
                    undo.push("delete agent bead", lambda: polecats.purge(
                        agent_beads._store(town), agent_beads.agent_bead_id(target_agent)))
                row = {"agent": target_agent, "session": None, "spawned": False,
                       "wake": _alive(panes, target_agent)}
            row["bead"] = iss.id
            row["title"] = iss.title
            row["runtime"] = rt_name
            row["model"] = model
            if row.get("wake"):
                wake.append(row["agent"])
            result.assignments.append(row)
        if not no_convoy:
            from gastown_tui.work import convoy

            untracked = [iss.id for _, iss in beads if not convoy.convoys_tracking(town, iss.id)]
            if untracked:
                title = (beads[0][1].title if len(untracked) == 1 else f"Sling of {len(untracked)} beads to {target}")
                c = convoy.create_convoy(town, title, untracked, actor=actor, auto=True)
                result.convoy = c["id"]
                undo.push(f"delete convoy {c['id']}", lambda cid=c["id"]: polecats.purge(convoy._store(town), cid))
    except BaseException:
        undo.run()
        raise
    for row in result.assignments:
        if row.get("spawned"):
            events.record(town.root, "polecat.spawned", actor=actor, rig=row["agent"].rig,
                          payload={"name": row["name"], "branch": row["branch"], "runtime": row.get("runtime"),
                                   "model": row.get("model")})
        events.record(town.root, "sling", actor=actor,
                      rig=row["agent"].rig if isinstance(row["agent"], Agent) else None,
                      payload={"bead": row["bead"], "agent": str(row["agent"]), "spawned": row.get("spawned", False),
                               "branch": row.get("branch"), "convoy": result.convoy, "model": row.get("model")})
    for agent in wake:  # the work is safely hooked; a failed wake-up is reported, not rolled back
        try:
            from gastown_tui.agents.nudge import deliver

            deliver(town, agent, "You have new work on your hook: run `gt prime --hook` and start now.",
                    mode="immediate", sender=actor or "gt")
        except Exception:  # noqa: BLE001
            pass
    return result
