"""`bd cook` and `bd mol ...`: formulas compiled, poured as molecules, walked and ended."""

from __future__ import annotations

import os

from gastown_tui.cli.bd_common import emit_json, open_local, store_args, store_for
from gastown_tui.errors import NotFound, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:  # `bd mol current` runs from quick_args without argparse or pathlib (milliseconds each)
    import argparse
    from pathlib import Path


def register(p: argparse.ArgumentParser) -> None:
    from gastown_tui.cli.framework import command, subcommands

    name = p.prog.split()[-1]
    if name == "cook":
        _formula_args(p, vars_flag=False)
        store_args(p)
        p.set_defaults(func=cmd_cook)
        return
    if name in ("squash", "burn"):  # the documents' top-level spellings of `bd mol squash|burn`
        (_reg_squash if name == "squash" else _reg_burn)(p)
        store_args(p)
        return
    sub = subcommands(p)
    for verb, help_, func in (
        ("pour", "pour a formula as a persistent molecule (steps are child beads)", cmd_pour),
        ("wisp", "pour a formula as an ephemeral molecule (kept in wisps.jsonl, not in git)", cmd_wisp),
    ):
        c = command(sub, verb, help_, func)
        _formula_args(c)
        c.add_argument("--attach", metavar="BEAD", default=None, help="attach the molecule to this bead")
        c.add_argument("--assignee", default=None, help="assign every step to this actor")
        store_args(c)
    c = command(sub, "list", "molecules in this store with their progress", cmd_list)
    c.add_argument("--all", action="store_true", help="include closed molecules")
    store_args(c)
    c = command(sub, "current", "the checklist of a molecule, with 'you are here'", cmd_current)
    c.add_argument("mol", nargs="?", metavar="MOL", help="molecule or step id (default: the one you are working on)")
    store_args(c)
    c = command(sub, "show", "alias of 'current'", cmd_current)
    c.add_argument("mol", nargs="?", metavar="MOL")
    store_args(c)
    c = command(sub, "progress", "how far a molecule is: done/total, ready, blocked", cmd_progress)
    c.add_argument("mol", nargs="?", metavar="MOL", help="molecule id (default: the one you are working on)")
    store_args(c)
    _reg_squash(command(sub, "squash", "compress a molecule into one closed digest bead"))
    store_args(sub.choices["squash"])
    _reg_burn(command(sub, "burn", "delete a molecule and its steps, leaving no digest"))
    store_args(sub.choices["burn"])


def _reg_squash(c: argparse.ArgumentParser) -> None:
    c.add_argument("mol", metavar="MOL")
    c.add_argument("--summary", default=None, help="the digest's summary (default: generated)")
    c.set_defaults(func=cmd_squash)


def _reg_burn(c: argparse.ArgumentParser) -> None:
    c.add_argument("mol", metavar="MOL")
    c.set_defaults(func=cmd_burn)


def _formula_args(p: argparse.ArgumentParser, *, vars_flag: bool = True) -> None:
    p.add_argument("formula", metavar="FORMULA", help="a formula name (see 'gt formula list') or a .formula.toml path")
    if vars_flag:
        p.add_argument("--var", action="append", default=[], metavar="KEY=VALUE", help="set a formula variable (repeatable)")


def search_paths_for(beads_dir: Path | None, town_arg: str | None = None) -> list[Path]:
    """The rig's `.beads/formulas/`, the town's `formulas/`, then the built-ins."""
    from gastown_tui.town.layout import find_town
    from gastown_tui.work.formulas import builtin_dir

    from pathlib import Path

    paths: list[Path] = []
    if beads_dir is not None:
        paths.append(Path(beads_dir) / "formulas")
    try:
        town = find_town(town_arg)
        paths.append(town.formulas_dir)
    except NotFound:
        pass
    paths.append(builtin_dir())
    return paths


def _store_or_none(args: argparse.Namespace):
    try:
        return open_local(args)
    except NotFound:
        return None


def cmd_cook(args: argparse.Namespace) -> int:
    from gastown_tui.work.formulas import load_formula
    from gastown_tui.work.molecules import cook

    store = _store_or_none(args)
    f = load_formula(args.formula, search_paths_for(store.beads_dir if store else None, args.town))
    proto = cook(f)
    if args.json:
        emit_json(proto)
        return 0
    print(f"Proto {proto['proto']} ({proto['type']}, v{proto['version']}) from {proto['source']}")
    for v in proto["vars"]:
        req = "required" if v["required"] else f"default {v['default']!r}"
        print(f"  var {v['name']}: {v['description']} ({req})")
    for s in proto["steps"]:
        needs = f"  (needs {', '.join(s['needs'])})" if s["needs"] else ""
        print(f"  {s['index']}. {s['id']}: {s['title']}{needs}")
    return 0


def _pour(args: argparse.Namespace, ephemeral: bool) -> int:
    from gastown_tui.work.formulas import load_formula, parse_var_args
    from gastown_tui.work.molecules import pour, steps

    given = parse_var_args(args.var)
    store = store_for(args, args.attach) if args.attach else open_local(args)
    f = load_formula(args.formula, search_paths_for(store.beads_dir, args.town))
    values = dict(given)
    if args.attach and "issue" in f.vars and "issue" not in values:
        values["issue"] = args.attach
    mol_id = pour(store, f, values, ephemeral=ephemeral, attach_to=args.attach, assignee=args.assignee)
    rows = steps(store, mol_id)
    if args.json:
        emit_json({"id": mol_id, "formula": f.name, "ephemeral": ephemeral, "attached_to": args.attach,
                   "vars": store.get(mol_id).get("vars") or {}, "steps": [s.to_json() for s in rows]})
        return 0
    kind = "wisp" if ephemeral else "molecule"
    print(f"Poured {kind} {mol_id} from {f.name} ({len(rows)} steps)")
    for s in rows:
        needs = f"  (needs {', '.join(s.needs)})" if s.needs else ""
        print(f"  {s.id}  {s.title}{needs}")
    return 0


