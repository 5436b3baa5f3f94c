"""The store API other areas build on: changes, transactions, wisps, routing, refusal of bad files."""

from __future__ import annotations

import json

import pytest

from gastown_tui.beads.routes import add_route, store_for_id, town_stores
from gastown_tui.beads.store import Store, StoreCorrupt, init_store, open_store
from gastown_tui.errors import Conflict, NotFound, UsageError


@pytest.fixture
def store(tmp_path):
    return init_store(tmp_path, "gt")


def lines(store: Store) -> list[dict]:
    return [json.loads(x) for x in store.issues_path.read_text().splitlines()]


def test_init_store_layout(tmp_path):
    s = init_store(tmp_path / "proj", "gt")
    d = tmp_path / "proj" / ".beads"
    assert s.beads_dir == d and s.prefix == "gt"
    assert (d / "issues.jsonl").read_text() == ""
    assert "issue-prefix: gt" in (d / "config.yaml").read_text()
    ignored = (d / ".gitignore").read_text().splitlines()
    assert "wisps.jsonl" in ignored and ".jsonl.lock" in ignored
    with pytest.raises(Conflict):
        init_store(tmp_path / "proj", "other")


def test_create_update_close_reopen_delete(store):
    a = store.create("Fix it", type="bug", priority=1, description="d", assignee="bob", labels=["x", "a"],
                     fields={"agent_state": "idle"}, actor="alice")
    assert a.labels == ["a", "x"] and a.get("agent_state") == "idle" and a.get("created_by") == "alice"
    u = store.update(a.id, notes="n", assignee=None, status="in_progress")
    assert u.notes == "n" and "assignee" not in u.data and u.updated_at >= a.updated_at
    c = store.close(a.id, "done")
    assert c.status == "closed" and c.closed_at and c.close_reason == "done"
    r = store.reopen(a.id)
    assert r.status == "open" and "closed_at" not in r.data and "close_reason" not in r.data
    assert "closed_at" in store.update(a.id, status="closed").data
    assert "closed_at" not in store.update(a.id, status="open").data
    t = store.delete(a.id)
    assert t.status == "tombstone" and t.get("original_type") == "bug" and t.get("deleted_at")
    assert store.list(include_closed=True) == []
    assert store.get(a.id).is_tombstone


def test_bad_input_is_one_sentence_with_the_fix(store):
    a = store.create("a")
    with pytest.raises(NotFound) as e:
        store.get(a.id + "x")
    assert f"no issue {a.id}x" in str(e.value) and a.id in str(e.value)
    with pytest.raises(UsageError, match="valid statuses: open"):
        store.update(a.id, status="done")
    with pytest.raises(UsageError, match="valid types"):
        store.create("x", type="story")
    with pytest.raises(UsageError, match="valid priorities"):
        store.create("x", priority=7)
    with pytest.raises(UsageError):
        store.create("  ")


def test_claim_is_exclusive(store):
    a = store.create("a")
    assert store.claim(a.id, "polecat-1").assignee == "polecat-1"
    assert store.claim(a.id, "polecat-1").status == "in_progress"  # idempotent for the holder
    with pytest.raises(Conflict, match="already claimed by polecat-1"):
        store.claim(a.id, "polecat-2")


def test_labels_comments_dependencies(store):
    a, b = store.create("a"), store.create("b")
    store.add_label(a.id, "urgent")
    store.add_label(a.id, "backend")
    store.remove_label(a.id, "urgent")
    assert store.get(a.id).labels == ["backend"]
    c1 = store.add_comment(a.id, "first", author="me")
    c2 = store.add_comment(a.id, "second")
    assert (c1["id"], c2["id"]) == (1, 2) and store.get(a.id).comments[1]["text"] == "second"
    store.add_dependency(b.id, a.id)
    assert [d["depends_on_id"] for d in store.get(b.id).dependencies] == [a.id]
    assert [i.id for i in store.dependents(a.id)] == [b.id]
    store.remove_dependency(b.id, a.id)
    assert store.get(b.id).dependencies == []
    with pytest.raises(NotFound):
        store.add_dependency(b.id, "gt-nothere")


