"""`gt formula list|show|run|create|dispatch`, `gt park` and `gt resume`."""

from __future__ import annotations

import argparse

from gastown_tui.cli.common import town_of
from gastown_tui.cli.framework import add_json, command, print_json, print_table, subcommands
from gastown_tui.errors import NotFound, UsageError


def register(p: argparse.ArgumentParser) -> None:
    name = p.prog.split()[-1]
    if name == "park":
        p.description = "Park on a gate: record your handoff on it and stop; the deacon wakes you when it opens."
        p.add_argument("--gate", required=True, metavar="ID|SPEC",
                       help="the gate to wait on: a gate id (see 'bd gate list') or a spec such as gh:pr:456 "
                            "or timer:1h, which creates the gate")
        p.add_argument("--handoff", "--message", "-m", dest="handoff", default="", metavar="MSG",
                       help="what to do when you resume (your handoff message)")
        p.add_argument("--timeout", default=None, metavar="D", help="with a SPEC: the new gate times out after D")
        p.add_argument("--as", dest="address", default=None, metavar="ADDR", help="park this agent (default: you)")
        add_json(p)
        p.set_defaults(func=cmd_park)
        return
    if name == "resume":
        p.description = "Resume after a gate opened: print the handoff you left when you parked."
        p.add_argument("--force", action="store_true", help="resume even though the gate has not opened")
        p.add_argument("--check-handoff", action="store_true",
                       help="only show your handoff message (from your park, else your latest HANDOFF mail); "
                            "stay parked while the gate is closed")
        p.add_argument("--as", dest="address", default=None, metavar="ADDR", help="resume this agent (default: you)")
        add_json(p)
        p.set_defaults(func=cmd_resume)
        return
    sub = subcommands(p)
    c = command(sub, "list", "formulas available here: rig, town, then built-in", cmd_list, json_flag=True)
    c.add_argument("--rig", default=None, help="include this rig's .beads/formulas/")
    c = command(sub, "show", "a formula's vars and steps", cmd_show, json_flag=True)
    c.add_argument("name", metavar="NAME")
    c.add_argument("--rig", default=None, help="look in this rig's .beads/formulas/ first")
    c = command(sub, "run", "pour a formula and start it: one polecat per convoy leg, or one for a workflow",
                cmd_run, json_flag=True)
    c.add_argument("name", metavar="NAME")
    c.add_argument("--var", action="append", default=[], metavar="KEY=VALUE", help="set a variable (repeatable)")
    c.add_argument("--rig", default=None, help="the rig whose polecats run it (default: only pour, in the town store)")
    c.add_argument("--agent", default=None, metavar="RUNTIME", help="runtime for new polecats (claude, sim, ...)")
    c.add_argument("--dry-run", action="store_true", help="check the formula and vars; change nothing")
    c = command(sub, "dispatch", "sling a molecule's ready, unassigned steps (e.g. the synthesis once legs are done)",
                cmd_dispatch, json_flag=True)
    c.add_argument("mol", metavar="MOL")
    c.add_argument("--rig", required=True, help="the rig whose polecats take the steps")
    c.add_argument("--agent", default=None, metavar="RUNTIME", help="runtime for new polecats")
    c = command(sub, "create", "write a new formula skeleton to edit", cmd_create, json_flag=True)
    c.add_argument("name", metavar="NAME")
    c.add_argument("--type", default="workflow", choices=("workflow", "convoy", "expansion"))
    c.add_argument("--description", default="", help="one line saying what it is for")
    c.add_argument("--rig", default=None, help="create it in this rig's .beads/formulas/ (default: the town's formulas/)")
    c.add_argument("--force", action="store_true", help="overwrite an existing file")


def _paths(args: argparse.Namespace):
    from gastown_tui.work.formulas import search_paths

    try:
        town = town_of(args)
    except NotFound:
        town = None
    if getattr(args, "rig", None) and town is not None:
        town.require_rig(args.rig)
    return search_paths(town, getattr(args, "rig", None))


