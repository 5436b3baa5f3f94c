"""The cockpit's data layer: one immutable `TownSnapshot` of everything the screen shows.

`load_snapshot(town)` reads the town's bead stores (cached by file fingerprint, so an unchanged
store costs one `stat`), the event log's tail, and ONE tmux pane listing, and returns plain
dataclasses. No Textual here (DESIGN §11): the cockpit renders these, tests build them by hand.

Agent states are the one classifier's (agents/status.py); hooks, mail, the merge-queue order and
the escalation rank are the work layer's own functions, never re-decided here.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gastown_tui.agents.status import ATTENTION, OFF
from gastown_tui.agents.status import STATES as ENGINE_STATES
from gastown_tui.beads.model import Issue
from gastown_tui.town.identity import Agent, agent_from_session
from gastown_tui.town.layout import Town

# Agent states: the classifier's, plus "off" for an agent with no session and no work.
STATES = (*ENGINE_STATES, OFF)
# "b" cycles the agents needing attention, most urgent first: the classifier's ATTENTION states,
# then an agent named by an open escalation, then a worker whose merge request failed.
ATTENTION_REASONS = (*ATTENTION, "escalated", "merge failed")
MR_FAILED_STATES = ("failed", "rework")
# The tree's "sort by state": the classifier's attention states first (its order), then the rest.
STATE_ORDER = (*ATTENTION, "working", "starting", "idle", OFF)


def state_rank(state: str) -> int:
    return STATE_ORDER.index(state) if state in STATE_ORDER else len(STATE_ORDER)


# Patrols keep the town running; only these roles do the work the header counts as working.
WORKER_ROLES = ("polecat", "crew")


@dataclass(frozen=True)
class BeadView:
    id: str
    title: str
    status: str = "open"
    priority: int = 2
    issue_type: str = "task"
    assignee: str = ""
    labels: tuple[str, ...] = ()
    rig: str = ""
    updated_at: str = ""
    description: str = ""
    mr_state: str = ""  # merge requests: queued | merging | merged | failed | rework
    worker: str = ""  # merge requests: the polecat whose branch it is

    @classmethod
    def of(cls, issue: Issue, rig: str = "") -> BeadView:
        mr = issue.issue_type == "merge-request"
        return cls(issue.id, issue.title, issue.status, issue.priority, issue.issue_type, issue.assignee,
                   tuple(issue.labels), rig, issue.updated_at, issue.description,
                   str(issue.get("mr_state") or "") if mr else "", str(issue.get("worker") or "") if mr else "")


@dataclass(frozen=True)
class AgentView:
    address: str
    role: str
    rig: str | None
    name: str | None
    session: str
    state: str = "off"
    hook_id: str = ""
    hook_title: str = ""
    unread: int = 0
    mol_done: int = 0  # the hook's molecule (attached_molecule, or the hook's own children): steps closed
    mol_total: int = 0
    activity: float = field(default=0.0, compare=False)  # changes every second while printing
    runtime: str = ""
    # Facts (None: unknown). `since`: epoch the status engine saw it enter its state; usage from
    # `gt costs`' source (work/costs.py); context from its runtime's own record (work/handoff.py);
    # commits ahead of the rig's default branch and dirty files of its worktree (infra/git).
    since: float | None = None
    tokens: int | None = None
    cost_usd: float | None = None
    simulated: bool = False
    context_pct: int | None = None
    ahead: int | None = None
    dirty: int | None = None

    @property
    def label(self) -> str:
        return self.name or self.role


@dataclass(frozen=True)
class RigView:
    name: str
    prefix: str = ""
    parked: bool = False
    mq_length: int = 0
    agents: tuple[AgentView, ...] = ()

    def role(self, role: str) -> tuple[AgentView, ...]:
        return tuple(a for a in self.agents if a.role == role)


@dataclass(frozen=True)
class ConvoyView:
    id: str
    title: str
    status: str
    tracked: tuple[BeadView, ...] = ()

    @property
    def total(self) -> int:
        return len(self.tracked)

    @property
    def closed(self) -> int:
        return sum(1 for b in self.tracked if b.status in ("closed", "tombstone"))

    @property
    def landed(self) -> bool:
        return self.status == "closed"


@dataclass(frozen=True)
class MailView:
    id: str
    sender: str
    to: str
    subject: str
    body: str = ""
    unread: bool = True
    created_at: str = ""


@dataclass(frozen=True)
class EventView:
    ts: str
    type: str
    actor: str
    rig: str
    summary: str = ""


@dataclass(frozen=True)
class EscalationView:
    id: str
    title: str
    severity: str
    status: str
    source: str = ""
    acked: bool = False
    issue: str = ""  # the bead it is about


@dataclass(frozen=True)
class TownSnapshot:
    name: str
    root: str
    taken_at: float = field(compare=False)  # two snapshots showing the same town are equal
    rigs: tuple[RigView, ...] = ()
    town_agents: tuple[AgentView, ...] = ()  # mayor, deacon
    convoys: tuple[ConvoyView, ...] = ()
    inbox: tuple[MailView, ...] = ()  # the overseer's
    mail: Mapping[str, tuple[MailView, ...]] = field(default_factory=dict)  # every agent's inbox
    events: tuple[EventView, ...] = ()
    ready: tuple[BeadView, ...] = ()
    escalations: tuple[EscalationView, ...] = ()
    merge_queue: tuple[BeadView, ...] = ()
    tmux_ok: bool = True

    @property
    def agents(self) -> tuple[AgentView, ...]:
        out = list(self.town_agents)
        for r in self.rigs:
            out.extend(r.agents)
        return tuple(out)

    def agent(self, address: str) -> AgentView | None:
        return next((a for a in self.agents if a.address == address), None)

    def counts(self) -> dict[str, int]:
        c = dict.fromkeys(STATES, 0)
        for a in self.agents:
            c[a.state] = c.get(a.state, 0) + 1
        return c

    @property
    def unread(self) -> int:
        return sum(1 for m in self.inbox if m.unread)

    @property
    def open_escalations(self) -> int:
        return sum(1 for e in self.escalations if e.status != "closed")

    def summary(self) -> dict[str, Any]:
        c = self.counts()
        return {"town": self.name, "rigs": len(self.rigs), "agents": len(self.agents),
                "states": {k: v for k, v in c.items() if v}, "unread_mail": self.unread,
                "escalations": self.open_escalations, "convoys": sum(1 for v in self.convoys if not v.landed)}

    def worker_counts(self) -> dict[str, int]:
        """States of the workers only (polecats, crew): patrols never count as working."""
        c = dict.fromkeys(STATES, 0)
        for a in self.agents:
            if a.role in WORKER_ROLES:
                c[a.state] = c.get(a.state, 0) + 1
        return c

    def attention(self) -> list[tuple[AgentView, str]]:
        """Every agent needing attention with its most urgent reason, most urgent first, then in
        tree order (see ATTENTION_REASONS)."""
        open_esc = [e for e in self.escalations if e.status != "closed"]
        failed = {b.worker for b in self.merge_queue if b.mr_state in MR_FAILED_STATES and b.worker}
        rank = {r: i for i, r in enumerate(ATTENTION_REASONS)}
        out = []
        for i, a in enumerate(self.agents):
            reason = None
            if a.state in ATTENTION:
                reason = a.state
            elif any(e.title.startswith(a.address + " ") or (a.hook_id and e.issue == a.hook_id) for e in open_esc):
                reason = "escalated"
            elif a.address in failed:
                reason = "merge failed"
            if reason is not None:
                out.append((rank[reason], i, a, reason))
        out.sort(key=lambda t: (t[0], t[1]))
        return [(a, reason) for _r, _i, a, reason in out]

    def with_facts(self, facts: Mapping[str, Mapping[str, Any]]) -> TownSnapshot:
        """This snapshot with each agent's facts (AgentView's fact fields, by address) filled in."""
        from dataclasses import replace

        def put(a: AgentView) -> AgentView:
            f = facts.get(a.address)
            return replace(a, **f) if f else a

        return replace(self, town_agents=tuple(put(a) for a in self.town_agents),
                       rigs=tuple(replace(r, agents=tuple(put(a) for a in r.agents)) for r in self.rigs))

    def next_needing_attention(self, after: str | None = None) -> AgentView | None:
        """The agent after `after` in `attention()`'s order, wrapping round (the most urgent one
        when `after` needs no attention), so pressing `b` again and again visits every one."""
        hits = [a for a, _reason in self.attention()]
        if not hits:
            return None
        addrs = [a.address for a in hits]
        if after in addrs:
            return hits[(addrs.index(after) + 1) % len(hits)]
        return hits[0]


# -- reading stores ------------------------------------------------------------------------------

def _fingerprint(path: Path) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


# canonical .beads dir -> (the store's view it was read from, its live issues)
_LIVE: dict[Path, tuple[object, dict[str, Issue]]] = {}


def read_issues(beads_dir: Path) -> dict[str, Issue]:
    """The live issues of one `.beads` directory (tombstones left out), read by the store's rules.

    The store caches parsed files by fingerprint, so an unchanged store costs a `stat`; while it
    hands out the same view, the live set is not filtered again (the cockpit and the status
    engine ask every second, of stores of thousands of beads).
    """
    from gastown_tui.beads.store import Store, follow_redirect

    d = follow_redirect(Path(beads_dir))
    store = Store(d)
    view_of = getattr(store, "_view", None)
    if view_of is None:  # a store without generations: filter every time
        return {i.id: i for i in store.all() if not i.is_tombstone}
    view = view_of()
    hit = _LIVE.get(d)
    if hit is None or hit[0] is not view:
        hit = _LIVE[d] = (view, {i.id: i for i in store.all() if not i.is_tombstone})
    return dict(hit[1])


def store_dirs(town: Town) -> dict[str, Path]:
    """'' (the town, prefix hq) and every rig name -> its canonical `.beads` directory."""
    dirs = {"": town.beads_dir}
    for name in sorted(town.rigs()):
        dirs[name] = town.rig(name).beads_dir
    return dirs


def all_issues(town: Town) -> dict[str, tuple[str, dict[str, Issue]]]:
    return {rig: (rig, read_issues(d)) for rig, d in store_dirs(town).items()}


# -- agents and their state ----------------------------------------------------------------------

def _expected_agents(town: Town, rigs: Iterable[str], panes: Mapping[str, Any], hooked_to: Iterable[str]) -> list[Agent]:
    seen: dict[str, Agent] = {}

    def add(a: Agent) -> None:
        seen.setdefault(a.address, a)

    add(Agent("mayor"))
    add(Agent("deacon"))
    rigset = set(rigs)
    for rig in sorted(rigset):
        add(Agent("witness", rig))
        add(Agent("refinery", rig))
        rp = town.rig(rig)
        for d, role in ((rp.polecats_dir, "polecat"), (rp.crew_dir, "crew")):
            if d.is_dir():
                for p in sorted(d.iterdir()):
                    if p.is_dir() and not p.name.startswith("."):
                        add(Agent(role, rig, p.name))
    for session in panes:
        a = agent_from_session(session, rigset)
        if a is not None:
            add(a)
    for addr in hooked_to:
        parts = addr.split("/")
        if len(parts) == 3 and parts[0] in rigset and parts[1] in ("polecats", "crew"):
            add(Agent("polecat" if parts[1] == "polecats" else "crew", parts[0], parts[2]))
    return list(seen.values())


_ROLE_ORDER = {"witness": 0, "refinery": 1, "crew": 2, "polecat": 3}


# -- mail, convoys, escalations ------------------------------------------------------------------

def mail_of(issue: Issue) -> MailView:
    """A message bead as the cockpit shows it (fields as `gt mail inbox --json` reads them)."""
    from gastown_tui.work.mail import message_json

    m = message_json(issue)
    return MailView(m["id"], m["from"], m["to"], m["subject"], m["body"], not m["read"], m["created_at"])


def _inboxes(town_issues: Mapping[str, Issue]) -> dict[str, list[MailView]]:
    out: dict[str, list[MailView]] = {}
    from gastown_tui.work.mail import in_inbox

    for iss in town_issues.values():
        if not iss.assignee or not in_inbox(iss):
            continue
        out.setdefault(iss.assignee, []).append(mail_of(iss))
    for v in out.values():
        v.sort(key=lambda m: m.created_at, reverse=True)
    return out


def _escalation_of(iss: Issue) -> EscalationView:
    from gastown_tui.work.escalation import to_json

    e = to_json(iss)
    return EscalationView(e["id"], e["title"], str(e["severity"]), e["status"], str(e["raised_by"] or ""),
                          bool(e["acked_by"]), str(e.get("issue") or ""))


def _event_summary(e: Mapping[str, Any]) -> str:
    p = e.get("payload") or {}
    if not isinstance(p, dict):
        return str(p)[:120]
    for k in ("summary", "message", "title", "bead", "target"):
        if p.get(k):
            bits = [str(p[k])]
            if k == "bead" and p.get("target"):
                bits.append("→ " + str(p["target"]))
            return " ".join(bits)[:120]
    return " ".join(f"{k}={v}" for k, v in list(p.items())[:3])[:120]


# -- the snapshot --------------------------------------------------------------------------------

@dataclass(frozen=True)
class _BeadsPart:
    """Everything the snapshot derives from the stores alone (recomputed only when a store changes)."""

    hooks: Mapping[str, tuple[str, str, int, int]]  # address -> (bead id, title, steps closed, steps)
    mail: Mapping[str, tuple[MailView, ...]]
    mq_per_rig: Mapping[str, int]
    convoys: tuple[ConvoyView, ...]
    escalations: tuple[EscalationView, ...]
    merge_queue: tuple[BeadView, ...]
    ready: tuple[BeadView, ...]


_DERIVED: dict[Path, tuple[tuple, float, _BeadsPart]] = {}
_EVENTS: dict[Path, tuple[tuple | None, int, tuple[EventView, ...]]] = {}
# `ready` depends on the clock too (defer_until): recompute at least this often.
DERIVED_MAX_AGE = 30.0


def _store_key(dirs: Mapping[str, Path]) -> tuple:
    out = []
    for rig, d in dirs.items():
        from gastown_tui.beads.store import follow_redirect

        d = follow_redirect(d)
        out.append((rig, _fingerprint(d / "issues.jsonl"), _fingerprint(d / "wisps.jsonl")))
    return tuple(out)


def _beads_part(town: Town, now: float, ready_limit: int) -> _BeadsPart:
    from gastown_tui.work.convoy import tracked_ids

    dirs = store_dirs(town)
    key = (_store_key(dirs), ready_limit)
    hit = _DERIVED.get(town.root)
    if hit is not None and hit[0] == key and 0 <= now - hit[1] < DERIVED_MAX_AGE:
        return hit[2]
    stores = {rig: read_issues(d) for rig, d in dirs.items()}
    everything: dict[str, tuple[str, Issue]] = {}
    for rig, issues in stores.items():
        for iid, iss in issues.items():
            everything[iid] = (rig, iss)

    from gastown_tui.work.hook import hooks_by_agent

    hooked = list(hooks_by_agent(iss for _rig, iss in everything.values()).values())
    steps: dict[str, list[Issue]] = {}
    wanted = {str(i.get("attached_molecule") or i.id) for i in hooked}
    for _rig, iss in everything.values():
        parent = iss.parent_id
        if parent in wanted:
            steps.setdefault(parent, []).append(iss)
    hooks: dict[str, tuple[str, str, int, int]] = {}
    for iss in hooked:
        mine = steps.get(str(iss.get("attached_molecule") or iss.id), [])
        hooks.setdefault(iss.assignee, (iss.id, iss.title, sum(1 for c in mine if c.is_closed), len(mine)))
    town_issues = stores.get("", {})
    inboxes = _inboxes(town_issues)

    convoys = []
    for iss in town_issues.values():
        if iss.issue_type != "convoy":
            continue
        tracked = []
        for tid in tracked_ids(iss):
            found = everything.get(tid)
            tracked.append(BeadView.of(found[1], found[0]) if found else BeadView(tid, "(not found)", "open"))
        convoys.append(ConvoyView(iss.id, iss.title, iss.status, tuple(tracked)))
    convoys.sort(key=lambda c: (c.landed, c.id))

    from gastown_tui.work.escalation import order_key as escalation_order

    open_escs = [iss for iss in town_issues.values() if iss.issue_type == "escalation" and not iss.is_closed]
    escalations = sorted((_escalation_of(iss) for iss in sorted(open_escs, key=escalation_order)),
                         key=lambda e: e.acked)  # stable: unacknowledged first, each in the one order

    from gastown_tui.work.mq import issue_listing_key

    mq_all = [BeadView.of(i, rig) for rig, i in sorted(
        ((rig, i) for rig, issues in stores.items() if rig for i in issues.values()
         if i.issue_type == "merge-request" and not i.is_closed), key=lambda ri: issue_listing_key(ri[1]))]
    mq_per_rig: dict[str, int] = {}
    for b in mq_all:
        mq_per_rig[b.rig] = mq_per_rig.get(b.rig, 0) + 1

    from gastown_tui.beads.graph import ready as ready_of

    ready: list[BeadView] = []
    for rig, issues in stores.items():
        if rig:
            ready.extend(BeadView.of(i, rig) for i in ready_of(issues, now=now, sort="priority"))
    ready.sort(key=lambda b: (b.priority, b.rig, b.id))

    part = _BeadsPart(hooks, {k: tuple(v) for k, v in inboxes.items()}, mq_per_rig, tuple(convoys),
                      tuple(escalations), tuple(mq_all), tuple(ready[:ready_limit]))
    _DERIVED[town.root] = (key, now, part)
    return part


def load_snapshot(town: Town, *, panes: Mapping[str, Any] | None = None, now: float | None = None,
                  clock: Callable[[], float] = time.time, events_limit: int = 200,
                  ready_limit: int = 500, states: Mapping[str, str] | None = None) -> TownSnapshot:
    """Build the cockpit's view of `town`.

    `panes` is one `Tmux.panes()` listing (taken here if None); `states` maps addresses to the
    status engine's states (agents/status.py); an agent it has no row for gets the same
    classifier's `listing_state` (its listing row alone).
    What derives from the stores is cached by their fingerprints, so an unchanged town costs a
    few `stat` calls plus the agents' rows.
    """
    now = clock() if now is None else now
    tmux_ok = True
    if panes is None:
        try:
            from gastown_tui.infra.tmux import Tmux

            panes = Tmux.for_town(town).panes()
        except Exception:  # noqa: BLE001 - tmux missing or broken: show beads anyway, flag it
            panes, tmux_ok = {}, False
    rig_meta = town.rigs()
    part = _beads_part(town, now, ready_limit)
    hooks = part.hooks
    agents = _expected_agents(town, rig_meta, panes, hooks)
    engine = dict(states or {})
    from gastown_tui.agents.status import HookFacts, listing_state

    def view(a: Agent) -> AgentView:
        pane = panes.get(a.session)
        hook = hooks.get(a.address)
        state = engine.get(a.address) or listing_state(pane, now, hook=HookFacts(hooked=hook is not None))
        return AgentView(
            address=a.address, role=a.role, rig=a.rig, name=a.name, session=a.session, state=state,
            hook_id=hook[0] if hook else "", hook_title=hook[1] if hook else "",
            mol_done=hook[2] if hook else 0, mol_total=hook[3] if hook else 0,
            unread=sum(1 for m in part.mail.get(a.address, ()) if m.unread),
            activity=float(getattr(pane, "activity", 0.0) or 0.0), runtime=getattr(pane, "runtime", "") or "",
        )

    town_agents = tuple(view(a) for a in agents if a.rig is None)
    rigs = []
    for name in sorted(rig_meta):
        mine = sorted((a for a in agents if a.rig == name), key=lambda a: (_ROLE_ORDER.get(a.role, 9), a.name or ""))
        rigs.append(RigView(name, str(rig_meta[name].get("prefix", "")), bool(rig_meta[name].get("parked")),
                            part.mq_per_rig.get(name, 0), tuple(view(a) for a in mine)))

    return TownSnapshot(
        name=_town_name(town), root=str(town.root), taken_at=now, rigs=tuple(rigs), town_agents=town_agents,
        convoys=part.convoys, inbox=part.mail.get("overseer", ()), mail=part.mail,
        events=_events_cached(town, events_limit), ready=part.ready, escalations=part.escalations,
        merge_queue=part.merge_queue, tmux_ok=tmux_ok,
    )


def _events_cached(town: Town, limit: int) -> tuple[EventView, ...]:
    fp = _fingerprint(town.events_jsonl)
    hit = _EVENTS.get(town.root)
    if hit is not None and hit[0] == fp and hit[1] == limit:
        return hit[2]
    got = tuple(_read_events(town, limit))
    _EVENTS[town.root] = (fp, limit, got)
    return got


def _mail_from_obj(m: Any) -> MailView:
    if isinstance(m, MailView):
        return m
    if isinstance(m, Issue):
        return mail_of(m)
    g = (lambda k, d="": m.get(k, d)) if isinstance(m, dict) else (lambda k, d="": getattr(m, k, d))
    return MailView(str(g("id")), str(g("sender") or g("from")), str(g("to") or g("assignee")),
                    str(g("subject") or g("title")), str(g("body") or g("description")),
                    bool(g("unread", True)), str(g("created_at")))


_NAMES: dict[Path, tuple[tuple | None, str]] = {}  # town root -> (town.json's fingerprint, its name)


def _town_name(town: Town) -> str:
    fp = _fingerprint(town.town_json)
    hit = _NAMES.get(town.root)
    if hit is not None and hit[0] == fp and fp is not None:
        return hit[1]
    try:
        name = str(town.info().get("name") or town.root.name)
    except Exception:  # noqa: BLE001 - a damaged town.json still gets a cockpit
        name = town.root.name
    _NAMES[town.root] = (fp, name)
    return name


def _read_events(town: Town, limit: int) -> list[EventView]:
    """The last `limit` events, reading only the file's tail (the log grows forever)."""
    path = town.events_jsonl
    try:
        size = path.stat().st_size
    except OSError:
        return []
    chunk = min(size, max(64 * 1024, limit * 400))
    with open(path, "rb") as f:
        f.seek(size - chunk)
        data = f.read().decode("utf-8", errors="replace")
    lines = data.split("\n")
    if chunk < size:
        lines = lines[1:]  # a partial first line
    out = []
    for line in lines[-limit - 1:]:
        if not line.strip():
            continue
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if isinstance(e, dict):
            out.append(EventView(str(e.get("ts", "")), str(e.get("type", "")), str(e.get("actor") or ""),
                                 str(e.get("rig") or ""), _event_summary(e)))
    return out[-limit:]
