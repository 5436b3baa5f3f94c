"""The fleet lifecycle: up, down, start, shutdown, rig reboot.

- `up`: idempotent — daemon, deacon, mayor, and a witness and refinery per unparked rig; what
  already runs is left alone.
- `down`: stop every session and the daemon; state and worktrees stay.
- `start [--all]`: the deacon and mayor (with `all`: witnesses, refineries, and polecats that have
  hooked work but no session).
- `shutdown`: stop sessions and remove polecats whose work is merged or empty; unmerged work is
  kept unless `force`. `polecats_only` leaves the services running; `graceful` asks polecats to
  commit and waits for them to go idle first. Crew sessions (humans' workspaces) keep running
  unless `all` (`gt shutdown --all`: everything stops).
- `reboot_rig`: restart one rig's witness and refinery.
- `remove_rig`: `gt rig remove`; with `force`, the rig's sessions are stopped (and their processes
  gone) after it is unregistered and before its directory is deleted, so no witness recreates it.
"""

from __future__ import annotations

import time
from typing import Any

from gastown_tui.town.identity import Agent, agent_from_session
from gastown_tui.town.layout import Town


def _tmux(town: Town, tmux=None):
    from gastown_tui.infra.tmux import Tmux

    return tmux or Tmux.for_town(town)


def _active_rigs(town: Town) -> list[str]:
    return [n for n, e in sorted(town.rigs().items()) if not e.get("parked")]


def _ensure(town: Town, agent: Agent, tm, results: list[dict[str, Any]], *, runtime: str | None = None) -> None:
    """Start `agent` unless it runs; mayor and crew with `runtime` when given (the one they ran
    with before a server loss), else their configured one."""
    from gastown_tui.patrols.deacon import start_patrol

    pane = tm.panes().get(agent.session)
    if pane is not None and not pane.dead:
        results.append({"agent": agent.address, "session": agent.session, "action": "already running"})
        return
    try:
        if agent.role in ("mayor", "crew"):
            from gastown_tui.agents.sessions import start_agent

            start_agent(town, agent, runtime=runtime or None, tmux=tm)
        else:
            start_patrol(town, agent, tm)
        results.append({"agent": agent.address, "session": agent.session, "action": "started"})
    except Exception as e:  # noqa: BLE001 - report and go on with the rest of the fleet
        pane = tm.panes().get(agent.session)
        if pane is not None and not pane.dead:  # someone (boot) started it at the same moment
            results.append({"agent": agent.address, "session": agent.session, "action": "already running"})
            return
        results.append({"agent": agent.address, "session": agent.session, "action": "failed", "error": str(e)})


def services(town: Town) -> list[Agent]:
    out = [Agent("deacon")]
    for rig in _active_rigs(town):
        out += [Agent("witness", rig), Agent("refinery", rig)]
    return out


def up(town: Town, *, tmux=None, daemon: bool = True, mayor: bool = True) -> dict[str, Any]:
    from gastown_tui.patrols import daemon as daemon_mod

    tm = _tmux(town, tmux)
    out: dict[str, Any] = {"daemon": None, "agents": []}
    # The deacon first: the daemon's boot would otherwise race us to start it.
    _ensure(town, Agent("deacon"), tm, out["agents"])
    if daemon:
        st = daemon_mod.status(town)
        if st["running"]:
            out["daemon"] = {"action": "already running", "pid": st["pid"]}
        else:
            try:
                st = daemon_mod.start(town)
                out["daemon"] = {"action": "started", "pid": st["pid"]}
            except Exception as e:  # noqa: BLE001
                out["daemon"] = {"action": "failed", "error": str(e)}
    agents = [*([Agent("mayor")] if mayor else []), *services(town)[1:]]
    for a in agents:
        _ensure(town, a, tm, out["agents"])
    _event(town, "town.up", {"started": [a["agent"] for a in out["agents"] if a["action"] == "started"]})
    return out


