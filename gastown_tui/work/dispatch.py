"""`gt formula run` and dispatch: a convoy formula gets one polecat per leg; a workflow goes to one polecat.

This sits above both `molecules` (pour, steps, readiness) and `sling` (hooking work on a polecat),
so neither of those imports the other's caller.
"""

from __future__ import annotations

from typing import Any

from gastown_tui.work.molecules import READY, attach_molecule, attached_molecule, burn, close_all_finished, pour, steps


def run_formula(town: Any, name: str, vars: dict[str, str] | None, *, rig: str | None = None,
                runtime: str | None = None, dry_run: bool = False, actor: str | None = None) -> dict[str, Any]:
    """Pour `name` and start it.

    convoy: the molecule is poured in the rig's store and every leg is slung to the rig (one
    polecat each, in parallel); the synthesis step waits on all legs and is slung by
    `dispatch_ready_steps` once they are closed. workflow/expansion: a task bead is created and
    slung to the rig with the molecule attached, so one polecat walks the checklist. Without a rig,
    the molecule is poured in the town store and nothing is slung.
    """
    from gastown_tui.beads.store import Store
    from gastown_tui.work.formulas import load_formula, search_paths

    formula = load_formula(name, search_paths(town, rig))
    if rig is not None:
        store = Store(town.require_rig(rig).beads_dir)
    else:
        store = Store(town.beads_dir)
    from gastown_tui.work.formulas import render

    values, rendered = render(formula, dict(vars or {}))  # refuse bad vars before anything is written
    if dry_run:
        legs = [s.id for s in rendered if s.kind == "leg"]
        return {"formula": formula.name, "type": formula.type, "molecule": None, "rig": rig, "dry_run": True,
                "vars": values, "steps": [s.to_json() for s in rendered], "slung": legs if rig else []}
    if rig is None:
        mol_id = pour(store, formula, values, actor=actor)
        return {"formula": formula.name, "type": formula.type, "molecule": mol_id, "rig": None, "dry_run": False,
                "vars": values, "steps": [s.to_json() for s in steps(store, mol_id)], "slung": []}
    from gastown_tui.work.sling import sling

    if formula.type == "convoy":
        mol_id = pour(store, formula, values, actor=actor)
        try:
            # Remember where its steps go, so the deacon can start the synthesis when the legs close.
            store.update(mol_id, dispatch_rig=rig, dispatch_runtime=runtime, actor=actor)
            slung = dispatch_ready_steps(town, store, mol_id, rig, runtime=runtime, actor=actor)
        except BaseException:
            burn(store, mol_id, actor=actor)
            raise
        return {"formula": formula.name, "type": formula.type, "molecule": mol_id, "rig": rig, "dry_run": False,
                "vars": values, "steps": [s.to_json() for s in steps(store, mol_id)], "slung": slung}
    title = f"{formula.name}: " + ", ".join(f"{k}={v}" for k, v in values.items() if v)
    bead = store.create(title.rstrip(": "), type="task", description=formula.description.strip(), actor=actor)
    try:
        mol_id = attach_molecule(store, bead.id, formula.name, {k: v for k, v in values.items() if k in (vars or {})},
                                 search_paths(town, rig), actor=actor)
        res = sling(town, [bead.id], rig, runtime=runtime, actor=actor)
    except BaseException:
        if attached_molecule(store, bead.id):
            burn(store, attached_molecule(store, bead.id), actor=actor)
        store.delete(bead.id, reason="gt formula run failed", actor=actor)
        raise
    agent = res.assignments[0]["agent"] if res.assignments else None
    return {"formula": formula.name, "type": formula.type, "molecule": mol_id, "rig": rig, "dry_run": False,
            "vars": values, "bead": bead.id, "agent": str(agent) if agent else None,
            "steps": [s.to_json() for s in steps(store, mol_id)], "slung": [bead.id]}


def dispatch_running(town: Any, *, actor: str | None = None) -> list[str]:
    """Sling the newly ready steps of every open molecule `gt formula run` started in a rig
    (a convoy's synthesis once its legs are closed). The deacon calls this each patrol."""
    from gastown_tui.beads.store import Store

    slung: list[str] = []
    for rig in sorted(town.rigs()):
        beads_dir = town.rig(rig).beads_dir
        if not beads_dir.is_dir():
            continue
        store = Store(beads_dir)
        close_all_finished(store, actor=actor)  # a finished molecule closes itself, whoever closed its last step
        for mol in store.list(type="molecule", where=lambda i: bool(i.get("dispatch_rig"))):
            slung += dispatch_ready_steps(town, store, mol.id, mol.get("dispatch_rig"),
                                          runtime=mol.get("dispatch_runtime"), actor=actor)
    return slung


def dispatch_ready_steps(town: Any, store: Any, mol_id: str, rig: str, *, runtime: str | None = None,
                         actor: str | None = None) -> list[str]:
    """Sling every ready, unassigned step of a molecule to `rig` (one polecat each); return their ids.

    Called by `gt formula run` for the legs and again (by `gt formula dispatch` or a patrol) once
    the legs are closed, which starts the synthesis.
    """
    from gastown_tui.work.sling import AlreadyClaimed, sling

    ready = [s for s in steps(store, mol_id) if s.state == READY and not s.assignee]
    slung = []
    for s in ready:
        try:
            sling(town, [s.id], rig, runtime=runtime, no_convoy=True, actor=actor)
        except AlreadyClaimed:  # another dispatcher (the deacon, a user) slung this step first
            continue
        slung.append(s.id)
    return slung
