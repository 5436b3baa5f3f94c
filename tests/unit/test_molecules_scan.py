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
    assert fresh.mentioning("worker") is not None
    assert fresh.mentioning("a<b") is None


def _full_current(store: Store, mol: str, me: str) -> dict:
    return {**M.progress(store, mol), "steps": [s.to_json() for s in M.steps(store, mol, me=me)]}


def test_bd_mol_current_lean_lane_matches_the_store(poured):
    from gastown_tui.cli.bd_fast import _mol_current_lean

    store, mol = poured
    bdir = str(store.beads_dir)
    step = M.steps(store, mol)[0].id
    assert _mol_current_lean(bdir, {"pos": [mol], "json": True, "--actor": "worker"}) == _full_current(store, mol, "worker")
    assert _mol_current_lean(bdir, {"pos": [step], "json": True, "--actor": "worker"}) == _full_current(store, mol, "worker")
    assert _mol_current_lean(bdir, {"pos": [], "json": True, "--actor": "worker"}) is None  # not working on one
    store.update(step, status="in_progress", assignee="worker")
    fresh = Store(store.beads_dir)
    got = _mol_current_lean(bdir, {"pos": [], "json": True, "--actor": "worker"})
    assert got == _full_current(fresh, mol, "worker") and got["current"] == step
    assert _mol_current_lean(bdir, {"pos": ["gt-nope"], "json": True}) is None  # the full path words it
    # A stale duplicate of a step: the lean lane steps aside rather than guess.
    lines = store.issues_path.read_text().splitlines()
    dup = next(ln for ln in lines if ln.startswith('{"id":"' + step + '"'))
    store.issues_path.write_text(dup + "\n" + "\n".join(lines) + "\n")
    assert _mol_current_lean(bdir, {"pos": [mol], "json": True, "--actor": "worker"}) is None
