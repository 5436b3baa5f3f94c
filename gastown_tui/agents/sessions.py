"""Starting and stopping an agent's tmux session (DESIGN §5, §6).

An agent session runs the agent's runtime command in the agent's working directory, with the
identity environment of `Agent.env` plus the runtime's own, on the town's private tmux server.
The runtime's name is stored on the session (`@gt_runtime`) so the status engine and the nudge
know how to read the screen from the same single `list-panes` call.
"""

from __future__ import annotations

from pathlib import Path

from gastown_tui.errors import Conflict, NotFound, UsageError
from gastown_tui.infra.tmux import PaneInfo, Tmux
from gastown_tui.town.identity import Agent
from gastown_tui.town.layout import Town

# Roles whose working directory is plain state (created on demand); others are checkouts
# that install/sling create and whose absence is an error.
_STATE_DIR_ROLES = ("mayor", "deacon", "witness")


def beacon(agent: Agent) -> str:
    """The short first prompt: who you are, and to run `gt prime` (DESIGN §6)."""
    return (f"[GAS TOWN] You are {agent.address} ({agent.role}). Run `gt prime` to load your role, "
            f"mail and hooked work, then start on your hook at once.")


def agent_runtime_name(town: Town, agent: Agent, settings=None) -> str:
    """`role_agents.<role>`, else `default_agent`, else claude."""
    if settings is None:
        from gastown_tui.town.config import load_settings

        settings = load_settings(town.root)
    name = settings.get(f"role_agents.{agent.role}", None)
    return str(name or settings.get("default_agent") or "claude")


def _owner_email(town: Town) -> str | None:
    try:
        owner = town.info().get("owner")
    except Exception:  # a town without town.json still runs agents (tests, bare dirs)
        return None
    if isinstance(owner, dict):
        owner = owner.get("email")
    return owner if isinstance(owner, str) and "@" in owner else None


def start_agent(town: Town, agent: Agent, *, runtime: str | None = None, prompt: str | None = None,
                model: str | None = None,
                cwd: Path | None = None, extra_env: dict | None = None, tmux: Tmux | None = None) -> PaneInfo:
    """Start `agent` in its session; Conflict when it is already running.

    A session whose process has died (kept by remain-on-exit) is replaced. With prompt_mode
    "nudge" the prompt is queued and delivered when the program first shows its ready prompt
    (`agents.nudge.drain_queue`, called by the witness/cockpit, or by `gt mayor start`).
    """
    from gastown_tui.town.config import load_settings

    settings = load_settings(town.root)
    tm = tmux or Tmux.for_town(town)
    session = agent.session
    existing = tm.panes().get(session)
    if existing is not None:
        if not existing.dead:
            raise Conflict(f"{agent.address} is already running (tmux session {session})",
                           hint=f"attach with 'gt session attach {agent.address}' or stop it first")
        keep_last_screen(town, tm, existing)
        tm.kill_session(session)
    rt, argv, env, workdir, text = _launch(town, agent, runtime, prompt, cwd, extra_env, settings, model)
    info = tm.new_session(
        session, argv, cwd=workdir, env=env,
        width=int(settings.get("tmux.width") or 200), height=int(settings.get("tmux.height") or 50),
        options={"@gt_runtime": rt.name, "@gt_address": agent.address},
        pipe=_trail_pipe(town, session, settings),
    )
    if rt.prompt_mode == "nudge" and text:
        from gastown_tui.agents.nudge import enqueue

        enqueue(town, agent, text, sender="gt")
    return info


def _launch(town: Town, agent: Agent, runtime: str | None, prompt: str | None, cwd: Path | None,
            extra_env: dict | None, settings, model: str | None = None):
    """(runtime, argv, env, workdir, first prompt) of an agent's process: shared by start and respawn."""
    from gastown_tui.agents.runtimes import get_runtime

    rt = get_runtime(runtime or agent_runtime_name(town, agent, settings), settings)
    workdir = Path(cwd) if cwd else agent.workdir(town.root)
    if not workdir.is_dir():
        if agent.role in _STATE_DIR_ROLES and cwd is None:
            workdir.mkdir(parents=True, exist_ok=True)
        else:
            raise NotFound(f"{agent.address} has no working directory at {workdir}",
                           hint="create the rig or worktree first (gt rig add / gt sling)")
    env = {**agent.env(town.root, _owner_email(town)), **rt.env, "GT_SESSION": agent.session,
           "GT_RUNTIME": rt.name, **{str(k): str(v) for k, v in (extra_env or {}).items()}}
    from gastown_tui.agents.runtime_setup import prepare

    env.update(prepare(town.root, rt, agent.session, workdir, env))
    text = prompt if prompt is not None else beacon(agent)
    if model is None and agent.role == "polecat":  # a restart keeps the model it was slung with
        model = _slung_model(town, agent, settings)
    return rt, rt.command(text if rt.prompt_mode == "arg" else None, model=model), env, workdir, text


def respawn_agent(town: Town, agent: Agent, *, runtime: str | None = None, prompt: str | None = None,
                  tmux: Tmux | None = None) -> None:
    """A fresh process in the agent's existing session (same pane, runtime, environment, output
    log): tmux kills the old one and starts the new one itself, so an agent may ask for this
    from inside its own session (`gt handoff`)."""
    from gastown_tui.town.config import load_settings

    settings = load_settings(town.root)
    tm = tmux or Tmux.for_town(town)
    pane = tm.panes().get(agent.session)
    if pane is None:
        raise NotFound(f"{agent.address} has no session to restart", hint=f"start it with 'gt sling' or 'gt {agent.role} start'")
    rt, argv, env, workdir, text = _launch(town, agent, runtime or pane.runtime or None, prompt, None, None, settings)
    if rt.prompt_mode == "nudge" and text:
        from gastown_tui.agents.nudge import enqueue

        enqueue(town, agent, text, sender="gt")
    tm.respawn(agent.session, argv, cwd=workdir, env=env, pipe=_trail_pipe(town, agent.session, settings))


def _trail_pipe(town: Town, session: str, settings) -> str | None:
    """The `pipe-pane` command that keeps the session's bounded output log (None: trail is off)."""
    if not settings.get("trail.enabled"):
        return None
    from gastown_tui.agents.trail import pipe_command

    return pipe_command(town, session, int(settings.get("trail.max_bytes")))


def keep_last_screen(town: Town, tm: Tmux, pane: PaneInfo) -> None:
    """Before a dead pane goes, record why it died (`agents.exits`)."""
    from gastown_tui.agents.exits import dead_screens, record_exit

    text = dead_screens(tm, [pane.session]).get(pane.session, "")
    record_exit(town.root, pane.session, text, pane.dead_status)


def stop_agent(town: Town, agent: Agent, *, tmux: Tmux | None = None) -> bool:
    """Kill the agent's session; False when it was not running. A dead pane's screen is kept."""
    tm = tmux or Tmux.for_town(town)
    pane = tm.panes().get(agent.session)
    if pane is not None and pane.dead:
        keep_last_screen(town, tm, pane)
    return tm.kill_session(agent.session)


def _slung_model(town: Town, agent: Agent, settings) -> str | None:
    """The runtime's id of the model on the agent bead (`gt sling --model`), or None."""
    from gastown_tui.agents import agent_beads
    from gastown_tui.agents.runtimes import resolve_model

    ab = agent_beads.get(town, agent)
    model = ab.get("model") if ab is not None else None
    if not model:
        return None
    try:
        return resolve_model(str(model), None, settings)[1]
    except UsageError:
        return None  # a bead edited by hand must not keep the agent from starting
