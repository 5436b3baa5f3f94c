"""Gates: beads a step (or a parked agent) waits on, checked by the deacon instead of busy-waiting.

A gate is a bead of type `gate` whose `gate_type`/`gate_arg` say what opens it:

    timer:30s         the time has passed (s, m, h, d; combinations like 1h30m)
    human:PROMPT      someone runs `bd gate resolve ID`
    mail:PATTERN      a message whose subject or sender contains PATTERN arrives in the town store
    bead:ID           the bead is closed
    command:CMD       CMD exits 0 (run from the town root, 60 s timeout)
    gh:run:ID         the GitHub Actions run completed        (only when the `gh` CLI is on PATH)
    gh:pr:NUMBER      the pull request is merged or closed    (only when the `gh` CLI is on PATH)

`--timeout D` closes the gate as timed out if it has not opened after D. Agents park on a gate
(`gt park --gate ID --handoff MSG`): the gate records them and their handoff, they mail
themselves a HANDOFF, and when the gate opens `check_gates` (called by the deacon on each patrol)
closes it and wakes every waiter and `--notify` address by mail, which also nudges a running
session. `gt resume` then prints the handoff.

Domain code: commands run through `infra.proc`, nothing is printed.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gastown_tui.errors import Conflict, GtError, NotFound, UsageError

TYPES = ("timer", "human", "mail", "bead", "command", "gh:run", "gh:pr", "plugin")
COMMAND_TIMEOUT = 60.0
_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)([smhd]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """'90', '30s', '5m', '1h30m', '2d' -> seconds; anything else is a usage error."""
    t = (text or "").strip().lower().replace(" ", "")
    pos, total = 0, 0.0
    for m in _DURATION_RE.finditer(t):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if not t or pos != len(t):
        raise UsageError(f"'{text}' is not a duration", hint="use seconds or a number with s, m, h or d, e.g. 30s, 5m, 1h30m")
    return total


def parse_spec(spec: str) -> tuple[str, str]:
    """'timer:30s' -> ('timer', '30s'); 'gh:run:123' -> ('gh:run', '123')."""
    s = (spec or "").strip()
    if s.startswith("gh:"):
        kind, _, arg = s[3:].partition(":")
        gtype = f"gh:{kind}"
    else:
        gtype, _, arg = s.partition(":")
    if gtype not in TYPES:
        raise UsageError(f"'{spec}' is not a gate", hint="use TYPE:ARG with TYPE one of " + ", ".join(TYPES)
                         + " (for example timer:5m, bead:gt-abc, command:'make test')")
    if not arg.strip() and gtype != "human":
        raise UsageError(f"the {gtype} gate needs an argument", hint=f"for example {_EXAMPLES[gtype]}")
    return gtype, arg.strip()


_EXAMPLES = {"timer": "timer:10m", "human": "human:'approve the release'", "mail": "mail:MERGED",
             "bead": "bead:gt-abc", "command": "command:'curl -fs localhost:8080/health'",
             "gh:run": "gh:run:123456789", "gh:pr": "gh:pr:42", "plugin": "plugin:lint-clean:src"}


@dataclass(frozen=True)
class GateResult:
    """A gate `check_gates` closed: opened (`timed_out` False) or timed out."""

    id: str
    type: str
    arg: str
    reason: str
    timed_out: bool
    woke: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "arg": self.arg, "reason": self.reason,
                "timed_out": self.timed_out, "woke": list(self.woke)}


def _now(now: float | None) -> float:
    return time.time() if now is None else now


# ---------------------------------------------------------------------------------------------
# Creating and reading


def create_gate(store: Any, spec: str, *, timeout: str | None = None, notify: list[str] | None = None,
                title: str | None = None, town: Any = None, now: float | None = None,
                actor: str | None = None, blocks: str | None = None) -> Any:
    """Create a gate bead; validation happens before anything is written.

    With `blocks` (a step id), that step gets a `blocks` dependency on the gate, so it is not
    ready until the gate opens.
    """
    gtype, arg = parse_spec(spec)
    t0 = _now(now)
    fields: dict[str, Any] = {"gate_type": gtype, "gate_arg": arg, "gate_created": t0}
    if gtype == "timer":
        fields["gate_due"] = t0 + parse_duration(arg)
    elif gtype.startswith("gh:"):
        from gastown_tui.infra.proc import which

        if which("gh") is None:
            raise GtError(f"the {gtype} gate needs the GitHub CLI 'gh', which is not on PATH",
                          hint="install gh (https://cli.github.com) and run 'gh auth login', or use a command: gate")
        if gtype == "gh:pr" and not arg.lstrip("#").isdigit():
            raise UsageError(f"'{arg}' is not a pull request number", hint="for example gh:pr:42")
    elif gtype == "bead":
        if _find_bead(store, town, arg) is None:
            raise NotFound(f"no bead {arg} for the gate to wait on", hint="check the id with 'bd show'")
    elif gtype == "mail" and town is None:
        raise UsageError("a mail gate watches the town's mail, and this store is not in a town",
                         hint="run it inside a town or pass --town")
    if timeout:
        fields["gate_timeout_at"] = t0 + parse_duration(timeout)
    if notify:
        if town is not None:
            from gastown_tui.work.mail import resolve_recipients

            for addr in notify:
                resolve_recipients(town, addr)  # a bad address fails now, not when the gate opens
        fields["gate_notify"] = list(notify)
    text = title or (f"Gate {gtype}:{arg}" if arg else f"Gate {gtype}")
    with store.transaction(actor=actor) as tx:
        gate = tx.create(text, type="gate", priority=2, description=_describe(gtype, arg), fields=fields,
                         actor=actor)
        if blocks:
            tx.add_dependency(blocks, gate.id, "blocks", actor=actor)
    return gate


def _describe(gtype: str, arg: str) -> str:
    return {
        "timer": f"Opens {arg} after it was created.",
        "human": f"Opens when a person runs 'bd gate resolve'. {arg}".strip(),
        "mail": f"Opens when mail matching '{arg}' arrives.",
        "bead": f"Opens when {arg} is closed.",
        "command": f"Opens when this command exits 0: {arg}",
        "gh:run": f"Opens when GitHub Actions run {arg} completes.",
        "gh:pr": f"Opens when pull request {arg} is merged or closed.",
        "plugin": f"Opens when plugin {arg.partition(':')[0]} exits 0 (work/plugins.py).",
    }[gtype]


def get_gate(store: Any, gate_id: str) -> Any:
    from gastown_tui.work.molecules import get_typed

    return get_typed(store, gate_id, "gate", "bd gate list")


def gate_json(gate: Any, now: float | None = None) -> dict[str, Any]:
    d = gate.data
    t = _now(now)
    due = d.get("gate_due")
    timeout_at = d.get("gate_timeout_at")
    return {
        "id": gate.id, "title": gate.title, "type": d.get("gate_type", ""), "arg": d.get("gate_arg", ""),
        "status": gate.status, "open": gate.status == "closed" and not d.get("gate_timed_out"),
        "timed_out": bool(d.get("gate_timed_out")), "reason": gate.close_reason,
        "created_at": gate.created_at, "due_in": max(0.0, round(due - t, 1)) if due else None,
        "timeout_in": max(0.0, round(timeout_at - t, 1)) if timeout_at else None,
        "notify": list(d.get("gate_notify") or ()), "waiters": list(d.get("gate_waiters") or ()),
    }


def list_gates(store: Any, *, include_closed: bool = False) -> list[Any]:
    return store.list(type="gate", include_closed=include_closed, include_ephemeral=True)


def resolve_gate(store: Any, gate_id: str, *, reason: str | None = None, town: Any = None,
                 actor: str | None = None) -> GateResult:
    """Open a gate by hand (`bd gate resolve`): any type, mostly `human`. Wakes its waiters."""
    with store.transaction(actor=actor) as tx:
        gate = get_gate(tx, gate_id)
        if gate.is_closed:
            raise Conflict(f"gate {gate_id} is already closed ({gate.close_reason or 'resolved'})",
                           hint="nothing to do")
        why = reason or f"resolved by {actor or tx.actor or 'hand'}"
        tx.close(gate_id, why, actor=actor)
        gate = tx.get(gate_id)
    woke = wake_waiters(town, gate, why, timed_out=False) if town is not None else ()
    return GateResult(gate_id, gate.get("gate_type", ""), gate.get("gate_arg", ""), why, False, tuple(woke))


# ---------------------------------------------------------------------------------------------
# Checking (the deacon calls check_gates on every patrol)


def _find_bead(store: Any, town: Any, bead_id: str) -> Any:
    iss = store.try_get(bead_id)
    if iss is not None or town is None:
        return iss
    try:
        from gastown_tui.beads.routes import store_for_id

        return store_for_id(town.root, bead_id).try_get(bead_id)
    except GtError:
        return None


def _mail_arrived(town: Any, pattern: str, since: float) -> Any:
    from gastown_tui.beads.codec import ts_key
    from gastown_tui.beads.store import Store

    if town is None or not town.beads_dir.is_dir():
        return None
    needle = pattern.lower()
    for msg in Store(town.beads_dir).list(type="message", include_closed=True, include_ephemeral=True):
        if ts_key(msg.created_at) < since - 1:
            continue
        sender = msg.get("sender") or ""
        if needle in msg.title.lower() or needle in sender.lower():
            return msg
    return None


def evaluate(gate: Any, store: Any, town: Any = None, *, now: float | None = None,
             run: Any = None) -> tuple[bool, str]:
    """Is this open gate's condition met now? (met, reason). Never raises for a failing check."""
    d = gate.data
    gtype, arg = d.get("gate_type", ""), d.get("gate_arg", "")
    t = _now(now)
    if run is None:
        from gastown_tui.infra.proc import run_command as run
    if gtype == "timer":
        due = d.get("gate_due") or 0
        return (t >= due, f"timer {arg} elapsed")
    if gtype == "human":
        return (False, "")
    if gtype == "bead":
        target = _find_bead(store, town, arg)
        if target is not None and target.is_closed:
            return (True, f"{arg} closed" + (f": {target.close_reason}" if target.close_reason else ""))
        return (False, "")
    if gtype == "mail":
        msg = _mail_arrived(town, arg, d.get("gate_created") or 0)
        return (msg is not None, f"mail {msg.id} arrived: {msg.title}" if msg is not None else "")
    if gtype == "command":
        cwd = town.root if town is not None else store.beads_dir.parent
        code, _out = run(arg, cwd, COMMAND_TIMEOUT)
        return (code == 0, f"command exited 0: {arg}")
    if gtype == "plugin":  # a custom gate type implemented by a plugin
        from gastown_tui.work.plugins import check_gate

        return check_gate(town, arg) if town is not None else (False, "")
    if gtype == "gh:run":
        code, out = run(["gh", "run", "view", arg, "--json", "status,conclusion"], None, COMMAND_TIMEOUT)
        info = _json_or_empty(out) if code == 0 else {}
        if info.get("status") == "completed":
            return (True, f"GitHub run {arg} completed: {info.get('conclusion') or 'unknown'}")
        return (False, "")
    if gtype == "gh:pr":
        code, out = run(["gh", "pr", "view", arg.lstrip("#"), "--json", "state"], None, COMMAND_TIMEOUT)
        state = (_json_or_empty(out) if code == 0 else {}).get("state", "")
        if state in ("MERGED", "CLOSED"):
            return (True, f"pull request {arg} {state.lower()}")
        return (False, "")
    return (False, "")


