"""The witness: one rig's polecat supervisor (DESIGN §7), a deterministic patrol loop.

Each pass is three steps, so every failure class is tested as a pure function:

    observe(ctx) -> WitnessFacts           one tmux listing, one store read, ref files (no git calls)
    decide(facts, memory, config, now)     -> (actions, new memory)   pure
    act(ctx, actions)                      the only step with side effects

A polecat is put in exactly one class (`classify`):

    spawning        a fresh worktree whose session `gt sling` has not started yet: left alone
    healthy         alive and progressing (pane output, new commits, bead updates): never touched
    stalled         alive, hooked, no progress for `stall_seconds` -> nudge; still stalled -> escalate
                    (the stall rule is the one classifier's: `agents.status.is_stalled`)
    dead-session    no session but a hook -> restart (bounded), then reopen the bead and escalate
    crashed         session alive but its process exited (remain-on-exit) -> same as dead-session
    awaiting-merge  finished (an open MR for its branch) -> MERGE_READY once the worktree is clean
    merged          its MR merged -> remove worktree, branch and session, free the name
    bead-closed     still running although its bead was closed -> stop it; clean up if nothing unmerged
    idle            no hook, no MR, nothing running on a closed bead: left alone
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from gastown_tui.town.identity import Agent
from gastown_tui.town.layout import Town

MR_OPEN_STATUSES = ("open", "in_progress")


def _default(key: str):
    from gastown_tui.town.config import key_spec

    return key_spec(key).default


@dataclass(frozen=True)
class WitnessConfig:
    """The witness's knobs; every default is the setting's declared one (town/config.py)."""

    stall_seconds: float = field(default_factory=lambda: float(_default("witness.stall_seconds")))
    max_restarts: int = field(default_factory=lambda: int(_default("witness.max_restarts")))
    patrol_seconds: float = field(default_factory=lambda: float(_default("witness.patrol_seconds")))

    @classmethod
    def from_settings(cls, town: Town) -> WitnessConfig:
        from gastown_tui.agents.status import stall_seconds_of
        from gastown_tui.town.config import load_settings

        s = load_settings(town.root)
        return cls(stall_seconds=stall_seconds_of(s),
                   max_restarts=int(s.get("witness.max_restarts")),
                   patrol_seconds=float(s.get("witness.patrol_seconds")))


@dataclass(frozen=True)
class PolecatFacts:
    """What one pass observed about one polecat."""

    name: str
    session_exists: bool = False
    pane_dead: bool = False
    activity: float | None = None  # tmux window_activity (epoch)
    runtime: str = ""
    hook_id: str | None = None  # the bead hooked/in progress on this polecat
    hook_updated: str | None = None  # its updated_at
    worktree_exists: bool = False
    branch: str | None = None  # the worktree's branch
    branch_bead: str | None = None  # the bead id encoded in the branch name
    branch_bead_status: str | None = None
    head: str | None = None  # the branch tip
    mr_open: str | None = None  # an open/in-progress MR for the branch
    mr_merged: str | None = None  # an MR for the branch closed as merged
    mr_verified: bool = False  # the open MR carries our MERGE_READY (the refinery may merge it)
    mr_problem: str | None = None  # why the open MR could not be verified yet (dirty, not pushed)
    age: float | None = None  # seconds since its worktree was made
    spawning: bool = False  # its agent bead says a sling is still starting it
    exit_signature: str | None = None  # a dead pane's failure, as `agents.exits.summarize` reads it
    exit_line: str = ""  # the dead pane's last words


@dataclass
class PolecatMemory:
    """What the witness remembers between passes (`<rig>/witness/state.json`)."""

    last_activity: float | None = None
    last_head: str | None = None
    last_hook_updated: str | None = None
    last_progress: float | None = None  # epoch of the last progress evidence (see `progress_evidence`)
    restarts: int = 0
    nudged_at: float | None = None
    stall_escalated: bool = False
    merge_ready_for: str | None = None  # MR id MERGE_READY was sent for
    runtime: str = ""
    last_exit_signature: str | None = None  # how it died last time (a second identical death is not retried)


@dataclass(frozen=True)
class Action:
    kind: str  # restart | reopen_escalate | nudge | escalate_stall | merge_ready | cleanup | retire
    polecat: str
    reason: str
    bead: str | None = None
    mr: str | None = None
    branch: str | None = None
    runtime: str = ""


@dataclass
class WitnessFacts:
    rig: str
    polecats: list[PolecatFacts] = field(default_factory=list)


# --- classification and decisions (pure) ---------------------------------------------------------

# A polecat marked "spawning" with no session yet is being started by a sling (unless it is older
# than this: a sling that died half-way).
SPAWN_GRACE_SECONDS = 120.0

def progress_evidence(f: PolecatFacts, m: PolecatMemory, now: float) -> float:
    """When the polecat last showed progress, as of this pass: its pane's last output (not the
    echo of our nudge: `agents.status.progress_at`), or now when a new commit or bead update
    appeared since the last pass. A polecat seen for the first time counts from now."""
    from gastown_tui.agents.status import progress_at

    if m.last_progress is None:
        return now
    if (f.head and m.last_head and f.head != m.last_head) or \
            (f.hook_updated and m.last_hook_updated and f.hook_updated != m.last_hook_updated):
        return now
    return progress_at(f.activity, m.last_progress, m.nudged_at) or m.last_progress


def progressed(f: PolecatFacts, m: PolecatMemory, now: float) -> bool:
    """Any sign of work since the last pass: pane output, a new commit, a bead update."""
    return m.last_progress is not None and progress_evidence(f, m, now) > m.last_progress


def classify(f: PolecatFacts, m: PolecatMemory, cfg: WitnessConfig, now: float) -> str:
    # `gt done` may leave the finished bead on the hook: the branch's own bead does not count.
    finished_hook = not f.hook_id or f.hook_id == f.branch_bead
    if f.mr_merged and not f.mr_open and finished_hook:
        return "merged"
    if f.mr_open and finished_hook:
        return "awaiting-merge"
    if f.hook_id:
        if not f.session_exists:
            if f.spawning and (f.age is None or f.age < SPAWN_GRACE_SECONDS):
                return "spawning"  # `gt sling` made the worktree and is about to start the session
            return "dead-session"
        if f.pane_dead:
            return "crashed"
        from gastown_tui.agents.status import is_stalled

        return "stalled" if is_stalled(progress_evidence(f, m, now), now, cfg.stall_seconds) else "healthy"
    if f.session_exists and f.branch_bead_status == "closed":
        return "bead-closed"
    return "idle"


def decide(facts: WitnessFacts, memory: dict[str, PolecatMemory], cfg: WitnessConfig,
           now: float) -> tuple[list[Action], dict[str, PolecatMemory]]:
    from gastown_tui.agents.status import is_stalled

    actions: list[Action] = []
    new_mem: dict[str, PolecatMemory] = {}
    for f in facts.polecats:
        m = replace(memory.get(f.name) or PolecatMemory())
        first_seen = m.last_progress is None
        cls = classify(f, m, cfg, now)
        if first_seen or progressed(f, m, now):
            m.last_progress = progress_evidence(f, m, now)
            m.nudged_at = None
            m.stall_escalated = False
        if f.runtime:
            m.runtime = f.runtime
        rt = f.runtime or m.runtime
        if cls in ("dead-session", "crashed"):
            what = "session is gone" if cls == "dead-session" else "agent process exited"
            same = bool(f.exit_signature) and f.exit_signature == m.last_exit_signature
            if f.exit_signature:
                m.last_exit_signature = f.exit_signature
            if f.exit_line:
                what += f" ({f.exit_line[:160]})"
            if not same and m.restarts < cfg.max_restarts and f.worktree_exists:
                m.restarts += 1
                m.last_progress = now
                actions.append(Action("restart", f.name, f"{what} with {f.hook_id} hooked "
                                      f"(restart {m.restarts}/{cfg.max_restarts})", bead=f.hook_id, runtime=rt))
            else:
                why = "; it failed the same way twice, so it is not restarted again" if same else ""
                actions.append(Action("reopen_escalate", f.name, f"{what} with {f.hook_id} hooked after "
                                      f"{m.restarts} restart(s){why}", bead=f.hook_id, branch=f.branch))
        elif cls == "stalled":
            if m.nudged_at is None:
                m.nudged_at = now
                actions.append(Action("nudge", f.name, f"no progress on {f.hook_id} for "
                                      f"{int(now - (m.last_progress or now))}s", bead=f.hook_id))
            elif not m.stall_escalated and is_stalled(m.nudged_at, now, cfg.stall_seconds):
                m.stall_escalated = True
                actions.append(Action("escalate_stall", f.name, f"still no progress on {f.hook_id} "
                                      f"{int(now - m.nudged_at)}s after a nudge", bead=f.hook_id))
        elif cls == "awaiting-merge":
            # Verify until it passes: a dirty or unpushed worktree is re-checked each pass.
            if not f.mr_verified and (m.merge_ready_for != f.mr_open or f.mr_problem):
                m.merge_ready_for = f.mr_open
                actions.append(Action("merge_ready", f.name, f"{f.branch} is done ({f.mr_open})",
                                      bead=f.branch_bead, mr=f.mr_open, branch=f.branch))
        elif cls == "merged":
            actions.append(Action("cleanup", f.name, f"{f.branch} merged ({f.mr_merged})",
                                  bead=f.branch_bead, mr=f.mr_merged, branch=f.branch))
        elif cls == "bead-closed":
            actions.append(Action("retire", f.name, f"still running although {f.branch_bead} is closed",
                                  bead=f.branch_bead, branch=f.branch))
        if cls == "healthy":
            m.restarts = m.restarts if m.restarts else 0
        m.last_activity = f.activity if f.activity is not None else m.last_activity
        m.last_head = f.head or m.last_head
        m.last_hook_updated = f.hook_updated or m.last_hook_updated
        if cls not in ("merged",):
            new_mem[f.name] = m
    return actions, new_mem


# --- observation -------------------------------------------------------------------------------------

def _read_text(p: Path) -> str | None:
    try:
        return p.read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


def worktree_branch(worktree: Path) -> str | None:
    """The branch a worktree has checked out, read from its files (no git process)."""
    dotgit = worktree / ".git"
    gitdir: Path | None
    if dotgit.is_dir():
        gitdir = dotgit
    else:
        txt = _read_text(dotgit)
        if not txt or not txt.startswith("gitdir:"):
            return None
        gitdir = Path(txt.split(":", 1)[1].strip())
        if not gitdir.is_absolute():
            gitdir = (worktree / gitdir).resolve()
    head = _read_text(gitdir / "HEAD")
    if head and head.startswith("ref: refs/heads/"):
        return head[len("ref: refs/heads/"):]
    return None


def ref_sha(bare_repo: Path, branch: str) -> str | None:
    """The tip of `branch` in a repository, from its loose ref or packed-refs (no git process)."""
    loose = _read_text(bare_repo / "refs" / "heads" / branch)
    if loose:
        return loose
    packed = _read_text(bare_repo / "packed-refs")
    if packed:
        want = f"refs/heads/{branch}"
        for line in packed.splitlines():
            parts = line.split(" ", 1)
            if len(parts) == 2 and parts[1] == want:
                return parts[0]
    return None


def bead_of_branch(branch: str | None) -> str | None:
    """`polecat/<name>/<bead-id>-<base36 time>` -> `<bead-id>`."""
    if not branch or not branch.startswith("polecat/"):
        return None
    parts = branch.split("/", 2)
    if len(parts) < 3:
        return None
    from gastown_tui.beads import ids

    tail = parts[2]
    bead = tail.rsplit("-", 1)[0] if "-" in tail else tail
    return bead if ids.is_valid_id(bead) else None


def _mr_merged(iss) -> bool:
    reason = (iss.close_reason or "").lower()
    return iss.status == "closed" and (reason.startswith("merged") or bool(iss.data.get("merged_commit")))


@dataclass
class WitnessContext:
    town: Town
    rig: str
    tmux: Any = None
    log: Callable[[str], None] = lambda _msg: None

    def __post_init__(self) -> None:
        if self.tmux is None:
            from gastown_tui.infra.tmux import Tmux

            self.tmux = Tmux.for_town(self.town)

    @property
    def store(self):
        from gastown_tui.beads.store import Store

        return Store(self.town.rig(self.rig).beads_dir, actor=f"{self.rig}/witness")


def observe(ctx: WitnessContext, panes: dict | None = None) -> WitnessFacts:
    rp = ctx.town.rig(ctx.rig)
    panes = ctx.tmux.panes() if panes is None else panes
    store = ctx.store
    prefix = f"{ctx.rig}/polecats/"
    from gastown_tui.beads import ids
    from gastown_tui.work.hook import HOOK_STATUS, hooks_by_agent

    # A bead whose id arrived by git in a form we cannot trust is never acted on ('bd doctor' reports it).
    hooks = {addr[len(prefix):]: iss for addr, iss in hooks_by_agent(store.list(status=HOOK_STATUS)).items()
             if addr.startswith(prefix) and ids.is_valid_id(iss.id)}
    mrs_open: dict[str, str] = {}
    mrs_merged: dict[str, str] = {}
    mr_checks: dict[str, tuple[bool, str | None]] = {}
    for mr in store.list(type="merge-request", include_closed=True):
        br = mr.data.get("branch")
        if not br or not ids.is_valid_id(mr.id):
            continue
        if mr.status in MR_OPEN_STATUSES:
            mrs_open[br] = mr.id
            mr_checks[br] = (bool(mr.data.get("merge_ready")), mr.data.get("merge_ready_problem") or None)
        elif _mr_merged(mr):
            mrs_merged[br] = mr.id
    names: set[str] = set(hooks)
    if rp.polecats_dir.is_dir():
        names |= {p.name for p in rp.polecats_dir.iterdir() if p.is_dir() and not p.name.startswith(".")}
    sess_prefix = f"gt-{ctx.rig}-"
    for s in panes:
        if s.startswith(sess_prefix):
            tail = s[len(sess_prefix):]
            if tail not in ("witness", "refinery") and not tail.startswith("crew-"):
                names.add(tail)
    spawning: set[str] = set()
    try:
        from gastown_tui.agents import agent_beads

        spawning = {a.name for a, b in agent_beads.list_agents(ctx.town, rig=ctx.rig, role="polecat")
                    if b.get("agent_state") == "spawning"}
    except Exception:  # noqa: BLE001 - without agent beads, no polecat counts as spawning
        pass
    # Dead panes still show why they died: one batched capture of just those.
    dead = [s for s, p in panes.items() if s.startswith(sess_prefix) and p.dead]
    exits: dict[str, dict[str, Any]] = {}
    if dead:
        from gastown_tui.agents.exits import dead_screens, summarize

        texts = dead_screens(ctx.tmux, dead)
        exits = {s: summarize(texts.get(s, ""), panes[s].dead_status) for s in dead}
    out = []
    for name in sorted(names):
        agent = Agent("polecat", ctx.rig, name)
        pane = panes.get(agent.session)
        wt = rp.polecat(name)
        branch = worktree_branch(wt) if wt.is_dir() else None
        bb = bead_of_branch(branch)
        bb_iss = store.try_get(bb) if bb else None
        hook = hooks.get(name)
        try:
            age = max(0.0, time.time() - wt.stat().st_ctime)
        except OSError:
            age = None
        out.append(PolecatFacts(
            name=name, age=age, spawning=name in spawning, session_exists=pane is not None, pane_dead=bool(pane and pane.dead),
            activity=pane.activity if pane else None, runtime=pane.runtime if pane else "",
            hook_id=hook.id if hook else None, hook_updated=hook.updated_at if hook else None,
            worktree_exists=wt.is_dir(), branch=branch, branch_bead=bb,
            branch_bead_status=bb_iss.status if bb_iss else None,
            head=ref_sha(rp.bare_repo, branch) if branch else None,
            mr_open=mrs_open.get(branch) if branch else None,
            mr_merged=mrs_merged.get(branch) if branch else None,
            exit_signature=(exits[agent.session]["signature"] or None) if agent.session in exits else None,
            exit_line=exits[agent.session]["last_line"] if agent.session in exits else "",
            mr_verified=mr_checks.get(branch, (False, None))[0] if branch else False,
            mr_problem=mr_checks.get(branch, (False, None))[1] if branch else None,
        ))
    return WitnessFacts(ctx.rig, out)


# --- memory ----------------------------------------------------------------------------------------------

def state_path(town: Town, rig: str) -> Path:
    return town.rig(rig).witness_dir / "state.json"


def load_memory(town: Town, rig: str) -> dict[str, PolecatMemory]:
    try:
        raw = json.loads(state_path(town, rig).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    out = {}
    known = set(PolecatMemory.__dataclass_fields__)
    for name, d in (raw.get("polecats") or {}).items():
        if isinstance(d, dict):
            out[name] = PolecatMemory(**{k: v for k, v in d.items() if k in known})
    return out


def save_memory(town: Town, rig: str, memory: dict[str, PolecatMemory]) -> None:
    from gastown_tui.infra.fsutil import atomic_write_text

    atomic_write_text(state_path(town, rig), json.dumps(
        {"polecats": {k: asdict(v) for k, v in sorted(memory.items())}}, indent=1) + "\n")


# --- actions -----------------------------------------------------------------------------------------------

def _default_runtime(town: Town, rig: str) -> str:
    try:
        cfg = town.rig_config(rig)
    except Exception:  # noqa: BLE001
        cfg = {}
    if cfg.get("agent"):
        return str(cfg["agent"])
    from gastown_tui.agents.sessions import agent_runtime_name

    return agent_runtime_name(town, Agent("polecat", rig, "x"))


def nudge_agent(town: Town, agent: Agent, text: str, tmux=None) -> str:
    try:
        from gastown_tui.agents import nudge

        return nudge.deliver(town, agent, text, mode="immediate", sender=f"{agent.rig}/witness", tmux=tmux).status
    except Exception as e:  # noqa: BLE001 - a failed nudge is reported, never fatal
        return f"failed ({e})"


def remove_polecat(town: Town, rig: str, name: str, branch: str | None = None, *, tmux=None) -> list[str]:
    """Remove a merged or retired polecat: session, worktree, branch, name and agent bead."""
    from gastown_tui.work.nuke import nuke_polecat

    rp = town.rig(rig)
    had = [w for w, present in (("session", tmux is not None and tmux.has_session(Agent("polecat", rig, name).session)),
                                ("worktree", rp.polecat(name).exists())) if present]
    res = nuke_polecat(town, rig, name, force=True)
    if res.get("branch") or branch:
        had.append("branch")
    return had


def act(ctx: WitnessContext, actions: list[Action], cfg: WitnessConfig) -> None:
    from gastown_tui.work import escalation

    town, rig = ctx.town, ctx.rig
    me = f"{rig}/witness"
    for a in actions:
        agent = Agent("polecat", rig, a.polecat)
        try:
            if a.kind == "restart":
                from gastown_tui.agents.sessions import start_agent

                start_agent(town, agent, runtime=a.runtime or _default_runtime(town, rig), tmux=ctx.tmux)
                ctx.log(f"restart {agent.address}: {a.reason}")
                _event(town, "witness.restart", me, rig, {"polecat": a.polecat, "bead": a.bead})
            elif a.kind == "reopen_escalate":
                from gastown_tui.agents.exits import last_exit
                from gastown_tui.agents.sessions import stop_agent

                stop_agent(town, agent, tmux=ctx.tmux)  # keeps a dead pane's last screen first
                rec = last_exit(town.root, agent.session)
                recent = rec is not None and time.time() - float(rec.get("ts") or 0) < 3600
                screen = "\n".join(rec["lines"]) if recent else ""
                if a.bead:
                    store = ctx.store
                    store.update(a.bead, status="open", assignee=None, actor=me)
                    store.add_comment(a.bead, f"witness: {a.reason}; reopened for another polecat", author=me)
                escalation.create_escalation(
                    town, f"{agent.address} keeps dying on {a.bead}", severity="high", category="crash",
                    issue=a.bead, description=a.reason + (f"\n\nIts last screen:\n{screen}" if screen else ""),
                    actor=me, dedupe=True)
                ctx.log(f"reopen {a.bead} and escalate: {a.reason}")
                _event(town, "witness.escalate", me, rig, {"polecat": a.polecat, "bead": a.bead, "reopened": bool(a.bead)})
            elif a.kind == "nudge":
                status = nudge_agent(town, agent, f"[witness] {a.reason}. Continue your hooked work "
                                     f"({a.bead}); run `gt hook` if unsure, `gt done` when finished.", ctx.tmux)
                ctx.log(f"nudge {agent.address}: {a.reason} -> {status}")
                _event(town, "witness.nudge", me, rig, {"polecat": a.polecat, "bead": a.bead})
            elif a.kind == "escalate_stall":
                escalation.create_escalation(
                    town, f"{agent.address} is stalled on {a.bead}", severity="medium", category="stuck",
                    issue=a.bead, description=a.reason, actor=me, dedupe=True)
                ctx.log(f"escalate {agent.address}: {a.reason}")
                _event(town, "witness.escalate", me, rig, {"polecat": a.polecat, "bead": a.bead})
            elif a.kind == "merge_ready":
                _merge_ready(ctx, a, agent)
            elif a.kind == "cleanup":
                done = remove_polecat(town, rig, a.polecat, a.branch, tmux=ctx.tmux)
                ctx.log(f"cleanup {agent.address}: {a.reason}; removed {', '.join(done) or 'nothing'}")
                _event(town, "witness.cleanup", me, rig, {"polecat": a.polecat, "branch": a.branch})
            elif a.kind == "retire":
                _retire(ctx, a, agent)
        except Exception as e:  # noqa: BLE001 - one polecat's failure must not stop the patrol
            ctx.log(f"error on {a.kind} {agent.address}: {e}")
    _ack_protocol_mail(ctx)


def verify_for_merge(town: Town, rig: str, polecat: str, mr: Any) -> str | None:
    """Why the MR's work is not ready to merge (None: it is): the worktree must be clean and the
    branch pushed to the rig's bare repo at the worktree's HEAD, the commit the MR names."""
    from gastown_tui.infra import git

    rp = town.rig(rig)
    branch = mr.data.get("branch") or ""
    pushed = ref_sha(rp.bare_repo, branch) if branch else None
    if not pushed:
        return f"branch {branch or '?'} is not in the rig's repository"
    wt = rp.polecat(polecat)
    if wt.is_dir():
        dirty = [ln for ln in git.status_porcelain(wt).splitlines() if not ln[3:].startswith(".beads")]
        if dirty:
            return "the worktree has uncommitted changes"
        if git.head_sha(wt) != pushed:
            return f"the worktree's HEAD is not what {branch} holds (commits not handed in)"
    want = mr.data.get("commit_sha")
    if want and want != pushed:
        return f"{branch} moved since the MR was filed ({want[:10]} -> {pushed[:10]})"
    return None


def _merge_ready(ctx: WitnessContext, a: Action, agent: Agent) -> None:
    """Verify a finished polecat's MR; only then mark it MERGE_READY (the refinery's gate) and mail it."""
    from gastown_tui.work import escalation, protocol

    store = ctx.store
    mr = store.try_get(a.mr) if a.mr else None
    if mr is None or mr.is_closed:
        return
    problem = verify_for_merge(ctx.town, ctx.rig, a.polecat, mr)
    if problem:
        if problem != mr.data.get("merge_ready_problem"):  # say it once per problem, not every pass
            store.update(mr.id, merge_ready_problem=problem, actor=f"{ctx.rig}/witness")
            nudge_agent(ctx.town, agent, f"[witness] {problem}; commit your work and run `gt done` again "
                        "before it can merge.", ctx.tmux)
            ctx.log(f"{agent.address} is not ready to merge: {problem}; nudged (MR {a.mr} held)")
        return
    store.update(mr.id, merge_ready=True, merge_ready_problem=None, merge_ready_by=f"{ctx.rig}/witness",
                 mr_state="ready", actor=f"{ctx.rig}/witness")
    escalation.notify(ctx.town, f"{ctx.rig}/refinery", protocol.subject("MERGE_READY", a.polecat),
                      protocol.body({"Polecat": a.polecat, "Rig": ctx.rig, "Bead": a.bead, "Branch": a.branch,
                                     "MR": a.mr}), sender=f"{ctx.rig}/witness", ephemeral=True)
    ctx.log(f"MERGE_READY {a.mr} ({a.branch}) -> {ctx.rig}/refinery")


def _retire(ctx: WitnessContext, a: Action, agent: Agent) -> None:
    from gastown_tui.infra import git
    from gastown_tui.work import escalation

    rp = ctx.town.rig(ctx.rig)
    ctx.tmux.kill_session(agent.session)
    merged = True
    if a.branch and git.branch_exists(rp.bare_repo, a.branch):
        base = str(ctx.town.rig_config(ctx.rig).get("default_branch") or "main")
        merged = git.git_ok(["merge-base", "--is-ancestor", a.branch, base], rp.bare_repo)
    wt = rp.polecat(a.polecat)
    clean = not wt.is_dir() or not [ln for ln in git.status_porcelain(wt).splitlines() if ".beads" not in ln]
    if merged and clean:
        done = remove_polecat(ctx.town, ctx.rig, a.polecat, a.branch, tmux=ctx.tmux)
        ctx.log(f"retire {agent.address}: {a.reason}; removed {', '.join(done) or 'nothing'}")
    else:
        escalation.create_escalation(
            ctx.town, f"{agent.address} holds unmerged work for closed bead {a.bead}", severity="low",
            category="other", issue=a.bead, description=f"branch {a.branch} kept; session stopped",
            actor=f"{ctx.rig}/witness", dedupe=True)
        ctx.log(f"retire {agent.address}: {a.reason}; session stopped, unmerged work kept and escalated")
    _event(ctx.town, "witness.retire", f"{ctx.rig}/witness", ctx.rig, {"polecat": a.polecat})


def _ack_protocol_mail(ctx: WitnessContext) -> None:
    """Protocol mail is a wake-up call (the store is the truth): mark it read. A POLECAT_DONE with
    `Status: ESCALATED` (the polecat gave up: `gt done --status ESCALATED`) becomes an escalation;
    HELP is passed up as one too."""
    try:
        from gastown_tui.work import escalation, mail, protocol

        msgs = mail.inbox(ctx.town, f"{ctx.rig}/witness", unread_only=True)
        ids = []
        for m in msgs:
            if m.get("type") not in ("POLECAT_DONE", "MERGED", "MERGE_FAILED", "REWORK_REQUEST", "WITNESS_PING",
                                     "HELP"):
                continue
            ids.append(m["id"])
            fields = protocol.parse_body(m.get("body", ""))
            if m["type"] == "POLECAT_DONE" and fields.get("Status") == "ESCALATED":
                escalation.create_escalation(
                    ctx.town, f"{m['from']} gave up on {fields.get('Bead')}", severity="medium", category="help",
                    issue=fields.get("Bead"), description=fields.get("Note") or fields.get("_text") or "",
                    actor=f"{ctx.rig}/witness", dedupe=True)
                ctx.log(f"escalate {fields.get('Bead')}: {m['from']} finished with Status ESCALATED")
            elif m["type"] == "HELP":
                escalation.create_escalation(
                    ctx.town, f"{m['from']} asks for help on {fields.get('Bead') or 'its work'}",
                    severity="medium", category="help", issue=fields.get("Bead") or None,
                    description=fields.get("Reason") or fields.get("_text") or "",
                    actor=f"{ctx.rig}/witness", dedupe=True)
                ctx.log(f"escalate HELP from {m['from']}")
        if ids:
            mail.ack(ctx.town, ids)
    except Exception as e:  # noqa: BLE001 - mail trouble must not stop the patrol
        ctx.log(f"could not read the witness inbox: {e}")


def _event(town: Town, type: str, actor: str, rig: str, payload: dict[str, Any]) -> None:
    try:
        from gastown_tui.town import events

        events.record(town.root, type, actor=actor, rig=rig, payload=payload)
    except Exception:  # noqa: BLE001
        pass


# --- the loop --------------------------------------------------------------------------------------------

def patrol_once(ctx: WitnessContext, cfg: WitnessConfig, now: float | None = None) -> list[Action]:
    from gastown_tui.agents.heartbeat import write_heartbeat

    now = time.time() if now is None else now
    if ctx.rig not in ctx.town.rigs():  # removed (`gt rig remove`): never recreate its directory
        return []
    facts = observe(ctx)
    memory = load_memory(ctx.town, ctx.rig)
    actions, new_mem = decide(facts, memory, cfg, now)
    save_memory(ctx.town, ctx.rig, new_mem)
    act(ctx, actions, cfg)
    try:
        from gastown_tui.work.handoff import cycle_sessions

        cycle_sessions(ctx.town, ctx.rig, tmux=ctx.tmux, now=now, log=ctx.log)
    except Exception as e:  # noqa: BLE001 - cycling is a courtesy; the patrol goes on
        ctx.log(f"session cycling failed: {e}")
    ping_deacon(ctx.town, ctx.rig, now=now, log=ctx.log)
    write_heartbeat(ctx.town, Agent("witness", ctx.rig).session, role="witness", rig=ctx.rig,
                    polecats=len(facts.polecats), actions=len(actions))
    return actions


def ping_deacon(town: Town, rig: str, *, now: float | None = None, log: Callable[[str], None] = lambda _m: None) -> str | None:
    """WITNESS_PING to the deacon (second-order monitoring), every patrol.

    One ephemeral message per rig, renewed in place (new `Pinged:` time, unread again) rather than
    a new wisp each patrol, so the town's wisps do not grow with uptime. Returns the message id.
    """
    from gastown_tui.work import mail, protocol

    me = f"{rig}/witness"
    ts = time.time() if now is None else now
    body = protocol.body({"Rig": rig, "Pinged": f"{ts:.3f}"})
    try:
        mine = [m for m in mail.inbox(town, "deacon", msg_type="WITNESS_PING") if m.get("from") == me]
        if mine:
            from gastown_tui.beads.store import Store

            store = Store(town.beads_dir, actor=me)
            with store.transaction(actor=me) as tx:
                tx.update(mine[-1]["id"], description=body, actor=me)
                if "read" in tx.get(mine[-1]["id"]).labels:
                    tx.remove_label(mine[-1]["id"], "read")
            return mine[-1]["id"]
        sent = mail.send_mail(town, "deacon", protocol.subject("WITNESS_PING", rig), body, sender=me,
                              ephemeral=True, nudge=False)
        return sent[0]["id"] if sent else None
    except Exception as e:  # noqa: BLE001 - a failed ping must not stop the patrol (the deacon notices)
        log(f"could not ping the deacon: {e}")
        return None


def run(town: Town, rig: str, *, once: bool = False, log: Callable[[str], None] = lambda _m: None,
        cfg: WitnessConfig | None = None, should_stop: Callable[[], bool] = lambda: False) -> None:
    from gastown_tui.patrols.loop import run_patrols

    town.require_rig(rig)
    ctx = WitnessContext(town, rig, log=log)
    run_patrols(f"witness for rig {rig}", lambda c: patrol_once(ctx, c),
                lambda: cfg or WitnessConfig.from_settings(town),
                rest=lambda c: _sleep_or_wake(town, rig, c.patrol_seconds),
                log=log, once=once, should_stop=lambda: should_stop() or rig not in town.rigs())


MIN_PATROL_GAP_SECONDS = 1.0  # a busy store must not turn the loop into a spin


def _sleep_or_wake(town: Town, rig: str, seconds: float) -> None:
    """Sleep until the next patrol, waking early when the rig's store changes (new MR, hook),
    but never sooner than MIN_PATROL_GAP_SECONDS after the call."""
    start = time.monotonic()
    try:
        _wait_for_change(town, rig, seconds)
    finally:
        gap = MIN_PATROL_GAP_SECONDS - (time.monotonic() - start)
        if gap > 0:
            time.sleep(gap)


def _wait_for_change(town: Town, rig: str, seconds: float) -> None:
    try:
        from watchfiles import watch

        beads = town.rig(rig).beads_dir
        for _ in watch(beads, stop_event=None, rust_timeout=int(seconds * 1000), yield_on_timeout=True,
                       debounce=200, step=100, raise_interrupt=True):
            return
    except Exception:  # noqa: BLE001
        time.sleep(seconds)


# --- what the status engine learns from the witness -------------------------------------------------

def progress_probe(town: Town) -> Callable[[], dict]:
    """For the status engine (`agents/status.py`): every agent's hook (`work/hook.py`) and, for a
    polecat, the witness's progress evidence from its memory, so `gt status`, `gt agents status`
    and the cockpit judge a stall exactly as the witness does. Called once per poll."""
    def probe() -> dict:
        from gastown_tui.agents.status import HookFacts
        from gastown_tui.work.hook import hooks_by_agent
        from gastown_tui.work.snapshot import read_issues, store_dirs

        hooks: dict[str, Any] = {}
        for d in store_dirs(town).values():
            for addr, iss in hooks_by_agent(read_issues(d).values()).items():
                hooks.setdefault(addr, iss)
        out = {addr: HookFacts(hooked=True) for addr in hooks}
        for rig in sorted(town.rigs()):
            for name, m in load_memory(town, rig).items():
                addr = Agent("polecat", rig, name).address
                if addr in out:
                    out[addr] = HookFacts(hooked=True, progress=m.last_progress, nudged_at=m.nudged_at)
        return out

    return probe


def status_engine(town: Town, *, tmux=None, clock: Callable[[], float] = time.time, settings=None):
    """The status engine every view uses: the one classifier, fed the witness's evidence."""
    from gastown_tui.agents.status import StatusEngine

    return StatusEngine(town, tmux=tmux, clock=clock, settings=settings, hook_probe=progress_probe(town))
