"""Boot: on every daemon tick, is the deacon alive? If its heartbeat is stale, restart it.

`decide_boot` is pure (heartbeat age, session state, threshold) so each case is tested; boot
keeps its own small record in `deacon/dogs/boot/state.json` (last check, restarts).
"""

from __future__ import annotations

import json
import time
from typing import Any

from gastown_tui.town.identity import Agent
from gastown_tui.town.layout import Town


def decide_boot(session_alive: bool | None, heartbeat_age: float | None, stale_seconds: float,
                session_age: float | None = None) -> str | None:
    """None when the deacon is fine, else why it must be (re)started.

    session_alive: None = no session, False = its process exited, True = running. A running
    deacon that has not written a heartbeat yet gets `stale_seconds` of grace from its start.
    """
    if session_alive is None:
        return "no deacon session"
    if session_alive is False:
        return "the deacon's process exited"
    if heartbeat_age is None:
        if session_age is not None and session_age > stale_seconds:
            return f"no heartbeat {int(session_age)}s after start"
        return None
    if heartbeat_age > stale_seconds:
        return f"heartbeat is {int(heartbeat_age)}s old (limit {int(stale_seconds)}s)"
    return None


def boot_tick(town: Town, tmux=None, *, now: float | None = None, log=lambda _m: None) -> dict[str, Any]:
    from gastown_tui.infra.fsutil import atomic_write_text
    from gastown_tui.infra.tmux import Tmux
    from gastown_tui.patrols.deacon import start_patrol
    from gastown_tui.agents.heartbeat import heartbeat_age
    from gastown_tui.town.config import load_settings

    tm = tmux or Tmux.for_town(town)
    now = time.time() if now is None else now
    stale = float(load_settings(town.root).get("deacon.heartbeat_stale_seconds"))
    pane = tm.panes().get("gt-deacon")
    alive = None if pane is None else not pane.dead
    age = heartbeat_age(town, "gt-deacon", now)
    why = decide_boot(alive, age, stale, (now - pane.created) if pane and pane.created else None)
    state_path = town.boot_dir / "state.json"
    try:
        state = json.loads(state_path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        state = {}
    state["last_check"] = now
    if why:
        if pane is not None:
            tm.kill_session("gt-deacon")
        start_patrol(town, Agent("deacon"), tm)
        state["restarts"] = int(state.get("restarts", 0)) + 1
        state["last_restart"] = {"ts": now, "reason": why}
        log(f"boot: restarted the deacon ({why})")
        try:
            from gastown_tui.town import events

            events.record(town.root, "boot.restart_deacon", actor="boot", payload={"reason": why})
        except Exception:  # noqa: BLE001
            pass
    state_path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(state_path, json.dumps(state, indent=1) + "\n")
    return {"restarted": bool(why), "reason": why, "heartbeat_age": age}
