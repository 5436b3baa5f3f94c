"""The beads store: one `.beads/` directory, its `issues.jsonl` and git-ignored `wisps.jsonl`.

Writes take an exclusive flock on `.beads/.jsonl.lock`, re-read the file, change only the lines
they touch, and replace the file atomically (temp file, fsync, rename), so readers never lock
and never see a torn file and 30 concurrent writers lose nothing. A file that does not parse
completely, or holds git conflict markers, is refused for writing. Reads report such lines
(`store.problems`) and skip them.
"""

from __future__ import annotations

import os
import _thread
import time
from gastown_tui.beads import changelog, graph, ids
from gastown_tui.beads.codec import format_ts, set_key, ts_key
from gastown_tui.beads.files import ISSUES, WISPS
from gastown_tui.beads.jsonl import Image, Problem, _no_gc, fingerprint
from gastown_tui.beads.model import (
    Issue,
    check_dep_type,
    check_priority,
    check_status,
    check_type,
)
from gastown_tui.errors import Conflict, GtError, NotFound, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds at import; annotations are strings anyway
    from collections.abc import Callable, Iterable
    from pathlib import Path
    from typing import Any
# pathlib is imported where a Path is made: with urllib.parse under it, it costs more CPU than
# everything `bd ready` does, and the read path needs only os.path (strings).


def _path(p: str | os.PathLike) -> Path:
    from pathlib import Path

    return Path(p)


def _mode(p: str) -> int | None:
    """`os.stat(p).st_mode` with pathlib's error rules: a missing path (or one through a file, a
    symlink loop, a bad descriptor) is None; any other error (a name too long ...) is raised."""
    try:
        return os.stat(p).st_mode
    except OSError as e:
        import errno

        if e.errno in (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP):  # pathlib's ignored errors
            return None
        raise
    except ValueError:
        return None


def _is_dir(p: str) -> bool:
    import stat

    m = _mode(p)
    return m is not None and stat.S_ISDIR(m)


def _is_file(p: str) -> bool:
    import stat

    m = _mode(p)
    return m is not None and stat.S_ISREG(m)


def _exists(p: str) -> bool:
    return _mode(p) is not None


def _norm(p: str | os.PathLike) -> str:
    """`str(Path(p))` without pathlib: no empty or '.' components, no trailing slash."""
    if not isinstance(p, str):
        return os.fspath(p)
    parts = [c for c in p.split("/") if c and c != "."]
    return ("/" if p.startswith("/") else "") + "/".join(parts) or ("/" if p.startswith("/") else ".")


LOCK = ".jsonl.lock"
STAMP = ".jsonl.stamp"
SUMMARY = ".ready.cache"
CONFIG = "config.yaml"
REDIRECT = "redirect"
GITIGNORE_LINES = ("wisps.jsonl", ".jsonl.lock", ".jsonl.stamp*", ".ready.cache", ".changes/", ".memo/", ".pending/", ".*.tmp", "*.db",
                   "daemon.*")
MAX_REDIRECTS = 8


class StoreCorrupt(GtError):
    """The store has a line that cannot be read (bad JSON, conflict markers): writes are refused."""


# --- config.yaml ----------------------------------------------------------------------------------

def read_config(beads_dir: Path | str) -> dict[str, str]:
    """The flat `key: value` pairs of `.beads/config.yaml` (all bd writes there that we need)."""
    try:
        with open(os.path.join(beads_dir, CONFIG), encoding="utf-8") as f:
            text = f.read()
    except (FileNotFoundError, NotADirectoryError):
        return {}
    return parse_config(text)


def parse_config(text: str) -> dict[str, str]:
    """The flat `key: value` pairs of a `.beads/config.yaml` text."""
    found: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].rstrip()
        if not line or line.lstrip().startswith("#") or raw[:1].isspace() or ":" not in line:
            continue
        key, _, value = line.partition(":")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        found[key.strip()] = value
    return found


def write_config_value(beads_dir: Path, key: str, value: str) -> None:
    from gastown_tui.infra.fsutil import atomic_write_text

    path = beads_dir / CONFIG
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    new = f'{key}: "{value}"' if value == "" or any(c in value for c in ":#'\"") else f"{key}: {value}"
    for i, line in enumerate(lines):
        if line.split(":", 1)[0].strip() == key and not line[:1].isspace():
            lines[i] = new
            break
    else:
        lines.append(new)
    atomic_write_text(path, "\n".join(lines) + "\n")


# --- finding stores ---------------------------------------------------------------------------------

def follow_redirect(beads_dir: Path) -> Path:
    """Follow `.beads/redirect` files (a path relative to the directory holding `.beads/`)."""
    return _path(_follow(_norm(beads_dir)))


def _follow(beads_dir: str) -> str:
    seen = []
    cur = beads_dir
    for _ in range(MAX_REDIRECTS):
        red = os.path.join(cur, REDIRECT)
        if not _is_file(red):
            return cur
        with open(red, encoding="utf-8") as f:
            target = f.read().strip()
        if not target:
            return cur
        nxt = os.path.expanduser(target)
        if not os.path.isabs(nxt):
            nxt = os.path.join(os.path.dirname(cur) or ".", nxt)
        nxt = _norm(os.path.normpath(nxt))
        if os.path.basename(nxt) != ".beads" and _is_dir(os.path.join(nxt, ".beads")):
            nxt = os.path.join(nxt, ".beads")
        seen.append(red)
        if not _is_dir(nxt):
            raise NotFound(f"{red} points at {nxt}, which does not exist",
                           hint="fix the redirect file or run 'gt doctor'")
        _check_redirect(red, nxt)
        cur = nxt
    raise GtError(f"too many .beads redirects starting at {beads_dir}", hint="check for a redirect loop: " + " -> ".join(seen))


def _check_redirect(red: str, target: str) -> None:
    """A redirect arrives by git: it may only lead to a `.beads` directory, inside the town when
    the store is in one (symlinks resolved), so no write can follow it to /etc or elsewhere."""
    from gastown_tui.infra.safepath import is_inside

    if os.path.basename(target) != ".beads" or os.path.basename(os.path.realpath(target)) != ".beads":
        raise GtError(f"{red} points at {target}, which is not a .beads directory",
                      hint="fix or delete the redirect file")
    d = os.path.dirname(os.path.realpath(red))
    while True:
        if _is_file(os.path.join(d, "mayor", "town.json")):
            if not is_inside(d, target):
                raise GtError(f"{red} points outside the town, at {target}",
                              hint="delete it; 'gt rig add' and 'gt sling' write the town's own redirects")
            return
        up = os.path.dirname(d)
        if up == d:
            return
        d = up


def find_beads_dir(start: Path | None = None) -> Path | None:
    found = _find_beads_dir(start)
    return None if found is None else _path(found)


def _find_beads_dir(start: Path | str | None) -> str | None:
    d = os.path.realpath(start or os.getcwd())
    while True:
        cand = os.path.join(d, ".beads")
        if _is_dir(cand) and any(_exists(os.path.join(cand, n)) for n in (ISSUES, CONFIG, REDIRECT)):
            return _follow(cand)
        up = os.path.dirname(d)
        if up == d:
            return None
        d = up


def open_store(start: Path | None = None, db: Path | str | None = None) -> Store:
    """The store for `db` (a .beads dir, its parent, or an issues.jsonl) or the nearest `.beads/` above `start`."""
    if db is not None:
        p = _norm(os.path.expanduser(_norm(db)))
        name = os.path.basename(p)
        if _is_file(p) and name.endswith(".jsonl"):
            return Store(_follow(os.path.dirname(p) or "."), issues_file=name)
        if name != ".beads" and _is_dir(os.path.join(p, ".beads")):
            p = os.path.join(p, ".beads")
            name = ".beads"
        if not _is_dir(p) or (name != ".beads" and not any(_exists(os.path.join(p, n))
                                                                for n in (ISSUES, CONFIG, REDIRECT))):
            raise NotFound(f"no beads store at {db}", hint="create one with 'bd init' or pass the path of a .beads directory")
        return Store(_follow(p))
    found = _find_beads_dir(start)
    if found is None:
        where = os.path.realpath(start or os.getcwd())
        raise NotFound(f"no .beads directory in {where} or above",
                       hint="run 'bd init' here, cd into a project with beads, or pass --db PATH")
    return Store(found)


def init_store(dir: Path, prefix: str, *, exact: bool = False) -> Store:
    """Create (or complete) a store: `.beads/` with config.yaml, an empty issues.jsonl and a .gitignore.
    `exact`: `dir` is the store directory itself, whatever its name ($BEADS_DIR)."""
    from gastown_tui.infra.fsutil import atomic_write_text

    prefix = ids.normalize_prefix(prefix)
    if not ids.PREFIX_RE.match(prefix):
        raise UsageError(f"'{prefix}' is not a valid issue prefix",
                         hint="use lowercase letters, digits and '_', starting with a letter (for example 'gt')")
    beads_dir = _path(dir)
    if beads_dir.name != ".beads" and not exact:
        beads_dir = beads_dir / ".beads"
    beads_dir.mkdir(parents=True, exist_ok=True)
    existing = read_config(beads_dir).get("issue-prefix")
    if existing and existing != prefix:
        raise Conflict(f"{beads_dir} already uses the prefix '{existing}'",
                       hint=f"keep '{existing}' or edit {beads_dir / CONFIG}")
    if not existing:
        write_config_value(beads_dir, "issue-prefix", prefix)
    issues = beads_dir / ISSUES
    if not issues.exists():
        atomic_write_text(issues, "")
    gi = beads_dir / ".gitignore"
    have = gi.read_text(encoding="utf-8").splitlines() if gi.exists() else []
    missing = [ln for ln in GITIGNORE_LINES if ln not in have]
    if missing:
        atomic_write_text(gi, "\n".join([*have, *missing]) + "\n")
    return Store(beads_dir)


# --- in-process cache of parsed files, keyed by file identity -----------------------------------------

_CACHE: dict[str, Image] = {}  # by the file's path as a string (readers pass strings, writers Paths)
_CACHE_LOCK = _thread.allocate_lock()


def _get_from(main: Image, wisps: Image, issue_id: str) -> Issue | None:
    """An issue by id: the main file's line that wins for it, else the wisps file's."""
    rec = main.record(issue_id)
    if rec is not None:
        return Issue(rec)
    rec = wisps.record(issue_id)
    if rec is not None:
        return Issue(rec, ephemeral_file=True)
    return None


def _lookup_image(beads_dir: str, path: str) -> Image:
    """One file for a few lookups by id: the image in memory when it is this version, else the file
    mapped when the store's stamp vouches for its layout, else read (`_cached_image`)."""
    fp = fingerprint(path)
    with _CACHE_LOCK:
        img = _CACHE.get(path)
    if img is not None and img.fp == fp and not img.modified:
        return img
    if fp is not None and _stamped(beads_dir, path, fp):
        img = Image.mapped(path, fp)
        if img is not None and _stamped_layout(beads_dir, img):
            return img
    img = _cached_image(path)
    # A file the store did not write (pulled by git): split and indexed by the full rules, so an id
    # its line spells with escapes (`\u00e9`, `\u003c`) is found by what it is.
    img._materialize()
    return img


def _cached_image(path: Path | str) -> Image:
    key = os.fspath(path)
    fp = fingerprint(key)
    with _CACHE_LOCK:
        img = _CACHE.get(key)
        # A missing file (fp None, usually wisps.jsonl) is cached too: re-reading it would make a
        # new Image each call, and every query view keyed on the images would be rebuilt.
        if img is not None and img.fp == fp and (fp is not None or not img.modified):
            return img
    old = img
    img = Image.read(path)
    if old is not None and old._lines is not None and not old.modified:
        img.previous = old  # another process changed the file: parse only the lines that differ
    with _CACHE_LOCK:
        _CACHE[key] = img
    return img


def _remember(path: Path | str, img: Image) -> None:
    with _CACHE_LOCK:
        _CACHE[os.fspath(path)] = img


# --- the store -----------------------------------------------------------------------------------------

class _View:
    """The records of both files as Issues, for queries (built once per file version)."""

    def __init__(self, main: Image, wisps: Image | None) -> None:
        self.issues: dict[str, Issue] = {}
        for rec in main.records():
            self.issues[rec["id"]] = Issue(rec)
        self.wisp_ids: set[str] = set()
        if wisps is not None:
            for rec in wisps.records():
                if rec["id"] not in self.issues:
                    self.issues[rec["id"]] = Issue(rec, ephemeral_file=True)
                    self.wisp_ids.add(rec["id"])
        self._blocked: set[str] | None = None
        self._dependents: dict[str, list[str]] | None = None

    def blocked_ids(self) -> set[str]:
        if self._blocked is None:
            self._blocked = graph.blocked_ids(self.issues)
        return self._blocked

    def dependents(self) -> dict[str, list[str]]:
        if self._dependents is None:
            self._dependents = graph.dependents_map(self.issues.values())
        return self._dependents


