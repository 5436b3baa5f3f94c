"""Readiness, blocking and dependency cycles (DESIGN §4) — the one place that decides them.

Pure functions over a mapping of id -> Issue. X depends on Y means X's line holds
`{"issue_id": X, "depends_on_id": Y, "type": ...}`.
"""

from __future__ import annotations

import time

from gastown_tui.beads.codec import ts_key
from gastown_tui.beads.model import BLOCKING_STATUSES, BOOKKEEPING_TYPES, Issue

TYPE_CHECKING = False
if TYPE_CHECKING:  # collections.abc costs milliseconds at import; annotations are strings anyway
    from collections.abc import Iterable, Mapping

CYCLE_DEP_TYPES = frozenset({"blocks", "parent-child", "conditional-blocks", "waits-for"})
FAILURE_WORDS = ("fail", "reject", "wontfix", "won't fix", "cancel", "abandon", "error", "timeout",
                 "aborted")
SORTS = ("hybrid", "priority", "oldest")
RECENT_SECONDS = 48 * 3600


def is_failure(reason: str | None) -> bool:
    text = (reason or "").lower()
    return any(w in text for w in FAILURE_WORDS)


def _live(issues: Mapping[str, Issue], issue_id: str | None) -> Issue | None:
    """The issue a dependency points at, or None when it does not exist (or was deleted)."""
    if issue_id is None:
        return None
    target = issues.get(issue_id)
    if target is None or target.status == "tombstone":
        return None
    return target


def children_map(issues: Mapping[str, Issue]) -> dict[str, list[str]]:
    """parent id -> ids of its children (via parent-child dependencies)."""
    out: dict[str, list[str]] = {}
    for iss in issues.values():
        if iss.data.get("status") == "tombstone":
            continue  # deleted issues neither block nor inherit blocking
        for d in iss.data.get("dependencies") or ():
            if d.get("type") == "parent-child":
                out.setdefault(d.get("depends_on_id"), []).append(iss.id)
    return out


def dependents_map(issues: Iterable[Issue]) -> dict[str, list[str]]:
    """target id -> the ids of the live issues that depend on it, one entry per dependency, in
    dependent-id order (a dependent with two links to the target is listed twice). A deleted
    issue depends on nothing; a dependency of an issue on itself makes no dependent."""
    out: dict[str, list[str]] = {}
    for iss in issues:
        d = iss.data
        deps = d.get("dependencies")
        if not deps or d.get("status") == "tombstone":
            continue
        iid = iss.id
        for dep in deps:
            t = dep.get("depends_on_id") if isinstance(dep, dict) else None
            if t and isinstance(t, str) and t != iid:
                out.setdefault(t, []).append(iid)
    for ids in out.values():
        if len(ids) > 1:
            ids.sort()  # stable: a dependent's links stay in their order
    return out


def blockers(issues: Mapping[str, Issue], issue: Issue,
             kids: Mapping[str, list[str]] | None = None) -> list[str]:
    """The ids that directly block `issue` right now (not counting a blocked parent)."""
    out = []
    for d in issue.data.get("dependencies") or ():
        t = d.get("type")
        if t not in ("blocks", "conditional-blocks", "waits-for"):
            continue
        target = _live(issues, d.get("depends_on_id"))
        if target is None:
            continue
        if t == "blocks":
            hit = target.status in BLOCKING_STATUSES
        elif t == "conditional-blocks":
            hit = not (target.status == "closed" and is_failure(target.close_reason))
        else:  # waits-for: the spawner still has open children
            if kids is None:
                kids = children_map(issues)
            hit = any((c := _live(issues, k)) is not None and c.status != "closed"
                      for k in kids.get(target.id, ()))
        if hit:
            out.append(target.id)
    return out


