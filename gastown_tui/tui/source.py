"""Where the cockpit's data comes from and where its actions go.

`TownSource` reads a real town (snapshot, captures, beads) and performs actions by calling the
same functions the CLI calls (sling, nudge, mail, convoys, beads store). `StaticSource` serves a
fixed `TownSnapshot` and canned pane text, so snapshot tests are deterministic. Every method here
may block (tmux, disk, git): the app calls them from worker threads only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gastown_tui.errors import GtError, NotFound, UsageError
from gastown_tui.town.layout import Town
from gastown_tui.work.snapshot import BeadView, TownSnapshot, load_snapshot, read_issues, store_dirs


@dataclass(frozen=True)
class ActionResult:
    """What an action did, in words for the user; `status` is ok / delivered / queued / failed."""

    status: str
    detail: str
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status != "failed"


class Source:
    """The interface the cockpit uses. `StaticSource` and `TownSource` implement it."""

    town: Town | None = None

    def snapshot(self, fresh_panes: bool = True) -> TownSnapshot: raise NotImplementedError
    def capture(self, session: str, lines: int = 2000) -> str | None: raise NotImplementedError
    def beads(self) -> list[BeadView]: raise NotImplementedError
    def sling(self, bead_ids: list[str], target: str) -> ActionResult: raise NotImplementedError
    def nudge(self, address: str, message: str) -> ActionResult: raise NotImplementedError
    def send_mail(self, to: str, subject: str, body: str, sender: str = "overseer",
                  reply_to: str | None = None) -> ActionResult: raise NotImplementedError
    def type_keys(self, address: str, keys: list[tuple[str, str]]) -> ActionResult: raise NotImplementedError
    def mark_read(self, mail_id: str) -> None: raise NotImplementedError
    def create_convoy(self, title: str, bead_ids: list[str]) -> ActionResult: raise NotImplementedError
    def ack_escalation(self, esc_id: str) -> ActionResult: raise NotImplementedError
    def close_escalation(self, esc_id: str) -> ActionResult: raise NotImplementedError
    def escalation_options(self, esc_id: str) -> tuple[str, list[str]]: raise NotImplementedError
    def answer_escalation(self, esc_id: str, option: str) -> ActionResult: raise NotImplementedError
    def restart(self, address: str) -> ActionResult: raise NotImplementedError
    def nuke(self, address: str) -> ActionResult: raise NotImplementedError
    def unsling(self, address: str) -> ActionResult: raise NotImplementedError
    def reassign(self, address: str, target: str) -> ActionResult: raise NotImplementedError
    def mq_retry(self, rig: str, mr_id: str) -> ActionResult: raise NotImplementedError
    def mq_reject(self, rig: str, mr_id: str) -> ActionResult: raise NotImplementedError
    def create_bead(self, rig: str, title: str, issue_type: str = "task", priority: int = 2) -> ActionResult: raise NotImplementedError
    def close_bead(self, bead_id: str) -> ActionResult: raise NotImplementedError
    def diff(self, address: str) -> str: raise NotImplementedError
    def attach_argv(self, session: str) -> list[str]: raise NotImplementedError
    def attach_plan(self, session: str):
        """The gateway's AttachPlan: the argv, whether it takes the terminal, the keys back."""
        from gastown_tui.infra.tmux import AttachPlan

        return AttachPlan(self.attach_argv(session), "attach", "prefix d")
    def watch(self):
        return None

    def output_watch(self, on_output=None):
        """A PaneOutputWatch (infra/watch.py) calling `on_output` when the visible pane prints, or None."""
        return None