class _ReadyIssues:
    """The issues readiness depends on, parsing as little as possible (DESIGN §4 rules, graph.py logic).

    Deleted issues (tombstones) act exactly like missing ones, so their lines are skipped unread;
    closed issues without dependencies cannot be blocked or block anything except through their
    status (and close reason, parsed on demand), so they are only parsed when looked up. Every
    other line is parsed. The status is taken from the raw line only when it is unambiguous: the
    only `"status"` of a line (nor a `\\u`-escaped spelling), with no nested object before it, is the
    top-level key (JSON keeps the last of duplicate keys, so a second one means parsing).
    """

    def __init__(self, main: Image, wisps: Image) -> None:
        self.main = main
        self.parsed: dict[str, Issue] = {}
        self.closed: dict[str, int] = {}
        self.lazy: dict[str, Issue] = {}
        lines, ids, index = main.lines, main.ids, main.index
        # Lines already parsed, and what the text of others said (here, or in an older version of
        # the file with the same line: see Image._adopt), are not looked at again.
        known = main.parsed
        notes = getattr(main, "notes", None)  # a transaction's copy of an image has none
        if notes is None:
            notes = {}
        todo = []
        deleted: set[str] = set()
        with _no_gc():
            for n, line in enumerate(lines):
                iid = ids[n]
                if iid is None or index.get(iid) != n:
                    continue  # not an issue, or an earlier duplicate (the last line wins)
                if n in known:
                    todo.append(n)
                    continue
                note = notes.get(n)
                if note is None:
                    note = "p"
                    p = line.find('"status":"')
                    # JSON keeps the last of duplicate keys: the raw status counts only when the
                    # line has one `"status"` (another spelling, spaced or with a letter of it
                    # `\u`-escaped: a, s, t, u are \u0061, \u0073-5, is parsed) and its opening
                    # quote is not an escaped one inside a string.
                    if (p > 0 and line[p - 1] != "\\" and line.find("{", 1, p) < 0
                            and line.count('"status"') == 1
                            and "\\u007" not in line and "\\u0061" not in line):
                        st = line[p + 10:line.find('"', p + 10)]
                        if st == "tombstone":
                            note = "t"
                        # No `"dependencies"` key in any spelling (spaced, or escaped with \u).
                        elif st == "closed" and '"dependencies"' not in line and "\\u" not in line:
                            note = "c"
                    notes[n] = note
                if note == "t":
                    deleted.add(iid)  # still shadows a wisp of the same id
                elif note == "c":
                    self.closed[iid] = n
                else:
                    todo.append(n)
            main._parse_lines([n for n in todo if n not in main.parsed])
            for n in todo:
                rec = main.parsed.get(n)
                if rec is not None:
                    if rec.get("status") != "tombstone":
                        self.parsed[rec["id"]] = Issue(rec)
                    else:
                        deleted.add(rec["id"])
        for rec in wisps.records():
            iid = rec["id"]
            if iid not in self.parsed and iid not in self.closed and iid not in deleted and rec.get("status") != "tombstone":
                self.parsed[rec["id"]] = Issue(rec, ephemeral_file=True)

    def values(self):
        return self.parsed.values()

    def get(self, issue_id: str, default: Any = None) -> Issue | None:
        iss = self.parsed.get(issue_id) or self.lazy.get(issue_id)
        if iss is not None:
            return iss
        n = self.closed.get(issue_id)
        if n is None:
            return default
        rec = self.main._parse(n)
        if rec is None:
            return default
        iss = self.lazy[issue_id] = Issue(rec)  # not in parsed: values() may be being iterated
        return iss

    def __getitem__(self, issue_id: str) -> Issue:
        iss = self.get(issue_id)
        if iss is None:
            raise KeyError(issue_id)
        return iss

    def __contains__(self, issue_id: str) -> bool:
        return issue_id in self.parsed or issue_id in self.closed


_VIEWS: dict[Path, tuple[tuple, _View]] = {}
_LIVE: dict[str, tuple[tuple, _ReadyIssues]] = {}
_SUMMARIES: dict[tuple, dict[str, Any]] = {}


SUMMARY_VERSION = 6


# `.ready.cache`: a magic word, the file versions it was made from (a 4-byte length and their
# text, compared before anything is unmarshalled: marshal is not safe on crafted bytes, and a
# cache could arrive by git), an 8-byte length, the marshalled head (what `ready()` and the
# dependent counts need), then the marshalled line index of issues.jsonl, which only lookups by id
# unpack: every id of the file's index between newlines, and the byte offset and length of its
# line at the same position in an array of 8-byte integers (two strings load in microseconds;
# 10,000 tuples take milliseconds).
_MAGIC = b"gtready6"


def _fps_bytes(fps: Any) -> bytes:
    return ";".join("-" if fp is None else ",".join(map(str, fp)) for fp in fps).encode()


def _read_summary(path: Path, fps: list) -> dict[str, Any] | None:
    """The head of `.ready.cache` when it was made from exactly these file versions, else None.
    Anything odd about the file means no cache."""
    import marshal

    want = _fps_bytes(fps)
    try:
        with open(path, "rb") as f:
            data = f.read()
        n = int.from_bytes(data[8:12], "little")
        if data[:8] != _MAGIC or n != len(want) or data[12:12 + n] != want:
            return None  # other versions (or not a cache): nothing of it is unmarshalled
        at = 12 + n
        size = int.from_bytes(data[at:at + 8], "little")
        if at + 8 + size > len(data):
            return None
        head = marshal.loads(memoryview(data)[at + 8:at + 8 + size])
        if not isinstance(head, dict) or head.get("v") != SUMMARY_VERSION or head.get("fps") != fps:
            return None
    except Exception:  # noqa: BLE001 - a cache: unreadable is the same as absent
        return None
    head["_index"] = memoryview(data)[at + 8 + size:]  # unpacked when an id is looked up
    return head


class _LineIndex:
    """Where each id's line (the one that wins) is in one version of issues.jsonl."""

    __slots__ = ("ids", "places")

    def __init__(self, ids: str, places: Any) -> None:
        self.ids, self.places = ids, places

    @classmethod
    def build(cls, index: dict[str, int], offsets: list[int]) -> _LineIndex | None:
        if any("\n" in iid for iid in index):
            return None  # an id no index line can hold: lookups read the file
        import operator
        from array import array
        from itertools import chain, repeat

        rows = list(index.values())
        if not rows:
            return cls("\n", array("q"))
        starts = operator.itemgetter(*rows)(offsets)
        ends = operator.itemgetter(*map(operator.add, rows, repeat(1)))(offsets)
        if len(rows) == 1:
            starts, ends = (starts,), (ends,)
        sizes = map(operator.sub, map(operator.sub, ends, starts), repeat(1))  # without the newline
        return cls("\n".join(["", *index, ""]), array("q", chain.from_iterable(zip(starts, sizes, strict=True))))

    @classmethod
    def load(cls, raw: Any) -> _LineIndex | None:
        import marshal

        try:
            ids, places = marshal.loads(raw)
            places = memoryview(places).cast("q")
        except Exception:  # noqa: BLE001 - a cache: unreadable is the same as absent
            return None
        if not isinstance(ids, str) or not ids.startswith("\n") or len(places) != 2 * (ids.count("\n") - 1):
            return None
        return cls(ids, places)

    def dump(self) -> bytes:
        import marshal

        return marshal.dumps((self.ids, bytes(self.places)))

    def place(self, issue_id: str) -> tuple[int, int] | None:
        """(byte offset, length) of the id's line, or None when the file has no line for it."""
        if "\n" in issue_id:
            return None
        pos = self.ids.find("\n" + issue_id + "\n")
        if pos < 0:
            return None
        k = self.ids.count("\n", 0, pos)
        return self.places[2 * k], self.places[2 * k + 1]


def _write_summary(path: Path, summary: dict[str, Any], index: _LineIndex | None) -> None:
    """A cache: written atomically but not fsynced; any failure just means no cache."""
    import marshal

    from gastown_tui.infra.fsutil import atomic_write_bytes

    try:
        head = marshal.dumps(summary)
        tail = index.dump() if index is not None else b""
        fpb = _fps_bytes(summary["fps"])
        atomic_write_bytes(path, _MAGIC + len(fpb).to_bytes(4, "little") + fpb + len(head).to_bytes(8, "little")
                           + head + tail, fsync=False, mkdir=False)
    except (OSError, ValueError):
        pass


def _summary_index(summary: dict[str, Any]) -> _LineIndex | None:
    if "at" not in summary:
        raw = summary.pop("_index", None)
        summary["at"] = _LineIndex.load(raw) if raw is not None and len(raw) else None
    return summary["at"]


def _cand_row(i: Issue, created: Any, defer: Any, off: int, length: int) -> tuple:
    """A ready candidate's row in the summary: (id, priority, created, defer_until, line offset,
    line length); the times as `ts_key` seconds, or (rows a writer added) as the raw strings,
    keyed by the first reader of its rows (`Store._ready_rows`): `ts_key` imports datetime, ~3 ms of a `bd create`."""
    return (i.id, i.priority, created, defer, off, length)


def _keyed(cands: list[tuple]) -> list[tuple]:
    return [r if type(r[2]) is float and type(r[3]) is float else
            (r[0], r[1], ts_key(r[2]) if type(r[2]) is str else r[2], ts_key(r[3]) if type(r[3]) is str else r[3],
             r[4], r[5]) for r in cands]


def _assigned_to(d: dict[str, Any]) -> str | None:
    """Whom the summary lists an issue under (`who`): its assignee while it is unfinished."""
    a = d.get("assignee")
    return a if a and isinstance(a, str) and d.get("status") not in ("closed", "tombstone") else None


_REBUILD = object()


def _next_row(old: dict[str, Any] | None, new: dict[str, Any], rows: dict[str, tuple],
              by: dict[str, list[str]]) -> Any:
    """The ready row of an issue a writer changed from `old` (None: new) to `new`, with the offsets
    to fill in: a row, None (no candidate), or _REBUILD when its blocking, or another issue's, may
    have changed with it (graph.py decides that over every issue, in a full rebuild)."""
    inf = float("inf")
    iid = new["id"]
    deps = new.get("dependencies")
    if old is not None and old.get("dependencies") == deps and all(
            old.get(k) == new.get(k) for k in ("status", "close_reason")):
        # Nothing blocking is decided by changed: the issue is exactly as blocked as it was.
        if deps:
            if not graph.is_ready_candidate(Issue(old), inf):
                return _REBUILD if graph.is_ready_candidate(Issue(new), inf) else None  # blocked? unknown
            if iid not in rows:
                return None  # a candidate then and now, blocked then: blocked now
    elif deps or (old is not None and old.get("dependencies")) or iid in by:
        return _REBUILD
    # Here the issue has no dependencies (nothing blocks it, it is nobody's child) and, if its
    # status changed, nobody depends on it; or it is as unblocked as before.
    iss = Issue(new)
    if not graph.is_ready_candidate(iss, inf):
        return None
    was = rows.get(iid)
    same = was is not None and old is not None
    raw = lambda v: v if type(v) is str else 0.0  # noqa: E731 - ts_key: a non-string is no time
    created = was[2] if same and old.get("created_at") == new.get("created_at") else raw(new.get("created_at"))
    defer = was[3] if same and old.get("defer_until") == new.get("defer_until") else raw(new.get("defer_until"))
    return _cand_row(iss, created, defer, -1, 0)


