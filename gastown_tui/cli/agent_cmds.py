"""Agents in tmux: `gt mayor`, `gt nudge`, `gt peek`, `gt session`, `gt dnd`, `gt agents`, and
`gt config agent` (runtime presets).

One module registers several top-level groups; `register(parser)` dispatches on the group's
name (the last word of `parser.prog`). Everything heavy is imported inside the handlers.
"""

from __future__ import annotations

import argparse
import sys

from gastown_tui.cli.framework import command, print_json, print_table, subcommands
from gastown_tui.errors import GtError, NotFound, UsageError


def register(p: argparse.ArgumentParser) -> None:
    group = p.prog.split()[-1]
    {
        "mayor": _register_mayor,
        "nudge": _register_nudge,
        "peek": _register_peek,
        "session": _register_session,
        "dnd": _register_dnd,
        "agents": _register_agents,
    }[group](p)


def _town(args):
    from gastown_tui.cli.common import town_of

    return town_of(args)


def resolve_target(town, text: str):
    """An agent address (`mayor`, `<rig>/witness`, `<rig>/<name>` ...) or an exact session name.

    Returns (agent_or_None, session_name).
    """
    from gastown_tui.town.identity import agent_from_session, parse_address

    rigs = town.rigs()
    if text.startswith("gt-") and "/" not in text:
        agent = agent_from_session(text, rigs)
        return agent, text
    if text in ("witness", "refinery"):  # the documents' bare form: the rig you are in
        from gastown_tui.cli.common import current_rig
        from gastown_tui.town.identity import Agent

        agent = Agent(text, current_rig(town, what=f"the bare target '{text}'"))
        return agent, agent.session
    if "/" not in text and text not in ("mayor", "deacon", "overseer"):
        found = _bare_polecat(town, text)  # `gt peek <polecat>`: a polecat's bare name
        if found is not None:
            return found, found.session
    agent = parse_address(text, rigs)
    return agent, agent.session


def _bare_polecat(town, name: str):
    """The polecat called `name`: in the rig you are in, else the only rig that has one."""
    from gastown_tui.cli.common import rig_here
    from gastown_tui.town.identity import Agent

    rigs = town.rigs()
    here = rig_here(town)
    if not name or not name.replace("_", "").replace("-", "").isalnum():
        return None
    if here is not None and town.rig(here).polecat(name).is_dir():
        return Agent("polecat", here, name)
    have = [r for r in sorted(rigs) if town.rig(r).polecat(name).is_dir()]
    return Agent("polecat", have[0], name) if len(have) == 1 else None


# -- gt mayor ----------------------------------------------------------------------------------

def _register_mayor(p: argparse.ArgumentParser) -> None:
    sub = subcommands(p)
    s = command(sub, "start", "start the mayor (the town's AI coordinator) in its tmux session", _mayor_start)
    s.add_argument("--agent", metavar="RUNTIME", help="runtime: claude, codex, gemini, aider, opencode, sim or a custom one")
    s.add_argument("--prompt", help="first prompt instead of the standard beacon")
    command(sub, "stop", "stop the mayor's session", _mayor_stop)
    r = command(sub, "restart", "stop and start the mayor again", _mayor_restart)
    r.add_argument("--agent", metavar="RUNTIME", help="runtime to restart with")
    r.add_argument("--prompt", help="first prompt instead of the standard beacon")
    command(sub, "status", "is the mayor running, and what is it doing?", _mayor_status, json_flag=True)
    command(sub, "attach", "attach this terminal to the mayor (detach with the tmux prefix, then d)", _mayor_attach)


def _mayor():
    from gastown_tui.town.identity import Agent

    return Agent("mayor")


def _start(args, agent) -> int:
    from gastown_tui.agents.runtimes import get_runtime
    from gastown_tui.agents.sessions import agent_runtime_name, start_agent

    town = _town(args)
    info = start_agent(town, agent, runtime=args.agent, prompt=args.prompt)
    rt = get_runtime(info.runtime or args.agent or agent_runtime_name(town, agent))
    print(f"{agent.address} started: tmux session {info.session} (runtime {rt.name}, {info.width}x{info.height}); "
          f"attach with 'gt {agent.address} attach'" if agent.role == "mayor" else
          f"{agent.address} started: tmux session {info.session} (runtime {rt.name})")
    if rt.prompt_mode == "nudge":
        _deliver_first_prompt(town, agent)
    return 0


