"""`bd` commands over issues: init, create, list, show, update, close, reopen, delete, ready,
blocked, search, stats."""

from __future__ import annotations

import sys

from gastown_tui.cli.bd_common import (
    db_location,
    details_json,
    emit_json,
    open_local,
    parse_deps,
    print_issues,
    quiet,
    rows_json,
    split_csv,
    store_args,
    store_for,
    warn_problems,
)
from gastown_tui.errors import GtError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:  # argparse and typing cost milliseconds at import; annotations are strings anyway
    import argparse
    from pathlib import Path  # imported where used: it costs more than `bd ready` itself


def register(p: argparse.ArgumentParser) -> None:
    name = p.prog.split()[-1]
    _REGISTER[name](p)
    store_args(p)


# --- init ------------------------------------------------------------------------------------

def _reg_init(p: argparse.ArgumentParser) -> None:
    p.add_argument("--prefix", "-p", default=None, help="issue id prefix (default: the directory's name)")
    p.add_argument("path", nargs="?", default=None,
                   help="directory to create .beads/ in (default: $BEADS_DIR or $BEADS_DB's, else here)")
    p.add_argument("--skip-merge-driver", action="store_true", help="do not register the git merge driver")
    # Accepted for upstream's clients; each asks for what this bd never does anyway.
    p.add_argument("--skip-hooks", action="store_true", help="install no git hooks (this bd installs none)")
    p.add_argument("--skip-agents", action="store_true", help="write no AGENTS.md (this bd writes none)")
    p.add_argument("--non-interactive", action="store_true", help="ask nothing (this bd never asks)")
    p.add_argument("--from-jsonl", action="store_true", help="take the issues in .beads/issues.jsonl (always so here)")
    p.set_defaults(func=cmd_init)


METADATA = "metadata.json"


def _write_metadata(beads_dir: Path) -> None:
    """`.beads/metadata.json` as upstream's JSONL-only init writes it (watchers find the store by it);
    one that is already there is left alone. Also the empty `beads.db` clients look for."""
    from gastown_tui.infra.fsutil import atomic_write_text

    path = beads_dir / METADATA
    if not path.exists():
        atomic_write_text(path, '{\n  "database": "beads.db",\n  "jsonl_export": "issues.jsonl"\n}\n')
    # Upstream's clients find a store by `.beads/*.db` (beads-mcp's workspace discovery): an empty,
    # git-ignored marker. This bd never reads it; the issues are in issues.jsonl.
    marker = beads_dir / "beads.db"
    if not marker.exists():
        marker.touch()


def cmd_init(args: argparse.Namespace) -> int:
    import re
    from pathlib import Path

    from gastown_tui.beads.store import CONFIG, init_store, write_config_value

    located = db_location(args) if args.path is None else None
    if located is not None:  # --db, $BEADS_DIR or $BEADS_DB name the store directory itself
        where = Path(located).resolve()
        if where.name != ".beads" and (where / ".beads").is_dir():
            where = where / ".beads"
        root = where.parent
    else:
        target = Path(args.path or ".").resolve()
        root, where = (target.parent, target) if target.name == ".beads" else (target, target / ".beads")
    prefix = args.prefix or re.sub(r"[^a-z0-9_]", "", root.name.lower()) or "bd"
    if not prefix[0].isalpha():
        prefix = "bd" + prefix
    fresh = not (where / CONFIG).exists()
    store = init_store(where, prefix, exact=True)
    if fresh:
        write_config_value(store.beads_dir, "no-db", "true")  # upstream bd on this store: JSONL only, no SQLite
    _write_metadata(store.beads_dir)
    merge_driver = False
    from gastown_tui.infra import git

    if not args.skip_merge_driver and git.is_git_repo(root):
        git.register_beads_merge_driver(root, _bd_command())
        merge_driver = True
    if args.json:
        emit_json({"beads_dir": str(store.beads_dir), "prefix": store.prefix, "merge_driver": merge_driver})
    elif not quiet(args):
        # Upstream's words (clients match on them), then where and how.
        print("✓ bd initialized successfully!")
        print(f"  Issues file: {store.issues_path} (JSONL only, no database)")
        print(f"  Issue prefix: {store.prefix}")
        print(f"  Issues will be named: {store.prefix}-<hash> (e.g., {store.prefix}-a3f2dd)")
        if merge_driver:
            print("Registered the beads merge driver for .beads/issues.jsonl in .gitattributes and git config.")
    return 0


