"""Crew: persistent, human-directed workspaces — full clones of the rig at `<rig>/crew/<name>`.

Crew work on `main` and push to it directly (no merge queue). When the rig's upstream takes
pushes (see `work.upstream`), a crew clone's `origin` *is* the upstream, so `git push` reaches the
user's repository at once and the refinery's next fetch brings it into the rig; the rig's bare
repo is the `rig` remote (polecat branches). Otherwise `origin` is the rig's bare repo, which
accepts pushes to the branch `refinery/rig` has checked out (the refinery resyncs its checkout
before every use). Either way git refuses a push that is not a fast-forward: nothing is
overwritten. Like every checkout a clone gets `.beads/redirect` (kept out of commits via its
info/exclude) and an agent bead (`role_type: crew`).
"""

from __future__ import annotations

from pathlib import Path
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

    _check_name(name)
    rp = town.require_rig(rig)
    if rp.crew(name).exists():
        raise Conflict(f"crew member '{name}' already exists in rig '{rig}'", hint=f"use it with 'gt crew at {name}'")
    _make_clone(town, rig, name, lambda: agent_beads.upsert(town, Agent("crew", rig, name), agent_state="idle"))
    from gastown_tui.town import events

    events.record(town.root, "crew.added", rig=rig, payload={"name": name})
    return crew_row(town, rig, name)


def _make_clone(town: Town, rig: str, dirname: str, then=lambda: None) -> Path:
    """`<rig>/crew/<dirname>`: a full clone whose origin takes its pushes to main, with the beads
    redirect kept out of commits; removed again when anything (`then` included) fails."""
    from gastown_tui.agents.polecats import default_branch
    from gastown_tui.infra import git
    from gastown_tui.town.rigs import write_redirect

    from gastown_tui.infra.safepath import confine, remove_tree

    rp = town.require_rig(rig)
    dest = confine(rp.crew_dir, dirname, what="crew name")
    rp.crew_dir.mkdir(parents=True, exist_ok=True)
    try:
        git.clone(rp.bare_repo, dest, branch=default_branch(town, rig))
        point_at_upstream(town, rig, dest)
        exclude = dest / ".git" / "info" / "exclude"
        exclude.parent.mkdir(parents=True, exist_ok=True)
        with open(exclude, "a", encoding="utf-8") as f:
            f.write(".beads/redirect\n")
        write_redirect(dest, rp.beads_dir)
        then()
    except BaseException:
        remove_tree(rp.crew_dir, dest)
        raise
    return dest


# --- cross-rig worktrees (`gt worktree RIG`) ------------------------------------------------------
#
# A crew member of one rig working on another: `<rig>/crew/<fromrig>-<name>/`, a crew checkout of
# the target rig that keeps its owner's identity (gastown-understanding.md, "Cross-Rig Work
# Patterns"). The identity is recorded in the checkout's git config: `gt.identity` (read by
# `gt crew list`, `gt done`) and `user.name`/`user.email`, so commits and — through bd's actor
# resolution (git user when no BD_ACTOR) — bead changes are attributed to the owner even outside
# the owner's session.

IDENTITY_KEY = "gt.identity"


def cross_rig_dirname(owner: Agent) -> str:
    return f"{owner.rig}-{owner.name}"


def add_worktree(town: Town, rig: str, owner: Agent) -> dict[str, Any]:
    """Make `owner`'s (a crew member of another rig) checkout in `rig`; all or nothing."""
    from gastown_tui.errors import UsageError
    from gastown_tui.infra import git

    if owner.role != "crew":
        raise UsageError(f"gt worktree is for crew members, and you are {owner.address}",
                         hint="run it in a crew clone (<rig>/crew/<name>) or pass --as RIG/crew/NAME")
    town.require_rig(rig)
    town.require_rig(owner.rig)
    if owner.rig == rig:
        raise UsageError(f"{owner.address} already works in rig '{rig}'",
                         hint=f"its clone is {town.rig(rig).crew(owner.name)}; gt worktree is for another rig")
    _check_name(owner.name)  # with the rig name (validated by require_rig), a safe directory name
    dirname = cross_rig_dirname(owner)
    if town.rig(rig).crew(dirname).exists():
        raise Conflict(f"{owner.address} already has a worktree in rig '{rig}'",
                       hint=f"it is {town.rig(rig).crew(dirname)}; remove it with 'gt crew remove {rig}/{dirname}'")

    def identity() -> None:
        path = town.rig(rig).crew(dirname)
        git.set_config(path, IDENTITY_KEY, owner.address)
        git.set_config(path, "user.name", owner.address)
        email = None
        try:
            email = town.info().get("owner")
        except GtError:
            pass
        if isinstance(email, str) and "@" in email:
            git.set_config(path, "user.email", email)

    _make_clone(town, rig, dirname, identity)
    from gastown_tui.town import events

    events.record(town.root, "crew.worktree", actor=owner.address, rig=rig, payload={"name": dirname})
    return crew_row(town, rig, dirname)