def _deliver_first_prompt(town, agent, timeout: float = 30.0) -> None:
    """Runtimes that take the prompt typed in: wait for their ready prompt, then drain the queue."""
    import time

    from gastown_tui.agents.nudge import drain_queue, queued

    deadline = time.monotonic() + timeout
    while queued(town, agent) and time.monotonic() < deadline:
        if drain_queue(town, agent):
            break
        time.sleep(0.5)
    if queued(town, agent):
        print(f"the first prompt is queued; it will be typed in when {agent.address} shows its prompt")


def _mayor_start(args) -> int:
    return _start(args, _mayor())


def _mayor_stop(args) -> int:
    from gastown_tui.agents.sessions import stop_agent

    if stop_agent(_town(args), _mayor()):
        print("mayor stopped")
        return 0
    print("mayor was not running; nothing to stop")
    return 0


def _mayor_restart(args) -> int:
    from gastown_tui.agents.sessions import stop_agent

    stop_agent(_town(args), _mayor())
    return _start(args, _mayor())


def _agent_state(town, session: str) -> dict:
    """One sample pair of the status engine for one session (two samples confirm idle)."""
    import time

    from gastown_tui.patrols.witness import status_engine

    eng = status_engine(town)
    rows = eng.poll()
    row = next((r for r in rows.values() if r.session == session), None)
    if row is not None and row.status.candidate in ("idle", "waiting") and row.status.state != row.status.candidate:
        time.sleep(0.3)
        row = next((r for r in eng.poll().values() if r.session == session), None)
    return row


def _mayor_status(args) -> int:
    from gastown_tui.infra.tmux import Tmux

    town = _town(args)
    agent = _mayor()
    pane = Tmux.for_town(town).panes().get(agent.session)
    if pane is None:
        data = {"address": "mayor", "session": agent.session, "running": False, "state": "dead",
                "reason": "no tmux session"}
    else:
        row = _agent_state(town, agent.session)
        data = {"address": "mayor", "session": agent.session, "running": not pane.dead, "runtime": pane.runtime,
                "pid": pane.pid, "state": row.status.state if row else "dead",
                "reason": row.status.reason if row else "", "width": pane.width, "height": pane.height}
    if args.json:
        print_json(data)
    elif not data["running"]:
        print(f"mayor: not running ({data['reason']}); start it with 'gt mayor start'")
    else:
        print(f"mayor: {data['state']} — {data['reason']} (session {data['session']}, runtime {data['runtime']}, pid {data['pid']})")
    return 0


def _attach_session(town, session: str) -> int:
    from gastown_tui.infra.tmux import Tmux

    tm = Tmux.for_town(town)
    if not tm.has_session(session):
        raise NotFound(f"no tmux session '{session}' is running", hint="list them with 'gt session list'")
    if not sys.stdin.isatty():
        raise UsageError("attach needs a terminal", hint=f"run it from a terminal, or read the screen with 'gt session capture {session}'")
    from gastown_tui.infra.tmux import run_foreground

    return run_foreground(tm.attach_argv(session))


def _mayor_attach(args) -> int:
    return _attach_session(_town(args), _mayor().session)


# -- gt nudge ----------------------------------------------------------------------------------