def _bd_command() -> str:
    """How git should call us: this very `bd`, by absolute path."""
    import shlex
    import shutil
    from pathlib import Path

    exe = Path(sys.argv[0])
    if exe.name == "bd" and exe.exists():
        return shlex.quote(str(exe.resolve()))
    found = shutil.which("bd")
    if found:
        return shlex.quote(found)
    return f"{shlex.quote(sys.executable)} -m gastown_tui.cli.bd"


# --- create ----------------------------------------------------------------------------------

def _reg_create(p: argparse.ArgumentParser) -> None:
    p.add_argument("title", nargs="?", help="the issue's title")
    p.add_argument("-t", "--type", default="task", help="task, bug, feature, epic, chore, ... (default: task)")
    p.add_argument("-p", "--priority", default="2", help="0 (highest) to 4 (lowest) (default: 2)")
    p.add_argument("--parent", default=None, help="make it a child of this issue (id becomes PARENT.N)")
    p.add_argument("--deps", action="append", metavar="TYPE:ID,..", help="dependencies, e.g. blocks:gt-abc,related:gt-def")
    p.add_argument("-l", "--labels", "--label", action="append", metavar="L,..", help="labels, comma separated")
    p.add_argument("-a", "--assignee", default=None, help="who it is assigned to")
    p.add_argument("-d", "--description", default=None, help="the description text")
    p.add_argument("--stdin", action="store_true", help="read the description from standard input")
    p.add_argument("--id", default=None, help="use this exact id")
    p.add_argument("--notes", default=None, help="notes text")
    p.add_argument("--status", default="open", help="initial status (default: open)")
    p.add_argument("--ephemeral", action="store_true", help="store it in the git-ignored wisps.jsonl")
    _text_fields(p)
    p.add_argument("--prefix", default=None, metavar="PREFIX|RIG",
                   help="create it in another rig's store, by prefix (bd, bd-) or rig name, via the town's routes")
    p.set_defaults(func=cmd_create)


def _text_fields(p: argparse.ArgumentParser) -> None:
    """The free-text fields upstream's create and update take (stored under upstream's keys)."""
    p.add_argument("--design", default=None, help="design notes")
    p.add_argument("--acceptance", "--acceptance-criteria", dest="acceptance", default=None,
                   help="acceptance criteria")
    p.add_argument("--external-ref", default=None, metavar="REF", help="a reference elsewhere (gh-9, jira-ABC)")


def _text_values(args: argparse.Namespace) -> dict:
    out = {}
    for key, attr in (("design", "design"), ("acceptance_criteria", "acceptance"), ("external_ref", "external_ref")):
        v = getattr(args, attr)
        if v is not None:
            out[key] = v
    return out


def cmd_create(args: argparse.Namespace) -> int:
    if not args.title:
        raise UsageError("bd create needs a TITLE", hint='for example: bd create "Fix the login bug" -p 1')
    if args.stdin and args.description is not None:
        raise UsageError("give the description with -d or --stdin, not both", hint="drop one of them")
    desc = sys.stdin.read() if args.stdin else (args.description or "")
    store = _prefixed_store(args) if args.prefix else open_local(args)
    fields = {k: v for k, v in _text_values(args).items() if v}
    if args.notes:
        fields["notes"] = args.notes
    issue = store.create(args.title, type=args.type, priority=args.priority, description=desc,
                         assignee=args.assignee, labels=split_csv(args.labels), parent=args.parent,
                         deps=parse_deps(args.deps), status=args.status, ephemeral=args.ephemeral, id=args.id,
                         fields=fields or None)
    if args.json:
        emit_json(details_json(store, issue, args))
    elif not quiet(args):
        print(f"Created {issue.id}: {issue.title}")
    return 0


def _prefixed_store(args: argparse.Namespace):
    """`bd create --prefix beads "..."`: the routed store of that prefix or rig, from anywhere in the town."""
    from gastown_tui.beads.routes import store_for_prefix
    from gastown_tui.cli.bd_common import actor_of
    from gastown_tui.town.layout import find_town

    town = find_town(getattr(args, "town", None))
    rigs = town.rigs()
    entry = rigs.get(args.prefix)  # a rig's name (the documents' `--prefix beads`), else a prefix
    prefix = str(entry.get("prefix")) if isinstance(entry, dict) and entry.get("prefix") else args.prefix
    store = store_for_prefix(town.root, prefix, also=f"; rigs: {', '.join(sorted(rigs)) or 'none'}")
    store.actor = actor_of(args)
    return store


