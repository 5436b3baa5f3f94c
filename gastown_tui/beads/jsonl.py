"""One issues file in memory: its exact text, an id index, and records parsed on demand.

Unchanged lines keep their original text, so writing an image back is byte-exact and a change
to one issue rewrites exactly that issue's line. The id index comes from a regex over the whole
text (bd always writes `{"id":"...` first), so finding, replacing or adding one issue never
parses the other 10,000 lines; a full parse happens only when a query needs every record.
"""

from __future__ import annotations

import bisect
import gc
import os
from gastown_tui.beads.codec import encode_issue, loads

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds at import; annotations are strings anyway
    from pathlib import Path
    from typing import Any

_RES: dict[str, object] = {}  # compiled on first use: `re` is not needed to read a clean file


def _rx(name: str):
    if name not in _RES:
        import re

        _RES["id"] = re.compile(r'^\{"id":"([^"\\]*)"', re.M)
        _RES["escape"] = re.compile(r"\\[u/]")
    return _RES[name]


_CONFLICT_HEADS = ("<<<<<<<", ">>>>>>>", "|||||||")


def _is_conflict_marker(line: str) -> bool:
    """A git conflict marker line (an unfinished merge): `<<<<<<<`, `|||||||` or `>>>>>>>` first,
    or exactly `=======`. String tests: `re` costs a cold `bd` more than reading the file."""
    return line.startswith(_CONFLICT_HEADS) or line == "======="


class _NoGc:
    """Loading builds tens of thousands of containers that are all kept: skip the useless GC passes.
    (A class, not contextlib: that module pulls functools and collections into every `bd` call.)"""

    __slots__ = ("was",)

    def __enter__(self) -> None:
        self.was = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self.was:
            gc.enable()


def _no_gc() -> _NoGc:
    return _NoGc()


class Problem:
    """A line the store could not read: the file, the 1-based line number and what is wrong."""

    __slots__ = ("path", "line", "message")

    def __init__(self, path: Path, line: int, message: str) -> None:
        self.path, self.line, self.message = path, line, message

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Problem) and (self.path, self.line, self.message) == (other.path, other.line, other.message)

    def __hash__(self) -> int:
        return hash((self.path, self.line, self.message))

    def __repr__(self) -> str:
        return f"Problem({str(self.path)!r}, {self.line}, {self.message!r})"

    def sentence(self) -> str:
        return f"{self.path} line {self.line}: {self.message}"


