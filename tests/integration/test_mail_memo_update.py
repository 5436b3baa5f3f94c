"""Updating a kept inbox after a change (`work.mail._InboxMemo.answer`, `beads.changelog`).

The store's writers log which ids each commit changed, between which file versions. A poll whose
kept answer is for older versions re-reads only those ids (`Store.mentioning_among`, the rules of
`mentioning`) and merges them into the kept answer. The answer must always be exactly the one
computed afresh: on generated stores, after random changes of every kind, through the API and
through `bd`/`gt` processes; and whenever the log cannot say what changed (a write by another
tool, a log that is gone, damaged, cut short or from another machine), the poll computes afresh.
"""

from __future__ import annotations

import json
import os
import random
import shutil

import pytest

from gastown_tui.beads import changelog, memo
from gastown_tui.beads.codec import encode_issue, format_ts, to_json
from gastown_tui.beads import store as store_module
from gastown_tui.beads.store import Store
from gastown_tui.work import mail
from tests.conftest import run_cli
from tests.integration.test_lane_equivalence import ADDRS, NOW_NS, generate
from tests.integration.test_mail_memo import FLAG_SETS, computed
from tests.work_helpers import gt

SEEDS = range(int(os.environ.get("GT_LANE_SEEDS", "6")))


class Recomputed(Exception):
    pass


def writable_store(rnd: random.Random, beads) -> None:
    """A generated store (duplicates, shadowing wisps, spaced JSON, tombstones) without its
    unreadable lines: the store refuses writes to a file it cannot read."""
    generate(rnd, beads)
    path = beads / "issues.jsonl"
    good = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            json.loads(line)
        except ValueError:
            continue
        good.append(line)
    path.write_text("".join(ln + "\n" for ln in good), encoding="utf-8")


def poll_all(town) -> None:
    for a in ADDRS:
        for f in FLAG_SETS:
            assert mail.inbox_json(town, a, **f) == computed(town, a, **f), (a, f)


def change(rnd: random.Random, store: Store) -> str:
    """One random change, as agents and the overseer make them; returns what it was."""
    msgs = [i for i in store.all() if i.issue_type == "message" and i.status != "tombstone"]
    kind = rnd.choice(["send", "send-wisp", "read", "unread", "archive", "delete", "reassign", "retitle",
                       "redate", "reopen", "task", "retask", "retype", "purge", "other-file", "three", "odd-date"])
    if kind == "purge" and msgs:  # its line removed entirely (a polecat's mail when it is purged)
        from gastown_tui.agents.polecats import purge

        m = rnd.choice(msgs)
        purge(store, m.id)
        return f"purge {m.id}"
    if kind == "other-file" and msgs:  # a copy in the other file: main shadows wisps, whichever is new
        m = rnd.choice(msgs)
        with store.transaction() as tx:
            (tx._main() if m.ephemeral_file else tx._wisps()).put({**m.data, "assignee": rnd.choice(ADDRS)})
        return f"other-file {m.id}"
    if kind == "three" and len(msgs) > 2:  # one commit, several messages
        with store.transaction() as tx:
            for m in rnd.sample(msgs, 3):
                tx.update(m.id, title=rnd.choice(["POLECAT_DONE z", "q"]),
                          created_at=format_ts(NOW_NS - rnd.randint(1, 9) * 10**9))
        return "three"
    if kind == "odd-date" and msgs:  # a created_at of the wrong type (as from a line that arrived by git)
        m = rnd.choice(msgs)
        store.put({**m.data, "created_at": rnd.choice([1, None, "", "zzz"])})
        return f"odd-date {m.id}"
    if kind.startswith("send") or not msgs:
        to = rnd.choice(ADDRS)
        subject = rnd.choice(["hello", "POLECAT_DONE p1", "HELP stuck", "MERGE_READY x", "ünïcode <&>"])
        store.create(subject, type="message", assignee=to, description="body\nline two", labels=["from:mayor"],
                     ephemeral=kind == "send-wisp", fields={"sender": "mayor"}, actor="mayor")
        return f"{kind} to {to}"
    m = rnd.choice(msgs)
    if kind == "read":
        store.add_label(m.id, "read")
    elif kind == "unread" and "read" in m.labels:
        store.remove_label(m.id, "read")
    elif kind == "archive" and m.status == "open":
        store.close(m.id, "archived")
    elif kind == "reopen" and m.status == "closed":
        store.reopen(m.id)
    elif kind == "delete":
        store.delete(m.id, reason="mail deleted")
    elif kind == "reassign":
        store.update(m.id, assignee=rnd.choice(ADDRS))
    elif kind == "retitle":
        store.update(m.id, title=rnd.choice(["POLECAT_DONE p2", "plain", "a longer subject than before"]))
    elif kind == "redate":  # its place in the inbox moves
        store.update(m.id, created_at=format_ts(NOW_NS - rnd.randint(1, 10**6) * 10**9))
    elif kind == "retype":  # no longer a message at all
        store.update(m.id, type="task")
    elif kind == "task":
        store.create("unrelated work", assignee=rnd.choice(["", *ADDRS]))
    else:
        tasks = [i for i in store.all() if i.issue_type == "task" and i.status not in ("closed", "tombstone")]
        if tasks:
            store.update(rnd.choice(tasks).id, priority=rnd.randint(0, 4))
    return f"{kind} {m.id}"