def start(town: Town, *, all: bool = False, tmux=None) -> dict[str, Any]:
    tm = _tmux(town, tmux)
    out: list[dict[str, Any]] = []
    if all:
        # Polecats first: a witness that is already patrolling would otherwise see their hooks
        # held by missing sessions and restart them at the same moment we do.
        out += restart_hooked_polecats(town, tm)
    for a in (Agent("deacon"), Agent("mayor")):
        _ensure(town, a, tm, out)
    if all:
        for a in services(town)[1:]:
            _ensure(town, a, tm, out)
    return {"agents": out}


def restart_hooked_polecats(town: Town, tm) -> list[dict[str, Any]]:
    """Polecats with work on their hook but no running session get their session back."""
    from gastown_tui.agents import agent_beads
    from gastown_tui.agents.polecats import polecat_runtime
    from gastown_tui.agents.sessions import start_agent
    from gastown_tui.beads.store import Store

    out = []
    panes = tm.panes()
    for rig in _active_rigs(town):
        rp = town.rig(rig)
        if not rp.beads_dir.is_dir():
            continue
        prefix = f"{rig}/polecats/"
        for iss in Store(rp.beads_dir).list(status="hooked"):
            if not iss.assignee.startswith(prefix):
                continue
            agent = Agent("polecat", rig, iss.assignee[len(prefix):])
            pane = panes.get(agent.session)
            if (pane is not None and not pane.dead) or not rp.polecat(agent.name).is_dir():
                continue
            ab = agent_beads.get(town, agent)  # the runtime it was slung with, not the rig default
            runtime = (ab.get("runtime") if ab is not None else None) or polecat_runtime(town, rig)
            try:
                start_agent(town, agent, runtime=runtime, tmux=tm)
                out.append({"agent": agent.address, "session": agent.session, "action": "started"})
            except Exception as e:  # noqa: BLE001
                out.append({"agent": agent.address, "session": agent.session, "action": "failed", "error": str(e)})
    return out


def watch_fleet(town: Town, memory: dict[str, Any], *, tmux=None, log=lambda _m: None) -> list[dict[str, Any]]:
    """Run on every daemon tick: remember the tmux server's pid and the town's sessions; when the
    server the deacon ran on is gone (killed, crashed: no server, or a new one), start again what
    ran there — the deacon, the mayor, witnesses, refineries, crew, and polecats with hooked work.

    The deacon never leaves on its own (boot restarts it), so a server lost with the deacon on it
    is a loss; a server that exited because its last session ended normally is not.
    """
    tm = _tmux(town, tmux)
    pid = tm.server_pid()
    restored: list[dict[str, Any]] = []
    seen: list[str] = memory.get("sessions") or []
    runtimes: dict[str, str] = memory.get("runtimes") or {}
    if memory.get("server") and pid != memory["server"] and "gt-deacon" in seen:
        log(f"the tmux server (pid {memory['server']}) is gone; bringing back {', '.join(seen)}")
        rigs = town.rigs()
        restored += restart_hooked_polecats(town, tm)
        agents = [a for a in (agent_from_session(s, rigs) for s in seen) if a is not None and a.role != "polecat"]
        rank = {"deacon": 0, "mayor": 1, "witness": 2, "refinery": 3, "crew": 4}
        for a in sorted(agents, key=lambda a: (rank.get(a.role, 9), a.session)):
            if a.rig is None or not rigs.get(a.rig, {}).get("parked"):
                _ensure(town, a, tm, restored, runtime=runtimes.get(a.session))
        _event(town, "fleet.restored", {"after": "tmux server loss",
                                        "started": [r["agent"] for r in restored if r["action"] == "started"]})
        pid = tm.server_pid()
    memory["server"] = pid
    memory["sessions"] = town_sessions(town, tm) if pid else []
    # What each ran with: the server's session options die with it, and crew and the mayor have
    # no agent bead that records their runtime as a polecat's does.
    panes = tm.panes() if pid else {}
    memory["runtimes"] = {s: panes[s].runtime for s in memory["sessions"] if s in panes and panes[s].runtime}
    return restored


def town_sessions(town: Town, tm) -> list[str]:
    rigs = town.rigs()
    return [s for s in tm.list_sessions() if agent_from_session(s, rigs) is not None]


