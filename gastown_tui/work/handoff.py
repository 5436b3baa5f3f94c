"""Handing off to a fresh session (`gt handoff`) and the witness's automatic session cycling.

A handoff mails the agent a HANDOFF (what it was doing, what is next, the bead on its hook) and
restarts the process in the same tmux session (`respawn-pane`): same runtime, environment, working
directory and output log. The hook lives in the bead store, so it is untouched — the new session's
beacon runs `gt prime`, which shows the newest unread HANDOFF first, then the same hooked bead.

The witness cycles a polecat by itself when its session has run `witness.cycle_after_hours`, or
when its runtime reports the context window `witness.cycle_context_percent` full (Claude Code:
the last reply's input + cache tokens in its transcript, over `witness.context_window_tokens`).
Both settings are 0 (off) by default. A cycle is recorded in `.runtime/handoff/<session>.json`, so
a session's age counts from its last cycle.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from gastown_tui.town.identity import Agent
from gastown_tui.town.layout import Town


def _state_path(town: Town, session: str):
    return town.runtime_dir / "handoff" / f"{session}.json"


def last_cycle(town: Town, session: str) -> float:
    try:
        data = json.loads(_state_path(town, session).read_text(encoding="utf-8"))
        return float(data["ts"]) if isinstance(data, dict) else 0.0
    except (OSError, ValueError, KeyError, TypeError):
        return 0.0


def handoff(town: Town, agent: Agent, *, doing: str = "", next_steps: str = "", reason: str = "requested",
            restart: bool = True, tmux=None, sender: str | None = None) -> dict[str, Any]:
    """Mail the HANDOFF, then (with `restart`) give the agent a fresh process in its session."""
    from gastown_tui.infra.fsutil import atomic_write_text
    from gastown_tui.town import events
    from gastown_tui.work import protocol
    from gastown_tui.work.hook import hooked
    from gastown_tui.work.mail import send_mail

    if restart:  # refuse before writing anything: no HANDOFF for a session that cannot restart
        from gastown_tui.errors import NotFound
        from gastown_tui.infra.tmux import Tmux

        tmux = tmux or Tmux.for_town(town)
        if agent.session not in tmux.panes():
            raise NotFound(f"{agent.address} has no session to restart",
                           hint="pass --no-restart to only leave the HANDOFF mail")
    bead = hooked(town, agent)
    text_lines = []
    if doing:
        text_lines.append(f"Doing: {doing}")
    if next_steps:
        text_lines.append(f"Next: {next_steps}")
    if bead is not None:
        text_lines.append(f"Your hook is still {bead.id} ({bead.title}): carry on with it.")
    body = protocol.body({"Agent": agent.address, "Bead": bead.id if bead else "", "Reason": reason}, "\n".join(text_lines))
    msg = send_mail(town, agent.address, protocol.subject("HANDOFF", agent.address), body,
                    sender=sender or agent.address, nudge=False)[0]
    now = time.time()
    atomic_write_text(_state_path(town, agent.session), json.dumps({"ts": now, "reason": reason, "mail": msg["id"]}) + "\n")
    events.record(town.root, "handoff", actor=sender or agent.address, rig=agent.rig,
                  payload={"agent": agent.address, "bead": bead.id if bead else None, "reason": reason, "id": msg["id"]})
    out = {"agent": agent.address, "session": agent.session, "mail": msg["id"], "bead": bead.id if bead else None,
           "reason": reason, "restarted": False}
    if restart:
        from gastown_tui.agents.sessions import respawn_agent

        respawn_agent(town, agent, tmux=tmux)
        out["restarted"] = True
    return out


def latest_handoff(messages: list[dict[str, Any]], address: str) -> dict[str, Any] | None:
    """The newest HANDOFF addressed to `address` among `messages` (an inbox listing)."""
    mine = [m for m in messages if m.get("subject") == f"HANDOFF {address}"]
    return max(mine, key=lambda m: m.get("created_at") or "") if mine else None


def context_used(town: Town, agent: Agent, *, config_dir: str | None = None) -> int | None:
    """Tokens in the context window at the agent's last Claude Code reply, or None when unknown."""
    from gastown_tui.work.costs import agent_claude_config_dir, claude_project_name

    d = os.path.join(config_dir or agent_claude_config_dir(town, agent.session), "projects",
                     claude_project_name(os.path.realpath(agent.workdir(town.root))))
    try:
        files = [os.path.join(d, n) for n in os.listdir(d) if n.endswith(".jsonl")]
    except OSError:
        return None
    if not files:
        return None
    newest = max(files, key=lambda p: os.stat(p).st_mtime)
    from gastown_tui.work.jsonlog import backward, parse_line

    with open(newest, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        for n, raw in enumerate(backward(f, size)):
            if n > 2000:
                break
            if b'"usage"' not in raw:
                continue
            rec = parse_line(raw)
            msg = rec.get("message") if rec else None
            u = msg.get("usage") if isinstance(msg, dict) else None
            if isinstance(u, dict):
                return sum(v for k in ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")
                           if type(v := u.get(k)) is int and v > 0)
    return None


def cycle_due(town: Town, agent: Agent, pane, settings, now: float) -> str | None:
    """Why this running session should be cycled now (None: it should not)."""
    hours = float(settings.get("witness.cycle_after_hours") or 0)
    started = max(float(getattr(pane, "created", 0) or 0), last_cycle(town, agent.session))
    if hours > 0 and started and now - started >= hours * 3600:
        return f"session ran {(now - started) / 3600:.1f} h (witness.cycle_after_hours = {hours:g})"
    pct = float(settings.get("witness.cycle_context_percent") or 0)
    if pct > 0:
        used = context_used(town, agent)
        window = float(settings.get("witness.context_window_tokens") or 200_000)
        if used is not None and used >= window * pct / 100:
            return f"context {used * 100 / window:.0f}% full (witness.cycle_context_percent = {pct:g})"
    return None


def cycle_sessions(town: Town, rig: str, *, tmux, now: float | None = None, log=lambda _m: None) -> list[dict[str, Any]]:
    """The witness's pass: hand off every live polecat of `rig` that is due. Cheap when off."""
    from gastown_tui.town.config import load_settings

    settings = load_settings(town.root)
    if not (float(settings.get("witness.cycle_after_hours") or 0) > 0
            or float(settings.get("witness.cycle_context_percent") or 0) > 0):
        return []
    now = time.time() if now is None else now
    rp = town.rig(rig)
    if not rp.polecats_dir.is_dir():
        return []
    panes = tmux.panes()
    done = []
    for d in sorted(rp.polecats_dir.iterdir()):
        if not d.is_dir() or d.name.startswith("."):
            continue
        agent = Agent("polecat", rig, d.name)
        pane = panes.get(agent.session)
        if pane is None or pane.dead:
            continue
        why = cycle_due(town, agent, pane, settings, now)
        if why is None:
            continue
        try:
            res = handoff(town, agent, doing="(cycled by the witness)", reason=why, tmux=tmux,
                          sender=f"{rig}/witness")
        except Exception as e:  # noqa: BLE001 - one agent's failed restart must not stop the patrol
            log(f"could not cycle {agent.address}: {e}")
            continue
        log(f"cycled {agent.address}: {why}; HANDOFF {res['mail']}")
        done.append(res)
    return done
