"""A write combiner killed half-way: the queued change it applied is neither lost nor applied twice.

Process A holds the store's lock and combines; process B (a real writer) queues a create behind
it. A is killed (GT_BEADS_FAULT) either after staging the new file but before renaming it, or after
the rename but before handing B its result. Then B takes the lock itself and must end up with its
issue created exactly once, and the id it reports must be that issue's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gastown_tui.beads.store import PENDING, Store, init_store

COMBINER = """
import fcntl, os, sys
from gastown_tui.beads import store as st
s = st.Store(sys.argv[1], actor="A")
fd = os.open(s.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
sys.stdin.readline()
st._combine_locked(s, s.beads_dir / st.PENDING, "00000000000000000000-combiner", None, "create", ["from A"], {})
print("survived", flush=True)
"""

WRITER = """
import json, sys
from gastown_tui.beads.store import Store
print(json.dumps(Store(sys.argv[1], actor="B").create("from B").id), flush=True)
"""


def _wait_for(cond, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


@pytest.mark.parametrize("point", ["combine-before-replace", "combine-after-commit"])
def test_killed_combiner_neither_loses_nor_duplicates(tmp_path: Path, point: str) -> None:
    store = init_store(tmp_path, "kc")
    for n in range(5):
        store.create(f"seed {n}")
    bdir = store.beads_dir
    env = {**os.environ, "GT_BEADS_FAULT": point}
    a = subprocess.Popen([sys.executable, "-c", COMBINER, str(bdir)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert a.stdout.readline().strip() == "locked"
        b = subprocess.Popen([sys.executable, "-c", WRITER, str(bdir)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        pending = bdir / PENDING
        _wait_for(lambda: pending.is_dir() and any(e.endswith(".req") for e in os.listdir(pending)))
        a.stdin.write("go\n")
        a.stdin.flush()
        assert a.wait(timeout=60) == 77  # killed at the fault point, before "survived"
        out, err = b.communicate(timeout=60)
        assert b.returncode == 0, err
        b_id = json.loads(out)
    finally:
        for p in (a,):
            if p.poll() is None:
                p.kill()
                p.wait()
    titles = [i.title for i in Store(bdir).all()]
    assert titles.count("from B") == 1
    assert titles.count("from A") == (1 if point == "combine-after-commit" else 0)
    assert Store(bdir).get(b_id).title == "from B"
    assert sorted(t for t in titles if t.startswith("seed")) == [f"seed {n}" for n in range(5)]
    assert Store(bdir).problems == []
    left = os.listdir(bdir / PENDING)
    assert not [e for e in left if e.endswith((".req", ".batch"))], left
    assert not [e for e in os.listdir(bdir) if e.endswith(".tmp")]
    # The store keeps working normally afterwards.
    Store(bdir, actor="C").create("after")
    assert [i.title for i in Store(bdir).all()].count("after") == 1