def _json_or_empty(text: str) -> dict[str, Any]:
    try:
        v = json.loads(text)
        return v if isinstance(v, dict) else {}
    except ValueError:
        return {}


def gate_stores(town: Any) -> list[Any]:
    """The town store and every rig's store: gates may live in any of them."""
    from gastown_tui.beads.store import Store

    out = []
    if town.beads_dir.is_dir():
        out.append(Store(town.beads_dir))
    for name in sorted(town.rigs()):
        d = town.rig(name).beads_dir
        if d.is_dir():
            out.append(Store(d))
    return out


def check_gates(town: Any, *, now: float | None = None, run: Any = None,
                stores: list[Any] | None = None) -> list[GateResult]:
    """Close every gate whose condition holds (or whose timeout passed) and wake its waiters.

    Returns the gates closed in this call. Each gate is re-checked under its store's lock, so two
    deacons never open the same gate twice.
    """
    t = _now(now)
    results: list[GateResult] = []
    for store in (stores if stores is not None else gate_stores(town)):
        for gate in list_gates(store):
            if gate.status != "open" and gate.status != "in_progress":
                continue
            met, why = evaluate(gate, store, town, now=t, run=run)
            timed_out = False
            if not met:
                tmo = gate.get("gate_timeout_at")
                if tmo and t >= tmo:
                    met, why, timed_out = True, "timeout: the gate did not open in time", True
            if not met:
                continue
            with store.transaction(actor="deacon") as tx:
                cur = tx.get(gate.id)
                if cur.is_closed:
                    continue
                tx.close(gate.id, why, actor="deacon")
                if timed_out:
                    tx.update(gate.id, gate_timed_out=True, actor="deacon")
                cur = tx.get(gate.id)
            woke = wake_waiters(town, cur, why, timed_out=timed_out)
            if timed_out:
                _escalate_timeout(town, cur)
            results.append(GateResult(gate.id, cur.get("gate_type", ""), cur.get("gate_arg", ""), why,
                                      timed_out, tuple(woke)))
    if results:
        _log(town, results)
    return results