def _next_summary(old: dict[str, Any], main: Image, wisps: Image | None) -> dict[str, Any] | None:
    """The summary of the file a writer is about to write, made from `old` (the summary of the
    version it read) and the lines it splices in, or None (then a reader rebuilds it): only when
    every change leaves the blocking of other issues as it was (see `_next_row`). Offsets after a
    splice move by its change in length; a new line joins the line index at its place."""
    at = old.get("at")
    buf = main._buf() if main._lines is None and main._edits and main._sorted else ""
    if at is None or isinstance(buf, str) or main._raw is None:
        return None
    import struct
    from bisect import bisect_left, bisect_right, insort

    from gastown_tui.beads.codec import loads
    from gastown_tui.beads.jsonl import is_record

    rows = {r[0]: r for r in old["cands"]}
    by = old["by"]
    who = {k: list(v) for k, v in old["who"].items()}
    bounds: list[int] = []  # a line at old offset >= bounds[k] moves by shifts[k] (the last that applies)
    shifts: list[int] = []
    shift = 0
    placed = []  # (old start, new start, new length, id, is new)
    changed: dict[str, Any] = {}
    for start, end, iid, text in main.edits_in_order():
        data = text.encode("utf-8")
        try:
            new = loads(text)
            prev = None if start == end else loads(bytes(buf[start:end]).decode("utf-8"))
        except ValueError:
            return None
        if not is_record(new) or new["id"] != iid or (prev is not None and (not is_record(prev) or prev["id"] != iid)):
            return None
        if prev is None and (wisps is None or iid in wisps):
            return None  # a new main line shadowing a wisp (or wisps unseen): a full rebuild decides
        row = _next_row(prev, new, rows, by)
        if row is _REBUILD:
            return None
        length = len(data) - 1 if prev is None else len(data)
        placed.append((start, start + shift, length, iid, prev is None))
        changed[iid] = None if row is None else (*row[:4], start + shift, length)
        shift += len(data) - (end - start)
        bounds.append(end)
        shifts.append(shift)
        a_old, a_new = (_assigned_to(prev) if prev is not None else None), _assigned_to(new)
        if a_old != a_new:
            if a_old is not None and iid in who.get(a_old, ()):
                who[a_old].remove(iid)
                if not who[a_old]:
                    del who[a_old]
            if a_new is not None:
                insort(who.setdefault(a_new, []), iid)

    def moved(off: int) -> int:
        k = bisect_right(bounds, off)
        return off + shifts[k - 1] if k else off

    main_rows, wisp_rows = [], []
    for r in old["cands"]:
        if r[0] in changed:
            continue
        if r[4] < 0:
            wisp_rows.append(r)
        else:
            main_rows.append((*r[:4], moved(r[4]), r[5]))
    main_rows.extend(r for r in changed.values() if r is not None)
    main_rows.sort(key=lambda r: r[4])  # file order, as a full rebuild lists them
    cands = main_rows + wisp_rows

    # The index's (offset, length) pairs as a mutable buffer of int64s (struct, not array: array
    # imports collections.abc, ~3 ms of a `bd create`).
    raw = bytearray(memoryview(at.places).cast("B"))
    places = memoryview(raw).cast("q")
    starts = places[0::2].tolist()
    n = len(starts)
    for k, lo in enumerate(bounds):
        i = bisect_left(starts, lo)
        j = bisect_left(starts, bounds[k + 1]) if k + 1 < len(bounds) else n
        if shifts[k] and j > i:
            d = shifts[k]
            places[2 * i:2 * j:2] = memoryview(struct.pack(f"{j - i}q", *[x + d for x in starts[i:j]])).cast("q")
    ids_text = at.ids
    groups: dict[int, list[tuple[str, int, int]]] = {}
    for old_start, new_start, length, iid, is_new in placed:
        k = bisect_left(starts, old_start)
        if not is_new:
            if k >= n or starts[k] != old_start:
                return None  # the index does not know this line where the file has it
            places[2 * k], places[2 * k + 1] = new_start, length
        else:
            groups.setdefault(k, []).append((iid, new_start, length))
    places.release()
    for k in sorted(groups, reverse=True):  # from the end: the positions before stay valid
        new_ids = [g[0] for g in groups[k]]
        if any("\n" in iid for iid in new_ids):
            return None
        if k < n:
            s0 = starts[k]
            nxt = bytes(buf[s0 + 7:buf.find(b'"', s0 + 7)]).decode("utf-8")
            pos = ids_text.find("\n" + nxt + "\n")
            if pos < 0:
                return None
        else:
            pos = len(ids_text) - 1
        ids_text = ids_text[:pos + 1] + "".join(i + "\n" for i in new_ids) + ids_text[pos + 1:]
        raw[16 * k:16 * k] = struct.pack(f"{2 * len(groups[k])}q", *[x for g in groups[k] for x in g[1:]])
    summary = {"v": SUMMARY_VERSION, "fps": None, "cands": cands, "by": by, "who": who}
    if any(type(r[2]) is not float or type(r[3]) is not float for r in changed.values() if r is not None):
        summary["unkeyed"] = True
    elif old.get("unkeyed"):
        summary["unkeyed"] = True
    summary["at"] = _LineIndex(ids_text, memoryview(raw).cast("q"))
    return summary


def _line_offsets(lines: list[str]) -> list[int]:
    """The byte offset of every line of a file split on newlines (one more: the end)."""
    import operator
    from itertools import accumulate, count

    if all(map(str.isascii, lines)):
        sizes = map(len, lines)
    else:
        sizes = map(len, map(str.encode, lines))
    return list(map(operator.add, accumulate(sizes, initial=0), count()))  # each line's newline too


_MISS = object()
_FEW_ROWS = 100  # up to this many ready rows are read line by line; more, and the file is read once


def _verified_line(fd: int, issue_id: str, off: int, length: int) -> dict[str, Any] | None:
    """The record at this place of the open file when it is `issue_id`'s, else None (never trusted blindly)."""
    from gastown_tui.beads.codec import loads
    from gastown_tui.beads.jsonl import is_record

    if off < 0 or length <= 0:
        return None
    try:
        obj = loads(os.pread(fd, length, off).decode())
    except (OSError, ValueError):
        return None
    return obj if is_record(obj) and obj["id"] == issue_id else None


def _line_at(mapped: Any, issue_id: str, off: int, length: int) -> dict[str, Any] | None:
    """`_verified_line` over the mapped file: the record of the whole line at this place when it
    is `issue_id`'s, else None."""
    from gastown_tui.beads.codec import loads
    from gastown_tui.beads.jsonl import is_record

    end = off + length
    if off < 0 or length <= 0 or end >= len(mapped) or mapped[end] != 10 or (off and mapped[off - 1] != 10):
        return None
    try:
        obj = loads(mapped[off:end].decode("utf-8"))
    except ValueError:
        return None
    return obj if is_record(obj) and obj["id"] == issue_id else None


class _Ops:
    """Queries and changes over a pair of images; shared by Store (reads) and Transaction (writes)."""

    beads_dir: Path
    prefix: str
    clock: Callable[[], int]

    # subclasses provide these
    def _files(self) -> tuple[str, str, str]:
        """The store directory, issues file and wisps file, as strings."""
        return os.fspath(self.beads_dir), os.fspath(self.issues_path), os.fspath(self.wisps_path)  # type: ignore[attr-defined]

    def _main(self) -> Image: ...  # pragma: no cover
    def _wisps(self) -> Image: ...  # pragma: no cover

    def _view(self) -> _View:
        main, wisps = self._main(), self._wisps()
        if main.modified or wisps.modified:
            return _View(main, wisps)
        key = (id(main), main.fp, id(wisps), wisps.fp)
        got = _VIEWS.get(main.path)
        if got is None or got[0] != key:
            got = _VIEWS[main.path] = (key, _View(main, wisps))  # one generation per store
        return got[1]

    @property
    def problems(self) -> list[Problem]:
        main, wisps = self._main(), self._wisps()
        main.parse_all()
        wisps.parse_all()
        return [*main.problems, *wisps.problems]

    # --- reading -----------------------------------------------------------------------------

    def try_get(self, issue_id: str) -> Issue | None:
        return _get_from(self._main(), self._wisps(), issue_id)

    def get(self, issue_id: str) -> Issue:
        iss = self.try_get(issue_id)
        if iss is None:
            raise self._not_found(issue_id)
        return iss

    def mentioning(self, text: str, field: str | None = None) -> list[Issue]:
        """Every issue whose record may hold the string `text` (an id, an assignee ...), main file
        first, read by the store's rules (last line wins, main over wisps), parsing only the lines
        that can hold it. Without `field` a superset callers filter; with `field`, exactly the issues
        whose `field` equals `text`."""
        main, wisps = self._main(), self._wisps()
        for img in (main, wisps):
            if img._lines is None and img._sorted is None and not img._edits:
                _stamped_layout(self._files()[0], img)  # sorted, no id twice: no index to build
        recs = main.mentioning(text, field)
        wrecs = wisps.mentioning(text, field)
        if len(wrecs) > 4 and not main._sorted:
            main._materialize()  # many wisps to check against the main file: one index pass
        out = [Issue(rec) for rec in recs if field is None or rec.get(field) == text]
        out += [Issue(rec, ephemeral_file=True) for rec in wrecs
                if (field is None or rec.get(field) == text) and main.record(rec["id"]) is None]
        return out

    def mentioning_among(self, text: str, field: str, ids: Iterable[str]) -> tuple[list[Issue], tuple]:
        """The issues of `mentioning(text, field)` whose ids are among `ids`, in id order, found by
        id under the same rules (the line that wins, main over wisps: `try_get`'s), and the
        versions (`versions()`) of the files they were read from — a caller updating an answer it
        keeps for certain versions (`beads.changelog`) checks it read the versions it meant."""
        main, wisps = self._lookup_images()
        out = []
        for iid in sorted(ids):
            iss = _get_from(main, wisps, iid)
            if iss is not None and iss.data.get(field) == text:
                out.append(iss)
        return out, (main.fp, wisps.fp)

    def _lookup_images(self) -> tuple[Image, Image]:
        """The two files, for a few lookups by id."""
        return self._main(), self._wisps()

    def exists(self, issue_id: str) -> bool:
        return issue_id in self._main() or issue_id in self._wisps()

    def _not_found(self, issue_id: str) -> GtError:
        import difflib

        from gastown_tui.beads.codec import json_body

        problems = self.known_problems()
        if problems:
            # The id may be on a line the store cannot read: name that line rather than guess.
            needle = '"' + json_body(issue_id) + '"'
            for img in (self._main(), self._wisps()):
                for p in img.problems:
                    if p.path == img.path and 0 < p.line <= len(img.lines) and needle in img.lines[p.line - 1]:
                        return StoreCorrupt(f"cannot read issue {issue_id}: {p.sentence()}",
                                            hint="fix or remove that line (see 'bd doctor'), or restore the file from git")
        known = [k for img in (self._main(), self._wisps()) for k, n in img.index.items() if img._parse(n) is not None]
        close = difflib.get_close_matches(issue_id, known, n=3, cutoff=0.6)
        if not close:
            tail = issue_id.split("-", 1)[-1]
            close = [k for k in known if tail and tail in k][:3]
        hint = ("closest: " + ", ".join(close)) if close else "list issues with 'bd list --all'"
        return NotFound(f"no issue {issue_id}", hint=hint)

    def all(self, *, include_ephemeral: bool = True) -> list[Issue]:
        view = self._view()
        if include_ephemeral:
            return list(view.issues.values())
        return [i for i in view.issues.values() if i.id not in view.wisp_ids]

    def list(self, *, status: str | Iterable[str] | None = None, type: str | Iterable[str] | None = None,
             assignee: str | None = None, label: str | Iterable[str] | None = None,
             priority: int | Iterable[int] | None = None, parent: str | None = None,
             include_closed: bool = False, include_ephemeral: bool = False,
             where: Callable[[Issue], bool] | None = None) -> list[Issue]:
        statuses = {status} if isinstance(status, str) else (set(status) if status is not None else None)
        types = {type} if isinstance(type, str) else (set(type) if type is not None else None)
        labels = {label} if isinstance(label, str) else (set(label) if label is not None else None)
        prios = {priority} if isinstance(priority, int) else (set(priority) if priority is not None else None)
        out = []
        unfinished = not include_closed if statuses is None else not statuses & {"closed", "tombstone"}
        for iss in self._listed(unfinished):
            d = iss.data
            st = d.get("status") or "open"
            if statuses is not None:
                if st not in statuses:
                    continue
            elif st == "tombstone" or (not include_closed and st == "closed"):
                continue
            if not include_ephemeral and (iss.ephemeral_file or d.get("ephemeral")):
                continue
            if types is not None and (d.get("issue_type") or "task") not in types:
                continue
            if assignee is not None and (d.get("assignee") or "") != assignee:
                continue
            if prios is not None and iss.priority not in prios:
                continue
            if labels is not None and not labels.issubset(d.get("labels") or ()):
                continue
            if parent is not None and iss.parent_id != parent:
                continue
            if where is not None and not where(iss):
                continue
            out.append(iss)
        out.sort(key=lambda i: i.id)
        return out

    def _listed(self, unfinished: bool) -> Iterable[Issue]:
        """Every issue a listing filters (with `unfinished`, at least every one not closed or deleted)."""
        return self._view().issues.values()

    def ready(self, limit: int | None = None, sort: str = "hybrid", *,
              include_molecule_steps: bool = False) -> list[Issue]:
        if sort not in graph.SORTS:
            raise UsageError(f"'{sort}' is not a valid sort", hint="valid sorts: " + ", ".join(graph.SORTS))
        view = self._view()
        now = self.clock() / 1e9
        cands = [i for i in view.issues.values()
                 if graph.is_ready_candidate(i, now, include_molecule_steps=include_molecule_steps)]
        if cands:
            blocked = view.blocked_ids()
            cands = [i for i in cands if i.id not in blocked]
        return graph.sort_issues(cands, sort, now)[: limit or None]

    def known_problems(self) -> list[Problem]:
        """Every unreadable line of both files: the same answer for every read, however little it parsed.

        A file the store wrote (its stamp matches) or already checked is clean; any other version
        is checked once in full and the verdict remembered beside it for that exact version.
        """
        out = []
        beads_dir, issues, wisps = self._files()
        for path, image in ((issues, self._main), (wisps, self._wisps)):
            out += sorted(_file_problems(beads_dir, path, image), key=lambda p: p.line)  # in file order, whatever was parsed first
        return out

    def warnings(self) -> list[str]:
        """The store's unreadable lines as warning sentences, worded once for every front end."""
        problems = self.known_problems()
        out = [f"warning: {p.sentence()} (skipped; run 'bd doctor')" for p in problems[:5]]
        if len(problems) > 5:
            out.append(f"warning: {len(problems) - 5} more unreadable lines")
        return out

    def blocked_with_reasons(self) -> list[tuple[Issue, list[str]]]:
        return graph.blocked(self._view().issues)

    def blocked(self) -> list[Issue]:
        return [i for i, _ in self.blocked_with_reasons()]

    def children(self, issue_id: str) -> list[Issue]:
        self.get(issue_id)
        kids = [i for i in self._view().issues.values() if i.parent_id == issue_id and not i.is_tombstone]
        return sorted(kids, key=lambda i: _child_key(i.id))

    def search(self, text: str, *, include_closed: bool = True) -> list[Issue]:
        needle = text.lower()
        out = []
        for iss in self._view().issues.values():
            st = iss.status
            if st == "tombstone" or (not include_closed and st == "closed"):
                continue
            d = iss.data
            if (needle in iss.id.lower() or needle in (d.get("title") or "").lower()
                    or needle in (d.get("description") or "").lower() or needle in (d.get("notes") or "").lower()):
                out.append(iss)
        out.sort(key=lambda i: i.id)
        return out

    def stats(self) -> dict[str, Any]:
        view = self._view()
        by_status: dict[str, int] = {}
        by_type: dict[str, int] = {}
        for iss in view.issues.values():
            by_status[iss.status] = by_status.get(iss.status, 0) + 1
            if iss.status != "tombstone":
                by_type[iss.issue_type] = by_type.get(iss.issue_type, 0) + 1
        total = sum(v for k, v in by_status.items() if k != "tombstone")
        return {
            "total": total,
            "open": by_status.get("open", 0),
            "in_progress": by_status.get("in_progress", 0),
            "closed": by_status.get("closed", 0),
            "blocked": len(self.blocked()),
            "ready": len(self.ready(limit=None)),
            "tombstones": by_status.get("tombstone", 0),
            "ephemeral": len(view.wisp_ids),
            "by_status": dict(sorted(by_status.items())),
            "by_type": dict(sorted(by_type.items())),
        }

    def dependent_counts(self) -> dict[str, int]:
        """How many links of live issues point at each id (graph.dependents_map's rule)."""
        return {t: len(v) for t, v in self._view().dependents().items()}

    def dependent_links(self, issue_id: str) -> list[tuple[Issue, dict[str, Any]]]:
        """(dependent, its dependency record) for every link of a live issue to `issue_id`, in
        dependent-id order: the issues are found by a text scan for the id, parsing only the
        lines that hold it, then held to graph.dependents_map's rule."""
        found = {o.id: o for o in self.mentioning(issue_id)}  # a superset: the id anywhere in the line
        return self._links(issue_id, graph.dependents_map(found.values()).get(issue_id, ()), found.get)

    @staticmethod
    def _links(issue_id: str, ids: Iterable[str], lookup: Callable[[str], Issue | None]) -> list[tuple[Issue, dict[str, Any]]]:
        out = []
        for oid in dict.fromkeys(ids):
            o = lookup(oid)
            if o is not None:
                out += [(o, d) for d in o.data.get("dependencies") or ()
                        if isinstance(d, dict) and d.get("depends_on_id") == issue_id]
        return out

    def assigned(self, assignee: str) -> list[Issue]:
        """The unfinished issues (not closed or deleted) assigned to `assignee`, in id order: found
        by a text scan for the name, parsing only the lines that hold it."""
        return sorted((i for i in self.mentioning(assignee, "assignee") if i.status not in ("closed", "tombstone")),
                      key=lambda i: i.id)

    def dependents(self, issue_id: str) -> list[Issue]:
        """Issues that depend on `issue_id`."""
        return [i for i in self._view().issues.values()
                if any(d.get("depends_on_id") == issue_id for d in i.data.get("dependencies") or ())]

    def dep_tree(self, issue_id: str) -> list[tuple[int, str, str]]:
        self.get(issue_id)
        return graph.dep_tree(self._view().issues, issue_id)

    def cycles(self) -> list[list[str]]:
        return graph.all_cycles(self._view().issues)


