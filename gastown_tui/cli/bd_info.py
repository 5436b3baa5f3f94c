"""`bd version`, `bd quickstart`, `bd info` and `bd epic`: what clients of upstream bd ask first."""

from __future__ import annotations

import argparse

from gastown_tui.cli.bd_common import emit_json, open_local, store_args
from gastown_tui.cli.framework import command, print_table, subcommands


def register(p: argparse.ArgumentParser) -> None:
    name = p.prog.split()[-1]
    {"version": _reg_version, "quickstart": _reg_quickstart, "info": _reg_info, "epic": _reg_epic}[name](p)
    if name != "epic":
        store_args(p)


# --- version ----------------------------------------------------------------------------------

def _reg_version(p: argparse.ArgumentParser) -> None:
    p.set_defaults(func=cmd_version)


def cmd_version(args: argparse.Namespace) -> int:
    from gastown_tui import __version__
    from gastown_tui.cli.bd_version import UPSTREAM_VERSION, version_line

    if args.json:
        emit_json({"version": UPSTREAM_VERSION, "build": f"gastown-tui {__version__}",
                   "implementation": "gastown-tui", "implementation_version": __version__})
    else:
        print(version_line())
    return 0


# --- quickstart --------------------------------------------------------------------------------

QUICKSTART = """\
bd - a git-and-JSONL issue tracker for agents (gastown-tui; upstream bd v{upstream} compatible)

Issues live in .beads/issues.jsonl, one JSON object per line, committed with your code.

GETTING STARTED
  bd init --prefix myproj        create .beads/ here (ids look like myproj-a3f)
  bd create "Fix login" -p 1 -t bug -d "what and why"
  bd list                        open issues (--all includes closed; --json for tools)
  bd show ID                     one issue in full, with what it depends on and what needs it

FINDING WORK
  bd ready                       open work with nothing blocking it (--json, --limit N)
  bd blocked                     what is waiting, and on what
  bd stats                       counts by status

WORKING
  bd update ID --status in_progress      or: bd update ID --claim (atomic)
  bd close ID --reason "done"            bd reopen ID --reason "regressed"
  bd dep add ID OTHER                    ID waits for OTHER (--type related, parent-child, discovered-from)
  bd comment ID "text"                   bd comments ID lists them

SHARING
  bd sync                        commit .beads/ (pull/push with a remote); a merge driver merges issues.jsonl
"""


def _reg_quickstart(p: argparse.ArgumentParser) -> None:
    p.set_defaults(func=cmd_quickstart)


def cmd_quickstart(args: argparse.Namespace) -> int:
    from gastown_tui.cli.bd_version import UPSTREAM_VERSION

    text = QUICKSTART.format(upstream=UPSTREAM_VERSION)
    if args.json:
        emit_json({"quickstart": text})
    else:
        print(text, end="")
    return 0


# --- info ----------------------------------------------------------------------------------------

def _reg_info(p: argparse.ArgumentParser) -> None:
    p.add_argument("--schema", action="store_true", help="also describe the store's layout and a few ids")
    p.set_defaults(func=cmd_info)


def cmd_info(args: argparse.Namespace) -> int:
    from gastown_tui.beads.store import read_config

    store = open_local(args)
    issues = [i for i in store.all() if not i.is_tombstone]
    config = dict(read_config(store.beads_dir))
    info = {
        "database_path": str(store.issues_path),
        "beads_dir": str(store.beads_dir),
        "mode": "direct",
        "storage": "jsonl",
        "daemon_connected": False,
        "issue_count": len(issues),
        "config": config,
    }
    if args.schema:
        config.setdefault("issue_prefix", store.prefix)
        info["schema"] = {
            "tables": [],  # no SQL tables: issues, labels, dependencies and comments live in each JSONL line
            "schema_version": "jsonl",
            "config": config,
            "sample_issue_ids": sorted(i.id for i in issues)[:3],
            "detected_prefix": store.prefix,
        }
    if args.json:
        emit_json(info)
        return 0
    print(f"Store: {store.beads_dir} (JSONL, no database, no daemon)")
    print(f"Issues file: {store.issues_path}")
    print(f"Issues: {len(issues)}   Prefix: {store.prefix}")
    if args.schema:
        print("Schema: one JSON object per line (issues with their labels, dependencies and comments)")
        print("Sample ids: " + ", ".join(info["schema"]["sample_issue_ids"]))
    return 0


# --- epic ----------------------------------------------------------------------------------------

def _reg_epic(p: argparse.ArgumentParser) -> None:
    sub = subcommands(p)
    s = command(sub, "status", "each open epic: children closed of total, and whether it can close", cmd_epic_status,
                json_flag=True)
    s.add_argument("--eligible-only", action="store_true", help="only epics whose children are all closed")
    store_args(s)


def epic_status(store) -> list[dict]:
    """Open epics with their parent-child children counted (upstream's EpicStatus rows)."""
    from gastown_tui.beads.graph import children_map

    issues = {i.id: i for i in store.all()}
    kids = children_map(issues)
    rows = []
    for iss in sorted(issues.values(), key=lambda i: i.id):
        if iss.issue_type != "epic" or iss.status in ("closed", "tombstone"):
            continue
        children = [issues[k] for k in kids.get(iss.id, ()) if k in issues and not issues[k].is_tombstone]
        closed = sum(1 for c in children if c.status == "closed")
        rows.append({"epic": iss.to_json(), "total_children": len(children), "closed_children": closed,
                     "eligible_for_close": bool(children) and closed == len(children)})
    return rows


def cmd_epic_status(args: argparse.Namespace) -> int:
    rows = epic_status(open_local(args))
    if args.eligible_only:
        rows = [r for r in rows if r["eligible_for_close"]]
    if args.json:
        emit_json(rows)
    elif not rows:
        print("No open epics.")
    else:
        print_table([[r["epic"]["id"], f"{r['closed_children']}/{r['total_children']}",
                      "yes" if r["eligible_for_close"] else "", r["epic"].get("title", "")] for r in rows],
                    ["epic", "closed", "can close", "title"])
    return 0
