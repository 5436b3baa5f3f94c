"""The cockpit's data layer, without Textual: a real town on disk -> TownSnapshot."""

from __future__ import annotations

import json
import shutil
import sys

from gastown_tui.beads.store import open_store
from gastown_tui.infra.tmux import PaneInfo
from gastown_tui.town import events
from gastown_tui.agents.status import HookFacts, listing_state
from gastown_tui.work.snapshot import load_snapshot, read_issues
from tests.conftest import REAL_FIXTURE

NOW = 1_800_000_000.0


def _pane(session, *, activity=NOW - 100, created=NOW - 1000, dead=False):
    return PaneInfo("%1", session, 123, dead, None, activity, "python", 200, 50, "sim", False, created)


def test_snapshot_of_a_town_with_work_mail_convoy_and_escalation(rig_town):
    town = rig_town
    rig = open_store(db=town.rig("demo").beads_dir)
    a = rig.create("Add retry", priority=1)
    b = rig.create("Fix flake", priority=2)
    rig.create("Blocked one", priority=0, deps=[("blocks", b.id)])
    mol = rig.create("polecat-work", type="molecule")
    step1 = rig.create("load context", parent=mol.id)
    rig.create("implement", parent=mol.id)
    rig.close(step1.id, "done")
    rig.update(a.id, status="hooked", assignee="demo/polecats/furiosa", attached_molecule=mol.id)
    hq = open_store(db=town.beads_dir)
    hq.create("Release", type="convoy", fields={"dependencies": [
        {"issue_id": "x", "depends_on_id": a.id, "type": "tracks"},
        {"issue_id": "x", "depends_on_id": b.id, "type": "tracks"}]})
    hq.create("hello", type="message", assignee="overseer", labels=["from:mayor"], description="hi")
    read = hq.create("old news", type="message", assignee="overseer", labels=["from:mayor", "read"])
    hq.create("to polecat", type="message", assignee="demo/polecats/furiosa", labels=["from:mayor"])
    hq.create("toast crashed", type="escalation", priority=1, fields={"severity": "high"})
    rig.close(b.id, "done")
    events.record(town.root, "sling", rig="demo", payload={"bead": a.id, "target": "demo/polecats/furiosa"})

    panes = {"gt-mayor": _pane("gt-mayor", activity=NOW - 1), "gt-demo-furiosa": _pane("gt-demo-furiosa")}
    snap = load_snapshot(town, panes=panes, now=NOW)

    assert [r.name for r in snap.rigs] == ["demo"]
    assert [a.address for a in snap.town_agents] == ["mayor", "deacon"]
    furiosa = snap.agent("demo/polecats/furiosa")
    # No status engine row: the classifier's listing state (output 100 s ago, under the stall threshold).
    assert (furiosa.state, furiosa.hook_id, furiosa.hook_title, furiosa.unread) == ("working", a.id, "Add retry", 1)
    assert (furiosa.mol_done, furiosa.mol_total) == (1, 2)
    assert snap.agent("mayor").state == "working"
    assert snap.agent("deacon").state == "off"
    assert snap.agent("demo/witness").state == "off"
    (conv,) = snap.convoys
    assert (conv.closed, conv.total, conv.title) == (1, 2, "Release")
    assert [m.subject for m in snap.inbox if m.unread] == ["hello"]
    assert {m.id for m in snap.inbox} >= {read.id}
    assert snap.unread == 1
    assert [(e.severity, e.acked) for e in snap.escalations] == [("high", False)]
    assert [b.title for b in snap.ready] == ["Blocked one"]  # its blocker closed
    assert snap.events[-1].type == "sling" and a.id in snap.events[-1].summary
    assert snap.summary()["states"] == {"working": 2, "off": 3}


def test_states_from_the_status_engine_win_over_the_pane_reading(rig_town):
    snap = load_snapshot(rig_town, panes={"gt-mayor": _pane("gt-mayor")}, now=NOW, states={"mayor": "waiting"})
    assert snap.agent("mayor").state == "waiting"
    assert snap.next_needing_attention().address == "mayor"


