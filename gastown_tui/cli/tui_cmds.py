"""`gt tui` (the cockpit) and `gt demo` (a living demo town in one command)."""

from __future__ import annotations

import argparse
import sys


def register(p: argparse.ArgumentParser) -> None:
    group = p.prog.split()[-1]
    if group == "tui":
        p.description = ("the cockpit: every agent in every rig, the selected agent's live output, convoys, "
                         "mail and the event feed; sling, nudge and attach from the keyboard (? lists every key)")
        p.add_argument("--theme", metavar="NAME", help="gastown-dark (default), gastown-light, gastown-high-contrast, "
                       "or a theme in $XDG_CONFIG_HOME/gastown/themes/")
        p.add_argument("--list-themes", action="store_true", help="print the available themes and exit")
        p.set_defaults(func=_tui)
    else:
        p.description = ("build a demo town (a sample rig, a dozen beads, a convoy), start its fleet with the sim "
                         "runtime, sling work and open the cockpit; new beads (some faulty, so supervision shows) "
                         "keep arriving while it is open; re-running reuses the town")
        p.add_argument("--path", metavar="P", default=None, help="where to build it (default ~/gt-demo)")
        p.add_argument("--agents", metavar="N", type=int, default=3, help="polecats to give work to (default 3)")
        p.add_argument("--feed-every", metavar="SECONDS", type=float, default=20.0,
                       help="file and sling a new bead this often (default 20; 0: no feed)")
        p.add_argument("--feed-minutes", metavar="M", type=float, default=10.0,
                       help="keep feeding this long (default 10); the feed also stops when the cockpit quits "
                       "or with 'gt down'")
        p.add_argument("--no-tui", action="store_true", help="leave the town running (and fed) without opening the cockpit")
        p.add_argument("--theme", metavar="NAME", help="cockpit theme")
        p.add_argument("--json", action="store_true", help="with --no-tui: print what was done as JSON")
        p.set_defaults(func=_demo)


def _run_cockpit(town, theme: str | None) -> int:
    if not sys.stdin.isatty() or not sys.stdout.isatty():
        from gastown_tui.errors import UsageError

        raise UsageError("the cockpit needs a terminal (stdin and stdout are not a tty)",
                         hint="run it in a terminal, or use 'gt status' / 'gt agents' for plain output")
    from gastown_tui.tui.source import TownSource, prefetch_snapshot

    # the first snapshot (stores, the pane listing, the captures) starts loading before Textual
    # is imported: its tmux processes and file reads overlap the import
    source = TownSource(town)
    first = prefetch_snapshot(source)
    from gastown_tui.tui.app import CockpitApp

    CockpitApp(source, theme=theme, first_snapshot=first).run()
    return 0


def _tui(args) -> int:
    if args.list_themes:
        from gastown_tui.tui.themes import discover_themes

        for name in sorted(discover_themes()):
            sys.stdout.write(name + "\n")
        return 0
    from gastown_tui.cli.common import town_of

    town = town_of(args)
    if args.theme:
        _check_theme(args.theme)
    return _run_cockpit(town, args.theme)


def _check_theme(name: str) -> None:
    from gastown_tui.errors import UsageError
    from gastown_tui.tui.themes import discover_themes

    names = sorted(discover_themes())
    if name not in names:
        raise UsageError(f"there is no theme named '{name}'", hint="themes: " + ", ".join(names))


def _demo(args) -> int:
    from gastown_tui.sim.demo import build_demo

    if args.theme:
        _check_theme(args.theme)
    path = args.path or (args.town if getattr(args, "town", None) else None)
    out = sys.stdout

    said: list[str] = []

    def progress(step: str) -> None:  # each step as it is done: a first run takes a while
        if not said:
            said.append(step)
            out.write("building the demo town\n")
        out.write(f"  {'-' if step.startswith('skipped ') else '·' if step.endswith('…') else '✓'} {step}\n")
        out.flush()

    result = build_demo(path, agents=args.agents, feed_every=args.feed_every, feed_minutes=args.feed_minutes,
                        progress=None if args.json else progress)
    if args.json:
        from gastown_tui.cli.framework import print_json

        print_json(result.to_json())
    else:
        out.write(f"demo town: {result.town.root}\n")
    if args.no_tui:
        if not args.json:
            _keeps_running(result.town.root, fed=result.feeder is not None)
        return 0
    try:
        code = _run_cockpit(result.town, args.theme)
    finally:
        if result.feeder is not None:
            from gastown_tui.sim import feeder

            if feeder.stop(result.town):
                out.write("the demo feed stopped with the cockpit\n")
    _keeps_running(result.town.root)  # leaving the cockpit does not stop the fleet: say so
    return code


def _keeps_running(root, fed: bool = False) -> None:
    sys.stdout.write(f"the town keeps running{' and new beads keep arriving' if fed else ''}; "
                     f"open the cockpit with: gt tui --town {root}\n"
                     f"stop it with: gt down --town {root}\n")