def _register_nudge(p: argparse.ArgumentParser) -> None:
    p.description = ("type a message into an agent's session and verify it was submitted; exits 0 only "
                     "when delivered (or, with --mode queue or under do-not-disturb, queued)")
    p.add_argument("target", metavar="TARGET",
                   help="mayor, deacon, witness or refinery (of the rig you are in), <rig>/witness, <rig>/<polecat>, "
                        "<rig>/crew/<name>, or channel:<name> to broadcast (all, polecats, witnesses, refineries, "
                        "crew, <rig>, or one defined under [channels] in settings)")
    p.add_argument("message", metavar="MESSAGE", nargs="?", help="the text (or use --stdin)")
    p.add_argument("--stdin", action="store_true", help="read the message from standard input")
    p.add_argument("--mode", choices=("immediate", "wait-idle", "queue"), default="immediate",
                   help="immediate (default), wait-idle (type it once the agent is at its prompt), queue")
    p.add_argument("--force", action="store_true", help="type it even if the agent is in do-not-disturb")
    p.add_argument("--wait-timeout", type=float, default=120.0, metavar="SECONDS",
                   help="with --mode wait-idle: how long to wait before queueing instead (default 120)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=_nudge)


def _nudge(args) -> int:
    from gastown_tui.agents.nudge import deliver

    if args.stdin and args.message is not None:
        raise UsageError("give the message as an argument or with --stdin, not both")
    if args.stdin:
        message = sys.stdin.read().rstrip("\n")  # the newline that ends piped text is not content
    elif args.message is None:
        raise UsageError("gt nudge needs a MESSAGE", hint="for example: gt nudge mayor \"check your hook\" (or pipe it with --stdin)")
    else:
        message = args.message
    town = _town(args)
    import os

    sender = os.environ.get("BD_ACTOR") or "overseer"
    if args.target.startswith("channel:"):
        return _broadcast(town, args, message, sender)
    agent, _ = resolve_target(town, args.target)
    if agent is None:
        raise UsageError(f"'{args.target}' is not an agent session", hint="use an agent address such as 'mayor' or '<rig>/witness'")
    res = deliver(town, agent, message, mode=args.mode, force=args.force, sender=sender, wait_timeout=args.wait_timeout)
    if args.json:
        print_json({"target": agent.address, **res.to_json()})
        return 0 if res.ok else 1
    if res.status == "delivered":
        print(f"delivered to {agent.address} (verified on screen, {res.attempts} submit{'s' if res.attempts != 1 else ''}, {res.seconds:.2f}s)")
        return 0
    if res.status == "queued":
        print(f"queued (not yet delivered): {res.detail}")
        return 0
    if "no running session" in res.detail or "has exited" in res.detail:
        hint = f"start it first ('gt session start {agent.address}'), or queue it with --mode queue"
    else:
        hint = f"look with 'gt peek {agent.address}', or queue it with --mode queue"
    raise GtError(f"nudge to {agent.address} failed: {res.detail}", hint=hint)


def _broadcast(town, args, message: str, sender: str) -> int:
    """`gt nudge channel:<name> MSG`: every running member, each reported honestly."""
    from gastown_tui.agents.channels import members
    from gastown_tui.agents.nudge import deliver

    name = args.target.split(":", 1)[1]
    if not name:
        raise UsageError("channel: needs a name", hint="for example channel:all or channel:polecats")
    targets = members(town, name)
    results = [(a, deliver(town, a, message, mode=args.mode, force=args.force, sender=sender,
                           wait_timeout=args.wait_timeout)) for a in targets]
    failed = [a for a, r in results if not r.ok]
    if args.json:
        print_json({"target": args.target, "results": [{"target": a.address, **r.to_json()} for a, r in results]})
        return 1 if failed else 0
    if not results:
        print(f"channel:{name} has no running members; nothing sent")
        return 0
    for a, r in results:
        print(f"  {a.address:<28} {r.status}" + ("" if r.status == "delivered" else f": {r.detail}"))
    print(f"channel:{name}: {len(results) - len(failed)} of {len(results)} reached")
    return 1 if failed else 0


# -- gt peek -----------------------------------------------------------------------------------

def _register_peek(p: argparse.ArgumentParser) -> None:
    p.add_argument("target", metavar="TARGET", help="an agent address, a polecat's name, or a session name")
    p.add_argument("lines", metavar="LINES", nargs="?", type=int, default=30, help="how many lines (default 30)")
    p.add_argument("--ansi", action="store_true", help="keep colours even when not writing to a terminal")
    p.set_defaults(func=_peek, _terminal="sgr")


def _capture(args) -> int:
    from gastown_tui.infra.tmux import Tmux

    town = _town(args)
    _, session = resolve_target(town, args.target)
    if args.lines is not None and args.lines < 0:
        raise UsageError("LINES must be zero or more", hint="for example: gt peek mayor 50")
    ansi = bool(getattr(args, "ansi", False)) or sys.stdout.isatty()
    tm = Tmux.for_town(town)
    pane = tm.panes().get(session)
    if pane is None:
        return _last_screen(town, args.target, session)
    if pane.dead:
        # A program that died at start-up printed a line or two and left: show those, not the
        # blank bottom of its window (`agents.exits` reads a dead screen).
        from gastown_tui.agents.exits import dead_screens, summarize

        lines = summarize(dead_screens(tm, [session]).get(session, ""), pane.dead_status)["lines"]
        text = "\n".join(lines[-args.lines:] if args.lines else lines)
        print(f"{args.target}: the process exited with status {pane.dead_status}", file=sys.stderr)
    else:
        text = tm.capture_many([session], lines=args.lines, ansi=ansi).get(session, "")
    sys.stdout.write(text + ("\n" if text else ""))
    return 0


def _last_screen(town, target: str, session: str) -> int:
    """No session: the screen it had when it died, if one was kept (`agents.exits`)."""
    import time

    from gastown_tui.agents.exits import describe, last_exit
    from gastown_tui.agents.nudge import sanitize

    rec = last_exit(town.root, session)
    if rec is None:
        raise NotFound(f"{target} has no running session ({session})", hint="list sessions with 'gt session list'")
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(rec.get("ts") or 0)))
    print(f"{target} has no running session; it {describe(rec)} (at {when}). Its last screen:", file=sys.stderr)
    for line in rec.get("lines") or []:
        print(sanitize(str(line)))
    return 0


