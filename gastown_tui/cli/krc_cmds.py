"""`gt patrol digest|digests` and `gt krc list|prune|config`: ephemeral data's lifecycle."""

from __future__ import annotations

from gastown_tui.cli.framework import command, print_json, print_table, subcommands

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse


def register(parser: argparse.ArgumentParser) -> None:
    name = parser.prog.split()[-1]
    sub = subcommands(parser)
    if name == "patrol":
        parser.description = ("Patrol digests: every patrol pass leaves a check record; 'digest' rolls each finished "
                              "UTC day of each patrol into one digest bead (passes, what they did, anomalies) and "
                              "removes the records.")
        p = command(sub, "digest", "digest finished days of patrol checks into one bead per patrol and day",
                    _digest, json_flag=True)
        p.add_argument("--date", default=None, metavar="YYYY-MM-DD", help="only this day (default: every finished day)")
        p.add_argument("--dry-run", action="store_true", help="show the digests; write and remove nothing")
        command(sub, "digests", "the digest beads written so far", _digests, json_flag=True)
        return
    parser.description = ("KRC: time-to-live lifecycle of the town's ephemeral data — heartbeats of stopped "
                          "sessions, closed or read wisps, patrol check records, output logs of stopped agents. "
                          "TTLs are settings krc.ttl.<kind> (durations: 1d, 7d).")
    command(sub, "list", "each kind of ephemeral data: TTL, items, expired", _list, json_flag=True)
    p = command(sub, "prune", "remove what outlived its TTL", _prune, json_flag=True)
    p.add_argument("--dry-run", action="store_true", help="count what would go; remove nothing")
    p.add_argument("--kind", action="append", default=[], help="only this kind (repeatable)")
    p = command(sub, "config", "show the TTLs, or set one: gt krc config KIND DURATION", _config, json_flag=True)
    p.add_argument("kind", nargs="?", help="heartbeats, wisps, patrol_checks or trails")
    p.add_argument("ttl", nargs="?", help="a duration: 12h, 3d, 2w")


def _town(args):
    from gastown_tui.cli.common import town_of

    return town_of(args)


def _tmux(town):
    from gastown_tui.infra.tmux import Tmux

    return Tmux.for_town(town)


def _digest(args) -> int:
    from gastown_tui.errors import UsageError
    from gastown_tui.patrols.krc import digest

    if args.date is not None:
        d = args.date
        if not (len(d) == 10 and d[4] == "-" and d[7] == "-" and d.replace("-", "").isdigit()):
            raise UsageError(f"'{d}' is not a date", hint="use YYYY-MM-DD, for example --date 2026-01-31")
    res = digest(_town(args), day=args.date, dry_run=args.dry_run)
    if args.json:
        print_json(res)
        return 0
    if not res:
        print("no finished days of patrol checks to digest")
    for r in res:
        what = "would digest" if args.dry_run else ("already digested" if r.get("already") else "digested")
        print(f"{what} {r['patrol']} {r['day']}: {r['passes']} passes"
              + (f", anomalies: {'; '.join(r['anomalies'])}" if r["anomalies"] else "")
              + (f" -> {r['bead']}" if r.get("bead") else "") + (f" ({r['burned']} records removed)" if r.get("burned") else ""))
    return 0


def _digests(args) -> int:
    from gastown_tui.patrols.krc import list_digests

    items = list_digests(_town(args))
    if args.json:
        print_json(items)
    elif not items:
        print("no patrol digests yet (gt patrol digest writes them)")
    else:
        print_table([(i["id"], i["day"], i["patrol"], i.get("passes"), len(i.get("anomalies") or [])) for i in items],
                    ["id", "day", "patrol", "passes", "anomalies"])
    return 0


def _list(args) -> int:
    from gastown_tui.patrols.krc import status

    town = _town(args)
    rows = status(town, _tmux(town))
    if args.json:
        print_json(rows)
    else:
        print_table([(r["kind"], r["ttl"], "-" if r["items"] is None else r["items"], r["expired"]) for r in rows],
                    ["kind", "ttl", "items", "expired"])
    return 0


def _prune(args) -> int:
    from gastown_tui.errors import UsageError
    from gastown_tui.patrols.krc import KINDS, prune

    bad = [k for k in args.kind if k not in KINDS]
    if bad:
        raise UsageError(f"'{bad[0]}' is not a kind of ephemeral data", hint="kinds: " + ", ".join(KINDS))
    town = _town(args)
    res = prune(town, _tmux(town), dry_run=args.dry_run, kinds=tuple(args.kind) or KINDS)
    if args.json:
        print_json(res)
    else:
        verb = "would remove" if args.dry_run else "removed"
        print(", ".join(f"{verb} {n} {k}" for k, n in res["removed"].items()))
    return 0


def _config(args) -> int:
    from gastown_tui.errors import UsageError
    from gastown_tui.patrols.krc import DEFAULT_TTLS, KINDS
    from gastown_tui.town.config import load_settings
    from gastown_tui.work.feed import parse_duration

    town = _town(args)
    s = load_settings(town.root)
    if args.kind is not None:
        if args.kind not in KINDS:
            raise UsageError(f"'{args.kind}' is not a kind of ephemeral data", hint="kinds: " + ", ".join(KINDS))
        if args.ttl is None:
            raise UsageError(f"gt krc config {args.kind} needs a duration", hint=f"for example: gt krc config {args.kind} 3d")
        parse_duration(args.ttl)
        s.set(f"krc.ttl.{args.kind}", args.ttl)
        s.save()
    ttls = {k: str(s.get(f"krc.ttl.{k}") or DEFAULT_TTLS[k]) for k in KINDS}
    if args.json:
        print_json(ttls)
    else:
        print_table(list(ttls.items()), ["kind", "ttl"])
    return 0