# --- list ------------------------------------------------------------------------------------

def _reg_list(p: argparse.ArgumentParser) -> None:
    p.add_argument("-s", "--status", action="append", help="only these statuses (repeat or comma separate)")
    p.add_argument("-t", "--type", action="append", help="only these types")
    p.add_argument("-a", "--assignee", default=None, help="only issues assigned to this actor")
    p.add_argument("-l", "--label", action="append", help="only issues with all these labels")
    p.add_argument("--label-any", action="append", metavar="L,..", help="only issues with at least one of these labels")
    p.add_argument("--title", default=None, metavar="TEXT", help="only issues whose title contains TEXT (any case)")
    p.add_argument("--no-assignee", action="store_true", help="only unassigned issues")
    p.add_argument("-p", "--priority", action="append", help="only these priorities")
    p.add_argument("--parent", default=None, help="only children of this issue")
    p.add_argument("--tree", action="store_true", help="print children indented under their parents")
    p.add_argument("--all", action="store_true", help="include closed issues")
    p.add_argument("--ephemeral", action="store_true", help="include ephemeral records (wisps.jsonl)")
    p.add_argument("-n", "--limit", type=int, default=0, help="show at most N issues (0 = all)")
    p.set_defaults(func=cmd_list)


def cmd_list(args: argparse.Namespace) -> int:
    from gastown_tui.beads.model import check_priority, check_status, check_type

    statuses = [check_status(s) for s in split_csv(args.status)] or None
    types = [check_type(t) for t in split_csv(args.type)] or None
    prios = [check_priority(x) for x in split_csv(args.priority)] or None
    store = open_local(args)
    any_labels = set(split_csv(args.label_any))
    title = args.title.lower() if args.title else None

    def extra(iss) -> bool:
        if any_labels and not any_labels.intersection(iss.labels):
            return False
        if title is not None and title not in iss.title.lower():
            return False
        return not (args.no_assignee and iss.assignee)

    issues = store.list(status=statuses, type=types, assignee=args.assignee,
                        label=split_csv(args.label) or None, priority=prios, parent=args.parent,
                        include_closed=args.all, include_ephemeral=args.ephemeral,
                        where=extra if (any_labels or title is not None or args.no_assignee) else None)
    issues.sort(key=lambda i: (i.status == "closed", i.priority, i.id))
    if args.limit:
        issues = issues[: args.limit]
    warn_problems(store)
    if args.json:
        emit_json(rows_json(store, issues))
    elif args.tree:
        _print_tree(issues)
    else:
        print_issues(issues)
    return 0


def _print_tree(issues) -> None:
    """Children under their parents (those in the listing), roots in listing order."""
    listed = {i.id: i for i in issues}
    kids: dict[str, list] = {}
    roots = []
    for iss in issues:
        parent = iss.parent_id
        if parent in listed:
            kids.setdefault(parent, []).append(iss)
        else:
            roots.append(iss)
    if not issues:
        print("No issues.")
        return

    def walk(iss, depth: int, seen: set) -> None:
        seen.add(iss.id)
        print(f"{'  ' * depth}{'└─ ' if depth else ''}{iss.id} [P{iss.priority}] [{iss.status}] {iss.title}")
        for kid in kids.get(iss.id, ()):
            if kid.id not in seen:
                walk(kid, depth + 1, seen)

    seen: set = set()
    for root in roots:
        walk(root, 0, seen)
    for iss in issues:  # a parent-child cycle has no root: print what is left flat
        if iss.id not in seen:
            walk(iss, 0, seen)


# --- show ------------------------------------------------------------------------------------

def _reg_show(p: argparse.ArgumentParser) -> None:
    p.add_argument("ids", nargs="+", metavar="ID", help="issue ids")
    p.set_defaults(func=cmd_show)


