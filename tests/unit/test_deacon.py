"""Deacon and boot decisions as pure functions."""

from __future__ import annotations

from gastown_tui.patrols.boot import decide_boot
from gastown_tui.patrols.daemon import commit_due
from gastown_tui.patrols.deacon import DeaconFacts, decide
from gastown_tui.patrols.doctor import parse_tmux_version


def test_deacon_starts_missing_or_dead_patrols_of_unparked_rigs_only():
    facts = DeaconFacts(rigs={"a": False, "b": False, "c": True},
                        sessions={"gt-a-witness": True, "gt-a-refinery": False, "gt-c-witness": True})
    got = {(x.kind, x.rig) for x in decide(facts)}
    assert got == {("start_refinery", "a"), ("start_witness", "b"), ("start_refinery", "b"), ("stop_patrol", "c")}


def test_deacon_leaves_running_patrols_alone():
    facts = DeaconFacts(rigs={"a": False}, sessions={"gt-a-witness": True, "gt-a-refinery": True})
    assert decide(facts) == []


def test_boot_restarts_on_missing_dead_or_stale_but_gives_a_new_deacon_grace():
    assert decide_boot(None, None, 120) == "no deacon session"
    assert "exited" in decide_boot(False, 5, 120)
    assert "old" in decide_boot(True, 121, 120)
    assert decide_boot(True, 119, 120) is None
    assert decide_boot(True, None, 120, session_age=10) is None
    assert "no heartbeat" in decide_boot(True, None, 120, session_age=200)


def test_daemon_commits_after_a_quiet_debounce():
    assert not commit_due(None, 100, 60)
    assert not commit_due(50, 100, 60)
    assert commit_due(40, 100, 60)


def test_tmux_version_parse():
    assert parse_tmux_version("tmux 3.3a") == (3, 3)
    assert parse_tmux_version("tmux next-3.5") == (3, 5)
    assert parse_tmux_version("nonsense") is None
