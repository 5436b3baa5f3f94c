"""`bd dep`, `bd label` and `bd comment`: dependencies, labels and comments of issues."""

from __future__ import annotations

from gastown_tui.cli.bd_common import emit_json, open_local, store_args, store_for
from gastown_tui.cli.framework import command, print_table, subcommands
from gastown_tui.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:  # argparse costs milliseconds at import: `bd label add` and `bd comment` skip it
    import argparse


def register(p: argparse.ArgumentParser) -> None:
    {"dep": _reg_dep, "label": _reg_label, "comment": _reg_comment, "comments": _reg_comment,
     "note": _reg_note}[p.prog.split()[-1]](p)


def _leaf(sub, name: str, help: str, func) -> argparse.ArgumentParser:
    p = command(sub, name, help, func, json_flag=True)
    store_args(p)
    return p


# --- dep ---------------------------------------------------------------------------------------

def _reg_dep(p: argparse.ArgumentParser) -> None:
    sub = subcommands(p)
    a = _leaf(sub, "add", "ISSUE depends on DEPENDS_ON (ISSUE waits for it when the type blocks)", cmd_dep_add)
    a.add_argument("issue")
    a.add_argument("depends_on")
    a.add_argument("-t", "--type", default="blocks", help="blocks (default), parent-child, related, ...")
    r = _leaf(sub, "remove", "remove ISSUE's dependency on DEPENDS_ON", cmd_dep_remove)
    r.add_argument("issue")
    r.add_argument("depends_on")
    lst = _leaf(sub, "list", "what ISSUE depends on, and what depends on it", cmd_dep_list)
    lst.add_argument("issue")
    t = _leaf(sub, "tree", "the tree of what ISSUE depends on", cmd_dep_tree)
    t.add_argument("issue")
    _leaf(sub, "cycles", "dependency cycles already in the store", cmd_dep_cycles)


def cmd_dep_add(args: argparse.Namespace) -> int:
    store = store_for(args, args.issue)
    issue = store.add_dependency(args.issue, args.depends_on, args.type)
    if args.json:
        emit_json(issue.to_json())
    else:
        print(f"Added: {args.issue} depends on {args.depends_on} ({args.type})")
    return 0


def cmd_dep_remove(args: argparse.Namespace) -> int:
    store = store_for(args, args.issue)
    issue = store.remove_dependency(args.issue, args.depends_on)
    if args.json:
        emit_json(issue.to_json())
    else:
        print(f"Removed: {args.issue} no longer depends on {args.depends_on}")
    return 0


def cmd_dep_list(args: argparse.Namespace) -> int:
    store = store_for(args, args.issue)
    issue = store.get(args.issue)
    deps = issue.dependencies
    dependents = [{"issue_id": i.id, "depends_on_id": args.issue, "type": d.get("type")}
                  for i in store.dependents(args.issue)
                  for d in i.dependencies if d.get("depends_on_id") == args.issue]
    if args.json:
        emit_json({"id": args.issue, "dependencies": deps, "dependents": dependents})
        return 0
    rows = [["depends on", d.get("depends_on_id"), d.get("type"), _status(store, d.get("depends_on_id"))] for d in deps]
    rows += [["needed by", d["issue_id"], d["type"], _status(store, d["issue_id"])] for d in dependents]
    if not rows:
        print(f"{args.issue} has no dependencies.")
    else:
        print_table(rows, ["relation", "id", "type", "status"])
    return 0


def _status(store, issue_id: str) -> str:
    iss = store.try_get(issue_id)
    return iss.status if iss else "(not in this store)"


def cmd_dep_tree(args: argparse.Namespace) -> int:
    store = store_for(args, args.issue)
    rows = store.dep_tree(args.issue)
    if args.json:
        emit_json([{"depth": d, "id": i, "type": t, "status": _status(store, i)} for d, i, t in rows])
        return 0
    for depth, iid, dtype in rows:
        iss = store.try_get(iid)
        label = f"{iid}: {iss.title} [{iss.status}]" if iss else f"{iid} (not in this store)"
        print("  " * depth + ("└─ " if depth else "") + label + (f" ({dtype})" if dtype else ""))
    return 0


def cmd_dep_cycles(args: argparse.Namespace) -> int:
    store = open_local(args)
    cycles = store.cycles()
    if args.json:
        emit_json(cycles)
    elif not cycles:
        print("No dependency cycles.")
    else:
        for c in cycles:
            print(" -> ".join(c))
    return 1 if cycles else 0


# --- label ---------------------------------------------------------------------------------------

def _reg_label(p: argparse.ArgumentParser) -> None:
    sub = subcommands(p)
    a = _leaf(sub, "add", "add a label to issues", cmd_label_add)
    a.add_argument("issue")
    a.add_argument("labels", nargs="+", metavar="LABEL")
    r = _leaf(sub, "remove", "remove a label from an issue", cmd_label_remove)
    r.add_argument("issue")
    r.add_argument("labels", nargs="+", metavar="LABEL")
    lst = _leaf(sub, "list", "an issue's labels, or every label in use with its count", cmd_label_list)
    lst.add_argument("issue", nargs="?")


def cmd_label_add(args: argparse.Namespace) -> int:
    store = store_for(args, args.issue)
    if len(args.labels) == 1:
        issue = store.add_label(args.issue, args.labels[0])  # queued with other processes' changes
    else:
        with store.transaction() as tx:
            for lbl in args.labels:
                issue = tx.add_label(args.issue, lbl)
    if args.json:
        emit_json(issue.to_json())
    else:
        print(f"{args.issue} labels: {', '.join(issue.labels)}")
    return 0


