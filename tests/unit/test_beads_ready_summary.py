"""The writer's incremental ready summary (issue 11): a write that leaves every other issue's
blocking as it was makes the `.ready.cache` of the version it writes from the previous one and
its own splice; what it makes is exactly what a full rebuild from the file gives, on many random
stores and changes. A summary of another version, or a lying stamp, is never used by a write."""

from __future__ import annotations

import json
import os
import random

import pytest

from gastown_tui.beads import store as S
from gastown_tui.beads.jsonl import fingerprint
from gastown_tui.beads.store import Store, init_store
from gastown_tui.errors import GtError

STATUSES = ["open", "open", "open", "in_progress", "hooked", "closed", "closed", "tombstone", "pinned", "deferred"]
TYPES = ["task", "task", "bug", "epic", "molecule", "message", "feature"]
DEP_TYPES = ["blocks", "parent-child", "related", "conditional-blocks", "waits-for", "discovered-from"]
PEOPLE = ["", "", "ann", "bob", "gt/polecats/nux"]


def _record(rnd: random.Random, iid: str, ids: list[str]) -> dict:
    st = rnd.choice(STATUSES)
    rec = {"id": iid, "title": f"issue {iid} " + "é" * rnd.randint(0, 2), "status": st,
           "priority": rnd.randint(0, 4), "issue_type": rnd.choice(TYPES), "assignee": rnd.choice(PEOPLE),
           "created_at": f"2026-0{rnd.randint(1, 9)}-1{rnd.randint(0, 9)}T10:00:0{rnd.randint(0, 9)}.{rnd.randint(0, 10**9)}Z",
           "updated_at": "2026-10-01T00:00:00Z"}
    if st == "closed":
        rec["closed_at"] = rec["updated_at"]
        if rnd.random() < 0.3:
            rec["close_reason"] = rnd.choice(["done", "failed: tests", "wontfix"])
    if rnd.random() < 0.15:
        rec["defer_until"] = rnd.choice(["2099-01-01T00:00:00Z", "2001-01-01T00:00:00+02:00"])
    if rnd.random() < 0.08:
        rec["pinned"] = True
    if rnd.random() < 0.05:
        rec["ephemeral"] = True
    x = rnd.random()  # values of the wrong type arrive by git too: a time that is not a string is no time
    if x < 0.1:
        rec["created_at"] = 1.7e9
    elif x < 0.2:
        rec["defer_until"] = 4.1e9
    elif x < 0.25:
        rec["assignee"] = 5
    if ids and rnd.random() < 0.35:
        rec["dependencies"] = [{"issue_id": iid, "depends_on_id": rnd.choice(ids), "type": rnd.choice(DEP_TYPES),
                                "created_at": "2026-01-01T00:00:00Z", "created_by": "t"}
                               for _ in range(rnd.randint(1, 2))]
    return rec


def _seeded(tmp_path, seed: int) -> tuple[Store, list[str], random.Random]:
    rnd = random.Random(seed)
    store = init_store(tmp_path / f"s{seed}", "gt")
    ids: list[str] = []
    with store.transaction() as tx:
        for n in range(rnd.randint(20, 60)):
            kind = rnd.choice(["", "", "", "-mol", "-wisp"])
            iid = f"gt{kind}-{n:03d}{rnd.choice('abcxyz')}"
            tx.put(_record(rnd, iid, ids))
            ids.append(iid)
        for n in range(rnd.randint(0, 6)):  # wisps, one of them shadowed by a main line
            iid = rnd.choice(ids) if n == 0 else f"gt-wisp-w{n}"
            tx.put({**_record(rnd, iid, ids), "id": iid, "ephemeral": True}, ephemeral=True)
    return Store(store.beads_dir, actor="tester"), ids, rnd


def _reference(beads) -> dict:
    """The summary a reader builds from the files alone (no cache of any kind)."""
    S._SUMMARIES.clear()
    S._CACHE.clear()
    S._LIVE.clear()
    path = os.path.join(beads, S.SUMMARY)
    kept = open(path, "rb").read() if os.path.exists(path) else None
    if kept is not None:
        os.unlink(path)
    full = Store(beads)._ready_summary()
    if kept is not None:
        with open(path, "wb") as f:
            f.write(kept)
    S._SUMMARIES.clear()
    return full


def _on_disk(beads) -> dict | None:
    fps = [fingerprint(os.path.join(beads, "issues.jsonl")), fingerprint(os.path.join(beads, "wisps.jsonl"))]
    return S._read_summary(os.path.join(beads, S.SUMMARY), fps)


