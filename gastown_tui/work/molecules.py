"""Molecules: formulas poured into the beads store as a parent bead with one child bead per step.

A molecule is a bead of type `molecule` (`<prefix>-mol-<hash>`, or `<prefix>-wisp-<hash>` for an
ephemeral one kept in `wisps.jsonl`); step N is its child `<mol>.<N>`; a step's `needs` become
`blocks` dependencies between the children. Because the steps are ordinary beads, a molecule's
progress survives crashes, handoffs and context compaction: `checklist()` rebuilds "you are here"
from the store alone.

The whole molecule is poured in ONE store transaction: a bad formula or a failed write pours
nothing. Domain code: no printing, no processes.
"""

from __future__ import annotations

from gastown_tui.beads import graph
from gastown_tui.errors import Conflict, NotFound, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing and pathlib cost milliseconds at import; annotations are strings anyway
    from pathlib import Path
    from typing import Any

DONE, CURRENT, READY, BLOCKED = "done", "current", "ready", "blocked"


class Step:
    """One step of a poured molecule, as the store says it is now.

    (A plain class, not a dataclass: `bd close --continue` runs hundreds of times an hour and
    importing dataclasses costs startup time.)
    """

    __slots__ = ("id", "index", "step_id", "title", "status", "state", "needs", "assignee", "description",
                 "acceptance", "here")

    def __init__(self, *, id: str, index: int, step_id: str, title: str, status: str, state: str,
                 needs: tuple[str, ...], assignee: str, description: str, acceptance: str, here: bool = False) -> None:
        self.id = id
        self.index = index
        self.step_id = step_id  # the formula's step id
        self.title = title
        self.status = status  # the bead's status
        self.state = state  # done, current, ready or blocked
        self.needs = needs  # bead ids of the steps it waits for
        self.assignee = assignee
        self.description = description
        self.acceptance = acceptance
        self.here = here  # "you are here"

    def __repr__(self) -> str:
        return f"Step({self.id!r}, {self.state!r}{', here' if self.here else ''})"

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "index": self.index, "step": self.step_id, "title": self.title,
                "status": self.status, "state": self.state, "needs": list(self.needs),
                "assignee": self.assignee, "description": self.description, "acceptance": self.acceptance,
                "here": self.here}


# ---------------------------------------------------------------------------------------------
# Pouring


def pour(store: Any, formula: Any, given: dict[str, str] | None = None, *, ephemeral: bool = False,
         attach_to: str | None = None, assignee: str | None = None, actor: str | None = None,
         labels: tuple[str, ...] = ()) -> str:
    """Pour `formula` (a loaded `formulas.Formula`) into `store`; return the molecule's id.

    Vars are checked before anything is written; the molecule and its steps are created in one
    transaction. With `attach_to`, the bead gets `attached_molecule` pointing at the molecule.
    """
    from gastown_tui.work.formulas import render

    values, steps = render(formula, dict(given or {}))
    title = f"{formula.name}: " + ", ".join(f"{k}={v}" for k, v in values.items() if v) if values else formula.name
    title = title.rstrip(": ") or formula.name
    mol_fields = {"formula": formula.name, "formula_version": formula.version, "formula_type": formula.type,
                  "vars": values}
    if attach_to:
        mol_fields["attached_to"] = attach_to
    with store.transaction(actor=actor) as tx:
        if attach_to:
            tx.get(attach_to)  # must exist; NotFound otherwise
        mol = tx.create(title, type="molecule", priority=2, description=formula.description.strip(),
                        ephemeral=ephemeral, fields=mol_fields, labels=[f"formula:{formula.name}", *labels],
                        actor=actor)
        bead_of: dict[str, str] = {}
        for s in steps:
            fields: dict[str, Any] = {"mol_step": s.id, "mol_kind": s.kind}
            if s.acceptance:
                fields["acceptance_criteria"] = s.acceptance
            deps = [("blocks", bead_of[n]) for n in s.needs]
            child = tx.create(s.title, type="task", priority=2, description=s.description, parent=mol.id,
                              deps=deps, ephemeral=ephemeral, fields=fields, actor=actor,
                              assignee=assignee)
            bead_of[s.id] = child.id
        if attach_to:
            tx.update(attach_to, attached_molecule=mol.id, actor=actor)
    return mol.id