def test_list_filters(store):
    a = store.create("a", type="bug", priority=0, assignee="x", labels=["l1", "l2"])
    b = store.create("b", parent=a.id, labels=["l1"])
    store.create("c", status="closed")
    assert {i.id for i in store.list()} == {a.id, b.id}
    assert len(store.list(include_closed=True)) == 3
    assert [i.id for i in store.list(type="bug")] == [a.id]
    assert [i.id for i in store.list(type={"bug", "task"}, label="l2")] == [a.id]
    assert [i.id for i in store.list(label={"l1"})] == sorted([a.id, b.id])
    assert [i.id for i in store.list(assignee="x", priority=0)] == [a.id]
    assert [i.id for i in store.list(parent=a.id)] == [b.id]
    assert [i.id for i in store.list(where=lambda i: i.title == "b")] == [b.id]
    assert [i.id for i in store.children(a.id)] == [b.id]
    assert len(store.list(status="closed")) == 1


def test_transaction_is_atomic_and_sees_its_own_changes(store):
    with store.transaction() as tx:
        a = tx.create("a")
        b = tx.create("b", deps=[("blocks", a.id)])
        assert tx.get(b.id).dependencies[0]["depends_on_id"] == a.id
        assert {i.id for i in tx.list()} == {a.id, b.id}
        assert not store.issues_path.read_text()  # nothing on disk until the block ends
    assert len(lines(store)) == 2
    with pytest.raises(RuntimeError):
        with store.transaction() as tx:
            tx.create("c")
            raise RuntimeError("boom")
    assert len(lines(store)) == 2


def test_ephemeral_records_live_in_wisps(store):
    w = store.create("ping", type="message", ephemeral=True)
    assert (store.beads_dir / "wisps.jsonl").exists()
    assert w.id not in store.issues_path.read_text()
    assert store.get(w.id).is_ephemeral
    assert store.list(type="message") == []
    assert [i.id for i in store.list(type="message", include_ephemeral=True)] == [w.id]
    store.close(w.id)
    assert store.get(w.id).status == "closed"


def test_corrupt_store_is_refused_for_writing_and_reads_report(store):
    store.create("good")
    with open(store.issues_path, "a") as f:
        f.write('{"id":"gt-bad","title": oops}\n')
    with pytest.raises(StoreCorrupt, match=r"issues.jsonl line 2"):
        store.create("another")
    assert len(store.list()) == 1
    assert store.problems and store.problems[0].line == 2


def test_conflict_markers_are_refused(store):
    store.create("good")
    text = store.issues_path.read_text()
    store.issues_path.write_text("<<<<<<< HEAD\n" + text + "=======\n" + text + ">>>>>>> other\n")
    with pytest.raises(StoreCorrupt, match="line 1: git conflict marker"):
        store.create("x")


def test_open_store_walks_up_and_follows_redirects(tmp_path):
    canon = init_store(tmp_path / "rig" / "mayor" / "rig", "gt")
    canon.create("shared")
    rig_beads = tmp_path / "rig" / ".beads"
    rig_beads.mkdir()
    (rig_beads / "redirect").write_text("mayor/rig/.beads\n")
    pole = tmp_path / "rig" / "polecats" / "nux"
    (pole / ".beads").mkdir(parents=True)
    (pole / ".beads" / "redirect").write_text("../../mayor/rig/.beads\n")
    (pole / "src").mkdir()
    s = open_store(pole / "src")
    assert s.beads_dir.resolve() == canon.beads_dir.resolve()
    assert open_store(tmp_path / "rig").beads_dir.resolve() == canon.beads_dir.resolve()
    with pytest.raises(NotFound, match="no .beads directory"):
        open_store(tmp_path.parent)


def test_routes_resolve_ids_anywhere_in_town(tmp_path):
    town = tmp_path / "town"
    hq = init_store(town, "hq")
    rig = init_store(town / "gastown" / "mayor" / "rig", "gt")
    add_route(town, "hq-", ".")
    add_route(town, "gt", "gastown/mayor/rig")
    g = rig.create("rig work")
    h = hq.create("mail", type="message")
    assert store_for_id(town, g.id).get(g.id).title == "rig work"
    assert store_for_id(town, h.id).get(h.id).title == "mail"
    assert set(town_stores(town)) == {"hq-", "gt-"}
    with pytest.raises(NotFound, match="known prefixes: gt-, hq-"):
        store_for_id(town, "zz-abc")