def cmd_list(args: argparse.Namespace) -> int:
    from gastown_tui.work.formulas import list_formulas

    rows = list_formulas(_paths(args))
    if args.json:
        print_json([r.to_json() for r in rows])
    elif not rows:
        print("No formulas.")
    else:
        print_table([[r.name, r.type, r.source, r.description] for r in rows], ["name", "type", "source", "description"])
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from gastown_tui.work.formulas import load_formula, topo_order

    f = load_formula(args.name, _paths(args))
    if args.json:
        print_json(f.to_json())
        return 0
    print(f"{f.name}  ({f.type}, version {f.version})  {f.path}")
    if f.extends:
        print(f"extends: {', '.join(f.extends)}")
    if f.description.strip():
        print()
        print(f.description.strip())
    if f.vars:
        print()
        print("Vars:")
        for v in f.vars.values():
            req = "required" if v.required else (f"default {v.default!r}" if v.default is not None else "optional")
            print(f"  {v.name:<18} {req:<18} {v.description}")
    print()
    print("Legs and synthesis:" if f.type == "convoy" else "Steps:")
    for i, s in enumerate(topo_order(f.steps), start=1):
        needs = f"  (needs {', '.join(s.needs)})" if s.needs else ""
        print(f"  {i}. {s.id}: {s.title}{needs}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from gastown_tui.work.formulas import parse_var_args
    from gastown_tui.work.dispatch import run_formula

    given = parse_var_args(args.var)
    town = town_of(args)
    res = run_formula(town, args.name, given, rig=args.rig, runtime=args.agent, dry_run=args.dry_run)
    if args.json:
        print_json(res)
        return 0
    if res["dry_run"]:
        print(f"Would pour {res['formula']} ({len(res['steps'])} steps)"
              + (f" and sling {', '.join(res['slung'])} to {res['rig']}" if res["slung"] else ""))
        return 0
    print(f"Poured {res['formula']} as {res['molecule']} ({len(res['steps'])} steps)")
    if res["rig"] and res["type"] == "convoy":
        for sid in res["slung"]:
            print(f"  slung leg {sid} to {res['rig']}")
        print(f"The synthesis waits for every leg; start it with: gt formula dispatch {res['molecule']} --rig {res['rig']}")
    elif res["rig"]:
        print(f"  slung {res['bead']} to {res.get('agent') or res['rig']} with the checklist attached")
    return 0


def cmd_dispatch(args: argparse.Namespace) -> int:
    from gastown_tui.beads.store import Store
    from gastown_tui.work.dispatch import dispatch_ready_steps
    from gastown_tui.work.molecules import get_molecule

    town = town_of(args)
    store = Store(town.require_rig(args.rig).beads_dir)
    get_molecule(store, args.mol)
    slung = dispatch_ready_steps(town, store, args.mol, args.rig, runtime=args.agent)
    if args.json:
        print_json({"molecule": args.mol, "slung": slung})
    elif not slung:
        print(f"No step of {args.mol} is ready and unassigned.")
    else:
        for sid in slung:
            print(f"slung {sid} to {args.rig}")
    return 0


def cmd_create(args: argparse.Namespace) -> int:
    from gastown_tui.work.formulas import create_formula

    town = town_of(args)
    directory = town.require_rig(args.rig).beads_dir / "formulas" if args.rig else town.formulas_dir
    path = create_formula(args.name, directory, type=args.type, description=args.description, force=args.force)
    if args.json:
        print_json({"name": args.name, "type": args.type, "path": str(path)})
    else:
        print(f"Created {path}; edit it, then check it with 'gt formula show {args.name}'")
    return 0


def _me(town, args: argparse.Namespace):
    from gastown_tui.work.hook import whoami

    return whoami(town, address=args.address)


def cmd_park(args: argparse.Namespace) -> int:
    from gastown_tui.work.gates import park
    from gastown_tui.work.hook import hooked

    town = town_of(args)
    agent = _me(town, args)
    bead = None
    try:
        h = hooked(town, agent)
        bead = h.id if h is not None else None
    except (NotFound, UsageError):
        bead = None
    rec = park(town, agent, args.gate, args.handoff, bead=bead, timeout=args.timeout)
    if args.json:
        print_json(rec)
    else:
        made = f" (created for {args.gate})" if rec["gate"] != args.gate else ""
        print(f"Parked {agent.address} on gate {rec['gate']}{made}. Stop here; you will be woken when it opens, "
              "then run 'gt resume'.")
    return 0


def cmd_resume(args: argparse.Namespace) -> int:
    from gastown_tui.work.gates import resume

    town = town_of(args)
    agent = _me(town, args)
    if args.check_handoff:
        return _check_handoff(town, agent, args)
    rec = resume(town, agent, force=args.force)
    if args.json:
        print_json(rec)
        return 0
    st = rec["gate_state"]
    word = "timed out" if st.get("timed_out") else ("opened" if st.get("status") == "closed" else st.get("status"))
    print(f"Gate {rec['gate']} {word}" + (f": {st['reason']}" if st.get("reason") else ""))
    if rec.get("bead"):
        print(f"Your hook: {rec['bead']}")
    print(f"Handoff message: {rec['handoff'] or '(none left)'}")
    return 0


def _check_handoff(town, agent, args: argparse.Namespace) -> int:
    """`gt resume --check-handoff`: the handoff you (or your predecessor) left, read-only."""
    from gastown_tui.work.gates import handoff_for

    info = handoff_for(town, agent)
    if args.json:
        print_json(info)
        return 0
    if info["gate"]:
        print(f"Parked on gate {info['gate']} ({info['gate_status']})")
    print(f"Handoff message: {info['handoff'] or '(none)'}")
    return 0