class StaticSource(Source):
    """A fixed snapshot and fixed pane texts; actions are recorded, not performed."""

    def __init__(self, snap: TownSnapshot, outputs: dict[str, str] | None = None,
                 beads: list[BeadView] | None = None, diffs: dict[str, str] | None = None) -> None:
        self.snap = snap
        self.outputs = dict(outputs or {})
        self._beads = list(beads if beads is not None else snap.ready)
        self.diffs = dict(diffs or {})
        self.calls: list[tuple] = []

    def snapshot(self, fresh_panes: bool = True) -> TownSnapshot:
        return self.snap

    def capture(self, session: str, lines: int = 2000) -> str | None:
        return self.outputs.get(session)

    def beads(self) -> list[BeadView]:
        return list(self._beads)

    def _record(self, *call) -> ActionResult:
        self.calls.append(call)
        return ActionResult("ok", f"{call[0]} done")

    def sling(self, bead_ids, target):
        self.calls.append(("sling", tuple(bead_ids), target))
        return ActionResult("ok", f"slung {', '.join(bead_ids)} to {target}")

    def nudge(self, address, message):
        self.calls.append(("nudge", address, message))
        return ActionResult("delivered", f"typed into {address} and submitted")

    def send_mail(self, to, subject, body, sender="overseer", reply_to=None):
        return self._record("mail", to, subject, body, reply_to)

    def type_keys(self, address, keys):
        return self._record("keys", address, tuple(keys))

    def mark_read(self, mail_id):
        self.calls.append(("read", mail_id))

    def create_convoy(self, title, bead_ids):
        return self._record("convoy", title, tuple(bead_ids))

    def ack_escalation(self, esc_id):
        return self._record("ack", esc_id)

    def close_escalation(self, esc_id):
        return self._record("close_esc", esc_id)

    escalation_questions: dict[str, tuple[str, list[str]]] = {}

    def escalation_options(self, esc_id):
        return self.escalation_questions.get(esc_id, ("", []))

    def answer_escalation(self, esc_id, option):
        return self._record("answer", esc_id, option)

    def restart(self, address):
        return self._record("restart", address)

    def nuke(self, address):
        return self._record("nuke", address)

    def unsling(self, address):
        return self._record("unsling", address)

    def reassign(self, address, target):
        return self._record("reassign", address, target)

    def mq_retry(self, rig, mr_id):
        return self._record("retry", rig, mr_id)

    def mq_reject(self, rig, mr_id):
        return self._record("reject", rig, mr_id)

    def create_bead(self, rig, title, issue_type="task", priority=2):
        return self._record("create", rig, title, issue_type, priority)

    def close_bead(self, bead_id):
        return self._record("close", bead_id)

    def diff(self, address):
        return self.diffs.get(address, "")

    def attach_argv(self, session):
        return ["tmux", "attach-session", "-t", f"={session}"]


