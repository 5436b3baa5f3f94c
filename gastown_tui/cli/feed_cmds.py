"""`gt feed`: the town's activity (`.events.jsonl`: work, mail, escalations, patrols) as it happens."""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

DESCRIPTION = """\
Show the town's recent activity, then follow new events as they are written.

On a terminal the feed follows (Ctrl-C stops it); when output is a pipe or a file it prints the
recent events and exits. --follow forces following, --no-follow forces exiting.

Events come from .events.jsonl: slings, spawns, done, merges, mail (mail.sent), escalations
(escalation.created/acked/closed), patrol actions, rig changes.

Examples:
  gt feed                          recent events, then follow
  gt feed --since 1h --no-follow   the last hour, then exit
  gt feed --rig gastown --type mail,escalation
  gt feed --agent gastown/polecats/furiosa --json
"""


def register(p: argparse.ArgumentParser) -> None:
    from gastown_tui.cli.framework import add_json

    p.description = DESCRIPTION
    p.add_argument("--rig", default=None, help="only events of this rig")
    p.add_argument("--agent", default=None, metavar="ADDRESS", help="only events by or about this agent")
    p.add_argument("--type", dest="types", default=None, metavar="TYPE[,TYPE]",
                   help="only these event types; 'mail' also matches mail.sent (comma-separated)")
    p.add_argument("--since", default=None, metavar="DURATION", help="only events newer than this: 30s, 5m, 1h, 7d")
    p.add_argument("-n", "--limit", type=int, default=None,
                   help="at most this many recent events (default 100; with --since: all of them; 0: no limit)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("-f", "--follow", action="store_true", help="keep following even when output is not a terminal")
    mode.add_argument("--no-follow", action="store_true", help="print recent events and exit")
    add_json(p)
    p.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    from gastown_tui.cli.common import town_of
    from gastown_tui.errors import UsageError

    if args.limit is not None and args.limit < 0:
        raise UsageError(f"--limit must be 0 or more, not {args.limit}", hint="for example -n 50")
    return show(str(town_of(args).root), rig=args.rig, agent=args.agent, types=args.types, since=args.since,
                limit=args.limit, follow=args.follow, no_follow=args.no_follow, as_json=args.json)


def show(town_root: str, *, rig: str | None = None, agent: str | None = None, types: str | None = None,
         since: str | None = None, limit: int | None = None, follow: bool = False, no_follow: bool = False,
         as_json: bool = False) -> int:
    """Print the recent matching events; then follow on a terminal (or with follow=True)."""
    from gastown_tui.work import feed

    filt = feed.Filter(rig=rig, agent=agent, types=[t.strip() for t in types.split(",")] if types else None,
                       since=feed.since_epoch(since))
    if limit is None:
        limit = 0 if since else 100
    import os

    path = os.path.join(town_root, ".events.jsonl")
    lines, offset = feed.recent_lines(path, filt=filt, limit=limit or None)
    out = sys.stdout
    if as_json:  # the stored line is already one compact JSON object (it parsed as one)
        out.write("".join(raw.decode("utf-8", "replace") + "\n" for raw, _e in lines))
    else:
        out.write("".join(_text_line(e) for _raw, e in lines))
    out.flush()
    if not (follow or (not no_follow and out.isatty())):
        if not lines and not as_json:
            sys.stderr.write("no matching events" + (f" in the last {since}" if since else "") + "\n")
        return 0
    import gc

    gc.enable()  # following for hours: the usual collector again
    from gastown_tui.infra.watch import file_changes

    write = _json_line if as_json else _text_line
    tail = feed.Tail(path, offset, filt)
    for e in tail.read_new():  # written between the read above and the watch starting
        out.write(write(e))
    out.flush()
    for _ in file_changes(path):
        for e in tail.read_new():
            out.write(write(e))
        out.flush()
    return 0


def _json_line(e: dict) -> str:
    import json

    return json.dumps(e, ensure_ascii=False, separators=(",", ":"), default=str) + "\n"


_SUMMARY_KEYS = ("bead", "beads", "id", "subject", "to", "name", "branch", "severity", "reason", "title", "convoy")


def _text_line(e: dict) -> str:
    """One event as one terminal-safe line: day, time, type, actor, [rig], the payload's key facts."""
    from gastown_tui.infra.termtext import clean as sanitize

    ts = e.get("ts")
    ts = ts if isinstance(ts, str) else ""
    payload = e.get("payload")
    bits = []
    if isinstance(payload, dict):
        for k in _SUMMARY_KEYS:
            v = payload.get(k)
            if v is None or v == "" or v == []:
                continue
            if isinstance(v, list):
                v = ",".join(str(x) for x in v[:5]) + ("…" if len(v) > 5 else "")
            bits.append(f"{k}={v}")
    rig = e.get("rig")
    text = (f"{ts[5:10]} {ts[11:19]}  {e.get('type', '?')!s:<22} {e.get('actor') or '-'!s:<24} "
            f"{'[' + str(rig) + '] ' if rig else ''}{' '.join(bits)}")
    return sanitize(text.replace("\n", " ").replace("\t", " ")).rstrip()[:400] + "\n"
