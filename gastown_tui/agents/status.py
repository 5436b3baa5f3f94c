"""The one agent-state classifier: what is each agent doing? (dead, starting, working, idle, waiting, stalled)

The witness, the status engine, `gt status`, `gt agents status` and the cockpit all decide here.
Thresholds come only from settings (`witness.stall_seconds`, `deacon.heartbeat_stale_seconds`).
Stall is judged from progress evidence (the pane's last output unless it is the echo of our own
nudge, plus the commits and bead updates the witness remembers), never with a threshold near
tmux's 1 s activity clock: `is_stalled` applies MIN_STALL_SECONDS and one clock tick of slack.

The core is pure: `raw_state(sample, runtime, now)` reads one pane sample, strongest signal
first (pane missing or dead; the runtime's permission / busy / ready patterns on its last
lines; output activity; age of the session; hook progress), and `classify` adds history:

- idle and waiting are confirmed on two consecutive samples before they are reported;
- on unchanged input (same screen, same pane state) the state never flips more than once per
  10 s (HYSTERESIS_SECONDS), so a cockpit does not flap;
- dead is reported at once (and leaving dead too: a restarted agent is news).

`StatusEngine.poll()` costs ONE `list-panes -a` call plus ONE batched capture of only the panes
whose output changed since their last capture, whatever the number of agents.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from gastown_tui.infra.tmux import PaneInfo, Tmux
from gastown_tui.town.identity import Agent, agent_from_session
from gastown_tui.town.layout import Town

STATES = ("dead", "starting", "working", "idle", "waiting", "stalled")
OFF = "off"  # an expected agent with no session and no work: not running, nothing wrong
# "b" in the cockpit jumps to the next agent in one of these, most urgent first.
ATTENTION = ("waiting", "stalled", "dead")
CONFIRMED_STATES = ("idle", "waiting")
HYSTERESIS_SECONDS = 10.0
STARTUP_GRACE_SECONDS = 30.0
ACTIVE_SECONDS = 10.0
PATROL_RUNTIME = "patrol"  # the @gt_runtime of deacon/witness/refinery loop sessions
PATROL_STALE_SECONDS = 120.0  # default of deacon.heartbeat_stale_seconds
EXPLAINED_BY_EXIT = ("dead", "starting", "waiting")  # states a recent death helps explain
RECENT_EXIT_SECONDS = 3600.0
ACTIVITY_CLOCK_SECONDS = 1.0  # resolution of tmux's #{window_activity}
MIN_STALL_SECONDS = 5.0  # five ticks of that clock: a lower setting would judge the clock, not the agent
NUDGE_ECHO_SECONDS = 5.0  # our own nudge echoes in the pane: output this soon after it is not progress


def _setting(settings, key: str) -> float:
    if settings is None:
        from gastown_tui.town.config import key_spec

        return float(key_spec(key).default)
    return float(settings.get(key))


def stall_seconds_of(settings=None) -> float:
    """`witness.stall_seconds` (its declared default without settings), never below MIN_STALL_SECONDS."""
    return max(_setting(settings, "witness.stall_seconds"), MIN_STALL_SECONDS)


def patrol_stale_seconds_of(settings=None) -> float:
    return _setting(settings, "deacon.heartbeat_stale_seconds")


def progress_at(activity: float | None, remembered: float | None, nudged_at: float | None) -> float | None:
    """When the agent last showed progress: its pane's last output, unless that output may be the
    echo of our own nudge, or what was remembered (commits, bead updates seen earlier).

    After a nudge only output later than NUDGE_ECHO_SECONDS counts: the activity clock truncates
    to whole seconds, so the echo may even look older than the nudge (earlier output was already
    remembered)."""
    out = remembered
    if activity and (nudged_at is None or activity > nudged_at + NUDGE_ECHO_SECONDS):
        out = activity if out is None else max(out, activity)
    return out


def is_stalled(progress: float | None, now: float, stall_seconds: float) -> bool:
    """No progress for longer than the threshold (floored, plus one tick of the activity clock)."""
    return progress is not None and now - progress > max(stall_seconds, MIN_STALL_SECONDS) + ACTIVITY_CLOCK_SECONDS



@dataclass(frozen=True)
class PaneSample:
    """What one look at an agent's pane shows."""

    session: str
    exists: bool = True
    dead: bool = False
    dead_status: int | None = None
    text: str = ""  # visible screen, plain or with ANSI (stripped here)
    activity: float = 0.0  # epoch of the last output
    created: float = 0.0  # epoch the session started
    hooked: bool = False  # the agent has work on its hook
    progress: float | None = None  # epoch of the last progress on the hook the witness saw (commit, bead update, output)
    nudged_at: float | None = None  # when the witness last nudged it about a stall
    patrol: bool = False  # a deterministic patrol loop (deacon, witness, refinery): judged by heartbeat
    heartbeat: float | None = None  # epoch of the patrol's last heartbeat

    @classmethod
    def from_pane(cls, pane: PaneInfo | None, text: str = "", *, hooked: bool = False,
                  progress: float | None = None, session: str = "", heartbeat: float | None = None,
                  nudged_at: float | None = None) -> PaneSample:
        if pane is None:
            return cls(session=session, exists=False, hooked=hooked)
        return cls(session=pane.session, dead=pane.dead, dead_status=pane.dead_status, text=text,
                   activity=pane.activity, created=pane.created, hooked=hooked, progress=progress,
                   patrol=pane.runtime == PATROL_RUNTIME, heartbeat=heartbeat, nudged_at=nudged_at)

    def fingerprint(self) -> tuple:
        return (self.exists, self.dead, self.text, self.hooked, self.heartbeat)


