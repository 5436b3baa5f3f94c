"""`gt sling`, `gt hook`, `gt unsling`, `gt prime`, `gt done` (logic in gastown_tui.work)."""

from __future__ import annotations

import argparse
import sys

from gastown_tui.cli.common import town_of
from gastown_tui.cli.framework import add_json, print_json


def register(parser: argparse.ArgumentParser) -> None:
    name = parser.prog.split()[-1]
    {"sling": _reg_sling, "hook": _reg_hook, "unsling": _reg_unsling, "prime": _reg_prime,
     "done": _reg_done}[name](parser)


# --- sling ---------------------------------------------------------------------------------------

def _reg_sling(p: argparse.ArgumentParser) -> None:
    p.description = ("Put beads on agents' hooks. TARGET is a rig (an idle polecat is reused or a new one "
                     "spawned, one per bead) or an agent address (demo/polecats/nux, demo/crew/ann, mayor).")
    p.add_argument("items", nargs="+", metavar="BEAD... TARGET", help="bead ids, then the target")
    p.add_argument("--agent", metavar="RUNTIME", help="runtime for new polecats (claude, codex, sim, ...)")
    p.add_argument("--model", metavar="NAME", default=None,
                   help="run the polecats' runtime with this model (its --model flag; [models.NAME] runtime = ... "
                        "in settings picks the runtime); recorded for 'bd stats --group-by=model'")
    p.add_argument("--no-convoy", action="store_true", help="do not create a convoy for these beads")
    p.add_argument("--force", action="store_true", help="take beads hooked to a running agent")
    p.add_argument("--dry-run", action="store_true", help="check and show what would happen; change nothing")
    p.add_argument("--formula", default=None, metavar="NAME", help="attach a molecule of this formula (e.g. polecat-work)")
    p.add_argument("--var", action="append", default=[], metavar="KEY=VALUE", help="a formula variable (repeatable)")
    add_json(p)
    p.set_defaults(func=_sling)


def _sling(args: argparse.Namespace) -> int:
    from gastown_tui.errors import UsageError
    from gastown_tui.work.sling import sling

    if len(args.items) < 2:
        raise UsageError("gt sling needs at least one bead and a target", hint="for example: gt sling de-abc demo")
    *beads, target = args.items
    town = town_of(args)
    from gastown_tui.work.formulas import parse_var_args

    if args.var and not args.formula:
        raise UsageError("--var needs --formula", hint="for example: gt sling BEAD RIG --formula release --var version=1.0")
    res = sling(town, beads, target, runtime=args.agent, no_convoy=args.no_convoy, force=args.force,
                dry_run=args.dry_run, formula=args.formula, formula_vars=parse_var_args(args.var), model=args.model)
    if args.json:
        print_json(res.to_json())
        return 0
    for a in res.to_json()["assignments"]:
        verb = "would hook" if res.dry_run else "hooked"
        how = " (new polecat)" if a.get("spawned") else ""
        extra = f" on {a['branch']}" if a.get("branch") else ""
        print(f"{verb} {a['bead']} on {a['agent']}{how}{extra}")
    for bead, mol in res.molecules.items():
        print(f"attached molecule {mol} ({args.formula}) to {bead}")
    if res.convoy:
        print(f"convoy {res.convoy} tracks them: gt convoy status {res.convoy}")
    return 0


# --- hook / unsling -------------------------------------------------------------------------------

def _reg_hook(p: argparse.ArgumentParser) -> None:
    p.description = "Show the bead on an agent's hook (yours, from the environment or directory, by default)."
    p.add_argument("address", nargs="?", help="an agent address (default: you)")
    add_json(p)
    p.set_defaults(func=_hook)


def _hook(args: argparse.Namespace) -> int:
    from gastown_tui.work.hook import hook_info, whoami

    town = town_of(args)
    agent = whoami(town, address=args.address)
    info = hook_info(town, agent)
    if args.address:
        _require_known(town, agent, info)
    if args.json:
        print_json(info)
        return 0
    b = info["bead"]
    if b is None:
        print(f"{agent.address}: nothing on the hook")
    else:
        print(f"{agent.address}: {b['id']} [{b['status']}] P{b['priority']} {b['title']}")
    return 0


def _reg_unsling(p: argparse.ArgumentParser) -> None:
    p.description = "Take a bead off a hook: it goes back to open and unassigned."
    p.add_argument("target", nargs="?", help="a bead id or an agent address (default: your own hook)")
    add_json(p)
    p.set_defaults(func=_unsling)


