"""What each dog does when it runs (`gt dog run NAME`): boot, digest, krc, orphans, logs, plugins.

Kept apart from `dogs.py` (the registry, state and the deacon's scheduling step) because these
chores reach boot and the orphan finder, which lean on the deacon: the deacon imports only the
scheduler, and the jobs run in their own short-lived processes.
"""

from __future__ import annotations

import os
import time
from typing import Any

from gastown_tui.patrols.dogs import _dir, _lock_path, _write_state, all_dogs, read_state
from gastown_tui.town.layout import Town


def run_dog(town: Town, name: str, *, tmux=None) -> dict[str, Any]:
    """Run one dog now, in this process; returns what it did. A dog already running is skipped."""
    from gastown_tui.errors import NotFound
    from gastown_tui.infra.fsutil import Lock

    known = {d["name"] for d in all_dogs(town)}
    if name not in known:
        raise NotFound(f"no dog '{name}'", hint="list them with 'gt dog list': " + ", ".join(sorted(known)))
    lock = Lock(_lock_path(town, name))
    try:
        if not lock.acquire(blocking=False):
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
        from gastown_tui.town import events

        events.record(town.root, "dog.ran", actor="deacon", payload={"name": name, "status": status_, "summary": summary})
        return {"name": name, "status": status_, "summary": summary, "seconds": round(time.time() - start, 3),
                "detail": detail}
    finally:
        lock.close()


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
    from gastown_tui.infra.fsutil import Lock

    lock = Lock(path, create=False)
    try:
        lock.acquire()
        os.replace(path, str(path) + ".1")
    finally:
        lock.close()
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
