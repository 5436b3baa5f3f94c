"""`gt rig add|list|show|remove|park|unpark|config`."""

from __future__ import annotations

import argparse
import sys

from gastown_tui.cli.common import town_of
from gastown_tui.cli.framework import command, print_json, print_table, subcommands


def register(p: argparse.ArgumentParser) -> None:
    sub = subcommands(p)
    a = command(sub, "add", "add a project (git URL or local path) as a rig", run_add, json_flag=True)
    a.add_argument("name", metavar="NAME", help="rig name: lowercase letters, digits, '_' ([a-z][a-z0-9_]*)")
    a.add_argument("source", metavar="SOURCE", help="git URL or local path of the project")
    a.add_argument("--prefix", help="bead id prefix for the rig (default: from the project's .beads or the name)")
    a.add_argument("--branch", help="default branch (default: the source's HEAD)")

    command(sub, "list", "list rigs", run_list, aliases=["ls"], json_flag=True)

    s = command(sub, "show", "show one rig", run_show, json_flag=True)
    s.add_argument("name", metavar="NAME")

    r = command(sub, "remove", "unregister a rig and delete its directory", run_remove, aliases=["rm"])
    r.add_argument("name", metavar="NAME")
    r.add_argument("--force", action="store_true", help="stop its running sessions first (witness, refinery, polecats, crew) and discard unmerged branches")

    for verb, helptext in (("park", "park a rig: supervisors leave it alone"), ("unpark", "unpark a rig")):
        pk = command(sub, verb, helptext, run_park)
        pk.add_argument("name", metavar="NAME")
        pk.set_defaults(parked=(verb == "park"))
    rb = command(sub, "reboot", "restart a rig's witness and refinery", _run_reboot, json_flag=True)
    rb.add_argument("name", metavar="NAME")
    for verb, helptext, func in (
            ("start", "start a rig's witness and refinery, and its polecats that hold hooked work", _run_start),
            ("stop", "stop every session of a rig (witness, refinery, polecats, crew); keep worktrees", _run_stop),
            ("status", "one rig's agents: witness, refinery, polecats, crew, and its merge queue", _run_status)):
        sp = command(sub, verb, helptext, func, json_flag=True)
        sp.add_argument("name", metavar="NAME", nargs="?" if verb == "status" else None,
                        help="the rig" + (" (default: the one you are in)" if verb == "status" else ""))

    c = command(sub, "config", "get, set or unset per-rig settings (e.g. merge_queue.test_command)")
    csub = subcommands(c)
    g = command(csub, "get", "print a rig setting", run_config_get, json_flag=True)
    g.add_argument("name", metavar="NAME")
    g.add_argument("key", metavar="KEY")
    st = command(csub, "set", "set a rig setting", run_config_set)
    st.add_argument("name", metavar="NAME")
    st.add_argument("key", metavar="KEY")
    st.add_argument("value", metavar="VALUE")
    u = command(csub, "unset", "remove a rig setting (back to its default)", run_config_unset)
    u.add_argument("name", metavar="NAME")
    u.add_argument("key", metavar="KEY")
    lk = command(csub, "keys", "list the rig settings and their defaults", run_config_keys, json_flag=True)
    lk.set_defaults()