def fingerprint(path: Path) -> tuple[int, int, int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def is_record(obj: Any) -> bool:
    """Lines that are not issues (schema headers, other `_type`s) are kept but never read as issues."""
    if not isinstance(obj, dict) or "_schema" in obj:
        return False
    t = obj.get("_type")
    return (t is None or t == "issue") and isinstance(obj.get("id"), str)


# Up to this many candidate lines are checked one by one in the text (a duplicate check is one
# scan of it each); more, and one split-and-index pass of the file is cheaper.
_FEW = 16


def _standard_line(line: str) -> bool:
    """A line as bd writes it: the id first, with no escapes in it (`_bisect` reads it raw)."""
    if not line.startswith('{"id":"'):
        return False
    end = line.find('"', 7)
    return end > 7 and "\\" not in line[7:end]


class _Duplicate(Exception):
    """An id on two lines: answer from the full index (last line wins)."""


class Image:
    """The text of one JSONL file and a lazy, id-indexed view of its records."""

    # Where every id's line is in exactly this version of the file (the store's `.ready.cache`
    # line index, made from a full reading or by the writer of this version from the previous
    # index and its own splice), or None. A writer's "no such line" then needs no search of the file.
    vouched: Any = None

    def __init__(self, path: Path, text: str, fp: tuple | None = None) -> None:
        self.path = path
        self.fp = fp
        self._raw: Any = None  # the file's bytes, mapped (`mapped`): `_text` is decoded from it on first use
        self._text = text
        self.trailing_newline = text.endswith("\n") or not text
        self._lines: list[str] | None = None
        self._problems: list[Problem] = []
        self.parsed: dict[int, dict[str, Any] | None] = {}  # line number -> record (None: not an issue)
        self.duplicates: list[str] = []
        self.fully_parsed = False
        self.modified = False
        self._sorted: bool | None = None
        self._standard: bool | None = None
        self._fast: dict[str, dict[str, Any] | None] = {}
        self._lookups = 0
        self._escaped: bool | None = None  # fast mode: some line's id is spelled with an escape (`_escaped_ids`)
        self._edits: dict[str, str] = {}  # fast mode: id -> new line
        self._appended: list[str] = []  # fast mode: ids added (their lines are in _edits)
        self.previous: Image | None = None  # an older version of this file: its parses are reused
        # The ids whose lines were changed, added or removed since it was read (or last written):
        # what a commit tells the store's change log (`beads.changelog`).
        self.touched: set[str] = set()
        self.notes: dict[int, Any] = {}  # line number -> a fact a reader derived from that line's text alone

    @property
    def _text(self) -> str | None:
        if self._text_ is None and self._raw is not None and self._lines is None:
            self._text_ = str(self._raw, "utf-8")  # valid: `mapped` is only used for stamped files
        return self._text_

    @_text.setter
    def _text(self, value: str | None) -> None:
        self._text_ = value
        self._raw = None

    @classmethod
    def mapped(cls, path: Path, fp: tuple) -> Image | None:
        """The file as it is on disk, mapped rather than read, when it is still version `fp`, else None.

        For writers of a file the store wrote itself (its stamp names this version, so it is valid
        UTF-8 and its layout is known): a change finds its line by bisection in the mapped bytes
        and the write copies the rest in the kernel, so the other lines are never read into
        memory, decoded or encoded. Anything that needs the text decodes it then."""
        import mmap

        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return None
        try:
            st = os.fstat(fd)
            if (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns) != fp:
                return None
            raw: Any = mmap.mmap(fd, 0, access=mmap.ACCESS_READ) if st.st_size else b""
        except (OSError, ValueError):
            return None
        finally:
            os.close(fd)
        img = cls(path, "", fp)
        img._text_, img._raw = None, raw
        img.trailing_newline = not raw or raw[-1:] == b"\n"
        return img

    def _buf(self) -> Any:
        """What fast-mode offsets index: the mapped bytes of a sorted file, else the text."""
        if self._raw is not None and self._sorted and self._lines is None:
            return self._raw
        return self._text or ""

    # Until something needs every line, lookups search the text itself (C speed): `bd show`
    # and the write path never split or index a 10k-line file.
    def _fast_ok(self) -> bool:
        if self._lines is not None:
            return False
        if self._standard is None:
            t = self._text or ""
            n = (t.count("\n") + (0 if self.trailing_newline else 1)) if t else 0
            self._nlines = n
            # Every line starts with `{"id":"` (so no conflict markers either).
            self._standard = not t or (t.startswith('{"id":"') and t.count('\n{"id":"') == n - 1)
        return self._standard

    def _fast_line(self, issue_id: str) -> str | None:
        span = self._fast_span(issue_id)
        if span is None:
            return None
        line = self._buf()[span[0]:span[1]]
        return line if isinstance(line, str) else line.decode("utf-8")

    def _fast_span(self, issue_id: str) -> tuple[int, int] | None:
        """Where the line of `issue_id` is in `_buf()` (start, end without the newline), or None."""
        if self._sorted:  # known sorted (the store's stamp): a binary search, not a scan
            start, found = self._bisect(issue_id)
            if not found and issue_id in self._fast:
                return None  # a miss already checked against this text
            if not self._bisect_holds(issue_id, start, found):
                # The stamp lies about the layout: never trust it over the file. The full form
                # decides (its order is computed from the lines, not taken from the stamp).
                self._materialize()
                raise _Duplicate
            if not found:
                self._fast[issue_id] = None  # checked: no such line (one text search per id)
                return None
            buf = self._buf()
            end = buf.find("\n" if isinstance(buf, str) else b"\n", start)
            return start, len(buf) if end < 0 else end  # (no final newline: the stamp lies)
        t = self._text or ""
        from gastown_tui.beads.codec import dumps

        needle = '{"id":' + dumps(issue_id)
        if t.startswith(needle):
            start = 0
        else:
            start = t.find("\n" + needle)
            if start < 0:
                if self._escaped_ids():
                    raise _Duplicate  # it may be there, spelled otherwise: the index decides
                return None
            start += 1
        if t.find("\n" + needle, start) >= 0:
            raise _Duplicate
        end = t.find("\n", start)
        return (start, len(t) if end < 0 else end)

    def _escaped_ids(self) -> bool:
        """Some line spells its id with an escape (`{"id":"hq-\\u00e9"`, from another tool): a
        search for the plain spelling cannot tell such an id is missing. Looked at once per text,
        on the first miss (only lines holding a backslash are looked at)."""
        if self._escaped is None:
            t, found = self._text or "", False
            pos = t.find("\\")
            while pos >= 0:
                start = t.rfind("\n", 0, pos) + 1
                end = t.find('"', start + 7)
                if start + 7 <= pos and (end < 0 or pos < end):
                    found = True
                    break
                nl = t.find("\n", pos)
                if nl < 0:
                    break
                pos = t.find("\\", nl)
            self._escaped = found
        return self._escaped

    def _bisect(self, issue_id: str) -> tuple[int, bool]:
        """In a text known to be standard, newline-terminated and sorted by id without duplicates
        (the store's stamp says so): the start of the line of `issue_id` in `_buf()` and True, or
        the start of the first line after it (where it would be inserted) and False. O(log n) line
        probes. (UTF-8 bytes sort as their code points do, so bytes and text agree.)"""
        t = self._buf()
        if isinstance(t, str):
            key: Any = issue_id
            nl, quote = "\n", '"'
        else:
            # (surrogatepass: an id with a lone surrogate, from a line that arrived by git, has no
            # UTF-8 form; its bytes are in no valid file, so it is simply not found)
            key, nl, quote = issue_id.encode("utf-8", "surrogatepass"), b"\n", b'"'
        lo, hi = 0, len(t)  # lo is always a line start; the answer is in [lo, hi]
        while lo < hi:
            mid = (lo + hi) // 2
            p = t.rfind(nl, lo, mid)
            start = lo if p < 0 else p + 1
            iid = t[start + 7:t.find(quote, start + 7)]
            if iid < key:
                end = t.find(nl, start)
                if end < 0:  # the last line has no newline (the stamp lies): the end, not a loop
                    return len(t), False
                lo = end + 1
            elif iid == key:
                return start, True
            else:
                hi = start
        return lo, False

    def _bisect_holds(self, issue_id: str, start: int, found: bool) -> bool:
        """What `_bisect` found agrees with the text: the line found is that id's, or (a miss) the id
        is on no line (one C-speed search, or the `vouched` index of this very version) and the lines
        around the insertion point bracket it."""
        t = self._buf()
        if isinstance(t, str):
            key: Any = issue_id
            nl, head, quote = "\n", '{"id":"', '"'
        else:
            key, nl, head, quote = issue_id.encode("utf-8", "surrogatepass"), b"\n", b'{"id":"', b'"'
        needle = head + key + quote  # (t may be an mmap: slices and find, no startswith)
        if found:
            return t[start:start + len(needle)] == needle
        if t[:len(needle)] == needle:
            return False  # there after all: the lines are not in order
        if self.vouched is not None:
            if self.vouched.place(issue_id) is not None:
                return False  # the index of this version has it: the lines are not in order
        elif t.find(nl + needle) >= 0:
            return False
        if start > 0:  # the line before: a smaller id, ending with a newline
            if t[start - 1:start] != nl:
                return False
            p = t.rfind(nl, 0, start - 1) + 1
            if t[p:p + 7] != head or not t[p + 7:t.find(quote, p + 7)] < key:
                return False
        if start < len(t):  # the line after: a larger id
            if t[start:start + 7] != head or not t[start + 7:t.find(quote, start + 7)] > key:
                return False
        return True

    def _materialize(self) -> None:
        if self._lines is not None:
            return
        if self._edits:
            self._text = self._folded_text()
            self.trailing_newline = self._text.endswith("\n") or not self._text
            self._edits, self._appended = {}, []
        text = self._text or ""
        body = text[:-1] if text.endswith("\n") else text
        with _no_gc():
            self._lines = body.split("\n") if body else []
            # bd writes `{"id":"` first on every line; when every line does, there is no conflict
            # marker either, and the index costs one C-speed pass.
            ids = [ln[7:ln.find('"', 7)] if ln.startswith('{"id":"') else None for ln in self._lines]
            if None not in ids and "\\" not in "".join(ids):  # type: ignore[arg-type]
                self._ids = ids
                self._index: dict[str, int] = dict(zip(ids, range(len(ids)), strict=True))  # type: ignore[arg-type]
                if len(self._index) != len(ids):
                    self._index_slow()
            else:
                for lineno, ln in enumerate(self._lines, 1):
                    if _is_conflict_marker(ln):
                        self._problems.append(Problem(self.path, lineno, "git conflict marker (an unfinished merge)"))
                self._ids = [self._slow_id(i, ln) for i, ln in enumerate(self._lines)]
                self._index_slow()
        self._text = None  # the lines are the truth from now on
        self._fast = {}
        self._sorted = None  # the order is the lines' (is_sorted), never a stamp's claim
        prev = getattr(self, "previous", None)
        if prev is not None:
            self.previous = None
            self._adopt(prev)

    def _adopt(self, old: Image) -> None:
        """Take the parsed records of the lines an older version of the file has with the same
        text at the same place (counted from either end when lines came or went): the same text is
        the same JSON, so after another process changed a few lines only those are parsed again.
        Unreadable lines are parsed again (so they are reported again)."""
        import operator

        old_lines, new_lines = old._lines, self._lines
        old_notes = getattr(old, "notes", None) or {}
        if old_lines is None or new_lines is None or old.modified or not (old.parsed or old_notes):
            return
        n_old, n_new = len(old_lines), len(new_lines)
        same = list(map(operator.eq, old_lines, new_lines))
        parsed, notes = self.parsed, self.notes
        if n_old == n_new:
            for m, rec in old.parsed.items():
                if rec is not None and same[m]:
                    parsed.setdefault(m, rec)
            for m, note in old_notes.items():
                if same[m]:
                    notes[m] = note
            return
        try:
            head = same.index(False)
        except ValueError:
            head = len(same)
        tail_same = list(map(operator.eq, reversed(old_lines), reversed(new_lines)))
        try:
            tail = tail_same.index(False)
        except ValueError:
            tail = len(tail_same)
        tail = min(tail, min(n_old, n_new) - head)
        shift = n_new - n_old
        for m, rec in old.parsed.items():
            if rec is not None and (m < head or m >= n_old - tail):
                parsed.setdefault(m if m < head else m + shift, rec)
        for m, note in old_notes.items():
            if m < head or m >= n_old - tail:
                notes[m if m < head else m + shift] = note

    @property
    def lines(self) -> list[str]:
        self._materialize()
        return self._lines  # type: ignore[return-value]

    @lines.setter
    def lines(self, value: list[str]) -> None:
        self._lines = value

    @property
    def ids(self) -> list[str | None]:
        self._materialize()
        return self._ids

    @ids.setter
    def ids(self, value: list[str | None]) -> None:
        self._ids = value

    @property
    def index(self) -> dict[str, int]:
        self._materialize()
        return self._index

    @index.setter
    def index(self, value: dict[str, int]) -> None:
        self._index = value

    @property
    def problems(self) -> list[Problem]:
        self._materialize()
        return self._problems

    def _index_slow(self) -> None:
        index: dict[str, int] = {}
        for i, iid in enumerate(self._ids):
            if iid is None:
                continue
            if iid in index:
                self.duplicates.append(iid)
            index[iid] = i  # a later line wins, as in bd's import
        self._index = index

    @classmethod
    def read(cls, path: Path) -> Image:
        # The identity of the very file read (fstat of the open descriptor), not of whatever the
        # path named a moment before: the fingerprint always belongs to this text.
        try:
            f = open(path, "rb")  # noqa: SIM115 - closed below, after the fstat
        except FileNotFoundError:
            return cls(path, "", None)
        with f:
            st = os.fstat(f.fileno())
            raw = f.read()
        fp = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        with _no_gc():
            return cls._from_bytes(path, raw, fp)

    @classmethod
    def _from_bytes(cls, path: Path, raw: bytes, fp: tuple) -> Image:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            lineno = raw.count(b"\n", 0, e.start) + 1
            img = cls(path, raw.decode("utf-8", "replace"), fp)
            img._materialize()
            img._problems.append(Problem(path, lineno, "is not valid UTF-8"))
            return img
        return cls(path, text, fp)

    def _slow_id(self, i: int, line: str) -> str | None:
        m = _rx("id").match(line)
        if m and line.endswith("}"):
            return m.group(1)
        if not line.strip():
            self.parsed[i] = None
            return None
        obj = self._parse(i)
        return obj["id"] if obj is not None else None

    def _parse(self, i: int) -> dict[str, Any] | None:
        if i in self.parsed:
            return self.parsed[i]
        line = self.lines[i]
        obj: Any = None
        if line.strip() and not _is_conflict_marker(line):
            try:
                obj = loads(line)
            except ValueError as e:
                msg = str(e).split(":")[0]
                self.problems.append(Problem(self.path, i + 1, f"is not valid JSON ({msg})"))
                obj = None
        rec = self._record(i, obj)
        self.parsed[i] = rec
        return rec

    def _record(self, i: int, obj: Any) -> dict[str, Any] | None:
        """The issue a parsed line holds, or None. A line whose JSON id (the last `"id"` key, as
        JSON reads it) is not the id it is indexed under (its first) is a problem line: trusting
        either would make lookups by id and listings disagree about one line."""
        if obj is None or not is_record(obj):
            return None
        ids = getattr(self, "_ids", None)  # none yet while _slow_id reads the id from the JSON
        if ids is not None and ids[i] is not None and ids[i] != obj["id"]:
            self.problems.append(Problem(self.path, i + 1, 'has two different "id" keys; keep one'))
            return None
        return obj

    # --- reading -------------------------------------------------------------------------------

    def _line_fast(self, issue_id: str) -> str | None:
        """The line of `issue_id` without indexing (raises _Duplicate when the index must decide)."""
        line = self._edits.get(issue_id)
        if line is not None:
            return line
        return self._fast_line(issue_id)

    def _fast_record(self, issue_id: str) -> dict[str, Any] | None:
        if issue_id in self._fast:
            return self._fast[issue_id]
        return self._parse_fast(issue_id, self._line_fast(issue_id))

    def _parse_fast(self, issue_id: str, line: str | None) -> dict[str, Any] | None:
        rec = None
        if line is not None:
            try:
                obj = loads(line)
            except ValueError:
                self._materialize()  # report it properly, with its line number
                return self.record(issue_id)
            if is_record(obj) and obj["id"] != issue_id:
                self._materialize()  # report it, with its line number, in the one place
                return self.record(issue_id)
            rec = obj if is_record(obj) else None
        self._fast[issue_id] = rec
        return rec

    def __contains__(self, issue_id: str) -> bool:
        if self._fast_ok():
            try:
                return self._line_fast(issue_id) is not None
            except _Duplicate:
                self._materialize()
        return issue_id in self.index

    def __len__(self) -> int:
        if self._fast_ok():
            return self._nlines + len(self._appended)
        return len(self.index)

    def record(self, issue_id: str) -> dict[str, Any] | None:
        """The parsed record (shared: do not mutate)."""
        if issue_id in self._fast:
            return self._fast[issue_id]
        self._lookups += 1
        if self._lookups > 4 and self._lines is None and not self._edits and not self._sorted:
            self._materialize()  # many lookups: one split-and-index pass beats a text scan each
        if self._fast_ok():
            try:
                return self._fast_record(issue_id)
            except _Duplicate:
                self._materialize()
        i = self.index.get(issue_id)
        return None if i is None else self._parse(i)

    def fresh_record(self, issue_id: str) -> dict[str, Any] | None:
        """A private copy of the record, to change and put back."""
        if self._fast_ok():
            try:
                line = self._line_fast(issue_id)
                if line is None or self._fast_record(issue_id) is None:
                    return None
                return loads(line)
            except _Duplicate:
                self._materialize()
        i = self.index.get(issue_id)
        if i is None:
            return None
        if self._parse(i) is None:
            return None
        return loads(self.lines[i])

    def parse_all(self) -> None:
        if self.fully_parsed:
            return
        todo = [i for i in range(len(self.lines)) if i not in self.parsed]
        with _no_gc():
            self._parse_lines(todo)
        self.fully_parsed = True

    def _parse_lines(self, todo: list[int]) -> None:
        if todo:
            try:  # one C-level parse for the common case of a clean file
                objs = loads("[" + ",".join(self.lines[i] for i in todo) + "]")
                if len(objs) != len(todo):
                    raise ValueError("line count mismatch")
                parsed, ids = self.parsed, getattr(self, "_ids", None)
                for i, obj in zip(todo, objs, strict=True):
                    if ids is not None and is_record(obj) and obj["id"] == ids[i]:
                        parsed[i] = obj
                    else:
                        parsed[i] = self._record(i, obj)
            except ValueError:
                for i in todo:
                    self._parse(i)

    def records(self) -> list[dict[str, Any]]:
        """Every issue record in file order (duplicates: the last line wins)."""
        self.parse_all()
        parsed = self.parsed
        return [rec for i in self.index.values() if (rec := parsed.get(i)) is not None]

    def mentioning(self, text: str, field: str | None = None) -> list[dict[str, Any]]:
        """The records (last line wins) whose line may hold `text` inside a JSON string — with
        `field`, as the value of that key — in file order.

        A superset: callers check the field they care about. Any valid JSON spelling of the line
        counts (spacing, escapes): a line is a candidate when it holds `text` as a compact encoder
        writes it (after `"field":` with any spacing), or when it holds an escape (``\\u``,
        ``\\/``) that could spell it otherwise. Only candidates are parsed, so finding a molecule's
        steps or an agent's mail among 10k issues parses only those lines.
        """
        cache = getattr(self, "_mentions", None)
        if cache is None:
            cache = self._mentions = {}
        key = (text, field)
        if key in cache and not self.modified:
            return cache[key]
        out = self._mentioning(text, field)
        if not self.modified:
            cache[key] = out
        return out

    def _mentioning(self, text: str, field: str | None) -> list[dict[str, Any]]:
        from gastown_tui.beads.codec import json_body

        enc = json_body(text)
        if field is None:
            def hits(t: str):
                pos = t.find(enc)
                while pos >= 0:
                    yield pos
                    pos = t.find(enc, pos + 1)
        else:
            key = '"' + json_body(field) + '"'
            compact = key + ':"' + enc + '"'

            def hits(t: str):
                pos = t.find(compact)
                while pos >= 0:
                    yield pos
                    pos = t.find(compact, pos + 1)
                # The key written with any other spacing: such a line is a candidate whatever its
                # value. None can be when every occurrence of the key is followed by `:"` (two
                # C-speed counts instead of a regex pass: 3x faster on a 10k-message store).
                if t.count(key) != t.count(key + ':"'):
                    import re

                    for m in re.finditer(re.escape(key) + r"(?:[ \t\r\n]+:|:[ \t\r\n])", t):
                        yield m.start()
        if self._lines is None and not self._edits:
            t = self._text or ""
            starts: set[int] = set()

            def escapes(t: str):
                for m in _rx("escape").finditer(t):  # one pass for both (str.find is slow on `\\`-dense text)
                    yield m.start()

            for source in (hits(t), escapes(t)):
                for pos in source:
                    starts.add(t.rfind("\n", 0, pos) + 1)
            if not starts:
                return []  # no line can hold it, whatever form the lines are in
            # Few candidates, or a file whose stamp says no id is on two lines: answer from the text.
            if (len(starts) <= _FEW or self._sorted) and self._fast_ok():
                out = []
                try:
                    from gastown_tui.beads.codec import scan_line

                    with _no_gc():
                        for start in sorted(starts):
                            obj = scan_line(t, start)  # parsed where it lies: no copy of the line
                            if not is_record(obj):
                                continue
                            if not self._sorted:
                                end = t.find("\n", start)
                                if self._fast_line(obj["id"]) != (t[start:] if end < 0 else t[start:end]):
                                    raise _Duplicate
                            out.append(obj)
                    return out
                except (ValueError, _Duplicate):
                    pass  # a bad line or a duplicate id: the index decides, and reports it
            # Many candidates: their line numbers from the text, then the index decides duplicates.
            linenos, prev, n = [], 0, 0
            for start in sorted(starts):
                n += t.count("\n", prev, start)
                prev = start
                linenos.append(n)
            lines, ids, index = self.lines, self.ids, self.index
            cand = [i for i in linenos if i < len(lines) and (ids[i] is None or index.get(ids[i]) == i)]
        else:
            lines, ids, index = self.lines, self.ids, self.index
            cand = [i for i, line in enumerate(lines)
                    if (ids[i] is None or index.get(ids[i]) == i)
                    and (("\\u" in line or "\\/" in line) or (enc in line and (field is None or any(hits(line)))))]
        parsed = self.parsed
        with _no_gc():
            self._parse_lines([i for i in cand if i not in parsed])
        parsed = self.parsed
        return [rec for i in cand if (rec := parsed.get(i)) is not None and index.get(rec["id"]) == i]

    def children_numbers(self, parent: str) -> list[int]:
        stem = parent + "."
        if self._fast_ok():
            import re

            pat = re.compile(r'\n\{"id":"' + re.escape(stem) + r'(\d+)"')
            nums = [int(x) for x in pat.findall("\n" + (self._text or ""))]
            return nums + [int(i[len(stem):]) for i in self._appended if i.startswith(stem) and i[len(stem):].isdigit()]
        out = []
        for iid in self.index:
            if iid.startswith(stem):
                tail = iid[len(stem):]
                if tail.isdigit():
                    out.append(int(tail))
        return out

    # --- changing ------------------------------------------------------------------------------

    def clone(self) -> Image:
        new = object.__new__(Image)
        new.path = self.path
        new.fp = self.fp
        new.trailing_newline = self.trailing_newline
        new._standard = self._standard
        new._edits = dict(self._edits)
        new._appended = list(self._appended)
        new._fast = dict(self._fast)
        new._lookups = 0
        new._escaped = self._escaped
        new._nlines = getattr(self, "_nlines", 0)
        new.touched = set()
        if self._lines is None:
            new._text_, new._raw = self._text_, self._raw
            new._lines = None
            new._problems = []
            new.parsed = {}
            new.duplicates = []
            new.fully_parsed = False
            new.modified = False
            new._sorted = self._sorted  # in fast mode only ever set from the store's stamp
            return new
        new._text_, new._raw = None, None
        new.lines = list(self.lines)
        new._problems = list(self._problems)
        new.parsed = dict(self.parsed)
        new.duplicates = list(self.duplicates)
        new.fully_parsed = self.fully_parsed
        new.ids = list(self.ids)
        new.index = dict(self.index)
        new.modified = False
        new._sorted = self._sorted
        return new

    def put(self, record: dict[str, Any]) -> None:
        """Replace the record's line (or add it: in id order when the file is sorted, else at the end)."""
        self.put_line(record["id"], encode_issue(record).decode("utf-8"))

    def put_line(self, issue_id: str, line: str) -> None:
        """Replace or add the line of `issue_id` with this exact text."""
        # Fast mode (edits kept beside the untouched text, spliced in on write) needs to know where
        # a new line goes, as the full form decides it: sorted (the store's stamp says) or not.
        if self.trailing_newline and self._fast_ok():
            if self._sorted is None:
                self._sorted = self._scan_order()
            try:
                exists = self._line_fast(issue_id) is not None
            except _Duplicate:
                exists = None
            if exists is not None:
                if not exists:
                    self._appended.append(issue_id)
                self._edits[issue_id] = line
                self._fast[issue_id] = loads(line)
                self._changed(issue_id)
                return
        self._materialize()
        i = self.index.get(issue_id)
        if i is not None:
            self.lines[i] = line
            self.parsed[i] = loads(line)
        else:
            pos = len(self.lines)
            if self.is_sorted():
                pos = bisect.bisect_left(self.ids, issue_id)  # type: ignore[arg-type]
            self.lines.insert(pos, line)
            self.ids.insert(pos, issue_id)
            if pos == len(self.lines) - 1:
                self.index[issue_id] = pos
                self.parsed[pos] = loads(line)
            else:
                # Shift line numbers after the insertion point.
                self.parsed = {(k + 1 if k >= pos else k): v for k, v in self.parsed.items()}
                self.parsed[pos] = loads(line)
                self.index = dict(zip(self.ids, range(len(self.ids)), strict=True))  # type: ignore[arg-type]
        self._changed(issue_id)

    def _changed(self, issue_id: str) -> None:
        """Every change to the lines comes here, with the id whose line it is: the image is marked
        for writing, the id noted (`touched`), and answers derived from the old lines
        (`mentioning`) are dropped — the store's commit clears `modified`, so a cached answer would
        otherwise outlive the change in a long-lived process."""
        self.modified = True
        self.touched.add(issue_id)
        self._mentions = {}

    def _scan_order(self) -> bool:
        """Fast mode, no stamp: are the (standard) lines sorted by id without duplicates?"""
        t = self._text or ""
        body = t[:-1] if t.endswith("\n") else t
        if not body:
            return True
        ids = [ln[7:ln.find('"', 7)] for ln in body.split("\n")]
        return "\\" not in "".join(ids) and all(a < b for a, b in zip(ids, ids[1:], strict=False))

    def is_sorted(self) -> bool:
        if self._sorted is None:
            ids = self.ids
            self._sorted = None not in ids and not self.duplicates and ids == sorted(ids)  # type: ignore[type-var]
        return self._sorted

    def remove(self, issue_id: str) -> None:
        """Drop a record's line entirely (used by import/merge tools; deletion is a tombstone)."""
        i = self.index.get(issue_id)
        if i is None:
            return
        del self.lines[i]
        del self.ids[i]
        self.parsed = {(k - 1 if k > i else k): v for k, v in self.parsed.items() if k != i}
        self.index = {iid: k for k, iid in enumerate(self.ids) if iid is not None}
        self._changed(issue_id)

    def _splices(self) -> list[tuple[int, int, str]]:
        """The pending fast-mode edits as (start, end, new text) over the text, in text order (see
        `edits_in_order`)."""
        return [(start, end, new) for start, end, _, new in self.edits_in_order()]

    def edits_in_order(self) -> list[tuple[int, int, str, str]]:
        """The pending fast-mode edits as (start, end, id, new text) over the text, in text order: a
        changed line replaces its old text (start, end: without its newline); a new line (its text
        ends with a newline) is inserted (start == end) where the full form puts it (its place in
        id order when the file is sorted, else at the end). Offsets index `_buf()`."""
        t = self._buf()
        added = set(self._appended)
        spans: list[tuple[int, int, int, Any, str, str]] = []
        for iid, line in self._edits.items():
            if iid not in added:
                start, end = self._fast_span(iid)  # type: ignore[misc]
                spans.append((start, end, 0, "", iid, line))
        for n, iid in enumerate(self._appended):
            if self._sorted:
                at = self._bisect(iid)[0]
                spans.append((at, at, 1, iid, iid, self._edits[iid] + "\n"))
            else:
                spans.append((len(t), len(t), 1, n, iid, self._edits[iid] + "\n"))
        spans.sort()
        return [(start, end, iid, new) for start, end, _, _, iid, new in spans]

    def _folded_text(self) -> str:
        """The text with the pending fast-mode edits applied."""
        if not self._edits:
            return self._text or ""
        t = self._buf()
        if not isinstance(t, str):
            return b"".join(p if isinstance(p, bytes) else t[p[0]:p[0] + p[1]]
                            for p in self.spliced() or ()).decode("utf-8")
        parts, pos = [], 0
        for start, end, new in self._splices():
            parts.append(t[pos:start])
            parts.append(new)
            pos = end
        parts.append(t[pos:])
        return "".join(parts)

    def spliced(self) -> list[tuple[int, int] | bytes] | None:
        """The new file as pieces to write in order: (offset, length) ranges of the file this text
        was read from, and the bytes of the changed lines — the same bytes as `text()`, without
        re-encoding or copying the lines no change touched. None when the image holds no pending
        fast-mode edits over its file's text (then write `text()`)."""
        if self._lines is not None or not self._edits:
            return None
        t = self._buf()
        raw = not isinstance(t, str)
        ascii_only = raw or t.isascii()  # O(1) in CPython: then character offsets are byte offsets
        pieces: list[tuple[int, int] | bytes] = []
        prev_c = prev_b = 0
        for start, end, new in self._splices():
            if ascii_only:
                b_start, b_end = start, end
            else:
                b_start = prev_b + len(t[prev_c:start].encode("utf-8"))
                b_end = b_start + len(t[start:end].encode("utf-8"))
            if b_start > prev_b:
                pieces.append((prev_b, b_start - prev_b))
            pieces.append(new.encode("utf-8"))
            prev_c, prev_b = end, b_end
        total = len(t) if ascii_only else prev_b + len(t[prev_c:].encode("utf-8"))
        if total > prev_b:
            pieces.append((prev_b, total - prev_b))
        return pieces

    def layout(self) -> tuple[bool, int, bool]:
        """What the store's stamp records of the text this image writes, so the next writer needs no
        scan of it: (every line is bd's standard `{"id":"<id>"...` and the text ends with a newline,
        the number of lines, the ids are sorted without duplicates)."""
        if self._lines is None:
            standard = bool(self._fast_ok()) and self.trailing_newline and all(
                _standard_line(line) for line in self._edits.values())
            return standard, self._nlines + len(self._appended), bool(self._sorted) and standard
        lines = self._lines
        standard = (self.trailing_newline or not lines) and all(_standard_line(line) for line in lines)
        return standard, len(lines), standard and self.is_sorted()

    def text(self) -> str:
        if self._lines is None:
            return self._folded_text()
        if not self.lines:
            return ""
        return "\n".join(self.lines) + ("\n" if self.trailing_newline else "")
