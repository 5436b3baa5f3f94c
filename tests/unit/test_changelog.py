"""The store's change log (`beads.changelog`): which ids each of the store's own commits changed,
between which file versions; and what a reader may conclude from it (or that it cannot)."""

from __future__ import annotations

import os

from gastown_tui.beads import changelog
from gastown_tui.beads.jsonl import fingerprint
from gastown_tui.beads.store import Store, init_store

NAMES = ("issues.jsonl", "wisps.jsonl")
A, B, C, D = (1, 10, 100, 1000), (2, 20, 200, 2000), (3, 30, 300, 3000), (4, 40, 400, 4000)


def test_a_chain_of_writes_names_every_id_changed_between_two_versions(tmp_path):
    d = str(tmp_path)
    changelog.record(d, "issues.jsonl", A, B, {"x-1"})
    changelog.record(d, "wisps.jsonl", C, D, ["w-1", "w-2"])
    changelog.record(d, "issues.jsonl", B, C, ["x-2", "x-1"])
    assert changelog.changed_ids(d, NAMES, (A, C), (C, D)) == {"x-1", "x-2", "w-1", "w-2"}
    assert changelog.changed_ids(d, NAMES, (B, C), (C, C)) == {"x-2", "x-1"}
    assert changelog.changed_ids(d, NAMES, (C, D), (C, D)) == set()  # the same versions: nothing
    assert changelog.changed_ids(d, NAMES, (A, C), (D, C)) is None  # no logged write leads to D
    assert changelog.changed_ids(d, NAMES, (D, C), (C, C)) is None  # nor from D
    assert changelog.changed_ids(d, NAMES, (A, None), (B, C)) is None  # a file that appeared
    assert changelog.changed_ids(d, NAMES, (A,), (B, C)) is None  # versions of something else
    changelog.record(d, "issues.jsonl", None, A, ["x-3"])  # a created file is not logged
    assert changelog.changed_ids(d, NAMES, (None, C), (A, C)) is None


def test_ids_of_any_text_round_trip(tmp_path):
    d = str(tmp_path)
    odd = {"tab\there", "new\nline", "quote\"", "ünï", "\\back"}
    changelog.record(d, "issues.jsonl", A, B, odd)
    assert changelog.changed_ids(d, NAMES, (A, None), (B, None)) == odd


def test_a_damaged_or_partial_log_cannot_say(tmp_path):
    d = str(tmp_path)
    changelog.record(d, "issues.jsonl", A, B, ["x-1"])
    log = tmp_path / changelog.DIR / "log"
    good = log.read_bytes()
    for bad in (good[:-1], good.replace(b'["x-1"]', b'{"x": 1}'), good.replace(b'["x-1"]', b"[1]"),
                good.replace(b'["x-1"]', b"[torn"), good.replace(b"\t", b" "), b"\xff" * 40):
        log.write_bytes(bad)
        assert changelog.changed_ids(d, NAMES, (A, None), (B, None)) is None, bad
    os.unlink(log)
    os.mkfifo(log)  # never blocks a reader, nor a writer
    assert changelog.changed_ids(d, NAMES, (A, None), (B, None)) is None
    changelog.record(d, "issues.jsonl", B, C, ["x-2"])
    assert changelog.changed_ids(d, NAMES, (B, None), (C, None)) is None


def test_the_log_stays_bounded_and_keeps_the_newest_writes(tmp_path, monkeypatch):
    monkeypatch.setattr(changelog, "MAX_BYTES", 2000)
    monkeypatch.setattr(changelog, "KEEP_BYTES", 600)
    d = str(tmp_path)
    for n in range(200):
        changelog.record(d, "issues.jsonl", (n, 1, 1, 1), (n + 1, 1, 1, 1), [f"x-{n}"])
    log = tmp_path / changelog.DIR / "log"
    assert log.stat().st_size <= 2000
    assert changelog.changed_ids(d, NAMES, ((197, 1, 1, 1), None), ((200, 1, 1, 1), None)) == {"x-197", "x-198", "x-199"}
    assert changelog.changed_ids(d, NAMES, ((3, 1, 1, 1), None), ((200, 1, 1, 1), None)) is None  # dropped: cannot say
    assert all(ln.count("\t") == 3 for ln in log.read_text().splitlines())  # whole lines only


