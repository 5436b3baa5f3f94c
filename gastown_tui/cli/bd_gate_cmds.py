"""`bd gate ...`: gates a step or a parked agent waits on (timer, human, mail, bead, command, gh)."""

from __future__ import annotations

import argparse

from gastown_tui.cli.bd_common import actor_of, emit_json, open_local, store_args, store_for
from gastown_tui.cli.framework import command, subcommands
from gastown_tui.errors import NotFound


def register(p: argparse.ArgumentParser) -> None:
    sub = subcommands(p)
    c = command(sub, "create", "create a gate: timer:D, human:PROMPT, mail:PATTERN, bead:ID, command:CMD, gh:run:ID, gh:pr:N",
                cmd_create)
    c.add_argument("spec", metavar="TYPE:ARG")
    c.add_argument("title_words", nargs="?", metavar="TITLE", help="the gate's title (or --title)")
    c.add_argument("--timeout", default=None, metavar="D", help="close the gate as timed out after D (e.g. 30m)")
    c.add_argument("--notify", action="append", default=[], metavar="ADDR", help="mail this address when it opens (repeatable)")
    c.add_argument("--title", default=None, help="the gate's title")
    c.add_argument("--blocks", default=None, metavar="STEP", help="make this step wait for the gate")
    store_args(c)
    c = command(sub, "status", "one gate: its condition, state and waiters", cmd_status)
    c.add_argument("id", metavar="ID")
    store_args(c)
    c = command(sub, "show", "alias of 'status'", cmd_status)
    c.add_argument("id", metavar="ID")
    store_args(c)
    c = command(sub, "list", "gates in this store (open ones; --all for closed too)", cmd_list)
    c.add_argument("--all", action="store_true", help="include closed gates")
    store_args(c)
    c = command(sub, "resolve", "open a gate by hand (a human gate, or any gate) and wake its waiters", cmd_resolve)
    c.add_argument("id", metavar="ID")
    c.add_argument("-r", "--reason", default=None, help="why it is resolved")
    store_args(c)
    c = command(sub, "check", "check every gate of the town now, as the deacon does each patrol", cmd_check)
    store_args(c)


def _town(args: argparse.Namespace):
    from gastown_tui.town.layout import find_town

    try:
        return find_town(args.town)
    except NotFound:
        return None


def cmd_create(args: argparse.Namespace) -> int:
    from gastown_tui.work.gates import create_gate, gate_json

    from gastown_tui.errors import UsageError

    if args.title_words and args.title:
        raise UsageError("give the gate's title once: as TITLE or with --title", hint="drop one of them")
    store = open_local(args)
    gate = create_gate(store, args.spec, timeout=args.timeout, notify=args.notify, title=args.title or args.title_words,
                       town=_town(args), actor=actor_of(args), blocks=args.blocks)
    if args.json:
        emit_json(gate_json(gate))
    else:
        print(f"Created gate {gate.id}: {gate.title}")
    return 0


def _print_gate(g: dict) -> None:
    state = "timed out" if g["timed_out"] else ("open" if g["open"] else "waiting")
    print(f"{g['id']}  {g['type']}:{g['arg']}  {state}")
    if g["reason"]:
        print(f"  reason:   {g['reason']}")
    if g["due_in"] is not None and not g["open"]:
        print(f"  due in:   {g['due_in']:g}s")
    if g["timeout_in"] is not None and g["status"] != "closed":
        print(f"  timeout:  in {g['timeout_in']:g}s")
    if g["notify"]:
        print(f"  notify:   {', '.join(g['notify'])}")
    for w in g["waiters"]:
        print(f"  parked:   {w['address']}" + (f" — {w['handoff']}" if w.get("handoff") else ""))


def cmd_status(args: argparse.Namespace) -> int:
    from gastown_tui.work.gates import gate_json, get_gate

    store = store_for(args, args.id)
    g = gate_json(get_gate(store, args.id))
    if args.json:
        emit_json(g)
    else:
        _print_gate(g)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from gastown_tui.cli.framework import print_table
    from gastown_tui.work.gates import gate_json, list_gates

    store = open_local(args)
    rows = [gate_json(g) for g in list_gates(store, include_closed=args.all)]
    if args.json:
        emit_json(rows)
    elif not rows:
        print("No gates.")
    else:
        print_table([[g["id"], f"{g['type']}:{g['arg']}", "timed out" if g["timed_out"] else ("open" if g["open"] else "waiting"),
                      len(g["waiters"]), g["title"]] for g in rows], ["id", "gate", "state", "parked", "title"])
    return 0


def cmd_resolve(args: argparse.Namespace) -> int:
    from gastown_tui.work.gates import resolve_gate

    store = store_for(args, args.id)
    res = resolve_gate(store, args.id, reason=args.reason, town=_town(args), actor=actor_of(args))
    if args.json:
        emit_json(res.to_json())
    else:
        print(f"Resolved gate {res.id}" + (f"; woke {', '.join(res.woke)}" if res.woke else ""))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from gastown_tui.town.layout import find_town
    from gastown_tui.work.gates import check_gates

    town = find_town(args.town)
    results = check_gates(town)
    if args.json:
        emit_json([r.to_json() for r in results])
    elif not results:
        print("No gate opened.")
    else:
        for r in results:
            word = "timed out" if r.timed_out else "opened"
            print(f"Gate {r.id} {word}: {r.reason}" + (f"; woke {', '.join(r.woke)}" if r.woke else ""))
    return 0
