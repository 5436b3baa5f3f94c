"""Molecules poured from formulas into a real store in tmp_path: steps, dependencies, walking, ending."""

from __future__ import annotations

import pytest

from gastown_tui.beads.store import init_store
from gastown_tui.errors import Conflict
from gastown_tui.work import formulas as F
from gastown_tui.work import molecules as M

BUILTINS = ("polecat-work", "code-review", "release", "design", "witness-patrol", "refinery-patrol",
            "deacon-patrol")
REQUIRED = {"polecat-work": {"issue": "gt-abc"}, "code-review": {"target": "feat"}, "release": {"version": "1.0"},
            "design": {"topic": "caching"}, "witness-patrol": {"rig": "demo"}, "refinery-patrol": {"rig": "demo"},
            "deacon-patrol": {}}


@pytest.fixture
def store(tmp_path):
    s = init_store(tmp_path / "proj", "gt")
    s.actor = "tester"
    return s


def blocks_of(store, issue_id):
    return sorted(d["depends_on_id"] for d in store.get(issue_id).dependencies if d["type"] == "blocks")


@pytest.mark.parametrize("name", BUILTINS)
def test_pouring_each_builtin_creates_its_steps_and_dependencies(store, name):
    f = F.load_formula(name, F.search_paths())
    mol_id = M.pour(store, f, REQUIRED[name])
    assert "-mol-" in mol_id
    mol = store.get(mol_id)
    assert mol.issue_type == "molecule" and mol.get("formula") == name
    kids = store.children(mol_id)
    ordered = F.topo_order(f.steps)
    assert [k.get("mol_step") for k in kids] == [s.id for s in ordered]
    assert [k.id for k in kids] == [f"{mol_id}.{i}" for i in range(1, len(kids) + 1)]
    bead = {k.get("mol_step"): k.id for k in kids}
    for s in f.steps:
        assert blocks_of(store, bead[s.id]) == sorted(bead[n] for n in s.needs)
    # Exactly the steps with no needs are ready at first.
    ready = {s.id for s in M.ready_steps(store, mol_id)}
    assert ready == {bead[s.id] for s in f.steps if not s.needs}
    # Molecule steps never leak into plain `bd ready`.
    assert all("-mol-" not in i.id for i in store.ready(limit=0))


def test_bad_vars_pour_nothing(store):
    f = F.load_formula("release", F.search_paths())
    before = store.issues_path.read_text()
    with pytest.raises(F.FormulaError):
        M.pour(store, f, {})
    with pytest.raises(F.FormulaError):
        M.pour(store, f, {"version": "1", "nope": "x"})
    assert store.issues_path.read_text() == before


def test_walk_polecat_work_with_continue(store):
    bead = store.create("Fix the login bug")
    mol_id = M.attach_molecule(store, bead.id, "polecat-work", {}, F.search_paths(), actor="demo/polecats/nux")
    assert store.get(bead.id).get("attached_molecule") == mol_id
    assert M.attached_molecule(store, bead.id) == mol_id
    assert store.get(mol_id).get("vars")["issue"] == bead.id
    text = M.render_checklist(store, mol_id)
    assert "<- YOU ARE HERE" in text and f"Load context for {bead.id}" in text
    first = M.current_step(store, mol_id)
    assert first.step_id == "load-context"
    # A step whose predecessor is open is refused unless forced.
    with pytest.raises(Conflict, match="closed first"):
        M.close_step(store, f"{mol_id}.3", actor="demo/polecats/nux")
    me = "demo/polecats/nux"
    seen = []
    cur = first.id
    while cur:
        closed, nxt = M.close_step(store, cur, advance=True, actor=me)
        assert closed.status == "closed"
        seen.append(store.get(cur).get("mol_step"))
        if nxt is not None:
            assert nxt.status == "in_progress" and nxt.assignee == me
            assert M.current_step(store, mol_id, me=me).id == nxt.id
        cur = nxt.id if nxt else None
    assert seen == ["load-context", "implement", "self-review", "test", "commit", "submit"]
    p = M.progress(store, mol_id)
    assert p["complete"] and p["done"] == p["total"] == 6
    assert store.get(mol_id).status == "closed"
    assert "All steps are done." in M.render_checklist(store, mol_id)


def test_force_closes_out_of_order(store):
    mol_id = M.pour(store, F.load_formula("design", F.search_paths()), {"topic": "x"})
    closed, _ = M.close_step(store, f"{mol_id}.2", force=True)
    assert closed.status == "closed"


def test_wisp_lives_in_wisps_jsonl_and_squashes_to_a_digest(store):
    f = F.load_formula("deacon-patrol", F.search_paths())
    wisp = M.pour(store, f, {}, ephemeral=True)
    assert "-wisp-" in wisp
    assert wisp in store.wisps_path.read_text()
    assert wisp not in store.issues_path.read_text()
    M.close_step(store, f"{wisp}.1")
    digest = M.squash(store, wisp, summary="quiet patrol")
    d = store.get(digest)
    assert d.status == "closed" and "quiet patrol" in d.description and "digest" in d.labels
    assert store.get(wisp).is_tombstone
    assert digest in store.issues_path.read_text()


def test_persistent_squash_closes_and_burn_deletes(store):
    f = F.load_formula("release", F.search_paths())
    mol = M.pour(store, f, {"version": "3"})
    digest = M.squash(store, mol)
    assert store.get(mol).status == "closed" and store.get(mol).get("digest") == digest
    assert all(k.status == "closed" for k in store.children(mol))
    other = M.pour(store, f, {"version": "4"})
    n = M.burn(store, other)
    assert n == 1 + len(f.steps)
    assert store.get(other).is_tombstone
    assert [m["id"] for m in M.list_molecules(store)] == []


def test_cook_gives_a_proto_with_unfilled_vars():
    proto = M.cook(F.load_formula("code-review", F.search_paths()))
    assert proto["proto"] == "code-review" and proto["steps"][-1]["id"] == "synthesis"
    assert "{{target}}" in proto["steps"][0]["title"]


def test_plain_close_of_the_last_step_closes_the_molecule(store):
    mol = M.pour(store, F.load_formula("design", F.search_paths()), {"topic": "x"})
    ids = [k.id for k in store.children(mol)]
    assert M.close_finished_molecules(store, ids[:-1]) == []
    for i in ids:
        store.close(i, "done")
    assert M.close_finished_molecules(store, [ids[-1]]) == [mol]
    assert store.get(mol).status == "closed"
