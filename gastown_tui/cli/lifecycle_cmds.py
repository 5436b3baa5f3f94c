"""`gt up|down|start|shutdown|doctor`: bring the fleet up and down, and check the town's health.

One module serves the five groups; `register` reads which one from the parser's name.
"""

from __future__ import annotations

import argparse

from gastown_tui.cli.common import town_of
from gastown_tui.cli.framework import add_json, print_json


def register(p: argparse.ArgumentParser) -> None:
    name = p.prog.split()[-1]
    add_json(p)
    if name == "up":
        p.add_argument("--no-mayor", action="store_true", help="do not start the mayor")
        p.set_defaults(func=_up)
    elif name == "down":
        p.set_defaults(func=_down)
    elif name == "start":
        p.add_argument("--all", action="store_true", help="also witnesses, refineries and polecats with hooked work")
        p.set_defaults(func=_start)
    elif name == "shutdown":
        p.add_argument("--all", action="store_true", help="stop everything, crew sessions too (default: crew keep running)")
        p.add_argument("--polecats-only", action="store_true", help="only polecats; services keep running")
        p.add_argument("--graceful", action="store_true", help="ask polecats to commit and wait for them first")
        p.add_argument("--force", action="store_true", help="also remove polecats with unmerged work (it is lost)")
        p.add_argument("--wait", type=float, default=30.0, help="graceful: seconds to wait (default 30)")
        p.set_defaults(func=_shutdown)
    elif name == "doctor":
        p.add_argument("--fix", action="store_true", help="repair what is safe to repair, and say what was done")
        p.set_defaults(func=_doctor)


def _agents_out(rows) -> None:
    for a in rows:
        extra = f": {a['error']}" if a.get("error") else ""
        print(f"  {a['agent']:<24} {a['action']}{extra}")


def _up(args: argparse.Namespace) -> int:
    from gastown_tui.patrols import lifecycle

    out = lifecycle.up(town_of(args), mayor=not args.no_mayor)
    if args.json:
        print_json(out)
    else:
        d = out["daemon"] or {}
        print(f"  {'daemon':<24} {d.get('action')}{' (pid ' + str(d.get('pid')) + ')' if d.get('pid') else ''}"
              f"{': ' + d['error'] if d.get('error') else ''}")
        _agents_out(out["agents"])
    failed = [a for a in out["agents"] if a["action"] == "failed"]
    return 1 if failed or (out["daemon"] or {}).get("action") == "failed" else 0


def _down(args: argparse.Namespace) -> int:
    from gastown_tui.patrols import lifecycle

    out = lifecycle.down(town_of(args))
    if args.json:
        print_json(out)
    else:
        print(f"daemon {'stopped' if out['daemon_stopped'] else 'was not running'}; "
              f"stopped {len(out['stopped'])} session(s); state and worktrees kept")
    return 0


def _start(args: argparse.Namespace) -> int:
    from gastown_tui.patrols import lifecycle

    out = lifecycle.start(town_of(args), all=args.all)
    if args.json:
        print_json(out)
    else:
        _agents_out(out["agents"])
    return 1 if any(a["action"] == "failed" for a in out["agents"]) else 0


def _shutdown(args: argparse.Namespace) -> int:
    from gastown_tui.errors import UsageError
    from gastown_tui.patrols import lifecycle

    if args.all and args.polecats_only:
        raise UsageError("--all and --polecats-only contradict each other", hint="choose one")
    out = lifecycle.shutdown(town_of(args), polecats_only=args.polecats_only, graceful=args.graceful,
                             force=args.force, wait_seconds=args.wait, all=args.all)
    if args.json:
        print_json(out)
        return 0
    print(f"stopped {len(out['stopped'])} session(s); removed {len(out['removed'])} polecat(s)")
    for k in out["kept"]:
        print(f"  kept {k['agent']}: {k['reason']} (finish it, or 'gt shutdown --force' to discard)")
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from gastown_tui.patrols import doctor

    checks = doctor.run_checks(town_of(args), fix=args.fix)
    if args.json:
        print_json({"ok": all(c["status"] != "fail" for c in checks), "checks": checks})
    else:
        marks = {"ok": "✓", "warn": "!", "fail": "✗"}
        for c in checks:
            print(f"{marks[c['status']]} {c['name']:<22} {c['message']}")
            for f in c.get("fixed", []):
                print(f"    fixed: {f}")
            if c["status"] != "ok" and c.get("hint") and not c.get("fixed"):
                print(f"    fix: {c['hint']}")
    return 1 if any(c["status"] == "fail" for c in checks) else 0
