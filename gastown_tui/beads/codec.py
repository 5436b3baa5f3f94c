"""The JSONL codec: upstream bd's line format, byte for byte.

bd (Go) writes compact JSON with ``<``, ``>``, ``&``, U+2028 and U+2029 escaped and all other
text as UTF-8; keys in its struct order; empty values omitted (except ``priority``,
``created_at`` and ``updated_at``). Unchanged lines are never re-encoded (the store keeps their
bytes), so this encoder only has to be right for lines we change — and it is also exact for every
line of the real fixture.
"""

from __future__ import annotations

import time

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds at import; annotations are strings anyway
    from typing import Any
# bd's struct order. Keys we add to an issue go to their place in this order; unknown keys stay
# where they were read (and new unknown keys go last).
KEY_ORDER = (
    "id", "content_hash", "title", "description", "design", "acceptance_criteria", "notes",
    "status", "priority", "issue_type", "assignee", "owner", "estimated_minutes",
    "created_at", "updated_at", "closed_at", "close_reason", "created_by",
    "due_at", "defer_until", "external_ref", "source_repo", "sender", "ephemeral", "pinned",
    "is_template", "mol_type", "hook_bead", "role_bead", "agent_state", "last_activity",
    "labels", "dependencies", "comments",
    "deleted_at", "deleted_by", "delete_reason", "original_type",
)
_RANK = {k: i for i, k in enumerate(KEY_ORDER)}
KEEP_EMPTY = frozenset({"priority", "created_at", "updated_at"})

_ENCODER = None  # json.JSONEncoder, made on first use (the json package costs ms at import: `bd mol current`)


def go_escape(text: str) -> str:
    """Apply Go's HTML-safe escapes to already-encoded JSON text."""
    if "<" in text or ">" in text or "&" in text or "\u2028" in text or "\u2029" in text:
        text = (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
                .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
    return text


def dumps(obj: Any) -> str:
    """Compact, Go-escaped JSON for one value (used for lines and for id search keys)."""
    global _ENCODER
    if _ENCODER is None:
        import json

        _ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return go_escape(_ENCODER.encode(obj))


def json_body(text: str) -> str:
    """`text` as it appears between the quotes of a compact JSON string (no HTML escapes)."""
    global _ENCODER
    if _ENCODER is None:
        dumps("")
    return _ENCODER.encode(text)[1:-1]  # type: ignore[union-attr]


def is_empty(value: Any) -> bool:
    return value is None or value is False or value == "" or value == [] or value == {}


def clean(data: dict[str, Any]) -> dict[str, Any]:
    """Drop the empty values bd omits, keeping key order."""
    return {k: v for k, v in data.items() if k in KEEP_EMPTY or not is_empty(v)}


def encode_issue(data: dict[str, Any]) -> bytes:
    """One JSONL line (no newline) for an issue dict."""
    return dumps(clean(data)).encode("utf-8")


def set_key(data: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """Set `key` keeping bd's key order: an existing key keeps its place, a new one goes where bd puts it."""
    if key in data or key not in _RANK:
        data[key] = value
        return data
    rank = _RANK[key]
    items = list(data.items())
    for i, (k, _) in enumerate(items):
        if _RANK.get(k, len(KEY_ORDER)) > rank:
            items.insert(i, (key, value))
            break
    else:
        items.append((key, value))
    data.clear()
    data.update(items)
    return data


def decode_line(line: bytes | str) -> Any:
    import json

    return json.loads(line)


# --- timestamps --------------------------------------------------------------------------------

def format_ts(ns: int | None = None) -> str:
    """RFC 3339 with nanoseconds and the local offset, trailing zeros trimmed (Go's RFC3339Nano)."""
    if ns is None:
        ns = time.time_ns()
    secs, frac = divmod(ns, 1_000_000_000)
    lt = time.localtime(secs)  # (datetime would cost an import on every `bd create`)
    base = time.strftime("%Y-%m-%dT%H:%M:%S", lt)
    fs = f"{frac:09d}".rstrip("0")
    off = lt.tm_gmtoff or 0
    if not off:
        tz = "Z"
    else:
        total = int(off)
        sign = "+" if total >= 0 else "-"
        total = abs(total)
        tz = f"{sign}{total // 3600:02d}:{total % 3600 // 60:02d}"
    return f"{base}{'.' + fs if fs else ''}{tz}"


def ts_key(text: str | None) -> float:
    """Seconds since the epoch for an RFC 3339 timestamp (any offset, up to nanoseconds); 0 if absent/bad."""
    if not text:
        return 0.0
    cached = _TS_CACHE.get(text)
    if cached is not None:
        return cached
    from datetime import UTC, datetime

    try:
        s = text
        if "." in s:  # fromisoformat takes at most 6 fractional digits on some versions
            head, _, rest = s.partition(".")
            i = 0
            while i < len(rest) and rest[i].isdigit():
                i += 1
            s = f"{head}.{rest[:i][:6].ljust(6, '0')}{rest[i:]}"
        dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        value = dt.timestamp()
    except ValueError:
        value = 0.0
    if len(_TS_CACHE) < 200_000:
        _TS_CACHE[text] = value
    return value


_TS_CACHE: dict[str, float] = {}
