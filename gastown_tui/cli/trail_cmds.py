"""`gt trail`: recent output of agents (their bounded session logs) and what they last did (the feed)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

DESCRIPTION = """\
Recent output of agents: the last lines each agent printed (from its session's output log,
kept by tmux pipe-pane, bounded: see trail.max_bytes) and its last events from the feed.

Examples:
  gt trail                              every agent with a log, last 20 lines each
  gt trail demo/polecats/furiosa -n 50  one agent
  gt trail --since 10m --json
  gt trail --screen                     also the last lines on each running agent's screen now
"""


def register(p: argparse.ArgumentParser) -> None:
    from gastown_tui.cli.framework import add_json

    p.description = DESCRIPTION
    p.add_argument("agents", nargs="*", metavar="AGENT", help="agent addresses (default: every agent with a log)")
    p.add_argument("--agent", action="append", default=[], metavar="ADDRESS", help="an agent (repeatable)")
    p.add_argument("-n", "--lines", type=int, default=20, help="lines per agent (default 20; 0: all kept)")
    p.add_argument("--since", default=None, metavar="DURATION", help="only output newer than this: 30s, 10m, 1h")
    p.add_argument("--screen", action="store_true", help="add the last lines on each running agent's screen")
    add_json(p)
    p.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    from gastown_tui.agents import trail
    from gastown_tui.cli.common import town_of
    from gastown_tui.errors import UsageError
    from gastown_tui.town.identity import agent_from_session, parse_address
    from gastown_tui.work import feed

    if args.lines < 0:
        raise UsageError(f"--lines must be 0 or more, not {args.lines}", hint="for example -n 50")
    town = town_of(args)
    rigs = town.rigs()
    since = feed.since_epoch(args.since)
    wanted = [*args.agents, *args.agent]
    if wanted:
        targets = [(a.address, a.session) for a in (parse_address(w, rigs) for w in wanted)]
    else:
        targets = []
        for s in trail.sessions_with_logs(town):
            a = agent_from_session(s, rigs)
            targets.append((a.address if a else s, s))
    screens: dict[str, str] = {}
    if args.screen and targets:
        from gastown_tui.infra.tmux import Tmux

        tm = Tmux.for_town(town)
        live = tm.panes()
        screens = tm.capture_many([s for _a, s in targets if s in live], ansi=False)
    path = town.events_jsonl
    out = []
    for address, session in targets:
        did, _ = feed.recent(path, filt=feed.Filter(agent=address, since=since), limit=3)
        item = {"agent": address, "session": session,
                "lines": trail.read_lines(town, session, lines=args.lines, since=since),
                "events": [{"ts": e.get("ts"), "type": e.get("type"), "payload": e.get("payload")} for e in did]}
        if args.screen:
            text = screens.get(session)
            item["screen"] = None if text is None else [ln for ln in text.rstrip("\n").split("\n")][-args.lines or None:]
        out.append(item)
    if args.json:
        from gastown_tui.cli.framework import print_json

        print_json(out)
        return 0
    _print(out, args)
    return 0


def _print(items: list[dict], args) -> None:
    import time

    from gastown_tui.infra.termtext import clean as sanitize

    if not items:
        print("no agent output logged yet" + (f" in the last {args.since}" if args.since else "")
              + " (agents started by gt log their output; see trail.enabled)")
        return
    for i, it in enumerate(items):
        if i:
            print()
        last = it["events"][-1] if it["events"] else None
        what = ""
        if last:
            p = last.get("payload") if isinstance(last.get("payload"), dict) else {}
            detail = p.get("bead") or p.get("subject") or p.get("id") or ""
            what = f"   last: {last.get('type')} {detail}".rstrip()
        print(sanitize(f"== {it['agent']} ({it['session']}){what}").replace("\n", " "))
        if not it["lines"]:
            print("   (no output logged" + (" in this window" if args.since else "") + ")")
        for ln in it["lines"]:
            print(f"   {time.strftime('%H:%M:%S', time.localtime(ln['ts']))}  {sanitize(ln['text'])}")
        if args.screen:
            if it.get("screen") is None:
                print("   [screen] not running")
            else:
                print("   [screen now]")
                for ln in it["screen"]:
                    print("   | " + sanitize(ln))
