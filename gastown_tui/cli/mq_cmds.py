"""`gt mq list|status|retry|reject RIG`: the rig's merge queue."""

from __future__ import annotations

import argparse

from gastown_tui.cli.common import town_of
from gastown_tui.cli.framework import command, print_json, print_table, subcommands


def register(p: argparse.ArgumentParser) -> None:
    sub = subcommands(p)
    ls = command(sub, "list", "merge requests in merge order", _list, aliases=["ls"], json_flag=True)
    ls.add_argument("rig", metavar="RIG", nargs="?", help="the rig (default: the one you are in)")
    ls.add_argument("--all", action="store_true", help="include merged and sent-back MRs")
    st = command(sub, "status", "the queue at a glance: current merge, queued, last results", _status,
                 json_flag=True)
    st.add_argument("rig", metavar="RIG", nargs="?", help="the rig (default: the one you are in)")
    st.add_argument("--fetch", action="store_true", help="fetch the upstream first (else: as of the refinery's last fetch)")
    rt = command(sub, "retry", "put an MR back in the queue", _retry)
    rt.add_argument("rig", metavar="RIG")
    rt.add_argument("mr", metavar="MR")
    rj = command(sub, "reject", "close an MR without merging it", _reject)
    rj.add_argument("rig", metavar="RIG")
    rj.add_argument("mr", metavar="MR")
    rj.add_argument("--reason", default=None, help="why (sent to the witness)")


def _list(args: argparse.Namespace) -> int:
    from gastown_tui.cli.common import current_rig
    from gastown_tui.work.mq import list_mrs

    town = town_of(args)
    args.rig = current_rig(town, args.rig, what="gt mq list")
    rows = list_mrs(town, args.rig, include_closed=args.all)
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print(f"the merge queue of {args.rig} is empty")
        return 0
    print_table([(m["id"], m["status"], f"P{m['priority']}", m["source_issue"], m["worker"], m["branch"],
                  m["close_reason"]) for m in rows], ["id", "status", "pri", "bead", "worker", "branch", "result"])
    return 0


def _status(args: argparse.Namespace) -> int:
    from gastown_tui.agents.heartbeat import read_heartbeat
    from gastown_tui.cli.common import current_rig
    from gastown_tui.work.mq import list_mrs

    from gastown_tui.work import upstream

    town = town_of(args)
    args.rig = current_rig(town, args.rig, what="gt mq status")
    town.require_rig(args.rig)
    if args.fetch:
        from gastown_tui.patrols.refinery import fetch_now

        fetch_now(town, args.rig)
    up = upstream.status(town, args.rig)
    rows = list_mrs(town, args.rig, include_closed=True)
    current = next((m for m in rows if m["status"] == "in_progress"), None)
    closed = sorted((m for m in rows if m["status"] == "closed"), key=lambda m: m["updated_at"])
    beat = read_heartbeat(town, f"gt-{args.rig}-refinery")
    data = {"rig": args.rig, "current": current, "queued": sum(1 for m in rows if m["status"] == "open"),
            "merged": sum(1 for m in closed if m["close_reason"].startswith("merged")),
            "sent_back": sum(1 for m in closed if m["close_reason"].startswith(("rework", "merge-failed"))),
            "recent": closed[-5:], "refinery_heartbeat": beat, "upstream": up}
    if args.json:
        print_json(data)
        return 0
    print(f"merge queue of {args.rig}: {data['queued']} queued, {data['merged']} merged, "
          f"{data['sent_back']} sent back")
    print(f"  merging now: {current['id'] + ' (' + current['branch'] + ')' if current else 'nothing'}")
    print(f"  upstream: {_upstream_line(up)}")
    for m in reversed(data["recent"]):
        print(f"  {m['id']}  {m['close_reason']}")
    return 0


def _upstream_line(up: dict) -> str:
    if not up["upstream"]:
        return "none (the rig was not added from a repository)"
    where = f"{up['branch']} -> {up['upstream']}"
    if not up["push"]:
        why = "merge_queue.push is off" if up["pushable"] else "a working repository; set merge_queue.push to push"
        state = f"not pushed ({why})"
    elif up["ahead"] is None:
        state = "not fetched yet"
    elif up["ahead"] == 0 and up["behind"] == 0:
        state = "up to date"
    else:
        state = "pushed" if up["ahead"] == 0 else f"{up['ahead']} commit(s) not pushed"
    if up["behind"]:
        state += f", {up['behind']} behind (fetched)"
    if isinstance(up["fetched_at"], int | float):
        import time

        state += f" (fetched {max(0, int(time.time() - up['fetched_at']))}s ago)"
    if up["push_error"]:
        state += f"; last push failed: {up['push_error']}"
    elif up["fetch_error"]:
        state += f"; last fetch failed: {up['fetch_error']}"
    return f"{where}: {state}"


def _retry(args: argparse.Namespace) -> int:
    from gastown_tui.patrols.refinery import retry_mr

    town = town_of(args)
    town.require_rig(args.rig)
    m = retry_mr(town, args.rig, args.mr)
    print(f"{m['id']} is back in the queue of {args.rig}")
    return 0


def _reject(args: argparse.Namespace) -> int:
    from gastown_tui.patrols.refinery import reject_mr

    town = town_of(args)
    town.require_rig(args.rig)
    m = reject_mr(town, args.rig, args.mr, args.reason)
    print(f"{m['id']} rejected ({m['close_reason']})")
    return 0
