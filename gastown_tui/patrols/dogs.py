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
import os
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
    import fcntl

    path = _lock_path(town, name)
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def run_dog(town: Town, name: str, *, tmux=None) -> dict[str, Any]:
    """Run one dog now, in this process; returns what it did. A dog already running is skipped."""
    import fcntl

    from gastown_tui.errors import NotFound

    known = {d["name"] for d in all_dogs(town)}
    if name not in known:
        raise NotFound(f"no dog '{name}'", hint="list them with 'gt dog list': " + ", ".join(sorted(known)))
    path = _lock_path(town, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return {"name": name, "status": "skipped", "summary": "already running"}
        st = read_state(town, name)
        start = time.time()
        st["last_start"] = start
        _write_state(town, name, st)
        try:
            status_, summary, detail = _work(town, name, tmux)
        except Exception as e:  # noqa: BLE001 - a failed chore is recorded, not fatal
            status_, summary, detail = "failed", f"{type(e).__name__}: {e}"[:300], None
        st.update(last_status=status_, last_summary=summary, last_end=time.time(), runs=int(st.get("runs", 0)) + 1)
        _write_state(town, name, st)
        from gastown_tui.work import events

        events.record(town.root, "dog.ran", actor="deacon", payload={"name": name, "status": status_, "summary": summary})
        return {"name": name, "status": status_, "summary": summary, "seconds": round(time.time() - start, 3),
                "detail": detail}
    finally:
        os.close(fd)


def _work(town: Town, name: str, tmux) -> tuple[str, str, Any]:
    if name == "boot":
        from gastown_tui.patrols.boot import boot_tick

        res = boot_tick(town, tmux)
        return "ok", (f"restarted the deacon: {res['reason']}" if res.get("restarted") else "the deacon is fine"), res
    if name == "digest":
        from gastown_tui.patrols.krc import digest

        res = digest(town)
        new = [r for r in res if not r.get("already")]
        return "ok", f"{len(new)} digest(s) written", res
    if name == "krc":
        from gastown_tui.patrols.krc import prune

        res = prune(town, tmux)
        return "ok", ", ".join(f"{n} {k}" for k, n in res["removed"].items()) + " removed", res
    if name == "orphans":
        return _orphan_report(town, tmux)
    if name == "logs":
        return _rotate_logs(town)
    if name.startswith("plugin:"):
        from gastown_tui.work.plugins import run_plugin

        res = run_plugin(town, name[len("plugin:"):])
        return res["status"], f"exit {res['exit']} in {res['seconds']:.1f}s", res
    raise ValueError(f"unknown dog {name}")


def _orphan_report(town: Town, tmux) -> tuple[str, str, Any]:
    import hashlib

    from gastown_tui.infra.tmux import Tmux
    from gastown_tui.patrols.orphans import find

    found = find(town, tmux or Tmux.for_town(town))
    items = sorted(f"{k}:{i['id']}" for k, v in found.items() for i in v)
    if not items:
        return "ok", "no orphans", found
    digest = hashlib.sha256("\n".join(items).encode()).hexdigest()[:16]
    st = read_state(town, "orphans")
    if st.get("reported") == digest:
        return "ok", f"{len(items)} orphan(s), unchanged since the last report", found
    from gastown_tui.work.escalation import notify

    body = "\n".join(f"- {k}: {i['id']} ({i['why']})" for k, v in found.items() for i in v)
    notify(town, "deacon", f"Orphan report: {len(items)} item(s)", body + "\n\nRemove the safe ones with 'gt cleanup'.",
           sender="deacon")
    st = read_state(town, "orphans")
    st["reported"] = digest
    _write_state(town, "orphans", st)
    return "ok", f"{len(items)} orphan(s) reported to the deacon", found


def _rotate_logs(town: Town) -> tuple[str, str, Any]:
    from gastown_tui.town.config import load_settings

    limit = int(load_settings(town.root).get("dogs.events_max_bytes"))
    _trim(_dir(town) / "dogs.log", 256 * 1024)
    path = town.events_jsonl
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return "ok", "no event log yet", None
    if size <= limit:
        return "ok", f".events.jsonl is {size} bytes (rotates at {limit})", None
    # Appenders lock the file itself (fsutil.append_line) and open it by name for every line:
    # holding its lock, no line is half-written; a writer already waiting lands in `.1`, not lost.
    with open(path, "rb") as f:
        import fcntl

        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        os.replace(path, str(path) + ".1")
    return "ok", f"rotated .events.jsonl ({size} bytes) to .events.jsonl.1", {"bytes": size}


def _trim(path, keep: int) -> None:
    """Keep the newest `keep` bytes of a log the dogs append to."""
    from gastown_tui.infra.fsutil import atomic_write_bytes

    try:
        if path.stat().st_size <= keep:
            return
        data = path.read_bytes()[-keep:]
    except OSError:
        return
    atomic_write_bytes(path, data[data.find(b"\n") + 1:])


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
