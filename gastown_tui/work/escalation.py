"""Escalations: what the fleet cannot fix, routed up until a human (or the mayor) takes it.

An escalation is a bead in the town store (`issue_type = "escalation"`), priority P0-P3 from its
severity (critical, high, medium, low). It is routed to a target and mailed there:

    deacon -> mayor -> overseer          (critical goes straight to the overseer)

An escalation nobody acknowledged within `escalation.stale_seconds` of its last routing is
*stale*: the deacon re-escalates it one level up (the overseer is the top and is re-mailed).
Structured decisions carry `question`, `options` and the related `issue` as JSONL fields.

The routing rules are pure functions (`initial_target`, `next_target`, `is_stale`) so they are
tested without a store.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gastown_tui.errors import NotFound, UsageError

SEVERITIES = ("critical", "high", "medium", "low")
SEVERITY_PRIORITY = {"critical": 0, "high": 1, "medium": 2, "low": 3}
LADDER = ("deacon", "mayor", "overseer")
CATEGORIES = ("stuck", "crash", "merge", "conflict", "tests", "decision", "help", "infra", "other")


# --- pure routing rules ---------------------------------------------------------------------

def severity_rank(severity: Any) -> int:
    """The one severity rank (0 = critical … 3 = low; anything else after low)."""
    return SEVERITY_PRIORITY.get(severity, len(SEVERITIES)) if isinstance(severity, str) else len(SEVERITIES)


def order_key(iss) -> tuple:
    """How escalations are listed (`gt escalate list`, the cockpit): most severe, then oldest, then id."""
    from gastown_tui.beads.codec import ts_key

    return (severity_rank(iss.data.get("severity", "medium")), ts_key(iss.created_at), iss.id)


def check_severity(severity: str) -> str:
    if severity not in SEVERITY_PRIORITY:
        raise UsageError(f"'{severity}' is not a severity", hint="use critical, high, medium or low")
    return severity


def initial_target(severity: str) -> str:
    """Where an escalation starts: critical -> overseer, high -> mayor, medium/low -> deacon."""
    check_severity(severity)
    if severity == "critical":
        return "overseer"
    if severity == "high":
        return "mayor"
    return "deacon"


def next_target(current: str) -> str:
    """One level up the ladder; the overseer stays the overseer; any other agent goes to the deacon's boss."""
    if current in LADDER:
        i = LADDER.index(current)
        return LADDER[min(i + 1, len(LADDER) - 1)]
    return "mayor"


def is_stale(esc: dict[str, Any], now: float, stale_seconds: float) -> bool:
    """Open, unacknowledged and last routed more than `stale_seconds` ago."""
    if (esc.get("status") or "open") == "closed" or esc.get("acked_by"):
        return False
    routed = esc.get("routed_at_epoch")
    if not isinstance(routed, (int, float)):
        routed = _epoch(esc.get("updated_at") or esc.get("created_at") or "")
    return routed is not None and now - routed >= stale_seconds


def _epoch(ts: str) -> float | None:
    if not ts:
        return None
    try:
        t = ts.replace("Z", "+00:00")
        if "." in t:  # nanoseconds: keep microseconds for fromisoformat
            head, _, rest = t.partition(".")
            digits = "".join(ch for ch in rest if ch.isdigit())
            tz = rest[len(digits):]
            t = f"{head}.{digits[:6]}{tz}"
        return datetime.fromisoformat(t).timestamp()
    except ValueError:
        return None


# --- mail (notifications) -----------------------------------------------------------------------

def notify(town, to: str, subject: str, body: str = "", *, sender: str = "deacon",
           ephemeral: bool = False) -> str | None:
    """Mail `to` through the mail module; returns the message id (None if mail is unavailable).

    Supervisors must never crash because a notification could not be sent: failures are
    swallowed here and reported by the caller's log through the return value.
    """
    try:
        from gastown_tui.work import mail

        msgs = mail.send_mail(town, to, subject, body, sender=sender, ephemeral=ephemeral)
        return msgs[0]["id"] if msgs else None
    except Exception:  # noqa: BLE001 - fall back to a plain message bead below
        pass
    try:
        from gastown_tui.beads.store import Store

        iss = Store(town.beads_dir, actor=sender).create(
            subject, type="message", description=body, assignee=to, ephemeral=ephemeral,
            labels=["from:" + sender], fields={"sender": sender})
        return iss.id
    except Exception:  # noqa: BLE001 - a failed notification must not stop a patrol
        return None


# --- the store side -------------------------------------------------------------------------

def _store(town, actor: str | None = None):
    from gastown_tui.beads.store import Store

    return Store(town.beads_dir, actor=actor)


def to_json(iss) -> dict[str, Any]:
    d = iss.data
    return {
        "id": iss.id, "title": iss.title, "severity": d.get("severity", "medium"),
        "priority": iss.priority, "category": d.get("category", "other"), "status": iss.status,
        "routed_to": d.get("routed_to", ""), "level": d.get("escalation_level", 0),
        "raised_by": d.get("created_by", ""), "issue": d.get("related_issue", ""),
        "question": d.get("question", ""), "options": list(d.get("options") or []),
        "acked_by": d.get("acked_by", ""), "acked_at": d.get("acked_at", ""),
        "created_at": iss.created_at, "updated_at": iss.updated_at,
        "description": iss.description, "close_reason": iss.close_reason,
    }


