"""Helpers shared by the `bd` command modules: finding the store, the actor, printing issues."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from gastown_tui.cli.framework import add_json
from gastown_tui.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:  # argparse and typing cost milliseconds at import; annotations are strings anyway
    import argparse
    from typing import Any


def store_args(p: argparse.ArgumentParser, *, json_flag: bool = True) -> None:
    """--db, --actor (and --json) on every bd command."""
    p.add_argument("--db", metavar="PATH", default=None,
                   help="the .beads directory (default: $BEADS_DB, then walk up from the current directory)")
    p.add_argument("--actor", default=None, help="who is acting (default: $BD_ACTOR, git user.name, $USER)")
    if json_flag and not any("--json" in a.option_strings for a in p._actions):
        add_json(p)


def actor_of(args: argparse.Namespace) -> str:
    from gastown_tui.beads.store import default_actor

    return getattr(args, "actor", None) or default_actor()


def open_local(args: argparse.Namespace):
    from gastown_tui.beads.store import open_store

    db = getattr(args, "db", None) or os.environ.get("BEADS_DB") or os.environ.get("BD_DB")
    store = open_store(db=Path(db) if db else None)
    store.actor = actor_of(args)
    return store


def store_for(args: argparse.Namespace, issue_id: str):
    """The local store, or — when the id has another prefix — the town store it routes to."""
    from gastown_tui.beads import ids
    from gastown_tui.errors import NotFound

    try:
        store = open_local(args)
    except NotFound:
        store = None
    if store is not None and (ids.split_prefix(issue_id) == store.prefix or store.exists(issue_id)):
        return store
    routed = _routed(args, issue_id)
    if routed is not None:
        return routed
    if store is None:
        return open_local(args)  # raises the helpful "no .beads" error
    return store


def _routed(args: argparse.Namespace, issue_id: str):
    from gastown_tui.errors import NotFound

    try:
        from gastown_tui.town.layout import find_town

        town = find_town(getattr(args, "town", None))
    except NotFound:
        return None
    from gastown_tui.beads.routes import store_for_id

    try:
        store = store_for_id(town.root, issue_id)
    except NotFound:
        return None
    store.actor = actor_of(args)
    return store


def warn_problems(store, *, full: bool = True) -> None:
    """Reads skip unreadable lines; say which ones on stderr."""
    for line in store.warnings():
        sys.stderr.write(f"bd: {line}\n")


def refuse_unreadable(store, what: str, nothing: str) -> None:
    """Commands that pass the whole store on (export, sync) refuse a store with unreadable lines:
    the warnings, then one sentence and exit 1."""
    from gastown_tui.errors import GtError

    problems = store.known_problems()
    if problems:
        warn_problems(store)
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise GtError(f"refusing to {what}: {problems[0].sentence()}{more}",
                      hint=f"fix or remove that line (see 'bd doctor'), or restore the file from git; {nothing}")


def emit_json(obj: Any) -> None:
    import json

    sys.stdout.write(json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def issues_json(issues) -> list[dict[str, Any]]:
    return [i.to_json() for i in issues]


def issue_rows(issues) -> list[list[str]]:
    return [[i.id, f"P{i.priority}", i.issue_type, i.status, i.assignee, i.title] for i in issues]


def print_issues(issues, *, empty: str = "No issues.") -> None:
    from gastown_tui.cli.framework import print_table

    issues = list(issues)
    if not issues:
        print(empty)
        return
    print_table(issue_rows(issues), ["id", "pri", "type", "status", "assignee", "title"])


def split_csv(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or ():
        out.extend(x.strip() for x in v.split(",") if x.strip())
    return out


def parse_deps(values: list[str] | None) -> list[tuple[str, str]]:
    """`TYPE:ID,ID2` -> [(type, id), ...]; a bare ID means `blocks`."""
    out = []
    for item in split_csv(values):
        if ":" in item:
            t, _, target = item.partition(":")
        else:
            t, target = "blocks", item
        if not target:
            raise UsageError(f"'{item}' is not a dependency", hint="write TYPE:ID, for example blocks:gt-abc")
        out.append((t.strip(), target.strip()))
    return out
