"""`gt status`: the town at a glance (rigs now; services and agents as they come up)."""

from __future__ import annotations

import argparse

from gastown_tui.cli.common import town_of
from gastown_tui.cli.framework import add_json, print_json


def register(p: argparse.ArgumentParser) -> None:
    add_json(p)
    p.set_defaults(func=run_status)


def collect(town) -> dict:
    from gastown_tui.town.install import town_summary
    from gastown_tui.town.rigs import list_rigs

    return {**town_summary(town), "rigs": list_rigs(town)}


def run_status(args: argparse.Namespace) -> int:
    town = town_of(args)
    data = collect(town)
    if args.json:
        print_json(data)
        return 0
    print(f"Town {data['name']}  ({data['path']})  owner {data['owner']}  tmux -L {data['tmux_socket']}")
    if not data["rigs"]:
        print("  no rigs yet: gt rig add NAME SOURCE")
    for r in data["rigs"]:
        state = "parked" if r["parked"] else "active"
        print(f"  rig {r['name']:<14} {r['prefix']}-  {r['default_branch']:<8} {state:<7} "
              f"polecats: {', '.join(r['polecats']) or '-'}")
    return 0
