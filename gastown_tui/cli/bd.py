"""The `bd` entry point: the beads issue tracker over the town's git-and-JSONL stores."""

from __future__ import annotations

import sys

from gastown_tui.cli.framework import Group, run

ABOUT = "bd: a git-and-JSONL issue tracker for agents, compatible with upstream bd's issues.jsonl."


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
    "squash": Group("gastown_tui.cli.bd_mol_cmds", "compress a molecule or wisp into one closed digest bead", "Molecules"),
    "burn": Group("gastown_tui.cli.bd_mol_cmds", "delete a wisp or molecule and its steps, leaving no digest", "Molecules"),
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


def main(argv: list[str] | None = None) -> int:
    argv = normalize_argv(list(sys.argv[1:] if argv is None else argv))
    if argv[:1] in (["--version"], ["-V"]):  # upstream's line, which clients parse (not the framework's)
        from gastown_tui.cli.bd_version import version_line

        sys.stdout.write(version_line() + "\n")
        return 0
    quick = quick_args(argv)
    if quick is not None:  # the same command function, without building an argparse tree
        from gastown_tui.cli.framework import guarded, invoke

        return guarded("bd", lambda: invoke(quick.func, quick), argv)
    return run("bd", ABOUT, GROUPS, argv)


# --- argument pre-parsing for the commands agents call hundreds of times an hour -------------
#
# Only plain spellings of `bd ready`, `bd show`, `bd create` and `bd mol current|show` (every option as a separate word,
# values that cannot be mistaken for options); anything else goes through argparse. The result
# is exactly the Namespace argparse builds (tests/unit/test_bd_quick_args.py holds them equal),
# handed to the same command function: output, warnings, errors and exit codes cannot differ.

class _Args:
    """argparse.Namespace's behaviour for a command function (attributes, `vars()`)."""

    def __init__(self, **kw) -> None:
        self.__dict__.update(kw)


_COMMON = {"--db": "db", "--actor": "actor"}
_QUICK = {
    # name: (options taking a value -> dest, defaults, positional dest, positional count)
    "ready": ({**_COMMON, "-n": "limit", "--limit": "limit", "--sort": "sort", "-a": "assignee", "--assignee": "assignee",
               "--mol": "mol"},
              {"limit": 10, "sort": "hybrid", "assignee": None, "mol": None, "unassigned": False, "priority": None,
               "type": None, "label": None, "label_any": None, "parent": None}, None, (0, 0)),
    "show": (dict(_COMMON), {}, "ids", (1, 64)),
    "create": ({**_COMMON, "-t": "type", "--type": "type", "-p": "priority", "--priority": "priority",
                "--parent": "parent", "-a": "assignee", "--assignee": "assignee", "-d": "description",
                "--description": "description", "--id": "id", "--status": "status"},
               {"type": "task", "priority": "2", "parent": None, "deps": None, "labels": None, "assignee": None,
                "description": None, "stdin": False, "id": None, "status": "open", "ephemeral": False,
                "notes": None, "design": None, "acceptance": None, "external_ref": None, "prefix": None},
               "title", (1, 1)),
    "mol current": (dict(_COMMON), {"mol": None}, "mol", (0, 1)),
    "update": ({**_COMMON, "-s": "status", "--status": "status", "-a": "assignee", "--assignee": "assignee",
                "-p": "priority", "--priority": "priority", "--title": "title", "-t": "type", "--type": "type",
                "-d": "description", "--description": "description", "--notes": "notes"},
               {"status": None, "assignee": None, "priority": None, "title": None, "type": None, "description": None,
                "notes": None, "append_notes": None, "design": None, "acceptance": None, "external_ref": None,
                "add_label": None, "remove_label": None, "claim": False},
               "id", (1, 1)),
}
# Writers agents call as often: `bd label add ID LABEL...` and `bd comment [add] ID TEXT`
# (bd_deps), with their positionals in one run, as argparse reads them.
_QUICK_DEPS = {
    ("label", "add"): ({**_COMMON}, {"_bd_label_cmd": "add", "_prog": "bd label add"}, "cmd_label_add", 2),
    ("comment",): ({**_COMMON, "-a": "author", "--author": "author", "-f": "file", "--file": "file"},
                   {"_prog": "bd comment", "stdin": False, "file": None, "author": None, "local_time": False},
                   "cmd_comment", 0),
}
_QUICK["mol show"] = _QUICK["mol current"]  # `bd mol show` is argparse's alias of `current`