def _escalate_timeout(town: Any, gate: Any) -> None:
    """A gate that timed out is a gate_timeout escalation (routed to the deacon first)."""
    if town is None:
        return
    from gastown_tui.work.escalation import create_escalation

    waiters = [w.get("address") for w in gate.get("gate_waiters") or () if w.get("address")]
    try:
        create_escalation(town, f"gate {gate.id} ({gate.get('gate_type')}:{gate.get('gate_arg')}) timed out",
                          severity="medium", category="gate_timeout", issue=gate.id, actor="deacon", dedupe=True,
                          description="Waiting on it: " + (", ".join(waiters) if waiters else "nobody parked"))
    except GtError:
        pass  # the gate is closed and its waiters woken; the escalation is best effort


def _log(town: Any, results: list[GateResult]) -> None:
    from gastown_tui.town.events import record

    for r in results:
        try:
            record(town.root, "gate_closed", actor="deacon", payload=r.to_json())
        except OSError:  # the feed is best effort; the gate is already closed
            return


def wake_waiters(town: Any, gate: Any, reason: str, *, timed_out: bool) -> list[str]:
    """Mail every parked agent and `--notify` address (mail also nudges a running session)."""
    if town is None:
        return []
    from gastown_tui.work.mail import send_mail

    addresses: list[str] = []
    for w in gate.get("gate_waiters") or ():
        if w.get("address") and w["address"] not in addresses:
            addresses.append(w["address"])
    for a in gate.get("gate_notify") or ():
        if a not in addresses:
            addresses.append(a)
    word = "timed out" if timed_out else "opened"
    woke = []
    for addr in addresses:
        parked = any(w.get("address") == addr for w in gate.get("gate_waiters") or ())
        body = f"Gate {gate.id} ({gate.get('gate_type')}:{gate.get('gate_arg')}) {word}: {reason}."
        if parked:
            body += "\n\nYou parked on it. Run 'gt resume' to pick up your handoff."
        try:
            send_mail(town, addr, f"Gate {gate.id} {word}" + (" - run gt resume" if parked else ""), body,
                      sender="deacon")
            woke.append(addr)
        except GtError:
            continue  # an address that no longer exists must not stop the others
    return woke


