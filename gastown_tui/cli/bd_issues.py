"""`bd` commands over issues: init, create, list, show, update, close, reopen, delete, ready,
blocked, search, stats."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gastown_tui.cli.bd_common import (
    emit_json,
    issues_json,
    open_local,
    parse_deps,
    print_issues,
    split_csv,
    store_args,
    store_for,
    warn_problems,
)
from gastown_tui.errors import UsageError


def register(p: argparse.ArgumentParser) -> None:
    name = p.prog.split()[-1]
    _REGISTER[name](p)
    store_args(p)


# --- init ------------------------------------------------------------------------------------

def _reg_init(p: argparse.ArgumentParser) -> None:
    p.add_argument("--prefix", "-p", default=None, help="issue id prefix (default: the directory's name)")
    p.add_argument("path", nargs="?", default=".", help="directory to create .beads/ in (default: here)")
    p.set_defaults(func=cmd_init)


def cmd_init(args: argparse.Namespace) -> int:
    import re

    from gastown_tui.beads.store import init_store

    root = Path(args.path).resolve()
    prefix = args.prefix or re.sub(r"[^a-z0-9_]", "", root.name.lower()) or "bd"
    if not prefix[0].isalpha():
        prefix = "bd" + prefix
    store = init_store(root, prefix)
    merge_driver = False
    from gastown_tui.infra import git

    if git.is_git_repo(root):
        git.register_beads_merge_driver(root, _bd_command())
        merge_driver = True
    if args.json:
        emit_json({"beads_dir": str(store.beads_dir), "prefix": store.prefix, "merge_driver": merge_driver})
    else:
        print(f"Initialized beads in {store.beads_dir} with prefix '{store.prefix}'.")
        if merge_driver:
            print("Registered the beads merge driver for .beads/issues.jsonl in .gitattributes and git config.")
    return 0


def _bd_command() -> str:
    """How git should call us: this very `bd`, by absolute path."""
    import shlex
    import shutil

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
    p.add_argument("--status", default="open", help="initial status (default: open)")
    p.add_argument("--ephemeral", action="store_true", help="store it in the git-ignored wisps.jsonl")
    p.set_defaults(func=cmd_create)


def cmd_create(args: argparse.Namespace) -> int:
    if not args.title:
        raise UsageError("bd create needs a TITLE", hint='for example: bd create "Fix the login bug" -p 1')
    if args.stdin and args.description is not None:
        raise UsageError("give the description with -d or --stdin, not both", hint="drop one of them")
    desc = sys.stdin.read() if args.stdin else (args.description or "")
    store = open_local(args)
    issue = store.create(args.title, type=args.type, priority=args.priority, description=desc,
                         assignee=args.assignee, labels=split_csv(args.labels), parent=args.parent,
                         deps=parse_deps(args.deps), status=args.status, ephemeral=args.ephemeral, id=args.id)
    if args.json:
        emit_json(issue.to_json())
    else:
        print(f"Created {issue.id}: {issue.title}")
    return 0


# --- list ------------------------------------------------------------------------------------

def _reg_list(p: argparse.ArgumentParser) -> None:
    p.add_argument("-s", "--status", action="append", help="only these statuses (repeat or comma separate)")
    p.add_argument("-t", "--type", action="append", help="only these types")
    p.add_argument("-a", "--assignee", default=None, help="only issues assigned to this actor")
    p.add_argument("-l", "--label", action="append", help="only issues with all these labels")
    p.add_argument("-p", "--priority", action="append", help="only these priorities")
    p.add_argument("--parent", default=None, help="only children of this issue")
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
    issues = store.list(status=statuses, type=types, assignee=args.assignee,
                        label=split_csv(args.label) or None, priority=prios, parent=args.parent,
                        include_closed=args.all, include_ephemeral=args.ephemeral)
    issues.sort(key=lambda i: (i.status == "closed", i.priority, i.id))
    if args.limit:
        issues = issues[: args.limit]
    warn_problems(store)
    if args.json:
        emit_json(issues_json(issues))
    else:
        print_issues(issues)
    return 0


# --- show ------------------------------------------------------------------------------------

def _reg_show(p: argparse.ArgumentParser) -> None:
    p.add_argument("ids", nargs="+", metavar="ID", help="issue ids")
    p.set_defaults(func=cmd_show)


def cmd_show(args: argparse.Namespace) -> int:
    issues = []
    for iid in args.ids:
        store = store_for(args, iid)
        issues.append(store.get(iid))
    if args.json:
        emit_json(issues_json(issues))
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
    adds, removes = split_csv(args.add_label), split_csv(args.remove_label)
    if not fields and not adds and not removes and not args.claim:
        raise UsageError("nothing to update", hint="pass a field such as --status, --assignee or --priority")
    store = store_for(args, args.id)
    with store.transaction() as tx:
        if args.claim:
            issue = tx.claim(args.id, store.actor, status=fields.pop("status", "in_progress"))
        if fields or not args.claim:
            issue = tx.update(args.id, **fields)
        for lbl in adds:
            issue = tx.add_label(args.id, lbl)
        for lbl in removes:
            issue = tx.remove_label(args.id, lbl)
    if args.json:
        emit_json(issue.to_json())
    else:
        print(f"Updated {issue.id}" + (f" (claimed by {issue.assignee})" if args.claim else ""))
    return 0


def _reg_close(p: argparse.ArgumentParser) -> None:
    p.add_argument("ids", nargs="+", metavar="ID")
    p.add_argument("-r", "--reason", default=None, help="why it was closed")
    p.add_argument("--continue", dest="advance", action="store_true",
                   help="molecule step: claim the next ready step and print it")
    p.add_argument("--force", action="store_true", help="close a molecule step even if steps it needs are open")
    p.set_defaults(func=lambda a: _each(a, "close", "Closed"))


def _reg_reopen(p: argparse.ArgumentParser) -> None:
    p.add_argument("ids", nargs="+", metavar="ID")
    p.set_defaults(func=lambda a: _each(a, "reopen", "Reopened"))


def _reg_delete(p: argparse.ArgumentParser) -> None:
    p.add_argument("ids", nargs="+", metavar="ID")
    p.add_argument("-r", "--reason", default="delete", help="why it was deleted")
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
                else:
                    done.append(tx.delete(iid, reason=args.reason))
    if args.json:
        emit_json(issues_json(done))
    else:
        for iss in done:
            print(f"{verb} {iss.id}: {iss.title}")
    return 0


# --- ready / blocked / search / stats ----------------------------------------------------------

def _reg_ready(p: argparse.ArgumentParser) -> None:
    p.add_argument("-n", "--limit", type=int, default=10, help="show at most N issues (0 = all; default 10)")
    p.add_argument("--sort", default="hybrid", choices=("hybrid", "priority", "oldest"))
    p.add_argument("-a", "--assignee", default=None, help="only issues assigned to this actor")
    p.add_argument("--mol", default=None, metavar="MOL", help="the ready steps of this molecule")
    p.set_defaults(func=cmd_ready)


def cmd_ready(args: argparse.Namespace) -> int:
    if args.mol:  # molecules (issue 7)
        from gastown_tui.cli.bd_mol_cmds import ready_in_molecule

        return ready_in_molecule(args)
    if args.limit < 0:
        raise UsageError("--limit cannot be negative", hint="use 0 for all")
    store = open_local(args)
    issues = store.ready(limit=None if args.assignee else args.limit, sort=args.sort)
    if args.assignee:
        issues = [i for i in issues if i.assignee == args.assignee][: args.limit or None]
    warn_problems(store)
    if args.json:
        emit_json(issues_json(issues))
    else:
        print_issues(issues, empty="No ready work.")
    return 0


def _reg_blocked(p: argparse.ArgumentParser) -> None:
    p.set_defaults(func=cmd_blocked)


def cmd_blocked(args: argparse.Namespace) -> int:
    from gastown_tui.cli.framework import print_table

    store = open_local(args)
    rows = store.blocked_with_reasons()
    warn_problems(store)
    if args.json:
        emit_json([{**i.to_json(), "blocked_by": why} for i, why in rows])
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
        emit_json(issues_json(issues))
    else:
        print_issues(issues, empty=f"No issues match '{args.text}'.")
    return 0


def _reg_stats(p: argparse.ArgumentParser) -> None:
    p.set_defaults(func=cmd_stats)


def cmd_stats(args: argparse.Namespace) -> int:
    store = open_local(args)
    stats = store.stats()
    warn_problems(store)
    if args.json:
        emit_json(stats)
        return 0
    for key in ("total", "open", "in_progress", "closed", "ready", "blocked", "tombstones", "ephemeral"):
        print(f"{key.replace('_', ' ').capitalize() + ':':<14}{stats[key]}")
    print("By type:       " + ", ".join(f"{k} {v}" for k, v in stats["by_type"].items()))
    return 0


_REGISTER = {
    "init": _reg_init, "create": _reg_create, "list": _reg_list, "show": _reg_show,
    "update": _reg_update, "close": _reg_close, "reopen": _reg_reopen, "delete": _reg_delete,
    "ready": _reg_ready, "blocked": _reg_blocked, "search": _reg_search, "stats": _reg_stats,
}
