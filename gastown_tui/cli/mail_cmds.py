"""`gt mail send|inbox|read|ack|reply|archive|delete|thread` (logic in gastown_tui.work.mail).

Kept light: `gt mail inbox --json` is on a hot path (agents poll it), so nothing here imports
GitPython, libtmux, tomlkit or rich.
"""

from __future__ import annotations

import sys

from gastown_tui.cli.framework import command, print_json, print_table, subcommands

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse


def town_of(args: argparse.Namespace):
    from gastown_tui.cli.common import town_of as find  # (pathlib, argparse: not on the fast lane)

    return find(args)


def register(parser: argparse.ArgumentParser) -> None:
    sub = subcommands(parser)
    p = command(sub, "send", "send a message", _send, json_flag=True)
    p.add_argument("to", metavar="ADDR", nargs="?", help="mayor, deacon, overseer, <rig>/witness, <rig>/refinery, "
                   "<rig>/polecats/<name>, <rig>/crew/<name>, @town or @<rig>")
    p.add_argument("--human", action="store_true", help="to the human overseer (the same as ADDR overseer)")
    p.add_argument("-s", "--subject", required=True, help="the subject line")
    body = p.add_mutually_exclusive_group()
    body.add_argument("-m", "--message", dest="body", default="", help="the body")
    body.add_argument("--stdin", action="store_true", help="read the body from standard input")
    p.add_argument("--from", dest="sender", help="sender address (default: you, from $BD_ACTOR, else overseer)")
    p.add_argument("--no-nudge", action="store_true", help="do not nudge the recipient's session")

    p = command(sub, "inbox", "list messages (yours by default)", _inbox, json_flag=True)
    p.add_argument("address", nargs="?", metavar="ADDR", help="whose inbox (default: you)")
    p.add_argument("--human", action="store_true", help="the human overseer's inbox (the same as ADDR overseer)")
    p.add_argument("--unread", action="store_true", help="only unread messages")
    p.add_argument("--all", action="store_true", help="include archived messages")
    p.add_argument("--type", dest="msg_type", help="only protocol messages of this type (POLECAT_DONE, ...)")

    p = command(sub, "read", "show a message and mark it read", _read, json_flag=True)
    p.add_argument("id")

    p = command(sub, "ack", "mark messages read", _ack, json_flag=True)
    p.add_argument("ids", nargs="+", metavar="ID")

    p = command(sub, "reply", "answer a message in its thread", _reply, json_flag=True)
    p.add_argument("id")
    body = p.add_mutually_exclusive_group(required=True)
    body.add_argument("-m", "--message", dest="body", help="the body")
    body.add_argument("--stdin", action="store_true", help="read the body from standard input")
    p.add_argument("-s", "--subject", help="the subject (default: Re: <original>)")

    p = command(sub, "archive", "move messages out of the inbox", _archive, json_flag=True)
    p.add_argument("ids", nargs="+", metavar="ID")

    p = command(sub, "delete", "delete messages", _delete, json_flag=True)
    p.add_argument("ids", nargs="+", metavar="ID")

    p = command(sub, "thread", "show every message of a thread", _thread, json_flag=True)
    p.add_argument("id", help="a thread id (the first message's id)")


def _me(town) -> str:
    from gastown_tui.work.mail import whoami_address

    return whoami_address(town)


def _send(args: argparse.Namespace) -> int:
    from gastown_tui.work.mail import send_mail

    from gastown_tui.errors import UsageError

    if args.human and args.to:
        raise UsageError("give ADDR or --human, not both", hint="--human means ADDR overseer")
    to = "overseer" if args.human else args.to
    if not to:
        raise UsageError("gt mail send needs an ADDR (or --human)", hint='for example: gt mail send mayor -s "Hi" -m "..."')
    town = town_of(args)
    body = sys.stdin.read() if args.stdin else args.body
    msgs = send_mail(town, to, args.subject, body, sender=args.sender, nudge=not args.no_nudge)
    if args.json:
        print_json(msgs if len(msgs) != 1 else msgs[0])
    else:
        for m in msgs:
            print(f"sent {m['id']} to {m['to']}")
    return 0