def _unsling(args: argparse.Namespace) -> int:
    from gastown_tui.work.hook import unsling, whoami

    town = town_of(args)
    t = args.target
    if t and "/" not in t and t not in ("mayor", "deacon") and "-" in t:
        res = unsling(town, bead_id=t)
    else:
        res = unsling(town, agent=whoami(town, address=t))
    if args.json:
        print_json(res)
    else:
        print(f"unslung {res['bead']}" + (f" from {res['from']}" if res["from"] else ""))
    return 0


def _require_known(town, agent, info: dict) -> None:
    """A polecat or crew member named on the command line must exist (a worktree, or work on its
    hook); otherwise the answer would describe an agent nobody can start."""
    from gastown_tui.errors import NotFound

    if agent.role not in ("polecat", "crew") or info.get("bead"):
        return
    rp = town.rig(agent.rig)
    home = rp.polecat(agent.name) if agent.role == "polecat" else rp.crew(agent.name)
    if home.is_dir():
        return
    parent = rp.polecats_dir if agent.role == "polecat" else rp.crew_dir
    known = sorted(p.name for p in parent.iterdir() if p.is_dir() and not p.name.startswith(".")) if parent.is_dir() else []
    what = "polecat" if agent.role == "polecat" else "crew member"
    raise NotFound(f"there is no {what} '{agent.name}' in rig '{agent.rig}'",
                   hint=(f"known: {', '.join(known)}" if known else
                         ("sling work to the rig to start one" if agent.role == "polecat" else
                          f"add one with 'gt crew add {agent.rig} {agent.name}'")))


# --- prime ----------------------------------------------------------------------------------------

def _reg_prime(p: argparse.ArgumentParser) -> None:
    p.description = "Print your role instructions, your hooked bead with its checklist, and unread mail."
    p.add_argument("address", nargs="?", help="an agent address (default: you)")
    p.add_argument("--hook", action="store_true", help="only the hooked work")
    add_json(p)
    p.set_defaults(func=_prime)


def _prime(args: argparse.Namespace) -> int:
    from gastown_tui.work.hook import hook_info, whoami
    from gastown_tui.work.prime import render_prime

    town = town_of(args)
    agent = whoami(town, address=args.address)
    if args.address:
        _require_known(town, agent, hook_info(town, agent))
    if args.json:
        print_json({**hook_info(town, agent), "text": render_prime(town, agent, hook_only=args.hook)})
    else:
        sys.stdout.write(render_prime(town, agent, hook_only=args.hook))
    return 0


# --- done -----------------------------------------------------------------------------------------

def register_done(p: argparse.ArgumentParser) -> None:
    """`gt done` and its documented twin `gt polecat done`."""
    _reg_done(p)


def _reg_done(p: argparse.ArgumentParser) -> None:
    p.description = ("Hand in your hooked work: commit leftovers, push the branch, file a merge request, "
                     "tell the witness, go idle. Run inside a polecat's worktree or session.")
    p.add_argument("--status", "--exit", dest="status", default="COMPLETED", type=str.upper,
                   help="how you leave: COMPLETED or MERGED (default: submit to the merge queue), "
                        "ESCALATED (stuck: ask for help) or DEFERRED (give the bead back)")
    p.add_argument("-m", "--message", dest="note", help="a note for the witness and the MR")
    add_json(p)
    p.set_defaults(func=_done)


def _done(args: argparse.Namespace) -> int:
    import os
    from pathlib import Path

    from gastown_tui.errors import UsageError
    from gastown_tui.town.identity import agent_from_env
    from gastown_tui.work.done import done

    town = town_of(args)
    agent = agent_from_env(dict(os.environ), Path.cwd(), town.root)
    if agent is None or agent.role not in ("polecat", "crew"):
        who = f"you are {agent.address}" if agent else f"{Path.cwd()} is not an agent's directory"
        raise UsageError(f"gt done only works inside a polecat's worktree or a crew clone, and {who}",
                         hint=f"cd into {town.root}/<rig>/polecats/<name> or <rig>/crew/<name> "
                              "(or run it in the agent's session)")
    from gastown_tui.work.crew import checkout_of, identity_of

    checkout = checkout_of(town, Path.cwd()) if agent.role == "crew" else None
    if checkout is not None and not os.environ.get("BD_ACTOR"):
        agent = identity_of(town, checkout.parent.parent.name, checkout.name)  # a cross-rig worktree's owner
    res = done(town, agent, status=args.status, note=args.note, path=checkout)
    if args.json:
        print_json(res)
    elif agent.role == "crew":
        what = f"pushed to main at {res['commit'][:10]}" if res["pushed"] else res["status"].lower()
        print(f"{res['bead']}: {what}; the mayor has been told")
    else:
        mr = f"; merge request {res['mr']}" if res["mr"] else ""
        print(f"{res['status'].lower()}: {res['bead']} on {res['branch']} at {res['commit'][:10]}{mr}; "
              f"the witness has been told")
    return 0

