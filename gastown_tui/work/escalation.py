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

from gastown_tui.errors import Conflict, NotFound, UsageError

SEVERITIES = ("critical", "high", "medium", "low")
SEVERITY_PRIORITY = {"critical": 0, "high": 1, "medium": 2, "low": 3}
LADDER = ("deacon", "mayor", "overseer")
CATEGORIES = ("decision", "help", "blocked", "failed", "emergency", "gate_timeout", "lifecycle",
              "stuck", "crash", "merge", "conflict", "tests", "infra", "cost", "other")

# The documents' routing by category (concepts reference §20): each category's ladder, first hop
# first. "witness" means the witness of the escalation's rig. Categories not listed here route by
# severity (`initial_target`) up LADDER.
CATEGORY_LADDERS: dict[str, tuple[str, ...]] = {
    "decision": ("deacon", "mayor", "overseer"),
    "help": ("deacon", "mayor", "overseer"),
    "blocked": ("mayor", "overseer"),
    "failed": ("deacon", "mayor", "overseer"),
    "emergency": ("overseer",),
    "gate_timeout": ("deacon", "mayor", "overseer"),
    "lifecycle": ("witness", "deacon", "mayor", "overseer"),
}


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


def next_target(current: str, category: str | None = None) -> str:
    """One level up the ladder; the overseer stays the overseer; any other agent goes to the deacon's boss.

    With a routed `category`, its own ladder: a lifecycle escalation goes witness -> deacon -> ...
    """
    ladder = CATEGORY_LADDERS.get(category or "")
    if ladder is not None:
        step = "witness" if current.endswith("/witness") else current
        if step in ladder:
            return ladder[min(ladder.index(step) + 1, len(ladder) - 1)]
    if current in LADDER:
        i = LADDER.index(current)
        return LADDER[min(i + 1, len(LADDER) - 1)]
    return "mayor"


def category_target(category: str | None, severity: str, rig: str | None = None) -> str:
    """Where an escalation of `category` starts (§20's table); unrouted categories go by severity.

    A lifecycle escalation goes to its rig's witness; without a known rig, to the next hop (deacon).
    """
    ladder = CATEGORY_LADDERS.get(category or "")
    if ladder is None:
        return initial_target(severity)
    if ladder[0] == "witness":
        return f"{rig}/witness" if rig else ladder[1]
    return ladder[0]


def check_category(category: str | None) -> str | None:
    if category is None:
        return None
    c = category.strip().lower().replace("-", "_")
    if c not in CATEGORIES:
        raise UsageError(f"'{category}' is not an escalation category", hint="use one of: " + ", ".join(CATEGORIES))
    return c


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
        "context": d.get("context", ""), "answer": d.get("answer", ""), "answered_by": d.get("answered_by", ""),
        "forwarded_by": d.get("forwarded_by", ""),
        "acked_by": d.get("acked_by", ""), "acked_at": d.get("acked_at", ""),
        "created_at": iss.created_at, "updated_at": iss.updated_at,
        "description": iss.description, "close_reason": iss.close_reason,
    }


def _rig_of(town, actor: str | None, issue: str | None) -> str | None:
    """The rig an escalation is about: the raiser's (a rig agent), else the issue's prefix's."""
    rigs = town.rigs()
    if actor and "/" in actor and actor.split("/", 1)[0] in rigs:
        return actor.split("/", 1)[0]
    if issue and "-" in issue:
        prefix = issue.split("-", 1)[0]
        for name, entry in rigs.items():
            if isinstance(entry, dict) and str(entry.get("prefix", "")).rstrip("-") == prefix:
                return name
    return None