@pytest.mark.parametrize("seed", SEEDS)
def test_updated_answers_are_the_computed_answers_after_random_changes(rig_town, seed, monkeypatch):
    rnd = random.Random(1000 + seed)
    beads = rig_town.beads_dir
    writable_store(rnd, beads)
    poll_all(rig_town)  # every answer computed afresh and kept
    store = Store(beads)
    # Every change is made by the store's writer, so the log says what changed: no poll may read
    # the whole store again (`mentioning`), and each must be the answer computed afresh.
    armed, real, what = [False], Store.mentioning, [""]

    def guarded(self, *a, **k):
        if armed[0]:
            raise Recomputed(what[0])
        return real(self, *a, **k)
    monkeypatch.setattr(Store, "mentioning", guarded)
    for step in range(12):
        what[0] = change(rnd, store)
        for a in ADDRS:
            for f in FLAG_SETS:
                if rnd.random() < 0.5:
                    store_module._CACHE.clear()  # as another process reads: from the file, not the writer's image
                armed[0] = True
                got = mail.inbox_json(rig_town, a, **f)
                armed[0] = False
                assert got == computed(rig_town, a, **f), (step, what[0], a, f)


def test_changes_by_bd_and_gt_processes_update_the_kept_answer(rig_town):
    """As agents call it: each change by another process (bd's queued writes, gt mail), then a
    `gt mail inbox --json` process, which must print the computed answer."""
    beads = str(rig_town.beads_dir)
    sent = [json.loads(gt(rig_town, "mail", "send", "mayor", "-s", f"m{i}", "-m", "x", "--no-nudge", "--json").stdout)
            for i in range(3)]

    def check():
        for flags in ([], ["--unread"], ["--all"]):
            r = gt(rig_town, "mail", "inbox", "mayor", "--json", *flags)
            want = computed(rig_town, "mayor", unread_only="--unread" in flags, include_archived="--all" in flags)
            assert (r.returncode, r.stdout) == (0, want[0].decode() + "\n"), flags
    check()
    steps = [("bd", "update", sent[0]["id"], "--title", "renamed"),
             ("bd", "label", "add", sent[1]["id"], "read"),
             ("bd", "create", "unrelated work"),
             ("bd", "close", sent[2]["id"], "--reason", "archived"),
             ("bd", "update", sent[1]["id"], "--assignee", "deacon"),
             ("bd", "comment", "add", sent[0]["id"], "a comment")]
    for argv in steps:
        r = run_cli(*argv, "--db", beads)
        assert r.returncode == 0, (argv, r.stderr)
        check()
    for args in (("send", "mayor", "-s", "HELP stuck", "-m", "Agent: x", "--no-nudge"),  # wisps.jsonl
                 ("read", sent[0]["id"]), ("archive", sent[0]["id"])):
        assert gt(rig_town, "mail", *args).returncode == 0
        check()
    lines = (rig_town.beads_dir / changelog.DIR / "log").read_text().splitlines()
    assert len(lines) >= len(steps) + 2 and all(ln.split("\t")[0] in ("issues.jsonl", "wisps.jsonl") for ln in lines)


