"""`gt warrant file|list|execute|cancel`: controlled termination of a stuck agent, with an audit record."""

from __future__ import annotations

import os

from gastown_tui.cli.framework import command, print_json, print_table, subcommands

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

ABOUT = """\
A warrant stops a stuck agent in a controlled way: filed with a reason and a grace period (the
agent is told, and may commit and hand off), then executed — by hand, or by the deacon's patrol
once the grace period is over. Executing stops the session and puts the hooked bead back in the
ready pool; the worktree stays for inspection. Every warrant stays in the town store as a record.
"""


def register(parser: argparse.ArgumentParser) -> None:
    parser.description = ABOUT
    sub = subcommands(parser)
    p = command(sub, "file", "file a warrant against an agent", _file, json_flag=True)
    p.add_argument("agent", metavar="AGENT", help="the agent's address, e.g. demo/polecats/furiosa")
    p.add_argument("--reason", "-r", required=True, help="why it must stop")
    p.add_argument("--grace", default="5m", metavar="DURATION", help="time it gets first: 0s, 30s, 5m (default), 1h")
    p = command(sub, "list", "warrants (open ones; --all: executed and cancelled too)", _list, json_flag=True)
    p.add_argument("--all", action="store_true", help="include executed and cancelled warrants")
    p = command(sub, "execute", "carry out a warrant now", _execute, json_flag=True)
    p.add_argument("id", metavar="ID")
    p.add_argument("--now", action="store_true", help="do not wait for the grace period to end")
    p = command(sub, "cancel", "withdraw a warrant", _cancel, json_flag=True)
    p.add_argument("id", metavar="ID")
    p.add_argument("--reason", default="", help="why")


def _actor() -> str:
    return os.environ.get("BD_ACTOR") or "overseer"


def _town(args):
    from gastown_tui.cli.common import town_of

    return town_of(args)


def _show(args, w: dict, verb: str) -> int:
    if args.json:
        print_json(w)
    else:
        print(f"{verb} warrant {w['id']} for {w['target']}: {w['reason']}" + (f" — {w['outcome']}" if w.get("outcome") else ""))
    return 0


def _file(args) -> int:
    from gastown_tui.work.feed import parse_duration
    from gastown_tui.work.warrant import file_warrant

    grace = 0.0 if args.grace.strip() in ("0", "0s") else parse_duration(args.grace)
    return _show(args, file_warrant(_town(args), args.agent, args.reason, grace_seconds=grace, actor=_actor()), "filed")


def _list(args) -> int:
    import time

    from gastown_tui.infra.termtext import clean as sanitize
    from gastown_tui.work.warrant import list_warrants

    items = list_warrants(_town(args), include_closed=args.all)
    if args.json:
        print_json(items)
        return 0
    if not items:
        print("no warrants" if args.all else "no open warrants")
        return 0
    now = time.time()
    rows = []
    for w in items:
        left = float(w["grace_until"] or 0) - now
        when = (f"in {int(left)}s" if left > 0 else "due") if w["state"] == "filed" else (w.get("outcome") or "")
        rows.append((w["id"], w["target"], w["state"], when, w["filed_by"], sanitize(w["reason"])))
    print_table(rows, ["id", "agent", "state", "execution", "filed by", "reason"])
    return 0


def _execute(args) -> int:
    from gastown_tui.work.warrant import execute

    return _show(args, execute(_town(args), args.id, actor=_actor(), force=args.now), "executed")


def _cancel(args) -> int:
    from gastown_tui.work.warrant import cancel

    return _show(args, cancel(_town(args), args.id, actor=_actor(), reason=args.reason), "cancelled")