# ---------------------------------------------------------------------------------------------
# Parking and resuming agents


def _parked_path(town: Any, agent: Any) -> Path:
    return town.runtime_dir / "parked" / (agent.address.replace("/", "__") + ".json")


def gate_store(town: Any, gate_id: str) -> Any:
    """The store holding a gate: routed by prefix, else the town store, else any rig's."""
    for store in gate_stores(town):
        if store.try_get(gate_id) is not None:
            return store
    raise NotFound(f"no gate {gate_id} in this town", hint="list gates with 'bd gate list'")


def park(town: Any, agent: Any, gate_id: str, handoff: str = "", *, bead: str | None = None,
         timeout: str | None = None) -> dict[str, Any]:
    """Park `agent` on an open gate: record it and its handoff on the gate, mail itself a HANDOFF.

    `gate_id` may be a spec (`gh:pr:456`, `timer:1h`: a gate id never holds ':'); the gate is then
    created first, in the store of the hooked bead (else the town's), and waits on that bead.
    """
    from gastown_tui.infra.fsutil import atomic_write_text
    from gastown_tui.work import protocol
    from gastown_tui.work.mail import send_mail

    if ":" in gate_id:
        store = _find_store_of(town, bead)
        gate_id = create_gate(store, gate_id, timeout=timeout, town=town, actor=agent.address,
                              title=f"{agent.address} waits on {gate_id}").id
    elif timeout:
        raise UsageError("--timeout applies to a gate created from a spec", hint="set it with 'bd gate create --timeout'")
    store = gate_store(town, gate_id)
    with store.transaction(actor=agent.address) as tx:
        gate = get_gate(tx, gate_id)
        if gate.is_closed:
            raise Conflict(f"gate {gate_id} is already closed ({gate.close_reason or 'resolved'})",
                           hint="there is nothing to wait for: carry on with your work")
        waiters = [w for w in gate.get("gate_waiters") or () if w.get("address") != agent.address]
        entry = {"address": agent.address, "handoff": handoff, "parked_at": time.time()}
        if bead:
            entry["bead"] = bead
        waiters.append(entry)
        tx.update(gate_id, gate_waiters=waiters, actor=agent.address)
    msgs = send_mail(town, agent.address, protocol.subject("HANDOFF", agent.address),
                     protocol.body({"Agent": agent.address, "Bead": bead or "", "Gate": gate_id}, handoff),
                     sender=agent.address, nudge=False)
    record = {"address": agent.address, "gate": gate_id, "store": str(store.beads_dir), "handoff": handoff,
              "bead": bead or "", "parked_at": entry["parked_at"], "mail": msgs[0]["id"] if msgs else ""}
    atomic_write_text(_parked_path(town, agent), json.dumps(record, indent=2) + "\n")
    return record


