"""The deacon: the town's supervisor, a deterministic patrol loop in session `gt-deacon`.

Each pass: write a heartbeat; restart the daemon when it crashed (the daemon's boot watches the
deacon, the deacon watches the daemon); keep a witness and a refinery running for every unparked rig;
land convoys whose beads are all closed (and notify); feed stranded convoys (sling their ready,
unassigned beads); route and re-escalate stale escalations; check gates; report orphaned
sessions, worktrees and branches. `observe -> decide -> act`, like the witness.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gastown_tui.town.identity import Agent, agent_from_session
from gastown_tui.town.layout import Town


@dataclass(frozen=True)
class DeaconConfig:
    patrol_seconds: float = 15.0
    stale_seconds: float = 3600.0
    feed_convoys: bool = True
    ping_stale_seconds: float = 120.0

    @classmethod
    def from_settings(cls, town: Town) -> DeaconConfig:
        from gastown_tui.town.config import load_settings

        s = load_settings(town.root)
        return cls(patrol_seconds=float(s.get("deacon.patrol_seconds")),
                   stale_seconds=float(s.get("escalation.stale_seconds")),
                   feed_convoys=bool(s.get("deacon.feed_convoys")),
                   ping_stale_seconds=float(s.get("deacon.witness_ping_stale_seconds")))


@dataclass
class DeaconFacts:
    rigs: dict[str, bool]  # name -> parked
    sessions: dict[str, bool]  # session -> alive (process running)
    orphan_sessions: list[str] = field(default_factory=list)
    orphan_worktrees: list[str] = field(default_factory=list)  # "<rig>/<name>"
    orphan_branches: list[str] = field(default_factory=list)  # "<rig>:<branch>"


@dataclass(frozen=True)
class DeaconAction:
    kind: str  # start_witness | start_refinery | stop_patrol
    rig: str
    reason: str


def decide(facts: DeaconFacts) -> list[DeaconAction]:
    """Which patrol sessions must be (re)started or stopped: pure."""
    out = []
    for rig, parked in sorted(facts.rigs.items()):
        for role in ("witness", "refinery"):
            sess = Agent(role, rig).session
            alive = facts.sessions.get(sess)
            if not parked and not alive:
                why = "not running" if alive is None else "its process exited"
                out.append(DeaconAction(f"start_{role}", rig, f"{role} of {rig} {why}"))
            elif parked and alive is not None:
                out.append(DeaconAction("stop_patrol", rig, f"{rig} is parked; stopping its {role}"))
    return out


def find_orphans(town: Town, panes: dict) -> tuple[list[str], list[str], list[str]]:
    """Sessions no agent owns, polecat worktrees with no session and no work, polecat branches with
    no worktree and no open MR."""
    from gastown_tui.beads.store import Store
    from gastown_tui.patrols.witness import worktree_branch
    from gastown_tui.work.hook import HOOK_STATUS, hooks_by_agent

    rigs = town.rigs()
    sessions = []
    for s in panes:
        if not s.startswith("gt-"):
            continue
        agent = agent_from_session(s, rigs)
        if agent is None:
            sessions.append(s)
        elif agent.role == "polecat" and not town.rig(agent.rig).polecat(agent.name).is_dir():
            sessions.append(s)
        elif agent.role == "crew" and not town.rig(agent.rig).crew(agent.name).is_dir():
            sessions.append(s)
    worktrees, branches = [], []
    for rig in sorted(rigs):
        rp = town.rig(rig)
        store = Store(rp.beads_dir) if rp.beads_dir.is_dir() else None
        hooked = set()
        mr_branches = set()
        if store is not None:
            prefix = f"{rig}/polecats/"
            hooked = {a[len(prefix):] for a in hooks_by_agent(store.list(status=HOOK_STATUS)) if a.startswith(prefix)}
            mr_branches = {m.data.get("branch") for m in store.list(type="merge-request")}
        held = set()
        if rp.polecats_dir.is_dir():
            for p in sorted(rp.polecats_dir.iterdir()):
                if not p.is_dir() or p.name.startswith("."):
                    continue
                br = worktree_branch(p)
                if br:
                    held.add(br)
                if Agent("polecat", rig, p.name).session not in panes and p.name not in hooked \
                        and br not in mr_branches:
                    worktrees.append(f"{rig}/{p.name}")
        heads = rp.bare_repo / "refs" / "heads" / "polecat"
        names = set()
        if heads.is_dir():
            names |= {str(f.relative_to(rp.bare_repo / "refs" / "heads")) for f in heads.rglob("*") if f.is_file()}
        packed = rp.bare_repo / "packed-refs"
        if packed.is_file():
            for line in packed.read_text(encoding="utf-8").splitlines():
                parts = line.split(" ", 1)
                if len(parts) == 2 and parts[1].startswith("refs/heads/polecat/"):
                    names.add(parts[1][len("refs/heads/"):])
        branches += [f"{rig}:{b}" for b in sorted(names) if b not in held and b not in mr_branches]
    return sorted(sessions), worktrees, branches


def observe(town: Town, tmux) -> DeaconFacts:
    rigs = {name: bool(entry.get("parked")) for name, entry in town.rigs().items()}
    panes = tmux.panes()
    o_s, o_w, o_b = find_orphans(town, panes)
    return DeaconFacts(rigs=rigs, sessions={s: not p.dead for s, p in panes.items()},
                       orphan_sessions=o_s, orphan_worktrees=o_w, orphan_branches=o_b)


# --- patrol sessions ---------------------------------------------------------------------------------

def patrol_argv(town: Town, *args: str) -> list[str]:
    import sys

    return [sys.executable, "-m", "gastown_tui.cli.gt", *args, "--town", str(town.root)]


def start_patrol(town: Town, agent: Agent, tmux=None, *, replace: bool = True):
    """Start a patrol loop (`gt deacon run`, `gt witness run RIG`, `gt refinery run RIG`) in its session.

    A setting `role_agents.<role>` may hand the role to an AI runtime instead (DESIGN §6).
    """
    from gastown_tui.agents.sessions import start_agent
    from gastown_tui.infra.tmux import Tmux
    from gastown_tui.town.config import load_settings

    tm = tmux or Tmux.for_town(town)
    settings = load_settings(town.root)
    runtime = settings.get(f"role_agents.{agent.role}", None)
    if runtime:
        return start_agent(town, agent, runtime=str(runtime), tmux=tm)
    existing = tm.panes().get(agent.session)
    if existing is not None:
        if not existing.dead:
            from gastown_tui.errors import Conflict

            raise Conflict(f"{agent.address} is already running (tmux session {agent.session})",
                           hint="stop it first")
        tm.kill_session(agent.session)
    if agent.rig is not None:
        town.require_rig(agent.rig)  # a rig removed since the caller looked: never recreate its directory
    workdir = agent.workdir(town.root)
    if agent.role == "refinery" and not workdir.is_dir():
        workdir = town.rig(agent.rig).root
    workdir.mkdir(parents=True, exist_ok=True)
    args = {"deacon": ("deacon", "run"), "witness": ("witness", "run", str(agent.rig)),
            "refinery": ("refinery", "run", str(agent.rig))}[agent.role]
    env = {**agent.env(town.root), "GT_SESSION": agent.session, "GT_RUNTIME": "patrol",
           "PYTHONUNBUFFERED": "1"}
    for k in ("GT_TMUX_SOCKET", "PATH", "HOME"):
        if os.environ.get(k):
            env[k] = os.environ[k]
    return tm.new_session(agent.session, patrol_argv(town, *args), cwd=workdir, env=env,
                          width=int(settings.get("tmux.width") or 200), height=int(settings.get("tmux.height") or 50),
                          options={"@gt_runtime": "patrol", "@gt_address": agent.address})


def ensure_patrol(town: Town, agent: Agent, tmux) -> bool:
    """Start the patrol unless it runs; True when it was started."""
    pane = tmux.panes().get(agent.session)
    if pane is not None and not pane.dead:
        return False
    start_patrol(town, agent, tmux)
    return True


# --- acting ------------------------------------------------------------------------------------------------

@dataclass
class DeaconContext:
    town: Town
    tmux: Any = None
    log: Callable[[str], None] = lambda _m: None
    reported: set = field(default_factory=set)  # orphans already reported (log once)
    costs_checked: float = 0.0  # when the cost-spike check last ran

    def __post_init__(self) -> None:
        if self.tmux is None:
            from gastown_tui.infra.tmux import Tmux

            self.tmux = Tmux.for_town(self.town)


def patrol_once(ctx: DeaconContext, cfg: DeaconConfig, now: float | None = None) -> dict[str, Any]:
    from gastown_tui.agents.heartbeat import write_heartbeat
    from gastown_tui.work import escalation

    town = ctx.town
    now = time.time() if now is None else now
    write_heartbeat(town, "gt-deacon", role="deacon", status="patrolling")
    report: dict[str, Any] = {"started": [], "landed": [], "fed": [], "reescalated": [], "gates": [],
                              "dispatched": [], "orphans": {}}
    report["daemon"] = supervise_daemon(ctx)
    facts = observe(town, ctx.tmux)
    for a in decide(facts):
        try:
            if a.kind.startswith("start_"):
                role = a.kind.removeprefix("start_")
                start_patrol(town, Agent(role, a.rig), ctx.tmux)
                report["started"].append(Agent(role, a.rig).session)
                ctx.log(f"start {a.rig}/{role}: {a.reason}")
            elif a.kind == "stop_patrol":
                for role in ("witness", "refinery"):
                    ctx.tmux.kill_session(Agent(role, a.rig).session)
                ctx.log(a.reason)
        except Exception as e:  # noqa: BLE001
            ctx.log(f"could not {a.kind} for {a.rig}: {e}")
    report["witness_pings"] = watch_witnesses(ctx, facts, cfg, now)
    try:
        from gastown_tui.work.convoy import check_convoys

        report["landed"] = check_convoys(town)
        for cid in report["landed"]:
            ctx.log(f"convoy {cid} landed; subscribers notified")
    except Exception as e:  # noqa: BLE001
        ctx.log(f"convoy check failed: {e}")
    if cfg.feed_convoys:
        report["fed"] = feed_stranded(ctx)
    for esc in escalation.stale_escalations(town, now=now, stale_seconds=cfg.stale_seconds):
        iss = escalation.reescalate(town, esc.id, now=now)
        report["reescalated"].append(esc.id)
        ctx.log(f"re-escalated {esc.id} to {iss.data.get('routed_to')}")
    try:
        from gastown_tui.work.gates import check_gates

        res = check_gates(town)
        report["gates"] = res if isinstance(res, list) else []
    except Exception:  # noqa: BLE001 - gates are optional
        pass
    try:
        from gastown_tui.work.dispatch import dispatch_running

        report["dispatched"] = dispatch_running(town, actor="deacon")
        for step in report["dispatched"]:
            ctx.log(f"formula step {step} is ready: slung")
    except Exception as e:  # noqa: BLE001 - one bad molecule must not stop the patrol
        ctx.log(f"formula dispatch failed: {e}")
    report["cost_spike"] = _cost_spike(ctx, now)
    try:
        from gastown_tui.patrols.dogs import start_due

        report["dogs"] = start_due(town, now=now)
        for name in report["dogs"]:
            ctx.log(f"started dog {name}")
    except Exception as e:  # noqa: BLE001 - chores must not stop the patrol
        ctx.log(f"dogs failed to start: {e}")
    try:
        from gastown_tui.work.warrant import execute_due

        report["warrants"] = [w["id"] for w in execute_due(town, now=now, tmux=ctx.tmux)]
        for wid in report["warrants"]:
            ctx.log(f"executed warrant {wid}")
    except Exception as e:  # noqa: BLE001 - one bad warrant must not stop the patrol
        ctx.log(f"warrant check failed: {e}")
    report["orphans"] = {"sessions": facts.orphan_sessions, "worktrees": facts.orphan_worktrees,
                         "branches": facts.orphan_branches}
    for kind, items in report["orphans"].items():
        for item in items:
            if (kind, item) not in ctx.reported:
                ctx.reported.add((kind, item))
                ctx.log(f"orphaned {kind[:-1]}: {item} (gt doctor --fix removes safe ones)")
    write_heartbeat(town, "gt-deacon", role="deacon", started=len(report["started"]),
                    landed=len(report["landed"]))
    return report


def supervise_daemon(ctx: DeaconContext) -> int | None:
    """Start the daemon again when it died without being stopped; returns its new pid."""
    from gastown_tui.patrols import daemon

    try:
        if not daemon.crashed(ctx.town):
            return None
        pid = daemon.start(ctx.town)["pid"]
    except Exception as e:  # noqa: BLE001 - a daemon that cannot start is logged, the patrol goes on
        ctx.log(f"the daemon is dead and could not be restarted: {e}")
        return None
    ctx.log(f"restarted the daemon (pid {pid}): it had died without being stopped")
    try:
        from gastown_tui.town import events

        events.record(ctx.town.root, "deacon.restart_daemon", actor="deacon", payload={"pid": pid})
    except Exception:  # noqa: BLE001
        pass
    return pid


def _cost_spike(ctx: DeaconContext, now: float) -> dict[str, Any] | None:
    """Every `costs.check_seconds`: escalate an hour of spend above `costs.spike_usd_per_hour`."""
    try:
        from gastown_tui.town.config import load_settings
        from gastown_tui.work.costs import check_spike

        if now - ctx.costs_checked < float(load_settings(ctx.town.root).get("costs.check_seconds")):
            return None
        ctx.costs_checked = now
        spike = check_spike(ctx.town, now=now)
        if spike:
            ctx.log(f"cost spike: ${spike['usd']:.2f} in the hour {spike['hour']}:00 UTC; escalated {spike['escalation']}")
        return spike
    except Exception as e:  # noqa: BLE001 - a bad usage file must not stop the patrol
        ctx.log(f"cost check failed: {e}")
        return None


def feed_stranded(ctx: DeaconContext) -> list[str]:
    """Sling the ready, unassigned beads of stranded convoys to their rigs."""
    fed: list[str] = []
    try:
        from gastown_tui.work.convoy import stranded
        from gastown_tui.work.sling import AlreadyClaimed, sling
    except ImportError:
        return fed
    from gastown_tui.beads import ids
    from gastown_tui.beads.routes import load_routes

    routes = {r.prefix: r.path for r in load_routes(ctx.town.root)}
    rigs = ctx.town.rigs()
    for conv in stranded(ctx.town):
        for bead_id in conv.get("unassigned", []):
            if not ids.is_valid_id(bead_id):
                continue  # arrived by git with a name we cannot trust: 'bd doctor' reports it
            rig = next((p.split("/", 1)[0] for pre, p in routes.items() if bead_id.startswith(pre)), None)
            if not rig or rig not in rigs or rigs[rig].get("parked"):
                continue
            try:
                from gastown_tui.beads.routes import store_for_id

                iss = store_for_id(ctx.town.root, bead_id).get(bead_id)
                if iss.status != "open" or iss.assignee:
                    continue
                ready_ids = {i.id for i in store_for_id(ctx.town.root, bead_id).ready()}
                if bead_id not in ready_ids:
                    continue
                sling(ctx.town, [bead_id], rig, no_convoy=True, actor="deacon")
                fed.append(bead_id)
                ctx.log(f"fed stranded convoy {conv.get('id')}: slung {bead_id} to {rig}")
            except AlreadyClaimed:  # someone else slung it since we looked: it is worked once, by them
                continue
            except Exception as e:  # noqa: BLE001
                ctx.log(f"could not sling {bead_id} to {rig}: {e}")
    return fed


# --- second-order monitoring: WITNESS_PING ----------------------------------------------------------

WITNESS_RESTARTS_BEFORE_ESCALATION = 1


def witness_pings(town: Town) -> dict[str, float]:
    """rig -> the time of its witness's latest WITNESS_PING; the pings are marked read (consumed)."""
    from gastown_tui.work import mail, protocol

    out: dict[str, float] = {}
    unread = []
    for m in mail.inbox(town, "deacon", msg_type="WITNESS_PING"):
        fields = protocol.parse_body(m.get("body") or "")
        rig = fields.get("Rig") or ""
        if m.get("from") != f"{rig}/witness":
            continue  # only a rig's own witness vouches for it
        try:
            ts = float(fields.get("Pinged") or "")
        except ValueError:
            continue
        out[rig] = max(out.get(rig, 0.0), ts)
        if not m.get("read"):
            unread.append(m["id"])
    if unread:
        mail.ack(town, unread)
    return out


