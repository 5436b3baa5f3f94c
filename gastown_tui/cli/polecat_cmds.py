"""`gt polecat list|status|nuke|gc|stale|done` (logic in gastown_tui.agents.polecats)."""

from __future__ import annotations

import argparse

from gastown_tui.cli.common import town_of
from gastown_tui.cli.framework import command, print_json, print_table, subcommands


def register(parser: argparse.ArgumentParser) -> None:
    sub = subcommands(parser)
    p = command(sub, "list", "list polecats with their state and hook", _list, json_flag=True)
    p.add_argument("rig", nargs="?", help="only this rig")
    p = command(sub, "status", "one polecat in detail (branch, commits, dirty)", _status, json_flag=True)
    p.add_argument("name", help="NAME (with --rig or a single rig), RIG/NAME or RIG/polecats/NAME")
    p.add_argument("--rig")
    p = command(sub, "nuke", "remove a polecat: session, worktree, branch, name", _nuke, json_flag=True)
    p.add_argument("name", help="NAME, RIG/NAME or RIG/polecats/NAME")
    p.add_argument("--rig")
    p.add_argument("--force", action="store_true", help="discard unmerged commits and uncommitted changes")
    p = command(sub, "gc", "remove polecats that hold no work and nothing unmerged", _gc, json_flag=True)
    p.add_argument("rig", nargs="?")
    p = command(sub, "stale", "polecats recorded as working whose session is gone", _stale, json_flag=True)
    p.add_argument("rig", nargs="?")
    from gastown_tui.cli.work_cmds import register_done

    register_done(command(sub, "done", "signal work completion: the same as 'gt done' (run in your worktree)"))


def _rig_and_name(town, text: str, rig: str | None) -> tuple[str, str]:
    from gastown_tui.errors import UsageError
    from gastown_tui.town.identity import parse_address

    if "/" in text:
        a = parse_address(text, town.rigs())
        if a.role != "polecat":
            raise UsageError(f"'{text}' is not a polecat", hint="give NAME, RIG/NAME or RIG/polecats/NAME")
        return a.rig, a.name
    if rig:
        town.require_rig(rig)
        return rig, text
    rigs = [r for r in town.rigs() if town.rig(r).polecat(text).exists()]
    if len(rigs) == 1:
        return rigs[0], text
    if not rigs:
        rigs = list(town.rigs())
        if len(rigs) == 1:
            return rigs[0], text
    raise UsageError(f"say which rig polecat '{text}' is in", hint=f"use --rig RIG or RIG/{text}")


def _rows(rows):
    print_table([(p["rig"], p["name"], p["state"], p["hook_bead"] or "-", p["runtime"] or "-",
                  "yes" if p["session_alive"] else "no") for p in rows],
                ["rig", "name", "state", "hook", "runtime", "session"])


def _list(args):
    from gastown_tui.agents.polecats import list_polecats

    rows = list_polecats(town_of(args), args.rig)
    if args.json:
        print_json(rows)
    elif not rows:
        print("no polecats")
    else:
        _rows(rows)


def _status(args):
    from gastown_tui.agents.polecats import polecat_status

    town = town_of(args)
    rig, name = _rig_and_name(town, args.name, args.rig)
    s = polecat_status(town, rig, name)
    if args.json:
        print_json(s)
    else:
        for k, v in s.items():
            print(f"{k + ':':16}{v}")


def _nuke(args):
    from gastown_tui.work.nuke import nuke_polecat

    town = town_of(args)
    rig, name = _rig_and_name(town, args.name, args.rig)
    res = nuke_polecat(town, rig, name, force=args.force)
    if args.json:
        print_json(res)
    else:
        print(f"nuked {rig}/polecats/{name}" + (f"; {res['reopened']} reopened" if res["reopened"] else ""))


def _gc(args):
    from gastown_tui.work.nuke import gc_polecats

    res = gc_polecats(town_of(args), args.rig)
    if args.json:
        print_json(res)
    else:
        print(f"removed {len(res)} polecat(s)" + (": " + ", ".join(r["name"] for r in res) if res else ""))


def _stale(args):
    from gastown_tui.agents.polecats import stale_polecats

    rows = stale_polecats(town_of(args), args.rig)
    if args.json:
        print_json(rows)
    elif not rows:
        print("no stale polecats")
    else:
        _rows(rows)