def down(town: Town, *, tmux=None) -> dict[str, Any]:
    from gastown_tui.patrols import daemon as daemon_mod

    tm = _tmux(town, tmux)
    stopped_daemon = daemon_mod.stop(town)
    stopped = []
    # Supervisors first, so nothing restarts what we stop.
    order = sorted(town_sessions(town, tm), key=lambda s: (s != "gt-deacon", not s.endswith("-witness"), s))
    for s in order:
        if tm.kill_session(s):
            stopped.append(s)
    from gastown_tui.patrols.orphans import stop_runtime_helpers

    helpers = [h["pid"] for h in stop_runtime_helpers(town, tm.panes())]  # e.g. Codex's app-server daemons
    _event(town, "town.down", {"stopped": stopped, "helpers_stopped": helpers})
    return {"daemon_stopped": stopped_daemon, "stopped": stopped, "helpers_stopped": helpers}


def shutdown(town: Town, *, polecats_only: bool = False, graceful: bool = False, force: bool = False,
             wait_seconds: float = 30.0, all: bool = False, tmux=None) -> dict[str, Any]:
    """Stop sessions and clean up polecats; never deletes unmerged work without `force`."""
    from gastown_tui.agents.polecats import unmerged_work
    from gastown_tui.work.nuke import nuke_polecat
    from gastown_tui.patrols import daemon as daemon_mod

    tm = _tmux(town, tmux)
    rigs = town.rigs()
    polecats: list[Agent] = []
    for rig in sorted(rigs):
        rp = town.rig(rig)
        if rp.polecats_dir.is_dir():
            polecats += [Agent("polecat", rig, p.name) for p in sorted(rp.polecats_dir.iterdir())
                         if p.is_dir() and not p.name.startswith(".")]
    out: dict[str, Any] = {"removed": [], "kept": [], "stopped": [], "daemon_stopped": False}
    if graceful:
        _graceful(town, tm, polecats, wait_seconds)
    if not polecats_only:
        out["daemon_stopped"] = daemon_mod.stop(town)
        for s in town_sessions(town, tm):
            a = agent_from_session(s, rigs)
            if a is None or a.role == "polecat" or (a.role == "crew" and not all):
                continue
            if tm.kill_session(s):
                out["stopped"].append(s)
    for a in polecats:
        ahead, dirty, branch = unmerged_work(town, a.rig, a.name)
        if (ahead or dirty) and not force:
            if tm.kill_session(a.session):
                out["stopped"].append(a.session)
            why = []
            if ahead:
                why.append(f"{ahead} unmerged commit(s) on {branch}")
            if dirty:
                why.append("uncommitted changes")
            out["kept"].append({"agent": a.address, "reason": " and ".join(why)})
            continue
        nuke_polecat(town, a.rig, a.name, force=True)
        out["removed"].append(a.address)
    _event(town, "town.shutdown", {"removed": out["removed"], "kept": [k["agent"] for k in out["kept"]]})
    return out


def _graceful(town: Town, tm, polecats: list[Agent], wait_seconds: float) -> None:
    """Ask running polecats to commit, then wait (bounded) for them to be idle or gone."""
    from gastown_tui.patrols.witness import nudge_agent

    panes = tm.panes()
    live = [a for a in polecats if a.session in panes and not panes[a.session].dead]
    for a in live:
        nudge_agent(town, a, "[gt shutdown] The town is shutting down: commit your work now "
                    "(git commit), then stop.", tm)
    deadline = time.monotonic() + wait_seconds
    while live and time.monotonic() < deadline:
        panes = tm.panes()
        now = time.time()
        live = [a for a in live if a.session in panes and not panes[a.session].dead
                and now - panes[a.session].activity < 3]
        if live:
            time.sleep(0.5)