def _child_key(issue_id: str) -> tuple:
    head, _, tail = issue_id.rpartition(".")
    return (head, int(tail)) if tail.isdigit() else (issue_id, 0)


class Store(_Ops):
    """A resolved `.beads` directory. Reads need no lock; every change is one locked transaction."""

    def __init__(self, beads_dir: Path | str, *, issues_file: str = ISSUES,
                 clock: Callable[[], int] | None = None, actor: str | None = None) -> None:
        # Strings for the read path (no pathlib); the Path attributes are made when first asked for.
        self._dir = _norm(beads_dir)
        self._issues = os.path.join(self._dir, issues_file)
        self._wisps_file = os.path.join(self._dir, WISPS)
        self._paths: dict[str, Path] = {}
        self.clock = clock or time.time_ns
        self.actor = actor
        self._prefix: str | None = None
        self._tx: Transaction | None = None
        self._tx_owner: int | None = None
        self._rows_read: tuple[Any, dict[tuple, dict[str, Any]]] = (None, {})  # see _rows_of

    def __repr__(self) -> str:
        return f"Store({self._dir!r})"

    def _as_path(self, key: str, text: str) -> Path:
        p = self._paths.get(key)
        if p is None:
            p = self._paths[key] = _path(text)
        return p

    @property
    def beads_dir(self) -> Path:
        return self._as_path("dir", self._dir)

    @property
    def where(self) -> str:
        """The store directory as a string (`str(beads_dir)`, without making a Path)."""
        return self._dir

    @property
    def issues_path(self) -> Path:
        return self._as_path("issues", self._issues)

    @property
    def wisps_path(self) -> Path:
        return self._as_path("wisps", self._wisps_file)

    @property
    def lock_path(self) -> Path:
        return self._as_path("lock", os.path.join(self._dir, LOCK))

    def _files(self) -> tuple[str, str, str]:
        return self._dir, self._issues, self._wisps_file

    def versions(self) -> tuple:
        """The fingerprints of the store's two files now: what a memo of an answer is keyed by (`beads.memo`)."""
        return tuple(self._fps())

    @property
    def prefix(self) -> str:
        if self._prefix is None:
            cfg = read_config(self._dir)
            p = cfg.get("issue-prefix") or cfg.get("prefix")
            if not p:  # infer from the data, as bd does for old stores
                main = self._main()
                first = next(iter(main.index), None)
                p = ids.split_prefix(first) if first else os.path.basename(os.path.dirname(os.path.abspath(self._dir))).lower() or "bd"
            self._prefix = ids.normalize_prefix(p)
        return self._prefix

    def _own_tx(self) -> bool:
        return self._tx is not None and self._tx_owner == _thread.get_ident()

    def _lookup_images(self) -> tuple[Image, Image]:
        """Outside a transaction, a file the store wrote (its stamp records the layout) is mapped,
        not read, so a lookup bisects it and reads a few lines: a few ids cost microseconds, not a
        read and decode of the whole file."""
        if self._own_tx():
            return super()._lookup_images()
        return _lookup_image(self._dir, self._issues), _lookup_image(self._dir, self._wisps_file)

    def ready(self, limit: int | None = None, sort: str = "hybrid", *,
              include_molecule_steps: bool = False) -> list[Issue]:
        """Ready work. Outside a transaction the answer comes from a summary cached per file version
        (in memory and in `.beads/.ready.cache`), so a `bd ready` at 10k issues parses ~nothing."""
        if include_molecule_steps or self._own_tx():
            return super().ready(limit, sort, include_molecule_steps=include_molecule_steps)
        if sort not in graph.SORTS:
            raise UsageError(f"'{sort}' is not a valid sort", hint="valid sorts: " + ", ".join(graph.SORTS))
        now = self.clock() / 1e9
        rows = [r for r in self._ready_rows() if not r[3] or r[3] <= now]
        rows.sort(key=graph.sort_key(sort, now))
        rows = rows[: limit or None]
        fps = self._summary_fps
        if rows and fps[0] is not None and not self._indexed_in_memory(fps[0]):
            got = self._rows_of(fps[0], rows)
            if got is not None:
                out = [Issue(obj) for obj in got]
                if all(graph.is_ready_candidate(i, now) for i in out):
                    return out
                # A row the file says is no candidate: the cache lies; the full reading decides.
                return super().ready(limit, sort)
        main, wisps = self._main(), self._wisps()
        out = []
        for r in rows:
            rec = main.record(r[0])
            if rec is not None:
                out.append(Issue(rec))
            elif (rec := wisps.record(r[0])) is not None:
                out.append(Issue(rec, ephemeral_file=True))
        if not all(graph.is_ready_candidate(i, now) for i in out):
            return super().ready(limit, sort)
        return out

    def _ready_rows(self) -> list[tuple]:
        """The summary's ready candidates, their times keyed. Rows a writer added carry the times
        as written (`_cand_row`): the first reader keys them and, when no writer holds the store
        and the files are still that version, writes the keyed summary back for the readers after it."""
        summary = self._ready_summary()
        if summary.get("unkeyed"):
            summary["cands"] = _keyed(summary["cands"])
            del summary["unkeyed"]
            from gastown_tui.infra.fsutil import Lock

            try:
                lock = Lock(os.path.join(self._dir, LOCK), create=False)
            except OSError:
                return summary["cands"]
            try:
                if lock.acquire(blocking=False) and self._fps() == summary["fps"]:
                    at = _summary_index(summary)
                    _write_summary(os.path.join(self._dir, SUMMARY),
                                   {k: v for k, v in summary.items() if k not in ("at", "_index")}, at)
            finally:
                lock.close()
        return summary["cands"]

    def _rows_of(self, fp: list | tuple, rows: list[tuple]) -> list[dict[str, Any]] | None:
        """The records of these summary rows, read at the offsets the summary recorded for this very
        version `fp` of the file (few: line by line; many: cut from the mapped file), each checked
        to be its issue's whole line; None when one is not. Kept for this version: asked again,
        nothing is read."""
        fp = tuple(fp)
        memo_fp, memo = self._rows_read
        if memo_fp != fp:
            memo = {}
        got = [memo.get((r[0], r[4], r[5])) for r in rows]
        if None not in got:
            return got  # type: ignore[return-value]
        fd = self._open_version(fp)
        if fd < 0:
            return None
        mapped = None
        try:
            if len(rows) - len(memo) > _FEW_ROWS:
                import mmap

                mapped = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
            for n, r in enumerate(rows):
                if got[n] is None:
                    obj = _verified_line(fd, r[0], r[4], r[5]) if mapped is None else _line_at(mapped, r[0], r[4], r[5])
                    if obj is None:
                        return None
                    got[n] = memo[(r[0], r[4], r[5])] = obj
        finally:
            if mapped is not None:
                mapped.close()
            os.close(fd)
        self._rows_read = (fp, memo)
        return got  # type: ignore[return-value]

    def _open_version(self, fp: list | tuple) -> int:
        """A descriptor of issues.jsonl when the open file is exactly version `fp`, else -1."""
        try:
            fd = os.open(self._issues, os.O_RDONLY)
        except OSError:
            return -1
        st = os.fstat(fd)
        if (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns) == tuple(fp):
            return fd
        os.close(fd)
        return -1

    def _fps(self) -> list:
        return [fingerprint(self._issues), fingerprint(self._wisps_file)]

    def _known_summary(self) -> dict[str, Any] | None:
        """The summary of the current file versions when one exists (in memory or on disk); builds none."""
        fps = self._fps()
        key = (self._dir, repr(fps))
        summary = _SUMMARIES.get(key)
        if summary is None:
            summary = _read_summary(os.path.join(self._dir, SUMMARY), fps)
            if summary is None:
                return None
            _SUMMARIES.clear()
            _SUMMARIES[key] = summary
        self._summary_fps = summary["fps"]
        return summary

    def _live(self) -> _ReadyIssues:
        """The issues readiness depends on (every one not closed or deleted among them), for the
        current file versions: built once per version, parsing no tombstone or closed line
        without dependencies."""
        main, wisps = self._main(), self._wisps()
        key = (id(main), main.fp, id(wisps), wisps.fp)
        got = _LIVE.get(self._dir)
        if got is None or got[0] != key:
            got = _LIVE[self._dir] = (key, _ReadyIssues(main, wisps))  # one generation per store
        return got[1]

    def _listed(self, unfinished: bool) -> Iterable[Issue]:
        if unfinished and not self._own_tx():
            return self._live().values()  # a listing of unfinished work parses no closed or deleted line
        return super()._listed(unfinished)

    def _ready_summary(self) -> dict[str, Any]:
        summary = self._known_summary()
        if summary is not None:
            return summary
        main, wisps = self._main(), self._wisps()
        fps = [main.fp, wisps.fp]  # the versions these very images were read from
        issues = self._live()
        blocked = graph.blocked_ids(issues)
        inf = float("inf")
        offsets = _line_offsets(main.lines)
        index = main.index
        cands = []
        for i in issues.values():
            if graph.is_ready_candidate(i, inf) and i.id not in blocked:
                n = index.get(i.id)
                off, length = (offsets[n], offsets[n + 1] - offsets[n] - 1) if n is not None else (-1, 0)
                cands.append(_cand_row(i, ts_key(i.created_at), ts_key(i.get("defer_until")), off, length))
        # Every live issue with a dependency is in `issues` (only closed lines without one are left
        # out), so its dependents map is the store's.
        who: dict[str, list[str]] = {}
        for i in issues.values():
            a = _assigned_to(i.data)
            if a is not None:
                who.setdefault(a, []).append(i.id)
        for v in who.values():
            v.sort()
        summary = {"v": SUMMARY_VERSION, "fps": fps, "cands": cands, "by": graph.dependents_map(issues.values()),
                   "who": who}
        at = _LineIndex.build(index, offsets) if fps[0] is not None else None
        _write_summary(os.path.join(self._dir, SUMMARY), summary, at)
        summary["at"] = at
        _SUMMARIES.clear()
        _SUMMARIES[(self._dir, repr(fps))] = summary
        self._summary_fps = fps
        return summary

    def _summary_index(self, summary: dict[str, Any]) -> _LineIndex | None:
        return _summary_index(summary)

    def try_get(self, issue_id: str) -> Issue | None:
        """Outside a transaction, unless the file is in memory and indexed, a known summary's line
        index answers with one read of the issue's own line (checked to be that issue's)."""
        if not self._own_tx() and not self._indexed_in_memory():
            got = self._indexed_get(issue_id)
            if got is not _MISS:
                return got  # type: ignore[return-value]
        return super().try_get(issue_id)

    def _indexed_in_memory(self, fp: tuple | None = None) -> bool:
        """This version of the file (`fp`, else the one on disk now) is in memory and split into
        indexed lines: a lookup there beats reading a line."""
        img = _CACHE.get(self._issues)
        if img is None or img._lines is None or img.modified:
            return False
        return img.fp == (tuple(fp) if fp is not None else fingerprint(self._issues))

    def _indexed_get(self, issue_id: str) -> Any:
        summary = self._known_summary()
        at = self._summary_index(summary) if summary is not None and summary["fps"][0] is not None else None
        if at is None:
            return _MISS
        place = at.place(issue_id)
        if place is None:  # not in the main file at all: the wisps decide
            rec = self._wisps().record(issue_id)
            return Issue(rec, ephemeral_file=True) if rec is not None else None
        fd = self._open_version(summary["fps"][0])
        if fd < 0:
            return _MISS
        try:
            obj = _verified_line(fd, issue_id, place[0], place[1])
        finally:
            os.close(fd)
        return _MISS if obj is None else Issue(obj)

    def dependent_counts(self) -> dict[str, int]:
        if self._own_tx():
            return super().dependent_counts()
        summary = self._known_summary()
        if summary is None:
            summary = self._ready_summary()  # the live issues hold every dependent: one pass over them
        return {t: len(v) for t, v in summary["by"].items()}

    def assigned(self, assignee: str) -> list[Issue]:
        summary = None if self._own_tx() else self._known_summary()
        if summary is None:
            return super().assigned(assignee)
        out = [self.try_get(iid) for iid in summary["who"].get(assignee, ())]
        out = [i for i in out if i is not None]
        if not all(i.get("assignee") == assignee and i.status not in ("closed", "tombstone") for i in out):
            return super().assigned(assignee)  # the cache lies about a row: the file decides
        return out

    def dependent_links(self, issue_id: str) -> list[tuple[Issue, dict[str, Any]]]:
        summary = None if self._own_tx() else self._known_summary()
        if summary is None:
            return super().dependent_links(issue_id)
        found = {iid: self.try_get(iid) for iid in dict.fromkeys(summary["by"].get(issue_id, ()))}
        if any(o is not None and o.status == "tombstone" for o in found.values()):
            return super().dependent_links(issue_id)  # the cache lies about a row: the file decides
        return self._links(issue_id, found, found.get)

    def _main(self) -> Image:
        if self._tx is not None and self._tx_owner == _thread.get_ident():
            return self._tx._main()
        return _cached_image(self._issues)

    def _wisps(self) -> Image:
        if self._tx is not None and self._tx_owner == _thread.get_ident():
            return self._tx._wisps()
        return _cached_image(self._wisps_file)

    def rewritten_outside(self) -> _Outside:
        """Hold the store's lock while another program rewrites the main file (`git pull` in
        `bd sync`); when it is done, log which ids that changed (`beads.changelog`), so answers kept
        for the version before (the inbox memo) are updated rather than computed afresh:
        `with store.rewritten_outside(): git pull`."""
        return _Outside(self)

    def transaction(self, *, actor: str | None = None) -> _Scope:
        """Hold the store's lock; changes made through `tx` are written together when the block ends:
        `with store.transaction() as tx:` (nested: joins the outer transaction)."""
        return _Scope(self, actor)

    # Each change is its own transaction, combined with whatever other processes are waiting for
    # the lock: the holder applies every pending request in one rewrite (one fsync for many changes),
    # which is what lets 30 writers sustain hundreds of changes a second on a 10k-issue file.
    def _apply(self, op: str, args: tuple, kwargs: dict[str, Any]) -> Any:
        if self._tx is not None and self._tx_owner == _thread.get_ident():
            return getattr(self._tx, op)(*args, **kwargs)
        return _combined(self, op, list(args), kwargs)

    def create(self, title: str, **kw: Any) -> Issue:
        return self._apply("create", (title,), kw)

    def update(self, issue_id: str, *, actor: str | None = None, **fields: Any) -> Issue:
        return self._apply("update", (issue_id,), {"actor": actor, **fields})

    def claim(self, issue_id: str, assignee: str, *, status: str = "in_progress") -> Issue:
        return self._apply("claim", (issue_id, assignee), {"status": status})

    def close(self, issue_id: str, reason: str | None = None, *, actor: str | None = None) -> Issue:
        return self._apply("close", (issue_id, reason), {"actor": actor})

    def reopen(self, issue_id: str, *, actor: str | None = None) -> Issue:
        return self._apply("reopen", (issue_id,), {"actor": actor})

    def delete(self, issue_id: str, *, reason: str = "delete", actor: str | None = None) -> Issue:
        return self._apply("delete", (issue_id,), {"reason": reason, "actor": actor})

    def add_dependency(self, issue_id: str, depends_on_id: str, type: str = "blocks", *, actor: str | None = None) -> Issue:
        return self._apply("add_dependency", (issue_id, depends_on_id, type), {"actor": actor})

    def remove_dependency(self, issue_id: str, depends_on_id: str, *, actor: str | None = None) -> Issue:
        return self._apply("remove_dependency", (issue_id, depends_on_id), {"actor": actor})

    def add_label(self, issue_id: str, label: str, *, actor: str | None = None) -> Issue:
        return self._apply("add_label", (issue_id, label), {"actor": actor})

    def remove_label(self, issue_id: str, label: str, *, actor: str | None = None) -> Issue:
        return self._apply("remove_label", (issue_id, label), {"actor": actor})

    def add_comment(self, issue_id: str, text: str, author: str | None = None) -> dict[str, Any]:
        return self._apply("add_comment", (issue_id, text), {"author": author})

    def put(self, record: dict[str, Any], *, ephemeral: bool = False) -> Issue:
        return self._apply("put", (record,), {"ephemeral": ephemeral})