def test_a_store_without_a_wisps_file_is_not_re_read_on_every_query(tmp_path):
    """The cockpit's status probe asks once a second: an unchanged store with no wisps.jsonl must
    answer from the same parsed view, not build a new one (it did: the missing file was re-read)."""
    from gastown_tui.beads.store import Store, init_store

    d = tmp_path / ".beads"
    init_store(d, "gt").create("one")
    assert not (d / "wisps.jsonl").exists()
    first = Store(d)._view()
    assert Store(d)._view() is first
    Store(d).create("two")  # a change is seen at once
    assert sorted(i.title for i in Store(d).all()) == ["one", "two"]
    assert Store(d)._view() is not first


def test_a_mentioning_answer_does_not_outlive_a_write_in_the_same_process(store):
    """The cockpit sends mail in-process: a `mentioning` answer cached before a write must not be
    served after the commit (it was: the commit clears `modified`, which guarded the cache)."""
    store.create("seed")
    with store.transaction() as tx:
        assert tx.mentioning("bob", "assignee") == []
        tx.create("task", assignee="bob")
    mine = [i.id for i in store.mentioning("bob", "assignee")]
    assert len(mine) == 1
    assert [i.id for i in store.assigned("bob")] == mine
    with store.transaction() as tx:
        assert [i.id for i in tx.mentioning("bob", "assignee")] == mine
        tx.update(mine[0], assignee="carol")
    assert store.mentioning("bob", "assignee") == [] and store.assigned("bob") == []
    assert [i.id for i in store.assigned("carol")] == mine


def test_a_routes_file_with_hostile_lines_keeps_its_good_routes(tmp_path):
    """routes.jsonl arrives by git: a line nested too deeply, or JSON that is not an object, is
    skipped like any unreadable line (they raised RecursionError / AttributeError)."""
    from gastown_tui.beads.routes import Route, load_routes

    (tmp_path / ".beads").mkdir()
    (tmp_path / ".beads" / "routes.jsonl").write_text(
        "[" * 200_000 + "\n" + "[1, 2]\n" + '"text"\n' + '{"prefix":"gt-","path":"demo"}\n')
    assert load_routes(tmp_path) == [Route("gt-", "demo")]


def test_conflict_markers_are_exactly_the_lines_git_writes(tmp_path):
    """`<<<<<<<`, `|||||||` or `>>>>>>>` at the start of a line, or a line that is exactly `=======`,
    is an unfinished merge; anything else that is not JSON is a bad line (told apart in the report)."""
    from gastown_tui.beads.jsonl import Image

    path = tmp_path / "issues.jsonl"
    good = '{"id":"gt-1","title":"a","status":"open"}'
    path.write_text("\n".join([good, "<<<<<<< HEAD", "||||||| base", "=======", "======= not one",
                               ">>>>>>> theirs", " <<<<<<< indented", "=======\r", good]) + "\n")
    img = Image.read(path)
    img.parse_all()
    kinds = sorted((p.line, p.message.split(" (")[0]) for p in img.problems)
    assert kinds == [(2, "git conflict marker"), (3, "git conflict marker"), (4, "git conflict marker"),
                     (5, "is not valid JSON"), (6, "git conflict marker"), (7, "is not valid JSON"),
                     (8, "is not valid JSON")]
    assert [r["id"] for r in img.records()] == ["gt-1"]


def test_ids_spelled_with_escapes_are_found_by_what_they_are(tmp_path):
    """Lines from other tools (pulled by git, never stamped) may spell an id with escapes: a lookup
    by id finds the same record the full index does, however few lookups came before."""
    import json

    from gastown_tui.beads.store import Store, init_store

    init_store(tmp_path, "hq")
    ids = ["hq-\u00e9", "hq-\ud800", "hq-a<b", "hq-1", "hq-plain"]
    lines = []
    for iid in ids:
        line = json.dumps({"id": iid, "title": f"t {iid}", "status": "open", "issue_type": "task"},
                          separators=(",", ":"))
        lines.append(line.replace('"hq-1"', '"hq-\\u0031"').replace("<", "\\u003c"))
    (tmp_path / ".beads" / "issues.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for iid in ids:
        store = Store(tmp_path / ".beads")  # a fresh reader each time: the first lookup is the one
        from gastown_tui.beads import store as store_module

        store_module._CACHE.clear()
        assert store.exists(iid), iid
        assert store.get(iid).title == f"t {iid}", iid
    store_module._CACHE.clear()
    assert Store(tmp_path / ".beads").try_get("hq-missing") is None