def _watch_path(town: Town):
    return town.runtime_dir / "deacon" / "witness_watch.json"


def watch_witnesses(ctx: DeaconContext, facts: DeaconFacts, cfg: DeaconConfig, now: float) -> dict[str, str]:
    """A running witness that stopped pinging is restarted; if it still does not ping, the mayor
    is told (concepts reference §17). Returns rig -> what was done this patrol."""
    import json

    from gastown_tui.infra.fsutil import atomic_write_text
    from gastown_tui.work import escalation

    town = ctx.town
    try:
        state = json.loads(_watch_path(town).read_text(encoding="utf-8"))
        state = state if isinstance(state, dict) else {}
    except (OSError, ValueError):
        state = {}
    try:
        pings = witness_pings(town)
    except Exception as e:  # noqa: BLE001 - unreadable mail must not stop the patrol
        ctx.log(f"could not read WITNESS_PINGs: {e}")
        return {}
    done: dict[str, str] = {}
    for rig, parked in sorted(facts.rigs.items()):
        agent = Agent("witness", rig)
        if parked or not facts.sessions.get(agent.session):
            state.pop(rig, None)  # not running: starting it is decide()'s job; watch anew after
            continue
        w = state.get(rig) if isinstance(state.get(rig), dict) else None
        if w is None:
            w = state[rig] = {"since": now, "restarts": 0, "escalated": ""}
        ping = pings.get(rig)
        if ping is not None and ping > float(w.get("since") or 0):
            w.update(since=ping, restarts=0, escalated="")
        if now - float(w.get("since") or now) < cfg.ping_stale_seconds or w.get("escalated"):
            continue
        silent = int(now - float(w["since"]))
        if int(w.get("restarts") or 0) < WITNESS_RESTARTS_BEFORE_ESCALATION:
            w["restarts"] = int(w.get("restarts") or 0) + 1
            w["since"] = now
            try:
                ctx.tmux.kill_session(agent.session)
                start_patrol(town, agent, ctx.tmux)
                ctx.log(f"restart {agent.address}: no WITNESS_PING for {silent}s")
                done[rig] = "restarted"
                _deacon_event(town, "deacon.witness_restart", rig, {"silent_seconds": silent})
                continue
            except Exception as e:  # noqa: BLE001 - a failed restart is escalated right away
                ctx.log(f"could not restart {agent.address}: {e}")
        esc = escalation.create_escalation(
            town, f"{agent.address} stopped pinging the deacon", severity="high", category="lifecycle",
            to="mayor", issue=None, actor="deacon", dedupe=True,
            description=f"No WITNESS_PING for {silent}s after {w.get('restarts')} restart(s); its polecats "
                        "are unsupervised. Check it with 'gt peek " + agent.address + "'.")
        w["escalated"] = esc.id
        ctx.log(f"escalate {agent.address} to the mayor ({esc.id}): still no WITNESS_PING after a restart")
        done[rig] = "escalated"
    try:
        atomic_write_text(_watch_path(town), json.dumps(state, indent=2) + "\n")
    except OSError as e:
        ctx.log(f"could not save the witness watch: {e}")
    return done


def _deacon_event(town: Town, type: str, rig: str, payload: dict[str, Any]) -> None:
    try:
        from gastown_tui.town import events

        events.record(town.root, type, actor="deacon", rig=rig, payload=payload)
    except Exception:  # noqa: BLE001 - the feed is best effort
        pass


def run(town: Town, *, once: bool = False, log: Callable[[str], None] = lambda _m: None,
        should_stop: Callable[[], bool] = lambda: False) -> None:
    from gastown_tui.patrols.loop import run_patrols

    ctx = DeaconContext(town, log=log)
    run_patrols("deacon", lambda c: patrol_once(ctx, c), lambda: DeaconConfig.from_settings(town),
                rest=lambda c: time.sleep(c.patrol_seconds), log=log, once=once, should_stop=should_stop)