PENDING = ".pending"
_OPS = frozenset({"create", "update", "claim", "close", "reopen", "delete", "add_dependency",
                  "remove_dependency", "add_label", "remove_label", "add_comment", "put"})
_ERRORS = {"GtError": GtError, "UsageError": UsageError, "NotFound": NotFound, "Conflict": Conflict,
           "StoreCorrupt": StoreCorrupt}


def _encode_result(value: Any) -> dict[str, Any]:
    if isinstance(value, Issue):
        return {"issue": value.data, "eph": value.ephemeral_file}
    return {"value": value}


def _decode_result(res: dict[str, Any]) -> Any:
    if "err" in res:
        cls = _ERRORS.get(res["err"], GtError)
        raise cls(res["msg"], hint=res.get("hint"))
    if "issue" in res:
        return Issue(res["issue"], ephemeral_file=res["eph"])
    return res["value"]


def _error_result(e: BaseException) -> dict[str, Any]:
    if isinstance(e, (OSError, UnicodeError)):
        from gastown_tui.errors import fault_error

        e = fault_error(e)  # a full disk or read-only store reaches the waiting client as a sentence
    if isinstance(e, GtError):
        return {"err": type(e).__name__ if type(e).__name__ in _ERRORS else "GtError", "msg": e.message, "hint": e.hint}
    return {"err": "GtError", "msg": f"internal error while changing the store: {type(e).__name__}: {e}",
            "hint": "run with GT_DEBUG=1 and report it"}


def _write_temp(path: str, data: Any, source: int | None = None) -> tuple[str, int]:
    """The new content of `path` in a fsynced temp file beside it: (temp path, its inode).
    With `source`, `data` are pieces: bytes and ranges of that file (fsutil.stage)."""
    from gastown_tui.infra.fsutil import stage

    tmp, ino = stage(path, data, source=source)
    return tmp, ino


def _stage_image(path: str, img: Image) -> tuple[str, int]:
    """`img`'s new content in a fsynced temp file beside `path`. When the file on disk is still the
    version the image was read from (we hold the lock), the unchanged bytes are copied from it in
    the kernel and only the changed lines are encoded: a change costs its own lines, not the file's."""
    pieces = img.spliced() if img.fp is not None else None
    if pieces is not None:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            fd = -1
        if fd >= 0:
            try:
                st = os.fstat(fd)
                if (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns) == img.fp:
                    return _write_temp(path, pieces, source=fd)
            finally:
                os.close(fd)
    return _write_temp(path, img.text().encode("utf-8"))


def _fault(point: str) -> None:
    """Tests kill a combiner at a chosen point (GT_BEADS_FAULT=<point>) to check recovery."""
    if os.environ.get("GT_BEADS_FAULT") == point:
        os._exit(77)


