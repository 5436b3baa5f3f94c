"""`gt demo` builds a living town in one command, and a second run completes rather than fails."""

from __future__ import annotations

import json

import pytest

from gastown_tui.sim.demo import DEMO_TEST_COMMAND
from tests.conftest import run_cli, wait_for

pytestmark = pytest.mark.tmux


def test_gt_demo_builds_a_running_town_and_reruns_cleanly(tmp_path, tmux):
    path = tmp_path / "demo"
    # the feed (tests/e2e/test_demo_feed.py) is off: this test counts the demo's own beads and convoy
    r = run_cli("gt", "demo", "--path", str(path), "--agents", "2", "--no-tui", "--json", "--feed-every", "0", timeout=180)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    try:
        assert out["town"] == str(path) and out["created"] is True
        assert out["convoy"].startswith("hq-cv-")
        # The demo tops the fleet up to --agents polecats with work; the deacon may already have
        # fed some of the convoy's beads to polecats by then, so the demo slings the rest.
        assert len(out["slung"]) <= 2, out
        assert out["skipped"] == [], out["skipped"]

        from gastown_tui.beads.store import Store
        from gastown_tui.town.layout import Town
        from gastown_tui.work.snapshot import load_snapshot

        town = Town(path)
        store = Store(town.rig("sample").beads_dir)
        demo_beads = set(json.loads((path / "mayor" / "demo.json").read_text())["beads"])
        wait_for(lambda: len([i for i in store.list(status={"hooked", "in_progress", "closed"}, include_closed=True)
                              if i.id in demo_beads]) >= 2,
                 timeout=60, interval=0.5, message="two demo beads taken by polecats")
        assert all(store.get(b).status in ("hooked", "in_progress", "closed") for b in out["slung"])
        assert town.rig_config("sample")["merge_queue"]["test_command"] == DEMO_TEST_COMMAND
        assert out["feeder"] is None
        snap = load_snapshot(town)
        assert [r.name for r in snap.rigs] == ["sample"]
        assert snap.agent("mayor").state != "off"
        assert len(snap.convoys) == 1 and snap.convoys[0].total == 6
        # the sims do the work: the convoy's slung beads get closed by the refinery's merges
        wait_for(lambda: load_snapshot(town).convoys[0].closed >= 1, timeout=90, interval=0.5,
                 message="a demo bead merged and closed")

        again = run_cli("gt", "demo", "--path", str(path), "--agents", "2", "--no-tui", "--json", "--feed-every", "0",
                        timeout=180)
        assert again.returncode == 0, again.stderr
        second = json.loads(again.stdout)
        assert second["created"] is False and second["convoy"] == out["convoy"]
        assert len([b for b in load_snapshot(town).ready]) <= 12
    finally:
        run_cli("gt", "down", "--town", str(path), timeout=60)


def test_gt_demo_refuses_a_town_it_did_not_make(town):
    r = run_cli("gt", "demo", "--path", str(town.root), "--no-tui")
    assert r.returncode == 2
    assert "was not made by 'gt demo'" in r.stderr and "--path" in r.stderr
    assert "Traceback" not in r.stderr


def test_gt_tui_needs_a_terminal_and_says_so(town):
    r = run_cli("gt", "tui", "--town", str(town.root))
    assert r.returncode == 2
    assert "needs a terminal" in r.stderr


def test_gt_tui_lists_themes_and_rejects_unknown_ones(town):
    r = run_cli("gt", "tui", "--list-themes")
    assert r.returncode == 0
    assert r.stdout.split() == ["gastown-dark", "gastown-high-contrast", "gastown-light"]
    bad = run_cli("gt", "tui", "--town", str(town.root), "--theme", "neon")
    assert bad.returncode == 2 and "no theme named 'neon'" in bad.stderr


def test_gt_demo_refuses_a_feed_too_fast_before_building_anything(tmp_path):
    r = run_cli("gt", "demo", "--path", str(tmp_path / "demo"), "--feed-every", "1", "--no-tui")
    assert r.returncode == 2
    assert "--feed-every 1" in r.stderr and "2 s or more" in r.stderr and "Traceback" not in r.stderr
    assert r.stdout == "" and not (tmp_path / "demo").exists()


@pytest.mark.parametrize("args, said", [(["--feed-every", "nan"], "--feed-every nan"),
                                        (["--feed-every", "inf"], "--feed-every inf"),
                                        (["--feed-every", "5", "--feed-minutes", "nan"], "--feed-minutes nan"),
                                        (["--feed-every", "0", "--feed-minutes", "inf"], "--feed-minutes inf")])
def test_gt_demo_refuses_a_feed_that_is_not_a_finite_number(tmp_path, args, said):
    """`nan < 2` is False: nan and inf passed the range check and built a town with a feeder that
    never (or always) fires."""
    r = run_cli("gt", "demo", "--path", str(tmp_path / "demo"), *args, "--no-tui")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert said in r.stderr and "out of range" in r.stderr and r.stderr.strip().count("\n") == 0
    assert r.stdout == "" and not (tmp_path / "demo").exists()