@dataclass(frozen=True)
class HookFacts:
    """What the layers above know about one agent's hook: whether it holds work, and the
    witness's progress evidence for it (`patrols/witness.progress_probe`)."""

    hooked: bool = False
    progress: float | None = None
    nudged_at: float | None = None


@dataclass(frozen=True)
class AgentStatus:
    state: str
    reason: str
    since: float  # when this state was first reported
    candidate: str = ""  # a state seen but not yet confirmed
    samples: int = 0  # consecutive samples showing `candidate`
    fingerprint: tuple = field(default=(), compare=False, repr=False)
    basis: tuple = field(default=(), compare=False, repr=False)  # the input when `state` began

    def to_json(self) -> dict:
        return {"state": self.state, "reason": self.reason, "since": self.since,
                "pending": self.candidate if self.candidate and self.candidate != self.state else None}


def _last_lines(text: str, n: int) -> list[str]:
    from gastown_tui.infra.termtext import clean  # the one terminal-text sanitizer

    lines = [ln.rstrip() for ln in clean(text).split("\n")]
    lines = [ln for ln in lines if ln.strip()]
    return lines[-n:] if n > 0 else lines


def _ago(seconds: float) -> str:
    s = max(0, int(seconds))
    if s < 120:
        return f"{s}s"
    if s < 7200:
        return f"{s // 60}m"
    return f"{s // 3600}h"


def raw_state(sample: PaneSample, runtime, now: float, *,
              stall_seconds: float | None = None,
              patrol_stale_seconds: float | None = None) -> tuple[str, str]:
    """(state, reason) from one sample alone, strongest signal first. Thresholds default to the
    settings' declared defaults; callers pass the town's (`StatusEngine` does)."""
    stall_seconds = stall_seconds_of() if stall_seconds is None else stall_seconds
    patrol_stale_seconds = patrol_stale_seconds_of() if patrol_stale_seconds is None else patrol_stale_seconds
    if not sample.exists:
        return "dead", "no tmux session"
    if sample.dead:
        from gastown_tui.agents.exits import summarize
        from gastown_tui.infra.termtext import clean

        last = summarize(clean(sample.text), sample.dead_status)["last_line"]
        return "dead", f"process exited (status {sample.dead_status})" + (f": {last[:160]}" if last else "")
    if sample.patrol:
        # A patrol loop has no prompt to read; its heartbeat file is the signal.
        if sample.heartbeat is None:
            age = now - sample.created if sample.created else float("inf")
            if age < STARTUP_GRACE_SECONDS:
                return "starting", "patrol loop starting, no heartbeat yet"
            return "stalled", f"patrol loop running {_ago(age)} without a heartbeat"
        beat_age = max(0.0, now - sample.heartbeat)
        if beat_age <= patrol_stale_seconds:
            return "working", f"patrolling (heartbeat {_ago(beat_age)} ago)"
        return "stalled", f"patrol heartbeat is {_ago(beat_age)} old"
    quiet = now - sample.activity if sample.activity else 0.0
    lines = _last_lines(sample.text, max(getattr(runtime, "status_lines", 12), 1)) if runtime else []
    if runtime is not None and lines:
        hit = runtime.match("permission", lines)
        if hit:
            return "waiting", f"asks for permission: {hit.strip()[:80]}"
    # Hooked work the witness watches: its progress evidence decides, whatever the screen shows
    # (a busy indicator, or the echo of the witness's own nudge, is not progress).
    progress = progress_at(sample.activity, sample.progress, sample.nudged_at) if sample.progress is not None else None
    if sample.hooked and is_stalled(progress, now, stall_seconds):
        return "stalled", f"hooked work with no progress for {_ago(now - progress)}"
    if runtime is not None and lines:
        hit = runtime.match("busy", lines)
        if hit:
            if sample.activity and is_stalled(sample.activity, now, stall_seconds):
                return "stalled", f"busy indicator but no output for {_ago(quiet)}"
            return "working", f"busy: {hit.strip()[:80]}"
        hit = runtime.match("ready", lines)
        if hit:
            return "idle", "at its prompt"
    age = now - sample.created if sample.created else float("inf")
    if age < STARTUP_GRACE_SECONDS:
        return "starting", f"started {_ago(age)} ago, no prompt yet"
    if quiet < ACTIVE_SECONDS:
        return "working", f"output {_ago(quiet)} ago"
    if sample.activity and is_stalled(sample.activity, now, stall_seconds):
        return "stalled", f"no output for {_ago(quiet)} and no recognised prompt"
    return "working", f"no recognised prompt; last output {_ago(quiet)} ago"