def _write_behind_the_store(beads, line: str) -> None:
    """Another tool (git, upstream bd, an editor) rewrites issues.jsonl: no log line says what changed."""
    path = beads / "issues.jsonl"
    text = path.read_text(encoding="utf-8")
    tmp = beads / "other-tool.tmp"
    tmp.write_text(text + line + "\n", encoding="utf-8")
    os.replace(tmp, path)


@pytest.mark.parametrize("how", ["other-tool", "log-gone", "log-garbage", "log-cut", "log-from-elsewhere",
                                 "log-wrong-type", "log-symlink"])
def test_when_the_log_cannot_say_the_answer_is_computed_afresh(rig_town, how, tmp_path):
    beads = rig_town.beads_dir
    mail.send_mail(rig_town, "mayor", "first", "b", nudge=False)
    assert mail.inbox_json(rig_town, "mayor") == computed(rig_town, "mayor")
    log = beads / changelog.DIR / "log"
    if how == "other-tool":
        rec = {"id": "hq-other", "title": "from another tool", "status": "open", "priority": 2,
               "issue_type": "message", "assignee": "mayor", "created_at": format_ts(NOW_NS)}
        _write_behind_the_store(beads, encode_issue(rec).decode())
    else:
        mail.send_mail(rig_town, "mayor", "second", "b", nudge=False)
        if how == "log-gone":
            shutil.rmtree(beads / changelog.DIR)
        elif how == "log-garbage":
            log.write_bytes(b"\xff\xfe not a log \t\t\n" * 3)
        elif how == "log-cut":  # the last line half written
            text = log.read_bytes()
            log.write_bytes(text[:-10])
        elif how == "log-from-elsewhere":  # committed from another machine: its versions lead nowhere
            lines = log.read_text().splitlines()  # here (and its ids are not the ones that changed)
            log.write_text("".join("\t".join([p[0], "1,2,3,4", "5,6,7,8", '["hq-nothing"]']) + "\n"
                                   for p in (ln.split("\t") for ln in lines)))
        elif how == "log-wrong-type":
            lines = log.read_text().splitlines()
            p = lines[-1].split("\t")
            lines[-1] = "\t".join([*p[:3], '{"not": "a list"}'])
            log.write_text("".join(ln + "\n" for ln in lines))
        elif how == "log-symlink":  # the log's directory, arrived by git as a symlink elsewhere
            elsewhere = tmp_path / "elsewhere"
            elsewhere.mkdir()
            (elsewhere / "log").write_text(log.read_text())
            shutil.rmtree(beads / changelog.DIR)
            os.symlink(elsewhere, beads / changelog.DIR)
            before = (elsewhere / "log").read_text()
            mail.send_mail(rig_town, "mayor", "third", "b", nudge=False)  # a write never follows it
            assert (elsewhere / "log").read_text() == before
    want = computed(rig_town, "mayor")

    def no_update(*a, **k):
        raise Recomputed("the log cannot say what changed: nothing may be updated from it")
    with pytest.MonkeyPatch.context() as m:
        m.setattr(Store, "mentioning_among", no_update)
        assert mail.inbox_json(rig_town, "mayor") == want
    r = gt(rig_town, "mail", "inbox", "mayor", "--json")
    assert (r.returncode, r.stdout, r.stderr) == (0, want[0].decode() + "\n", "")


