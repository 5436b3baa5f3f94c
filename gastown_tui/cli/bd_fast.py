"""A fast lane for the commands agents call hundreds of times an hour: `bd show`, `bd ready`, `bd create`.

Building the argparse tree costs about as much as starting Python, so the simplest forms of these
commands are parsed by hand here; anything else (other flags, --help, odd spellings) returns None
and goes through the normal argparse path, which gives the same results.
"""

from __future__ import annotations

import os
import sys


def try_fast(argv: list[str]) -> int | None:
    if argv[:2] in (["mol", "current"], ["mol", "show"]):
        argv = ["mol current", *argv[2:]]
    if not argv or argv[0] not in _FAST:
        return None
    opts = _parse(argv[1:], _FAST[argv[0]][0])
    if opts is None:
        return None
    from gastown_tui.cli.framework import check_arguments, human_output, report
    from gastown_tui.errors import GtError

    try:
        check_arguments("bd", argv)
        with human_output(opts["json"]):
            return _FAST[argv[0]][1](opts)
    except GtError as e:
        return report("bd", e)
    except BrokenPipeError:
        return 0
    except (OSError, UnicodeError) as e:
        if os.environ.get("GT_DEBUG"):
            raise
        from gastown_tui.errors import fault_error

        return report("bd", fault_error(e))


def _parse(args: list[str], valued: frozenset[str]) -> dict | None:
    opts: dict = {"pos": [], "json": False}
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--json":
            opts["json"] = True
        elif a in valued:
            if i + 1 >= len(args) or args[i + 1].startswith("-"):
                return None
            opts[a] = args[i + 1]
            i += 1
        elif a.startswith("-"):
            return None  # anything unusual: let argparse handle it (and its errors)
        else:
            opts["pos"].append(a)
        i += 1
    return opts


def _store(opts: dict):
    from pathlib import Path

    from gastown_tui.beads.store import default_actor, open_store

    db = opts.get("--db") or os.environ.get("BEADS_DB") or os.environ.get("BD_DB")
    store = open_store(db=Path(db) if db else None)
    store.actor = opts.get("--actor") or default_actor()
    return store


def _emit(obj) -> None:
    from gastown_tui.beads import lean

    try:
        text = lean.dumps_pretty(obj)
    except lean.Fallback:
        import json

        text = json.dumps(obj, indent=2, ensure_ascii=False)
    sys.stdout.write(text + "\n")


def _lean_dir(opts: dict) -> str | None:
    from gastown_tui.beads import lean

    return lean.beads_dir(opts.get("--db") or os.environ.get("BEADS_DB") or os.environ.get("BD_DB"))


def _show(opts: dict) -> int | None:
    if not opts["pos"] or not opts["json"]:
        return None  # the human format lives in bd_issues
    bdir = _lean_dir(opts)
    if bdir is not None:
        from gastown_tui.beads import lean

        recs = lean.show(bdir, opts["pos"])
        if recs is not None:
            _emit(recs)
            return 0
    store = _store(opts)
    from gastown_tui.beads import ids

    if any(ids.split_prefix(i) != store.prefix and not store.exists(i) for i in opts["pos"]):
        return None  # routed through the town: the full path knows how
    _emit([store.get(i).to_json() for i in opts["pos"]])
    return 0


def _ready(opts: dict) -> int | None:
    if opts["pos"] or not opts["json"]:
        return None
    limit = opts.get("--limit", opts.get("-n", "10"))
    if not limit.isdigit():
        return None
    bdir = _lean_dir(opts)
    if bdir is not None:
        from gastown_tui.beads import lean

        got = lean.ready(bdir, int(limit), opts.get("--sort", "hybrid"))
        if got is not None:
            for w in got[1][:5]:
                sys.stderr.write(f"bd: warning: {w} (skipped; run 'bd doctor')\n")
            _emit(got[0])
            return 0
    store = _store(opts)
    issues = store.ready(limit=int(limit), sort=opts.get("--sort", "hybrid"))
    for p in store.known_problems()[:5]:
        sys.stderr.write(f"bd: warning: {p.sentence()} (skipped; run 'bd doctor')\n")
    _emit([i.to_json() for i in issues])
    return 0


