"""`gt escalate MSG` and `gt escalate list|show|ack|close|stale`: what the fleet cannot fix itself."""

from __future__ import annotations

import argparse

from gastown_tui.cli.common import town_of
from gastown_tui.cli.framework import add_json, print_json, print_table
from gastown_tui.errors import UsageError

VERBS = ("list", "show", "ack", "close", "stale", "answer")

USAGE = """\
  gt escalate [-s CRITICAL|HIGH|MEDIUM|LOW] [--type CATEGORY] [--to TARGET] MSG
  gt escalate --type decision --question Q --options "A,B,C" [--context TEXT] [--issue BEAD] MSG
  gt escalate --forward [--to TARGET] MSG  a tier passes on what it could not resolve (new escalation)
  gt escalate --forward ID [--to TARGET] [NOTE]   ... or an existing one
  gt escalate list [--all] [--json]        open escalations, most severe first
  gt escalate show ID [--json]
  gt escalate ack ID                       take it (stops re-escalation)
  gt escalate answer ID OPTION             answer a decision (OPTION: its number or text)
  gt escalate close ID [--reason TEXT]
  gt escalate stale [--json]               unacknowledged past escalation.stale_seconds

Routing by category: decision, help -> deacon -> mayor; blocked -> mayor; failed -> deacon;
emergency -> overseer; gate_timeout -> deacon; lifecycle -> the rig's witness. Other categories
by severity: low/medium -> deacon, high -> mayor, critical -> overseer. Stale ones move one level
up their ladder (deacon -> mayor -> overseer)."""


def register(p: argparse.ArgumentParser) -> None:
    p.description = "Raise, list and resolve escalations.\n\n" + USAGE
    p.add_argument("words", nargs="*", metavar="MSG | VERB ID", help="the message, or a verb: " + ", ".join(VERBS))
    p.add_argument("-s", "--severity", default="medium", type=str.lower,
                   help="CRITICAL, HIGH, MEDIUM (default) or LOW, in any case")
    p.add_argument("--type", dest="category", default=None,
                   help="category: decision, help, blocked, failed, emergency, gate_timeout, lifecycle, ...")
    p.add_argument("--to", default=None, help="route to this address instead of by category or severity")
    p.add_argument("--forward", action="store_true", help="pass it one tier up (or --to): you could not resolve it")
    p.add_argument("--question", default=None, help="a decision to take (structured form)")
    p.add_argument("--options", default=None, help="comma-separated choices for --question")
    p.add_argument("--context", default=None, help="background for the decision's --question")
    p.add_argument("--issue", default=None, help="the bead this is about")
    p.add_argument("--reason", default=None, help="close: why")
    p.add_argument("--all", action="store_true", help="list: include closed ones")
    add_json(p)
    p.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    words = list(args.words)
    if words and words[0] == "answer" and len(words) >= 3:
        return _answer(args, words[1:])
    if words and words[0] in VERBS and (words[0] != "close" or len(words) <= 2) \
            and (words[0] in ("list", "stale") or len(words) == 2) and words[0] != "answer":
        return {"list": _list, "stale": _stale, "show": _show, "ack": _ack, "close": _close}[words[0]](args, words[1:])
    if words and words[0] in ("show", "ack", "close", "answer") and len(words) <= 2:
        what = "an escalation ID and an OPTION" if words[0] == "answer" else "an escalation ID"
        raise UsageError(f"gt escalate {words[0]} needs {what}", hint="list them with 'gt escalate list'")
    if not words:
        raise UsageError("gt escalate needs a message or a verb", hint="usage:\n" + USAGE)
    if args.forward and _is_escalation_id(args, words[0]):
        return _forward(args, words[0], " ".join(words[1:]))
    return _raise(args, " ".join(words))


def _is_escalation_id(args, word: str) -> bool:
    from gastown_tui.beads.store import Store

    if " " in word or not word.startswith("hq-"):
        return False
    iss = Store(town_of(args).beads_dir).try_get(word)
    return iss is not None and iss.issue_type == "escalation"


def _forward(args, esc_id: str, note: str) -> int:
    from gastown_tui.work.escalation import forward_escalation, to_json

    iss = forward_escalation(town_of(args), esc_id, to=args.to, note=note)
    if args.json:
        print_json(to_json(iss))
    else:
        print(f"forwarded {iss.id} to {iss.data['routed_to']} (level {iss.data.get('escalation_level')})")
    return 0


def _answer(args, rest) -> int:
    from gastown_tui.work.escalation import answer_escalation, to_json

    iss = answer_escalation(town_of(args), rest[0], " ".join(rest[1:]))
    if args.json:
        print_json(to_json(iss))
    else:
        issue = iss.data.get("related_issue")
        print(f"{iss.id} answered: {iss.data['answer']}" + (f" (recorded on {issue})" if issue else ""))
    return 0


def _raise(args, message: str) -> int:
    from gastown_tui.work.escalation import create_escalation, to_json

    options = [o.strip() for o in args.options.split(",") if o.strip()] if args.options else None
    town = town_of(args)
    iss = create_escalation(town, message, severity=args.severity, category=args.category, to=args.to,
                            question=args.question, options=options, issue=args.issue, context=args.context,
                            forward=args.forward)
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
        if e["context"]:
            print(f"  context: {e['context']}")
        if e["answer"]:
            print(f"  answer: {e['answer']} (by {e['answered_by']})")
    if e["forwarded_by"]:
        print(f"  forwarded by {e['forwarded_by']}")
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
