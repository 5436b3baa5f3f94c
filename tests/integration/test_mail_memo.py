"""The inbox memo (`beads.memo`, `work.mail.inbox_json`): agents poll `gt mail inbox --json` far
more often than the store changes, so the answer is kept in the user's cache directory under the
fingerprints of both store files. It must always be the answer `inbox_in` computes now: a change
by another process is seen on the next poll, a memo file that is stale, forged, truncated or in
the way is never trusted, nothing in the store's own directory is read as a memo, and a memo that
cannot be written never fails the command. (Updating a kept answer after a change, from the
store's change log: test_mail_memo_update.py.)"""

from __future__ import annotations

import json
import os
import random
import subprocess

import pytest

from gastown_tui.beads import memo
from gastown_tui.beads.codec import to_json
from gastown_tui.beads.store import Store
from gastown_tui.work import mail
from tests.conftest import BIN, run_cli
from tests.integration.test_lane_equivalence import ADDRS, generate
from tests.work_helpers import gt, gt_json


def memo_files(beads) -> list[str]:
    return memo.entries(str(beads))


def computed(town, addr: str, **flags) -> tuple[bytes, list[str]]:
    """The answer of the one rule, computed now (no memo involved)."""
    store = Store(town.beads_dir)
    msgs = mail.inbox_in(store, mail.normalize_address(town, addr), **flags)
    return to_json(msgs).encode(), store.warnings()


class Recomputed(Exception):
    pass


def no_recompute(monkeypatch):
    """From now on, computing or updating an inbox fails the test: the answer must come from the memo."""
    def boom(*a, **k):
        raise Recomputed
    monkeypatch.setattr(mail, "inbox_in", boom)
    monkeypatch.setattr(mail._InboxMemo, "answer", classmethod(boom))


FLAG_SETS = ({}, {"unread_only": True}, {"include_archived": True}, {"msg_type": "POLECAT_DONE"})


@pytest.mark.parametrize("seed", range(4))
def test_memo_answer_is_the_computed_answer_on_generated_stores(rig_town, seed, monkeypatch):
    generate(random.Random(seed), rig_town.beads_dir)
    want = {(a, i): computed(rig_town, a, **f) for a in ADDRS for i, f in enumerate(FLAG_SETS)}
    for (a, i), answer in want.items():
        assert mail.inbox_json(rig_town, a, **FLAG_SETS[i]) == answer, (a, i)  # cold: computed and kept
    assert memo_files(rig_town.beads_dir)
    assert len(want) < memo.MAX_ENTRIES  # every answer is kept
    with monkeypatch.context() as m:
        no_recompute(m)
        for (a, i), answer in want.items():
            assert mail.inbox_json(rig_town, a, **FLAG_SETS[i]) == answer, (a, i)  # hot: from the memo
    # As agents call it: the same text, warnings and exit code.
    for a in ADDRS[:3]:
        text, warnings = want[(a, 0)]
        r = gt(rig_town, "mail", "inbox", a, "--json")
        assert (r.returncode, r.stdout, r.stderr) == (0, text.decode() + "\n", "".join(f"gt: {w}\n" for w in warnings))


def test_flags_give_their_own_answers(rig_town):
    ids = [mail.send_mail(rig_town, "mayor", f"m{i}", "b", nudge=False)[0]["id"] for i in range(3)]
    mail.send_mail(rig_town, "mayor", "POLECAT_DONE nux", "Polecat: nux", sender="demo/polecats/nux", nudge=False)
    mail.read_message(rig_town, ids[0])
    mail.archive(rig_town, [ids[1]])
    plain = gt_json(rig_town, "mail", "inbox", "mayor")  # the plain answer is kept first
    unread = gt_json(rig_town, "mail", "inbox", "mayor", "--unread")
    everything = gt_json(rig_town, "mail", "inbox", "mayor", "--all")
    done = gt_json(rig_town, "mail", "inbox", "mayor", "--type", "POLECAT_DONE")
    assert [m["subject"] for m in plain] == ["m0", "m2", "POLECAT_DONE nux"]
    assert [m["subject"] for m in unread] == ["m2", "POLECAT_DONE nux"]
    assert [m["subject"] for m in everything] == ["m0", "m1", "m2", "POLECAT_DONE nux"]
    assert [m["subject"] for m in done] == ["POLECAT_DONE nux"]
    assert len(memo_files(rig_town.beads_dir)) >= 4  # one per query
    # Asked again (now from the memo), each still its own answer.
    assert gt_json(rig_town, "mail", "inbox", "mayor", "--unread") == unread
    assert gt_json(rig_town, "mail", "inbox", "mayor", "--all") == everything
    assert gt_json(rig_town, "mail", "inbox", "mayor") == plain


