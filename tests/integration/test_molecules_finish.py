"""Molecules finish (concepts reference §15, §16): the agent walks the attached molecule's steps with
`bd close STEP --continue`, the molecule closes itself with its last step, and `bd mol current`
prints the reference's format."""

from __future__ import annotations

import json

import pytest

from gastown_tui.beads.store import Store
from gastown_tui.work import molecules as M
from tests.conftest import run_cli, wait_for


def bd(town, *args, cwd=None, env=None):
    return run_cli("bd", *args, cwd=cwd or town.rig("demo").mayor_clone, env=env)


def test_bd_mol_current_prints_the_reference_format(rig_town):
    town = rig_town
    store = Store(town.rig("demo").beads_dir)
    bead = store.create("Feature X")
    mol = json.loads(bd(town, "mol", "pour", "polecat-work", "--var", f"issue={bead.id}", "--attach", bead.id,
                        "--json").stdout)["id"]
    env = {"BD_ACTOR": "demo/polecats/nux"}
    for n in (1, 2, 3):
        assert bd(town, "close", f"{mol}.{n}", "--continue", env=env).returncode == 0
    r = bd(town, "mol", "current", mol, env=env)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == f"You're working on molecule {mol} (Feature X)"
    assert lines[2:8] == [
        f"[x] {mol}.1: Load context for {bead.id}",
        f"[x] {mol}.2: Implement {bead.id}",
        f"[x] {mol}.3: Review your own diff",
        f"--> {mol}.4: Run the tests [in_progress] <- YOU ARE HERE",
        f"[ ] {mol}.5: Commit the work",
        f"[ ] {mol}.6: Submit to the merge queue",
    ]
    assert "Progress: 3/6 steps complete" in lines


@pytest.mark.tmux
def test_a_molecule_closes_itself_however_its_last_step_closed(rig_town):
    town = rig_town
    store = Store(town.rig("demo").beads_dir)
    bead = store.create("work")
    mol = json.loads(bd(town, "mol", "pour", "polecat-work", "--var", f"issue={bead.id}", "--json").stdout)["id"]
    for n in range(1, 7):  # closed behind the molecule's back (as the refinery closes a slung step)
        store.close(f"{mol}.{n}", "done")
    assert store.get(mol).status == "open"
    from gastown_tui.patrols.deacon import DeaconConfig, DeaconContext, patrol_once

    patrol_once(DeaconContext(town), DeaconConfig(feed_convoys=False))
    assert store.get(mol).status == "closed" and store.get(mol).close_reason == "all steps done"
    # plain `bd close` of the last step closes it too
    other = json.loads(bd(town, "mol", "pour", "polecat-work", "--var", f"issue={bead.id}", "--json").stdout)["id"]
    for n in range(1, 6):
        store.close(f"{other}.{n}", "done")
    assert bd(town, "close", f"{other}.6").returncode == 0
    assert store.get(other).status == "closed"


@pytest.mark.tmux
def test_the_sim_walks_its_attached_molecule_and_it_finishes(rig_town, tmux):
    town = rig_town
    store = Store(town.rig("demo").beads_dir)
    bead = store.create("Add a greeting", description="Say hello.")
    r = run_cli("gt", "sling", bead.id, "demo", "--formula", "polecat-work", "--agent", "sim", "--no-convoy",
                "--json", cwd=town.root)
    assert r.returncode == 0, r.stderr
    mol = json.loads(r.stdout)["molecules"][bead.id]
    # the sim hands in the work (an MR) and closes the last step after `gt done`: 6/6, closed
    wait_for(lambda: store.get(mol).status == "closed", timeout=90, message="the molecule closed by its last step")
    p = M.progress(store, mol)
    assert (p["done"], p["total"], p["complete"]) == (6, 6, True)
    assert [m.data.get("source_issue") for m in store.list(type="merge-request")] == [bead.id]
    walked = [store.get(f"{mol}.{n}").get("closed_by") or store.get(f"{mol}.{n}").assignee for n in range(2, 7)]
    assert all(w and w.startswith("demo/polecats/") for w in walked)  # claimed and closed by the polecat
