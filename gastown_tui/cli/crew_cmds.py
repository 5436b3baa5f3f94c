"""`gt crew add|list|at|remove` and `gt worktree RIG` (logic in gastown_tui.work.crew)."""

from __future__ import annotations

import argparse

from gastown_tui.cli.common import town_of
from gastown_tui.cli.framework import add_json, command, print_json, print_table, subcommands


def register(parser: argparse.ArgumentParser) -> None:
    if parser.prog.split()[-1] == "worktree":
        _reg_worktree(parser)
        return
    sub = subcommands(parser)
    p = command(sub, "add", "make a crew workspace (a full clone of the rig)", _add, json_flag=True)
    p.add_argument("rig")
    p.add_argument("name")
    p = command(sub, "list", "list crew workspaces", _list, json_flag=True)
    p.add_argument("rig", nargs="?")
    p = command(sub, "at", "start the crew member's session if needed, then attach to it", _at)
    p.add_argument("name", help="NAME or RIG/NAME")
    p.add_argument("--rig")
    p.add_argument("--agent", metavar="RUNTIME", help="runtime when the session has to be started")
    p.add_argument("--no-attach", action="store_true", help="only make sure the session runs")
    p = command(sub, "remove", "delete a crew workspace", _remove, json_flag=True)
    p.add_argument("name", help="NAME or RIG/NAME")
    p.add_argument("--rig")
    p.add_argument("--force", action="store_true", help="discard uncommitted or unpushed work")


def _add(args):
    from gastown_tui.work.crew import add_crew

    row = add_crew(town_of(args), args.rig, args.name)
    print_json(row) if args.json else print(f"crew {row['address']} ready at {row['path']}")


def _list(args):
    from gastown_tui.work.crew import list_crew

    rows = list_crew(town_of(args), args.rig)
    if args.json:
        print_json(rows)
    elif not rows:
        print("no crew")
    else:
        print_table([(r["rig"], r["name"], r["branch"] or "-", "yes" if r["session_alive"] else "no", r["path"])
                     for r in rows], ["rig", "name", "branch", "session", "path"])


def _at(args):
    import os
    import shutil

    from gastown_tui.work.crew import ensure_session, find_crew

    town = town_of(args)
    rig, name = find_crew(town, args.name, args.rig)
    session = ensure_session(town, rig, name, runtime=args.agent)
    if args.no_attach:
        print(f"session {session} is running")
        return 0
    tmux = shutil.which("tmux") or "tmux"
    env = dict(os.environ)
    env.pop("TMUX", None)  # nest cleanly when called from inside another tmux
    os.execvpe(tmux, [tmux, "-L", town.tmux_socket, "attach-session", "-t", f"={session}"], env)


def _remove(args):
    from gastown_tui.work.crew import remove_crew

    res = remove_crew(town_of(args), args.rig, args.name, force=args.force)
    print_json(res) if args.json else print(f"removed crew {res['rig']}/crew/{res['name']}")


def _reg_worktree(p: argparse.ArgumentParser) -> None:
    p.description = ("Make your checkout in another rig, at RIG/crew/<your rig>-<your name>/, keeping your "
                     "identity: commits and bead changes there are yours (BD_ACTOR, git author). It is "
                     "listed by 'gt crew list' and removed by 'gt crew remove RIG/<your rig>-<your name>'.")
    p.add_argument("rig", metavar="RIG", help="the rig to work on")
    p.add_argument("--as", dest="as_", metavar="RIG/crew/NAME",
                   help="whose worktree (default: you, from BD_ACTOR or the crew clone you are in)")
    add_json(p)
    p.set_defaults(func=_worktree)


def _worktree(args):
    import os
    from pathlib import Path

    from gastown_tui.errors import UsageError
    from gastown_tui.town.identity import agent_from_env, parse_address
    from gastown_tui.work.crew import add_worktree, checkout_of, identity_of

    town = town_of(args)
    if args.as_:
        owner = parse_address(args.as_, town.rigs())
    else:
        owner = agent_from_env(dict(os.environ), Path.cwd(), town.root)
        checkout = checkout_of(town, Path.cwd())
        if checkout is not None and not os.environ.get("BD_ACTOR"):
            owner = identity_of(town, checkout.parent.parent.name, checkout.name)
        if owner is None:
            raise UsageError("gt worktree needs to know whose worktree it makes",
                             hint="run it in your crew clone (<rig>/crew/<name>) or pass --as RIG/crew/NAME")
    row = add_worktree(town, args.rig, owner)
    if args.json:
        print_json(row)
    else:
        print(f"{row['address']} can work on {args.rig} in {row['path']}")
    return 0