def blocked_ids(issues: Mapping[str, Issue]) -> set[str]:
    """Every id blocked directly or through a blocked ancestor (blocking cascades to children)."""
    kids = children_map(issues)
    direct = set()
    for iss in issues.values():
        deps = iss.data.get("dependencies")
        if deps and iss.data.get("status") != "tombstone" and any(d.get("type") in ("blocks", "conditional-blocks", "waits-for") for d in deps):
            if blockers(issues, iss, kids):
                direct.add(iss.id)
    blocked = set(direct)
    stack = list(direct)
    while stack:
        for child in kids.get(stack.pop(), ()):
            if child not in blocked:
                blocked.add(child)
                stack.append(child)
    return blocked


def is_blocked(issues: Mapping[str, Issue], issue: Issue, kids: Mapping[str, list[str]] | None = None) -> bool:
    """`issue.id in blocked_ids(issues)`, walking up from one issue instead of over all of them:
    blocked directly, or under a blocked ancestor (blocking cascades down parent-child; a
    deleted issue neither blocks nor passes blocking on)."""
    seen: set[str] = set()
    stack = [issue]
    while stack:
        iss = stack.pop()
        if iss.id in seen or iss.data.get("status") == "tombstone":
            continue
        seen.add(iss.id)
        if blockers(issues, iss, kids):
            return True
        for d in iss.data.get("dependencies") or ():
            if d.get("type") == "parent-child":
                parent = issues.get(d.get("depends_on_id"))
                if parent is not None:
                    stack.append(parent)
    return False


def is_ready_candidate(iss: Issue, now_iso_key: float, *, include_molecule_steps: bool = False,
                       include_ephemeral: bool = False) -> bool:
    """Ready work before blocking is considered (DESIGN §4): open, not pinned, not deferred to the
    future, not bookkeeping; not ephemeral and not a molecule's or wisp's step unless asked for."""
    d = iss.data
    if (d.get("status") or "open") != "open":
        return False
    if d.get("pinned") or (not include_ephemeral and (d.get("ephemeral") or iss.ephemeral_file)):
        return False
    if (d.get("issue_type") or "task") in BOOKKEEPING_TYPES:
        return False
    iid = iss.id
    if not include_molecule_steps and ("-mol-" in iid or "-wisp-" in iid):
        return False
    defer = d.get("defer_until")
    return not (defer and ts_key(defer) > now_iso_key)


def is_step_ready(issues: Mapping[str, Issue], step: Issue, now: float) -> bool:
    """A molecule step can be worked on now: the same rules as `bd ready` (defer_until, pinned,
    blocking and its cascade from a blocked molecule), for steps of molecules and wisps alike."""
    return (is_ready_candidate(step, now, include_molecule_steps=True, include_ephemeral=True)
            and not is_blocked(issues, step))


def ready(issues: Mapping[str, Issue], *, limit: int | None = None, sort: str = "hybrid",
          now: float | None = None, include_molecule_steps: bool = False) -> list[Issue]:
    now = time.time() if now is None else now
    candidates = [i for i in issues.values() if is_ready_candidate(i, now, include_molecule_steps=include_molecule_steps)]
    if candidates:
        blocked = blocked_ids(issues)
        candidates = [i for i in candidates if i.id not in blocked]
    return sort_issues(candidates, sort, now)[: limit or None]


def sort_key(sort: str, now: float):
    """The ordering of ready work, on (id, priority, created seconds) rows; the one place it is decided."""
    if sort == "priority":
        return lambda r: (r[1], r[2], r[0])
    if sort == "oldest":
        return lambda r: (r[2], r[0])
    # hybrid: issues from the last 48 hours by priority, then older ones oldest first.
    cutoff = now - RECENT_SECONDS
    return lambda r: (0, r[1], r[2], r[0]) if r[2] >= cutoff else (1, 0, r[2], r[0])