def _scan(rest: list[str], valued: dict[str, str], out: dict, *, one_run: bool) -> list[str] | None:
    """The positionals of `rest`, with `--json` and the `valued` options stored in `out`; None when
    the line needs argparse (any other option, a missing value, or with `one_run`, positionals
    split by an option, which argparse reads differently for a nargs='+' argument)."""
    pos: list[str] = []
    after_pos = False
    i = 0
    while i < len(rest):
        a = rest[i]
        if a == "--json":
            out["json"] = True
        elif a in valued:
            if i + 1 >= len(rest) or rest[i + 1].startswith("-") or not rest[i + 1]:
                return None
            out[valued[a]] = rest[i + 1]
            i += 1
        elif a.startswith("-") or not a:
            return None  # any other option (or --help): argparse
        elif one_run and pos and not after_pos:
            return None
        else:
            pos.append(a)
            after_pos = True
            i += 1
            continue
        after_pos = False
        i += 1
    return pos


def quick_args(argv: list[str]):
    """The parsed arguments of a plain hot-path command line, or None (then argparse decides)."""
    if argv[:2] == ["label", "add"] or argv[:1] == ["comment"]:
        return _quick_deps(argv)
    if argv[:1] == ["mol"] and len(argv) > 1 and f"mol {argv[1]}" in _QUICK:
        name, rest = f"mol {argv[1]}", argv[2:]
    elif not argv or argv[0] not in _QUICK:
        return None
    else:
        name, rest = argv[0], argv[1:]
    valued, defaults, pos_dest, (lo, hi) = _QUICK[name]
    out = {"db": None, "actor": None, "json": False, "quiet": False, **defaults}
    pos = _scan(rest, valued, out, one_run=False)
    if pos is None or not lo <= len(pos) <= hi:
        return None
    if name == "ready":
        if not str(out["limit"]).isdigit() or out["sort"] not in ("hybrid", "priority", "oldest"):
            return None  # argparse words those errors
        out["limit"] = int(out["limit"])
    if pos_dest is not None and pos:
        out[pos_dest] = pos if hi > 1 else pos[0]
    if name.startswith("mol "):
        from gastown_tui.cli import bd_mol_cmds

        return _Args(_cmd="mol", _bd_mol_cmd=name[4:], _prog=f"bd {name}", func=bd_mol_cmds.cmd_current,
                     town=None, prog="bd", **out)
    from gastown_tui.cli import bd_issues

    return _Args(_cmd=name, _prog=f"bd {name}", func=getattr(bd_issues, f"cmd_{name}"), town=None, prog="bd", **out)


def _quick_deps(argv: list[str]):
    key = ("label", "add") if argv[0] == "label" else ("comment",)
    valued, fixed, func, least = _QUICK_DEPS[key]
    out = {"db": None, "actor": None, "json": False, "quiet": False, **fixed}
    pos = _scan(argv[len(key):], valued, out, one_run=True)
    if pos is None or len(pos) < least:
        return None
    from gastown_tui.cli import bd_deps

    if key == ("label", "add"):
        out.update(issue=pos[0], labels=pos[1:])
    else:
        out["words"] = pos
    return _Args(_cmd=key[0], func=getattr(bd_deps, func), town=None, prog="bd", **out)


if __name__ == "__main__":
    sys.exit(main())