def _recover(pending: Path) -> None:
    """Under the lock: finish the work of a combiner that died after staging its write.

    Its journal names the temp files it staged (fsynced, in rename order) and the results of the
    requests it applied. If the first rename happened, the batch is committed: finish the other
    renames, hand out the results and retire the requests (so no one applies them again). If not,
    nothing of it reached the store: drop the temp files and let the requests be applied anew.
    """
    from gastown_tui.beads.codec import loads

    try:
        journals = [e for e in os.listdir(pending) if e.endswith(".batch")]
    except OSError:
        return
    beads_dir = os.path.dirname(pending)
    for entry in journals:
        try:
            data = loads(_read_text(os.path.join(pending, entry)))
            files = [(str(a), str(b), int(c)) for a, b, c in data["files"]]
            results = dict(data["results"])
        except (OSError, ValueError, KeyError, TypeError):
            _discard(os.path.join(pending, entry))
            continue
        first = files[0] if files else None
        committed = first is not None and (fingerprint(os.path.join(beads_dir, first[0])) or (0,))[0] == first[2]
        for name, tmp_name, ino in files:
            tmp = os.path.join(beads_dir, tmp_name)
            if not committed:
                _discard(tmp)
                continue
            if (fingerprint(tmp) or (0,))[0] == ino:
                os.replace(tmp, os.path.join(beads_dir, name))  # roll forward a rename the dead combiner missed
            fp = fingerprint(os.path.join(beads_dir, name))
            if fp is not None and fp[0] == ino:
                _write_stamp(beads_dir, os.path.join(beads_dir, name), fp)  # fully parsed content, written by the store
        if committed:
            if data.get("own"):
                _discard(os.path.join(pending, f"{data['own']}.req"))  # the dead combiner's own change is in too
            for other, res in results.items():
                if os.path.exists(os.path.join(pending, f"{other}.req")):
                    _answer(pending, other, res)
        _discard(os.path.join(pending, entry))
    _clean_leftovers(pending)


def _read_text(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def _discard(path: str) -> None:
    """Remove a queue or temp file that may already be gone (another process took it)."""
    try:
        os.unlink(path)
    except OSError:
        pass


def _answer(pending: str, name: str, res: Any) -> None:
    """Hand request `name` its result (`.res`) and remove the request (`.req`), as far as the disk allows."""
    from gastown_tui.beads.codec import to_json

    try:
        _write_small(os.path.join(pending, f"{name}.res"), to_json(res, ascii_only=True))
    except OSError:
        pass
    _discard(os.path.join(pending, f"{name}.req"))


def _write_small(path: Path, data: str) -> None:
    """Queue files (requests, results, journals): atomic, not fsynced (they live for one batch;
    a journal's staged data files are fsynced themselves)."""
    _write_small_bytes(path, data.encode("utf-8"))


def _write_small_bytes(path: Path, data: bytes) -> None:
    from gastown_tui.infra.fsutil import atomic_write_bytes

    atomic_write_bytes(path, data, fsync=False, mkdir=False)


def _combined(store: Store, op: str, args: list, kwargs: dict[str, Any]) -> Any:
    from gastown_tui.beads.codec import to_json
    from gastown_tui.infra.fsutil import Lock

    # Strings, not Paths, on the whole write path: pathlib (with urllib.parse under it) costs an
    # agent's `bd create` more CPU than the write itself.
    if not os.path.isdir(store._dir):
        raise NotFound(f"no beads store at {store._dir}", hint="create one with 'bd init'")
    pending = os.path.join(store._dir, PENDING)
    name = f"{time.time_ns():020d}-{os.getpid()}-{_thread.get_ident()}-{id(args)}"
    req = {"op": op, "args": args, "kwargs": kwargs, "actor": store.actor or default_actor()}
    try:
        payload = to_json(req, default=list, ascii_only=True)
    except (TypeError, ValueError):
        payload = None  # not serialisable (odd field values): apply it ourselves, alone
    lock = Lock(os.path.join(store._dir, LOCK), create=True)
    try:
        if payload is not None and lock.acquire(blocking=False):
            payload = None  # nobody holds the lock: apply ours now, with no queue files to write
        return _queued(store, pending, name, payload, lock, op, args, kwargs)
    finally:
        lock.close()


def _queued(store: Store, pending: str, name: str, payload: str | None, lock: Any, op: str, args: list,
            kwargs: dict[str, Any]) -> Any:
    """`_combined` with `lock` open (held already when `payload` is None and it was free)."""
    from gastown_tui.beads.codec import loads

    fifo = os.path.join(pending, f"{name}.fifo")
    if payload is not None:
        try:
            try:
                os.mkdir(pending)
            except FileExistsError:
                pass
            os.mkfifo(fifo)  # a combiner wakes us through it when our result (or the lock) is free
            _write_small(os.path.join(pending, f"{name}.req"), payload)
        except OSError:
            payload = None  # cannot queue (read-only dir?): take the lock and apply it ourselves
    res_path = os.path.join(pending, f"{name}.res")
    rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK) if payload is not None else -1
    try:
        if payload is None:
            if not lock.held:
                lock.acquire()
            _recover(pending)
        else:
            import select

            while True:
                if os.path.exists(res_path):  # someone applied our request
                    res = loads(_read_text(res_path))
                    _discard(res_path)
                    return _decode_result(res)
                if lock.acquire(blocking=False):
                    break
                # Someone is combining: sleep until it signals (or, as a safety net, 50 ms).
                ready, _, _ = select.select([rfd], [], [], 0.05)
                if ready:
                    try:
                        data = os.read(rfd, 64)
                    except BlockingIOError:
                        data = b"!"
                    if not data:  # writer closed: reopen so select blocks again
                        os.close(rfd)
                        rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
            _recover(pending)  # a combiner killed after its write: hand out what it applied
            if os.path.exists(res_path):  # applied between our check and our lock (or by a killed combiner)
                lock.release()
                continue_res = loads(_read_text(res_path))
                _discard(res_path)
                return _decode_result(continue_res)
        try:
            return _combine_locked(store, pending, name, payload, op, args, kwargs)
        finally:
            lock.release()
            _signal_waiters(pending, exclude=f"{name}.fifo")
    finally:
        if rfd >= 0:
            os.close(rfd)
            _discard(fifo)


def _pid_alive(pid: int) -> bool:
    from gastown_tui.infra.pids import pid_alive

    return pid_alive(pid)


def pending_leftovers(beads_dir: Path) -> list[str]:
    """Queue files (`.pending/*.fifo|*.res|*.req`) of writer processes that no longer exist."""
    try:
        entries = sorted(os.listdir(os.path.join(beads_dir, PENDING)))
    except OSError:
        return []
    out = []
    for entry in entries:
        stem, dot, ext = entry.rpartition(".")
        if not dot or ext not in ("fifo", "res", "req"):
            continue
        parts = stem.split("-")
        if len(parts) >= 2 and parts[1].isdigit() and not _pid_alive(int(parts[1])):
            out.append(entry)
    return out


def _clean_leftovers(pending: str) -> None:
    """Under the lock: drop the queue files of dead writers (nobody waits for them; never acknowledged)."""
    for entry in pending_leftovers(os.path.dirname(pending)):
        _discard(os.path.join(pending, entry))