class TownSource(Source):
    """A live town: one pane listing per snapshot, batched captures, the real write paths."""

    def __init__(self, town: Town, *, clock: Callable[[], float] = time.time) -> None:
        from gastown_tui.infra.tmux import Tmux

        self.town = town
        self.clock = clock

        source = self

        class _ListingTmux(Tmux):
            """Remembers its last listing so the snapshot reuses the status engine's one call.
            While the cockpit's control client is attached, the listing travels through it (the
            same command, no tmux process started once a second)."""

            last_panes: dict = {}

            def panes(self):
                from gastown_tui.infra.tmux import PANES_COMMAND_LINE, parse_panes

                w = source._control
                text = w.command(PANES_COMMAND_LINE) if w is not None else None
                self.last_panes = parse_panes(text) if text is not None else super().panes()
                return self.last_panes

        self._control = None  # the PaneOutputWatch of output_watch(), once the cockpit has one
        self.tmux = _ListingTmux(town.tmux_socket)
        self._engine = None
        self._last: tuple[dict, dict[str, str]] | None = None
        self._since: dict[str, float] = {}
        self._facts = AgentFacts(town, clock=clock)

    def _states(self) -> tuple[dict, dict[str, str]]:
        if self._engine is None:
            from gastown_tui.patrols.witness import status_engine

            self._engine = status_engine(self.town, tmux=self.tmux, clock=self.clock)
        try:
            rows = self._engine.poll()
        except GtError:
            return None, {}  # no listing this tick (tmux timed out): not "no sessions"
        self._since = {a: r.status.since for a, r in rows.items()}  # time in state, for agent detail
        return self.tmux.last_panes, {a: r.status.state for a, r in rows.items()}

    def snapshot(self, fresh_panes: bool = True) -> TownSnapshot:
        """The town now; `fresh_panes=False` (a store changed) reuses the last pane listing."""
        if fresh_panes or self._last is None:
            self._last = self._states()
        panes, states = self._last
        snap = load_snapshot(self.town, panes=panes or {}, states=states, clock=self.clock)
        return snap.with_facts(self._facts.of(snap, self._since, panes))

    def capture(self, session: str, lines: int = 2000) -> str | None:
        try:
            return self.tmux.capture_many([session], lines=lines, ansi=True).get(session)
        except GtError:
            return None

    def beads(self) -> list[BeadView]:
        out: list[BeadView] = []
        for rig, d in store_dirs(self.town).items():
            out.extend(BeadView.of(i, rig) for i in read_issues(d).values())
        return out

    # -- actions: the same functions the CLI calls ------------------------------------------------

    def sling(self, bead_ids: list[str], target: str) -> ActionResult:
        from gastown_tui.work.sling import sling

        try:
            got = sling(self.town, list(bead_ids), target)
        except GtError as e:
            return ActionResult("failed", str(e))
        rows = [f"{a.get('bead')} → {getattr(a.get('agent'), 'address', a.get('agent'))}" for a in got.assignments]
        detail = "slung " + (", ".join(rows) or ", ".join(bead_ids))
        if got.convoy:
            detail += f" (convoy {got.convoy})"
        return ActionResult("ok", detail, {"assignments": rows})

    def nudge(self, address: str, message: str) -> ActionResult:
        from gastown_tui.agents.nudge import deliver

        try:
            r = deliver(self.town, address, message, sender="overseer")
        except GtError as e:
            return ActionResult("failed", str(e))
        return ActionResult(r.status, r.detail)

    def type_keys(self, address: str, keys: list[tuple[str, str]]) -> ActionResult:
        from gastown_tui.agents.nudge import type_keys

        try:
            type_keys(self.town, address, keys, tmux=self.tmux)
        except GtError as e:
            return ActionResult("failed", str(e))
        return ActionResult("ok", f"typed into {address}")

    def _town_store(self):
        from gastown_tui.beads.store import open_store

        return open_store(db=self.town.beads_dir)

    def send_mail(self, to: str, subject: str, body: str, sender: str = "overseer",
                  reply_to: str | None = None) -> ActionResult:
        """`gt mail reply` when answering a message, else `gt mail send`."""
        from gastown_tui.work import mail

        try:
            if reply_to:
                got = [mail.reply(self.town, reply_to, body, sender=sender)]
            else:
                got = mail.send_mail(self.town, to, subject, body, sender=sender)
        except GtError as e:
            return ActionResult("failed", str(e))
        return ActionResult("ok", f"mail sent to {to} ({', '.join(str(m['id']) for m in got)})")

    def mark_read(self, mail_id: str) -> None:
        from gastown_tui.work import mail

        mail.read_message(self.town, mail_id)

    def create_convoy(self, title: str, bead_ids: list[str]) -> ActionResult:
        from gastown_tui.work import convoy

        if not bead_ids:
            return ActionResult("failed", "select beads first (space marks a bead in the beads screen)")
        try:
            got = convoy.create_convoy(self.town, title, list(bead_ids), actor="overseer")
        except GtError as e:
            return ActionResult("failed", str(e))
        return ActionResult("ok", f"convoy {got['id']} created tracking {len(bead_ids)} beads")

    def ack_escalation(self, esc_id: str) -> ActionResult:
        from gastown_tui.work import escalation

        try:
            escalation.ack_escalation(self.town, esc_id, actor="overseer")
        except GtError as e:
            return ActionResult("failed", str(e))
        return ActionResult("ok", f"{esc_id} acknowledged")

    # the same functions as `gt escalate close`, `gt polecat nuke`, `gt unsling`, `gt mq retry/reject`
    def _do(self, fn: Callable[[], Any], done: str) -> ActionResult:
        try:
            fn()
        except GtError as e:
            return ActionResult("failed", str(e))
        return ActionResult("ok", done)

    def close_escalation(self, esc_id: str) -> ActionResult:
        from gastown_tui.work import escalation

        return self._do(lambda: escalation.close_escalation(self.town, esc_id, "closed from the cockpit",
                                                            actor="overseer"), f"{esc_id} closed")

    def escalation_options(self, esc_id: str) -> tuple[str, list[str]]:
        from gastown_tui.work import escalation

        d = escalation.to_json(escalation.get_escalation(self.town, esc_id))
        return str(d.get("question") or ""), [str(o) for o in d.get("options") or []]

    def answer_escalation(self, esc_id: str, option: str) -> ActionResult:
        # a decision is answered by closing it with the chosen option as the reason (what
        # `gt escalate close ID --reason` records); the asker reads it from the bead
        from gastown_tui.work import escalation

        return self._do(lambda: escalation.close_escalation(self.town, esc_id, f"decision: {option}",
                                                            actor="overseer"), f"{esc_id} answered: {option}")

    def _agent(self, address: str):
        from gastown_tui.town.identity import parse_address

        return parse_address(address, self.town.rigs())

    def restart(self, address: str) -> ActionResult:
        from gastown_tui.agents.sessions import respawn_agent

        try:
            agent = self._agent(address)
        except GtError as e:
            return ActionResult("failed", str(e))
        return self._do(lambda: respawn_agent(self.town, agent, tmux=self.tmux), f"{address} restarted")

    def nuke(self, address: str) -> ActionResult:
        from gastown_tui.work.nuke import nuke_polecat

        try:
            agent = self._agent(address)
        except GtError as e:
            return ActionResult("failed", str(e))
        if agent.role != "polecat":
            return ActionResult("failed", f"only polecats can be nuked; {address} is a {agent.role}")
        return self._do(lambda: nuke_polecat(self.town, agent.rig, agent.name), f"{address} nuked; its bead reopened")

    def unsling(self, address: str) -> ActionResult:
        from gastown_tui.work.hook import unsling

        try:
            agent = self._agent(address)
            got = unsling(self.town, agent)
        except GtError as e:
            return ActionResult("failed", str(e))
        bead = got.get("bead") or got.get("id") or ""
        return ActionResult("ok", f"unslung {bead} from {address}".replace("  ", " "), {"bead": bead})

    def reassign(self, address: str, target: str) -> ActionResult:
        r = self.unsling(address)
        if not r.ok:
            return r
        bead = r.data.get("bead")
        if not bead:
            return ActionResult("failed", f"{address} had nothing on its hook to reassign")
        s = self.sling([bead], target)
        return ActionResult(s.status, f"{bead}: {address} → {s.detail}" if s.ok else s.detail)

    def mq_retry(self, rig: str, mr_id: str) -> ActionResult:
        from gastown_tui.patrols.refinery import retry_mr

        return self._do(lambda: retry_mr(self.town, rig, mr_id), f"{mr_id} back in the queue")

    def mq_reject(self, rig: str, mr_id: str) -> ActionResult:
        from gastown_tui.patrols.refinery import reject_mr

        return self._do(lambda: reject_mr(self.town, rig, mr_id, "rejected from the cockpit"), f"{mr_id} rejected")

    def create_bead(self, rig: str, title: str, issue_type: str = "task", priority: int = 2) -> ActionResult:
        from gastown_tui.beads.store import open_store

        try:
            d = self.town.beads_dir if rig in ("", "hq") else self.town.require_rig(rig).beads_dir
            iss = open_store(db=d).create(title, type=issue_type, priority=priority, actor="overseer")
        except GtError as e:
            return ActionResult("failed", str(e))
        return ActionResult("ok", f"created {iss.id}", {"id": iss.id})

    def close_bead(self, bead_id: str) -> ActionResult:
        from gastown_tui.beads.routes import store_for_id

        from gastown_tui.work.molecules import close_beads

        try:
            close_beads(store_for_id(self.town.root, bead_id), [bead_id], "closed from the cockpit", actor="overseer")
        except GtError as e:
            return ActionResult("failed", str(e))
        return ActionResult("ok", f"closed {bead_id}")

    def diff(self, address: str) -> str:
        """Commits ahead of the rig's default branch, dirty files, and the worktree's diff — the
        shared `.beads` store left out (its JSONL is bookkeeping, not the agent's change)."""
        from gastown_tui.infra import git
        from gastown_tui.town.identity import parse_address

        try:
            agent = parse_address(address, self.town.rigs())
            wd = agent.workdir(self.town.root)
            if not (wd / ".git").exists():
                return ""
            base = self._facts.base_branch(agent.rig)
            ahead, dirty = git.worktree_facts(wd, base)
            stat = git.run_git(["diff", "--stat", "HEAD", *git.WORK_PATHSPEC], wd, check=False)
            body = git.run_git(["diff", "HEAD", *git.WORK_PATHSPEC], wd, check=False)
            head = f"{ahead} commits ahead of {base} · {dirty} dirty files"
            return (head + "\n\n" + stat + "\n\n" + body).strip()
        except (GtError, UsageError, NotFound):
            return ""

    def attach_argv(self, session: str) -> list[str]:
        return self.tmux.attach_argv(session)

    def attach_plan(self, session: str):
        return self.tmux.attach_plan(session)

    def watch(self):
        from gastown_tui.town.watch import watch_town

        return watch_town(self.town)

    def output_watch(self, on_output=None):
        from gastown_tui.infra.watch import PaneOutputWatch

        self._control = PaneOutputWatch(self.town.tmux_socket, on_output=on_output)
        return self._control


