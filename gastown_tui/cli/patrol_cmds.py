"""`gt deacon|witness|refinery run|start|stop|status|attach`: the patrol loops and their sessions.

One module serves the three groups; `register` reads which one from the parser's name.
"""

from __future__ import annotations

import argparse

from gastown_tui.cli.common import town_of
from gastown_tui.cli.daemon_cmds import log_line
from gastown_tui.cli.framework import command, print_json, print_table, subcommands


def register(p: argparse.ArgumentParser) -> None:
    role = p.prog.split()[-1]
    sub = subcommands(p)
    rig_arg = role != "deacon"

    def with_rig(sp, optional=False):
        if rig_arg:
            sp.add_argument("rig", nargs="?", metavar="RIG",
                            help="the rig (default: every rig)" if optional else "the rig (default: the one you are in)")
        return sp

    r = with_rig(command(sub, "run", f"run the {role} patrol loop in the foreground", _run))
    r.add_argument("--once", action="store_true", help="one patrol, then exit")
    with_rig(command(sub, "start", f"start the {role} in its tmux session", _start))
    with_rig(command(sub, "stop", f"stop the {role}'s session", _stop))
    with_rig(command(sub, "status", f"is the {role} running? (heartbeat, session)", _status, json_flag=True),
             optional=True)
    with_rig(command(sub, "attach", f"attach to the {role}'s tmux session", _attach))
    p.set_defaults(role=role)


def _agent(args):
    from gastown_tui.town.identity import Agent

    town = town_of(args)
    if args.role == "deacon":
        return town, Agent("deacon")
    from gastown_tui.cli.common import current_rig

    args.rig = current_rig(town, args.rig, what=f"gt {args.role} {args._prog.split()[-1]}")
    return town, Agent(args.role, args.rig)


def _run(args: argparse.Namespace) -> int:
    town, agent = _agent(args)
    if args.role == "deacon":
        from gastown_tui.patrols import deacon

        deacon.run(town, once=args.once, log=log_line)
    elif args.role == "witness":
        from gastown_tui.patrols import witness

        witness.run(town, agent.rig, once=args.once, log=log_line)
    else:
        from gastown_tui.patrols import refinery

        refinery.run(town, agent.rig, once=args.once, log=log_line)
    return 0


def _start(args: argparse.Namespace) -> int:
    from gastown_tui.patrols.deacon import start_patrol

    town, agent = _agent(args)
    start_patrol(town, agent)
    print(f"{agent.address} started in tmux session {agent.session}")
    return 0


def _stop(args: argparse.Namespace) -> int:
    from gastown_tui.infra.tmux import Tmux

    town, agent = _agent(args)
    if Tmux.for_town(town).kill_session(agent.session):
        print(f"{agent.address} stopped")
    else:
        print(f"{agent.address} was not running")
    return 0


def patrol_status(town, agents) -> list[dict]:
    import time

    from gastown_tui.infra.tmux import Tmux
    from gastown_tui.agents.heartbeat import read_heartbeat

    panes = Tmux.for_town(town).panes()
    now = time.time()
    out = []
    for a in agents:
        pane = panes.get(a.session)
        beat = read_heartbeat(town, a.session)
        out.append({"agent": a.address, "session": a.session,
                    "state": "running" if pane and not pane.dead else ("dead" if pane else "stopped"),
                    "pid": pane.pid if pane else None,
                    "heartbeat_age": round(now - beat["ts"], 1) if beat else None})
    return out


def _status(args: argparse.Namespace) -> int:
    from gastown_tui.town.identity import Agent

    town = town_of(args)
    if args.role == "deacon":
        agents = [Agent("deacon")]
    elif getattr(args, "rig", None):
        town.require_rig(args.rig)
        agents = [Agent(args.role, args.rig)]
    else:
        agents = [Agent(args.role, r) for r in sorted(town.rigs())]
    rows = patrol_status(town, agents)
    if args.json:
        print_json(rows)
        return 0
    print_table([(r["agent"], r["state"], r["pid"] or "-",
                  f"{r['heartbeat_age']:.0f}s ago" if r["heartbeat_age"] is not None else "never")
                 for r in rows], ["agent", "state", "pid", "heartbeat"])
    return 0


def _attach(args: argparse.Namespace) -> int:
    import os
    import subprocess

    from gastown_tui.errors import NotFound
    from gastown_tui.infra.tmux import Tmux

    town, agent = _agent(args)
    tm = Tmux.for_town(town)
    if not tm.has_session(agent.session):
        raise NotFound(f"{agent.address} is not running", hint=f"start it with 'gt {args.role} start'")
    return subprocess.call(tm.attach_argv(agent.session, dict(os.environ)))
