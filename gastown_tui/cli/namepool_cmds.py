"""`gt namepool [RIG]`, `gt namepool themes|set|add` (logic in gastown_tui.agents.namepool)."""

from __future__ import annotations

import argparse

from gastown_tui.cli.common import town_of
from gastown_tui.cli.framework import command, print_json, subcommands


def register(parser: argparse.ArgumentParser) -> None:
    sub = subcommands(parser)
    p = command(sub, "show", "a rig's theme, names and which are in use", _show, json_flag=True)
    p.add_argument("rig")
    command(sub, "themes", "list the name themes", _themes, json_flag=True)
    p = command(sub, "set", "set the theme of a rig (or, without --rig, the town default)", _set)
    p.add_argument("theme")
    p.add_argument("--rig")
    p = command(sub, "add", "add names to a rig's pool", _add, json_flag=True)
    p.add_argument("rig")
    p.add_argument("names", nargs="+", metavar="NAME")


def _show(args):
    from gastown_tui.agents.namepool import pool_status

    s = pool_status(town_of(args), args.rig)
    if args.json:
        print_json(s)
    else:
        print(f"rig {s['rig']}: theme {s['theme']}, {len(s['names'])} names, {len(s['in_use'])} in use")
        if s["in_use"]:
            print("in use: " + ", ".join(s["in_use"]))
        print("next free: " + ", ".join(s["free"][:5]))


def _themes(args):
    from gastown_tui.agents.namepool import THEMES

    if args.json:
        print_json({k: list(v) for k, v in THEMES.items()})
    else:
        for k, v in THEMES.items():
            print(f"{k} ({len(v)}): {', '.join(v[:8])}, ...")


def _set(args):
    from gastown_tui.agents.namepool import set_theme

    set_theme(town_of(args), args.theme, args.rig)
    print(f"theme {args.theme} set for " + (f"rig {args.rig}" if args.rig else "the town"))


def _add(args):
    from gastown_tui.agents.namepool import add_names

    names = add_names(town_of(args), args.rig, args.names)
    if args.json:
        print_json({"rig": args.rig, "names": names})
    else:
        print(f"rig {args.rig} extra names: {', '.join(names)}")