def _same(inc: dict, full: dict) -> None:
    assert inc["fps"] == full["fps"]
    assert S._keyed(inc["cands"]) == full["cands"]
    assert inc["by"] == full["by"]
    assert inc["who"] == full["who"]
    a, b = S._summary_index(inc), full["at"]
    assert a.ids == b.ids
    assert list(a.places) == list(b.places)


def _change(store: Store, rnd: random.Random, ids: list[str]) -> str:
    live = [i for i in ids if store.try_get(i) is not None]
    target = rnd.choice(live)
    op = rnd.choice(["create", "create", "create_dep", "priority", "priority", "assign", "title", "close",
                     "reopen", "delete", "dep_add", "dep_remove", "label", "comment", "defer", "pin", "status"])
    if op == "create":
        kw = {"assignee": rnd.choice(PEOPLE) or None, "type": rnd.choice(["task", "bug", "molecule", "epic"])}
        if rnd.random() < 0.2:
            kw["ephemeral"] = True
        ids.append(store.create(f"new {rnd.random()}", priority=rnd.randint(0, 4), **kw).id)
    elif op == "create_dep":
        ids.append(store.create("child", parent=target).id if rnd.random() < 0.5
                   else store.create("dependent", deps=[(rnd.choice(DEP_TYPES), target)]).id)
    elif op == "priority":
        store.update(target, priority=rnd.randint(0, 4))
    elif op == "assign":
        store.update(target, assignee=rnd.choice(PEOPLE))
    elif op == "title":
        store.update(target, title=f"renamed {rnd.random()} ✓")
    elif op == "close":
        store.close(target, reason=rnd.choice(["done", "failed"]))
    elif op == "reopen":
        store.reopen(target)
    elif op == "delete":
        store.delete(target)
    elif op == "dep_add":
        store.add_dependency(target, rnd.choice(live), rnd.choice(DEP_TYPES))
    elif op == "dep_remove":
        deps = store.get(target).data.get("dependencies") or []
        if deps:
            store.remove_dependency(target, deps[0]["depends_on_id"])
    elif op == "label":
        store.add_label(target, f"l{rnd.randint(0, 3)}")
    elif op == "comment":
        store.add_comment(target, "a comment")
    elif op == "defer":
        store.update(target, defer_until=rnd.choice(["2099-01-01T00:00:00Z", "2001-01-01T00:00:00Z", None]))
    elif op == "pin":
        store.update(target, pinned=rnd.random() < 0.5)
    else:
        store.update(target, status=rnd.choice(["open", "in_progress", "hooked", "blocked", "deferred"]))
    return op


@pytest.mark.parametrize("seed", range(40))
def test_the_writers_summary_is_a_full_rebuilds(tmp_path, seed):
    store, ids, rnd = _seeded(tmp_path, seed)
    beads = str(store.beads_dir)
    store.ready()  # a reader leaves the summary of this version
    made = {}
    for _ in range(25):
        try:
            op = _change(store, rnd, ids)
        except GtError:
            continue  # a change the rules refuse (a cycle, a duplicate link): nothing written
        inc = _on_disk(beads)
        full = _reference(beads)
        if inc is not None:
            _same(inc, full)
            made[op] = made.get(op, 0) + 1
        # The store answers as a fresh reading of the files does, summary or not.
        assert [i.id for i in store.ready(limit=None)] == [i.id for i in Store(beads).ready(limit=None)]
        if inc is None:
            store.ready()  # the reader's rebuild: the next writer has a summary to start from
    assert made  # every seed takes the incremental path for some changes


def test_simple_changes_take_the_incremental_path(tmp_path):
    """Creates, priority, assignee, title, label and comment changes: the writer leaves the next
    version's summary (without it, the first `bd ready` after any write rebuilt it from the file)."""
    store, ids, rnd = _seeded(tmp_path, 1234)
    beads = str(store.beads_dir)
    store.ready()
    target = next(i for i in ids if store.get(i).status == "open" and "-mol-" not in i and "-wisp-" not in i)
    for change in (lambda: store.create("plain new issue"), lambda: store.update(target, priority=0),
                   lambda: store.update(target, assignee="ann"), lambda: store.update(target, title="t"),
                   lambda: store.add_label(target, "x"), lambda: store.add_comment(target, "c"),
                   lambda: store.create("assigned", assignee="bob")):
        change()
        inc = _on_disk(beads)
        assert inc is not None
        _same(inc, _reference(beads))


