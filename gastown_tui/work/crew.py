"""Crew: persistent, human-directed workspaces — full clones of the rig at `<rig>/crew/<name>`.

A crew clone's `origin` is the rig's bare repo, so `git push` lands branches where the refinery
and polecats see them. Like every checkout it gets `.beads/redirect` (kept out of commits via the
clone's info/exclude) and an agent bead (`role_type: crew`).
"""

from __future__ import annotations

from typing import Any

from gastown_tui.errors import Conflict, GtError, NotFound
from gastown_tui.town.identity import Agent
from gastown_tui.town.layout import Town


def _check_name(name: str) -> None:
    from gastown_tui.agents.namepool import check_name

    check_name(name)


def add_crew(town: Town, rig: str, name: str) -> dict[str, Any]:
    """Clone the rig for a crew member; all or nothing."""
    from gastown_tui.agents import agent_beads
    from gastown_tui.agents.polecats import default_branch
    from gastown_tui.infra import git
    from gastown_tui.town.rigs import write_redirect

    from gastown_tui.infra.safepath import confine, remove_tree

    _check_name(name)
    rp = town.require_rig(rig)
    dest = confine(rp.crew_dir, name, what="crew name")
    if dest.exists():
        raise Conflict(f"crew member '{name}' already exists in rig '{rig}'", hint=f"use it with 'gt crew at {name}'")
    rp.crew_dir.mkdir(parents=True, exist_ok=True)
    try:
        git.clone(rp.bare_repo, dest, branch=default_branch(town, rig))
        exclude = dest / ".git" / "info" / "exclude"
        exclude.parent.mkdir(parents=True, exist_ok=True)
        with open(exclude, "a", encoding="utf-8") as f:
            f.write(".beads/redirect\n")
        write_redirect(dest, rp.beads_dir)
        agent_beads.upsert(town, Agent("crew", rig, name), agent_state="idle")
    except BaseException:
        remove_tree(rp.crew_dir, dest)
        raise
    from gastown_tui.work import events

    events.record(town.root, "crew.added", rig=rig, payload={"name": name})
    return crew_row(town, rig, name)


def _panes(town: Town) -> dict:
    from gastown_tui.agents.polecats import live_panes

    return live_panes(town)


def crew_row(town: Town, rig: str, name: str, panes: dict | None = None) -> dict[str, Any]:
    from gastown_tui.agents import agent_beads
    from gastown_tui.infra import git

    agent = Agent("crew", rig, name)
    path = town.rig(rig).crew(name)
    if panes is None:
        panes = _panes(town)
    pane = panes.get(agent.session)
    b = agent_beads.get(town, agent)
    try:
        branch = git.current_branch(path)
    except GtError:
        branch = None
    return {"name": name, "rig": rig, "address": agent.address, "session": agent.session, "path": str(path),
            "branch": branch, "session_alive": pane is not None and not pane.dead,
            "hook_bead": (b.get("hook_bead") if b is not None else None) or None}


def list_crew(town: Town, rig: str | None = None) -> list[dict[str, Any]]:
    rigs = [rig] if rig else sorted(town.rigs())
    if rig:
        town.require_rig(rig)
    panes = _panes(town)
    out = []
    for r in rigs:
        d = town.rig(r).crew_dir
        if d.is_dir():
            out += [crew_row(town, r, p.name, panes) for p in sorted(d.iterdir()) if p.is_dir()]
    return out


def find_crew(town: Town, name: str, rig: str | None = None) -> tuple[str, str]:
    """(rig, name) for NAME, RIG/NAME or RIG/crew/NAME."""
    from gastown_tui.errors import UsageError

    if "/" in name:
        parts = name.strip("/").split("/")
        rig, name = parts[0], parts[-1]
    if rig:
        town.require_rig(rig)
        if not town.rig(rig).crew(name).is_dir():
            raise NotFound(f"no crew member '{name}' in rig '{rig}'", hint=f"add one with 'gt crew add {rig} {name}'")
        return rig, name
    found = [r for r in town.rigs() if town.rig(r).crew(name).is_dir()]
    if not found:
        raise NotFound(f"no crew member '{name}'", hint=f"add one with 'gt crew add RIG {name}'")
    if len(found) > 1:
        raise UsageError(f"crew member '{name}' exists in several rigs ({', '.join(found)})", hint=f"say RIG/{name}")
    return found[0], name


def ensure_session(town: Town, rig: str, name: str, *, runtime: str | None = None) -> str:
    """Start the crew member's session unless it runs already; returns the session name."""
    from gastown_tui.agents.sessions import start_agent

    agent = Agent("crew", rig, name)
    panes = _panes(town)
    pane = panes.get(agent.session)
    if pane is None or pane.dead:
        start_agent(town, agent, runtime=runtime)
    return agent.session


def remove_crew(town: Town, rig: str, name: str, *, force: bool = False) -> dict[str, Any]:
    """Delete a crew clone; refuses uncommitted or unpushed work without `force`."""
    from gastown_tui.agents import agent_beads
    from gastown_tui.agents.sessions import stop_agent
    from gastown_tui.infra import git

    rig, name = find_crew(town, name, rig)
    path = town.rig(rig).crew(name)
    if not force:
        dirty = [ln for ln in git.status_porcelain(path).splitlines() if ln.strip()]
        unpushed = git.run_git(["log", "--oneline", "HEAD", "--not", "--remotes"], path, check=False).strip()
        if dirty or unpushed:
            what = "uncommitted changes" if dirty else "commits not pushed to the rig"
            raise Conflict(f"crew member '{name}' has {what}", hint="push or commit them, or pass --force to discard")
    agent = Agent("crew", rig, name)
    stop_agent(town, agent)
    from gastown_tui.infra.safepath import remove_tree

    remove_tree(town.rig(rig).crew_dir, path)
    agent_beads.retire(town, agent)
    from gastown_tui.work import events

    events.record(town.root, "crew.removed", rig=rig, payload={"name": name})
    return {"rig": rig, "name": name}