def attach_molecule(store: Any, bead_id: str, formula_name: str, vars: dict[str, str] | None,
                    search_paths: list[Path], *, actor: str | None = None, ephemeral: bool = False) -> str:
    """Pour `formula_name` for `bead_id` and attach it to the bead (used by `gt sling --formula`).

    A formula that declares an `issue` var gets the bead's id unless one is given.
    """
    from gastown_tui.work.formulas import load_formula

    formula = load_formula(formula_name, search_paths)
    values = dict(vars or {})
    if "issue" in formula.vars and "issue" not in values:
        values["issue"] = bead_id
    return pour(store, formula, values, ephemeral=ephemeral, attach_to=bead_id, actor=actor)


def attached_molecule(store: Any, bead_id: str) -> str | None:
    """The molecule attached to a bead, if any (and still there)."""
    bead = store.try_get(bead_id)
    if bead is None:
        return None
    mol = bead.get("attached_molecule")
    if mol and store.try_get(mol) is not None and not store.get(mol).is_tombstone:
        return mol
    return None


# ---------------------------------------------------------------------------------------------
# Reading


def molecule_of(store: Any, issue_id: str) -> str:
    """The molecule an id names: the id itself when it is a molecule, or a step's parent."""
    iss = store.try_get(issue_id)
    if iss is None:
        raise NotFound(f"no molecule or step {issue_id}", hint="list molecules with 'bd mol list'")
    if iss.issue_type == "molecule":
        return iss.id
    parent = iss.parent_id
    if parent:
        p = store.try_get(parent)
        if p is not None and p.issue_type == "molecule":
            return p.id
    attached = iss.get("attached_molecule")
    if attached and store.try_get(attached) is not None:
        return attached
    raise UsageError(f"{issue_id} is not a molecule or a molecule step",
                     hint="pass a molecule id (see 'bd mol list')")


def find_my_molecule(store: Any, me: str) -> str | None:
    """The molecule `me` is working on: one of its in-progress steps', else its hooked bead's."""
    found = store.assigned(me) if hasattr(store, "assigned") else None  # the store's index or a text scan, not a 10k parse
    if found is None:
        mine = store.list(assignee=me, status=("in_progress", "hooked", "open"), include_ephemeral=True)
    else:
        mine = [i for i in found if i.assignee == me and i.status in ("in_progress", "hooked", "open")]
    for status in ("in_progress", "hooked"):
        for iss in mine:
            if iss.status != status:
                continue
            parent = store.try_get(iss.parent_id) if iss.parent_id else None
            if parent is not None and parent.issue_type == "molecule" and not parent.is_closed:
                return parent.id
            mol = iss.get("attached_molecule")
            if mol and (m := store.try_get(mol)) is not None and not m.is_tombstone:
                return mol
    return None


def get_typed(store: Any, issue_id: str, issue_type: str, list_cmd: str) -> Any:
    """The bead `issue_id`, which must exist and be of `issue_type` (molecule, gate)."""
    iss = store.try_get(issue_id)
    if iss is None or iss.is_tombstone:
        raise NotFound(f"no {issue_type} {issue_id}", hint=f"list them with '{list_cmd}'")
    if iss.issue_type != issue_type:
        raise UsageError(f"{issue_id} is a {iss.issue_type}, not a {issue_type}", hint=f"list them with '{list_cmd}'")
    return iss


def get_molecule(store: Any, mol_id: str) -> Any:
    return get_typed(store, mol_id, "molecule", "bd mol list")


def _issues_map(store: Any) -> dict[str, Any]:
    return {i.id: i for i in store.all(include_ephemeral=True)}


