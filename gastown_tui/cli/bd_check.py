"""`bd validate`, `bd repair-deps`, `bd detect-pollution`, `bd migrate`: upstream's maintenance
commands, answered for a JSONL store (there is no SQLite database to migrate or repair)."""

from __future__ import annotations

import argparse

from gastown_tui.cli.bd_common import emit_json, open_local, quiet, store_args
from gastown_tui.errors import UsageError

CHECKS = ("orphans", "duplicates", "pollution", "conflicts")
_SYNONYMS = {"dupes": "duplicates", "git-conflicts": "conflicts"}


def register(p: argparse.ArgumentParser) -> None:
    name = p.prog.split()[-1]
    {"validate": _reg_validate, "repair-deps": _reg_repair, "detect-pollution": _reg_pollution,
     "migrate": _reg_migrate}[name](p)
    store_args(p)


# --- the rules (doctor uses them too) -----------------------------------------------------------

def orphan_deps(store, issues: dict | None = None) -> list[dict]:
    """Dependencies on an issue of this store's prefix that does not exist (other prefixes route elsewhere)."""
    from gastown_tui.beads import ids

    issues = issues if issues is not None else {i.id: i for i in store.all()}
    out = []
    for iss in sorted(issues.values(), key=lambda i: i.id):
        if iss.is_tombstone:
            continue
        for d in iss.dependencies:
            target = d.get("depends_on_id")
            if target and ids.split_prefix(target) == store.prefix and target not in issues:
                out.append({"issue_id": iss.id, "depends_on_id": target, "type": d.get("type") or "blocks"})
    return out


def duplicate_groups(store) -> list[list[str]]:
    """Open issues with the same title, type and description (likely created twice)."""
    seen: dict[tuple, list[str]] = {}
    for iss in store.list():
        key = (iss.title.strip().lower(), iss.issue_type, (iss.description or "").strip())
        seen.setdefault(key, []).append(iss.id)
    return [sorted(v) for v in seen.values() if len(v) > 1]