def cmd_show(args: argparse.Namespace) -> int:
    issues, shown, stores = [], [], {}
    for iid in args.ids:
        store = store_for(args, iid)
        stores.setdefault(store.where, store)
        iss = store.get(iid)
        issues.append(iss)
        if args.json:
            shown.append(details_json(store, iss, args))
    for store in stores.values():
        warn_problems(store)
    if args.json:
        emit_json(shown)
        return 0
    for n, iss in enumerate(issues):
        if n:
            print()
        print(_describe(iss))
    return 0


def _describe(iss) -> str:
    out = [f"{iss.id}: {iss.title}",
           f"Status: {iss.status}   Priority: P{iss.priority}   Type: {iss.issue_type}"]
    if iss.assignee:
        out.append(f"Assignee: {iss.assignee}")
    out.append(f"Created: {iss.created_at}" + (f" by {iss.get('created_by')}" if iss.get("created_by") else ""))
    out.append(f"Updated: {iss.updated_at}")
    if iss.closed_at:
        out.append(f"Closed: {iss.closed_at}" + (f" ({iss.close_reason})" if iss.close_reason else ""))
    if iss.is_tombstone:
        out.append(f"Deleted: {iss.get('deleted_at', '')} by {iss.get('deleted_by', '')}")
    if iss.labels:
        out.append("Labels: " + ", ".join(iss.labels))
    if iss.description:
        out += ["", "Description:", *("  " + ln for ln in iss.description.splitlines())]
    if iss.notes:
        out += ["", "Notes:", *("  " + ln for ln in iss.notes.splitlines())]
    if iss.dependencies:
        out += ["", "Depends on:"]
        out += [f"  {d.get('depends_on_id')} ({d.get('type', '')})" for d in iss.dependencies]
    if iss.comments:
        out += ["", "Comments:"]
        for c in iss.comments:
            out.append(f"  [{c.get('author', '')} {c.get('created_at', '')}] {c.get('text', '')}")
    return "\n".join(out)


# --- update / close / reopen / delete -------------------------------------------------------

def _reg_update(p: argparse.ArgumentParser) -> None:
    p.add_argument("id", metavar="ID")
    p.add_argument("-s", "--status", default=None)
    p.add_argument("-a", "--assignee", default=None, help="assignee ('' to clear)")
    p.add_argument("-p", "--priority", default=None)
    p.add_argument("--title", default=None)
    p.add_argument("-t", "--type", default=None)
    p.add_argument("-d", "--description", default=None)
    p.add_argument("--notes", default=None)
    p.add_argument("--append-notes", default=None, metavar="TEXT", help="add TEXT to the notes on a new line")
    _text_fields(p)
    p.add_argument("--add-label", action="append", metavar="L")
    p.add_argument("--remove-label", action="append", metavar="L")
    p.add_argument("--claim", action="store_true",
                   help="assign it to the actor and mark it in_progress, atomically; fails if someone else holds it")
    p.set_defaults(func=cmd_update)


def cmd_update(args: argparse.Namespace) -> int:
    fields = {}
    for key, attr in (("status", "status"), ("priority", "priority"), ("title", "title"),
                      ("issue_type", "type"), ("description", "description"), ("notes", "notes")):
        v = getattr(args, attr)
        if v is not None:
            fields[key] = v
    if args.assignee is not None:
        fields["assignee"] = args.assignee or None
    fields.update({k: (v or None) for k, v in _text_values(args).items()})
    if args.notes is not None and args.append_notes is not None:
        raise UsageError("cannot specify both --notes and --append-notes", hint="drop one of them")
    adds, removes = split_csv(args.add_label), split_csv(args.remove_label)
    if not fields and not adds and not removes and not args.claim and args.append_notes is None:
        raise UsageError("nothing to update", hint="pass a field such as --status, --assignee or --priority")
    store = store_for(args, args.id)
    if fields and not adds and not removes and not args.claim and args.append_notes is None:
        # One change: queued with whatever other processes are changing (one rewrite for many).
        issue = store.update(args.id, **fields)
    else:
        issue = _update_together(store, args, fields, adds, removes)
    if args.json:
        emit_json(details_json(store, issue, args))
    elif not quiet(args):
        print(f"Updated {issue.id}" + (f" (claimed by {issue.assignee})" if args.claim else ""))
    return 0


