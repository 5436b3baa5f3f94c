"""One-change `bd` writes queue their change with the other writers (issue 11): while the store is
locked, `bd update ID --priority P`, `bd label add ID L`, `bd create` and `bd comment add` each
leave a request in `.pending/` and are answered by whoever combines next (one rewrite of the file
for many changes), instead of each waiting to rewrite the whole file alone."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from gastown_tui.beads.store import LOCK, PENDING, Store, init_store
from gastown_tui.infra.fsutil import Lock
from tests.conftest import BIN, wait_for


@pytest.mark.parametrize("change", [
    ["update", "{id}", "--priority", "0"],
    ["label", "add", "{id}", "queued"],
    ["create", "queued issue"],
    ["comment", "add", "{id}", "queued note"],
])
def test_a_one_change_write_queues_behind_the_lock_and_is_applied(tmp_path, change):
    store = init_store(tmp_path / "s", "gt")
    iid = store.create("target", priority=3).id
    beads = store.beads_dir
    lock = Lock(os.path.join(beads, LOCK))
    assert lock.acquire()  # another writer holds the store
    args = [a.format(id=iid) for a in change]
    proc = subprocess.Popen([str(BIN / "bd"), *args, "--db", str(beads), "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        pending = beads / PENDING
        wait_for(lambda: pending.is_dir() and any(e.endswith(".req") for e in os.listdir(pending)),
                 message="the change to be queued while the lock is held")
        assert proc.poll() is None  # acknowledged only once applied
    finally:
        lock.close()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    json.loads(out)
    s = Store(beads)
    if change[0] == "update":
        assert s.get(iid).priority == 0
    elif change[0] == "label":
        assert s.get(iid).labels == ["queued"]
    elif change[0] == "create":
        assert [i.title for i in s.all()].count("queued issue") == 1
    else:
        assert [c["text"] for c in s.get(iid).comments] == ["queued note"]