_peek = _capture


# -- gt session --------------------------------------------------------------------------------

def _register_session(p: argparse.ArgumentParser) -> None:
    sub = subcommands(p)
    command(sub, "list", "list the town's tmux sessions", _session_list, aliases=["ls"], json_flag=True)
    c = command(sub, "capture", "print the last lines of a session's screen", _capture)
    c.add_argument("target", metavar="TARGET")
    c.add_argument("lines", metavar="LINES", nargs="?", type=int, default=None, help="default: the visible screen")
    c.add_argument("--ansi", action="store_true", help="keep colours even when not writing to a terminal")
    c.set_defaults(_terminal="sgr")
    a = command(sub, "attach", "attach this terminal to a session (detach with the tmux prefix, then d)", _session_attach)
    a.add_argument("target", metavar="TARGET")
    k = command(sub, "kill", "kill a session", _session_kill)
    k.add_argument("target", metavar="TARGET")
    s = command(sub, "start", "start an agent's session (mayor, deacon, <rig>/crew/<name> ...)", _session_start)
    s.add_argument("target", metavar="TARGET")
    s.add_argument("--agent", metavar="RUNTIME", help="runtime to run")
    s.add_argument("--prompt", help="first prompt instead of the standard beacon")
    k = command(sub, "stop", "stop an agent's session (its worktree and hook stay)", _session_stop)
    k.add_argument("target", metavar="TARGET")
    r = command(sub, "restart", "stop an agent's session and start it again (patrols as patrols)", _session_restart)
    r.add_argument("target", metavar="TARGET")
    r.add_argument("--agent", metavar="RUNTIME", help="runtime to run (agents; default: the one it ran)")
    r.add_argument("--prompt", help="first prompt instead of the standard beacon")
    command(sub, "health", "every session: alive or dead, its state, and how fresh a patrol's heartbeat is",
            _session_health, json_flag=True)


def _session_list(args) -> int:
    from gastown_tui.infra.tmux import Tmux
    from gastown_tui.town.identity import agent_from_session

    town = _town(args)
    rigs = town.rigs()
    panes = Tmux.for_town(town).panes()
    rows = []
    for name in sorted(panes):
        p = panes[name]
        agent = agent_from_session(name, rigs)
        rows.append({"session": name, "address": agent.address if agent else None, "runtime": p.runtime or None,
                     "pid": p.pid, "dead": p.dead, "dead_status": p.dead_status, "activity": p.activity,
                     "width": p.width, "height": p.height, "command": p.current_command})
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("no sessions running; start one with 'gt mayor start'")
        return 0
    print_table([[r["session"], r["address"] or "-", r["runtime"] or "-", r["pid"],
                  f"dead ({r['dead_status']})" if r["dead"] else "alive", f"{r['width']}x{r['height']}"] for r in rows],
                ["session", "agent", "runtime", "pid", "process", "size"])
    return 0


def _session_attach(args) -> int:
    town = _town(args)
    _, session = resolve_target(town, args.target)
    return _attach_session(town, session)


def _session_kill(args) -> int:
    from gastown_tui.infra.tmux import Tmux

    town = _town(args)
    _, session = resolve_target(town, args.target)
    if not Tmux.for_town(town).kill_session(session):
        raise NotFound(f"no tmux session '{session}' is running", hint="list them with 'gt session list'")
    print(f"killed {session}")
    return 0


def _agent_target(town, text: str):
    """An agent (not a bare session name) for the verbs that start one."""
    agent, _ = resolve_target(town, text)
    if agent is None:
        raise UsageError(f"'{text}' is not an agent address", hint="for example 'mayor', '<rig>/witness' or '<rig>/crew/<name>'")
    return agent


def _session_start(args) -> int:
    return _start(args, _agent_target(_town(args), args.target))