def create_escalation(town, message: str, *, severity: str = "medium", category: str | None = None,
                      to: str | None = None, question: str | None = None, options: list[str] | None = None,
                      issue: str | None = None, description: str = "", actor: str | None = None,
                      now: float | None = None, dedupe: bool = False, context: str | None = None,
                      forward: bool = False):
    """Raise an escalation and mail its first target. With `dedupe`, an open escalation with the
    same title and issue is returned instead of a second one (patrols raise idempotently).

    The first target is `to`, else the category's (CATEGORY_LADDERS), else the severity's. With
    `forward` (a tier passing on what it could not resolve), it starts one tier above the raiser.
    A decision (`question`) with an `issue` is also written into that issue, to be answered later
    with `answer_escalation`.
    """
    message = (message or "").strip()
    if not message:
        raise UsageError("an escalation needs a message", hint='for example: gt escalate "polecat nux is stuck"')
    check_severity(severity)
    if category is not None and not category.strip():
        raise UsageError("the --type category cannot be empty", hint="for example --type stuck")
    category = check_category(category)
    if options and not question:
        raise UsageError("--options needs --question", hint='add --question "Which approach?"')
    if context and not question:
        raise UsageError("--context goes with a decision's --question", hint='add --question "Which approach?"')
    if question and category is None:
        category = "decision"
    if forward:
        from gastown_tui.beads.store import default_actor

        me = actor or default_actor()
        target = to or next_target(me, category)
    else:
        from gastown_tui.beads.store import default_actor

        target = to or category_target(category, severity, _rig_of(town, actor or default_actor(), issue))
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
                              "escalation_level": 1 if forward else 0, "routed_at_epoch": ts}
    if question:
        fields["question"] = question
    if options:
        fields["options"] = list(options)
    if context:
        fields["context"] = context
    if issue:
        fields["related_issue"] = issue
    if forward:
        fields["forwarded_by"] = me
    iss = store.create(message, type="escalation", priority=SEVERITY_PRIORITY[severity],
                       description=description, fields=fields, actor=actor)
    if question and issue:
        _write_decision(town, iss, actor)
    notify(town, target, f"ESCALATION [{severity}] {message}", _mail_body(iss), sender=actor or "deacon")
    _event(town, "escalation.created", actor, {"id": iss.id, "severity": severity, "category": category or "other",
                                               "to": target})
    return iss


def _issue_store(town, issue_id: str):
    from gastown_tui.beads.routes import store_for_id

    try:
        store = store_for_id(town.root, issue_id)
    except (NotFound, UsageError):
        return None
    return store if store.try_get(issue_id) is not None else None


def _decision_block(esc) -> str:
    d = esc.data
    lines = [f"## Decision needed ({esc.id})", f"Question: {d.get('question', '')}"]
    if d.get("options"):
        lines.append("Options:")
        lines += [f"  {i}. {o}" for i, o in enumerate(d["options"], 1)]
    if d.get("context"):
        lines.append(f"Context: {d['context']}")
    lines.append(f"Answer with: gt escalate answer {esc.id} OPTION")
    return "\n".join(lines)


def _write_decision(town, esc, actor: str | None) -> None:
    """The structured decision, on the issue it is about: a `decision` field and a notes block."""
    store = _issue_store(town, esc.data["related_issue"])
    if store is None:
        return  # an issue we cannot find keeps the decision on the escalation only
    d = esc.data
    with store.transaction(actor=actor) as tx:
        cur = tx.get(d["related_issue"])
        notes = (cur.notes + "\n\n" if cur.notes else "") + _decision_block(esc)
        tx.update(cur.id, notes=notes, decision={"escalation": esc.id, "question": d.get("question", ""),
                                                  "options": list(d.get("options") or []),
                                                  "context": d.get("context", ""), "answer": None}, actor=actor)