def start_rig(town: Town, rig: str, *, tmux=None) -> dict[str, Any]:
    """`gt rig start RIG`: its witness and refinery (what runs is left alone), then hooked polecats."""
    town.require_rig(rig)
    tm = _tmux(town, tmux)
    out: list[dict[str, Any]] = []
    out += [a for a in restart_hooked_polecats(town, tm) if a["agent"].startswith(f"{rig}/")]
    for role in ("witness", "refinery"):
        _ensure(town, Agent(role, rig), tm, out)
    _event(town, "rig.started", {"rig": rig})
    return {"rig": rig, "agents": out}


def stop_rig(town: Town, rig: str, *, tmux=None) -> dict[str, Any]:
    """`gt rig stop RIG`: every session of the rig, supervisors first; worktrees and hooks stay."""
    town.require_rig(rig)
    tm = _tmux(town, tmux)
    rigs = town.rigs()
    mine = [s for s in town_sessions(town, tm) if (a := agent_from_session(s, rigs)) is not None and a.rig == rig]
    stopped = [s for s in sorted(mine, key=lambda s: (not s.endswith("-witness"), not s.endswith("-refinery"), s))
               if tm.kill_session(s)]
    _event(town, "rig.stopped", {"rig": rig, "stopped": stopped})
    return {"rig": rig, "stopped": stopped}


def reboot_rig(town: Town, rig: str, *, tmux=None) -> dict[str, Any]:
    from gastown_tui.patrols.deacon import start_patrol

    town.require_rig(rig)
    tm = _tmux(town, tmux)
    out = []
    for role in ("witness", "refinery"):
        a = Agent(role, rig)
        tm.kill_session(a.session)
        start_patrol(town, a, tm)
        out.append({"agent": a.address, "session": a.session, "action": "restarted"})
    _event(town, "rig.rebooted", {"rig": rig})
    return {"rig": rig, "agents": out}


def rig_sessions(town: Town, rig: str, tm) -> list[str]:
    """Every session of one rig (witness, refinery, polecats, crew); rig names never hold '-'."""
    return [s for s in tm.list_sessions() if s.startswith(f"gt-{rig}-")]


def stop_rig_sessions(town: Town, rig: str, *, tmux=None, timeout: float = 10.0) -> list[str]:
    """Stop every session of a rig — the witness first (it restarts polecats), then the refinery,
    then polecats and crew — and wait until their processes have exited."""
    from gastown_tui.infra.proc import pid_alive, terminate

    tm = _tmux(town, tmux)
    stopped: list[str] = []
    for _ in range(3):  # a supervisor may have started one while we stopped the others
        try:
            panes = {s: p for s, p in tm.panes().items() if s.startswith(f"gt-{rig}-")}
        except Exception:  # noqa: BLE001 - no tmux server: nothing runs
            break
        names = sorted(set(panes) | set(rig_sessions(town, rig, tm)),
                       key=lambda s: (not s.endswith("-witness"), not s.endswith("-refinery"), s))
        if not names:
            break
        for s in names:
            if tm.kill_session(s):
                stopped.append(s)
        for s in names:  # tmux hangs the pane up; wait for the process to be gone (SIGKILL if it lingers)
            pid = panes[s].pid if s in panes else None
            if pid and pid_alive(pid):
                terminate(pid, timeout=timeout)
    return stopped


def remove_rig(town: Town, rig: str, *, force: bool = False, tmux=None) -> dict[str, Any]:
    """`gt rig remove`: refuses a rig with running sessions or unmerged work unless `force`."""
    from gastown_tui.town.rigs import remove_rig as unregister_and_delete

    town.require_rig(rig)
    tm = _tmux(town, tmux)
    try:
        live = rig_sessions(town, rig, tm)
    except Exception:  # noqa: BLE001 - no tmux server: nothing runs
        live = []
    stopped: list[str] = []

    def stop() -> None:
        stopped.extend(stop_rig_sessions(town, rig, tmux=tm))

    unregister_and_delete(town, rig, force=force, live_sessions=live, before_delete=stop)
    return {"rig": rig, "stopped": stopped}


def _event(town: Town, type: str, payload: dict[str, Any]) -> None:
    try:
        from gastown_tui.town import events

        events.record(town.root, type, actor="overseer", payload=payload)
    except Exception:  # noqa: BLE001
        pass