def _signal_waiters(pending: Path, *, exclude: str = "") -> None:
    """After releasing the lock: wake every process queued for it (its result is ready, or the lock is free)."""
    try:
        entries = os.listdir(pending)
    except OSError:
        return
    for entry in entries:
        if entry.endswith(".fifo") and entry != exclude:
            try:
                wfd = os.open(os.path.join(pending, entry), os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                continue
            try:
                os.write(wfd, b"!")
            except OSError:
                pass
            os.close(wfd)


def _combine_locked(store: Store, pending: str, name: str, payload: str | None, op: str, args: list,
                    kwargs: dict[str, Any]) -> Any:
    from gastown_tui.beads.codec import loads, to_json

    # We hold the lock: apply every waiting request (ours included) in one transaction.
    batch = []
    try:
        for entry in sorted(os.listdir(pending)):
            if entry.endswith(".req") and entry != f"{name}.req":
                try:
                    batch.append((entry[:-4], loads(_read_text(os.path.join(pending, entry)))))
                except (OSError, ValueError):
                    pass
    except OSError:
        pass
    results: dict[str, dict[str, Any]] = {}
    own: Any = None
    own_error: BaseException | None = None
    tx = Transaction(store, actor=store.actor)
    store._tx, store._tx_owner = tx, _thread.get_ident()
    try:
        if len(batch) >= 2:
            # Many changes to a file whose stamp does not say it is sorted: one split-and-index pass
            # beats a text scan per lookup (a sorted one is searched by bisection, and spliced).
            try:
                main = tx._main()
                if not main._sorted:
                    main._materialize()
            except GtError:
                pass
        for other, r in batch:
            if r.get("op") not in _OPS:
                results[other] = {"err": "GtError", "msg": f"unknown store operation {r.get('op')!r}"}
                continue
            tx.actor = r.get("actor")
            try:
                results[other] = _encode_result(getattr(tx, r["op"])(*r.get("args", []), **r.get("kwargs", {})))
            except Exception as e:  # one bad request must not sink the others
                results[other] = _error_result(e)
        tx.actor = store.actor
        try:
            own = getattr(tx, op)(*args, **kwargs)
        except Exception as e:
            own_error = e
        journal = os.path.join(pending, f"{name}.batch")

        def before_replace(files: list[tuple[str, str, int]]) -> None:
            # The results, and the identity of the files that will carry them, are on disk before
            # the data is: whoever takes the lock after a combiner died mid-way finishes its job
            # (see _recover), so a request is applied exactly once.
            if results or payload:
                _write_small(journal, to_json({"files": files, "results": results, "own": name if payload else None}, ascii_only=True))
            _fault("combine-before-replace")

        try:
            tx._commit(before_replace)
        except BaseException as e:
            for other in results:
                results[other] = _error_result(e)
            own_error = e
        _fault("combine-after-commit")
    finally:
        store._tx, store._tx_owner = None, None
        for other, res in results.items():
            _answer(pending, other, res)
        if payload is not None:
            _discard(os.path.join(pending, f"{name}.req"))
        _discard(os.path.join(pending, f"{name}.batch"))
    if own_error is not None:
        raise own_error
    return own


class _Outside:
    """`Store.rewritten_outside`: the lock, and the main file's version before and after."""

    def __init__(self, store: Store) -> None:
        self.store, self.lock, self.before = store, None, None

    def __enter__(self) -> None:
        from gastown_tui.infra.fsutil import Lock

        self.lock = Lock(self.store.lock_path)
        try:
            self.lock.acquire()
            try:
                self.before = Image.read(self.store._issues)
            except Exception:  # noqa: BLE001 - unreadable now: nothing will be logged (readers read everything)
                self.before = None
        except BaseException:
            self.lock.close()
            raise

    def __exit__(self, *exc: object) -> None:
        try:
            before = self.before
            if before is not None:
                after = Image.read(self.store._issues)  # (content and version read together: fstat)
                if before.fp != after.fp:
                    changelog.record(self.store._dir, os.path.basename(self.store._issues), before.fp, after.fp,
                                     _changed_between(before, after))
        except Exception:  # noqa: BLE001 - the rewrite is done; an unlogged one only means readers read everything
            pass
        finally:
            self.lock.release()  # type: ignore[union-attr]
            self.lock.close()  # type: ignore[union-attr]


def _changed_between(old: Image, new: Image) -> set[str]:
    """The ids whose record may differ between two versions of a file: the line that wins for the
    id (its record is that line's, `Image.record`) is another text, or there is none in one."""
    old_lines, old_index, new_lines, new_index = old.lines, old.index, new.lines, new.index
    return {iid for iid in old_index.keys() | new_index.keys()
            if (old_lines[old_index[iid]] if iid in old_index else None)
            != (new_lines[new_index[iid]] if iid in new_index else None)}


class _Scope:
    """`Store.transaction()`: the lock held for the block, its changes committed when it ends well.
    (A class, not contextlib: that module pulls functools and collections into every `bd` call.)"""

    __slots__ = ("store", "actor", "lock", "pending", "nested")

    def __init__(self, store: Store, actor: str | None) -> None:
        self.store, self.actor, self.lock, self.pending, self.nested = store, actor, None, "", False

    def __enter__(self) -> Transaction:
        store = self.store
        if store._tx is not None and store._tx_owner == _thread.get_ident():
            self.nested = True  # join the outer transaction
            return store._tx
        from gastown_tui.infra.fsutil import Lock

        if not os.path.isdir(store._dir):
            raise NotFound(f"no beads store at {store._dir}", hint="create one with 'bd init'")
        self.pending = os.path.join(store._dir, PENDING)
        lock = None
        try:
            lock = Lock(os.path.join(store._dir, LOCK))
            lock.acquire()
            _recover(self.pending)
            tx = Transaction(store, actor=self.actor or store.actor)
        except BaseException:
            if lock is not None:
                lock.close()
            self._signal()
            raise
        self.lock = lock
        store._tx, store._tx_owner = tx, _thread.get_ident()
        return tx

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if self.nested:
            return
        store = self.store
        try:
            try:
                if exc_type is None:
                    store._tx._commit()
            finally:
                store._tx, store._tx_owner = None, None
                self.lock.close()
        finally:
            self._signal()

    def _signal(self) -> None:
        if os.path.isdir(self.pending):
            _signal_waiters(self.pending)


class Transaction(_Ops):
    """Changes under one lock, written together at the end; `get`/`list` see them already."""

    def __init__(self, store: Store, *, actor: str | None = None) -> None:
        self.store = store
        self._dir = store._dir  # paths are strings here: see _combined
        self.clock = store.clock
        self.actor = actor
        self._images: dict[str, Image] = {}
        self._now: str | None = None
        self._summary: dict[str, Any] | None = None  # the ready summary of the versions read (see _summary_of)

    @property
    def prefix(self) -> str:
        return self.store.prefix

    @property
    def beads_dir(self) -> Path:
        return self.store.beads_dir

    def _files(self) -> tuple[str, str, str]:
        return self._dir, self.store._issues, self.store._wisps_file

    @property
    def issues_path(self) -> Path:
        return self.store.issues_path

    @property
    def wisps_path(self) -> Path:
        return self.store.wisps_path

    def _load(self, path: str) -> Image:
        img = self._images.get(path)
        if img is None:
            fp = fingerprint(path)
            img = None
            if fp is not None and _stamped(self._dir, path, fp):
                # Written by us with its layout recorded: map it rather than read it (see Image.mapped).
                img = Image.mapped(path, fp)
            if img is None:
                img = _cached_image(path)
                if img._edits:  # its text is an older file plus changes: a splice needs the file's own text
                    img = Image.read(path)
                img = img.clone()
            _check_writable(img, self._dir)
            if img._lines is None and not _stamped_layout(self._dir, img):
                img._materialize()  # where a new line goes is decided from the full index, once
            self._images[path] = img
            if path == self.store._issues and img._raw is not None and img._sorted:
                self._summary_of(img)
        return img

    def _summary_of(self, img: Image) -> None:
        """The ready summary of exactly the versions this transaction reads, if one exists: its line
        index tells a new id is new without a search of the file (`Image.vouched`), and the commit
        makes the next version's summary from it (`_next_summary`)."""
        fps = [img.fp, fingerprint(self.store._wisps_file)]
        summary = _SUMMARIES.get((self._dir, repr(fps))) or _read_summary(os.path.join(self._dir, SUMMARY), fps)
        at = _summary_index(summary) if summary is not None else None
        if at is not None:
            img.vouched = at
            self._summary = summary

    def _main(self) -> Image:
        return self._load(self.store._issues)

    def _wisps(self) -> Image:
        return self._load(self.store._wisps_file)

    def _commit(self, before_replace: Callable[[list[tuple[str, str, int]]], None] | None = None) -> None:
        """Write every changed file: all temp files (fsynced) first, then `before_replace`, then the renames."""
        todo = [(path, img) for path, img in self._images.items() if img.modified]
        main_path, wisps_img = self.store._issues, self._images.get(self.store._wisps_file)
        summary = None
        if self._summary is not None and [p for p, _ in todo] == [main_path]:
            try:
                summary = _next_summary(self._summary, self._images[main_path], wisps_img)
            except Exception:  # noqa: BLE001 - a cache: whatever goes wrong, a reader rebuilds it
                summary = None
        staged: list[tuple[str, str, int]] = []
        try:
            for path, img in todo:
                tmp, ino = _stage_image(path, img)
                staged.append((os.path.basename(path), os.path.basename(tmp), ino))
            if before_replace is not None and staged:
                before_replace(staged)
        except BaseException:
            for _, tmp_name, _ in staged:
                _discard(os.path.join(self._dir, tmp_name))
            raise
        for (path, img), (_, tmp_name, ino) in zip(todo, staged, strict=True):
            os.replace(os.path.join(self._dir, tmp_name), path)
            fp = fingerprint(path)
            img.modified = False
            if fp is None or fp[0] != ino:
                # Not the file we staged (replaced since, by a writer outside the lock): a stamp or
                # a cached image would vouch for text that is not there. Readers read the file.
                with _CACHE_LOCK:
                    _CACHE.pop(os.fspath(path), None)
                continue
            before, img.fp = img.fp, fp
            _write_stamp(self._dir, path, img.fp, img)
            _remember(path, img)
            # Which ids this version changed: what lets a reader's memo re-read only those.
            changelog.record(self._dir, os.path.basename(path), before, fp, img.touched)
            img.touched = set()
            if summary is not None and path == main_path and (
                    wisps_fp := fingerprint(self.store._wisps_file)) == self._summary["fps"][1]:  # type: ignore[index]
                # The summary of the version just written, for the next reader and writer.
                summary["fps"] = [fp, wisps_fp]
                at = summary.pop("at")
                _write_summary(os.path.join(self._dir, SUMMARY), summary, at)
                summary["at"] = at
                _SUMMARIES.clear()
                _SUMMARIES[(self._dir, repr(summary["fps"]))] = summary

    def now(self) -> str:
        if self._now is None:
            self._now = format_ts(self.clock())
        return self._now

    def _actor(self, actor: str | None) -> str:
        return actor or self.actor or default_actor()

    def _record(self, issue_id: str) -> tuple[dict[str, Any], Image]:
        for img in (self._main(), self._wisps()):
            rec = img.fresh_record(issue_id)
            if rec is not None:
                return rec, img
        raise self._not_found(issue_id)

    def _save(self, rec: dict[str, Any], img: Image) -> Issue:
        img.put(rec)
        return Issue(img.record(rec["id"]) or rec, ephemeral_file=img is self._images.get(self.store._wisps_file))

    # --- changes ----------------------------------------------------------------------------

    def create(self, title: str, *, type: str = "task", priority: int = 2, description: str = "",
               assignee: str | None = None, labels: Iterable[str] = (), parent: str | None = None,
               deps: Iterable[tuple[str, str]] = (), status: str = "open", ephemeral: bool = False,
               id: str | None = None, fields: dict[str, Any] | None = None, actor: str | None = None,
               issue_type: str | None = None) -> Issue:
        title = (title or "").strip()
        if not title:
            raise UsageError("an issue needs a title", hint="for example: bd create \"Fix the login bug\"")
        itype = check_type(issue_type or type)
        prio = check_priority(priority)
        check_status(status)
        who = self._actor(actor)
        if assignee:
            ids.check_name(assignee, "assignee")
        main, wisps = self._main(), self._wisps()
        if parent is not None:
            parent_rec, _ = self._record(parent)
            if parent_rec.get("status") == "tombstone":
                raise UsageError(f"the parent {parent} is deleted", hint="pick another parent")
        if id is not None:
            ids.check_id(id)  # ids become file, branch and session names: one grammar at the door
            if self.exists(id):
                raise Conflict(f"issue {id} already exists", hint="pick another id or update the existing issue")
            new_id = id
        elif parent is not None:
            new_id = ids.child_id(parent, main.children_numbers(parent) + wisps.children_numbers(parent))
        else:
            ts = self.clock()
            if itype == "convoy" and self.prefix == "hq":
                new_id = ids.convoy_id(title=title, timestamp_ns=ts, exists=self.exists)
            else:
                kind = "wisp" if ephemeral else ("mol" if itype == "molecule" else None)
                new_id = ids.generate_id(self.prefix, title=title, description=description, creator=who,
                                         timestamp_ns=ts, count=len(main) + len(wisps), exists=self.exists, kind=kind)
        now = self.now()
        rec: dict[str, Any] = {"id": new_id, "title": title, "description": description, "status": status,
                               "priority": prio, "issue_type": itype, "assignee": assignee or "",
                               "created_at": now, "updated_at": now}
        if status == "closed":
            rec["closed_at"] = now
        rec["created_by"] = who
        if ephemeral:
            rec["ephemeral"] = True
        label_list = _labels(labels)
        if label_list:
            rec["labels"] = label_list
        dep_list = []
        if parent is not None:
            dep_list.append(self._dep_dict(new_id, parent, "parent-child", who))
        for dtype, target in deps:
            dtype = check_dep_type(dtype)
            if target == new_id:
                raise UsageError(f"{new_id} cannot depend on itself", hint="remove that dependency")
            self._check_target(target)
            dep_list.append(self._dep_dict(new_id, target, dtype, who))
        if dep_list:
            rec["dependencies"] = dep_list
        for k, v in (fields or {}).items():
            if k == "id":
                continue
            set_key(rec, k, v)
        if rec.get("status") == "closed" and not rec.get("closed_at"):
            set_key(rec, "closed_at", now)
        return self._save(rec, wisps if ephemeral else main)

    def put(self, record: dict[str, Any], *, ephemeral: bool = False) -> Issue:
        """Insert or replace a whole record as given (import, merge tools); no rules applied."""
        if not isinstance(record.get("id"), str) or not record["id"]:
            raise UsageError("a record needs a string 'id'", hint="check the input line")
        ids.check_id(record["id"])
        for img in (self._main(), self._wisps()):
            if record["id"] in img:
                return self._save(dict(record), img)
        return self._save(dict(record), self._wisps() if ephemeral else self._main())

    def _dep_dict(self, issue_id: str, target: str, dtype: str, who: str) -> dict[str, Any]:
        return {"issue_id": issue_id, "depends_on_id": target, "type": dtype,
                "created_at": self.now(), "created_by": who}

    def _check_target(self, target: str) -> None:
        # Dependencies inside this store must point at real issues; other prefixes are other stores.
        ids.check_id(target, "the dependency target")
        if ids.split_prefix(target) == self.prefix and not self.exists(target):
            raise self._not_found(target)

    def update(self, issue_id: str, *, actor: str | None = None, **fields: Any) -> Issue:
        rec, img = self._record(issue_id)
        now = self.now()
        if "type" in fields:
            fields["issue_type"] = fields.pop("type")
        if fields.get("status") is not None:
            check_status(fields["status"])
        if fields.get("issue_type") is not None:
            check_type(fields["issue_type"])
        if fields.get("priority") is not None:
            fields["priority"] = check_priority(fields["priority"])
        if "labels" in fields and fields["labels"] is not None:
            fields["labels"] = _labels(fields["labels"])
        if fields.get("assignee"):
            ids.check_name(fields["assignee"], "assignee")
        if "title" in fields and not (fields["title"] or "").strip():
            raise UsageError("an issue's title cannot be empty", hint="give a title")
        old_status = rec.get("status") or "open"
        for k, v in fields.items():
            if k == "id":
                raise UsageError("an issue's id cannot change", hint="create a new issue instead")
            if v is None:
                rec.pop(k, None)
            else:
                set_key(rec, k, v)
        _closed_at_rule(rec, old_status, now)
        set_key(rec, "updated_at", now)
        return self._save(rec, img)

    def claim(self, issue_id: str, assignee: str, *, status: str = "in_progress") -> Issue:
        if not assignee:
            raise UsageError("a claim needs an assignee", hint="pass --actor or set BD_ACTOR")
        ids.check_name(assignee, "assignee")
        check_status(status)
        rec, img = self._record(issue_id)
        holder = rec.get("assignee") or ""
        st = rec.get("status") or "open"
        if holder and holder != assignee:
            raise Conflict(f"{issue_id} is already claimed by {holder}", hint="pick another issue with 'bd ready'")
        if st in ("closed", "tombstone"):
            raise Conflict(f"{issue_id} is {st} and cannot be claimed", hint="reopen it first with 'bd reopen'")
        now = self.now()
        set_key(rec, "assignee", assignee)
        set_key(rec, "status", status)
        _closed_at_rule(rec, st, now)
        set_key(rec, "updated_at", now)
        return self._save(rec, img)

    def close(self, issue_id: str, reason: str | None = None, *, actor: str | None = None) -> Issue:
        rec, img = self._record(issue_id)
        if rec.get("status") == "tombstone":
            raise Conflict(f"{issue_id} is deleted and cannot be closed", hint="nothing to do")
        now = self.now()
        old = rec.get("status") or "open"
        set_key(rec, "status", "closed")
        if old != "closed" or not rec.get("closed_at"):
            set_key(rec, "closed_at", now)
        if reason:
            set_key(rec, "close_reason", reason)
        set_key(rec, "updated_at", now)
        return self._save(rec, img)

    def reopen(self, issue_id: str, *, actor: str | None = None) -> Issue:
        rec, img = self._record(issue_id)
        st = rec.get("status") or "open"
        if st == "tombstone":
            raise Conflict(f"{issue_id} is deleted and cannot be reopened", hint="create a new issue instead")
        now = self.now()
        set_key(rec, "status", "open")
        rec.pop("closed_at", None)
        rec.pop("close_reason", None)
        set_key(rec, "updated_at", now)
        return self._save(rec, img)

    def delete(self, issue_id: str, *, reason: str = "delete", actor: str | None = None) -> Issue:
        rec, img = self._record(issue_id)
        if rec.get("status") == "tombstone":
            return Issue(rec)
        now = self.now()
        itype = rec.get("issue_type") or "task"
        set_key(rec, "status", "tombstone")
        rec.pop("closed_at", None)
        set_key(rec, "updated_at", now)
        set_key(rec, "deleted_at", now)
        set_key(rec, "deleted_by", self._actor(actor))
        set_key(rec, "delete_reason", reason)
        set_key(rec, "original_type", itype)
        return self._save(rec, img)

    def add_dependency(self, issue_id: str, depends_on_id: str, type: str = "blocks", *,
                       actor: str | None = None) -> Issue:
        dtype = check_dep_type(type)
        rec, img = self._record(issue_id)
        if issue_id == depends_on_id:
            raise UsageError(f"{issue_id} cannot depend on itself", hint="pick another issue")
        self._check_target(depends_on_id)
        deps = list(rec.get("dependencies") or [])
        if any(d.get("depends_on_id") == depends_on_id and d.get("type") == dtype for d in deps):
            return Issue(rec)
        if dtype in graph.CYCLE_DEP_TYPES:
            cycle = graph.find_cycle(_LazyIssues(self), issue_id, depends_on_id)
            if cycle:
                raise Conflict(f"adding {issue_id} -> {depends_on_id} would make a dependency cycle: "
                               + " -> ".join(cycle), hint="remove one of those dependencies first")
        deps.append(self._dep_dict(issue_id, depends_on_id, dtype, self._actor(actor)))
        set_key(rec, "dependencies", deps)
        set_key(rec, "updated_at", self.now())
        return self._save(rec, img)

    def remove_dependency(self, issue_id: str, depends_on_id: str, *, actor: str | None = None) -> Issue:
        rec, img = self._record(issue_id)
        deps = list(rec.get("dependencies") or [])
        kept = [d for d in deps if d.get("depends_on_id") != depends_on_id]
        if len(kept) == len(deps):
            raise NotFound(f"{issue_id} does not depend on {depends_on_id}",
                           hint=f"see its dependencies with 'bd dep list {issue_id}'")
        if kept:
            set_key(rec, "dependencies", kept)
        else:
            rec.pop("dependencies", None)
        set_key(rec, "updated_at", self.now())
        return self._save(rec, img)

    def add_label(self, issue_id: str, label: str, *, actor: str | None = None) -> Issue:
        label = label.strip()
        if not label:
            raise UsageError("a label cannot be empty", hint="for example: bd label add gt-abc urgent")
        ids.check_name(label, "label")
        rec, img = self._record(issue_id)
        labels = list(rec.get("labels") or [])
        if label in labels:
            return Issue(rec)
        set_key(rec, "labels", sorted([*labels, label]))
        set_key(rec, "updated_at", self.now())
        return self._save(rec, img)

    def remove_label(self, issue_id: str, label: str, *, actor: str | None = None) -> Issue:
        rec, img = self._record(issue_id)
        labels = list(rec.get("labels") or [])
        if label not in labels:
            raise NotFound(f"{issue_id} has no label '{label}'",
                           hint=("its labels: " + ", ".join(labels)) if labels else "it has no labels")
        labels.remove(label)
        if labels:
            set_key(rec, "labels", labels)
        else:
            rec.pop("labels", None)
        set_key(rec, "updated_at", self.now())
        return self._save(rec, img)

    def add_comment(self, issue_id: str, text: str, author: str | None = None) -> dict[str, Any]:
        if not (text or "").strip():
            raise UsageError("a comment cannot be empty", hint="give the comment text")
        rec, img = self._record(issue_id)
        comments = list(rec.get("comments") or [])
        numeric = [c.get("id") for c in comments if isinstance(c.get("id"), int)]
        comment = {"id": max(numeric, default=0) + 1 if numeric or not comments else len(comments) + 1,
                   "issue_id": issue_id, "author": author or self._actor(None), "text": text,
                   "created_at": self.now()}
        comments.append(comment)
        set_key(rec, "comments", comments)
        set_key(rec, "updated_at", self.now())
        self._save(rec, img)
        return comment


class _LazyIssues:
    """A mapping view that parses only the issues a graph walk visits (fast cycle checks)."""

    def __init__(self, ops: _Ops) -> None:
        self.ops = ops

    def get(self, issue_id: str, default: Any = None) -> Issue | None:
        iss = self.ops.try_get(issue_id)
        return iss if iss is not None else default

    def __getitem__(self, issue_id: str) -> Issue:
        return self.ops.get(issue_id)

    def __contains__(self, issue_id: str) -> bool:
        return self.ops.exists(issue_id)


def _labels(labels: Iterable[str]) -> list[str]:
    if isinstance(labels, str):
        labels = [labels]
    return sorted({ids.check_name(lbl.strip(), "label") for lbl in labels if lbl and lbl.strip()})


def _closed_at_rule(rec: dict[str, Any], old_status: str, now: str) -> None:
    """`closed_at` is set exactly when status is closed."""
    if (rec.get("status") or "open") == "closed":
        if not rec.get("closed_at") or old_status != "closed":
            set_key(rec, "closed_at", now)
    else:
        rec.pop("closed_at", None)
        if old_status == "closed":
            rec.pop("close_reason", None)


# --- write safety -----------------------------------------------------------------------------------

def _stamp_path(beads_dir: Path | str, path: Path | str) -> str:
    return os.path.join(beads_dir, f"{STAMP}.{os.path.basename(path)}")


def _write_stamp(beads_dir: Path, path: Path, fp: tuple | None, img: Image | None = None) -> None:
    """Remember that the file with this identity was written (or checked in full) by us, so it
    need not be re-parsed; with `img`, also its layout (`Image.layout`), so the next writer knows
    where lines are and where a new one goes without scanning the file."""
    if fp is None:
        return
    text = " ".join(str(x) for x in fp)
    if img is not None:
        standard, nlines, ordered = img.layout()
        text += f" layout {int(standard)} {nlines} {int(ordered)}"
    try:
        _write_small(_stamp_path(beads_dir, path), text)
    except OSError:
        pass


def _read_stamp(beads_dir: Path, path: Path, fp: tuple | None) -> list[str] | None:
    """The stamp's words after the file identity when it names this very version, else None."""
    if fp is None:
        return []  # no file yet: nothing to validate
    try:
        with open(_stamp_path(beads_dir, path), encoding="utf-8") as f:
            words = f.read().split(" ")
    except OSError:
        return None
    return words[4:] if words[:4] == [str(x) for x in fp] else None


def _stamp_matches(beads_dir: Path, path: Path, fp: tuple | None) -> bool:
    return _read_stamp(beads_dir, path, fp) is not None


def _stamped(beads_dir: Path, path: Path, fp: tuple) -> bool:
    """The stamp names this version of the file and records its layout."""
    words = _read_stamp(beads_dir, path, fp)
    return bool(words) and words[0] == "layout"  # type: ignore[index]


def _stamped_layout(beads_dir: Path, img: Image) -> bool:
    """Give a freshly read image the layout its stamp records (True), so lookups bisect and a write
    splices; False when the stamp records none (an older stamp, or a file checked by parsing)."""
    if img.fp is None:
        if img._text:
            return False
        img._standard, img._nlines, img._sorted = True, 0, True  # no file yet: empty and sorted
        return True
    words = _read_stamp(beads_dir, img.path, img.fp)
    if not words or len(words) != 4 or words[0] != "layout" or not all(w.isdigit() for w in words[1:]):
        return False
    if words[1] != "1":
        img._standard = False
        return True
    img._standard, img._nlines, img._sorted = True, int(words[2]), words[3] == "1"
    img._escaped = False  # (standard: no line's id holds a backslash)
    return True


def _file_problems(beads_dir: Path | str, path: Path | str, image: Callable[[], Image]) -> list[Problem]:
    """The unreadable lines of one file version (see `known_problems`); reads the file only when
    neither the store's stamp nor a remembered verdict covers this version."""
    with _CACHE_LOCK:
        img = _CACHE.get(os.fspath(path))
    if img is None or img.modified or img.fp != fingerprint(path):
        fp = fingerprint(path)
        if fp is None:
            return []
        if _stamp_matches(beads_dir, path, fp):
            return []
        known = _read_verdict(beads_dir, path, fp)
        if known is not None:
            return known
        img = image()
    if img.fp is None or img.modified:
        return list(img._problems) if img._lines is not None else []
    if img.fully_parsed:
        return list(img.problems)
    if _stamp_matches(beads_dir, img.path, img.fp):
        return []
    known = _read_verdict(beads_dir, img.path, img.fp)
    if known is not None:
        return known
    img.parse_all()
    problems = list(img.problems)
    if problems:
        import marshal

        try:
            _write_small_bytes(_stamp_path(beads_dir, img.path) + ".problems",
                               marshal.dumps((list(img.fp), [(p.line, p.message) for p in problems])))
        except (OSError, ValueError):
            pass
    else:
        _write_stamp(beads_dir, img.path, img.fp, img)  # checked in full and clean: as good as our own write
    return problems


def _read_verdict(beads_dir: Path | str, path: Path | str, fp: tuple) -> list[Problem] | None:
    """The unreadable lines remembered for exactly this version of the file, or None."""
    import marshal

    try:
        with open(_stamp_path(beads_dir, path) + ".problems", "rb") as f:
            data = marshal.loads(f.read())
        if isinstance(data, tuple) and len(data) == 2 and data[0] == list(fp):
            return [Problem(path, n, m) for n, m in data[1]]  # type: ignore[arg-type]
    except (OSError, ValueError, EOFError, TypeError):
        pass
    return None


def _check_writable(img: Image, beads_dir: Path) -> None:
    """Refuse to write back a file we could not read completely (DESIGN §4)."""
    if _stamp_matches(beads_dir, img.path, img.fp):
        return  # exactly the file we wrote last (and had read completely): no need to re-parse it
    img.parse_all()  # someone else wrote it (git, an editor, upstream bd): check every line
    if img.problems:
        p = img.problems[0]
        more = f" (and {len(img.problems) - 1} more)" if len(img.problems) > 1 else ""
        raise StoreCorrupt(f"refusing to write: {p.sentence()}{more}",
                           hint="fix or remove that line (see 'bd doctor'), or restore the file from git")
    _write_stamp(beads_dir, img.path, img.fp, img)


def default_actor() -> str:
    """--actor (callers pass it), else $BD_ACTOR, else git user.name from config files, else $USER."""
    actor = os.environ.get("BD_ACTOR") or os.environ.get("BEADS_ACTOR")
    if actor:
        return actor
    return git_user_name() or os.environ.get("USER") or os.environ.get("LOGNAME") or "unknown"


def _repo_git_configs() -> list[str]:
    """The repository's own config files (worktree first), found from the current directory up,
    as git finds them: `.git/` or a `.git` file naming the git dir (worktrees, submodules)."""
    try:
        here = os.getcwd()
    except OSError:
        return []
    while True:
        dotgit = os.path.join(here, ".git")
        gitdir = None
        if os.path.isdir(dotgit):
            gitdir = dotgit
        elif os.path.isfile(dotgit):
            try:
                with open(dotgit, encoding="utf-8") as f:
                    line = f.readline().strip()
            except OSError:
                line = ""
            if line.startswith("gitdir:"):
                gitdir = os.path.normpath(os.path.join(here, line[7:].strip()))
        if gitdir is not None:
            out = [os.path.join(gitdir, "config.worktree")]
            common = gitdir
            try:
                with open(os.path.join(gitdir, "commondir"), encoding="utf-8") as f:
                    common = os.path.normpath(os.path.join(gitdir, f.read().strip()))
            except OSError:
                pass
            out.append(os.path.join(common, "config"))
            return out
        parent = os.path.dirname(here)
        if parent == here:
            return []
        here = parent


def git_user_name() -> str | None:
    """$GIT_AUTHOR_NAME, else user.name from git's config files: the repository's own wins over
    the global one, as `git config user.name` answers.

    Read directly: running git costs more than the whole bd command."""
    env = os.environ.get("GIT_AUTHOR_NAME")
    if env:
        return env
    candidates = _repo_git_configs()
    if os.environ.get("GIT_CONFIG_GLOBAL"):
        candidates.append(os.environ["GIT_CONFIG_GLOBAL"])
    home = os.path.expanduser(os.environ.get("HOME", "~"))
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    candidates += [os.path.join(home, ".gitconfig"), os.path.join(xdg, "git", "config")]
    for path in candidates:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError:
            continue
        section = ""
        for raw in text.splitlines():
            line = raw.strip()
            if line.startswith("["):
                section = line.strip("[]").strip().lower()
            elif section == "user" and "=" in line:
                k, _, v = line.partition("=")
                if k.strip().lower() == "name" and v.strip():
                    return v.strip().strip('"')
    return None
