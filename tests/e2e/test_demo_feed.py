"""The demo stays alive (issue 14, item 9): `gt demo`'s feeder keeps filing and slinging beads in
a real town (real tmux, git, sim polecats and patrol loops), its fault labels bring out the
supervisors (a conflict sent back by the refinery, a stall nudged by the witness), nothing is
assigned twice, and SIGTERM (the cockpit quitting) or `gt down` stops it."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli, wait_for

pytestmark = [pytest.mark.tmux, pytest.mark.slow]


def events(town) -> list[dict]:
    path = town.root / ".events.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def test_the_feeder_keeps_beads_coming_and_its_faults_meet_the_supervisors(tmp_path):
    from gastown_tui.beads.store import Store
    from gastown_tui.sim import feeder
    from gastown_tui.town.config import load_settings
    from gastown_tui.town.layout import Town

    path = tmp_path / "demo"
    demo = ["gt", "demo", "--path", str(path), "--agents", "0", "--no-tui", "--json"]
    r = run_cli(*demo, "--feed-every", "0", timeout=180)  # the town, no feed yet
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["feeder"] is None
    town = Town(path)
    try:
        s = load_settings(town.root)
        for k, v in {"witness.patrol_seconds": 1, "refinery.patrol_seconds": 1, "deacon.patrol_seconds": 1,
                     "witness.stall_seconds": 6}.items():
            s.set(k, v)
        s.save()
        assert run_cli("gt", "down", "--town", str(path), timeout=60).returncode == 0  # patrols pick them up anew
        r = run_cli(*demo, "--feed-every", "2", "--feed-minutes", "3", timeout=180)
        assert r.returncode == 0, r.stderr
        out = json.loads(r.stdout)
        assert out["feeder"]["running"] and out["feeder"]["started"], out
        again = feeder.start(town, rig="sample", every=2, minutes=3)  # one feeder per town
        assert again["started"] is False and again["pid"] == out["feeder"]["pid"]

        store = Store(town.rig("sample").beads_dir)

        def fed():
            return [i for i in store.list(include_closed=True) if feeder.FEED_LABEL in (i.labels or [])]

        # beads keep arriving, and each is taken by a polecat (slung: no longer open)
        wait_for(lambda: len(fed()) >= 6, timeout=120, interval=0.5, message="six fed beads")
        wait_for(lambda: sum(1 for i in fed() if i.status != "open") >= 6, timeout=60, interval=0.5,
                 message="six fed beads slung")
        labels = {i.id: set(i.labels) for i in fed()}
        conflict = [b for b, ls in labels.items() if "sim:conflict" in ls]
        stall = [b for b, ls in labels.items() if "sim:stall" in ls]
        assert len(conflict) == 2 and len(stall) == 1, labels

        # the faults meet their supervisors: the refinery sends one of the pair back, the witness nudges the stall
        wait_for(lambda: any(e["type"] == "mq.conflict" and e["payload"].get("bead") in conflict for e in events(town)),
                 timeout=150, interval=0.5, message="the refinery sending a conflicting bead back")
        wait_for(lambda: any(e["type"] == "witness.nudge" and stall[0] in json.dumps(e["payload"])
                             for e in events(town)),
                 timeout=150, interval=0.5, message="the witness nudging the stalled polecat")

        # exactly once: a fed bead is slung again only after a supervisor gave it back (the witness
        # reopening a polecat that keeps dying, the refinery reopening a failed merge), never while
        # a polecat holds it
        assert not double_slung(events(town), set(labels)), double_slung(events(town), set(labels))

        # SIGTERM (what gt demo sends when the cockpit quits) stops it between slings ...
        assert feeder.stop(town) is True and not feeder.status(town)["running"]
        assert "stopped (signal)" in feeder.log_path(town).read_text()
        # ... and so does gt down
        assert feeder.start(town, rig="sample", every=60, minutes=3)["started"] is True
        assert run_cli("gt", "down", "--town", str(path), timeout=60).returncode == 0
        wait_for(lambda: not feeder.status(town)["running"], timeout=30, interval=0.2, message="the feeder to stop")
        assert "stopped (town down)" in feeder.log_path(town).read_text()
        count = len(fed())
        assert len(fed()) == count  # and files nothing more
    finally:
        feeder.stop(town)
        run_cli("gt", "down", "--town", str(path), timeout=60)


def double_slung(evs: list[dict], beads: set[str]) -> list[dict]:
    """The sling events of `beads` that came while the bead was still held by an earlier sling."""
    held: set[str] = set()
    bad = []
    for e in evs:
        p = e.get("payload") or {}
        b = p.get("bead")
        if b not in beads:
            continue
        if e["type"] == "sling":
            if b in held:
                bad.append(e)
            held.add(b)
        elif (e["type"].startswith("mq.") and p.get("next") == "reopen") or (e["type"] == "witness.escalate" and p.get("reopened")) \
                or (e["type"] == "done" and p.get("status") not in (None, "COMPLETED", "ESCALATED")):
            held.discard(b)
    return bad
