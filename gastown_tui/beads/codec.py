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

# JSON through the C halves of the json package only: importing `json` itself costs ~2 ms plus
# `re` (~6 ms) at every `bd`/`gt` start-up, for regexes only its pure-Python fallback uses. Values
# and errors are json's own: anything the fast path does not take (bad input included) goes to
# `json.loads`, so messages are word for word the same.
try:
    from _json import encode_basestring as _enc_str
    from _json import encode_basestring_ascii as _enc_ascii
    from _json import make_encoder as _make_encoder
    from _json import make_scanner as _make_scanner
except ImportError:  # pragma: no cover - other Pythons: the json package is fine
    _enc_str = _enc_ascii = _make_encoder = _make_scanner = None


class _Ctx:
    """What `json.JSONDecoder()` hands its scanner (its defaults)."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = float  # 'NaN', 'Infinity', '-Infinity' -> the same floats as json's table
    memo: dict = {}


_SCAN = _make_scanner(_Ctx()) if _make_scanner is not None else None
_WS = " \t\n\r"


def loads(text: str | bytes) -> Any:
    """`json.loads(text)`: the same value, the same errors — except that a value nested too deeply
    to parse (RecursionError in json) is a ValueError like any other text that is not JSON."""
    if _SCAN is not None and type(text) is str:
        n = len(text)
        i = 0
        while i < n and text[i] in _WS:
            i += 1
        try:
            obj, end = _SCAN(text, i)
        except (StopIteration, ValueError, SystemError, RecursionError):  # (the C scanner reports errors
            obj, end = None, -1  # through json.decoder, which it may fail to import here: json.loads words them)
        while 0 <= end < n and text[end] in _WS:
            end += 1
        if end == n:
            return obj
    import json

    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def scan_line(text: str, start: int) -> Any:
    """The JSON value that is exactly the line of `text` starting at `start` (to its newline or
    the end), parsed in place: no copy of the line. ValueError when the line is anything else
    (then `loads` of the line words the error)."""
    end = text.find("\n", start)
    if end < 0:
        end = len(text)
    if _SCAN is not None and start < end and text[start] not in _WS:
        try:
            obj, stop = _SCAN(text, start)
        except (StopIteration, ValueError, SystemError, RecursionError):
            stop = -1
        if stop == end:
            return obj
    return loads(text[start:end])


def _not_serializable(o: Any) -> Any:
    raise TypeError(f"Object of type {o.__class__.__name__} is not JSON serializable")


def _encode(obj: Any, default: Any, key_sep: str, item_sep: str, allow_nan: bool, ascii_only: bool = False) -> str:
    if _make_encoder is None:  # pragma: no cover
        import json

        return json.JSONEncoder(ensure_ascii=ascii_only, separators=(item_sep, key_sep), allow_nan=allow_nan,
                                default=default).encode(obj)
    enc = _enc_ascii if ascii_only else _enc_str
    if isinstance(obj, str):
        return enc(obj)
    return "".join(_make_encoder({}, default, enc, None, key_sep, item_sep, False, False, allow_nan)(obj, 0))


def go_escape(text: str) -> str:
    """Apply Go's HTML-safe escapes to already-encoded JSON text."""
    if "<" in text or ">" in text or "&" in text or "\u2028" in text or "\u2029" in text:
        text = (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
                .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
    return text


def dumps(obj: Any) -> str:
    """Compact, Go-escaped JSON for one value (used for lines and for id search keys)."""
    return go_escape(_encode(obj, _not_serializable, ":", ",", False))


def json_body(text: str) -> str:
    """`text` as it appears between the quotes of a compact JSON string (no HTML escapes)."""
    return _encode(text, _not_serializable, ":", ",", False)[1:-1]


def to_json(obj: Any, *, compact: bool = False, default: Any = None, ascii_only: bool = False,
            indent: int | None = None) -> str:
    """`json.dumps(obj, ensure_ascii=ascii_only)` (with `compact`, separators `,` and `:`; with
    `indent`, json's indented layout), the same text and the same errors."""
    if indent is not None:
        if _enc_str is None:  # pragma: no cover
            import json

            return json.dumps(obj, indent=indent, ensure_ascii=ascii_only, default=default)
        return _indented(obj, default or _not_serializable, _enc_ascii if ascii_only else _enc_str, " " * indent)
    return _encode(obj, default or _not_serializable, ":" if compact else ": ", "," if compact else ", ", True,
                   ascii_only)


def _float_text(o: float) -> str:
    if o != o:
        return "NaN"
    if o == _INF:
        return "Infinity"
    if o == -_INF:
        return "-Infinity"
    return float.__repr__(o)


_INF = float("inf")


def _indented(obj: Any, default: Any, enc: Any, indent: str) -> str:
    """json's indented encoder (`json.encoder._make_iterencode` with an indent, NaN allowed, keys
    unsorted), over the C string encoder: `bd --json` prints this layout and importing json to get
    it costs ~6 ms of `re` at every start-up. Same text, same errors (held to json by a test)."""
    parts: list[str] = []
    add = parts.append
    markers: dict[int, Any] = {}
    intstr = int.__repr__

    def value(o: Any, level: int) -> None:
        if isinstance(o, str):
            add(enc(o))
        elif o is None:
            add("null")
        elif o is True:
            add("true")
        elif o is False:
            add("false")
        elif isinstance(o, int):
            add(intstr(o))
        elif isinstance(o, float):
            add(_float_text(o))
        elif isinstance(o, (list, tuple)):
            if not o:
                add("[]")
                return
            mark = _enter(markers, o)
            sep = nl = "\n" + indent * (level + 1)
            add("[")
            for v in o:
                add(sep)
                value(v, level + 1)
                sep = "," + nl
            add("\n" + indent * level + "]")
            del markers[mark]
        elif isinstance(o, dict):
            if not o:
                add("{}")
                return
            mark = _enter(markers, o)
            sep = nl = "\n" + indent * (level + 1)
            add("{")
            for k, v in o.items():
                if isinstance(k, str):
                    pass
                elif isinstance(k, float):
                    k = _float_text(k)
                elif k is True:
                    k = "true"
                elif k is False:
                    k = "false"
                elif k is None:
                    k = "null"
                elif isinstance(k, int):
                    k = intstr(k)
                else:
                    raise TypeError(f"keys must be str, int, float, bool or None, not {k.__class__.__name__}")
                add(sep)
                add(enc(k))
                add(": ")
                value(v, level + 1)
                sep = "," + nl
            add("\n" + indent * level + "}")
            del markers[mark]
        else:
            mark = _enter(markers, o)
            value(default(o), level)
            del markers[mark]

    value(obj, 0)
    return "".join(parts)


def _enter(markers: dict[int, Any], o: Any) -> int:
    mark = id(o)
    if mark in markers:
        raise ValueError("Circular reference detected")
    markers[mark] = o
    return mark


def is_empty(value: Any) -> bool:
    return value is None or value is False or value == "" or value == [] or value == {}


def clean(data: dict[str, Any]) -> dict[str, Any]:
    """Drop the empty values bd omits, keeping key order."""
    return {k: v for k, v in data.items() if k in KEEP_EMPTY or not is_empty(v)}


def encode_issue(data: dict[str, Any]) -> bytes:
    """One JSONL line (no newline) for an issue dict. A lone surrogate (read from a `\\ud800`
    escape in a line that arrived by git; it has no UTF-8 form, and outside strings the text is
    ASCII) is written back as that same escape."""
    return dumps(clean(data)).encode("utf-8", "backslashreplace")


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
    return loads(line)


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
    """Seconds since the epoch for an RFC 3339 timestamp (any offset, up to nanoseconds); 0 if
    absent/bad, and for anything that is not a string (a hostile `"defer_until": 5`)."""
    if not text or type(text) is not str:  # a number or list arrived by git: no time, as absent
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