class _Lookup:
    """A read-only mapping over the store that parses only the issues looked up."""

    def __init__(self, store: Any, known: list[Any]) -> None:
        self.store = store
        self.known = {i.id: i for i in known}  # already read (the molecule and its steps)

    def get(self, issue_id: str, default: Any = None) -> Any:
        iss = self.known.get(issue_id)
        if iss is None:
            iss = self.known[issue_id] = self.store.try_get(issue_id)
        return default if iss is None else iss

    def __getitem__(self, issue_id: str) -> Any:
        iss = self.get(issue_id)
        if iss is None:
            raise KeyError(issue_id)
        return iss

    def __contains__(self, issue_id: str) -> bool:
        return self.get(issue_id) is not None


def _needs_every_issue(issues: Any, start: list[Any]) -> bool:
    """A waits-for dependency on the steps or their ancestors: deciding it needs every issue's children."""
    seen: set[str] = set()
    stack = list(start)
    while stack:
        iss = stack.pop()
        if iss is None or iss.id in seen:
            continue
        seen.add(iss.id)
        for d in iss.dependencies:
            if d.get("type") == "waits-for":
                return True
            if d.get("type") == "parent-child":
                stack.append(issues.get(d.get("depends_on_id")))
    return False


def _step_order(issue_id: str) -> tuple:
    tail = issue_id.rsplit(".", 1)[-1]
    return (int(tail) if tail.isdigit() else 1 << 30, issue_id)


def steps(store: Any, mol_id: str, *, me: str | None = None) -> list[Step]:
    """The molecule's steps in order, each with its state; one is marked "you are here".

    Here = the first step in progress (preferring one assigned to `me`), else the first ready step.
    """
    get_molecule(store, mol_id)
    # The steps depend on the molecule (parent-child): the store's dependents of it (from its summary
    # of this file version, else a text scan for the id) find them without parsing the whole store;
    # lookups of what blocks them parse one issue each.
    found = (list({o.id: o for o, _ in store.dependent_links(mol_id)}.values())
             if hasattr(store, "dependent_links") else None)
    issues: Any = _issues_map(store) if found is None else _Lookup(store, found)
    kids = sorted((i for i in (issues.values() if found is None else found)
                   if i.parent_id == mol_id and not i.is_tombstone), key=lambda i: _step_order(i.id))
    if found is not None and _needs_every_issue(issues, [issues[mol_id], *kids]):
        issues = _issues_map(store)  # waits-for needs every issue's children
    import time

    clock = getattr(store, "clock", None)
    now = clock() / 1e9 if clock is not None else time.time()
    kid_ids = {k.id for k in kids}
    rows: list[dict[str, Any]] = []
    for i, k in enumerate(kids, start=1):
        needs = tuple(d.get("depends_on_id") for d in k.dependencies
                      if d.get("type") == "blocks" and d.get("depends_on_id") in kid_ids)
        if k.is_closed:
            state = DONE
        elif k.status in ("in_progress", "hooked"):
            state = CURRENT
        elif graph.is_step_ready(issues, k, now):
            state = READY
        else:
            state = BLOCKED  # blocked (or its molecule is), deferred, pinned, or not open
        rows.append({"iss": k, "index": i, "needs": needs, "state": state})
    here = None
    current = [r for r in rows if r["state"] == CURRENT]
    if current:
        mine = [r for r in current if me and r["iss"].assignee == me]
        here = (mine or current)[0]
    else:
        here = next((r for r in rows if r["state"] == READY), None)
    return [Step(id=r["iss"].id, index=r["index"], step_id=r["iss"].get("mol_step") or "",
                 title=r["iss"].title, status=r["iss"].status, state=r["state"], needs=r["needs"],
                 assignee=r["iss"].assignee, description=r["iss"].description,
                 acceptance=r["iss"].get("acceptance_criteria") or "", here=r is here)
            for r in rows]


def checklist(store: Any, mol_id: str, *, me: str | None = None) -> list[Step]:
    """Alias of `steps()` under the name other areas call (prime, the cockpit)."""
    return steps(store, mol_id, me=me)


def current_step(store: Any, mol_id: str, *, me: str | None = None) -> Step | None:
    return next((s for s in steps(store, mol_id, me=me) if s.here), None)


