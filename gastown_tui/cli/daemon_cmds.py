"""`gt daemon start|stop|status|run|logs`: the town's background ticker (boot + beads commits)."""

from __future__ import annotations

import argparse

from gastown_tui.cli.common import town_of
from gastown_tui.cli.framework import command, count, print_json, subcommands


def log_line(text: str) -> None:
    import time

    print(f"{time.strftime('%H:%M:%S')} {text}", flush=True)


def register(p: argparse.ArgumentParser) -> None:
    sub = subcommands(p)
    command(sub, "start", "start the daemon in the background", _start, json_flag=True)
    command(sub, "stop", "stop the daemon", _stop)
    command(sub, "status", "is the daemon running?", _status, json_flag=True)
    r = command(sub, "run", "run the daemon in the foreground", _run)
    r.add_argument("--once", action="store_true", help="one tick, then exit")
    lg = command(sub, "logs", "show the end of the daemon's log", _logs)
    lg.add_argument("-n", "--lines", type=count, default=50, help="how many lines (default 50)")


def _start(args: argparse.Namespace) -> int:
    from gastown_tui.patrols import daemon

    st = daemon.start(town_of(args))
    if args.json:
        print_json(st)
    else:
        print(f"daemon started (pid {st['pid']}); log: {st['log']}")
    return 0


def _stop(args: argparse.Namespace) -> int:
    from gastown_tui.patrols import daemon

    if daemon.stop(town_of(args)):
        print("daemon stopped")
    else:
        print("the daemon was not running")
    return 0


def _status(args: argparse.Namespace) -> int:
    from gastown_tui.patrols import daemon

    st = daemon.status(town_of(args))
    if args.json:
        print_json(st)
    elif st["running"]:
        print(f"daemon running (pid {st['pid']}); log: {st['log']}")
    else:
        print("daemon not running; start it with 'gt daemon start' (or 'gt up')")
    return 0 if st["running"] else 1


def _run(args: argparse.Namespace) -> int:

    from gastown_tui.patrols import daemon_loop

    daemon_loop.run(town_of(args), once=args.once, log=log_line)
    return 0


def _logs(args: argparse.Namespace) -> int:
    from gastown_tui.patrols import daemon

    for line in daemon.tail_log(town_of(args), args.lines):
        print(line)
    return 0