def _update_together(store, args: argparse.Namespace, fields: dict, adds: list[str], removes: list[str]):
    """Several changes to one issue in one transaction: all of them or none."""
    issue = None
    with store.transaction() as tx:
        if args.append_notes is not None:
            old = tx.get(args.id).notes
            fields["notes"] = f"{old}\n{args.append_notes}" if old else args.append_notes
        if args.claim:
            issue = tx.claim(args.id, store.actor, status=fields.pop("status", "in_progress"))
        if fields or not args.claim:
            issue = tx.update(args.id, **fields)
        for lbl in adds:
            issue = tx.add_label(args.id, lbl)
        for lbl in removes:
            issue = tx.remove_label(args.id, lbl)
    return issue


def _reg_close(p: argparse.ArgumentParser) -> None:
    p.add_argument("ids", nargs="+", metavar="ID")
    p.add_argument("-r", "--reason", default=None, help="why it was closed")
    p.add_argument("--continue", dest="advance", action="store_true",
                   help="molecule step: claim the next ready step and print it")
    p.add_argument("--force", action="store_true", help="close a molecule step even if steps it needs are open")
    p.set_defaults(func=lambda a: _each(a, "close", "Closed"))


def _reg_reopen(p: argparse.ArgumentParser) -> None:
    p.add_argument("ids", nargs="+", metavar="ID")
    p.add_argument("-r", "--reason", default=None, help="why it is reopened (added as a comment)")
    p.set_defaults(func=lambda a: _each(a, "reopen", "Reopened"))


def _reg_delete(p: argparse.ArgumentParser) -> None:
    p.add_argument("ids", nargs="+", metavar="ID")
    p.add_argument("-r", "--reason", default="delete", help="why it was deleted")
    p.add_argument("-f", "--force", action="store_true",
                   help="accepted for upstream's clients: this bd deletes without a preview (a tombstone stays)")
    p.set_defaults(func=lambda a: _each(a, "delete", "Deleted"))


def _each(args: argparse.Namespace, op: str, verb: str) -> int:
    if op == "close" and args.advance:  # molecules (issue 7)
        from gastown_tui.cli.bd_mol_cmds import close_continue

        return close_continue(args)
    # Check every id first so a bad id changes nothing.
    stores = [(iid, store_for(args, iid)) for iid in args.ids]
    for iid, store in stores:
        store.get(iid)
    if op == "close":
        from gastown_tui.work.molecules import close_beads, guard_close
    if op == "close" and any("-mol-" in i or "-wisp-" in i for i in args.ids):  # molecule steps wait their turn
        for store in {id(s): s for _, s in stores}.values():
            guard_close(store, [i for i, s in stores if s is store], args.force)
    done = []
    groups: dict[str, tuple] = {}
    for iid, store in stores:
        groups.setdefault(str(store.beads_dir), (store, []))[1].append(iid)
    for store, iids in groups.values():
        if op == "close":
            done.extend(close_beads(store, iids, args.reason, force=True))
            continue
        with store.transaction() as tx:
            for iid in iids:
                if op == "reopen":
                    done.append(tx.reopen(iid))
                    if args.reason:
                        tx.add_comment(iid, args.reason, author=store.actor)
                        done[-1] = tx.get(iid)
                else:
                    done.append(tx.delete(iid, reason=args.reason))
    if args.json:
        by_id = {iid: s for iid, s in stores}
        emit_json([details_json(by_id.get(iss.id, stores[0][1]), iss, args) for iss in done])
    elif not quiet(args):
        for iss in done:
            print(f"{verb} {iss.id}: {iss.title}" + (f": {args.reason}" if op == "reopen" and args.reason else ""))
    return 0


# --- ready / blocked / search / stats ----------------------------------------------------------

def _reg_ready(p: argparse.ArgumentParser) -> None:
    p.add_argument("-n", "--limit", type=int, default=10, help="show at most N issues (0 = all; default 10)")
    p.add_argument("-s", "--sort", default="hybrid", metavar="POLICY",
                   help="hybrid (default: recent by priority, older by age), priority, oldest")
    p.add_argument("-a", "--assignee", default=None, help="only issues assigned to this actor")
    p.add_argument("-u", "--unassigned", action="store_true", help="only unassigned issues")
    p.add_argument("-p", "--priority", default=None, help="only this priority")
    p.add_argument("-t", "--type", default=None, help="only this type (mr, feat, mol are short for "
                                                      "merge-request, feature, molecule)")
    p.add_argument("-l", "--label", action="append", metavar="L,..", help="only issues with all these labels")
    p.add_argument("--label-any", action="append", metavar="L,..", help="only issues with at least one of these")
    p.add_argument("--mol", default=None, metavar="MOL", help="the ready steps of this molecule")
    p.add_argument("--parent", default=None, metavar="ID",
                   help="only descendants of this issue (for a molecule: its ready steps)")
    p.set_defaults(func=cmd_ready)