def ready_steps(store: Any, mol_id: str) -> list[Step]:
    return [s for s in steps(store, mol_id) if s.state == READY]


def progress(store: Any, mol_id: str) -> dict[str, Any]:
    mol = get_molecule(store, mol_id)
    rows = steps(store, mol_id)
    done = sum(1 for s in rows if s.state == DONE)
    total = len(rows)
    here = next((s for s in rows if s.here), None)
    return {"id": mol_id, "title": mol.title, "formula": mol.get("formula") or "", "status": mol.status,
            "done": done, "total": total, "percent": round(100 * done / total) if total else 100,
            "in_progress": sum(1 for s in rows if s.state == CURRENT),
            "ready": sum(1 for s in rows if s.state == READY),
            "blocked": sum(1 for s in rows if s.state == BLOCKED),
            "current": here.id if here else None, "complete": total > 0 and done == total}


def list_molecules(store: Any, *, include_closed: bool = False) -> list[dict[str, Any]]:
    out = []
    for mol in store.list(type="molecule", include_closed=include_closed, include_ephemeral=True):
        p = progress(store, mol.id)
        p["ephemeral"] = mol.is_ephemeral
        p["attached_to"] = mol.get("attached_to") or ""
        out.append(p)
    return out


def render_checklist(store: Any, mol_id: str, *, me: str | None = None, details: bool = True) -> str:
    """The checklist as text, in the concepts reference's format (§15):

        You're working on molecule gt-abc (Feature X)

        [x] gt-abc.1: Design
        --> gt-abc.4: Write tests [in_progress] <- YOU ARE HERE
        [ ] gt-abc.5: Documentation

        Progress: 3/6 steps complete
    """
    mol = get_molecule(store, mol_id)
    rows = steps(store, mol_id, me=me)
    done = sum(1 for s in rows if s.state == DONE)
    about = store.try_get(mol.get("attached_to")) if mol.get("attached_to") else None
    lines = [f"You're working on molecule {mol.id} ({about.title if about is not None else mol.title})", ""]
    for s in rows:
        if s.here:
            lines.append(f"--> {s.id}: {s.title} [{s.status}] <- YOU ARE HERE")
        else:
            lines.append(f"{'[x]' if s.state == DONE else '[ ]'} {s.id}: {s.title}")
    lines += ["", f"Progress: {done}/{len(rows)} steps complete"]
    here = next((s for s in rows if s.here), None)
    if details and here is not None:
        if here.description.strip():
            lines.append("")
            lines.append(f"Current step {here.id}: {here.title}")
            lines.extend("  " + ln for ln in here.description.strip().splitlines())
        if here.acceptance.strip():
            lines.append(f"  Done when: {here.acceptance.strip()}")
        lines.append(f"  When it is done: bd close {here.id} --continue")
    elif rows and done == len(rows):
        lines.append("All steps are done.")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Walking


def open_predecessors(tx: Any, step: Any) -> list[str]:
    """The `blocks` predecessors of a step that are not closed yet."""
    out = []
    for d in step.dependencies:
        if d.get("type") != "blocks":
            continue
        target = tx.try_get(d.get("depends_on_id"))
        if target is not None and not target.is_closed:
            out.append(target.id)
    return out


def is_molecule_step(store: Any, issue_id: str) -> bool:
    iss = store.try_get(issue_id)
    if iss is None or not iss.parent_id:
        return False
    parent = store.try_get(iss.parent_id)
    return parent is not None and parent.issue_type == "molecule"