def cmd_pour(args: argparse.Namespace) -> int:
    return _pour(args, ephemeral=False)


def cmd_wisp(args: argparse.Namespace) -> int:
    return _pour(args, ephemeral=True)


def cmd_list(args: argparse.Namespace) -> int:
    from gastown_tui.cli.framework import print_table
    from gastown_tui.work.molecules import list_molecules

    store = open_local(args)
    rows = list_molecules(store, include_closed=args.all)
    if args.json:
        emit_json(rows)
    elif not rows:
        print("No molecules.")
    else:
        print_table([[r["id"], r["formula"], f"{r['done']}/{r['total']}", r["status"],
                      "wisp" if r["ephemeral"] else "", r["attached_to"], r["title"]] for r in rows],
                    ["id", "formula", "done", "status", "kind", "attached", "title"])
    return 0


def _me(args: argparse.Namespace) -> str:
    from gastown_tui.cli.bd_common import actor_of

    return actor_of(args)


def _resolve_mol(args: argparse.Namespace):
    """The store and molecule named on the command line, or the one the actor is working on."""
    from gastown_tui.work.molecules import find_my_molecule, molecule_of

    if args.mol:
        store = store_for(args, args.mol)
        return store, molecule_of(store, args.mol)
    store = open_local(args)
    me = _me(args)
    mol = find_my_molecule(store, me)
    if mol is None:
        raise NotFound(f"{me} is not working on a molecule in {store.beads_dir}",
                       hint="pass a molecule id (see 'bd mol list')")
    return store, mol


def cmd_current(args: argparse.Namespace) -> int:
    from gastown_tui.work.molecules import progress, render_checklist, steps

    store, mol = _resolve_mol(args)
    me = _me(args)
    if args.json:
        emit_json({**progress(store, mol), "steps": [s.to_json() for s in steps(store, mol, me=me)]})
    else:
        print(render_checklist(store, mol, me=me))
    return 0


def cmd_progress(args: argparse.Namespace) -> int:
    from gastown_tui.work.molecules import progress

    store, mol = _resolve_mol(args)
    p = progress(store, mol)
    if args.json:
        emit_json(p)
    else:
        width = 20
        filled = round(width * p["done"] / p["total"]) if p["total"] else width
        print(f"{p['id']}  [{'#' * filled}{'.' * (width - filled)}] {p['done']}/{p['total']} ({p['percent']}%)"
              f"  in progress {p['in_progress']}, ready {p['ready']}, blocked {p['blocked']}")
    return 0


def cmd_squash(args: argparse.Namespace) -> int:
    from gastown_tui.work.molecules import squash

    store = store_for(args, args.mol)
    digest = squash(store, args.mol, summary=args.summary, actor=_me(args))
    if args.json:
        emit_json({"id": args.mol, "digest": digest})
    else:
        print(f"Squashed {args.mol} into digest {digest}")
    return 0


def cmd_burn(args: argparse.Namespace) -> int:
    from gastown_tui.work.molecules import burn

    store = store_for(args, args.mol)
    n = burn(store, args.mol, actor=_me(args))
    if args.json:
        emit_json({"id": args.mol, "deleted": n})
    else:
        print(f"Burned {args.mol} ({n} records deleted)")
    return 0


# --- used by the beads engineer's `bd close --continue` and `bd ready --mol` --------------------


def close_continue(args: argparse.Namespace) -> int:
    """`bd close STEP [--force] --continue`: close the step, claim the next ready one, print it."""
    from gastown_tui.work.molecules import close_step, render_checklist

    if len(args.ids) != 1:
        raise UsageError("--continue closes exactly one step", hint="run 'bd close STEP --continue'")
    step_id = args.ids[0]
    store = store_for(args, step_id)
    me = _me(args)
    closed, nxt = close_step(store, step_id, reason=args.reason, force=getattr(args, "force", False),
                             advance=True, actor=me)
    if getattr(args, "json", False):
        emit_json({"closed": closed.to_json(), "next": nxt.to_json() if nxt else None})
        return 0
    print(f"Closed {closed.id}: {closed.title}")
    if nxt is None:
        print("No step is ready next." if closed.parent_id and store.get(closed.parent_id).status != "closed"
              else "Molecule complete: every step is done.")
    else:
        print(f"Next: {nxt.id}: {nxt.title} (claimed by {nxt.assignee})")
        if nxt.description.strip():
            print(os.linesep.join("  " + ln for ln in nxt.description.strip().splitlines()))
    if closed.parent_id:
        print()
        print(render_checklist(store, closed.parent_id, me=me, details=False))
    return 0


def ready_in_molecule(args: argparse.Namespace) -> int:
    """`bd ready --mol MOL`: the molecule's steps that can be worked on now."""
    from gastown_tui.cli.framework import print_table
    from gastown_tui.work.molecules import molecule_of, ready_steps

    store = store_for(args, args.mol)
    mol = molecule_of(store, args.mol)
    rows = ready_steps(store, mol)
    if getattr(args, "json", False):
        emit_json([store.get(s.id).to_json() for s in rows])
    elif not rows:
        print(f"No ready steps in {mol}.")
    else:
        print_table([[s.id, s.step_id, s.title] for s in rows], ["id", "step", "title"])
    return 0
