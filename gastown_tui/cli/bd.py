"""The `bd` entry point: the beads issue tracker over the town's git-and-JSONL stores."""

from __future__ import annotations

import sys

from gastown_tui.cli.framework import Group, run

ABOUT = "bd: a git-and-JSONL issue tracker for agents, compatible with upstream bd's issues.jsonl."

GROUPS: dict[str, Group] = {}


def main(argv: list[str] | None = None) -> int:
    return run("bd", ABOUT, GROUPS, argv)


if __name__ == "__main__":
    sys.exit(main())
