"""The town's activity feed: `.events.jsonl`, append-only, one JSON object per line.

`{"ts", "type", "actor", "rig", "payload"}`. Appends are single O_APPEND writes under flock,
so concurrent writers never interleave lines.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gastown_tui.infra.fsutil import append_line


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record(town_root: Path, type: str, *, actor: str | None = None, rig: str | None = None,
           payload: dict[str, Any] | None = None) -> dict[str, Any]:
    event = {
        "ts": now_iso(),
        "type": type,
        "actor": actor or os.environ.get("BD_ACTOR") or "overseer",
        "rig": rig,
        "payload": payload or {},
    }
    append_line(Path(town_root) / ".events.jsonl", json.dumps(event, ensure_ascii=False, separators=(",", ":")))
    return event


def read(town_root: Path, *, limit: int | None = None, rig: str | None = None,
         types: set[str] | None = None) -> list[dict[str, Any]]:
    """The newest `limit` events (oldest first), optionally filtered by rig and type."""
    out = [e for e in iter_events(town_root)
           if (rig is None or e.get("rig") == rig) and (types is None or e.get("type") in types)]
    return out[-limit:] if limit else out


def iter_events(town_root: Path) -> Iterator[dict[str, Any]]:
    path = Path(town_root) / ".events.jsonl"
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:
                    continue  # a torn tail from a crash is skipped, never fatal
    except FileNotFoundError:
        return