def _session_stop(args) -> int:
    from gastown_tui.infra.tmux import Tmux

    town = _town(args)
    agent, session = resolve_target(town, args.target)
    if Tmux.for_town(town).kill_session(session):
        print(f"{agent.address if agent else session} stopped (tmux session {session})")
    else:
        print(f"{agent.address if agent else session} was not running; nothing to stop")
    return 0


def _session_restart(args) -> int:
    from gastown_tui.infra.tmux import Tmux

    town = _town(args)
    agent = _agent_target(town, args.target)
    Tmux.for_town(town).kill_session(agent.session)
    if agent.role in ("deacon", "witness", "refinery"):
        from gastown_tui.patrols.deacon import start_patrol

        start_patrol(town, agent)
        print(f"{agent.address} restarted (tmux session {agent.session})")
        return 0
    if agent.role == "polecat" and not args.agent:  # the runtime it was slung with, not the default
        from gastown_tui.agents import agent_beads

        ab = agent_beads.get(town, agent)
        args.agent = ab.get("runtime") if ab is not None else None
    return _start(args, agent)


def _session_health(args) -> int:
    import time

    from gastown_tui.agents.status import StatusEngine
    from gastown_tui.infra.tmux import Tmux
    from gastown_tui.agents.heartbeat import read_heartbeat
    from gastown_tui.town.identity import agent_from_session

    town = _town(args)
    rigs = town.rigs()
    panes = Tmux.for_town(town).panes()
    states = {r.session: r for r in StatusEngine(town).poll().values()}
    now = time.time()
    rows = []
    for name in sorted(panes):
        p = panes[name]
        agent = agent_from_session(name, rigs)
        if agent is None:
            continue
        beat = read_heartbeat(town, name) if agent.role in ("deacon", "witness", "refinery") else None
        row = states.get(name)
        rows.append({"session": name, "address": agent.address, "alive": not p.dead,
                     "state": row.status.state if row else ("dead" if p.dead else "unknown"),
                     "reason": row.status.reason if row else "",
                     "heartbeat_age": round(now - beat["ts"], 1) if beat else None})
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("no agent sessions running; start the fleet with 'gt up'")
        return 0
    print_table([[r["address"], "alive" if r["alive"] else "dead", r["state"],
                  f"{r['heartbeat_age']:.0f}s ago" if r["heartbeat_age"] is not None else "-", r["session"]]
                 for r in rows], ["agent", "process", "state", "heartbeat", "session"])
    return 0


# -- gt dnd ------------------------------------------------------------------------------------

def _register_dnd(p: argparse.ArgumentParser) -> None:
    sub = subcommands(p)
    for name, help in (("on", "do not disturb: nudges are queued unless --force"),
                       ("off", "accept nudges again (queued ones are delivered when idle)"),
                       ("status", "show do-not-disturb for an agent")):
        c = command(sub, name, help, _dnd, json_flag=name == "status")
        c.add_argument("target", metavar="TARGET", nargs="?", help="agent address (default: the agent running this command)")
        c.set_defaults(dnd=name)


def _dnd(args) -> int:
    import os
    from pathlib import Path

    from gastown_tui.agents.nudge import is_dnd, queued, set_dnd
    from gastown_tui.town.identity import agent_from_env

    town = _town(args)
    if args.target:
        agent, _ = resolve_target(town, args.target)
    else:
        agent = agent_from_env(dict(os.environ), Path.cwd(), town.root)
    if agent is None:
        raise UsageError("which agent? this shell is not an agent's", hint="name one: gt dnd on mayor")
    if args.dnd in ("on", "off"):
        set_dnd(town, agent, args.dnd == "on")
        print(f"do-not-disturb {args.dnd} for {agent.address}")
        if args.dnd == "off" and queued(town, agent):
            from gastown_tui.agents.nudge import drain_queue

            sent = drain_queue(town, agent)
            left = len(queued(town, agent))
            print(f"delivered {sent} queued nudge{'s' if sent != 1 else ''}" + (f"; {left} still queued until it is idle" if left else ""))
        return 0
    on = is_dnd(town, agent)
    waiting = len(queued(town, agent))
    if getattr(args, "json", False):
        print_json({"address": agent.address, "dnd": on, "queued": waiting})
    else:
        print(f"{agent.address}: do-not-disturb {'on' if on else 'off'}, {waiting} nudge{'s' if waiting != 1 else ''} queued")
    return 0


