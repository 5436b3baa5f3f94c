"""Prefix routing: from any id anywhere in a town to the store that holds it.

The town's `.beads/routes.jsonl` maps prefixes to checkouts, one JSON object a line:
`{"prefix":"gt-","path":"gastown/mayor/rig"}` (path relative to the town root; "." is the town's
own `hq-` store). Each checkout's `.beads/` may redirect to the canonical store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from gastown_tui.beads.codec import loads

from gastown_tui.beads.store import Store, follow_redirect
from gastown_tui.errors import NotFound

ROUTES = "routes.jsonl"


@dataclass(frozen=True)
class Route:
    prefix: str  # with the trailing '-'
    path: str


def load_routes(town_root: Path) -> list[Route]:
    path = Path(town_root) / ".beads" / ROUTES
    out: list[Route] = []
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return out
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            obj = loads(line)  # routes.jsonl arrives by git: too deep a line is a bad line, not a traceback
        except ValueError:
            continue
        if not isinstance(obj, dict):
            continue
        prefix, rel = obj.get("prefix"), obj.get("path")
        if isinstance(prefix, str) and isinstance(rel, str) and prefix:
            out.append(Route(prefix if prefix.endswith("-") else prefix + "-", rel))
    return out


def add_route(town_root: Path, prefix: str, path: str) -> None:
    """Add or replace the route for `prefix` (used by rig add)."""
    from gastown_tui.infra.fsutil import atomic_write_text, file_lock

    prefix = prefix if prefix.endswith("-") else prefix + "-"
    beads = Path(town_root) / ".beads"
    with file_lock(beads / ".routes.lock"):
        routes = [r for r in load_routes(town_root) if r.prefix != prefix]
        routes.append(Route(prefix, path))
        text = "".join(json.dumps({"prefix": r.prefix, "path": r.path}, separators=(",", ":")) + "\n"
                       for r in routes)
        atomic_write_text(beads / ROUTES, text)


def _route_for(routes: list[Route], issue_id: str) -> Route | None:
    best = None
    for r in routes:
        if issue_id.startswith(r.prefix) and (best is None or len(r.prefix) > len(best.prefix)):
            best = r
    return best


def beads_dir_for_route(town_root: Path, route: Route) -> Path:
    base = (Path(town_root) / route.path).resolve() if route.path not in ("", ".") else Path(town_root).resolve()
    return follow_redirect(base / ".beads")


def store_for_id(town_root: Path, issue_id: str) -> Store:
    """The store holding `issue_id`, via routes.jsonl; NotFound names the known prefixes."""
    routes = load_routes(town_root)
    route = _route_for(routes, issue_id)
    if route is None:
        known = ", ".join(sorted(r.prefix for r in routes)) or "none"
        raise NotFound(f"no route for the id {issue_id} in {Path(town_root) / '.beads' / ROUTES}",
                       hint=f"known prefixes: {known}")
    return _route_store(town_root, route)


def store_for_prefix(town_root: Path, prefix: str, *, also: str = "") -> Store:
    """The store of a routed prefix (`bd` or `bd-`): where `bd create --prefix` writes."""
    routes = load_routes(town_root)
    want = prefix if prefix.endswith("-") else prefix + "-"
    route = next((r for r in routes if r.prefix == want), None)
    if route is None:
        known = ", ".join(sorted(r.prefix.rstrip("-") for r in routes)) or "none"
        raise NotFound(f"no rig or prefix '{prefix}' in the town's routes ({Path(town_root) / '.beads' / ROUTES})",
                       hint=f"known prefixes: {known}{also}")
    return _route_store(town_root, route)


def _route_store(town_root: Path, route: Route) -> Store:
    beads_dir = beads_dir_for_route(town_root, route)
    if not beads_dir.is_dir():
        raise NotFound(f"the store for {route.prefix} ({beads_dir}) does not exist",
                       hint="fix the route in routes.jsonl or re-add the rig")
    return Store(beads_dir)


def town_stores(town_root: Path) -> dict[str, Store]:
    """Every routed store by prefix ('gt-' -> Store); missing stores are left out."""
    out: dict[str, Store] = {}
    for r in load_routes(town_root):
        d = beads_dir_for_route(town_root, r)
        if d.is_dir():
            out[r.prefix] = Store(d)
    return out