def close_step(store: Any, step_id: str, *, reason: str | None = None, force: bool = False,
               advance: bool = False, actor: str | None = None) -> tuple[Any, Any | None]:
    """Close one step; refuse while a step it needs is open (unless `force`).

    With `advance` (`bd close --continue`), claim the next ready step of the molecule for `actor`
    and return it as the second value. When the last step closes, the molecule closes too.
    """
    with store.transaction(actor=actor) as tx:
        step = tx.get(step_id)
        if step.is_closed:
            raise Conflict(f"{step_id} is already closed", hint=f"reopen it with 'bd reopen {step_id}' to redo it")
        open_before = open_predecessors(tx, step)
        if open_before and not force:
            raise Conflict(f"{step_id} needs {', '.join(open_before)} closed first",
                           hint="close those steps first, or pass --force to close it anyway")
        closed = tx.close(step_id, reason, actor=actor)
        nxt = None
        mol_id = step.parent_id
        if mol_id and (mol := tx.try_get(mol_id)) is not None and mol.issue_type == "molecule":
            rows = steps(tx, mol_id, me=actor)
            if advance:
                from gastown_tui.beads.store import default_actor

                who = actor or tx.actor or default_actor()
                mine = next((s for s in rows if s.state == CURRENT and s.assignee == who), None)
                target = mine or next((s for s in rows if s.state == READY), None)
                if target is not None:
                    nxt = tx.claim(target.id, who) if target.state == READY else tx.get(target.id)
            if rows and all(s.state == DONE for s in rows) and not mol.is_closed:
                tx.close(mol_id, "all steps done", actor=actor)
    return closed, nxt


def close_finished_molecules(store: Any, step_ids: list[str], *, actor: str | None = None) -> list[str]:
    """Close the molecules of these steps whose steps are now all closed (plain `bd close`)."""
    mols = {m for sid in step_ids if (i := store.try_get(sid)) is not None and (m := i.parent_id)}
    closed = []
    for mol_id in sorted(mols):
        mol = store.try_get(mol_id)
        if mol is None or mol.issue_type != "molecule" or mol.is_closed:
            continue
        rows = steps(store, mol_id)
        if rows and all(s.state == DONE for s in rows):
            store.close(mol_id, "all steps done", actor=actor)
            closed.append(mol_id)
    return closed


def close_all_finished(store: Any, *, actor: str | None = None) -> list[str]:
    """Close every open molecule of the store whose steps are all closed, however they were closed
    (the refinery closing a slung step, `bd update --status closed` ...). The deacon's sweep."""
    done = [m.id for m in store.list(type="molecule", include_ephemeral=True)
            if (rows := steps(store, m.id)) and all(s.state == DONE for s in rows)]
    for mol_id in done:
        store.close(mol_id, "all steps done", actor=actor)
    return done


# ---------------------------------------------------------------------------------------------
# Ending


def _subtree(store: Any, mol_id: str) -> list[Any]:
    issues = _issues_map(store)
    return sorted((i for i in issues.values() if i.parent_id == mol_id and not i.is_tombstone),
                  key=lambda i: _step_order(i.id))


def squash(store: Any, mol_id: str, *, summary: str | None = None, actor: str | None = None) -> str:
    """Compress a molecule into one closed digest bead; return the digest's id.

    A wisp's records are deleted (it was ephemeral); a persistent molecule's steps and the
    molecule are closed and point at the digest, so history stays in git.
    """
    mol = get_molecule(store, mol_id)
    kids = _subtree(store, mol_id)
    done = sum(1 for k in kids if k.is_closed)
    body = [summary.strip() if summary else f"Digest of {mol.title}: {done}/{len(kids)} steps done.", "", "Steps:"]
    body.extend(f"- [{'x' if k.is_closed else ' '}] {k.title}" + (f" — {k.close_reason}" if k.close_reason else "")
                for k in kids)
    with store.transaction(actor=actor) as tx:
        digest = tx.create(f"Digest: {mol.title}", type="task", priority=4, description="\n".join(body),
                           status="closed", labels=["digest", *(f for f in mol.labels if f.startswith("formula:"))],
                           fields={"close_reason": "squashed", "squashed_from": mol_id,
                                   "formula": mol.get("formula") or ""}, actor=actor)
        for k in kids:
            if mol.is_ephemeral:
                tx.delete(k.id, reason=f"squashed into {digest.id}", actor=actor)
            elif not k.is_closed:
                tx.close(k.id, f"squashed into {digest.id}", actor=actor)
        if mol.is_ephemeral:
            tx.delete(mol_id, reason=f"squashed into {digest.id}", actor=actor)
        else:
            if not mol.is_closed:
                tx.close(mol_id, f"squashed into {digest.id}", actor=actor)
            tx.update(mol_id, digest=digest.id, actor=actor)
        attached = mol.get("attached_to")
        if attached and (bead := tx.try_get(attached)) is not None and bead.get("attached_molecule") == mol_id:
            tx.update(attached, attached_molecule=None, actor=actor)
    return digest.id


