"""Heartbeat files: `.runtime/heartbeats/<session>.json` = {"ts","pid","role","rig","status"}.

Every patrol loop writes one after each pass; boot, the deacon, `gt status` and `gt doctor`
read them to tell a live supervisor from a stuck one.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from gastown_tui.infra.fsutil import atomic_write_text
from gastown_tui.town.layout import Town


def heartbeat_path(town: Town, session: str) -> Path:
    from gastown_tui.infra.safepath import confine

    return confine(town.heartbeats_dir, f"{session}.json", what="session name")


def write_heartbeat(town: Town, session: str, *, role: str, rig: str | None = None, status: str = "ok",
                    now: float | None = None, **extra: Any) -> dict[str, Any]:
    beat = {"ts": time.time() if now is None else now, "pid": os.getpid(), "role": role, "rig": rig,
            "status": status, **extra}
    atomic_write_text(heartbeat_path(town, session), json.dumps(beat, separators=(",", ":")) + "\n")
    if status not in _MID_PASS:
        _record_check(town, session, beat)
    return beat


# A heartbeat with one of these statuses is written in the middle of a pass, not at its end.
_MID_PASS = ("patrolling", "merging")


def checks_dir(town: Town, session: str) -> Path:
    """Per-pass patrol check records: `.runtime/patrols/<session>/<YYYY-MM-DD>.jsonl` (UTC days),
    digested into one bead per patrol and day by `gt patrol digest`, then removed."""
    from gastown_tui.infra.safepath import confine

    return confine(town.runtime_dir / "patrols", session, what="session name")


def _record_check(town: Town, session: str, beat: dict[str, Any]) -> None:
    from gastown_tui.infra.fsutil import append_line

    path = checks_dir(town, session) / (time.strftime("%Y-%m-%d", time.gmtime(beat["ts"])) + ".jsonl")
    line = json.dumps({k: v for k, v in beat.items() if k != "pid"}, separators=(",", ":"), default=str)
    try:
        append_line(path, line)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        append_line(path, line)
    except OSError:
        pass  # a full disk must not stop the patrol; the heartbeat itself was written


def read_heartbeat(town: Town, session: str) -> dict[str, Any] | None:
    try:
        data = json.loads(heartbeat_path(town, session).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("ts"), (int, float)) else None


def heartbeat_age(town: Town, session: str, now: float | None = None) -> float | None:
    """Seconds since the last heartbeat of `session`, or None when it never wrote one."""
    beat = read_heartbeat(town, session)
    if beat is None:
        return None
    return max(0.0, (time.time() if now is None else now) - float(beat["ts"]))


def all_heartbeats(town: Town) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    if not town.heartbeats_dir.is_dir():
        return out
    for p in sorted(town.heartbeats_dir.glob("*.json")):
        beat = read_heartbeat(town, p.stem)
        if beat is not None:
            out[p.stem] = beat
    return out


def remove_heartbeat(town: Town, session: str) -> None:
    try:
        heartbeat_path(town, session).unlink()
    except FileNotFoundError:
        pass