def listing_state(pane: PaneInfo | None, now: float, *, hook: HookFacts | None = None,
                  stall_seconds: float | None = None) -> str:
    """The state of an agent the status engine has no row for: "off" (no session, no work) or
    "dead" (no session but work on its hook, which the witness restarts), else `raw_state` of
    its listing row alone (no screen text, no history)."""
    hook = hook or HookFacts()
    if pane is None:
        return "dead" if hook.hooked else OFF
    sample = PaneSample.from_pane(pane, "", hooked=hook.hooked, progress=hook.progress, nudged_at=hook.nudged_at)
    return raw_state(sample, None, now, stall_seconds=stall_seconds)[0]


def classify(sample: PaneSample, runtime, prev: AgentStatus | None, now: float, *,
             stall_seconds: float | None = None,
             patrol_stale_seconds: float | None = None) -> AgentStatus:
    """The reported status, given the previous one (None for the first sample)."""
    state, reason = raw_state(sample, runtime, now, stall_seconds=stall_seconds,
                              patrol_stale_seconds=patrol_stale_seconds)
    fp = sample.fingerprint()
    if prev is None:
        return AgentStatus(state, reason, now, candidate=state, samples=1, fingerprint=fp, basis=fp)
    samples = prev.samples + 1 if prev.candidate == state else 1
    if state == prev.state:
        return AgentStatus(state, reason, prev.since, candidate=state, samples=samples, fingerprint=fp,
                           basis=prev.basis)
    immediate = state == "dead" or prev.state == "dead"
    if not immediate:
        if state in CONFIRMED_STATES and samples < 2:
            return replace(prev, candidate=state, samples=samples, fingerprint=fp)  # to_json shows it pending
        # Same input as when the current state began: only time moved, so hold it a while.
        if fp == prev.basis and now - prev.since < HYSTERESIS_SECONDS:
            return replace(prev, candidate=state, samples=samples, fingerprint=fp)
    return AgentStatus(state, reason, now, candidate=state, samples=samples, fingerprint=fp, basis=fp)


@dataclass
class _Track:
    agent: Agent | None
    runtime_name: str
    text: str = ""
    activity: float = -1.0
    captured_at: float = 0.0
    status: AgentStatus | None = None


@dataclass(frozen=True)
class AgentRow:
    """One line of `gt agents status`: who, where, and what it is doing."""

    address: str
    session: str
    runtime: str
    status: AgentStatus
    last_exit: dict | None = None  # a recent death's record (`agents.exits`), while dead or starting again

    @property
    def explanation(self) -> str:
        """The reason, with how it last died when that explains a dead or restarting agent."""
        from gastown_tui.agents.exits import describe

        reason = self.status.reason
        if self.last_exit and self.status.state != "dead":
            reason += f"; last {describe(self.last_exit)}"
        return reason

    def to_json(self, explain: bool = True) -> dict:
        d = {"address": self.address, "session": self.session, "runtime": self.runtime, **self.status.to_json()}
        if not explain:
            d.pop("reason", None)
        else:
            d["last_exit"] = self.last_exit
        return d


