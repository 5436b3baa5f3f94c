"""The `bd` entry point: the beads issue tracker over the town's git-and-JSONL stores."""

from __future__ import annotations

import sys

from gastown_tui.cli.framework import Group, run

ABOUT = "bd: a git-and-JSONL issue tracker for agents, compatible with upstream bd's issues.jsonl."

# The upstream bd release whose command-line contract we follow (clients check `bd version`).
UPSTREAM_VERSION = "0.49.6"

GROUPS: dict[str, Group] = {
    # beads (issue 3): the store's commands
    "init": Group("gastown_tui.cli.bd_issues", "create .beads/ here (and register the git merge driver)", "Setup"),
    "version": Group("gastown_tui.cli.bd_info", "print the version (upstream bd's it follows, and ours)", "Setup"),
    "quickstart": Group("gastown_tui.cli.bd_info", "a short guide to working with bd", "Setup"),
    "info": Group("gastown_tui.cli.bd_info", "where the store is and what is in it (--schema: its layout)", "Setup"),
    "create": Group("gastown_tui.cli.bd_issues", "create an issue", "Issues"),
    "list": Group("gastown_tui.cli.bd_issues", "list issues (filters; --all includes closed)", "Issues"),
    "show": Group("gastown_tui.cli.bd_issues", "show issues in full", "Issues"),
    "update": Group("gastown_tui.cli.bd_issues", "change fields of an issue; --claim takes it atomically", "Issues"),
    "close": Group("gastown_tui.cli.bd_issues", "close issues", "Issues"),
    "reopen": Group("gastown_tui.cli.bd_issues", "reopen closed issues", "Issues"),
    "delete": Group("gastown_tui.cli.bd_issues", "delete issues (leaves a tombstone)", "Issues"),
    "ready": Group("gastown_tui.cli.bd_issues", "open work with nothing blocking it", "Work"),
    "blocked": Group("gastown_tui.cli.bd_issues", "issues waiting on others, and on what", "Work"),
    "search": Group("gastown_tui.cli.bd_issues", "find issues by text", "Work"),
    "stats": Group("gastown_tui.cli.bd_issues", "counts by status and type", "Work"),
    "epic": Group("gastown_tui.cli.bd_info", "epics: status (children closed, which can close)", "Work"),
    "dep": Group("gastown_tui.cli.bd_deps", "dependencies: add, remove, list, tree, cycles", "Relations"),
    "label": Group("gastown_tui.cli.bd_deps", "labels: add, remove, list", "Relations"),
    "comment": Group("gastown_tui.cli.bd_deps", "comments: add (bd comment ID TEXT), list", "Relations"),
    "comments": Group("gastown_tui.cli.bd_deps", "an issue's comments (bd comments add ID TEXT adds one)", "Relations"),
    "note": Group("gastown_tui.cli.bd_deps", "append text to an issue's notes", "Relations"),
    "export": Group("gastown_tui.cli.bd_io", "print the store as canonical JSONL", "Data"),
    "import": Group("gastown_tui.cli.bd_io", "upsert issues from a JSONL file", "Data"),
    "sync": Group("gastown_tui.cli.bd_io", "commit .beads/ changes to git (pull/push with a remote)", "Data"),
    "merge": Group("gastown_tui.cli.bd_io", "git merge driver: field-level three-way merge of issues.jsonl", "Data"),
    "cook": Group("gastown_tui.cli.bd_mol_cmds", "compile a formula to a proto (inheritance resolved, vars unfilled)", "Molecules"),
    "mol": Group("gastown_tui.cli.bd_mol_cmds", "molecules: pour, wisp, list, current, progress, squash, burn", "Molecules"),
    "gate": Group("gastown_tui.cli.bd_gate_cmds", "gates a step waits on: create, status, list, resolve, check", "Molecules"),
    "doctor": Group("gastown_tui.cli.bd_io", "check the store: bad lines, conflicts, duplicates, dangling deps, cycles", "Data"),
    "validate": Group("gastown_tui.cli.bd_check", "data-integrity checks: orphans, duplicates, pollution, conflicts", "Data"),
    "repair-deps": Group("gastown_tui.cli.bd_check", "find (--fix: remove) dependencies on issues that do not exist", "Data"),
    "detect-pollution": Group("gastown_tui.cli.bd_check", "find (--clean: delete) test issues that leaked into the store", "Data"),
    "migrate": Group("gastown_tui.cli.bd_check", "database migrations (--inspect: none apply to a JSONL store)", "Data"),
}

# Upstream's persistent flags that clients put on every call. They change nothing for a JSONL
# store with no daemon, no SQLite cache and no auto-import, so they are accepted and dropped,
# before or after the subcommand, as cobra does.
_IGNORED = frozenset({"--no-daemon", "--no-auto-flush", "--no-auto-import", "--sandbox", "--allow-stale",
                      "--no-db", "--profile", "--verbose", "-v"})
_IGNORED_VALUED = frozenset({"--lock-timeout", "--dolt-auto-commit"})
# Persistent flags every subcommand understands: moved behind the subcommand's own arguments.
_MOVED = frozenset({"--json", "--quiet", "-q"})
_MOVED_VALUED = frozenset({"--actor", "--db"})


def normalize_argv(argv: list[str]) -> list[str]:
    """Upstream's global flags anywhere on the line -> a line our per-command parsers read."""
    head: list[str] = []
    moved: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            head.extend(argv[i:])
            break
        name = a.split("=", 1)[0] if a.startswith("--") else a
        if name in _IGNORED:
            i += 1
            continue
        if name in _IGNORED_VALUED:
            i += 1 if "=" in a else 2
            continue
        if name in _MOVED:
            moved.append("--quiet" if name == "-q" else a)
            i += 1
            continue
        if name in _MOVED_VALUED:
            if "=" in a:
                moved.append(a)
                i += 1
            elif i + 1 < len(argv):
                moved.extend(argv[i:i + 2])
                i += 2
            else:
                head.append(a)  # the parser names the missing value
                i += 1
            continue
        head.append(a)
        i += 1
    if "--" in head:
        cut = head.index("--")
        return head[:cut] + moved + head[cut:]
    return head + moved


def _version_line() -> str:
    from gastown_tui import __version__

    return f"bd version {UPSTREAM_VERSION} (gastown-tui {__version__})"


def main(argv: list[str] | None = None) -> int:
    argv = normalize_argv(list(sys.argv[1:] if argv is None else argv))
    if argv[:1] in (["--version"], ["-V"]):  # upstream's line, which clients parse (not the framework's)
        sys.stdout.write(_version_line() + "\n")
        return 0
    return run("bd", ABOUT, GROUPS, argv)


if __name__ == "__main__":
    sys.exit(main())