def answer_escalation(town, esc_id: str, option: str, *, actor: str | None = None, now: float | None = None):
    """Resolve a decision: OPTION is an option's number (1-based) or its text (any case).

    Records the answer on the escalation (closed, "answered: X") and on the issue's decision, and
    mails whoever raised it.
    """
    from gastown_tui.beads.store import default_actor

    esc = get_escalation(town, esc_id)
    question = esc.data.get("question")
    if not question:
        raise UsageError(f"escalation {esc_id} is not a decision (it has no question)",
                         hint=f"close it with 'gt escalate close {esc_id} --reason TEXT'")
    if esc.data.get("answer"):
        raise Conflict(f"decision {esc_id} was already answered: {esc.data['answer']}",
                         hint="raise a new decision to change it")
    options = list(esc.data.get("options") or [])
    choice = (option or "").strip()
    if not choice:
        raise UsageError("an answer needs an OPTION", hint=f"for example: gt escalate answer {esc_id} 1")
    if options:
        if choice.isdigit() and 1 <= int(choice) <= len(options):
            choice = options[int(choice) - 1]
        else:
            match = [o for o in options if o.lower() == choice.lower()]
            if not match:
                listed = ", ".join(f"{i}. {o}" for i, o in enumerate(options, 1))
                raise UsageError(f"'{option}' is not one of the options of {esc_id}", hint=f"choose one of: {listed}")
            choice = match[0]
    who = actor or default_actor()
    stamp = datetime.fromtimestamp(time.time() if now is None else now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    store = _store(town, who)
    with store.transaction(actor=who) as tx:
        tx.update(esc_id, answer=choice, answered_by=who, answered_at=stamp, actor=who)
        iss = tx.close(esc_id, f"answered: {choice}", actor=who)
    issue_id = esc.data.get("related_issue")
    if issue_id and (istore := _issue_store(town, issue_id)) is not None:
        with istore.transaction(actor=who) as tx:
            cur = tx.get(issue_id)
            dec = dict(cur.get("decision") or {})
            if dec.get("escalation") in (None, esc_id):
                dec.update({"escalation": esc_id, "question": question, "options": options, "answer": choice,
                            "answered_by": who, "answered_at": stamp})
                notes = (cur.notes + "\n" if cur.notes else "") + f"Decision ({esc_id}): {choice} (answered by {who})"
                tx.update(issue_id, decision=dec, notes=notes, actor=who)
    raiser = esc.data.get("created_by")
    if raiser and raiser != who:
        notify(town, raiser, f"DECISION {esc_id}: {choice}",
               f"Your question '{question}' was answered by {who}: {choice}" + (f"\nIssue: {issue_id}" if issue_id else ""),
               sender=who)
    _event(town, "escalation.answered", who, {"id": esc_id, "answer": choice})
    return iss


def forward_escalation(town, esc_id: str, *, to: str | None = None, note: str = "", actor: str | None = None,
                       now: float | None = None):
    """`gt escalate --forward ID [--to T]`: a tier passes an escalation it could not resolve up (or to T)."""
    from gastown_tui.beads.store import default_actor

    esc = get_escalation(town, esc_id)
    if esc.status == "closed":
        raise UsageError(f"escalation {esc_id} is closed", hint="raise a new one instead")
    who = actor or default_actor()
    cur = esc.data.get("routed_to") or "deacon"
    nxt = to or next_target(cur, esc.data.get("category"))
    if to is not None:
        from gastown_tui.town.identity import parse_address

        parse_address(to)
    level = int(esc.data.get("escalation_level") or 0) + 1
    ts = time.time() if now is None else now
    iss = _store(town, who).update(esc_id, routed_to=nxt, escalation_level=level, routed_at_epoch=ts,
                                   forwarded_by=who, acked_by=None, acked_at=None, status="open", actor=who)
    if note:
        _store(town, who).add_comment(esc_id, f"forwarded to {nxt}: {note}", author=who)
    notify(town, nxt, f"FORWARDED ESCALATION [{iss.data.get('severity')}] {iss.title}",
           f"{who} could not resolve it" + (f": {note}" if note else "") + f"; now routed to {nxt} (level {level}).\n"
           + _mail_body(iss), sender=who)
    _event(town, "escalation.forwarded", who, {"id": esc_id, "from": cur, "to": nxt})
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
        if d.get("context"):
            lines.append(f"Context: {d['context']}")
        lines.append(f"Answer with 'gt escalate answer {iss.id} OPTION'.")
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
    nxt = next_target(cur, esc.data.get("category"))
    level = int(esc.data.get("escalation_level") or 0) + 1
    ts = time.time() if now is None else now
    iss = _store(town, actor).update(esc_id, routed_to=nxt, escalation_level=level, routed_at_epoch=ts,
                                     actor=actor)
    notify(town, nxt, f"RE-ESCALATION [{iss.data.get('severity')}] {iss.title}",
           f"Not acknowledged by {cur}; now routed to {nxt} (level {level}).\n" + _mail_body(iss), sender=actor)
    _event(town, "escalation.reescalated", actor, {"id": esc_id, "from": cur, "to": nxt})
    return iss
