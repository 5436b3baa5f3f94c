"""Reading append-only JSONL logs fast: from the end, from a point in time, many lines per decoder call.

Shared by the feed (`.events.jsonl`) and costs (usage logs, runtimes' transcripts). Every line
is untrusted: one that is not a JSON object is None, never an exception.
"""

from __future__ import annotations

import time

from gastown_tui.beads.codec import decode_line as _loads  # the one JSON reader of the store code

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

BLOCK = 64 * 1024
_BLOCK = BLOCK


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


def parse_line(line: bytes) -> dict[str, Any] | None:
    line = line.strip()
    if not line.startswith(b"{"):
        return None
    try:
        e = _loads(line.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return e if isinstance(e, dict) else None


def parse_lines(raws: list[bytes]) -> list[dict[str, Any] | None]:
    """Parse many lines with one decoder call (a JSON array); one bad line falls back to line by line."""
    if raws and all(r.startswith(b"{") and r.endswith(b"}") for r in raws):
        try:
            objs = _loads("[" + b",".join(raws).decode("utf-8") + "]")
        except (ValueError, UnicodeDecodeError, RecursionError):
            objs = None
        # A line like `{"a":1},{"b":2}` would join into two objects: only a count match is trusted.
        if isinstance(objs, list) and len(objs) == len(raws):
            return [o if isinstance(o, dict) else None for o in objs]
    return [parse_line(r) for r in raws]


def older_than(e: dict[str, Any], cutoff: float, cutoff_iso: str, key: str = "ts") -> bool | None:
    """Is the record older than the cut-off? None when its `key` is not a time at all.

    The form our writers use ('2026-01-02T03:04:05[.123[456]]Z', UTC) compares as text (with
    `cutoff_iso = iso(cutoff)`); any other offset or precision is parsed.
    """
    ts = e.get(key)
    if isinstance(ts, str) and len(ts) in (20, 24, 27) and ts[-1] == "Z" and ts[10] == "T" and ts[19] in ".Z":
        if ts[:19] != cutoff_iso:
            return ts[:19] < cutoff_iso
        # the same second as the cut-off: its fraction decides (parsed, the rare case)
    t = epoch(ts)
    return None if t is None else t < cutoff


def iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t))


def seek_time(f, size: int, cutoff: float, key: str = "ts") -> int:
    """Byte offset of a line at or before the first record newer than `cutoff` (binary search).

    For logs appended in time order (give or take the writers' skew, which the caller allows
    for by asking a little earlier); a line without a readable time is stepped over.
    """
    cut_iso = iso(cutoff)
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
            e = parse_line(raw)
            if e is not None:
                verdict = older_than(e, cutoff, cut_iso, key)
        if verdict is None:
            hi = mid
        elif verdict:
            lo = start
        else:
            hi = mid
    return lo


def backward(f, end: int):
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


def complete_end(f, size: int) -> int:
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
