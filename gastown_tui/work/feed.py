"""The activity feed as an operator reads it: recent events of `.events.jsonl`, filtered, then new ones.

`events.py` owns the file's format and its writer; this module reads it for `gt feed` (and the
cockpit): `recent()` reads backwards from the end, so `--since 1h` on a log of months costs the
last hour's bytes, not the whole file; `Tail` picks up appended lines from a byte offset (the
caller wakes it on a file watch, never on a timer). Lines that are not JSON objects (a torn tail,
hostile edits) are skipped. Nothing here prints.
"""

from __future__ import annotations

import os
import time

from gastown_tui.work.jsonlog import backward, complete_end, iso, older_than, parse_line, parse_lines, seek_time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path
    from typing import Any

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
# Writers stamp `ts` just before taking the append lock, so lines may be a little out of order;
# the search for where `--since` starts begins this much earlier.
_SKEW_SECONDS = 300.0


def parse_duration(text: str) -> float:
    """'30s', '5m', '1h', '7d', '2w' (or a sum like '1h30m') -> seconds; UsageError otherwise."""
    from gastown_tui.errors import UsageError

    s = (text or "").strip().lower()
    total, num = 0.0, ""
    for ch in s:
        if ch.isdigit() or ch == ".":
            num += ch
        elif ch in _UNITS and num:
            try:
                total += float(num) * _UNITS[ch]
            except ValueError:
                break
            num = ""
        else:
            num = "!"
            break
    if not s or num or total <= 0:
        raise UsageError(f"'{text}' is not a duration",
                         hint="use a number and a unit: 30s, 5m, 1h, 7d or 2w (for example --since 1h)")
    return total


class Filter:
    """Which events an operator asked for: rig, agent (actor or the agent named in the payload), types."""

    __slots__ = ("rig", "agent", "types", "since", "_since_iso")

    def __init__(self, *, rig: str | None = None, agent: str | None = None,
                 types: Iterable[str] | None = None, since: float | None = None) -> None:
        self.rig = rig
        self.agent = agent.strip("/") if agent else None
        self.types = tuple(t for t in (types or ()) if t) or None
        self.since = since
        self._since_iso = iso(since) if since is not None else ""

    def __call__(self, e: dict[str, Any]) -> bool:
        if self.since is not None and older_than(e, self.since, self._since_iso) is not False:
            return False
        if self.rig is not None and e.get("rig") != self.rig:
            actor = e.get("actor")
            if not (isinstance(actor, str) and actor.startswith(self.rig + "/")):
                return False
        if self.types is not None:
            et = e.get("type")
            if not isinstance(et, str) or not any(et == t or et.startswith(t + ".") or et.startswith(t + "_")
                                                  for t in self.types):
                return False
        if self.agent is not None:
            payload = e.get("payload") if isinstance(e.get("payload"), dict) else {}
            names = (e.get("actor"), payload.get("agent"), payload.get("to"), payload.get("from"))
            if not any(isinstance(n, str) and _same_agent(n, self.agent) for n in names):
                return False
        return True


def _same_agent(name: str, wanted: str) -> bool:
    """'demo/furiosa' and 'demo/polecats/furiosa' are one polecat."""
    if name == wanted:
        return True
    a, b = name.split("/"), wanted.split("/")
    if len(a) == 3 and a[1] == "polecats":
        a = [a[0], a[2]]
    if len(b) == 3 and b[1] == "polecats":
        b = [b[0], b[2]]
    return a == b


def recent_lines(path: Path, *, filt: Filter | None = None,
                 limit: int | None = None) -> tuple[list[tuple[bytes, dict[str, Any]]], int]:
    """The newest matching events as (stored line, event), oldest first, and the offset read up to.

    With `filt.since`, a binary search finds where that time starts and only the lines after it
    are read; otherwise blocks are read from the end until `limit` matches. Either way the cost
    follows what is shown, not the size of the log.
    """
    filt = filt or Filter()
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return [], 0
    with f:
        end = complete_end(f, os.fstat(f.fileno()).st_size)
        out: list[tuple[bytes, dict[str, Any]]] = []
        if filt.since is not None:
            f.seek(seek_time(f, end, filt.since - _SKEW_SECONDS))
            raws = [r.strip() for r in f.read(end - f.tell()).split(b"\n")]
            raws = [r for r in raws if r]
            for raw, e in zip(raws, parse_lines(raws), strict=True):
                if e is not None and filt(e):
                    out.append((raw, e))
            return (out[-limit:] if limit else out), end
        for raw in backward(f, end):
            e = parse_line(raw)
            if e is not None and filt(e):
                out.append((raw.strip(), e))
                if limit and len(out) >= limit:
                    break
        out.reverse()
        return out, end


def recent(path: Path, *, filt: Filter | None = None, limit: int | None = None) -> tuple[list[dict[str, Any]], int]:
    """`recent_lines` without the stored lines: the events and the offset read up to."""
    lines, end = recent_lines(path, filt=filt, limit=limit)
    return [e for _raw, e in lines], end


class Tail:
    """New complete lines of the log after `offset`; a shrunk file (rotated, rewritten) restarts at 0."""

    def __init__(self, path: Path, offset: int, filt: Filter | None = None) -> None:
        self.path = path
        self.offset = offset
        self.filt = filt or Filter()
        self._partial = b""

    def read_new(self) -> list[dict[str, Any]]:
        try:
            with open(self.path, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                if size < self.offset:
                    self.offset, self._partial = 0, b""
                if size == self.offset:
                    return []
                f.seek(self.offset)
                data = f.read(size - self.offset)
        except FileNotFoundError:
            self.offset, self._partial = 0, b""
            return []
        self.offset += len(data)
        data = self._partial + data
        lines = data.split(b"\n")
        self._partial = lines.pop()
        out = []
        for raw in lines:
            e = parse_line(raw)
            if e is not None and self.filt(e):
                out.append(e)
        return out


def since_epoch(duration: str | None, now: float | None = None) -> float | None:
    if not duration:
        return None
    return (time.time() if now is None else now) - parse_duration(duration)
