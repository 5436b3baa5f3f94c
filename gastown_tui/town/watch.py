"""Which of a town's files the cockpit watches: the `.beads` stores, `.events.jsonl`, the heartbeats.

`watch_town(town)` is an async iterator of change batches (sets of paths), debounced (≤ 200 ms)
by watchfiles through `infra/watch.py`. It only reads.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from gastown_tui.town.layout import Town

# Files whose changes matter; lock files, temp files of atomic writes and git internals do not.
_IGNORED_SUFFIXES = (".lock", ".tmp")


def watched_paths(town: Town) -> list[Path]:
    """The directories to watch: they must exist (watchfiles cannot watch a missing path)."""
    paths = [town.beads_dir, town.runtime_dir / "heartbeats"]
    for name in sorted(town.rigs()):
        paths.append(town.rig(name).beads_dir)
    out = [p for p in paths if p.is_dir()]
    if town.mayor_dir.is_dir():
        out.append(town.mayor_dir)  # rigs.json: a new rig brings a new store to watch
    if town.events_jsonl.exists():
        out.append(town.events_jsonl)  # append-only, so a file watch holds (the cockpit's tick covers its creation)
    return out


def relevant(town: Town, path: Path) -> bool:
    name = path.name
    if name.startswith(".") and name != ".events.jsonl":
        return False
    if name.endswith(_IGNORED_SUFFIXES) or ".tmp" in name:
        return False
    if name == ".events.jsonl":
        return True
    if path.parent == town.mayor_dir:
        return name == "rigs.json"
    parts = path.parts
    if ".git" in parts or ".repo.git" in parts:
        return False
    return ".beads" in parts or "heartbeats" in parts or name == "rigs.json"


def watch_town(town: Town, *, debounce_ms: int = 50, stop_event=None) -> AsyncIterator[set[Path]]:
    """Changed, relevant paths of `town`; re-scans rigs when `mayor/rigs.json` changes."""
    from gastown_tui.infra.watch import watch_paths

    return watch_paths(lambda: watched_paths(town), lambda p: relevant(town, p),
                       rescan_key=lambda: frozenset(town.rigs()), debounce_ms=debounce_ms,
                       stop_event=stop_event)