def create_escalation(town, message: str, *, severity: str = "medium", category: str | None = None,
                      to: str | None = None, question: str | None = None, options: list[str] | None = None,
                      issue: str | None = None, description: str = "", actor: str | None = None,
                      now: float | None = None, dedupe: bool = False):
    """Raise an escalation and mail its first target. With `dedupe`, an open escalation with the
    same title and issue is returned instead of a second one (patrols raise idempotently)."""
    message = (message or "").strip()
    if not message:
        raise UsageError("an escalation needs a message", hint='for example: gt escalate "polecat nux is stuck"')
    check_severity(severity)
    if category is not None and not category.strip():
        raise UsageError("the --type category cannot be empty", hint="for example --type stuck")
    if options and not question:
        raise UsageError("--options needs --question", hint='add --question "Which approach?"')
    target = to or initial_target(severity)
    if to is not None:
        from gastown_tui.town.identity import parse_address

        parse_address(to)  # one sentence if it is not an address
    store = _store(town, actor)
    if dedupe:
        for e in store.list(type="escalation"):
            if e.title == message and (e.data.get("related_issue") or None) == (issue or None):
                return e
    ts = time.time() if now is None else now
    fields: dict[str, Any] = {"severity": severity, "category": category or "other", "routed_to": target,
                              "escalation_level": 0, "routed_at_epoch": ts}
    if question:
        fields["question"] = question
    if options:
        fields["options"] = list(options)
    if issue:
        fields["related_issue"] = issue
    iss = store.create(message, type="escalation", priority=SEVERITY_PRIORITY[severity],
                       description=description, fields=fields, actor=actor)
    notify(town, target, f"ESCALATION [{severity}] {message}", _mail_body(iss), sender=actor or "deacon")
    _event(town, "escalation.created", actor, {"id": iss.id, "severity": severity, "to": target})
    return iss


def _mail_body(iss) -> str:
    d = iss.data
    lines = [f"Escalation {iss.id} ({d.get('severity')}, {d.get('category')}): {iss.title}"]
    if iss.description:
        lines.append(iss.description)
    if d.get("related_issue"):
        lines.append(f"Issue: {d['related_issue']}")
    if d.get("question"):
        lines.append(f"Question: {d['question']}")
        for i, opt in enumerate(d.get("options") or [], 1):
            lines.append(f"  {i}. {opt}")
    lines.append(f"Acknowledge with 'gt escalate ack {iss.id}', resolve with 'gt escalate close {iss.id}'.")
    return "\n".join(lines)


def _event(town, type: str, actor: str | None, payload: dict[str, Any]) -> None:
    try:
        from gastown_tui.town import events

        events.record(Path(town.root), type, actor=actor, payload=payload)
    except Exception:  # noqa: BLE001 - the feed is best effort
        pass


def get_escalation(town, esc_id: str):
    iss = _store(town).try_get(esc_id)
    if iss is None or iss.issue_type != "escalation":
        raise NotFound(f"no escalation {esc_id}", hint="list them with 'gt escalate list'")
    return iss


def list_escalations(town, *, include_closed: bool = False, severity: str | None = None,
                     target: str | None = None) -> list:
    out = _store(town).list(type="escalation", include_closed=include_closed)
    if severity:
        check_severity(severity)
        out = [e for e in out if e.data.get("severity") == severity]
    if target:
        out = [e for e in out if e.data.get("routed_to") == target]
    return sorted(out, key=order_key)


def ack_escalation(town, esc_id: str, *, actor: str | None = None, now: float | None = None):
    from gastown_tui.beads.store import default_actor

    esc = get_escalation(town, esc_id)
    if esc.status == "closed":
        raise UsageError(f"escalation {esc_id} is already closed", hint="nothing to acknowledge")
    who = actor or default_actor()
    stamp = datetime.fromtimestamp(time.time() if now is None else now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    iss = _store(town, who).update(esc_id, acked_by=who, acked_at=stamp, status="in_progress", actor=who)
    _event(town, "escalation.acked", who, {"id": esc_id})
    return iss


def close_escalation(town, esc_id: str, reason: str | None = None, *, actor: str | None = None):
    esc = get_escalation(town, esc_id)
    if esc.status == "closed":
        return esc
    iss = _store(town, actor).close(esc_id, reason or "resolved", actor=actor)
    _event(town, "escalation.closed", actor, {"id": esc_id, "reason": reason or "resolved"})
    return iss


def stale_escalations(town, *, now: float | None = None, stale_seconds: float | None = None) -> list:
    if stale_seconds is None:
        from gastown_tui.town.config import load_settings

        stale_seconds = float(load_settings(town.root).get("escalation.stale_seconds"))
    ts = time.time() if now is None else now
    return [e for e in list_escalations(town) if is_stale(e.data, ts, stale_seconds)]


def reescalate(town, esc_id: str, *, now: float | None = None, actor: str = "deacon"):
    """Route a stale escalation one level up and mail the new target."""
    esc = get_escalation(town, esc_id)
    cur = esc.data.get("routed_to") or "deacon"
    nxt = next_target(cur)
    level = int(esc.data.get("escalation_level") or 0) + 1
    ts = time.time() if now is None else now
    iss = _store(town, actor).update(esc_id, routed_to=nxt, escalation_level=level, routed_at_epoch=ts,
                                     actor=actor)
    notify(town, nxt, f"RE-ESCALATION [{iss.data.get('severity')}] {iss.title}",
           f"Not acknowledged by {cur}; now routed to {nxt} (level {level}).\n" + _mail_body(iss), sender=actor)
    _event(town, "escalation.reescalated", actor, {"id": esc_id, "from": cur, "to": nxt})
    return iss