def test_the_log_directory_ignores_itself_and_is_never_followed(tmp_path):
    d = str(tmp_path)
    changelog.record(d, "issues.jsonl", A, B, ["x-1"])
    ignore = tmp_path / changelog.DIR / ".gitignore"
    assert ignore.read_text().splitlines()[-1] == "*"
    ignore.unlink()  # lost (or never written: a crash after the mkdir): made again by the next write
    changelog.record(d, "issues.jsonl", B, C, ["x-2"])
    assert ignore.read_text().splitlines()[-1] == "*"
    assert changelog.changed_ids(d, NAMES, (A, None), (C, None)) == {"x-1", "x-2"}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "log").write_text("issues.jsonl\t1,10,100,1000\t2,20,200,2000\t[\"forged\"]\n")
    other = tmp_path / "other"
    other.mkdir()
    os.symlink(elsewhere, other / changelog.DIR)
    changelog.record(str(other), "issues.jsonl", B, C, ["x-2"])  # never written through the link
    assert (elsewhere / "log").read_text().count("\n") == 1
    assert changelog.changed_ids(str(other), NAMES, (A, None), (B, None)) is None  # nor read through it
    assert changelog.changed_ids(str(tmp_path / "missing"), NAMES, (A, None), (B, None)) is None
    changelog.record(str(tmp_path / "missing"), "issues.jsonl", A, B, ["x"])  # no store: nothing, no error


def test_every_commit_of_the_store_is_logged_with_the_ids_it_changed(tmp_path):
    store = init_store(tmp_path, "hq")
    beads = str(tmp_path / ".beads")

    def versions():
        return fingerprint(os.path.join(beads, NAMES[0])), fingerprint(os.path.join(beads, NAMES[1]))
    a = store.create("one").id
    v0 = versions()
    b = store.create("two").id
    store.update(a, title="one again")
    with store.transaction() as tx:
        tx.update(a, priority=0)
        tx.add_label(b, "x")
    v1 = versions()
    assert changelog.changed_ids(beads, NAMES, v0, v1) == {a, b}
    w = store.create("a wisp", ephemeral=True).id  # creates wisps.jsonl: not logged (no version before)
    v2 = versions()
    assert changelog.changed_ids(beads, NAMES, v1, v2) is None
    store.delete(w)
    store.update(b, assignee="mayor")
    assert changelog.changed_ids(beads, NAMES, v2, versions()) == {w, b}
    assert Store(beads).try_get(b).assignee == "mayor"


def test_a_rewrite_by_another_program_under_the_lock_logs_exactly_the_ids_whose_records_differ(tmp_path):
    import json
    import random

    from tests.integration.test_lane_equivalence import generate, naive_file_records

    for seed in range(8):
        rnd = random.Random(seed)
        d = tmp_path / f"s{seed}"
        init_store(d, "hq")
        beads = d / ".beads"
        generate(rnd, beads)  # duplicates, spaced and escaped JSON, bad lines, non-issue lines
        path = beads / "issues.jsonl"
        lines = path.read_text(encoding="utf-8").splitlines()
        before_recs, before = naive_file_records(path), fingerprint(str(path))
        with Store(beads).rewritten_outside():  # as git pull does, while bd sync holds the lock
            out = []
            for line in lines:
                r = rnd.random()
                if r < 0.1:
                    continue  # a line gone
                if r < 0.2:
                    try:
                        rec = json.loads(line)
                        rec["title"] = "changed"
                        line = json.dumps(rec)
                    except (ValueError, TypeError):
                        pass
                out.append(line)
                if rnd.random() < 0.05:
                    out.append(rnd.choice(['{"id":"hq-new%d","title":"new"}' % len(out), '{"id":"torn', line]))
            rnd.shuffle(out)
            tmp = beads / "pulled.tmp"
            tmp.write_text("".join(ln + "\n" for ln in out), encoding="utf-8")
            os.replace(tmp, path)
        after_recs = naive_file_records(path)
        differ = {i for i in before_recs.keys() | after_recs.keys() if before_recs.get(i) != after_recs.get(i)}
        got = changelog.changed_ids(str(beads), NAMES, (before, None), (fingerprint(str(path)), None))
        assert got is not None and differ <= got, seed  # every changed record is named
        # ... and what else is named is an id whose winning line moved or changed text only.
        assert all(before_recs.get(i) == after_recs.get(i) for i in got - differ)