def test_changes_by_other_processes_are_seen_on_the_next_poll(rig_town):
    assert gt_json(rig_town, "mail", "inbox", "mayor") == []
    assert gt_json(rig_town, "mail", "inbox", "mayor") == []  # kept
    r = gt(rig_town, "mail", "send", "mayor", "-s", "Hello", "-m", "x", "--no-nudge", "--json")
    assert r.returncode == 0, r.stderr
    sent = json.loads(r.stdout)
    first = gt_json(rig_town, "mail", "inbox", "mayor")
    assert [(m["id"], m["read"]) for m in first] == [(sent["id"], False)]
    assert gt(rig_town, "mail", "read", sent["id"]).returncode == 0  # another process marks it read
    assert [(m["id"], m["read"]) for m in gt_json(rig_town, "mail", "inbox", "mayor")] == [(sent["id"], True)]
    assert gt_json(rig_town, "mail", "inbox", "mayor", "--unread") == []
    # An unrelated bd write replaces the file: the next poll recomputes, with the same answer.
    beads = str(rig_town.beads_dir)
    r = run_cli("bd", "create", "unrelated work", "--db", beads, "--json")
    assert r.returncode == 0, r.stderr
    again = gt_json(rig_town, "mail", "inbox", "mayor")
    assert again == computed_json(rig_town, "mayor")
    # bd itself changes the message: seen on the next poll.
    r = run_cli("bd", "update", sent["id"], "--remove-label", "read", "--db", beads)
    assert r.returncode == 0, r.stderr
    assert [(m["id"], m["read"]) for m in gt_json(rig_town, "mail", "inbox", "mayor")] == [(sent["id"], False)]
    # Ephemeral (protocol) mail lives in wisps.jsonl: its changes are seen too.
    r = gt(rig_town, "mail", "send", "mayor", "-s", "HELP stuck", "-m", "Agent: x", "--no-nudge")
    assert r.returncode == 0, r.stderr
    assert [m["subject"] for m in gt_json(rig_town, "mail", "inbox", "mayor")] == ["Hello", "HELP stuck"]


def test_a_write_during_the_computation_makes_the_next_poll_recompute(rig_town, monkeypatch):
    """The answer is kept under the versions taken before computing: a write that lands after the
    store was read, before the memo is written, is never hidden behind the older answer."""
    mail.send_mail(rig_town, "mayor", "before", "b", nudge=False)
    real = mail._InboxMemo.answer

    def racing(*a, **k):
        out = real(*a, **k)  # computed from the store as it was
        r = gt(rig_town, "mail", "send", "mayor", "-s", "during", "-m", "x", "--no-nudge")  # another process
        assert r.returncode == 0, r.stderr
        return out
    with monkeypatch.context() as m:
        m.setattr(mail._InboxMemo, "answer", racing)
        assert [m["subject"] for m in json.loads(mail.inbox_json(rig_town, "mayor")[0])] == ["before"]
    assert [m["subject"] for m in gt_json(rig_town, "mail", "inbox", "mayor")] == ["before", "during"]


def computed_json(town, addr: str, **flags):
    return json.loads(computed(town, addr, **flags)[0])