def _inbox(args: argparse.Namespace) -> int:
    if args.human and args.address:
        from gastown_tui.errors import UsageError

        raise UsageError("give ADDR or --human, not both", hint="--human means ADDR overseer")
    town = town_of(args)
    addr = "overseer" if args.human else (args.address or _me(town))
    if args.json:  # agents poll this: the answer may come from the store's memo (work.mail.inbox_json)
        from gastown_tui.work.mail import inbox_json

        pieces, warnings = inbox_json(town, addr, unread_only=args.unread, include_archived=args.all,
                                      msg_type=args.msg_type, pieces=True)
        _warn(warnings)
        # One line: an agent's inbox can hold thousands of messages (indent=2 is 5x slower).
        out = getattr(sys.stdout, "buffer", None)
        if out is None:  # a text-only stdout (in-process callers)
            sys.stdout.write(str(b"".join(pieces), "utf-8", "surrogateescape") + "\n")
            return 0
        sys.stdout.flush()
        for piece in [*pieces, b"\n"]:  # (not joined, nor `text + b"\n"`: copies of megabytes)
            view = memoryview(piece)
            while view:  # (a raw stdout, PYTHONUNBUFFERED, may take part of a write)
                view = view[out.write(view):]
        return 0
    from gastown_tui.beads.store import Store
    from gastown_tui.work.mail import inbox

    msgs = inbox(town, addr, unread_only=args.unread, include_archived=args.all, msg_type=args.msg_type)
    _warn(Store(town.beads_dir).warnings())
    if not msgs:
        print(f"no {'unread ' if args.unread else ''}mail for {addr}")
        return 0
    print_table([(("  " if m["read"] else "● ") + m["id"], m["from"], m["subject"][:60], m["created_at"][:19])
                 for m in msgs], ["id", "from", "subject", "date"])
    return 0


def _warn(lines: list[str]) -> None:
    for line in lines:
        sys.stderr.write(f"gt: {line}\n")


def _show(m: dict) -> None:
    print(f"From:    {m['from']}\nTo:      {m['to']}\nSubject: {m['subject']}\nDate:    {m['created_at']}\n"
          f"Id:      {m['id']} (thread {m['thread_id']})\n")
    print(m["body"])


def _read(args: argparse.Namespace) -> int:
    from gastown_tui.work.mail import read_message

    m = read_message(town_of(args), args.id)
    if args.json:
        print_json(m)
    else:
        _show(m)
    return 0


def _many(func, verb: str):
    def run(args: argparse.Namespace) -> int:
        ids = func(town_of(args), args.ids)
        if args.json:
            print_json({verb: ids})
        else:
            print(f"{verb} {len(ids)} message(s)")
        return 0
    return run


def _ack(args):
    from gastown_tui.work.mail import ack

    return _many(ack, "acknowledged")(args)


def _archive(args):
    from gastown_tui.work.mail import archive

    return _many(archive, "archived")(args)


def _delete(args):
    from gastown_tui.work.mail import delete

    return _many(delete, "deleted")(args)


def _reply(args: argparse.Namespace) -> int:
    from gastown_tui.work.mail import reply

    body = sys.stdin.read() if args.stdin else args.body
    m = reply(town_of(args), args.id, body, subject=args.subject)
    if args.json:
        print_json(m)
    else:
        print(f"sent {m['id']} to {m['to']} (thread {m['thread_id']})")
    return 0


def _thread(args: argparse.Namespace) -> int:
    from gastown_tui.work.mail import thread

    msgs = thread(town_of(args), args.id)
    if args.json:
        print_json(msgs)
        return 0
    for m in msgs:
        _show(m)
        print("-" * 60)
    return 0