_TYPE_ALIASES = {"mr": "merge-request", "feat": "feature", "mol": "molecule"}


def descendants(store, root: str) -> set[str]:
    """Every id under `root` through parent-child links (children, their children, ...)."""
    from gastown_tui.beads.graph import children_map

    store.get(root)
    kids = children_map({i.id: i for i in store.all()})
    out: set[str] = set()
    stack = [root]
    while stack:
        for k in kids.get(stack.pop(), ()):
            if k not in out:
                out.add(k)
                stack.append(k)
    return out


def cmd_ready(args: argparse.Namespace) -> int:
    if args.parent and not args.mol:
        parent = store_for(args, args.parent).get(args.parent)
        if parent.issue_type == "molecule":  # `bd ready --parent=MOL` is the documents' `--mol`
            args.mol = parent.id
    if args.mol:  # molecules (issue 7)
        from gastown_tui.cli.bd_mol_cmds import ready_in_molecule

        return ready_in_molecule(args)
    from gastown_tui.beads.graph import SORTS
    from gastown_tui.beads.model import check_priority, check_type

    if args.limit < 0:
        raise UsageError("--limit cannot be negative", hint="use 0 for all")
    if args.sort not in SORTS:
        raise UsageError(f"invalid sort policy '{args.sort}'. Valid values: hybrid, priority, oldest",
                         hint="for example --sort priority")
    prio = check_priority(args.priority) if args.priority is not None else None
    itype = check_type(_TYPE_ALIASES.get(args.type, args.type)) if args.type else None
    labels, any_labels = set(split_csv(args.label)), set(split_csv(args.label_any))
    store = store_for(args, args.parent) if args.parent else open_local(args)
    under = descendants(store, args.parent) if args.parent else None
    filters = [
        (args.assignee, lambda i: i.assignee == args.assignee),
        (args.unassigned, lambda i: not i.assignee),
        (prio is not None, lambda i: i.priority == prio),
        (itype, lambda i: i.issue_type == itype),
        (labels, lambda i: labels.issubset(i.labels)),
        (any_labels, lambda i: bool(any_labels.intersection(i.labels))),
        (under is not None, lambda i: i.id in under),
    ]
    active = [f for on, f in filters if on]
    issues = store.ready(limit=None if active else args.limit, sort=args.sort)
    if active:
        issues = [i for i in issues if all(f(i) for f in active)][: args.limit or None]
    warn_problems(store)
    if args.json:
        emit_json(rows_json(store, issues))
    else:
        print_issues(issues, empty="No ready work.")
    return 0


def _reg_blocked(p: argparse.ArgumentParser) -> None:
    p.add_argument("--parent", default=None, metavar="ID", help="only descendants of this issue (an epic's tree)")
    p.set_defaults(func=cmd_blocked)


def cmd_blocked(args: argparse.Namespace) -> int:
    from gastown_tui.cli.framework import print_table

    store = open_local(args)
    rows = store.blocked_with_reasons()
    if args.parent:
        under = descendants(store, args.parent)
        rows = [(i, why) for i, why in rows if i.id in under]
    warn_problems(store)
    if args.json:
        out = rows_json(store, [i for i, _ in rows])
        for row, (_, why) in zip(out, rows, strict=True):
            row["blocked_by_count"] = len(why)
            row["blocked_by"] = why
        emit_json(out)
    elif not rows:
        print("No blocked issues.")
    else:
        print_table([[i.id, f"P{i.priority}", i.status, ", ".join(why), i.title] for i, why in rows],
                    ["id", "pri", "status", "blocked by", "title"])
    return 0


def _reg_search(p: argparse.ArgumentParser) -> None:
    p.add_argument("text", help="text to find in ids, titles, descriptions and notes")
    p.add_argument("--open", action="store_true", help="leave out closed issues")
    p.set_defaults(func=cmd_search)