def _kept(town, addr="mayor") -> str:
    """Make the memo of `addr`'s plain inbox; return its file's path."""
    before = set(memo_files(town.beads_dir))
    mail.inbox_json(town, addr)
    new = set(memo_files(town.beads_dir)) - before
    assert len(new) == 1
    return os.path.join(memo.store_dir(str(town.beads_dir)), new.pop())


@pytest.mark.parametrize("log", ["kept", "gone"])
def test_a_stale_memo_is_never_served(rig_town, log):
    import shutil

    from gastown_tui.beads import changelog

    mail.send_mail(rig_town, "mayor", "one", "b", nudge=False)
    path = _kept(rig_town)
    with open(path, "rb") as f:
        old = f.read()
    mail.send_mail(rig_town, "mayor", "two", "b", nudge=False)
    if log == "gone":  # nothing says what changed: computed afresh
        shutil.rmtree(rig_town.beads_dir / changelog.DIR)
    with open(path, "wb") as f:  # the memo of the old versions put back (as by a restore or a race)
        f.write(old)
    assert [m["subject"] for m in json.loads(mail.inbox_json(rig_town, "mayor")[0])] == ["one", "two"]


@pytest.mark.parametrize("damage", ["truncated", "magic", "other-key", "other-versions", "answer-cut", "huge",
                                    "symlink", "directory", "empty"])
