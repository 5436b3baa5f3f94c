"""Three-way merge of issues.jsonl files, field by field (the git merge driver behind `bd merge`).

Per issue: a side that did not change a field takes the other side's value; when both changed a
scalar, the side with the newer `updated_at` wins (left on a tie); labels and dependencies merge
as sets (an element removed on one side stays removed); comments are united; notes changed on
both sides are concatenated. An issue deleted on one side and untouched on the other is dropped;
deleted on one side and changed on the other is kept. Unchanged lines keep their bytes.
"""

from __future__ import annotations

from gastown_tui.beads.codec import set_key, ts_key
from gastown_tui.beads.jsonl import Image, Problem

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds at import; annotations are strings anyway
    from typing import Any

_MISSING = object()


def _dep_key(d: dict[str, Any]) -> tuple:
    return (d.get("depends_on_id"), d.get("type"))


def _comment_key(c: dict[str, Any]) -> tuple:
    return (c.get("author"), c.get("created_at"), c.get("text"))


def _merge_set(base: list | None, left: list | None, right: list | None, key=lambda x: x) -> list:
    base, left, right = base or [], left or [], right or []
    bk = {key(x) for x in base}
    lk = {key(x) for x in left}
    rk = {key(x) for x in right}
    removed = (bk - lk) | (bk - rk)
    out, seen = [], set()
    for x in [*left, *right]:
        k = key(x)
        if k in removed or k in seen:
            continue
        seen.add(k)
        out.append(x)
    return out


def merge_issue(base: dict | None, left: dict, right: dict) -> dict:
    """Merge two versions of one issue against their common ancestor (None when both added it)."""
    if left == right:
        return left
    base = base or {}
    left_newer = ts_key(left.get("updated_at")) >= ts_key(right.get("updated_at"))
    out: dict[str, Any] = dict(left)
    for key in [*left.keys(), *(k for k in right if k not in left)]:
        b, lv, rv = base.get(key, _MISSING), left.get(key, _MISSING), right.get(key, _MISSING)
        if key == "labels":
            val: Any = sorted(set(_merge_set(base.get(key), left.get(key), right.get(key))))
        elif key == "dependencies":
            val = _merge_set(base.get(key), left.get(key), right.get(key), _dep_key)
        elif key == "comments":
            val = _merge_set(base.get(key), left.get(key), right.get(key), _comment_key)
            val.sort(key=lambda c: ts_key(c.get("created_at")))
        elif lv == rv:
            val = lv
        elif lv == b:
            val = rv
        elif rv == b:
            val = lv
        elif key == "notes" and isinstance(lv, str) and isinstance(rv, str):
            val = lv if rv in lv else rv if lv in rv else f"{lv}\n\n{rv}"
        elif key == "updated_at":
            val = lv if left_newer else rv
        else:
            val = lv if left_newer else rv
        if val is _MISSING or val == []:
            out.pop(key, None)
        else:
            set_key(out, key, val)
    # closed_at follows the merged status.
    if (out.get("status") or "open") == "closed":
        if not out.get("closed_at"):
            out["closed_at"] = left.get("closed_at") or right.get("closed_at") or out.get("updated_at")
    else:
        out.pop("closed_at", None)
    return out


class MergeError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.sentence() for p in problems))
        self.problems = problems


def merge_texts(base: Image, left: Image, right: Image) -> tuple[str, int]:
    """The merged file text (left's order, additions in id order) and how many issues merged field-wise."""
    for img in (base, left, right):
        img.parse_all()
        if img.problems:
            raise MergeError(img.problems)
    out = left.clone()
    merged = 0
    for iid in list(left.index):
        lrec = left.record(iid)
        brec = base.record(iid)
        rrec = right.record(iid)
        if rrec is None:
            if brec is not None and brec == lrec:
                out.remove(iid)  # deleted on the right, untouched on the left
            continue
        if rrec == lrec:
            continue
        if brec == lrec:
            out.put_line(iid, right.lines[right.index[iid]])  # only the right changed it
            continue
        if brec == rrec:
            continue  # only the left changed it
        out.put(merge_issue(brec, lrec, rrec))  # type: ignore[arg-type]
        merged += 1
    for iid in sorted(set(right.index) - set(left.index)):
        rrec = right.record(iid)
        brec = base.record(iid)
        if brec is not None and brec == rrec:
            continue  # deleted on the left, untouched on the right
        out.put_line(iid, right.lines[right.index[iid]])
    return out.text(), merged
