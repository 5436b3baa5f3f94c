"""`bd export`, `bd import`, `bd sync`, `bd merge` (the git merge driver) and `bd doctor`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gastown_tui.cli.bd_common import emit_json, open_local, store_args
from gastown_tui.errors import GtError, NotFound, UsageError


def register(p: argparse.ArgumentParser) -> None:
    name = p.prog.split()[-1]
    _REGISTER[name](p)
    store_args(p)


# --- export / import -------------------------------------------------------------------------

def _reg_export(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", default=None, help="write to FILE instead of standard output")
    p.add_argument("--no-ephemeral", action="store_true", help="leave out wisps.jsonl records")
    p.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    from gastown_tui.beads.codec import encode_issue

    from gastown_tui.cli.bd_common import refuse_unreadable

    store = open_local(args)
    issues = sorted(store.all(include_ephemeral=not args.no_ephemeral), key=lambda i: i.id)
    refuse_unreadable(store, "export", "nothing was exported")
    text = "".join(encode_issue(i.data).decode("utf-8") + "\n" for i in issues)
    if args.output:
        from gastown_tui.infra.fsutil import atomic_write_text

        atomic_write_text(Path(args.output), text)
        if args.json:
            emit_json({"exported": len(issues), "path": str(Path(args.output).resolve())})
        else:
            print(f"Exported {len(issues)} issues to {args.output}")
    else:
        sys.stdout.write(text)
    return 0


def _reg_import(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="a JSONL file of issues ('-' for standard input)")
    p.add_argument("--dry-run", action="store_true", help="say what would change, change nothing")
    p.set_defaults(func=cmd_import)


def cmd_import(args: argparse.Namespace) -> int:
    from gastown_tui.beads.jsonl import Image

    if args.file == "-":
        img = Image(Path("<stdin>"), sys.stdin.read())
    else:
        path = Path(args.file)
        if not path.is_file():
            raise NotFound(f"no file {path}", hint="give the path of a .jsonl export")
        img = Image.read(path)
    records = img.records()
    if img.problems:
        p = img.problems[0]
        raise GtError(f"cannot import: {p.sentence()}", hint="fix that line; nothing was imported")
    from gastown_tui.beads import ids

    for rec in records:
        problem = ids.record_problem(rec)
        if problem is not None:
            raise UsageError(f"cannot import: {problem}", hint="fix or remove that record; nothing was imported")
    store = open_local(args)
    created = updated = unchanged = 0
    with store.transaction() as tx:
        for rec in records:
            cur = tx.try_get(rec["id"])
            if cur is None:
                created += 1
            elif cur.data == rec:
                unchanged += 1
                continue
            else:
                updated += 1
            if not args.dry_run:
                tx.put(rec)
        if args.dry_run:
            tx._images.clear()  # write nothing
    result = {"created": created, "updated": updated, "unchanged": unchanged, "dry_run": args.dry_run}
    if args.json:
        emit_json(result)
    else:
        verb = "Would import" if args.dry_run else "Imported"
        print(f"{verb}: {created} new, {updated} updated, {unchanged} unchanged.")
    return 0


# --- sync ----------------------------------------------------------------------------------------

def _reg_sync(p: argparse.ArgumentParser) -> None:
    p.add_argument("-m", "--message", default=None, help="commit message (default names the actor)")
    p.add_argument("--no-push", action="store_true", help="commit only; do not pull or push")
    p.set_defaults(func=cmd_sync)


def cmd_sync(args: argparse.Namespace) -> int:
    from gastown_tui.infra import git

    from gastown_tui.cli.bd_common import refuse_unreadable

    store = open_local(args)
    beads = store.beads_dir.resolve()
    refuse_unreadable(store, "commit the store", "nothing was committed")
    if not git.is_git_repo(beads.parent):
        raise GtError(f"{beads.parent} is not in a git repository, so there is nothing to sync to",
                      hint="run 'git init' there first")
    actor = store.actor
    message = f"{args.message} (bd sync by {actor})" if args.message else f"bd sync: beads changes by {actor}"
    paths = [str(beads / name) for name in ("issues.jsonl", "config.yaml", ".gitignore") if (beads / name).exists()]
    pull_push = not args.no_push and git.has_remote(beads.parent)
    if pull_push:
        # A clone (another town, another machine) has .gitattributes but not the driver's git
        # config: without it a pull would merge issues.jsonl line by line and conflict.
        from gastown_tui.cli.bd_issues import _bd_command

        git.register_beads_merge_driver(beads.parent, _bd_command())
        attrs = git.repo_root(beads.parent) / ".gitattributes"
        paths.append(str(attrs))
    result = git.sync_paths(beads.parent, paths, message, author=actor, pull_push=pull_push,
                            lock=store.rewritten_outside)  # (the pull's changes are logged: beads.changelog)
    if args.json:
        emit_json(result)
    else:
        parts = ["committed" if result["committed"] else "nothing to commit"]
        if result["pulled"]:
            parts.append("pulled")
        if result["pushed"]:
            parts.append("pushed")
        print("Synced beads: " + ", ".join(parts) + ".")
    return 0


# --- merge (git merge driver) -----------------------------------------------------------------------

def _reg_merge(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="BASE LEFT RIGHT (the result replaces LEFT, as git's %%O %%A %%B expects), "
                        "or OUTPUT BASE LEFT RIGHT as upstream bd")
    p.add_argument("-o", "--output", default=None, help="write the result here instead of LEFT")
    p.set_defaults(func=cmd_merge)


def cmd_merge(args: argparse.Namespace) -> int:
    from gastown_tui.beads.jsonl import Image
    from gastown_tui.beads.merge import MergeError, merge_texts
    from gastown_tui.infra.fsutil import atomic_write_text

    files = [Path(f) for f in args.files]
    if len(files) == 3:
        base, left, right = files
        out = Path(args.output) if args.output else left
    elif len(files) == 4:
        out, base, left, right = files
    else:
        raise UsageError("bd merge needs BASE LEFT RIGHT", hint="git calls it as 'bd merge %O %A %B'")
    for f in (base, left, right):
        if not f.exists():
            raise NotFound(f"no file {f}", hint="pass the three versions git gives the driver")
    from gastown_tui.beads import ids

    images = [Image.read(f) for f in (base, left, right)]
    try:
        text, merged = merge_texts(*images)
    except MergeError as e:
        raise GtError(f"cannot merge: {e.problems[0].sentence()}", hint="resolve that file by hand") from None
    # A bad id that either side brings in (as a record or a dependency target) never reaches the
    # merged store (ids become paths); records the base already had unchanged are not re-judged.
    base = images[0]
    for side, img in (("ours", images[1]), ("theirs", images[2])):
        bad = [i for i in img.index if i not in base.index and ids.id_problem(i) is not None]
        if bad:
            raise GtError(f"cannot merge: {side} adds the id {ids.shown(bad[0])}, which is not a valid bead id "
                          f"({ids.id_problem(bad[0])})", hint="remove that record and merge again")
        for i in img.index:
            if i in base.index and img.lines[img.index[i]] == base.lines[base.index[i]]:
                continue
            problem = ids.record_problem(img.record(i))
            if problem is not None:
                raise GtError(f"cannot merge: {side} brings in a record where {problem}",
                              hint="remove that record and merge again")
    atomic_write_text(out, text)
    if args.json:
        emit_json({"output": str(out), "merged_issues": merged})
    return 0


# --- doctor --------------------------------------------------------------------------------------

def _reg_doctor(p: argparse.ArgumentParser) -> None:
    p.add_argument("--check", default=None, metavar="NAME",
                   help="run one check as upstream does: pollution (test issues), validate (data integrity)")
    p.add_argument("--fix", action="store_true", help="with --check=validate: remove orphaned dependencies")
    p.add_argument("--clean", action="store_true", help="with --check=pollution: delete what it finds")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask (needed with --clean)")
    p.set_defaults(func=cmd_doctor)


def _doctor_check(args: argparse.Namespace) -> int:
    from gastown_tui.cli import bd_check

    if args.check == "pollution":
        args.clean = bool(args.clean)
        return bd_check.cmd_detect_pollution(args)
    if args.check == "validate":
        args.checks, args.fix_all = None, bool(args.fix)
        return bd_check.cmd_validate(args)
    raise UsageError(f'unknown check "{args.check}"', hint="available checks: pollution, validate")


def cmd_doctor(args: argparse.Namespace) -> int:
    if args.check is not None:
        return _doctor_check(args)
    from gastown_tui.cli.bd_check import orphan_deps

    store = open_local(args)
    findings: list[dict] = []
    for p in store.problems:
        kind = "conflict-marker" if "conflict" in p.message else "bad-line"
        findings.append({"check": kind, "file": str(p.path), "line": p.line, "message": p.sentence()})
    for img in (store._main(), store._wisps()):
        for iid in sorted(set(img.duplicates)):
            findings.append({"check": "duplicate-id", "file": str(img.path), "id": iid,
                             "message": f"{img.path}: the id {iid} appears on more than one line"})
    issues = {i.id: i for i in store.all()}
    from gastown_tui.beads import ids

    for iid in issues:
        problem = ids.id_problem(iid)
        if problem is not None:  # arrived by git: shown escaped, never used as a name
            findings.append({"check": "bad-id", "id": iid,
                             "message": f"the id {ids.shown(iid)} is not a valid bead id: {problem}; "
                                        "patrols ignore it (rename or delete it)"})
    for o in orphan_deps(store, issues):
        findings.append({"check": "dangling-dependency", "id": o["issue_id"], "depends_on_id": o["depends_on_id"],
                         "message": f"{o['issue_id']} depends on {o['depends_on_id']}, which does not exist"})
    from gastown_tui.beads.store import PENDING, pending_leftovers

    for entry in pending_leftovers(store.beads_dir):
        findings.append({"check": "pending-leftover", "file": str(store.beads_dir / PENDING / entry),
                         "message": f"{store.beads_dir / PENDING / entry} belongs to a writer that is gone "
                                    "(the next change removes it)"})
    for cyc in store.cycles():
        findings.append({"check": "cycle", "ids": cyc, "message": "dependency cycle: " + " -> ".join(cyc)})
    if args.json:
        emit_json({"ok": not findings, "store": str(store.beads_dir), "issues": len(issues), "findings": findings})
    elif not findings:
        print(f"{store.beads_dir}: {len(issues)} issues, no problems found.")
    else:
        print(f"{store.beads_dir}: {len(findings)} problem(s):")
        for f in findings:
            print(f"  [{f['check']}] {f['message']}")
    return 1 if findings else 0


_REGISTER = {"export": _reg_export, "import": _reg_import, "sync": _reg_sync, "merge": _reg_merge,
             "doctor": _reg_doctor}
