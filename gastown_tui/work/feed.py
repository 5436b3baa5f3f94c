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

from gastown_tui.beads.lean import loads as _loads  # the C scanner alone: `json` costs more than a feed read

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path
    from typing import Any

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_BLOCK = 64 * 1024
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


def epoch(ts: Any) -> float | None:
    """An event's `ts` (ISO 8601, any offset, 'Z') as epoch seconds; None when it is not one."""
    if not isinstance(ts, str) or len(ts) < 19 or len(ts) > 40:
        return None
    from datetime import UTC, datetime

    try:
        d = datetime.fromisoformat(ts)
    except ValueError:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=UTC)
    return d.timestamp()


class Filter:
    """Which events an operator asked for: rig, agent (actor or the agent named in the payload), types."""

    __slots__ = ("rig", "agent", "types", "since", "_since_iso")

    def __init__(self, *, rig: str | None = None, agent: str | None = None,
                 types: Iterable[str] | None = None, since: float | None = None) -> None:
        self.rig = rig
        self.agent = agent.strip("/") if agent else None
        self.types = tuple(t for t in (types or ()) if t) or None
        self.since = since
        self._since_iso = _iso(since) if since is not None else ""

    def __call__(self, e: dict[str, Any]) -> bool:
        if self.since is not None and _older_than(e, self.since, self._since_iso) is not False:
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


def _parse(line: bytes) -> dict[str, Any] | None:
    line = line.strip()
    if not line.startswith(b"{"):
        return None
    try:
        e = _loads(line.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return e if isinstance(e, dict) else None


def _parse_many(raws: list[bytes]) -> list[dict[str, Any] | None]:
    """Parse many lines with one decoder call (a JSON array); one bad line falls back to line by line."""
    if raws and all(r.startswith(b"{") and r.endswith(b"}") for r in raws):
        try:
            objs = _loads("[" + b",".join(raws).decode("utf-8") + "]")
        except (ValueError, UnicodeDecodeError, RecursionError):
            objs = None
        # A line like `{"a":1},{"b":2}` would join into two objects: only a count match is trusted.
        if isinstance(objs, list) and len(objs) == len(raws):
            return [o if isinstance(o, dict) else None for o in objs]
    return [_parse(r) for r in raws]


def _older_than(e: dict[str, Any], cutoff: float, cutoff_iso: str) -> bool | None:
    """Is the event older than the cut-off? None when its `ts` is not a time at all.

    Our own writer's form ('2026-01-02T03:04:05.123456Z', UTC) compares as text; any other
    offset or precision is parsed.
    """
    ts = e.get("ts")
    if isinstance(ts, str) and len(ts) in (20, 24, 27) and ts[-1] == "Z" and ts[10] == "T" and ts[19] in ".Z":
        return ts[:19] < cutoff_iso
    t = epoch(ts)
    return None if t is None else t < cutoff


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t))


def _first_offset_after(f, size: int, cutoff: float) -> int:
    """Byte offset of a line at or before the first event newer than `cutoff` (binary search).

    The log is appended in time order (give or take the writers' skew, allowed for by the
    caller); a line without a readable time is stepped over.
    """
    iso = _iso(cutoff)
    lo, hi = 0, size  # invariant: the answer is in [lo, hi]; lines starting before lo are old
    while hi - lo > _BLOCK:
        mid = (lo + hi) // 2
        f.seek(mid)
        f.readline()  # to the start of the next whole line
        start = f.tell()
        verdict = None
        while verdict is None and f.tell() < hi:
            raw = f.readline()
            if not raw:
                break
            e = _parse(raw)
            if e is not None:
                verdict = _older_than(e, cutoff, iso)
        if verdict is None:
            hi = mid
        elif verdict:
            lo = start
        else:
            hi = mid
    return lo


def _backward(f, end: int):
    """Complete lines from `end` towards the start of the file, newest first."""
    pos, carry = end, b""
    while pos > 0:
        start = max(0, pos - _BLOCK)
        f.seek(start)
        chunk = f.read(pos - start) + carry
        pos = start
        lines = chunk.split(b"\n")
        carry = lines.pop(0) if pos > 0 else b""
        yield from reversed(lines)
    if carry:
        yield carry


def _complete_end(f, size: int) -> int:
    """The size up to the last newline: a last line still being written is the follower's."""
    if size == 0:
        return 0
    f.seek(size - 1)
    if f.read(1) == b"\n":
        return size
    start = max(0, size - _BLOCK)
    f.seek(start)
    cut = f.read(size - start).rfind(b"\n")
    return start + cut + 1 if cut >= 0 else 0


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
        end = _complete_end(f, os.fstat(f.fileno()).st_size)
        out: list[tuple[bytes, dict[str, Any]]] = []
        if filt.since is not None:
            f.seek(_first_offset_after(f, end, filt.since - _SKEW_SECONDS))
            raws = [r.strip() for r in f.read(end - f.tell()).split(b"\n")]
            raws = [r for r in raws if r]
            for raw, e in zip(raws, _parse_many(raws), strict=True):
                if e is not None and filt(e):
                    out.append((raw, e))
            return (out[-limit:] if limit else out), end
        for raw in _backward(f, end):
            e = _parse(raw)
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
            e = _parse(raw)
            if e is not None and self.filt(e):
                out.append(e)
        return out


def since_epoch(duration: str | None, now: float | None = None) -> float | None:
    if not duration:
        return None
    return (time.time() if now is None else now) - parse_duration(duration)
