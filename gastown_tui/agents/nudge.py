"""Nudges: typing a message into an agent's running session, verified (DESIGN §8).

Protocol, per session under an flock (`.runtime/locks/nudge-<session>.lock`) so concurrent
senders never interleave: strip control characters and escape sequences (newlines and tabs stay)
-> leave copy mode -> paste through a private tmux buffer (bracketed when the program asked for
it) -> wait until the text shows at the cursor (or a short delay scaled to its length) -> the
runtime's submit keys -> verify: the screen changed and the text no longer sits at the cursor;
retry the submit with backoff -> report honestly: delivered, queued or failed.

Queue and do-not-disturb live in `.runtime/`: `nudge_queue/<session>.jsonl` (drained in order
by `drain_queue` when the agent is idle) and `dnd/<session>` (present = on).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

from gastown_tui.errors import UsageError
from gastown_tui.infra.fsutil import append_line, atomic_write_text, file_lock
from gastown_tui.infra.safepath import confine
from gastown_tui.infra.tmux import Screen, Tmux
from gastown_tui.town.identity import Agent, parse_address
from gastown_tui.town.layout import Town

MODES = ("immediate", "wait-idle", "queue")

_WS = re.compile(r"\s+")


@dataclass(frozen=True)
class NudgeResult:
    status: str  # "delivered" | "queued" | "failed"
    detail: str
    session: str = ""
    attempts: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status in ("delivered", "queued")

    def to_json(self) -> dict:
        return {"status": self.status, "detail": self.detail, "session": self.session,
                "attempts": self.attempts, "seconds": round(self.seconds, 3)}


def sanitize(text: str) -> str:
    """The text as it will be typed: escape sequences and control characters removed."""
    from gastown_tui.infra.termtext import clean  # the one terminal-text sanitizer

    return clean(text.replace("\r\n", "\n").replace("\r", "\n"))


def _agent(town: Town, target: str | Agent) -> Agent:
    if isinstance(target, Agent):
        return target
    return parse_address(target, town.rigs())


# -- DND and the queue --------------------------------------------------------------------------

def _dnd_path(town: Town, agent: Agent) -> Path:
    return confine(town.runtime_dir / "dnd", agent.session, what="session name")


def set_dnd(town: Town, agent: str | Agent, on: bool) -> None:
    path = _dnd_path(town, _agent(town, agent))
    if on:
        atomic_write_text(path, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()) + "\n")
    else:
        path.unlink(missing_ok=True)


def is_dnd(town: Town, agent: str | Agent) -> bool:
    return _dnd_path(town, _agent(town, agent)).exists()


def _lock_path(town: Town, agent: Agent) -> Path:
    return confine(town.locks_dir, f"nudge-{agent.session}.lock", what="session name")


def _queue_path(town: Town, agent: Agent) -> Path:
    return confine(town.runtime_dir / "nudge_queue", f"{agent.session}.jsonl", what="session name")


def queued(town: Town, agent: str | Agent) -> list[dict]:
    path = _queue_path(town, _agent(town, agent))
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in lines if line.strip()]


def enqueue(town: Town, agent: str | Agent, message: str, *, sender: str | None = None) -> NudgeResult:
    """Append to the agent's queue and verify it is there (read back)."""
    agent = _agent(town, agent)
    text = sanitize(message)
    path = _queue_path(town, agent)
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = {"ts": time.time(), "from": sender or "", "text": text, "id": f"{time.time_ns():x}"}
    append_line(path, json.dumps(entry, ensure_ascii=False))
    if not any(e.get("id") == entry["id"] for e in queued(town, agent)):
        return NudgeResult("failed", f"could not queue the message in {path}", agent.session)
    return NudgeResult("queued", f"queued for {agent.address} ({len(queued(town, agent))} waiting)", agent.session)


def drain_queue(town: Town, agent: str | Agent, *, tmux: Tmux | None = None, force: bool = False) -> int:
    """Deliver queued messages in order while the agent is idle; return how many were delivered.

    Stops at the first message that cannot be verified (it stays queued). Does nothing under DND
    unless `force`.
    """
    agent = _agent(town, agent)
    if not force and is_dnd(town, agent):
        return 0
    tm = tmux or Tmux.for_town(town)
    with file_lock(_lock_path(town, agent)):
        return _drain_locked(town, agent, tm)