# -- gt agents ---------------------------------------------------------------------------------

def _register_agents(p: argparse.ArgumentParser) -> None:
    p.description = "What every agent is doing; bare 'gt agents' is 'gt agents status'."
    p.add_argument("--explain", action="store_true", help="show the signal behind each state")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.set_defaults(func=_agents_status)
    sub = subcommands(p)
    sub.required = False
    s = command(sub, "status", "what every agent is doing: dead, starting, working, idle, waiting, stalled",
                _agents_status, aliases=["list", "ls"], json_flag=True)
    s.add_argument("--explain", action="store_true", help="show the signal behind each state")


def _agents_status(args) -> int:
    import time

    from gastown_tui.patrols.witness import status_engine

    town = _town(args)
    eng = status_engine(town)
    rows = eng.poll()
    if any(r.status.candidate != r.status.state for r in rows.values()):
        time.sleep(0.3)  # a second sample confirms idle/waiting
        rows = eng.poll()
    items = sorted(rows.values(), key=lambda r: r.address)
    if args.json:
        print_json([r.to_json(explain=True) for r in items])
        return 0
    if not items:
        print("no agents running; start the mayor with 'gt mayor start'")
        return 0
    headers = ["agent", "state", "runtime", "session"] + (["reason"] if args.explain else [])
    print_table([[r.address, r.status.state, r.runtime or "-", r.session] + ([r.explanation] if args.explain else [])
                 for r in items], headers)
    return 0


# -- gt config agent ---------------------------------------------------------------------------

def register_config_agent(sub: argparse._SubParsersAction) -> None:
    p = command(sub, "agent", "agent runtimes: list presets and custom ones, show or set one")
    s2 = subcommands(p)
    command(s2, "list", "list runtimes (presets and [agents.*] in settings)", _cfg_agent_list, aliases=["ls"], json_flag=True)
    sh = command(s2, "show", "show one runtime: command, prompt mode, submit keys, patterns", _cfg_agent_show, json_flag=True)
    sh.add_argument("name", metavar="RUNTIME")
    st = command(s2, "set", "set a field of a custom runtime (or override a preset's)", _cfg_agent_set)
    st.add_argument("name", metavar="RUNTIME")
    st.add_argument("field", metavar="FIELD", help="command, args, prompt_mode, submit_keys, ready_patterns, busy_patterns, permission_patterns, env")
    st.add_argument("value", metavar="VALUE", help="text; lists as a,b or a JSON array; env as a JSON object")


def _cfg_agent_list(args) -> int:
    from gastown_tui.agents.runtimes import list_runtimes
    from gastown_tui.town.config import load_settings

    town = _town(args)
    settings = load_settings(town.root)
    default = settings.get("default_agent")
    rts = list_runtimes(settings)
    if args.json:
        print_json([{**r.to_json(), "default": r.name == default} for r in rts])
        return 0
    import shlex

    print_table([[("* " if r.name == default else "  ") + r.name, r.prompt_mode, shlex.join(r.program),
                  "custom" if r.custom else "preset"] for r in rts], ["runtime", "prompt", "command", "kind"])
    return 0


def _cfg_agent_show(args) -> int:
    from gastown_tui.agents.runtimes import get_runtime
    from gastown_tui.town.config import load_settings

    rt = get_runtime(args.name, load_settings(_town(args).root))
    data = rt.to_json()
    if args.json:
        print_json(data)
        return 0
    for k, v in data.items():
        print(f"{k}: {v}")
    return 0


_FIELDS = ("command", "args", "prompt_mode", "submit_keys", "ready_patterns", "busy_patterns",
           "permission_patterns", "env")


def _cfg_agent_set(args) -> int:
    from gastown_tui.agents.runtimes import get_runtime
    from gastown_tui.town.config import convert, load_settings

    if args.field not in _FIELDS:
        raise UsageError(f"'{args.field}' is not a runtime field", hint="use one of: " + ", ".join(_FIELDS))
    if not args.name.replace("_", "").replace("-", "").isalnum():
        raise UsageError(f"'{args.name}' is not a valid runtime name", hint="use letters, digits, '-' and '_'")
    town = _town(args)
    key = f"agents.{args.name}.{args.field}"
    value = convert(key, args.value)
    settings = load_settings(town.root)
    settings.set(key, value)
    get_runtime(args.name, settings)  # validate the whole runtime before anything is written
    settings.save()
    print(f"{key} = {value!r}")
    return 0
