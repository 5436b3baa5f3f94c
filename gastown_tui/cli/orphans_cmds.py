"""`gt orphans` (what belongs to nothing) and `gt cleanup` (remove what is safe)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

KINDS_HELP = ("sessions, worktrees, branches, heartbeats, trails (output logs), beads (hooked to missing "
              "polecats), pending (store requests left by dead processes), processes (runtime helpers such as "
              "Codex's app-server daemon of agents whose session is gone)")

ORPHANS = f"""\
List what belongs to nothing: {KINDS_HELP}.
SAFE says whether 'gt cleanup' removes it: a worktree or branch holding work that is not merged
into the rig's default branch is kept unless 'gt cleanup --force'.
"""

CLEANUP = """\
Remove the safe orphans (see 'gt orphans'): kill sessions no agent owns, remove idle polecat
worktrees and merged polecat branches, heartbeats and output logs of agents that are gone and
request files dead processes left in stores; beads hooked to polecats that no longer exist go back
to the ready pool (open, unassigned). Work not merged into the default branch is never removed
without --force. --dry-run shows what would be done.
"""


def register(p: argparse.ArgumentParser) -> None:
    from gastown_tui.cli.framework import add_json

    name = p.prog.split()[-1]
    add_json(p)
    p.add_argument("--kind", action="append", default=[], metavar="KIND",
                   help="only this kind (repeatable): sessions, worktrees, branches, heartbeats, trails, beads, pending, "
                        "processes")
    if name == "orphans":
        p.description = ORPHANS
        p.set_defaults(func=_orphans)
    else:
        p.description = CLEANUP
        p.add_argument("--dry-run", "-n", action="store_true", help="show what would be removed; change nothing")
        p.add_argument("--force", action="store_true", help="also remove worktrees and branches with unmerged work (it is lost)")
        p.set_defaults(func=_cleanup)


def _kinds(args) -> tuple[str, ...]:
    from gastown_tui.errors import UsageError
    from gastown_tui.patrols.orphans import KINDS

    bad = [k for k in args.kind if k not in KINDS]
    if bad:
        raise UsageError(f"'{bad[0]}' is not a kind of orphan", hint="kinds: " + ", ".join(KINDS))
    return tuple(args.kind) or KINDS


def _orphans(args: argparse.Namespace) -> int:
    from gastown_tui.cli.common import town_of
    from gastown_tui.cli.framework import print_json, print_table
    from gastown_tui.infra.tmux import Tmux
    from gastown_tui.patrols.orphans import find
    from gastown_tui.infra.termtext import clean as sanitize

    kinds = _kinds(args)
    town = town_of(args)
    found = {k: v for k, v in find(town, Tmux.for_town(town)).items() if k in kinds}
    if args.json:
        print_json(found)
        return 0
    rows = [(k, sanitize(i["id"]), "yes" if i["safe"] else "no (--force)", sanitize(i["why"]))
            for k, items in found.items() for i in items]
    if not rows:
        print("no orphans")
        return 0
    print_table(rows, ["kind", "orphan", "safe", "why"])
    print("\nremove the safe ones with 'gt cleanup' (see what it would do with 'gt cleanup --dry-run')")
    return 0


def _cleanup(args: argparse.Namespace) -> int:
    from gastown_tui.cli.common import town_of
    from gastown_tui.cli.framework import print_json
    from gastown_tui.infra.tmux import Tmux
    from gastown_tui.patrols.orphans import cleanup
    from gastown_tui.infra.termtext import clean as sanitize

    kinds = _kinds(args)
    town = town_of(args)
    res = cleanup(town, Tmux.for_town(town), dry_run=args.dry_run, force=args.force, kinds=kinds)
    if args.json:
        print_json(res)
        return 0
    verb = "would remove" if args.dry_run else "removed"
    for d in res["removed"]:
        noun = {"pending": "pending file", "processes": "process"}.get(d["kind"], d["kind"][:-1])
        act = ("would reopen" if args.dry_run else "reopened") if d["kind"] == "beads" else verb
        print(sanitize(f"{act} {noun} {d['id']}"))
    for k in res["kept"]:
        reason = k.get("error") or k["why"]
        print(sanitize(f"kept {k['kind'][:-1]} {k['id']}: {reason}" + ("" if k.get("error") else " (--force removes it)")))
    if not res["removed"] and not res["kept"]:
        print("nothing to clean up")
    return 0