def test_a_foreign_write_during_a_poll_and_a_locked_write_is_never_kept(rig_town, monkeypatch):
    """Another program replaces the file while a writer holds the lock (its commit then replaces
    that version again: the foreign message is lost from the store) and while a poll computes.
    The poll read the foreign version: its answer is shown but never kept under the versions it
    took before, so the next poll does not build on a message the store no longer has."""
    beads = rig_town.beads_dir
    mail.send_mail(rig_town, "mayor", "real", "b", nudge=False)
    store = Store(beads)
    task = store.create("unrelated").id
    real = mail.inbox_in

    def racing(*a, **k):  # the foreign write lands after the poll took the versions
        rec = {"id": "hq-foreign", "title": "from git", "status": "open", "priority": 2,
               "issue_type": "message", "assignee": "mayor", "created_at": format_ts(NOW_NS)}
        _write_behind_the_store(beads, encode_issue(rec).decode())
        return real(*a, **k)
    with store.transaction() as tx:
        tx.update(task, title="changed")  # the writer read the version before, under the lock
        with monkeypatch.context() as m:
            m.setattr(mail, "inbox_in", racing)
            shown = json.loads(bytes(mail.inbox_json(rig_town, "mayor")[0]))
            assert "hq-foreign" in [x["id"] for x in shown]  # what the file held when it was read
    want = computed(rig_town, "mayor")
    assert "hq-foreign" not in want[0].decode()  # the commit replaced the foreign version
    assert mail.inbox_json(rig_town, "mayor") == want


def test_ids_and_texts_with_lone_surrogates_never_break_a_write_or_a_poll(rig_town):
    """A `\\ud800` escape in a line that arrived by git is a str with no UTF-8 form. A commit that
    touches such an id is logged (the log is ASCII) and lands whole; the inbox answers with the
    text escaped, computed afresh and updated."""
    beads = rig_town.beads_dir
    keep = mail.send_mail(rig_town, "mayor", "plain", "b", nudge=False)[0]["id"]
    with open(beads / "issues.jsonl", "a", encoding="utf-8") as f:
        f.write('{"id":"hq-\\ud800x","title":"odd \\ud800 subject","status":"open","issue_type":"message",'
                '"assignee":"mayor","created_at":"2001-01-01T00:00:00Z"}\n')
    first = gt(rig_town, "mail", "inbox", "mayor", "--json")
    assert first.returncode == 0 and "Traceback" not in first.stderr, first.stderr
    assert [m["subject"] for m in json.loads(first.stdout)] == ["odd \ud800 subject", "plain"]
    store = Store(beads)
    v0 = store.versions()
    with store.transaction() as tx:
        tx.update("hq-\ud800x", title="renamed")
        tx.update(keep, title="plain, renamed")
    assert changelog.changed_ids(str(beads), ("issues.jsonl", "wisps.jsonl"), v0, store.versions()) == {
        "hq-\ud800x", keep}
    r = gt(rig_town, "mail", "inbox", "mayor", "--json")
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    assert [m["subject"] for m in json.loads(r.stdout)] == ["renamed", "plain, renamed"]


def test_a_write_during_an_update_is_never_half_seen(rig_town, monkeypatch):
    """A write that lands while a poll re-reads the changed ids: the poll reads again from the
    versions it found, so its answer is one version of the store, never a mix."""
    ids = [mail.send_mail(rig_town, "mayor", f"m{i}", "b", nudge=False)[0]["id"] for i in range(2)]
    assert mail.inbox_json(rig_town, "mayor") == computed(rig_town, "mayor")
    mail.read_message(rig_town, ids[0])  # logged: the next poll updates
    real = Store.mentioning_among
    landed = []

    def racing(self, *a, **k):
        if not landed:
            landed.append(1)
            with Store(rig_town.beads_dir).transaction() as tx:  # one commit changes both messages
                tx.update(ids[0], title="both changed")
                tx.update(ids[1], title="both changed")
        return real(self, *a, **k)
    monkeypatch.setattr(Store, "mentioning_among", racing)
    got = json.loads(mail.inbox_json(rig_town, "mayor")[0])
    assert [m["subject"] for m in got] == ["both changed", "both changed"]
    assert landed


