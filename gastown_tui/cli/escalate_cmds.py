"""`gt escalate MSG` and `gt escalate list|show|ack|close|stale`: what the fleet cannot fix itself."""

from __future__ import annotations

import argparse

from gastown_tui.cli.common import town_of
from gastown_tui.cli.framework import add_json, print_json, print_table
from gastown_tui.errors import UsageError

VERBS = ("list", "show", "ack", "close", "stale")

USAGE = """\
  gt escalate [-s critical|high|medium|low] [--type CATEGORY] [--to TARGET] MSG
  gt escalate MSG --question Q --options "A,B,C" [--issue BEAD]
  gt escalate list [--all] [--json]        open escalations, most severe first
  gt escalate show ID [--json]
  gt escalate ack ID                       take it (stops re-escalation)
  gt escalate close ID [--reason TEXT]
  gt escalate stale [--json]               unacknowledged past escalation.stale_seconds

Routing: low/medium -> deacon, high -> mayor, critical -> overseer; stale ones move one level up
(deacon -> mayor -> overseer)."""


def register(p: argparse.ArgumentParser) -> None:
    p.description = "Raise, list and resolve escalations.\n\n" + USAGE
    p.add_argument("words", nargs="*", metavar="MSG | VERB ID", help="the message, or a verb: " + ", ".join(VERBS))
    p.add_argument("-s", "--severity", default="medium", help="critical, high, medium (default) or low")
    p.add_argument("--type", dest="category", default=None, help="category: stuck, crash, merge, tests, decision ...")
    p.add_argument("--to", default=None, help="route to this address instead of by severity")
    p.add_argument("--question", default=None, help="a decision to take (structured form)")
    p.add_argument("--options", default=None, help="comma-separated choices for --question")
    p.add_argument("--issue", default=None, help="the bead this is about")
    p.add_argument("--reason", default=None, help="close: why")
    p.add_argument("--all", action="store_true", help="list: include closed ones")
    add_json(p)
    p.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    words = list(args.words)
    if words and words[0] in VERBS and (words[0] != "close" or len(words) <= 2) \
            and (words[0] in ("list", "stale") or len(words) == 2):
        return {"list": _list, "stale": _stale, "show": _show, "ack": _ack, "close": _close}[words[0]](args, words[1:])
    if words and words[0] in ("show", "ack", "close") and len(words) == 1:
        raise UsageError(f"gt escalate {words[0]} needs an escalation ID", hint="list them with 'gt escalate list'")
    if not words:
        raise UsageError("gt escalate needs a message or a verb", hint="usage:\n" + USAGE)
    return _raise(args, " ".join(words))


def _raise(args, message: str) -> int:
    from gastown_tui.work.escalation import create_escalation, to_json

    options = [o.strip() for o in args.options.split(",") if o.strip()] if args.options else None
    town = town_of(args)
    iss = create_escalation(town, message, severity=args.severity, category=args.category, to=args.to,
                            question=args.question, options=options, issue=args.issue)
    if args.json:
        print_json(to_json(iss))
    else:
        print(f"escalated {iss.id} [{iss.data['severity']}] to {iss.data['routed_to']}: {iss.title}")
    return 0


def _rows(items):
    return [(e["id"], e["severity"], e["category"], e["routed_to"], e["status"],
             "acked by " + e["acked_by"] if e["acked_by"] else "", e["title"]) for e in items]


def _print_list(args, escs, empty: str) -> int:
    from gastown_tui.work.escalation import to_json

    items = [to_json(e) for e in escs]
    if args.json:
        print_json(items)
    elif not items:
        print(empty)
    else:
        print_table(_rows(items), ["id", "severity", "type", "to", "status", "ack", "message"])
    return 0


def _list(args, rest) -> int:
    from gastown_tui.work.escalation import list_escalations

    return _print_list(args, list_escalations(town_of(args), include_closed=args.all), "no open escalations")


def _stale(args, rest) -> int:
    from gastown_tui.work.escalation import stale_escalations

    return _print_list(args, stale_escalations(town_of(args)), "no stale escalations")


def _show(args, rest) -> int:
    from gastown_tui.work.escalation import get_escalation, to_json

    e = to_json(get_escalation(town_of(args), rest[0]))
    if args.json:
        print_json(e)
        return 0
    print(f"{e['id']}  [{e['severity']}] {e['title']}")
    print(f"  type {e['category']}, routed to {e['routed_to']} (level {e['level']}), status {e['status']}")
    print(f"  raised by {e['raised_by']} at {e['created_at']}")
    if e["issue"]:
        print(f"  issue: {e['issue']}")
    if e["question"]:
        print(f"  question: {e['question']}")
        for i, o in enumerate(e["options"], 1):
            print(f"    {i}. {o}")
    if e["acked_by"]:
        print(f"  acknowledged by {e['acked_by']} at {e['acked_at']}")
    if e["description"]:
        print("\n" + e["description"])
    return 0


def _ack(args, rest) -> int:
    from gastown_tui.work.escalation import ack_escalation

    iss = ack_escalation(town_of(args), rest[0])
    print(f"{iss.id} acknowledged by {iss.data.get('acked_by')}")
    return 0


def _close(args, rest) -> int:
    from gastown_tui.work.escalation import close_escalation

    iss = close_escalation(town_of(args), rest[0], args.reason)
    print(f"{iss.id} closed ({iss.close_reason})")
    return 0