def identity_of(town: Town, rig: str, dirname: str) -> Agent:
    """Who works in `<rig>/crew/<dirname>`: its recorded owner (cross-rig), else that crew member."""
    from gastown_tui.errors import UsageError
    from gastown_tui.infra import git
    from gastown_tui.town.identity import parse_address

    path = town.rig(rig).crew(dirname)
    recorded = git.run_git(["config", "--get", IDENTITY_KEY], path, check=False) if (path / ".git").exists() else ""
    if recorded:
        try:
            agent = parse_address(recorded)
            if agent.role == "crew":
                return agent
        except UsageError:
            pass
    return Agent("crew", rig, dirname)


def point_at_upstream(town: Town, rig: str, clone) -> None:
    """Make `origin` of a fresh crew clone the place its pushes to main belong (see the module doc)."""
    from gastown_tui.infra import git
    from gastown_tui.work.upstream import upstream_of

    up = upstream_of(town, rig)
    bare = town.rig(rig).bare_repo
    if up.push and up.url:
        git.repoint_origin(clone, up.url, bare, up.branch)
    else:
        git.set_config(bare, "receive.denyCurrentBranch", "ignore")  # rigs added before issue 15


def push_main(town: Town, rig: str, agent: Agent, path, *, attempts: int = 3) -> str:
    """Push the clone's HEAD to `origin`'s default branch (of `rig`, whose checkout `path` is);
    when origin moved, rebase onto it and push again (bounded). A rebase conflict is aborted and
    named. Returns the pushed commit."""
    from gastown_tui.errors import Conflict
    from gastown_tui.infra import git
    from gastown_tui.work.upstream import upstream_of

    branch = upstream_of(town, rig).branch
    env = {"GIT_COMMITTER_NAME": agent.address, "GIT_AUTHOR_NAME": agent.address}
    for attempt in range(1, attempts + 1):
        try:
            git.push_ref(path, "HEAD", branch, remote="origin")
            return git.head_sha(path)
        except git.RemoteError as e:
            if e.kind != "non-fast-forward" or attempt == attempts:
                raise
        git.fetch_upstream(path, remote="origin")
        try:
            git.run_git(["rebase", "-q", f"origin/{branch}"], path, env=env)
        except git.GitError:
            files = [f for f in git.run_git(["diff", "--name-only", "--diff-filter=U"], path,
                                            check=False).splitlines() if f]
            git.run_git(["rebase", "--abort"], path, check=False)
            raise Conflict(f"{branch} on origin moved and your commits conflict with it in "
                           f"{', '.join(files) or 'some files'}",
                           hint=f"run 'git pull --rebase origin {branch}', resolve, then 'gt done' again") from None
    raise AssertionError("unreachable")


def rig_of_checkout(town: Town, path: Path) -> str | None:
    try:
        rel = Path(path).resolve().relative_to(town.root.resolve()).parts
    except ValueError:
        return None
    return rel[0] if rel and rel[0] in town.rigs() else None


def checkout_of(town: Town, cwd) -> Path | None:
    """The crew checkout (`<rig>/crew/<dir>`) that contains `cwd`, if any."""
    try:
        rel = Path(cwd).resolve().relative_to(town.root.resolve()).parts
    except ValueError:
        return None
    if len(rel) >= 3 and rel[1] == "crew" and rel[0] in town.rigs():
        return town.rig(rel[0]).crew_dir / rel[2]
    return None


def _panes(town: Town) -> dict:
    from gastown_tui.agents.polecats import live_panes

    return live_panes(town)


def crew_row(town: Town, rig: str, name: str, panes: dict | None = None) -> dict[str, Any]:
    from gastown_tui.agents import agent_beads
    from gastown_tui.infra import git

    agent = identity_of(town, rig, name)
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
            "hook_bead": (b.get("hook_bead") if b is not None else None) or None,
            "cross_rig": agent.rig != rig}


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
    agent = identity_of(town, rig, name)
    if agent.rig == rig:  # a cross-rig worktree's owner keeps its session and agent bead
        stop_agent(town, agent)
    from gastown_tui.infra.safepath import remove_tree

    remove_tree(town.rig(rig).crew_dir, path)
    if agent.rig == rig:
        agent_beads.retire(town, agent)
    from gastown_tui.town import events

    events.record(town.root, "crew.removed", rig=rig, payload={"name": name})
    return {"rig": rig, "name": name}
