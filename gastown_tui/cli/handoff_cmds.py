"""`gt handoff`: hand your work to a fresh session of yourself (HANDOFF mail, same hook, restart)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

DESCRIPTION = """\
Hand off to a fresh session: mail yourself a HANDOFF (what you were doing, what is next, the bead
on your hook), then restart your process in the same tmux session. The hook stays as it is; the
new session's 'gt prime' shows the handoff first. Run it inside an agent's session, or name the
agent (the overseer cycling a session by hand).

The witness does this by itself after witness.cycle_after_hours of one session, or when the
context window is witness.cycle_context_percent full (both 0 = off).

Examples:
  gt handoff -m "refactored the parser, tests green" --next "wire it into the CLI"
  gt handoff demo/polecats/furiosa --reason "context full"
  gt handoff --no-restart -m "notes for later"
"""


def register(p: argparse.ArgumentParser) -> None:
    from gastown_tui.cli.framework import add_json

    p.description = DESCRIPTION
    p.add_argument("agent", nargs="?", default=None, metavar="AGENT", help="the agent (default: you)")
    p.add_argument("-m", "--message", dest="doing", default="", help="what you were doing")
    p.add_argument("--next", dest="next_steps", default="", help="what the next session should do first")
    p.add_argument("--reason", default="requested", help="why (recorded in the mail and the feed)")
    p.add_argument("--no-restart", action="store_true", help="only write the HANDOFF mail")
    add_json(p)
    p.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    from gastown_tui.work.handoff import handoff
    from gastown_tui.cli.common import town_of
    from gastown_tui.errors import UsageError
    from gastown_tui.work.hook import whoami

    town = town_of(args)
    agent = whoami(town, address=args.agent)
    if agent.role == "overseer":
        raise UsageError("the overseer has no session to hand off", hint="name an agent: gt handoff demo/polecats/NAME")
    if agent.role in ("witness", "refinery", "deacon") and not args.no_restart:
        raise UsageError(f"{agent.address} is a patrol: restart it with 'gt {agent.role} restart' instead",
                         hint="or pass --no-restart to only leave a note")
    import os

    sender = os.environ.get("BD_ACTOR") or None
    res = handoff(town, agent, doing=args.doing, next_steps=args.next_steps, reason=args.reason,
                  restart=not args.no_restart, sender=sender)
    if args.json:
        from gastown_tui.cli.framework import print_json

        print_json(res)
    else:
        bead = f" (hook: {res['bead']})" if res["bead"] else " (nothing on the hook)"
        tail = "; restarting the session" if res["restarted"] else ""
        print(f"handoff {res['mail']} for {res['agent']}{bead}{tail}", flush=True)
    return 0
