"""A write splices the changed lines into the file (issue 11): the other lines are not read into
memory, decoded, parsed or re-encoded, and the result is byte for byte what a full rewrite gives."""

from __future__ import annotations

import json
import random

import pytest

from gastown_tui.beads import jsonl
from gastown_tui.beads.codec import encode_issue
from gastown_tui.beads.jsonl import Image, fingerprint
from gastown_tui.beads.store import Store, init_store

WORDS = ["agent", "polecat", "émigré", "naïve", "witness", "日本", "convoy", "<&>", "x\u2028y"]


def _record(rnd: random.Random, iid: str) -> dict:
    return {"id": iid, "title": " ".join(rnd.choices(WORDS, k=4)), "status": rnd.choice(["open", "closed"]),
            "priority": rnd.randint(0, 4), "issue_type": "task", "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z"}


def _seeded_store(tmp_path, rnd: random.Random, n: int) -> Store:
    store = init_store(tmp_path, "gt")
    ids = sorted(f"gt-{rnd.randrange(36 ** 5):x}" for _ in range(n))
    ids = sorted(set(ids))
    with store.transaction() as tx:  # a first write through the store stamps the file and its layout
        for iid in ids:
            tx.put(_record(rnd, iid))
    return store


def _resolve(pieces, path) -> bytes:
    raw = path.read_bytes()
    return b"".join(p if isinstance(p, bytes) else raw[p[0]:p[0] + p[1]] for p in pieces)


@pytest.mark.parametrize("mapped", [True, False], ids=["mapped-bytes", "decoded-text"])
@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_spliced_file_is_byte_identical_to_the_full_rewrite(tmp_path, seed, mapped):
    rnd = random.Random(seed)
    store = _seeded_store(tmp_path, rnd, 60)
    path = store.issues_path
    fast = Image.mapped(path, fingerprint(path)) if mapped else Image.read(path)
    assert fast is not None
    fast._standard, fast._nlines, fast._sorted = True, len(path.read_text().splitlines()), True
    full = Image.read(path)
    full._materialize()
    existing = [json.loads(x)["id"] for x in path.read_text().splitlines()]
    for _ in range(25):  # replacements, new lines in the middle, at both ends, a line changed twice
        if rnd.random() < 0.5:
            iid = rnd.choice(existing)
        else:
            iid = rnd.choice(["gt-0", "gt-zzzzzz", f"gt-{rnd.randrange(36 ** 5):x}"])
        line = encode_issue(_record(rnd, iid)).decode("utf-8")
        fast.put_line(iid, line)
        full.put_line(iid, line)
        existing.append(iid)
    assert fast._lines is None, "the fast image stayed unsplit"
    want = full.text().encode("utf-8")
    assert _resolve(fast.spliced(), path) == want
    assert fast.text().encode("utf-8") == want
    assert fast.layout() == full.layout() == (True, len(full.lines), True)


def test_a_store_write_never_touches_the_other_lines(tmp_path, monkeypatch):
    rnd = random.Random(9)
    store = _seeded_store(tmp_path, rnd, 200)
    before = store.issues_path.read_bytes()
    victim = json.loads(before.splitlines()[100])["id"]

    def refuse(*_a, **_k):
        raise AssertionError("a one-line change read, split or re-encoded the whole file")

    monkeypatch.setattr(Image, "_materialize", refuse)
    monkeypatch.setattr(Image, "text", refuse)
    monkeypatch.setattr(Image, "_folded_text", refuse)
    monkeypatch.setattr(jsonl.Image, "parse_all", refuse)
    store.update(victim, priority=0)
    created = store.create("a new one")
    store.add_comment(victim, "hello")
    store.add_label(victim, "urgent")
    monkeypatch.undo()

    after = store.issues_path.read_bytes()
    got = [json.loads(x) for x in after.splitlines()]
    assert [r["id"] for r in got] == sorted(r["id"] for r in got), "still sorted by id"
    by_id = {r["id"]: r for r in got}
    assert by_id[victim]["priority"] == 0 and by_id[victim]["labels"] == ["urgent"]
    assert by_id[victim]["comments"][0]["text"] == "hello" and created.id in by_id
    untouched = [x for x in before.splitlines() if json.loads(x)["id"] != victim]
    assert [x for x in after.splitlines() if json.loads(x)["id"] not in (victim, created.id)] == untouched


def test_a_file_changed_behind_the_stamp_is_rewritten_from_its_own_text(tmp_path):
    rnd = random.Random(3)
    store = _seeded_store(tmp_path, rnd, 20)
    # Someone else (git, an editor) rewrote the file: unsorted now, and the stamp no longer matches.
    lines = store.issues_path.read_text().splitlines()
    store.issues_path.write_text("\n".join(reversed(lines)) + "\n")
    made = store.create("after the edit")
    ids = [json.loads(x)["id"] for x in store.issues_path.read_text().splitlines()]
    assert ids[:-1] == [json.loads(x)["id"] for x in reversed(lines)] and ids[-1] == made.id  # unsorted: appended
    again = store.create("and once more")
    ids = [json.loads(x)["id"] for x in store.issues_path.read_text().splitlines()]
    assert ids[-1] == again.id and len(ids) == len(lines) + 2