def pollution(store) -> list[dict]:
    """Issues that look like leaked test data, scored as upstream scores them (>= 0.7 reported)."""
    import re

    from gastown_tui.beads.codec import ts_key

    prefix_re = re.compile(r"^(test|benchmark|sample|tmp|temp|debug|dummy)[-_\s]")
    seq_re = re.compile(r"^[a-z]+-\d+$")
    issues = [i for i in store.all(include_ephemeral=False) if not i.is_tombstone]
    minutes = {i.id: (int(ts_key(i.created_at) // 60) if ts_key(i.created_at) else None) for i in issues}
    per_minute: dict[int | None, int] = {}
    for m in minutes.values():
        per_minute[m] = per_minute.get(m, 0) + 1
    out = []
    for iss in issues:
        title = iss.title.lower()
        desc = iss.description or ""
        score, reasons = 0.0, []
        if prefix_re.match(title):
            score += 0.7
            reasons.append("Title starts with test prefix")
        if seq_re.match(iss.id) and len(desc) < 20:
            score += 0.4
            reasons.append("Sequential ID with minimal description")
        if not desc.strip():
            score += 0.2
            reasons.append("No description")
        elif len(desc) < 20:
            score += 0.1
            reasons.append("Very short description")
        m = minutes[iss.id]
        if m is not None and per_minute[m] >= 10:
            score += 0.3
            reasons.append(f"Created with {per_minute[m] - 1} other issues in same minute")
        if "issue for testing" in title or "test issue" in title or "sample issue" in title:
            score += 0.5
            reasons.append("Generic test title")
        if score >= 0.7:
            out.append({"id": iss.id, "title": iss.title, "score": round(score, 2), "reasons": reasons,
                        "created_at": iss.created_at})
    out.sort(key=lambda r: (-r["score"], r["id"]))
    return out


def conflict_lines(store) -> list[str]:
    return [p.sentence() for p in store.problems if "conflict" in p.message]


# --- validate ----------------------------------------------------------------------------------

def _reg_validate(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checks", default=None, metavar="LIST",
                   help="comma-separated: orphans, duplicates, pollution, conflicts (default: all)")
    p.add_argument("--fix-all", action="store_true", help="fix what can be fixed (orphaned dependencies)")
    p.set_defaults(func=cmd_validate)


def parse_checks(value: str | None) -> list[str]:
    if not value:
        return list(CHECKS)
    out: list[str] = []
    for part in value.split(","):
        name = _SYNONYMS.get(part.strip().lower(), part.strip().lower())
        if not name:
            continue
        if name not in CHECKS:
            raise UsageError(f"unknown check: {part.strip()}", hint="valid checks: " + ", ".join(CHECKS))
        if name not in out:
            out.append(name)
    return out


def validate(store, checks: list[str], fix: bool) -> dict:
    results: dict[str, dict] = {}
    for name in checks:
        found, fixed, suggestions = 0, 0, []
        if name == "orphans":
            orphans = orphan_deps(store)
            found = len(orphans)
            if fix and orphans:
                fixed = _remove_orphans(store, orphans)
            elif orphans:
                suggestions.append("run 'bd repair-deps --fix' to remove them")
        elif name == "duplicates":
            groups = duplicate_groups(store)
            found = sum(len(g) - 1 for g in groups)
            suggestions += [f"same title and text: {', '.join(g)}" for g in groups[:5]]
        elif name == "pollution":
            found = len(pollution(store))
            if found:
                suggestions.append("run 'bd detect-pollution' to review them")
        else:
            lines = conflict_lines(store)
            found = len(lines)
            suggestions += lines[:5]
        results[name] = {"issue_count": found, "fixed_count": fixed, "error": None, "failed": False,
                         "suggestions": suggestions}
    total = sum(r["issue_count"] for r in results.values())
    total_fixed = sum(r["fixed_count"] for r in results.values())
    return {"checks": results, "total_issues": total, "total_fixed": total_fixed,
            "healthy": total == 0 or total == total_fixed}


def _remove_orphans(store, orphans: list[dict]) -> int:
    with store.transaction() as tx:
        for o in orphans:
            tx.remove_dependency(o["issue_id"], o["depends_on_id"])
    return len(orphans)


def cmd_validate(args: argparse.Namespace) -> int:
    checks = parse_checks(args.checks)
    store = open_local(args)
    result = validate(store, checks, args.fix_all)
    if args.json:
        emit_json(result)
    else:
        for name, r in result["checks"].items():
            mark = "ok" if r["issue_count"] == r["fixed_count"] else f"{r['issue_count']} found"
            fixed = f", {r['fixed_count']} fixed" if r["fixed_count"] else ""
            print(f"{name + ':':<12}{mark}{fixed}")
            for s in r["suggestions"]:
                print(f"  {s}")
    # Upstream exits 1 on an unhealthy store even with --json, and its own MCP client then throws
    # the report away; with --json the answer is in "healthy", and the exit status says it ran.
    return 0 if result["healthy"] or args.json else 1


# --- repair-deps --------------------------------------------------------------------------------

def _reg_repair(p: argparse.ArgumentParser) -> None:
    p.add_argument("--fix", action="store_true", help="remove the orphaned dependencies")
    p.set_defaults(func=cmd_repair_deps)


def cmd_repair_deps(args: argparse.Namespace) -> int:
    store = open_local(args)
    orphans = orphan_deps(store)
    result: dict = {"orphans_found": len(orphans), "orphans": orphans}
    if args.fix:
        result["fixed"] = _remove_orphans(store, orphans) if orphans else 0
    if args.json:
        emit_json(result)
    elif not orphans:
        print("No orphaned dependencies found.")
    else:
        print(f"Found {len(orphans)} orphaned dependencies:")
        for o in orphans:
            print(f"  {o['issue_id']} -> {o['depends_on_id']} ({o['type']}) [{o['depends_on_id']} does not exist]")
        print(f"Removed {result['fixed']}." if args.fix else "Run 'bd repair-deps --fix' to remove them.")
    return 0


# --- detect-pollution -----------------------------------------------------------------------------

def _reg_pollution(p: argparse.ArgumentParser) -> None:
    p.add_argument("--clean", action="store_true", help="delete the detected issues (they stay as tombstones)")
    p.add_argument("--yes", action="store_true", help="do not ask; needed with --clean")
    p.set_defaults(func=cmd_detect_pollution)


def pollution_report(store) -> dict:
    found = pollution(store)
    return {"polluted_count": len(found),
            "high_confidence": sum(1 for f in found if f["score"] >= 0.9),
            "medium_confidence": sum(1 for f in found if f["score"] < 0.9),
            "issues": found}


def cmd_detect_pollution(args: argparse.Namespace) -> int:
    if args.clean and not args.yes:
        raise UsageError("--clean deletes issues; pass --yes too", hint="review with 'bd detect-pollution' first")
    store = open_local(args)
    result = pollution_report(store)
    if args.clean:
        with store.transaction() as tx:
            for f in result["issues"]:
                tx.delete(f["id"], reason="test pollution")
        result["deleted"] = len(result["issues"])
    if args.json:
        emit_json(result)
    elif not result["issues"]:
        print("No test pollution detected!")
    else:
        for f in result["issues"]:
            print(f"{f['id']}  score {f['score']:.1f}  {f['title']}  ({'; '.join(f['reasons'])})")
        if args.clean:
            print(f"Deleted {result['deleted']} issues (tombstones keep them; 'bd show ID' still finds them).")
    return 0


# --- migrate ---------------------------------------------------------------------------------------

def _reg_migrate(p: argparse.ArgumentParser) -> None:
    p.add_argument("--inspect", action="store_true", help="the migration plan and the store's state, for agents")
    p.add_argument("--dry-run", action="store_true", help="say what would change")
    p.set_defaults(func=cmd_migrate)


def cmd_migrate(args: argparse.Namespace) -> int:
    from gastown_tui.beads.store import read_config

    store = open_local(args)
    config = read_config(store.beads_dir)
    missing = [] if config.get("issue-prefix") or config.get("issue_prefix") else ["issue_prefix"]
    count = sum(1 for i in store.all() if not i.is_tombstone)
    result = {
        "registered_migrations": [],
        "current_state": {"schema_version": "jsonl", "issue_count": count, "config": dict(config),
                          "missing_config": missing, "db_exists": False, "jsonl_path": str(store.issues_path)},
        "warnings": ["no SQLite database: this is a JSONL store, so there is nothing to migrate"],
        "invariants_to_check": [],
    }
    if not args.inspect:
        result = {"status": "noop", "message": "nothing to migrate: this bd keeps issues in JSONL only",
                  "dry_run": bool(args.dry_run)}
    if args.json:
        emit_json(result)
    elif not quiet(args):
        print("Nothing to migrate: this bd keeps issues in .beads/issues.jsonl only (no SQLite database).")
    return 0
