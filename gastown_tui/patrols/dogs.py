"""Dogs: the deacon's helpers for infrastructure chores — short-lived jobs, one process each.

| dog      | every | does |
|----------|-------|------|
| boot     | (the daemon's tick) | is the deacon alive? restart it if not (`patrols/boot.py`) |
| digest   | 1 h   | `gt patrol digest`: finished days of patrol checks -> digest beads |
| krc      | 1 h   | `gt krc prune`: ephemeral data past its TTL |
| orphans  | 6 h   | `gt orphans`: mail the deacon a report when the set of orphans changed |
| logs     | 1 h   | rotate `.events.jsonl` past `dogs.events_max_bytes` (one `.1` generation) |
| plugin:NAME | its schedule | the plugin's command, with its timeout, output logged |

The deacon's patrol calls `start_due()`: each dog whose interval has passed since its last run
(a dog never seen before waits one interval) is started as `gt dog run NAME`, detached, and
records its run in `.runtime/dogs/<name>.json`; an flock keeps one run of a dog at a time.
"""

from __future__ import annotations

import json
import time
from typing import Any

from gastown_tui.town.layout import Town

BUILTIN = {"boot": None, "digest": 3600.0, "krc": 3600.0, "orphans": 6 * 3600.0, "logs": 3600.0}
DESCRIPTIONS = {
    "boot": "is the deacon alive? restart it if its heartbeat is stale",
    "digest": "digest finished days of patrol checks into one bead per patrol",
    "krc": "prune ephemeral data past its time to live",
    "orphans": "report orphaned sessions, worktrees, branches, beads to the deacon",
    "logs": "rotate .events.jsonl when it passes dogs.events_max_bytes",
}


def _dir(town: Town):
    return town.runtime_dir / "dogs"


def _state_path(town: Town, name: str):
    return _dir(town) / (name.replace("/", "--").replace(":", "_") + ".json")


def read_state(town: Town, name: str) -> dict[str, Any]:
    try:
        d = json.loads(_state_path(town, name).read_text(encoding="utf-8"))
        return d if isinstance(d, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_state(town: Town, name: str, state: dict[str, Any]) -> None:
    from gastown_tui.infra.fsutil import atomic_write_text

    atomic_write_text(_state_path(town, name), json.dumps(state, default=str) + "\n")


def all_dogs(town: Town) -> list[dict[str, Any]]:
    """Every dog: built-ins, then each enabled plugin that has a schedule."""
    from gastown_tui.work.plugins import list_plugins

    out = [{"name": n, "every": every, "description": DESCRIPTIONS[n], "kind": "builtin"} for n, every in BUILTIN.items()]
    for p in list_plugins(town):
        if p.schedule and p.enabled and not p.error:
            out.append({"name": f"plugin:{p.name}", "every": p.schedule, "description": p.description or str(p.command),
                        "kind": "plugin"})
    return out


def status(town: Town, *, now: float | None = None) -> list[dict[str, Any]]:
    now = time.time() if now is None else now
    rows = []
    for d in all_dogs(town):
        st = read_state(town, d["name"])
        last = st.get("last_start")
        due = None
        if d["every"]:
            base = last if last else st.get("first_seen")
            due = (float(base) + d["every"]) if base else None
        rows.append({**d, "running": _running(town, d["name"]), "last_start": last, "last_status": st.get("last_status"),
                     "last_summary": st.get("last_summary"), "runs": st.get("runs", 0),
                     "next_due": due, "due": due is not None and now >= due})
    return rows


def _lock_path(town: Town, name: str):
    return town.locks_dir / ("dog-" + name.replace("/", "--").replace(":", "_") + ".lock")


def _running(town: Town, name: str) -> bool:
    from gastown_tui.infra.fsutil import lock_held

    return lock_held(_lock_path(town, name))


def start_due(town: Town, *, now: float | None = None, spawn=None) -> list[str]:
    """The deacon's patrol step: start each due dog as its own short-lived `gt dog run` process."""
    from gastown_tui.town.config import load_settings

    if not load_settings(town.root).get("dogs.enabled"):
        return []
    now = time.time() if now is None else now
    started = []
    for d in status(town, now=now):
        if not d["every"] or d["running"]:
            continue
        st = read_state(town, d["name"])
        if not st.get("last_start") and not st.get("first_seen"):
            st["first_seen"] = now  # a new dog waits one interval
            _write_state(town, d["name"], st)
            continue
        if not d["due"]:
            continue
        if spawn is None:
            from gastown_tui.infra.proc import spawn_detached

            def spawn(argv, log_path, cwd):
                return spawn_detached(argv, log_path=log_path, cwd=cwd)
        st["last_start"] = now  # claimed: the next patrol does not start it again
        _write_state(town, d["name"], st)
        import sys

        spawn([sys.executable, "-m", "gastown_tui.cli.gt", "--town", str(town.root), "dog", "run", d["name"]],
              _dir(town) / "dogs.log", town.root)
        started.append(d["name"])
    return started