def run_add(args: argparse.Namespace) -> int:
    from gastown_tui.town.rigs import add_rig

    town = town_of(args)
    info = add_rig(town, args.name, args.source, prefix=args.prefix, branch=args.branch)
    for w in info.get("warnings", ()):
        sys.stderr.write(f"gt: warning: {w}\n")
    if args.json:
        print_json(info)
    else:
        print(f"Added rig '{info['name']}' (prefix {info['prefix']}-, branch {info['default_branch']}) at {info['path']}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    from gastown_tui.town.rigs import list_rigs

    rigs = list_rigs(town_of(args))
    if args.json:
        print_json(rigs)
    elif not rigs:
        print("No rigs yet. Add one with 'gt rig add NAME SOURCE'.")
    else:
        print_table([(r["name"], r["prefix"], r["default_branch"], "parked" if r["parked"] else "active",
                      len(r["polecats"]), r["git_url"]) for r in rigs],
                    ["name", "prefix", "branch", "state", "polecats", "source"])
    return 0


def run_show(args: argparse.Namespace) -> int:
    from gastown_tui.town.rigs import rig_summary

    town = town_of(args)
    town.require_rig(args.name)
    info = rig_summary(town, args.name)
    if args.json:
        print_json(info)
    else:
        for k in ("name", "prefix", "default_branch", "parked", "git_url", "path", "added_at"):
            print(f"{k + ':':16}{info[k]}")
        print(f"{'polecats:':16}{', '.join(info['polecats']) or '-'}")
        print(f"{'crew:':16}{', '.join(info['crew']) or '-'}")
        mq = info["config"].get("merge_queue", {})
        print(f"{'test command:':16}{mq.get('test_command') or '-'}")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    from gastown_tui.patrols.lifecycle import remove_rig

    res = remove_rig(town_of(args), args.name, force=args.force)
    stopped = f" (stopped {', '.join(res['stopped'])})" if res["stopped"] else ""
    print(f"Removed rig '{args.name}'{stopped}.")
    return 0


def run_park(args: argparse.Namespace) -> int:
    from gastown_tui.town.rigs import set_parked

    changed = set_parked(town_of(args), args.name, args.parked)
    state = "parked" if args.parked else "active"
    print(f"Rig '{args.name}' is now {state}." if changed else f"Rig '{args.name}' was already {state}.")
    return 0


def run_config_get(args: argparse.Namespace) -> int:
    from gastown_tui.town.rigs import rig_config_get

    value = rig_config_get(town_of(args), args.name, args.key)
    if args.json:
        print_json({"rig": args.name, "key": args.key, "value": value})
    else:
        print("" if value is None else value)
    return 0


def run_config_set(args: argparse.Namespace) -> int:
    from gastown_tui.town.rigs import rig_config_set

    value = rig_config_set(town_of(args), args.name, args.key, args.value)
    print(f"{args.name}: {args.key} = {value!r}")
    return 0


def run_config_unset(args: argparse.Namespace) -> int:
    from gastown_tui.town.rigs import rig_config_set

    rig_config_set(town_of(args), args.name, args.key, None)
    print(f"{args.name}: {args.key} unset")
    return 0


def run_config_keys(args: argparse.Namespace) -> int:
    from gastown_tui.town.rigs import RIG_KEYS

    if args.json:
        print_json([{"key": k, "type": t.__name__, "default": d, "help": h} for k, (t, d, h) in RIG_KEYS.items()])
    else:
        print_table([(k, t.__name__, repr(d), h) for k, (t, d, h) in RIG_KEYS.items()], ["key", "type", "default", "help"])
    return 0


def _run_reboot(args: argparse.Namespace) -> int:
    from gastown_tui.cli.framework import print_json
    from gastown_tui.patrols.lifecycle import reboot_rig

    out = reboot_rig(town_of(args), args.name)
    if args.json:
        print_json(out)
    else:
        for a in out["agents"]:
            print(f"{a['agent']} restarted (tmux session {a['session']})")
    return 0


def _run_start(args: argparse.Namespace) -> int:
    from gastown_tui.patrols.lifecycle import start_rig

    out = start_rig(town_of(args), args.name)
    if args.json:
        print_json(out)
    else:
        for a in out["agents"]:
            print(f"  {a['agent']:<24} {a['action']}" + (f": {a['error']}" if a.get("error") else ""))
    return 1 if any(a["action"] == "failed" for a in out["agents"]) else 0


def _run_stop(args: argparse.Namespace) -> int:
    from gastown_tui.patrols.lifecycle import stop_rig

    out = stop_rig(town_of(args), args.name)
    if args.json:
        print_json(out)
    else:
        print(f"stopped {len(out['stopped'])} session(s) of {out['rig']}; worktrees and hooks kept")
    return 0


def _run_status(args: argparse.Namespace) -> int:
    from gastown_tui.agents.polecats import list_polecats
    from gastown_tui.cli.common import current_rig
    from gastown_tui.cli.patrol_cmds import patrol_status
    from gastown_tui.work.mq import list_mrs
    from gastown_tui.town.identity import Agent
    from gastown_tui.town.rigs import rig_summary

    town = town_of(args)
    name = current_rig(town, args.name, what="gt rig status")
    info = rig_summary(town, name)
    services = patrol_status(town, [Agent("witness", name), Agent("refinery", name)])
    polecats = list_polecats(town, name)
    mrs = list_mrs(town, name)
    data = {"rig": name, "parked": info["parked"], "services": services, "polecats": polecats,
            "crew": info["crew"], "merge_queue": {"queued": sum(1 for m in mrs if m["status"] == "open"),
                                                  "in_progress": sum(1 for m in mrs if m["status"] == "in_progress")}}
    if args.json:
        print_json(data)
        return 0
    print(f"rig {name} ({'parked' if info['parked'] else 'active'}, prefix {info['prefix']}-)")
    for r in services:
        age = f", heartbeat {r['heartbeat_age']:.0f}s ago" if r["heartbeat_age"] is not None else ""
        print(f"  {r['agent']:<24} {r['state']}{age}")
    for p in polecats:
        print(f"  {p['rig'] + '/polecats/' + p['name']:<24} {p['state']}"
              + (f" on {p['hook_bead']}" if p["hook_bead"] else "") + ("" if p["session_alive"] else " (no session)"))
    if info["crew"]:
        print(f"  crew: {', '.join(info['crew'])}")
    q = data["merge_queue"]
    print(f"  merge queue: {q['queued']} queued, {q['in_progress']} merging")
    return 0