def cmd_search(args: argparse.Namespace) -> int:
    store = open_local(args)
    issues = store.search(args.text, include_closed=not args.open)
    warn_problems(store)
    if args.json:
        emit_json(rows_json(store, issues))
    else:
        print_issues(issues, empty=f"No issues match '{args.text}'.")
    return 0


def _reg_stats(p: argparse.ArgumentParser) -> None:
    p.description = ("Counts by status and type. With --group-by=model: per model, the beads completed, the "
                     "median time from sling to merge, and rework and merge-failure counts; --actor then "
                     "picks whose work (a glob such as 'gastown/polecats/*').")
    p.add_argument("--group-by", dest="group_by", choices=("model",), default=None,
                   help="model: compare models (gt sling --model) on the work merged in this rig")
    p.set_defaults(func=cmd_stats)


def cmd_stats(args: argparse.Namespace) -> int:
    if args.group_by == "model":
        return _stats_by_model(args)
    store = open_local(args)
    stats = store.stats()
    warn_problems(store)
    if args.json:
        emit_json({**stats, "summary": _summary(store, stats)})
        return 0
    for key in ("total", "open", "in_progress", "closed", "ready", "blocked", "tombstones", "ephemeral"):
        print(f"{key.replace('_', ' ').capitalize() + ':':<14}{stats[key]}")
    print("By type:       " + ", ".join(f"{k} {v}" for k, v in stats["by_type"].items()))
    return 0


def _summary(store, stats: dict) -> dict:
    """Upstream's `bd stats --json` summary (types.Statistics) from our counts."""
    from gastown_tui.beads.codec import ts_key
    from gastown_tui.cli.bd_info import epic_status

    issues = [i for i in store.all() if not i.is_tombstone]
    leads = [ts_key(i.closed_at) - ts_key(i.created_at) for i in issues
             if i.status == "closed" and i.closed_at and ts_key(i.closed_at) and ts_key(i.created_at)]
    return {
        "total_issues": stats["total"],
        "open_issues": stats["open"],
        "in_progress_issues": stats["in_progress"],
        "closed_issues": stats["closed"],
        "blocked_issues": stats["blocked"],
        "deferred_issues": stats["by_status"].get("deferred", 0),
        "ready_issues": stats["ready"],
        "tombstone_issues": stats["tombstones"],
        "pinned_issues": sum(1 for i in issues if i.status == "pinned" or i.get("pinned")),
        "epics_eligible_for_closure": sum(1 for r in epic_status(store) if r["eligible_for_close"]),
        "average_lead_time_hours": round(sum(leads) / len(leads) / 3600, 2) if leads else 0.0,
    }


def _stats_by_model(args: argparse.Namespace) -> int:
    """`bd stats --actor='<rig>/polecats/*' --group-by=model`: the store of that rig, from anywhere."""
    from gastown_tui.cli.framework import print_table
    from gastown_tui.work.model_stats import model_report

    pattern = args.actor
    store = None
    if pattern and "/" in pattern and not any(c in pattern.split("/", 1)[0] for c in "*?["):
        try:  # the rig named by the pattern, when run outside it
            from gastown_tui.beads.store import Store
            from gastown_tui.town.layout import find_town

            town = find_town(getattr(args, "town", None))
            rig = pattern.split("/", 1)[0]
            if rig in town.rigs():
                store = Store(town.rig(rig).beads_dir)
        except GtError:
            store = None
    store = store or open_local(args)
    rows = model_report(store, actor=pattern)
    warn_problems(store)
    if args.json:
        emit_json(rows)
        return 0
    if not rows:
        print("No merge requests" + (f" by {pattern}" if pattern else "") + " yet.")
        return 0
    print_table([[r["model"], r["completed"], _dur(r["median_sling_to_merge_seconds"]), r["rework"],
                  r["merge_failed"], r["mrs"]] for r in rows],
                ["model", "completed", "median sling->merge", "rework", "merge failures", "mrs"])
    return 0


def _dur(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = int(round(seconds))
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else (f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s")


_REGISTER = {
    "init": _reg_init, "create": _reg_create, "list": _reg_list, "show": _reg_show,
    "update": _reg_update, "close": _reg_close, "reopen": _reg_reopen, "delete": _reg_delete,
    "ready": _reg_ready, "blocked": _reg_blocked, "search": _reg_search, "stats": _reg_stats,
}