def burn(store: Any, mol_id: str, *, actor: str | None = None) -> int:
    """Throw a molecule away with no digest: delete it and its steps; return how many records went."""
    mol = get_molecule(store, mol_id)
    kids = _subtree(store, mol_id)
    with store.transaction(actor=actor) as tx:
        for k in kids:
            tx.delete(k.id, reason="burned", actor=actor)
        tx.delete(mol_id, reason="burned", actor=actor)
        attached = mol.get("attached_to")
        if attached and (bead := tx.try_get(attached)) is not None and bead.get("attached_molecule") == mol_id:
            tx.update(attached, attached_molecule=None, actor=actor)
    return len(kids) + 1


def cook(formula: Any) -> dict[str, Any]:
    """A formula compiled to a proto: inheritance resolved, steps in order, vars still unfilled."""
    from gastown_tui.work.formulas import topo_order

    return {"proto": formula.name, "type": formula.type, "version": formula.version,
            "description": formula.description.strip(), "source": str(formula.path),
            "vars": [v.to_json() for v in formula.vars.values()],
            "steps": [dict(s.to_json(), index=i) for i, s in enumerate(topo_order(formula.steps), start=1)]}


# ---------------------------------------------------------------------------------------------
# Hooks for sling and prime (work distribution, issue 5)


def attach_for_sling(town: Any, store: Any, bead_id: str, formula_name: str, vars: dict[str, str] | None,
                     rig: str | None, undo: Any = None, *, actor: str | None = None) -> str:
    """`gt sling --formula`: pour and attach before the agent starts; `undo` (if given) burns it again."""
    from gastown_tui.work.formulas import search_paths

    mol_id = attach_molecule(store, bead_id, formula_name, vars, search_paths(town, rig), actor=actor)
    if undo is not None:
        undo.push(f"burn molecule {mol_id}", lambda: burn(store, mol_id, actor=actor))
    return mol_id


def checklist_for_bead(town: Any, bead_id: str, *, me: str | None = None) -> str:
    """The checklist of the molecule attached to a bead (for `gt prime`), or '' when there is none."""
    try:
        from gastown_tui.beads.routes import store_for_id

        store = store_for_id(town.root, bead_id)
    except (NotFound, UsageError):
        return ""
    mol = attached_molecule(store, bead_id)
    if mol is None:
        return ""
    return render_checklist(store, mol, me=me)


def guard_close(store: Any, step_ids: list[str], force: bool) -> None:
    """Refuse to close molecule steps whose predecessors are open (unless forced)."""
    if force:
        return
    closing = set(step_ids)
    for sid in step_ids:
        if not is_molecule_step(store, sid):
            continue
        waiting = [p for p in open_predecessors(store, store.get(sid)) if p not in closing]
        if waiting:
            raise Conflict(f"{sid} needs {', '.join(waiting)} closed first",
                           hint="close those steps first, or pass --force to close it anyway")


def _has_steps(ids: list[str]) -> bool:
    return any("-mol-" in i or "-wisp-" in i for i in ids)


def close_beads(store: Any, ids: list[str], reason: str | None, *, force: bool = False,
                actor: str | None = None) -> list:
    """`bd close` of some beads of one store (the cockpit closes through this too): molecule steps
    wait for their predecessors unless forced, and a last step closes its molecule."""
    if _has_steps(ids):
        guard_close(store, ids, force)
    with store.transaction(actor=actor) as tx:
        done = [tx.close(i, reason) for i in ids]
    if _has_steps(ids):
        close_finished_molecules(store, ids, actor=actor)
    return done