class AgentFacts:
    """Each agent's facts for the tree and the detail, kept cheap (the snapshot worker asks for
    them every second; the key path never does):

    - time in state: the status engine's `since`, already in hand;
    - tokens and cost of the agent's current session (`gt costs --current`: `agent_costs` over
      `session_starts` of the pane listing, so a reused polecat name starts from zero),
      recomputed only when the usage files' fingerprint or the sessions changed, looked at every
      USAGE_CHECK seconds;
    - context %: `work.handoff.context_used` (the witness's own reading of the last reply) over
      `witness.context_window_tokens`;
    - commits ahead and dirty files: `infra.git.worktree_facts`, per worktree only when its pane
      printed since the last look (at most every GIT_MIN s) or GIT_MAX s went by, and at most
      PER_PASS worktrees per pass.

    The reading happens in one background thread at a time (`background=True`), never in the
    snapshot's path: a state change reaches the screen without waiting for git; the facts it
    found show in the next snapshot.
    """

    USAGE_CHECK = 5.0
    GIT_MIN = 15.0
    GIT_MAX = 120.0
    PER_PASS = 4
    SETTINGS_EVERY = 30.0

    def __init__(self, town: Town, *, clock: Callable[[], float] = time.time, background: bool = True) -> None:
        self.town = town
        self.clock = clock
        self.background = background
        self._reading = False
        self._reader = None
        self._job = None
        self._usage: dict[str, dict[str, Any]] = {}
        self._usage_fp: tuple | None = None
        self._usage_at = float("-inf")
        self._looked: dict[str, tuple[float, float, dict[str, Any]]] = {}  # address -> (at, activity, facts)
        self._bases: dict[str, tuple[float, str]] = {}
        self._window: tuple[float, float] = (float("-inf"), 200_000.0)

    def base_branch(self, rig: str | None) -> str:
        from gastown_tui.infra import git

        now = self.clock()
        hit = self._bases.get(rig or "")
        if hit is not None and now - hit[0] < self.GIT_MAX:
            return hit[1]
        base = "main"
        if rig:
            try:
                base = git.default_branch_of(self.town.require_rig(rig).bare_repo) or base
            except Exception:  # noqa: BLE001 - an odd repo: compare with main
                pass
        self._bases[rig or ""] = (now, base)
        return base

    def _context_window(self, now: float) -> float:
        if now - self._window[0] >= self.SETTINGS_EVERY:
            try:
                from gastown_tui.town.config import load_settings

                w = float(load_settings(self.town.root).get("witness.context_window_tokens") or 200_000)
            except Exception:  # noqa: BLE001 - unreadable settings: the default window
                w = 200_000.0
            self._window = (now, w if w > 0 else 200_000.0)
        return self._window[1]

    def _refresh_usage(self, now: float, starts: dict[str, float]) -> None:
        try:
            from gastown_tui.work import costs

            fp = (costs.usage_fingerprint(self.town), tuple(sorted(starts.items())))
            if fp != self._usage_fp:
                self._usage = costs.agent_costs(self.town, sessions=starts)
                self._usage_fp = fp
        except Exception:  # noqa: BLE001 - no usage data is not an error in the cockpit
            pass

    def _look(self, a, now: float) -> dict[str, Any]:
        """Context and git facts of one agent (blocking: git, a transcript's tail)."""
        from gastown_tui.town.identity import Agent

        out: dict[str, Any] = {}
        agent = Agent(a.role, a.rig, a.name)
        try:
            from gastown_tui.work.handoff import context_used

            used = context_used(self.town, agent)
            if used is not None:
                out["context_pct"] = min(999, round(used * 100 / self._context_window(now)))
        except Exception:  # noqa: BLE001 - no transcript: unknown
            pass
        if a.role in ("polecat", "crew"):
            try:
                from gastown_tui.infra import git

                wd = agent.workdir(self.town.root)
                if (wd / ".git").exists():
                    out["ahead"], out["dirty"] = git.worktree_facts(wd, self.base_branch(a.rig))
            except Exception:  # noqa: BLE001 - a worktree half gone (being nuked): unknown
                pass
        return out

    def _read(self, usage_due: dict[str, float] | None, agents: list, now: float) -> None:
        try:
            if usage_due is not None:
                self._refresh_usage(now, usage_due)
            for a in agents:
                self._looked[a.address] = (now, a.activity, self._look(a, now))
        finally:
            self._reading = False

    def _start_reading(self, snap: TownSnapshot, now: float, panes) -> None:
        """Read what is due (usage, up to PER_PASS worktrees), in the background when allowed."""
        if self._reading:
            return
        usage_due = None  # when due: the sessions' starts (address -> epoch) to count usage from
        if panes is not None and now - self._usage_at >= self.USAGE_CHECK:  # (None: the listing failed;
            self._usage_at = now  # counting from no sessions would blank every agent's costs)
            try:
                from gastown_tui.work.costs import session_starts

                usage_due = session_starts(self.town, panes)
            except Exception:  # noqa: BLE001 - an unreadable town: no usage this pass
                usage_due = None
        due = []
        for a in snap.agents:
            if a.role not in ("mayor", "polecat", "crew"):
                continue
            hit = self._looked.get(a.address)
            if hit is None or now - hit[0] >= self.GIT_MAX or (a.activity != hit[1] and now - hit[0] >= self.GIT_MIN):
                due.append((hit[0] if hit else float("-inf"), a.address, a))
        agents = [a for _at, _addr, a in sorted(due, key=lambda d: (d[0], d[1]))[:self.PER_PASS]]
        if usage_due is None and not agents:
            return
        self._reading = True
        if not self.background:
            self._read(usage_due, agents, now)
            return
        # one long-lived reader thread, woken per pass (a thread per pass costs its own malloc arena)
        import threading

        self._job = (usage_due, agents, now)
        if self._reader is None:
            self._wake = threading.Event()
            self._reader = threading.Thread(target=self._reader_loop, name="agent-facts", daemon=True)
            self._reader.start()
        self._wake.set()

    def _reader_loop(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            job, self._job = self._job, None
            if job is not None:
                self._read(*job)

    def of(self, snap: TownSnapshot, since: dict[str, float], panes=None) -> dict[str, dict[str, Any]]:
        """The facts known now (never waits for git or logs: what is due is read meanwhile).
        `panes`: the snapshot's pane listing (sessions' starts: usage is per session); None when
        there is none this time (usage is then not re-counted)."""
        now = self.clock()
        self._start_reading(snap, now, panes)
        alive = {a.address for a in snap.agents}
        for gone in [k for k in list(self._looked) if k not in alive]:
            self._looked.pop(gone, None)
        out: dict[str, dict[str, Any]] = {}
        for a in snap.agents:
            f: dict[str, Any] = {}
            if a.address in since:
                f["since"] = since[a.address]
            u = self._usage.get(a.address)
            if u:
                f["tokens"] = sum(int(u.get(k) or 0) for k in ("input_tokens", "output_tokens", "cache_read_tokens",
                                                               "cache_write_tokens"))
                f["cost_usd"] = round(float(u.get("cost_usd") or 0.0), 4)
                f["simulated"] = bool(u.get("simulated"))
            hit = self._looked.get(a.address)
            if hit:
                f.update(hit[2])
            if f:
                out[a.address] = f
        return out


def prefetch_snapshot(source: Source):
    """Start loading the first snapshot in a thread; returns its Future. The cockpit takes it
    as its first snapshot, so the load overlaps Textual's start (its tmux and file reads even
    Textual's import, when started before it: `gt tui`)."""
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(1, thread_name_prefix="first-snapshot")
    first = pool.submit(source.snapshot, True)
    pool.shutdown(wait=False)
    return first


def default_runner(argv: list[str]) -> int:
    """Run `argv` in the foreground on the user's terminal (the cockpit is suspended meanwhile)."""
    from gastown_tui.infra.tmux import run_foreground

    return run_foreground(argv)


def town_path(town: Town | None) -> Path | None:
    return town.root if town else None
