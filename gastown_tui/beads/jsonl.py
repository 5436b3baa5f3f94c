"""One issues file in memory: its exact text, an id index, and records parsed on demand.

Unchanged lines keep their original text, so writing an image back is byte-exact and a change
to one issue rewrites exactly that issue's line. The id index comes from a regex over the whole
text (bd always writes `{"id":"...` first), so finding, replacing or adding one issue never
parses the other 10,000 lines; a full parse happens only when a query needs every record.
"""

from __future__ import annotations

import bisect
import contextlib
import gc
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gastown_tui.beads.codec import encode_issue

_ID_RE = re.compile(r'^\{"id":"([^"\\]*)"', re.M)
_CONFLICT_RE = re.compile(r"^(<<<<<<<|=======$|>>>>>>>|\|\|\|\|\|\|\|)", re.M)


@contextlib.contextmanager
def _no_gc():
    """Loading builds tens of thousands of containers that are all kept: skip the useless GC passes."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@dataclass(frozen=True)
class Problem:
    """A line the store could not read: the file, the 1-based line number and what is wrong."""

    path: Path
    line: int
    message: str

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


class Image:
    """The text of one JSONL file and a lazy, id-indexed view of its records."""

    def __init__(self, path: Path, text: str, fp: tuple | None = None) -> None:
        self.path = path
        self.fp = fp
        self.trailing_newline = text.endswith("\n") or not text
        body = text[:-1] if text.endswith("\n") else text
        self.lines: list[str] = body.split("\n") if body else []
        self.problems: list[Problem] = []
        self.parsed: dict[int, dict[str, Any] | None] = {}  # line number -> record (None: not an issue)
        self.duplicates: list[str] = []
        self.fully_parsed = False
        # bd writes `{"id":"` first on every line; when every line does, there is no conflict
        # marker either, and the index costs one C-speed pass.
        ids = [ln[7:ln.find('"', 7)] if ln.startswith('{"id":"') else None for ln in self.lines]
        self.ids: list[str | None]
        if None not in ids and "\\" not in "".join(ids):  # type: ignore[arg-type]
            self.ids = ids
            self.index: dict[str, int] = dict(zip(ids, range(len(ids)), strict=True))  # type: ignore[arg-type]
            if len(self.index) != len(ids):
                self._index_slow()
        else:
            for m in _CONFLICT_RE.finditer(text):
                lineno = text.count("\n", 0, m.start()) + 1
                self.problems.append(Problem(path, lineno, "git conflict marker (an unfinished merge)"))
            self.ids = [self._slow_id(i, ln) for i, ln in enumerate(self.lines)]
            self._index_slow()
        self.modified = False
        self._sorted: bool | None = None

    def _index_slow(self) -> None:
        self.index = {}
        for i, iid in enumerate(self.ids):
            if iid is None:
                continue
            if iid in self.index:
                self.duplicates.append(iid)
            self.index[iid] = i  # a later line wins, as in bd's import

    @classmethod
    def read(cls, path: Path) -> Image:
        fp = fingerprint(path)
        if fp is None:
            return cls(path, "", None)
        with open(path, "rb") as f:
            raw = f.read()
        with _no_gc():
            return cls._from_bytes(path, raw, fp)

    @classmethod
    def _from_bytes(cls, path: Path, raw: bytes, fp: tuple) -> Image:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            lineno = raw.count(b"\n", 0, e.start) + 1
            img = cls(path, raw.decode("utf-8", "replace"), fp)
            img.problems.append(Problem(path, lineno, "is not valid UTF-8"))
            return img
        return cls(path, text, fp)

    def _slow_id(self, i: int, line: str) -> str | None:
        m = _ID_RE.match(line)
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
        if line.strip() and not _CONFLICT_RE.match(line):
            try:
                obj = json.loads(line)
            except ValueError as e:
                msg = str(e).split(":")[0]
                self.problems.append(Problem(self.path, i + 1, f"is not valid JSON ({msg})"))
                obj = None
        rec = obj if obj is not None and is_record(obj) else None
        self.parsed[i] = rec
        return rec

    # --- reading -------------------------------------------------------------------------------

    def __contains__(self, issue_id: str) -> bool:
        return issue_id in self.index

    def __len__(self) -> int:
        return len(self.index)

    def record(self, issue_id: str) -> dict[str, Any] | None:
        """The parsed record (shared: do not mutate)."""
        i = self.index.get(issue_id)
        return None if i is None else self._parse(i)

    def fresh_record(self, issue_id: str) -> dict[str, Any] | None:
        """A private copy of the record, to change and put back."""
        i = self.index.get(issue_id)
        if i is None:
            return None
        if self._parse(i) is None:
            return None
        return json.loads(self.lines[i])

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
                objs = json.loads("[" + ",".join(self.lines[i] for i in todo) + "]")
                if len(objs) != len(todo):
                    raise ValueError("line count mismatch")
                for i, obj in zip(todo, objs, strict=True):
                    self.parsed[i] = obj if is_record(obj) else None
            except ValueError:
                for i in todo:
                    self._parse(i)

    def records(self) -> list[dict[str, Any]]:
        """Every issue record in file order (duplicates: the last line wins)."""
        self.parse_all()
        parsed = self.parsed
        return [rec for i in self.index.values() if (rec := parsed.get(i)) is not None]

    def children_numbers(self, parent: str) -> list[int]:
        stem = parent + "."
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
        new.lines = list(self.lines)
        new.problems = list(self.problems)
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
        i = self.index.get(issue_id)
        if i is not None:
            self.lines[i] = line
            self.parsed[i] = json.loads(line)
        else:
            pos = len(self.lines)
            if self.is_sorted():
                pos = bisect.bisect_left(self.ids, issue_id)  # type: ignore[arg-type]
            self.lines.insert(pos, line)
            self.ids.insert(pos, issue_id)
            if pos == len(self.lines) - 1:
                self.index[issue_id] = pos
                self.parsed[pos] = json.loads(line)
            else:
                # Shift line numbers after the insertion point.
                self.parsed = {(k + 1 if k >= pos else k): v for k, v in self.parsed.items()}
                self.parsed[pos] = json.loads(line)
                self.index = dict(zip(self.ids, range(len(self.ids)), strict=True))  # type: ignore[arg-type]
        self.modified = True

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
        self.modified = True

    def text(self) -> str:
        if not self.lines:
            return ""
        return "\n".join(self.lines) + ("\n" if self.trailing_newline else "")
