"""Every cockpit action is the function the CLI calls (tui/source.py has no fallbacks of its own)."""

from __future__ import annotations

import ast
from pathlib import Path

from gastown_tui.beads.store import Store
from gastown_tui.tui.source import TownSource
from gastown_tui.work import convoy, escalation, formulas, mail, molecules

SOURCE = Path(__file__).resolve().parents[2] / "gastown_tui" / "tui" / "source.py"


def test_the_cockpit_source_has_no_import_fallbacks():
    tree = ast.parse(SOURCE.read_text())
    handlers = [h for h in ast.walk(tree) if isinstance(h, ast.ExceptHandler) and h.type is not None
                and "ImportError" in ast.unparse(h.type)]
    assert handlers == []


def test_mail_convoy_and_escalation_actions_go_through_work(rig_town):
    town = rig_town
    src = TownSource(town)
    got = src.send_mail("mayor", "status?", "how is it going", sender="overseer")
    assert got.ok, got.detail
    (m,) = mail.inbox(town, "mayor")
    assert m["subject"] == "status?" and m["from"] == "overseer"
    back = src.send_mail("", "", "fine", sender="mayor", reply_to=m["id"])
    assert back.ok, back.detail
    (r,) = mail.inbox(town, "overseer")
    assert r["subject"] == "Re: status?" and r["from"] == "mayor"
    src.mark_read(r["id"])
    assert mail.inbox(town, "overseer", unread_only=True) == []

    bead = Store(town.rig("demo").beads_dir).create("work")
    got = src.create_convoy("Batch", [bead.id])
    assert got.ok, got.detail
    (c,) = convoy.list_convoys(town)
    assert c["title"] == "Batch" and c["id"] in got.detail
    assert not src.create_convoy("Batch", [f"{bead.id}-nope"]).ok  # the domain refuses a bad id, no hand-made convoy

    esc = escalation.create_escalation(town, "help", severity="high", actor="deacon")
    esc_id = esc["id"] if isinstance(esc, dict) else esc.id
    assert src.ack_escalation(esc_id).ok
    assert escalation.get_escalation(town, esc_id).data.get("acked_by") == "overseer"


def test_closing_a_bead_from_the_cockpit_follows_bd_close_rules(rig_town):
    town = rig_town
    store = Store(town.rig("demo").beads_dir)
    mol_id = molecules.pour(store, formulas.load_formula("design", formulas.search_paths()), {"topic": "x"})
    steps = molecules.steps(store, mol_id)
    src = TownSource(town)
    later = steps[-1].id
    got = src.close_bead(later)  # its predecessors are open: refused, as `bd close` refuses it
    assert not got.ok and "closed first" in got.detail
    assert store.get(later).status != "closed"
    for s in steps:
        assert src.close_bead(s.id).ok
    assert store.get(mol_id).status == "closed"  # the last step closed its molecule, as `bd close` does
