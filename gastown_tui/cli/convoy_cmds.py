"""`gt convoy create|add|remove|status|list|close|stranded` (logic in gastown_tui.work.convoy)."""

from __future__ import annotations

import argparse

from gastown_tui.cli.common import town_of
from gastown_tui.cli.framework import command, print_json, print_table, subcommands


def register(parser: argparse.ArgumentParser) -> None:
    sub = subcommands(parser)
    p = command(sub, "create", "create a convoy tracking beads (from any rig)", _create, json_flag=True)
    p.add_argument("title")
    p.add_argument("beads", nargs="*", metavar="BEAD")
    p.add_argument("--notify", action="append", default=[], metavar="ADDR", help="mail ADDR when it lands (repeatable)")

    p = command(sub, "add", "track more beads (reopens a landed convoy)", _add, json_flag=True)
    p.add_argument("id")
    p.add_argument("beads", nargs="+", metavar="BEAD")

    p = command(sub, "remove", "stop tracking beads", _remove, json_flag=True)
    p.add_argument("id")
    p.add_argument("beads", nargs="+", metavar="BEAD")

    p = command(sub, "status", "show a convoy's progress and tracked beads", _status, json_flag=True)
    p.add_argument("id")

    p = command(sub, "list", "list open convoys", _list, json_flag=True)
    p.add_argument("--all", action="store_true", help="include landed/closed convoys")

    p = command(sub, "close", "close a convoy by hand", _close, json_flag=True)
    p.add_argument("id")
    p.add_argument("-r", "--reason", default="closed by hand")

    command(sub, "stranded", "open convoys with unassigned ready work or nothing moving", _stranded, json_flag=True)


def _print_status(s: dict) -> None:
    print(f"{s['id']}  {s['title']}  [{s['status']}]  {s['closed']}/{s['total']} closed")
    if s["beads"]:
        print_table([(b["id"], b["status"], b["assignee"] or "-", (b["title"] or "")[:60]) for b in s["beads"]],
                    ["bead", "status", "assignee", "title"])


def _create(args):
    from gastown_tui.work.convoy import create_convoy

    s = create_convoy(town_of(args), args.title, args.beads, notify=args.notify)
    if args.json:
        print_json(s)
    else:
        print(f"created convoy {s['id']} tracking {s['total']} bead(s)")


def _add(args):
    from gastown_tui.work.convoy import add_beads

    s = add_beads(town_of(args), args.id, args.beads)
    print_json(s) if args.json else _print_status(s)


def _remove(args):
    from gastown_tui.work.convoy import remove_beads

    s = remove_beads(town_of(args), args.id, args.beads)
    print_json(s) if args.json else _print_status(s)


def _status(args):
    from gastown_tui.work.convoy import convoy_status

    s = convoy_status(town_of(args), args.id)
    print_json(s) if args.json else _print_status(s)


def _list(args):
    from gastown_tui.work.convoy import list_convoys

    rows = list_convoys(town_of(args), include_closed=args.all)
    if args.json:
        print_json(rows)
        return
    if not rows:
        print("no open convoys" if not args.all else "no convoys")
        return
    print_table([(c["id"], c["status"], c["progress"], c["title"][:60]) for c in rows],
                ["id", "status", "closed", "title"])


def _close(args):
    from gastown_tui.work.convoy import close_convoy

    s = close_convoy(town_of(args), args.id, args.reason)
    print_json(s) if args.json else print(f"closed convoy {s['id']}")


def _stranded(args):
    from gastown_tui.work.convoy import stranded

    rows = stranded(town_of(args))
    if args.json:
        print_json(rows)
        return
    if not rows:
        print("no stranded convoys")
        return
    print_table([(c["id"], c["progress"], c["reason"], c["title"][:50]) for c in rows],
                ["id", "closed", "why", "title"])
