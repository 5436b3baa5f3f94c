"""Reading an inbox with builtins only: `gt mail inbox --json` is polled by every agent.

Split from mail.py (which needs the town's identity and layout modules, and through them pathlib
and re) so the CLI's fast lane can answer from a beads directory and a normalised address.
"""

from __future__ import annotations

from gastown_tui.work import protocol

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds at import; annotations are strings anyway
    from typing import Any


def _scan_recipient(beads_dir, addr: str) -> list[tuple[dict[str, Any], bool]]:
    from gastown_tui.beads.lean import scan_assignee

    return scan_assignee(str(beads_dir), addr)


def inbox_at(beads_dir: str, addr: str, *, unread_only: bool = False, include_archived: bool = False,
             msg_type: str | None = None) -> list[dict[str, Any]]:
    """`inbox` for an already-normalised address in the store at `beads_dir` (the CLI's fast lane)."""
    statuses = ("open", "closed") if include_archived else ("open",)
    out = []
    for d, eph in _scan_recipient(beads_dir, addr):
        if (d.get("issue_type") or "task") != "message" or (d.get("status") or "open") not in statuses:
            continue
        m = _message_dict(d, eph)
        if unread_only and m["read"]:
            continue
        if msg_type and m["type"] != msg_type:
            continue
        out.append(m)
    out.sort(key=lambda m: (m["created_at"], m["id"]))
    return out


def _message_dict(d: dict[str, Any], ephemeral: bool) -> dict[str, Any]:
    labels = d.get("labels") or ()
    subject = d.get("title", "")
    return {
        "id": d.get("id", ""),
        "from": d.get("sender") or next((lb[5:] for lb in labels if lb.startswith("from:")), ""),
        "to": d.get("assignee") or "",
        "subject": subject,
        "body": d.get("description", ""),
        "read": "read" in labels,
        "created_at": d.get("created_at", ""),
        "thread_id": d.get("thread_id") or d.get("id", ""),
        "reply_to": d.get("reply_to") or None,
        "type": protocol.message_type(subject),
        "ephemeral": ephemeral or bool(d.get("ephemeral")),
        "archived": (d.get("status") or "open") == "closed",
        "priority": d.get("priority", 2),
    }