def test_a_forged_or_damaged_memo_is_not_trusted(rig_town, damage, monkeypatch):
    mail.send_mail(rig_town, "mayor", "real", "b", nudge=False)
    mail.send_mail(rig_town, "deacon", "for the deacon", "b", nudge=False)
    want = computed(rig_town, "mayor")
    path = _kept(rig_town)
    with open(path, "rb") as f:
        good = f.read()
    vers = Store(rig_town.beads_dir).versions()
    key_of = {}  # the key inbox_json uses, seen through memo.get
    real_get = memo.get

    def spy(beads_dir, key):
        key_of["k"] = key
        return real_get(beads_dir, key)
    monkeypatch.setattr(memo, "get", spy)
    assert mail.inbox_json(rig_town, "mayor") == want
    key = key_of["k"]
    os.unlink(path)
    if damage == "truncated":
        open(path, "wb").write(good[: len(good) // 2])
    elif damage == "magic":
        open(path, "wb").write(b"gtmemo0\n" + good[8:])
    elif damage == "other-key":  # the deacon's answer under the mayor's file name
        d_path = _kept(rig_town, "deacon")
        os.replace(d_path, path)
    elif damage == "other-versions":
        forged = [(fp[0] + 1, *fp[1:]) if fp else fp for fp in vers]
        forged_text = b'[{"id": "forged"}]'
        memo.put(str(rig_town.beads_dir), key, forged, b"\0\0\0\0" + len(forged_text).to_bytes(8, "little") + forged_text)
    elif damage == "answer-cut":  # the right head, an answer that claims warnings it does not hold
        memo.put(str(rig_town.beads_dir), key, vers, (3).to_bytes(4, "little") + b"\xff\xff")
    elif damage == "huge":
        with open(path, "wb") as f:
            f.write(good)
            f.truncate(memo.MAX_BYTES + len(good) + 1)  # sparse
    elif damage == "symlink":
        target = os.path.join(str(rig_town.root), "elsewhere")
        open(target, "wb").write(good)
        os.symlink(target, path)
    elif damage == "directory":
        os.mkdir(path)
    elif damage == "empty":
        open(path, "wb").close()
    monkeypatch.setattr(memo, "get", real_get)
    assert mail.inbox_json(rig_town, "mayor") == want
    r = gt(rig_town, "mail", "inbox", "mayor", "--json")
    assert (r.returncode, r.stdout, r.stderr) == (0, want[0].decode() + "\n", "")
    if damage == "directory":  # the memo could not be written: no temp file left behind
        assert os.path.isdir(path)
        assert not [n for n in os.listdir(memo.store_dir(str(rig_town.beads_dir))) if n.endswith(".tmp")]
    if damage == "symlink":  # replaced (never written through)
        assert not os.path.islink(path) and open(target, "rb").read() == good


def test_a_failed_memo_write_never_fails_the_poll(rig_town, monkeypatch):
    from gastown_tui.infra import fsutil

    mail.send_mail(rig_town, "mayor", "hello", "b", nudge=False)
    want = computed(rig_town, "mayor")

    def full(*a, **k):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(fsutil, "stage", full)
    assert mail.inbox_json(rig_town, "mayor") == want
    assert memo_files(rig_town.beads_dir) == []
    assert not [n for n in os.listdir(memo.store_dir(str(rig_town.beads_dir))) if n.endswith(".tmp")]


def test_a_read_only_store_still_answers(tmp_path):
    """An agent that may read the town store but not write it: the poll answers, exit 0, and no
    file appears in the store (the memo is in the agent's own cache directory). (As root, the poll
    runs without the capability to override file modes, so the read-only `.beads` binds it as it
    binds any user.)"""
    import shutil

    from gastown_tui.town.install import install_town

    town = install_town(tmp_path / "town", name="ro", owner="o@example.com").town
    mail.send_mail(town, "mayor", "hello", "b", nudge=False)
    want = computed(town, "mayor")
    beads = str(town.beads_dir)
    argv = [str(BIN / "gt"), "--town", str(town.root), "mail", "inbox", "mayor", "--json"]
    if os.geteuid() == 0:
        assert shutil.which("setpriv"), "the test needs setpriv to poll as root without CAP_DAC_OVERRIDE"
        argv = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *argv]
    before = sorted(os.listdir(beads))
    os.chmod(beads, 0o555)
    try:
        for _ in range(2):
            r = subprocess.run(argv, capture_output=True, text=True, timeout=120,
                               env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
            assert (r.returncode, r.stdout, r.stderr) == (0, want[0].decode() + "\n", "")
        assert sorted(os.listdir(beads)) == before
    finally:
        os.chmod(beads, 0o755)


def test_memo_files_are_bounded(rig_town):
    mail.send_mail(rig_town, "mayor", "hello", "b", nudge=False)
    for i in range(memo.MAX_ENTRIES + 8):
        mail.inbox_json(rig_town, "mayor", msg_type=f"T{i}")
    assert len(memo_files(rig_town.beads_dir)) <= memo.MAX_ENTRIES
    assert json.loads(mail.inbox_json(rig_town, "mayor")[0])[0]["subject"] == "hello"


def test_memo_get_and_put(tmp_path):
    d = str(tmp_path / ".beads")
    v1 = ((1, 2, 3, 4), None)
    memo.put(d, "k", v1, b"answer")
    assert memo.get(d, "k") == (v1, b"answer")  # the versions it was kept for: the caller compares
    assert memo.get(d, "other") is None
    memo.put(d, "pieces", v1, [b"an", b"", b"swer"])  # pieces are written in turn
    assert memo.get(d, "pieces") == (v1, b"answer")
    v2 = ((1, 2, 3, 5), (5, 6, 7, 8))
    memo.put(d, "k", v2, b"")
    assert memo.get(d, "k") == (v2, b"")
    memo.put(d, "k", v1, b"x" * (memo.MAX_BYTES + 1))  # too big to keep: the old answer stays
    assert memo.get(d, "k") == (v2, b"")
    assert memo.get(str(tmp_path / "missing"), "k") is None
    assert not os.path.exists(d)  # nothing is written in the store's directory
    assert memo.store_dir(d).startswith(os.path.join(os.environ["HOME"], ".cache", "gastown_tui", "memo") + os.sep)


def test_the_memo_directory_follows_xdg_cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert memo.root() == str(tmp_path / "xdg" / "gastown_tui" / "memo")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # ignored, as the XDG rules say
    assert memo.root() == os.path.join(os.environ["HOME"], ".cache", "gastown_tui", "memo")
    monkeypatch.setenv("HOME", str(tmp_path / "nohome"))
    (tmp_path / "nohome").write_text("a file, not a directory")  # no cache can be made: no memo, no error
    memo.put(str(tmp_path / ".beads"), "k", ((1, 2, 3, 4), None), b"a")
    assert memo.get(str(tmp_path / ".beads"), "k") is None


def test_without_a_home_no_memo_is_kept_and_the_poll_still_answers(rig_town, tmp_path, monkeypatch):
    """No HOME and no passwd entry (a container's uid): `~` stays relative, and a memo there would
    land in the working directory, an agent's git worktree. Then nothing is kept."""
    mail.send_mail(rig_town, "mayor", "hello", "b", nudge=False)
    want = computed(rig_town, "mayor")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(os.path, "expanduser", lambda p: p)  # what expanduser does then
    work = tmp_path / "worktree"
    work.mkdir()
    monkeypatch.chdir(work)
    assert memo.root() is None and memo.store_dir(str(rig_town.beads_dir)) is None
    for _ in range(2):
        assert mail.inbox_json(rig_town, "mayor") == want
    assert list(work.iterdir()) == [] and memo.entries(str(rig_town.beads_dir)) == []


def test_a_memo_in_use_is_not_the_first_evicted(tmp_path):
    d = str(tmp_path / ".beads")
    memo.put(d, "k", ((1, 2, 3, 4), None), b"a")
    [name] = memo.entries(d)
    path = os.path.join(memo.store_dir(d), name)
    os.utime(path, ns=(0, 0))
    os.utime(memo.store_dir(d), ns=(0, 0))
    assert memo.get(d, "k") is not None  # served: marked used now
    assert os.stat(path).st_mtime > 10**9 and os.stat(memo.store_dir(d)).st_mtime > 10**9


def test_memos_of_many_stores_are_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(memo, "MAX_STORES", 4)
    for n in range(7):
        memo.put(str(tmp_path / f"s{n}" / ".beads"), "k", ((n, 2, 3, 4), None), b"a")
    kept = [n for n in range(7) if memo.get(str(tmp_path / f"s{n}" / ".beads"), "k") is not None]
    assert len(os.listdir(memo.root())) <= 4 and kept[-1] == 6 and len(kept) <= 4


def test_store_versions_without_the_store_are_the_stores(rig_town):
    beads = str(rig_town.beads_dir)
    assert memo.store_versions(beads) == Store(beads).versions()  # wisps.jsonl missing: None
    mail.send_mail(rig_town, "mayor", "POLECAT_DONE x", "Polecat: x", nudge=False)  # writes wisps.jsonl
    assert memo.store_versions(beads) == Store(beads).versions() and None not in memo.store_versions(beads)


def test_a_moved_town_recomputes(rig_town, tmp_path):
    """A town moved elsewhere keeps its files' fingerprints; its warnings name the new path."""
    import shutil

    from gastown_tui.town.layout import find_town

    with open(rig_town.beads_dir / "issues.jsonl", "a") as f:
        f.write('{"id":"hq-torn","title":\n')
    first = mail.inbox_json(rig_town, "mayor")[1]
    assert first and str(rig_town.beads_dir) in first[0]
    moved = tmp_path / "moved"
    shutil.move(str(rig_town.root), moved)
    got = mail.inbox_json(find_town(moved), "mayor")[1]
    assert got and str(moved / ".beads") in got[0] and str(rig_town.beads_dir) not in got[0]


def test_polls_and_writes_never_dirty_the_town_even_in_an_older_store(rig_town):
    """The memo is outside the town; the store's change log (`.beads/.changes/`) ignores itself,
    so a town made before it existed (no `.changes/` line in .beads/.gitignore) stays clean and
    `gt rig add` (git add -A in the town) never commits it."""
    from gastown_tui.beads import changelog

    gi = rig_town.beads_dir / ".gitignore"
    gi.write_text("".join(ln + "\n" for ln in gi.read_text().splitlines() if ln != changelog.DIR + "/"))
    subprocess.run(["git", "-C", str(rig_town.root), "commit", "-qam", "an older store"], check=True)
    mail.send_mail(rig_town, "mayor", "hello", "b", nudge=False)
    assert gt(rig_town, "mail", "inbox", "mayor", "--json").returncode == 0
    assert (rig_town.beads_dir / changelog.DIR / "log").is_file() and memo_files(rig_town.beads_dir)
    status = subprocess.run(["git", "-C", str(rig_town.root), "status", "--porcelain", "--ignored=no"],
                            capture_output=True, text=True, check=True).stdout
    assert ".changes" not in status and ".memo" not in status, status


def test_a_memo_that_arrived_by_git_is_never_read(rig_town):
    """Files in the store's directory can be committed by anyone: a memo there (where this tool
    once kept it), with a forged answer under the exact versions, is never served."""
    mail.send_mail(rig_town, "mayor", "real", "b", nudge=False)
    want = computed(rig_town, "mayor")
    key = "\0".join(("mail.inbox", memo.code_stamp(*mail._INBOX_CODE), str(rig_town.beads_dir), "mayor", "", "", ""))
    forged_dir = rig_town.beads_dir / ".memo"
    forged_dir.mkdir()
    forged = b'[{"id": "forged"}]'
    for name in (memo._name(key), "00000000"):
        (forged_dir / name).write_bytes(b"".join([memo._head(key), memo._versions(Store(rig_town.beads_dir).versions()),
                                                  (12 + len(forged)).to_bytes(8, "little"), b"\0\0\0\0",
                                                  len(forged).to_bytes(8, "little"), forged]))
    for _ in range(2):
        r = gt(rig_town, "mail", "inbox", "mayor", "--json")
        assert (r.returncode, r.stdout) == (0, want[0].decode() + "\n")


def test_gitignore_covers_the_change_log(tmp_path):
    from gastown_tui.beads import changelog
    from gastown_tui.beads.store import init_store

    init_store(tmp_path, "t")
    ignored = (tmp_path / ".beads" / ".gitignore").read_text().splitlines()
    assert changelog.DIR + "/" in ignored


def test_a_message_with_fields_of_the_wrong_type_never_breaks_the_inbox(rig_town):
    # Lines arrive by git: a number for created_at, title or sender, labels that are not a list of
    # strings. The recipient's inbox still answers (exit 0, both forms), reading them as empty.
    r = gt(rig_town, "mail", "send", "mayor", "-s", "Hello", "-m", "x", "--no-nudge", "--json")
    assert r.returncode == 0, r.stderr
    sent = json.loads(r.stdout)
    path = rig_town.beads_dir / "issues.jsonl"
    rec = next(json.loads(line) for line in path.read_text().splitlines() if json.loads(line)["id"] == sent["id"])
    odd = [{**rec, "id": "hq-odd1", "created_at": 5, "title": 7, "sender": ["x"]},
           {**rec, "id": "hq-odd2", "labels": "read", "thread_id": 3},
           {**rec, "id": "hq-odd3", "labels": ["read", 4, None]}]
    with path.open("a") as f:
        f.write("".join(json.dumps(o, separators=(",", ":")) + "\n" for o in odd))
    got = {m["id"]: m for m in gt_json(rig_town, "mail", "inbox", "mayor")}
    assert set(got) == {sent["id"], "hq-odd1", "hq-odd2", "hq-odd3"}
    assert (got["hq-odd1"]["created_at"], got["hq-odd1"]["subject"]) == ("", "")
    assert got["hq-odd2"]["read"] is False and got["hq-odd2"]["thread_id"] == "hq-odd2"
    assert got["hq-odd3"]["read"] is True
    r = gt(rig_town, "mail", "inbox", "mayor")
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
