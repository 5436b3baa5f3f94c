"""Molecule steps found by a text scan (store.mentioning) must equal the full-store answer."""

from __future__ import annotations

import pytest

from gastown_tui.beads.store import Store, init_store
from gastown_tui.work import formulas as F
from gastown_tui.work import molecules as M


class _FullOnly:
    """The same store with the text scan disabled: molecules falls back to parsing everything."""

    def __init__(self, store: Store) -> None:
        self._s = store

    def __getattr__(self, name):
        if name == "mentioning":
            raise AttributeError(name)
        return getattr(self._s, name)


def _both(store: Store, mol: str, me: str | None = None):
    fast = [s.to_json() for s in M.steps(store, mol, me=me)]
    full = [s.to_json() for s in M.steps(_FullOnly(store), mol, me=me)]
    return fast, full


@pytest.fixture
def poured(tmp_path):
    store = init_store(tmp_path / "proj", "gt")
    store.actor = "tester"
    for n in range(30):
        store.create(f"noise {n}", assignee="worker" if n % 7 == 0 else None)
    mol = M.pour(store, F.load_formula("polecat-work", F.search_paths()), {"issue": "gt-abc"})
    return Store(store.beads_dir, actor="tester"), mol


def test_steps_match_the_full_store_through_a_walk(poured):
    store, mol = poured
    fast, full = _both(store, mol)
    assert fast == full and len(fast) >= 3
    first, second = fast[0]["id"], fast[1]["id"]
    store.update(first, status="in_progress", assignee="worker")
    assert _both(store, mol, "worker")[0] == _both(store, mol, "worker")[1]
    assert M.find_my_molecule(store, "worker") == mol == M.find_my_molecule(_FullOnly(store), "worker")
    store.close(first)
    store.update(second, status="in_progress", assignee="someone")
    fast, full = _both(store, mol, "worker")
    assert fast == full and fast[0]["state"] == "done"
    assert M.progress(store, mol) == M.progress(_FullOnly(store), mol)
    store.delete(fast[-1]["id"])
    assert _both(store, mol)[0] == _both(store, mol)[1]


def test_a_stale_duplicate_line_is_decided_by_the_index(poured):
    store, mol = poured
    step = M.steps(store, mol)[1].id
    path = store.issues_path
    lines = path.read_text().splitlines()
    old = next(ln for ln in lines if ln.startswith('{"id":"' + step + '"'))
    store.update(step, status="in_progress", assignee="worker")
    # An older copy of the step's line earlier in the file (as a bad merge could leave): the last line wins.
    text = path.read_text()
    path.write_text(old + "\n" + text)
    fresh = Store(store.beads_dir)
    fast, full = _both(fresh, mol, "worker")
    assert fast == full
    assert next(s for s in fast if s["id"] == step)["status"] == "in_progress"
    assert step in [i.id for i in fresh.mentioning("worker", "assignee")]
    assert fresh.mentioning("a<b") == []  # any text: escapes in a line make it a candidate, never a miss