def cmd_label_remove(args: argparse.Namespace) -> int:
    store = store_for(args, args.issue)
    with store.transaction() as tx:
        for lbl in args.labels:
            issue = tx.remove_label(args.issue, lbl)
    if args.json:
        emit_json(issue.to_json())
    else:
        print(f"{args.issue} labels: {', '.join(issue.labels) or '(none)'}")
    return 0


def cmd_label_list(args: argparse.Namespace) -> int:
    if args.issue:
        labels = store_for(args, args.issue).get(args.issue).labels
        if args.json:
            emit_json(labels)
        else:
            print("\n".join(labels) if labels else f"{args.issue} has no labels.")
        return 0
    counts: dict[str, int] = {}
    for iss in open_local(args).list(include_closed=True):
        for lbl in iss.labels:
            counts[lbl] = counts.get(lbl, 0) + 1
    if args.json:
        emit_json([{"label": k, "count": v} for k, v in sorted(counts.items())])
    elif not counts:
        print("No labels.")
    else:
        print_table(sorted(counts.items()), ["label", "count"])
    return 0


# --- comment / comments / note -----------------------------------------------------------------

def _reg_comment(p: argparse.ArgumentParser) -> None:
    """`bd comment ID TEXT` (upstream's spelling), `bd comment add ID TEXT`, `bd comment list ID`;
    `bd comments ID` lists, `bd comments add ID TEXT` adds."""
    plural = p.prog.split()[-1] == "comments"
    p.add_argument("words", nargs="*", metavar="[add|list] ID [TEXT]",
                   help="ID to list its comments" if plural else "ID TEXT to add a comment")
    p.add_argument("--stdin", action="store_true", help="read the comment from standard input")
    p.add_argument("-f", "--file", default=None, metavar="PATH", help="read the comment from a file")
    p.add_argument("-a", "--author", default=None, help="who wrote it (default: the actor)")
    p.add_argument("--local-time", action="store_true", help="accepted for upstream's clients (times stay UTC)")
    store_args(p)
    p.set_defaults(func=cmd_comments if plural else cmd_comment)


def cmd_comment(args: argparse.Namespace) -> int:
    words = list(args.words)
    if words[:1] == ["list"]:
        return _comment_list(args, words[1:])
    if words[:1] == ["add"]:
        words = words[1:]
    return _comment_add(args, words)


def cmd_comments(args: argparse.Namespace) -> int:
    words = list(args.words)
    if words[:1] == ["add"]:
        return _comment_add(args, words[1:])
    if words[:1] == ["list"]:
        words = words[1:]
    return _comment_list(args, words)


def _comment_text(args: argparse.Namespace, given: str | None) -> str | None:
    import sys

    if args.file:
        from pathlib import Path

        try:
            return Path(args.file).read_text(encoding="utf-8")
        except OSError as e:
            raise UsageError(f"cannot read {args.file}: {e.strerror}", hint="check the path") from None
    if args.stdin:
        return sys.stdin.read()
    return given


def _comment_add(args: argparse.Namespace, words: list[str]) -> int:
    if not words or len(words) > 2:
        raise UsageError("bd comment needs ID and TEXT", hint='for example: bd comment gt-abc "looks good"')
    issue = words[0]
    text = _comment_text(args, words[1] if len(words) > 1 else None)
    if not text:
        raise UsageError("bd comment needs TEXT", hint='for example: bd comment gt-abc "looks good"')
    store = store_for(args, issue)
    comment = store.add_comment(issue, text, author=args.author or store.actor)
    if args.json:
        emit_json(comment)
    elif not getattr(args, "quiet", False):
        print(f"Comment {comment['id']} added to {issue}")
    return 0


def _comment_list(args: argparse.Namespace, words: list[str]) -> int:
    if len(words) != 1:
        raise UsageError("bd comments needs one ID", hint="for example: bd comments gt-abc")
    issue = words[0]
    comments = store_for(args, issue).get(issue).comments
    if args.json:
        emit_json(comments)
    elif not comments:
        print(f"{issue} has no comments.")
    else:
        for c in comments:
            print(f"[{c.get('id')}] {c.get('author', '')} {c.get('created_at', '')}\n  {c.get('text', '')}")
    return 0


def _reg_note(p: argparse.ArgumentParser) -> None:
    p.add_argument("issue", metavar="ID")
    p.add_argument("text", nargs="*", metavar="TEXT", help="the words to add (joined by spaces)")
    p.add_argument("--stdin", action="store_true", help="read the note from standard input")
    p.add_argument("-f", "--file", default=None, metavar="PATH", help="read the note from a file")
    store_args(p)
    p.set_defaults(func=cmd_note)


def cmd_note(args: argparse.Namespace) -> int:
    text = _comment_text(args, " ".join(args.text) or None)
    if not text or not text.strip():
        raise UsageError("bd note needs TEXT", hint='for example: bd note gt-abc "found the cause"')
    store = store_for(args, args.issue)
    with store.transaction() as tx:
        old = tx.get(args.issue).notes
        issue = tx.update(args.issue, notes=f"{old}\n{text}" if old else text)
    if args.json:
        emit_json(issue.to_json())
    elif not getattr(args, "quiet", False):
        print(f"Added a note to {issue.id}")
    return 0
