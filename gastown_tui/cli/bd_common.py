"""Helpers shared by the `bd` command modules: finding the store, the actor, printing issues."""

from __future__ import annotations

import os
import sys

from gastown_tui.cli.framework import add_json
from gastown_tui.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:  # argparse and typing cost milliseconds at import; annotations are strings anyway
    import argparse
    from typing import Any


def store_args(p: argparse.ArgumentParser, *, json_flag: bool = True) -> None:
    """--db, --actor (and --json) on every bd command."""
    p.add_argument("--db", metavar="PATH", default=None,
                   help="the .beads directory, or upstream's database file in it (default: $BEADS_DIR, "
                        "$BEADS_DB, then walk up from the current directory)")
    p.add_argument("--actor", default=None, help="who is acting (default: $BD_ACTOR, git user.name, $USER)")
    if not any("--quiet" in a.option_strings for a in p._actions):
        p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors and asked-for data")
    if json_flag and not any("--json" in a.option_strings for a in p._actions):
        add_json(p)


def actor_of(args: argparse.Namespace) -> str:
    from gastown_tui.beads.store import default_actor

    return getattr(args, "actor", None) or default_actor()


def db_location(args: argparse.Namespace | None = None) -> str | None:
    """Where the store is, when the line or the environment says: --db, else $BEADS_DIR (the
    .beads directory), else $BEADS_DB (upstream's database file: the .beads directory holding it;
    a file elsewhere, /x/y.db, has its own store /x/y.beads, never a .beads that every directory
    below /x would find), else None (walk up from the current directory). A path string: the
    read path never needs pathlib (it costs more than `bd ready`'s own work)."""
    flag = getattr(args, "db", None) if args is not None else None
    if flag:
        return _db_file_to_dir(os.path.expanduser(flag))
    env_dir = os.environ.get("BEADS_DIR")
    if env_dir:
        return os.path.expanduser(env_dir)
    env_db = os.environ.get("BEADS_DB") or os.environ.get("BD_DB")
    if env_db:
        return _db_file_to_dir(os.path.expanduser(env_db))
    return None


def _db_file_to_dir(p: str) -> str:
    from gastown_tui.beads.store import _is_dir, _norm

    p = _norm(p)
    if _is_dir(p) or p.endswith(".jsonl"):
        return p
    root, ext = os.path.splitext(p)
    if ext == ".db" and os.path.basename(root):  # upstream's beads.db (there is none with a JSONL store; maybe no file at all)
        parent = os.path.dirname(p) or "."
        return parent if os.path.basename(parent) == ".beads" else root + ".beads"
    return p


def open_local(args: argparse.Namespace):
    from gastown_tui.beads.store import open_store

    db = db_location(args)
    store = open_store(db=db)
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


def quiet(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "quiet", False))


def emit_json(obj: Any) -> None:
    from gastown_tui.beads.codec import to_json

    sys.stdout.write(to_json(obj, indent=2) + "\n")


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


# --- upstream bd's --json shapes (cmd/bd at v0.49.6, internal/types) ------------------------------

def _linked(iss, dtype: str | None) -> dict[str, Any]:
    """An issue as a dependency or dependent of another: its fields plus `dependency_type`
    (upstream's IssueWithDependencyMetadata; its own links and comments left out, as there)."""
    out = iss.to_json()
    out.pop("dependencies", None)
    out.pop("comments", None)
    out["dependency_type"] = dtype or "blocks"
    return out


def details_json(store, iss, args: argparse.Namespace | None = None) -> dict[str, Any]:
    """`bd show --json` for one issue (upstream's IssueDetails): `dependencies` and `dependents`
    are the linked issues with `dependency_type`; `parent` is the parent-child target. A link to
    an id no store has is left out, as upstream's join leaves it out (`bd dep list` keeps it)."""
    out = iss.to_json()
    deps = []
    for d in iss.dependencies:
        tid = d.get("depends_on_id")
        if not tid:
            continue
        target = store.try_get(tid)
        if target is None and args is not None:
            other = _routed(args, tid)
            target = other.try_get(tid) if other is not None else None
        if target is not None:
            deps.append(_linked(target, d.get("type")))
    dependents = [_linked(o, d.get("type")) for o, d in store.dependent_links(iss.id)]
    out.pop("dependencies", None)
    if deps:
        out["dependencies"] = deps
    if dependents:
        out["dependents"] = dependents
    if iss.parent_id:
        out["parent"] = iss.parent_id
    return out


def dependent_counts(store, ids: list[str] | None = None) -> dict[str, int]:
    """How many links of live issues point at each id (on `ids` only, when given): the store's
    count, from its summary of this file version when it has one."""
    counts = store.dependent_counts()
    return counts if ids is None else {iid: counts.get(iid, 0) for iid in ids}


def rows_json(store, issues, counts: dict[str, int] | None = None) -> list[dict[str, Any]]:
    """List rows as upstream prints them (IssueWithCounts): the issue with `dependency_count`,
    `dependent_count` and `comment_count` in place of its embedded dependency records."""
    issues = list(issues)
    counts = dependent_counts(store, [i.id for i in issues]) if counts is None else counts
    out = []
    for iss in issues:
        row = iss.to_json()
        deps = row.pop("dependencies", None) or ()
        row["dependency_count"] = len(deps)
        row["dependent_count"] = counts.get(iss.id, 0)
        row["comment_count"] = len(row.get("comments") or ())
        out.append(row)
    return out