def sort_issues(items: Iterable[Issue], sort: str, now: float | None = None) -> list[Issue]:
    now = time.time() if now is None else now
    key = sort_key(sort, now)
    rows = [((i.id, i.priority, ts_key(i.created_at)), i) for i in items]
    rows.sort(key=lambda pair: key(pair[0]))
    return [i for _, i in rows]


def blocked(issues: Mapping[str, Issue]) -> list[tuple[Issue, list[str]]]:
    """Unfinished issues that are blocked, each with what blocks it (a blocked parent counts)."""
    ids = blocked_ids(issues)
    kids = children_map(issues)
    out = []
    for iid in sorted(ids):
        iss = issues[iid]
        if iss.status in ("closed", "tombstone", "pinned") or iss.is_ephemeral:
            continue
        why = blockers(issues, iss, kids)
        if not why:
            parent = iss.parent_id
            if parent:
                why = [parent]
        out.append((iss, why))
    return out


def find_cycle(issues: Mapping[str, Issue], issue_id: str, depends_on_id: str) -> list[str] | None:
    """The cycle that `issue_id depends on depends_on_id` would close, as a path of ids, or None."""
    if issue_id == depends_on_id:
        return [issue_id, issue_id]
    # Is issue_id reachable from depends_on_id along blocking-type dependencies?
    parent: dict[str, str | None] = {depends_on_id: None}
    stack = [depends_on_id]
    while stack:
        cur = stack.pop()
        iss = issues.get(cur)
        if iss is None:
            continue
        for d in iss.data.get("dependencies") or ():
            if d.get("type") not in CYCLE_DEP_TYPES:
                continue
            nxt = d.get("depends_on_id")
            if nxt in parent:
                continue
            parent[nxt] = cur
            if nxt == issue_id:
                path = [nxt]
                while parent[path[-1]] is not None:
                    path.append(parent[path[-1]])  # type: ignore[arg-type]
                path.reverse()  # depends_on_id ... issue_id
                return [issue_id, *path]
            stack.append(nxt)
    return None


def all_cycles(issues: Mapping[str, Issue]) -> list[list[str]]:
    """Dependency cycles already in the data (tolerated on read; reported by doctor)."""
    graph = {iid: [d.get("depends_on_id") for d in (iss.data.get("dependencies") or ())
                   if d.get("type") in CYCLE_DEP_TYPES and d.get("depends_on_id") in issues]
             for iid, iss in issues.items() if iss.data.get("dependencies")}
    color: dict[str, int] = {}
    cycles: list[list[str]] = []
    seen_sets: set[frozenset[str]] = set()
    for root in graph:
        if color.get(root):
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        path: list[str] = []
        while stack:
            node, idx = stack.pop()
            if idx == 0:
                color[node] = 1
                path.append(node)
            succ = graph.get(node, [])
            if idx < len(succ):
                stack.append((node, idx + 1))
                nxt = succ[idx]
                c = color.get(nxt, 0)
                if c == 0:
                    stack.append((nxt, 0))
                elif c == 1:
                    cyc = path[path.index(nxt):] + [nxt]
                    key = frozenset(cyc)
                    if key not in seen_sets:
                        seen_sets.add(key)
                        cycles.append(cyc)
            else:
                color[node] = 2
                path.pop()
    return cycles


def dep_tree(issues: Mapping[str, Issue], root: str, *, max_depth: int = 50) -> list[tuple[int, str, str]]:
    """(depth, id, dependency type) rows of what `root` depends on, depth first; cycles cut."""
    rows: list[tuple[int, str, str]] = [(0, root, "")]
    seen = {root}

    def walk(iid: str, depth: int) -> None:
        iss = issues.get(iid)
        if iss is None or depth >= max_depth:
            return
        for d in iss.data.get("dependencies") or ():
            nxt = d.get("depends_on_id")
            rows.append((depth + 1, nxt, d.get("type", "")))
            if nxt not in seen:
                seen.add(nxt)
                walk(nxt, depth + 1)

    walk(root, 0)
    return rows