class StatusEngine:
    """Keeps per-agent history; each `poll()` is one listing plus one batched capture at most.

    `hook_probe() -> {address: HookFacts}` (called once per poll) adds the hook and the witness's
    progress evidence to the signals; without it only the pane is used.
    """

    def __init__(self, town: Town, *, tmux: Tmux | None = None, settings=None,
                 clock: Callable[[], float] = time.time,
                 hook_probe: Callable[[], Mapping[str, HookFacts]] | None = None) -> None:
        self.town = town
        self.tmux = tmux or Tmux.for_town(town)
        if settings is None:
            from gastown_tui.town.config import load_settings

            settings = load_settings(town.root)
        self.settings = settings
        self.clock = clock
        self.hook_probe = hook_probe
        self.stall_seconds = stall_seconds_of(settings)
        self.patrol_stale_seconds = patrol_stale_seconds_of(settings)
        self._tracks: dict[str, _Track] = {}
        self._runtimes: dict[str, object] = {}

    def _heartbeat(self, session: str) -> float | None:
        from gastown_tui.agents.heartbeat import read_heartbeat

        beat = read_heartbeat(self.town, session)
        return float(beat["ts"]) if beat else None

    def _runtime(self, name: str):
        if name == PATROL_RUNTIME:
            return None  # judged by heartbeat, not by screen patterns
        if name not in self._runtimes:
            from gastown_tui.agents.runtimes import get_runtime
            from gastown_tui.errors import UsageError

            try:
                self._runtimes[name] = get_runtime(name or "claude", self.settings)
            except UsageError:
                self._runtimes[name] = get_runtime("claude")
        return self._runtimes[name]

    def poll(self, panes: dict[str, PaneInfo] | None = None) -> dict[str, AgentRow]:
        """Sample every agent session once; returns rows by address (sessions of other
        programs on the server are listed under their session name). A caller that has just
        listed the panes passes them in, so the listing is not taken twice."""
        now = self.clock()
        panes = self.tmux.panes() if panes is None else panes
        rigs = self.town.rigs() if self.town.rigs_json.exists() else {}
        need: list[str] = []
        for session, pane in panes.items():
            tr = self._tracks.get(session)
            if tr is None:
                tr = self._tracks[session] = _Track(agent_from_session(session, rigs), pane.runtime)
            tr.runtime_name = pane.runtime or tr.runtime_name
            # window_activity has 1 s resolution: re-capture while output is that fresh.
            if pane.dead or pane.activity != tr.activity or pane.activity >= tr.captured_at - 1.0:
                need.append(session)
        dead = [s for s in need if panes[s].dead]
        live = [s for s in need if not panes[s].dead]
        texts = self.tmux.capture_many(live, ansi=False) if live else {}
        if dead:
            from gastown_tui.agents.exits import dead_screens

            texts.update(dead_screens(self.tmux, dead))
        hooks = self.hook_probe() if self.hook_probe is not None else {}
        rows: dict[str, AgentRow] = {}
        for session, tr in list(self._tracks.items()):
            pane = panes.get(session)
            if session in texts:
                tr.text = texts[session]
                tr.captured_at = now
                tr.activity = pane.activity if pane else tr.activity
            hook = hooks.get(tr.agent.address) if tr.agent is not None else None
            hook = hook or HookFacts()
            beat = self._heartbeat(session) if pane is not None and pane.runtime == PATROL_RUNTIME else None
            sample = PaneSample.from_pane(pane, tr.text, hooked=hook.hooked, progress=hook.progress,
                                          session=session, heartbeat=beat, nudged_at=hook.nudged_at)
            tr.status = classify(sample, self._runtime(tr.runtime_name), tr.status, now,
                                 stall_seconds=self.stall_seconds,
                                 patrol_stale_seconds=self.patrol_stale_seconds)
            address = tr.agent.address if tr.agent else session
            last = None
            if tr.status.state in EXPLAINED_BY_EXIT:
                from gastown_tui.agents.exits import last_exit

                last = last_exit(self.town.root, session)
                if last is not None and now - float(last.get("ts") or 0) > RECENT_EXIT_SECONDS:
                    last = None
            rows[address] = AgentRow(address, session, tr.runtime_name, tr.status, last)
            if pane is None and tr.status.state == "dead" and now - tr.status.since > 3600:
                del self._tracks[session]  # forget sessions gone for an hour
        return rows
