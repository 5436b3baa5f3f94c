"""The `bd` entry point: the beads issue tracker over the town's git-and-JSONL stores."""

from __future__ import annotations

import sys

from gastown_tui.cli.framework import Group, run

ABOUT = "bd: a git-and-JSONL issue tracker for agents, compatible with upstream bd's issues.jsonl."

GROUPS: dict[str, Group] = {
    # beads (issue 3): the store's commands
    "init": Group("gastown_tui.cli.bd_issues", "create .beads/ here (and register the git merge driver)", "Setup"),
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
    "dep": Group("gastown_tui.cli.bd_deps", "dependencies: add, remove, list, tree, cycles", "Relations"),
    "label": Group("gastown_tui.cli.bd_deps", "labels: add, remove, list", "Relations"),
    "comment": Group("gastown_tui.cli.bd_deps", "comments: add, list", "Relations"),
    "export": Group("gastown_tui.cli.bd_io", "print the store as canonical JSONL", "Data"),
    "import": Group("gastown_tui.cli.bd_io", "upsert issues from a JSONL file", "Data"),
    "sync": Group("gastown_tui.cli.bd_io", "commit .beads/ changes to git (pull/push with a remote)", "Data"),
    "merge": Group("gastown_tui.cli.bd_io", "git merge driver: field-level three-way merge of issues.jsonl", "Data"),
    "cook": Group("gastown_tui.cli.bd_mol_cmds", "compile a formula to a proto (inheritance resolved, vars unfilled)", "Molecules"),
    "mol": Group("gastown_tui.cli.bd_mol_cmds", "molecules: pour, wisp, list, current, progress, squash, burn", "Molecules"),
    "squash": Group("gastown_tui.cli.bd_mol_cmds", "compress a molecule or wisp into one closed digest bead", "Molecules"),
    "burn": Group("gastown_tui.cli.bd_mol_cmds", "delete a wisp or molecule and its steps, leaving no digest", "Molecules"),
    "gate": Group("gastown_tui.cli.bd_gate_cmds", "gates a step waits on: create, status, list, resolve, check", "Molecules"),
    "doctor": Group("gastown_tui.cli.bd_io", "check the store: bad lines, conflicts, duplicates, dangling deps, cycles", "Data"),
}


def main(argv: list[str] | None = None) -> int:
    from gastown_tui.cli.bd_fast import try_fast  # beads: hand-parsed fast lane for show/ready/create

    rc = try_fast(list(sys.argv[1:] if argv is None else argv))
    if rc is not None:
        return rc
    return run("bd", ABOUT, GROUPS, argv)


if __name__ == "__main__":
    sys.exit(main())