def test_a_damaged_kept_index_means_computing_afresh(rig_town):
    import marshal

    mail.send_mail(rig_town, "mayor", "one", "b", nudge=False)
    mail.inbox_json(rig_town, "mayor")
    where = str(rig_town.beads_dir)
    key = "\0".join(("mail.inbox", memo.code_stamp(*mail._INBOX_CODE), where, "mayor", "", "", ""))
    assert memo.entries(where) == [memo._name(key)]
    vers, data = memo.get(where, key)
    kept = mail._InboxMemo.unpack(data, index=True)
    damaged = mail._InboxMemo(bytes(kept.text), kept.warnings, kept.sizes, kept._created, marshal.dumps({"not": "a list"}))
    memo.put(where, key, vers, damaged.pack())
    mail.send_mail(rig_town, "mayor", "two", "b", nudge=False)
    assert mail.inbox_json(rig_town, "mayor") == computed(rig_town, "mayor")


def test_mentioning_among_is_mentioning_for_those_ids(rig_town):
    """The one rule, read by id: on generated stores (duplicates, wisps shadowed by main lines,
    spaced and escaped JSON, tombstones), for any set of ids (some missing)."""
    for seed in SEEDS:
        rnd = random.Random(seed)
        generate(rnd, rig_town.beads_dir)
        store = Store(rig_town.beads_dir)
        every = [i.id for i in store.all()] + ["hq-missing", "hq-m999"]
        for addr in ADDRS:
            full = {i.id: (i.data, i.ephemeral_file) for i in store.mentioning(addr, "assignee")}
            some = set(rnd.sample(every, k=len(every) // 2))
            got, versions = store.mentioning_among(addr, "assignee", some)
            assert [i.id for i in got] == sorted(i for i in full if i in some), (seed, addr)
            assert {i.id: (i.data, i.ephemeral_file) for i in got} == {k: v for k, v in full.items() if k in some}
            assert versions == store.versions()


@pytest.mark.parametrize("spelling", ["\u00e9", "\ud800", "<&>", "1"])
def test_a_pulled_message_whose_id_is_spelled_with_escapes_is_updated(rig_town, spelling):
    """A pull (`rewritten_outside`, as `bd sync` does) brings lines written by other tools, whose
    ids may be spelled with escapes (`\\u00e9`, `\\ud800`, `\\u003c`, `\\u0031`): updating the kept
    answer finds them by the file's full rules, never misses them."""
    beads = rig_town.beads_dir
    path = beads / "issues.jsonl"
    for s in ("one", "two"):
        mail.send_mail(rig_town, "mayor", s, "b", nudge=False)
    lines = path.read_text(encoding="utf-8").splitlines()
    rec = json.loads(lines[-1])
    rec["id"] = "hq-pulled" + spelling

    def written_by_git(r: dict) -> None:
        tmp = beads / "pulled.tmp"
        esc = json.dumps(r, separators=(",", ":"))  # compact, as bd writes, but with json's \\u escapes
        if spelling == "1":
            esc = esc.replace('"hq-pulled1"', '"hq-pulled\\u0031"')
        tmp.write_text("\n".join([*lines, esc]) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    def afresh() -> list:  # (as JSON: a lone surrogate has no UTF-8 form, the answer escapes it)
        return json.loads(to_json(mail.inbox_in(Store(beads), "mayor"), ascii_only=True))
    store = Store(beads)
    with store.rewritten_outside():
        written_by_git(rec)
    assert json.loads(bytes(mail.inbox_json(rig_town, "mayor")[0])) == afresh()
    with store.rewritten_outside():  # the pull marks it read
        written_by_git({**rec, "labels": [*rec.get("labels", []), "read"]})
    store_module._CACHE.clear()  # (as the next poll, another process, reads it)
    got = json.loads(bytes(mail.inbox_json(rig_town, "mayor")[0]))
    assert got == afresh() and len(got) == 3
    assert [m["read"] for m in got if m["id"] == rec["id"]] == [True]
