"""Merge-request beads: what `gt done` hands to the refinery (DESIGN §7).

An MR is a bead in the *rig's* store with `issue_type: "merge-request"`, title
`Merge <branch>`, assignee the rig's refinery, the source bead's priority, and these JSONL keys:

    branch         the polecat's branch (`polecat/<name>/<bead>-<t>`), present in the bare repo
    target         the branch to merge into (the rig's default branch)
    source_issue   the bead the work was for
    worker         the polecat's address (`demo/polecats/nux`)
    model          the model the polecat ran (`gt sling --model`), when one was given
    commit_sha     the branch head when `gt done` ran
    mr_state       queued | merging | merged | failed | rework (the refinery moves it on)

Status: open while queued or in work, closed when merged (reason "merged") or abandoned. The
MR also depends on its source bead with a `related` dependency (never blocking).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gastown_tui.town.layout import Town

MR_TYPE = "merge-request"


def order_key(priority: Any, created_at: str | None, mr_id: str) -> tuple:
    """The one merge-queue order (the refinery, `gt mq list`, the cockpit): priority (P0 first; a
    missing or bad priority counts as P2), then the oldest (timestamps compared as instants, any
    offset or precision), then the id."""
    from gastown_tui.beads.codec import ts_key

    return (priority if isinstance(priority, int) and not isinstance(priority, bool) else 2,
            ts_key(created_at), mr_id or "")


def listing_key(status: str, priority: Any, created_at: str | None, mr_id: str,
                updated_at: str | None = None) -> tuple:
    """How `gt mq list` and the cockpit's merge-queue screen list MRs: the one being merged, then
    the queue in merge order, then the finished ones (oldest result first)."""
    from gastown_tui.beads.codec import ts_key

    rank = 0 if status == "in_progress" else 1 if status == "open" else 2
    return (rank, order_key(priority, created_at, mr_id) if rank < 2 else (0, ts_key(updated_at), mr_id))


def issue_listing_key(iss) -> tuple:
    """`listing_key` of an MR bead (an Issue)."""
    return listing_key(iss.status, iss.priority, iss.created_at, iss.id, iss.updated_at)


def queue_order(mrs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Open MRs (as JSON rows) in the order they merge."""
    return sorted((m for m in mrs if (m.get("status") or "open") == "open"),
                  key=lambda m: order_key(m.get("priority"), m.get("created_at"), m.get("id", "")))


def _store(town: Town, rig: str):
    from gastown_tui.beads.store import Store

    return Store(town.require_rig(rig).beads_dir)


def create_mr(town: Town, rig: str, *, branch: str, target: str, source_issue: str, worker: str,
              commit_sha: str, priority: int = 2, actor: str | None = None, note: str = "",
              model: str | None = None):
    """Create the MR bead in the rig's store; returns the Issue."""
    desc = (f"Branch: {branch}\nTarget: {target}\nSource: {source_issue}\nWorker: {worker}\nCommit: {commit_sha}"
            + (f"\n\n{note}" if note else ""))
    store = _store(town, rig)
    deps = [("related", source_issue)] if store.exists(source_issue) else []
    return store.create(f"Merge {branch}", type=MR_TYPE, priority=priority, description=desc,
                        assignee=f"{rig}/refinery", deps=deps, actor=actor or worker,
                        fields={"branch": branch, "target": target, "source_issue": source_issue,
                                "worker": worker, "commit_sha": commit_sha, "mr_state": "queued",
                                **({"model": model} if model else {})})


def mr_json(iss) -> dict[str, Any]:
    """The `--json` row of an MR bead (`gt mq list`, `gt mq retry/reject`, the refinery's queue)."""
    d = iss.data
    return {"id": iss.id, "title": iss.title, "status": iss.status, "priority": iss.priority,
            "branch": d.get("branch", ""), "target": d.get("target", ""),
            "source_issue": d.get("source_issue", ""), "worker": d.get("worker", ""),
            "commit_sha": d.get("commit_sha", ""), "merged_commit": d.get("merged_commit", ""),
            "created_at": iss.created_at, "updated_at": iss.updated_at, "close_reason": iss.close_reason,
            "last_result": d.get("mq_result", ""), "merge_ready": bool(d.get("merge_ready")),
            "model": d.get("model", "")}


def list_mrs(town: Town, rig: str, *, include_closed: bool = False) -> list[dict[str, Any]]:
    """The rig's MRs in listing order (`listing_key`: the one being merged, the queue, the finished)."""
    mrs = [mr_json(i) for i in _store(town, rig).list(type=MR_TYPE, include_closed=include_closed)]
    return sorted(mrs, key=lambda m: listing_key(m["status"], m["priority"], m["created_at"], m["id"], m["updated_at"]))
