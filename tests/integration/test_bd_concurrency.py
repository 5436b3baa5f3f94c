"""Safety under concurrency: many writer processes, killed writers, readers racing writers."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap

from gastown_tui.beads.store import Store, init_store
from tests.conftest import REAL_FIXTURE, wait_for

WRITER = textwrap.dedent("""
    import sys
    from gastown_tui.beads.store import Store
    beads, n, shared = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")
    s = Store(beads, actor=f"w{n}")
    mine = s.create(f"writer {n} own issue")
    for k in range(50 - 1):
        if k % 3 == 0:
            s.create(f"writer {n} item {k}")
        elif k % 3 == 1:
            s.add_label(shared[k % len(shared)], f"w{n}-{k}")
        else:
            s.update(mine.id, notes=f"step {k}")
    print(mine.id)
""")


def test_thirty_writers_lose_nothing(tmp_path):
    store = init_store(tmp_path, "gt")
    shared = [store.create(f"shared {i}").id for i in range(4)]
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(store.beads_dir), str(n), ",".join(shared)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for n in range(30)]
    torn = 0
    # Readers race the writers: every read sees a whole, parseable file.
    while any(p.poll() is None for p in procs):
        text = store.issues_path.read_text(encoding="utf-8")
        for line in text.splitlines():
            json.loads(line)
        if text and not text.endswith("\n"):
            torn += 1
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outs if o[1]][:1]
    assert torn == 0
    fresh = Store(store.beads_dir)
    issues = {i.id: i for i in fresh.list(include_closed=True)}
    # 4 shared + per writer: 1 own + 17 items
    assert len(issues) == 4 + 30 * (1 + 17)
    labels = set()
    for sid in shared:
        labels |= set(issues[sid].labels)
    assert len(labels) == 30 * 16
    for out, _ in outs:
        assert issues[out.strip()].notes == "step 47"
    assert not fresh.problems


KILLED_WRITER = textwrap.dedent("""
    import sys
    from gastown_tui.beads.store import Store
    s = Store(sys.argv[1], actor="victim")
    ids = [i.id for i in s.list(status="open")][:50]
    k = 0
    print("ready", flush=True)
    while True:
        s.update(ids[k % len(ids)], notes=f"write {k}")
        k += 1
""")


def test_writer_killed_mid_write_leaves_a_valid_file(tmp_path):
    beads = tmp_path / ".beads"
    beads.mkdir()
    shutil.copy(REAL_FIXTURE, beads / "issues.jsonl")
    (beads / "config.yaml").write_text("issue-prefix: gt\n")
    for round_ in range(6):
        p = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(beads)], stdout=subprocess.PIPE, text=True)
        assert p.stdout.readline().strip() == "ready"
        before = os.stat(beads / "issues.jsonl").st_mtime_ns
        wait_for(lambda b=before: os.stat(beads / "issues.jsonl").st_mtime_ns != b, timeout=30,
                 message="the writer to commit at least one change")
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=30)
        lines = (beads / "issues.jsonl").read_text(encoding="utf-8").splitlines()
        assert len(lines) == 5306
        assert all(json.loads(x)["id"] for x in lines)
        s = Store(beads)
        # The lock died with the writer: the next change goes through.
        s.update(s.list(status="open")[0].id, notes=f"after kill {round_}")
        assert not s.problems


def test_concurrent_bd_processes_lose_no_acknowledged_change(tmp_path):
    """Agents' writes as they make them, one `bd` process each, many at once (issue 11): every
    change a process acknowledged (exit 0) is in the store, which stays sorted and whole."""
    bd = os.path.join(os.path.dirname(sys.executable), "bd")
    store = init_store(tmp_path, "gt")
    with store.transaction() as tx:  # a sorted, stamped store of some size: writes take the splice path
        targets = [tx.create(f"target {i}").id for i in range(6)]  # changes collide on each issue
        for i in range(200):
            tx.create(f"filler {i}")
    jobs = []
    for n in range(48):
        t = targets[n % len(targets)]
        kind = n % 4
        argv = ([bd, "create", f"cli writer {n}"] if kind == 0 else
                [bd, "comment", "add", t, f"note {n}"] if kind == 1 else
                [bd, "update", t, "--priority", str(n % 5)] if kind == 2 else
                [bd, "label", "add", t, f"lbl{n}"])
        jobs.append((kind, t, n, argv + ["--db", str(store.beads_dir)]))
    running, acked = [], []
    for job in jobs:  # 12 processes at any moment
        running.append((subprocess.Popen(job[3], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True), job))
        if len(running) >= 12:
            p, j = running.pop(0)
            out, err = p.communicate(timeout=120)
            assert p.returncode == 0, err
            acked.append(j)
    for p, j in running:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        acked.append(j)
    assert len(acked) == len(jobs)
    lines = store.issues_path.read_text(encoding="utf-8").splitlines()
    ids = [json.loads(x)["id"] for x in lines]
    assert ids == sorted(set(ids)), "still one line per issue, sorted by id"
    fresh = Store(store.beads_dir)
    titles = {i.title for i in fresh.list(include_closed=True)}
    last_priority = {}
    for kind, t, n, _ in acked:
        if kind == 0:
            assert f"cli writer {n}" in titles
        elif kind == 1:
            assert any(c.get("text") == f"note {n}" for c in fresh.get(t).comments)
        elif kind == 2:
            last_priority[t] = {n % 5} | last_priority.get(t, set())
        else:
            assert f"lbl{n}" in fresh.get(t).labels
    for t, allowed in last_priority.items():  # concurrent updates of one issue: one of them wins
        assert fresh.get(t).priority in allowed
    assert not fresh.problems