def test_a_new_id_is_checked_against_the_index_of_this_very_version_only(tmp_path):
    """The writer trusts the summary's line index (no search of the file) only for the version it
    was made from: after the file changed behind a lying stamp, an id the file holds is refused."""
    store, ids, _ = _seeded(tmp_path, 7)
    beads = store.beads_dir
    store.ready()
    store.update(ids[0], priority=1)
    assert _on_disk(str(beads)) is not None  # the writer's summary of this version
    path = beads / "issues.jsonl"
    lines = path.read_text().splitlines()
    moved = lines[3:] + lines[:3]  # not in id order any more
    path.write_text("\n".join(moved) + "\n")
    st = path.stat()
    (beads / ".jsonl.stamp.issues.jsonl").write_text(
        f"{st.st_ino} {st.st_size} {st.st_mtime_ns} {st.st_ctime_ns} layout 1 {len(moved)} 1")
    S._SUMMARIES.clear()
    S._CACHE.clear()
    held = json.loads(lines[1])["id"]
    with pytest.raises(GtError, match="already exists"):
        Store(beads).create("again", id=held)
    assert [json.loads(ln)["id"] for ln in path.read_text().splitlines()].count(held) == 1


def test_many_ready_rows_are_read_as_whole_lines_of_this_version(tmp_path):
    """More than a few ready rows are cut from the mapped file at the summary's offsets: a forged
    row pointing inside a line (at a nested object spelling another id) is no record; the full
    reading answers instead."""
    store = init_store(tmp_path / "s", "gt")
    with store.transaction() as tx:
        for n in range(S._FEW_ROWS + 20):
            tx.create(f"open issue {n}")
        host = tx.create("host", fields={"metadata": {"id": "gt-fake", "status": "open", "title": "forged"}})
    want = [i.id for i in Store(store.beads_dir).ready(limit=None)]
    assert len(want) > S._FEW_ROWS and "gt-fake" not in want
    s = Store(store.beads_dir)
    summary = s._ready_summary()
    text = (store.beads_dir / "issues.jsonl").read_bytes()
    line_start = text.index(b'{"id":"' + host.id.encode())
    inner = text.index(b'{"id":"gt-fake"', line_start)
    row = ("gt-fake", 0, 0.0, 0.0, inner, text.index(b"}", inner) + 1 - inner)
    head = {k: v for k, v in summary.items() if k not in ("at", "_index")}
    head["cands"] = [*summary["cands"], row]
    S._write_summary(store.beads_dir / S.SUMMARY, head, s._summary_index(summary))
    S._SUMMARIES.clear()
    S._CACHE.clear()
    got = Store(store.beads_dir).ready(limit=None)
    assert [i.id for i in got] == want
    # An honest summary's rows are exactly a full reading's records.
    S._write_summary(store.beads_dir / S.SUMMARY, {k: v for k, v in summary.items() if k not in ("at", "_index")},
                     s._summary_index(summary))
    S._SUMMARIES.clear()
    S._CACHE.clear()
    fresh = Store(store.beads_dir)
    assert [i.data for i in fresh.ready(limit=None)] == [fresh.get(iid).data for iid in want]


def test_rows_a_writer_added_are_keyed_once_for_every_reader_after(tmp_path):
    """A writer adds a new issue's row with its times as written (keying them imports datetime);
    the first reader keys them and writes the summary back, so the readers after it read a
    finished summary (and `bd ready` imports no datetime)."""
    import subprocess
    import sys

    store, ids, _ = _seeded(tmp_path, 3)
    beads = str(store.beads_dir)
    store.ready()
    store.create("a new ready issue")
    assert _on_disk(beads).get("unkeyed")
    code = ("import sys; from gastown_tui.beads.store import Store; "
            "r = Store(sys.argv[1]).ready(limit=None); print('datetime' in sys.modules, len(r))")
    first = subprocess.run([sys.executable, "-c", code, beads], capture_output=True, text=True, check=True).stdout.split()
    assert first[0] == "True"
    assert not _on_disk(beads).get("unkeyed")
    _same(_on_disk(beads), _reference(beads))
    second = subprocess.run([sys.executable, "-c", code, beads], capture_output=True, text=True, check=True).stdout.split()
    assert second == ["False", first[1]]


def test_a_cache_of_other_file_versions_is_never_unmarshalled(tmp_path, monkeypatch):
    # marshal is not safe on crafted bytes, and a cache can arrive by git: the versions it claims
    # are compared as plain bytes first, and only a cache of exactly these versions is unpacked.
    import marshal

    store, ids, rnd = _seeded(tmp_path, 3)
    store.ready()
    beads = str(store.beads_dir)
    assert _on_disk(beads) is not None
    calls = []
    real = marshal.loads
    monkeypatch.setattr(marshal, "loads", lambda *a: calls.append(1) or real(*a))
    other = [(1, 2, 3, 4), None]
    assert S._read_summary(os.path.join(beads, S.SUMMARY), other) is None
    assert calls == []
    assert _on_disk(beads) is not None and calls
