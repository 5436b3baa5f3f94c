"""`gt done`: a polecat hands its work in (DESIGN §7).

COMPLETED: commit leftovers as the agent -> make sure the branch in the rig's bare repo points at
the worktree's HEAD (worktrees share the bare repo's refs, so this is a check plus a repair) ->
MR bead in the rig store (`work.mq`) -> the source bead leaves the hook (status in_progress, still
assigned: the refinery closes it on merge) -> POLECAT_DONE to `<rig>/witness` -> agent idle.

ESCALATED: no MR; the bead is marked blocked and the witness gets POLECAT_DONE with
`Status: ESCALATED` (it escalates). DEFERRED: no MR; the bead goes back to open, unassigned.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gastown_tui.errors import Conflict, GtError, UsageError
from gastown_tui.town.identity import Agent
from gastown_tui.town.layout import Town

STATUSES = ("COMPLETED", "ESCALATED", "DEFERRED")
EXIT_SYNONYMS = {"MERGED": "COMPLETED"}  # the documents' `gt done --exit MERGED`: hand in for merging


def _owner(town: Town) -> str | None:
    try:
        owner = town.info().get("owner")
    except GtError:
        return None
    return owner if isinstance(owner, str) else None


def done(town: Town, agent: Agent, *, status: str = "COMPLETED", note: str | None = None,
         path: Path | None = None) -> dict[str, Any]:
    """Finish the agent's hooked work; returns what happened (bead, branch, commit, mr, mail).

    `path` is the checkout to hand in from (default: the agent's own); a crew member working in
    another rig's `crew/<fromrig>-<name>` worktree passes that one."""
    from gastown_tui.agents import agent_beads
    from gastown_tui.agents.polecats import default_branch
    from gastown_tui.beads.routes import store_for_id
    from gastown_tui.infra import git
    from gastown_tui.town import events
    from gastown_tui.work import mq, protocol
    from gastown_tui.work.hook import hooked
    from gastown_tui.work.mail import send_mail

    status = (status or "COMPLETED").upper()
    status = EXIT_SYNONYMS.get(status, status)
    if status not in STATUSES:
        raise UsageError(f"'{status}' is not a done status", hint="use COMPLETED (or MERGED), ESCALATED or DEFERRED")
    if agent.role == "crew":
        return done_crew(town, agent, status=status, note=note, path=path)
    if agent.role != "polecat":
        where = f"{town.root}/<rig>/polecats/<name>"
        raise UsageError(f"gt done is for polecats and crew, and you are {agent.address}",
                         hint=f"run it inside a polecat's worktree ({where}), a crew clone, or their session")
    path = agent.workdir(town.root)
    if not path.is_dir():
        raise Conflict(f"{agent.address} has no worktree at {path}", hint="it was nuked; nothing to hand in")
    iss = hooked(town, agent)
    if iss is None:
        raise Conflict(f"{agent.address} has nothing on its hook", hint="see your hook with 'gt hook'; nothing to hand in")
    rp = town.rig(agent.rig)
    base = default_branch(town, agent.rig)
    branch = git.current_branch(path)
    committed = git.commit_all(path, f"{iss.id}: {iss.title}\n\nLeftovers committed by gt done.",
                               author=agent.address, email=_owner(town))
    head = git.head_sha(path)
    if git.branch_sha(rp.bare_repo, branch) != head:
        git.update_ref(rp.bare_repo, branch, head)
    ahead = git.commits_ahead(rp.bare_repo, branch, base)
    mr = None
    store = store_for_id(town.root, iss.id)
    ab = agent_beads.get(town, agent)
    model = (ab.get("model") if ab is not None else None) or None
    if status == "COMPLETED":
        if ahead == 0:
            raise Conflict(f"branch {branch} has no commits beyond {base}, so there is nothing to merge",
                           hint="commit your work first, or run 'gt done --status DEFERRED'")
        mr = mq.create_mr(town, agent.rig, branch=branch, target=base, source_issue=iss.id, worker=agent.address,
                          commit_sha=head, priority=iss.priority, note=note or "", model=model)
        store.update(iss.id, status="in_progress", actor=agent.address)
    elif status == "ESCALATED":
        store.update(iss.id, status="blocked", actor=agent.address)
    else:
        store.update(iss.id, status="open", assignee=None, actor=agent.address)
    fields = {"Polecat": agent.name, "Rig": agent.rig, "Bead": iss.id, "Branch": branch, "Commit": head,
              "Status": status, "MR": mr.id if mr else "", "Note": note or ""}
    msgs = send_mail(town, f"{agent.rig}/witness", protocol.subject("POLECAT_DONE", agent.name),
                     protocol.body(fields), sender=agent.address)
    agent_beads.set_state(town, agent, "idle", hook_bead="")
    events.record(town.root, "done", actor=agent.address, rig=agent.rig,
                  payload={"bead": iss.id, "status": status, "branch": branch, "commit": head,
                           "mr": mr.id if mr else None, "model": model})
    return {"agent": agent.address, "bead": iss.id, "status": status, "branch": branch, "commit": head,
            "committed_leftovers": committed, "commits_ahead": ahead, "mr": mr.id if mr else None,
            "mail": msgs[0]["id"] if msgs else None, "worktree": str(Path(path))}


def done_crew(town: Town, agent: Agent, *, status: str = "COMPLETED", note: str | None = None,
              path: Path | None = None) -> dict[str, Any]:
    """Crew finish on main, with no merge request: commit leftovers, push to main (rebasing onto
    a moved origin), close the bead, tell the mayor; convoys tracking it land."""
    from gastown_tui.agents import agent_beads
    from gastown_tui.beads.routes import store_for_id
    from gastown_tui.infra import git
    from gastown_tui.town import events
    from gastown_tui.work.crew import push_main, rig_of_checkout
    from gastown_tui.work.hook import hooked
    from gastown_tui.work.mail import send_mail

    path = Path(path) if path is not None else agent.workdir(town.root)
    if not path.is_dir():
        raise Conflict(f"{agent.address} has no clone at {path}", hint=f"add one with 'gt crew add {agent.rig} {agent.name}'")
    rig = rig_of_checkout(town, path) or agent.rig
    iss = hooked(town, agent)
    if iss is None and rig != agent.rig:  # a cross-rig worktree: its work lives in that rig's store
        from gastown_tui.beads.store import Store

        found = Store(town.rig(rig).beads_dir).list(status="hooked", assignee=agent.address)
        iss = found[0] if found else None
    if iss is None:
        raise Conflict(f"{agent.address} has nothing on its hook", hint="see your hook with 'gt hook'; nothing to hand in")
    store = store_for_id(town.root, iss.id)
    committed = pushed = False
    head = git.head_sha(path)
    if status == "COMPLETED":
        committed = git.commit_all(path, f"{iss.id}: {iss.title}\n\nLeftovers committed by gt done.",
                                   author=agent.address, email=_owner(town))
        head = push_main(town, rig, agent, path)
        pushed = True
        store.close(iss.id, f"pushed to main at {head[:12]}" + (f": {note}" if note else ""), actor=agent.address)
    elif status == "ESCALATED":
        store.update(iss.id, status="blocked", actor=agent.address)
    else:
        store.update(iss.id, status="open", assignee=None, actor=agent.address)
    verb = {"COMPLETED": f"pushed to main at {head[:10]}", "ESCALATED": "is stuck and needs help",
            "DEFERRED": "gave it back"}[status]
    msgs = send_mail(town, "mayor", f"{iss.id} {status.lower()} by {agent.address}",
                     f"{agent.address} {verb}: {iss.id} {iss.title}" + (f"\n\n{note}" if note else ""),
                     sender=agent.address)
    agent_beads.set_state(town, agent, "idle", hook_bead="")
    if status == "COMPLETED":
        try:
            from gastown_tui.work.convoy import check_convoys

            check_convoys(town)
        except GtError:
            pass  # the deacon checks convoys too
    events.record(town.root, "done", actor=agent.address, rig=agent.rig,
                  payload={"bead": iss.id, "status": status, "branch": "main", "commit": head, "mr": None})
    return {"agent": agent.address, "bead": iss.id, "status": status, "branch": git.current_branch(path),
            "commit": head, "committed_leftovers": committed, "pushed": pushed, "commits_ahead": 0, "mr": None,
            "mail": msgs[0]["id"] if msgs else None, "worktree": str(path)}