def _create(opts: dict) -> int | None:
    if len(opts["pos"]) != 1:
        return None
    if not all(str(v).isprintable() for v in (opts.get("-a"), opts.get("--assignee"))):
        return None  # the full path refuses it in one sentence (the store's name check)
    bdir = _lean_dir(opts) if opts.get("--parent") is None else None
    if bdir is not None:
        from gastown_tui.beads import lean

        rec = lean.create(bdir, opts["pos"][0], itype=opts.get("-t", opts.get("--type", "task")),
                          priority=opts.get("-p", opts.get("--priority", "2")),
                          description=opts.get("-d", opts.get("--description", "")),
                          assignee=opts.get("-a", opts.get("--assignee")),
                          actor=opts.get("--actor") or lean.default_actor())
        if rec is not None:
            if opts["json"]:
                _emit(rec)
            else:
                sys.stdout.write(f"Created {rec['id']}: {rec['title']}\n")
            return 0
    store = _store(opts)
    issue = store.create(opts["pos"][0], type=opts.get("-t", opts.get("--type", "task")),
                         priority=opts.get("-p", opts.get("--priority", "2")),
                         description=opts.get("-d", opts.get("--description", "")),
                         assignee=opts.get("-a", opts.get("--assignee")), parent=opts.get("--parent"))
    if opts["json"]:
        _emit(issue.to_json())
    else:
        sys.stdout.write(f"Created {issue.id}: {issue.title}\n")
    return 0


def _mol_current(opts: dict) -> int | None:
    if len(opts["pos"]) > 1 or not opts["json"]:
        return None  # the checklist text lives in bd_mol_cmds
    bdir = _lean_dir(opts)
    if bdir is not None:
        got = _mol_current_lean(bdir, opts)
        if got is not None:
            _emit(got)
            return 0
    store = _store(opts)
    from gastown_tui.errors import NotFound
    from gastown_tui.work.molecules import find_my_molecule, molecule_of, progress, steps

    me = store.actor
    if opts["pos"]:
        if not store.exists(opts["pos"][0]):
            return None  # routed through the town, or not found: the full path knows how
        mol = molecule_of(store, opts["pos"][0])
    else:
        mol = find_my_molecule(store, me)
        if mol is None:
            raise NotFound(f"{me} is not working on a molecule in {store.beads_dir}",
                           hint="pass a molecule id (see 'bd mol list')")
    _emit({**progress(store, mol), "steps": [s.to_json() for s in steps(store, mol, me=me)]})
    return 0


def _mol_current_lean(bdir: str, opts: dict) -> dict | None:
    """The same answer from the raw files (no store, pathlib or re imports), or None."""
    from gastown_tui.beads import lean
    from gastown_tui.errors import GtError
    from gastown_tui.work import molecules as M

    me = opts.get("--actor") or lean.default_actor()
    try:
        store = lean.LeanStore(bdir)
        if opts["pos"]:
            mol = M.molecule_of(store, opts["pos"][0])
        else:
            mol = M.find_my_molecule(store, me)
            if mol is None:
                return None
        return {**M.progress(store, mol), "steps": [s.to_json() for s in M.steps(store, mol, me=me)]}
    except (lean.Fallback, GtError):
        return None  # errors are worded (and routed ids resolved) by the full path


_COMMON = frozenset({"--db", "--actor"})
_FAST = {
    "show": (_COMMON, _show),
    "mol current": (_COMMON, _mol_current),
    "ready": (_COMMON | {"--limit", "-n", "--sort"}, _ready),
    "create": (_COMMON | {"-t", "--type", "-p", "--priority", "-d", "--description", "-a", "--assignee", "--parent"}, _create),
}