def _find_store_of(town: Any, bead: str | None) -> Any:
    from gastown_tui.beads.store import Store

    if bead:
        from gastown_tui.beads.routes import store_for_id

        try:
            return store_for_id(town.root, bead)
        except NotFound:
            pass
    return Store(town.beads_dir)


def handoff_for(town: Any, agent: Any) -> dict[str, Any]:
    """The handoff `agent` will resume with: its park record's, else its latest HANDOFF mail's note."""
    record = parked(town, agent)
    if record is not None:
        try:
            status = get_gate(gate_store(town, record["gate"]), record["gate"]).status
        except NotFound:
            status = "missing"
        return {"address": agent.address, "gate": record["gate"], "gate_status": "open" if status == "closed" else
                ("missing" if status == "missing" else "waiting"), "handoff": record.get("handoff") or "",
                "source": "park"}
    from gastown_tui.work import protocol
    from gastown_tui.work.mail import inbox

    msgs = [m for m in inbox(town, agent.address, msg_type="HANDOFF")]
    text = ""
    if msgs:
        latest = max(msgs, key=lambda m: m.get("created_at") or "")
        text = protocol.parse_body(latest.get("body") or "").get("_text", "").strip()
    return {"address": agent.address, "gate": "", "gate_status": "", "handoff": text,
            "source": "mail" if msgs else ""}


def parked(town: Any, agent: Any) -> dict[str, Any] | None:
    p = _parked_path(town, agent)
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None


def resume(town: Any, agent: Any, *, force: bool = False) -> dict[str, Any]:
    """Unpark `agent` once its gate is closed (or `force`); return the record with the gate's state."""
    record = parked(town, agent)
    if record is None:
        raise NotFound(f"{agent.address} is not parked on a gate", hint="park with 'gt park --gate ID --handoff MSG'")
    try:
        store = gate_store(town, record["gate"])
        gate = get_gate(store, record["gate"])
        state = gate_json(gate)
    except NotFound:
        state = {"id": record["gate"], "status": "missing", "open": False, "timed_out": False, "reason": "the gate is gone"}
    closed = state["status"] in ("closed", "missing")
    if not closed and not force:
        raise GtError(f"gate {record['gate']} has not opened yet",
                      hint="wait for the wake-up mail, or pass --force to resume anyway")
    _parked_path(town, agent).unlink(missing_ok=True)
    return {**record, "gate_state": state}