def test_listing_state_is_the_classifier_on_a_listing_row():
    hooked = HookFacts(hooked=True)
    assert listing_state(None, NOW) == "off"
    assert listing_state(None, NOW, hook=hooked) == "dead"
    assert listing_state(_pane("s", dead=True), NOW) == "dead"
    assert listing_state(_pane("s", created=NOW - 1, activity=NOW - 1), NOW) == "starting"
    assert listing_state(_pane("s", activity=NOW - 1), NOW) == "working"
    # The threshold is the setting's, not a copy: 1000 s without output is past the default 600 s.
    assert listing_state(_pane("s", activity=NOW - 1000), NOW, hook=hooked) == "stalled"
    assert listing_state(_pane("s", activity=NOW - 400), NOW, hook=hooked) == "working"
    assert listing_state(_pane("s", activity=NOW - 400), NOW, hook=hooked, stall_seconds=300) == "stalled"


def test_attention_order_is_waiting_then_stalled_then_dead():
    from tests.tui.fixture_town import fixed_snapshot

    snap = fixed_snapshot()
    assert snap.next_needing_attention().address == "gastown/polecats/slit"
    assert snap.next_needing_attention("gastown/polecats/slit").address == "gastown/polecats/nux"
    assert snap.next_needing_attention("gastown/polecats/nux").address == "beads/polecats/toast"
    assert snap.next_needing_attention("beads/polecats/toast").address == "gastown/polecats/slit"  # round again


def test_attention_includes_escalated_agents_and_failed_merges():
    from dataclasses import replace

    from gastown_tui.work.snapshot import BeadView, EscalationView
    from tests.tui.fixture_town import fixed_snapshot

    snap = fixed_snapshot()
    snap = replace(snap, escalations=(EscalationView("hq-e1", "gastown/crew/max is stalled on gt-zz", "medium", "open"),),
                   merge_queue=(BeadView("gt-mr1", "Merge polecat/furiosa/gt-a1b", "open", 1, "merge-request",
                                         rig="gastown", mr_state="failed", worker="gastown/polecats/furiosa"),))
    reasons = [(a.address, r) for a, r in snap.attention()]
    assert reasons == [("gastown/polecats/slit", "waiting"), ("gastown/polecats/nux", "stalled"),
                       ("beads/polecats/toast", "dead"), ("gastown/crew/max", "escalated"),
                       ("gastown/polecats/furiosa", "merge failed")]
    # patrols are not workers: the witness's "working" is not counted
    assert snap.worker_counts()["working"] == 1


def test_real_fixture_loads_and_is_cached(tmp_path):
    # How fast is bench material (bench/tui_cockpit.py); here: an unchanged file is not parsed again.
    beads = tmp_path / ".beads"
    beads.mkdir()
    shutil.copy(REAL_FIXTURE, beads / "issues.jsonl")
    issues = read_issues(beads)
    assert len(issues) == 5306 - 3031  # tombstones (deleted issues) are left out
    again = read_issues(beads)
    assert again.keys() == issues.keys()
    assert all(again[k].data is issues[k].data for k in issues)  # the cached records: a stat, not a parse


def test_events_tail_reads_only_the_end(town):
    lines = [json.dumps({"ts": f"t{i}", "type": "x", "actor": "a", "rig": None, "payload": {"n": i}}) for i in range(5000)]
    town.events_jsonl.write_text("\n".join(lines) + "\n")
    snap = load_snapshot(town, panes={}, now=NOW, events_limit=10)
    assert [e.ts for e in snap.events] == [f"t{i}" for i in range(4990, 5000)]


def test_snapshot_module_never_imports_textual():
    import subprocess

    code = "import gastown_tui.work.snapshot, gastown_tui.sim.demo, gastown_tui.infra.watch, sys; " \
           "print([m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_read_issues_and_rigs_are_reused_only_while_their_files_are_unchanged(rig_town, project_repo):
    """The cockpit asks every second: an unchanged store or rigs.json is not read again, a change
    is seen at once, and what a caller does to its copy never reaches the next caller."""
    from gastown_tui.town.rigs import add_rig

    d = rig_town.rig("demo").beads_dir
    first = read_issues(d)
    first.clear()  # a caller's own copy
    store = open_store(db=d)
    a = store.create("first")
    got = read_issues(d)
    assert a.id in got and read_issues(d) == got
    store.close(a.id, reason="done")
    assert read_issues(d)[a.id].status == "closed"

    rigs = rig_town.rigs()
    rigs["demo"]["parked"] = "edited by a caller"
    rigs.pop("demo")
    assert rig_town.rigs()["demo"].get("parked") != "edited by a caller"
    add_rig(rig_town, "second", str(project_repo))
    assert set(rig_town.rigs()) == {"demo", "second"}