def _drain_locked(town: Town, agent: Agent, tm: Tmux) -> int:
    path = _queue_path(town, agent)
    if not path.exists():
        return 0
    rt = _runtime_for(town, tm, agent.session)
    if rt is None or _current_state(tm, agent.session, rt) not in ("idle",):
        return 0
    sent = 0
    with file_lock(path.with_suffix(".lock")):
        entries = queued(town, agent)
        for entry in entries:
            res = _send(tm, agent.session, entry["text"], rt, _verify_timeout(town))
            if res.status != "delivered":
                break
            sent += 1
        rest = entries[sent:]
        if rest:
            atomic_write_text(path, "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in rest))
        else:
            path.unlink(missing_ok=True)
    return sent


# -- delivery -----------------------------------------------------------------------------------

def _verify_timeout(town: Town) -> float:
    from gastown_tui.town.config import load_settings

    try:
        return float(load_settings(town.root).get("nudge.verify_timeout_seconds") or 5.0)
    except Exception:
        return 5.0


def _runtime_for(town: Town, tm: Tmux, session: str):
    from gastown_tui.agents.runtimes import get_runtime
    from gastown_tui.town.config import load_settings

    pane = tm.panes().get(session)
    if pane is None or pane.dead:
        return None
    try:
        return get_runtime(pane.runtime or "claude", load_settings(town.root))
    except UsageError:
        return get_runtime("claude")


def _current_state(tm: Tmux, session: str, rt) -> str:
    """One-shot state from the pane text (no history), used to wait for idle."""
    from gastown_tui.agents.status import PaneSample, raw_state

    pane = tm.panes().get(session)
    if pane is None:
        return "dead"
    text = tm.capture_many([session], ansi=False).get(session, "")
    state, _ = raw_state(PaneSample.from_pane(pane, text), rt, time.time())
    return state


def is_busy(town: Town, agent: Agent, *, tmux: Tmux | None = None) -> bool:
    """True when the agent's screen says it is working right now (so a nudge should queue)."""
    tm = tmux or Tmux.for_town(town)
    rt = _runtime_for(town, tm, agent.session)
    return _current_state(tm, agent.session, rt) == "working"


def deliver(town: Town, target: str | Agent, message: str, mode: str = "immediate", force: bool = False,
            *, sender: str | None = None, wait_timeout: float = 120.0, tmux: Tmux | None = None) -> NudgeResult:
    """Send `message` to an agent and say honestly what happened.

    immediate: type it now. wait-idle: wait (up to `wait_timeout`) for the agent's ready prompt,
    then type it; still busy at the deadline -> queued. queue: put it in the agent's queue.
    DND queues instead of typing unless `force`. Bad addresses and empty messages raise
    UsageError; everything else comes back as a NudgeResult.
    """
    if mode not in MODES:
        raise UsageError(f"'{mode}' is not a nudge mode", hint="use immediate, wait-idle or queue")
    agent = _agent(town, target)
    if agent.role == "overseer":
        raise UsageError("the overseer is the human and has no session", hint="send mail instead: gt mail send overseer")
    text = sanitize(message)
    if not text.strip():
        raise UsageError("the nudge message is empty", hint="give the text as an argument or with --stdin")
    if mode == "queue":
        return enqueue(town, agent, text, sender=sender)
    if is_dnd(town, agent) and not force:
        res = enqueue(town, agent, text, sender=sender)
        if res.status == "queued":
            return NudgeResult("queued", f"{agent.address} is in do-not-disturb; {res.detail} (use --force to interrupt)", agent.session)
        return res
    tm = tmux or Tmux.for_town(town)
    start = time.monotonic()
    pane = tm.panes().get(agent.session)
    if pane is None:
        return NudgeResult("failed", f"{agent.address} has no running session ({agent.session})", agent.session)
    if pane.dead:
        return NudgeResult("failed", f"{agent.address}'s process has exited (status {pane.dead_status})", agent.session)
    rt = _runtime_for(town, tm, agent.session)
    if mode == "wait-idle":
        deadline = start + wait_timeout
        idle_seen = 0
        while True:
            state = _current_state(tm, agent.session, rt)
            if state == "dead":
                return NudgeResult("failed", f"{agent.address} died while we waited for it to be idle", agent.session)
            idle_seen = idle_seen + 1 if state == "idle" else 0
            if idle_seen >= 2:  # two samples agree: it is really at its prompt
                break
            if time.monotonic() > deadline:
                res = enqueue(town, agent, text, sender=sender)
                if res.status == "queued":
                    return NudgeResult("queued", f"{agent.address} still busy after {wait_timeout:.0f}s; {res.detail}", agent.session)
                return res
            time.sleep(0.1 if idle_seen else 0.25)
    with file_lock(_lock_path(town, agent)):
        if _queue_path(town, agent).exists() and not is_dnd(town, agent):
            _drain_locked(town, agent, tm)  # older queued nudges go first, in order (--force under DND sends only this one)
        res = _send(tm, agent.session, text, rt, _verify_timeout(town))
    return NudgeResult(res.status, res.detail, agent.session, res.attempts, time.monotonic() - start)


def _tail(text: str) -> str:
    """The last characters of the message's last non-blank line: what sits at the cursor."""
    lines = [ln.rstrip() for ln in text.split("\n") if ln.strip()]
    last = _WS.sub(" ", lines[-1]) if lines else ""
    return last[-16:].strip()


def _pending(screen: Screen, tail: str) -> bool:
    """The text still sits unsent where the cursor is."""
    if not tail:
        return False
    return tail in _WS.sub(" ", screen.cursor_text())


def _same(a: Screen, b: Screen) -> bool:
    return a.rows == b.rows and (a.cursor_x, a.cursor_y) == (b.cursor_x, b.cursor_y)


def _send(tm: Tmux, session: str, text: str, rt, verify_timeout: float) -> NudgeResult:
    """Paste, submit, verify, retrying the submit with backoff. The caller holds the lock."""
    submit = tuple(rt.submit_keys) if rt is not None else ("Enter",)
    tail = _tail(text)
    try:
        before = tm.screen(session)
        tm.paste(session, text, bracketed=True)
        # Wait until the pasted text shows at the cursor (programs echo input); a program that
        # does not echo (busy) gets a short delay scaled to the length instead.
        settle = 0.15 + min(len(text) / 8000.0, 0.6)
        t0 = time.monotonic()
        typed = tm.screen(session)
        while not _pending(typed, tail) and time.monotonic() - t0 < settle:
            time.sleep(0.01)
            typed = tm.screen(session)
        attempts = 0
        backoff = 0.25
        deadline = time.monotonic() + verify_timeout
        while True:
            tm.send_keys(session, *submit)
            attempts += 1
            next_retry = time.monotonic() + backoff
            while time.monotonic() < min(next_retry, deadline):
                time.sleep(0.01)
                now = tm.screen(session)
                if not _pending(now, tail) and not _same(now, typed) and not _same(now, before):
                    return NudgeResult("delivered", f"delivered to {session} and verified on screen", session, attempts)
            if time.monotonic() >= deadline:
                now = tm.screen(session)
                if _pending(now, tail):
                    why = "the text is still sitting in its input line"
                else:
                    why = "its screen did not change after submit"
                return NudgeResult("failed", f"not verified: {why} after {attempts} submit attempts "
                                   f"({verify_timeout:.0f}s)", session, attempts)
            backoff = min(backoff * 2, 2.0)
    except Exception as e:  # the session vanished mid-send
        from gastown_tui.errors import GtError

        if isinstance(e, GtError):
            return NudgeResult("failed", f"could not type into {session}: {e}", session)
        raise


# Keys the cockpit's input mode may send by name (everything else is typed as sanitised text).
TYPE_KEY_NAMES = frozenset({"Enter", "BSpace", "Tab", "BTab", "Up", "Down", "Left", "Right", "Home", "End",
                            "PPage", "NPage", "DC", "C-c", "C-d", "C-u", "C-l", "C-a", "C-e", "C-w", "C-r"})


def type_keys(town: Town, target: str | Agent, keys: list[tuple[str, str]], *, tmux: Tmux | None = None) -> None:
    """Type keys into an agent's pane as a user at its terminal would (the cockpit's input mode),
    under the same per-session lock as nudges so the two never interleave. `keys` are
    ("text", s) — sanitised, typed literally — or ("key", name) with a name in TYPE_KEY_NAMES."""
    agent = _agent(town, target)
    if agent.role == "overseer":
        raise UsageError("the overseer is the human and has no session", hint="select an agent first")
    tm = tmux or Tmux.for_town(town)
    with file_lock(_lock_path(town, agent)):
        tm.leave_mode(agent.session)
        for kind, value in keys:
            if kind == "key":
                if value not in TYPE_KEY_NAMES:
                    raise UsageError(f"'{value}' is not a key the input mode sends", hint="type text or use Enter, arrows, C-c")
                tm.send_keys(agent.session, value)
            else:
                text = sanitize(value).replace("\n", "")
                if text:
                    tm.send_keys(agent.session, text, literal=True)
