"""`gt install PATH`."""

from __future__ import annotations

import argparse

from gastown_tui.cli.framework import add_json, print_json


def register(p: argparse.ArgumentParser) -> None:
    p.description = ("Create a town at PATH: mayor/town.json, rigs.json, settings/config.toml, the town's\n"
                     "beads store (prefix hq), .runtime/, .events.jsonl, and a git repository with a first\n"
                     "commit. Running it again on an existing town changes nothing.")
    p.add_argument("path", metavar="PATH", help="where to create the town (new or empty directory)")
    p.add_argument("--name", help="the town's name (default: the directory name)")
    p.add_argument("--owner", metavar="EMAIL", help="the overseer's email (default: git user.email)")
    add_json(p)
    p.set_defaults(func=run_install)


def run_install(args: argparse.Namespace) -> int:
    from gastown_tui.town.install import install_town, town_summary

    result = install_town(args.path, name=args.name, owner=args.owner)
    if args.json:
        print_json({"created": result.created, **town_summary(result.town)})
    elif result.created:
        t = result.town
        print(f"Created town '{t.info()['name']}' at {t.root}")
        print(f"  next: cd {t.root} && gt rig add NAME /path/or/url/of/repo")
    else:
        print(f"{result.town.root} is already a town; nothing changed.")
    return 0
