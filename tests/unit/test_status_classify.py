"""The status engine's pure core against recorded pane screens, and its history rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from gastown_tui.agents.runtimes import get_runtime
from gastown_tui.agents.status import (
    HYSTERESIS_SECONDS,
    STATES,
    AgentStatus,
    PaneSample,
    classify,
    raw_state,
)

PANES = Path(__file__).resolve().parents[1] / "fixtures" / "panes"
NOW = 1_800_000_000.0


def sample(name: str | None = None, *, text: str | None = None, quiet: float = 2.0, age: float = 300.0, **kw) -> PaneSample:
    if text is None:
        text = (PANES / f"{name}.txt").read_text(encoding="utf-8")
    return PaneSample(session="gt-x", text=text, activity=NOW - quiet, created=NOW - age, **kw)


@pytest.mark.parametrize("fixture,runtime,state,reason", [
    ("claude_idle", "claude", "idle", "at its prompt"),
    ("claude_busy", "claude", "working", "esc to interrupt"),
    ("claude_permission", "claude", "waiting", "Do you want to proceed?"),
    ("codex_idle", "codex", "idle", "at its prompt"),
    ("codex_busy", "codex", "working", "Working (23s"),
    ("codex_permission", "codex", "waiting", "Would you like to run"),
    ("sim_idle", "sim", "idle", "at its prompt"),
    ("sim_busy", "sim", "working", "working..."),
    ("sim_typing", "sim", "idle", "at its prompt"),
])
def test_recorded_screens_map_to_states(fixture, runtime, state, reason):
    got, why = raw_state(sample(fixture), get_runtime(runtime), NOW)
    assert got == state
    assert reason in why


def test_ansi_colours_do_not_hide_patterns():
    text = "\x1b[1m\x1b[38;5;174m✻\x1b[0m Pondering… (\x1b[2m3s · esc to interrupt\x1b[0m)\n\x1b[2m│\x1b[0m > \x1b[0m"
    assert raw_state(sample(text=text), get_runtime("claude"), NOW)[0] == "working"


def test_dead_and_missing_are_strongest():
    rt = get_runtime("sim")
    assert raw_state(PaneSample("gt-x", exists=False), rt, NOW) == ("dead", "no tmux session")
    state, why = raw_state(sample("sim_idle", dead=True, dead_status=3), rt, NOW)
    assert state == "dead" and "status 3" in why


def test_busy_without_output_for_long_is_stalled():
    rt = get_runtime("sim")
    assert raw_state(sample("sim_busy", quiet=30), rt, NOW, stall_seconds=600)[0] == "working"
    state, why = raw_state(sample("sim_busy", quiet=900), rt, NOW, stall_seconds=600)
    assert state == "stalled" and "no output for 15m" in why


def test_idle_with_hooked_work_and_no_progress_is_stalled():
    rt = get_runtime("claude")
    s = sample("claude_idle", hooked=True, progress=NOW - 1200, age=3000, quiet=1200)
    state, why = raw_state(s, rt, NOW, stall_seconds=600)
    assert state == "stalled" and "hooked work" in why
    assert raw_state(sample("claude_idle", hooked=True, progress=NOW - 60, quiet=60), rt, NOW)[0] == "idle"
    # Fresh output is progress, whatever the witness remembered.
    assert raw_state(sample("claude_idle", hooked=True, progress=NOW - 1200), rt, NOW, stall_seconds=600)[0] == "idle"


def test_busy_screen_with_hooked_work_the_witness_saw_stall_is_stalled_despite_the_nudge_echo():
    # The witness nudged 100 s ago after 600 s without progress; the nudge echoed in the pane.
    rt = get_runtime("sim")
    s = sample("sim_busy", hooked=True, progress=NOW - 700, nudged_at=NOW - 100, quiet=98, age=3000)
    state, why = raw_state(s, rt, NOW, stall_seconds=600)
    assert state == "stalled" and "no progress for 11m" in why
    # Real output after the echo is progress again.
    s = sample("sim_busy", hooked=True, progress=NOW - 700, nudged_at=NOW - 100, quiet=20, age=3000)
    assert raw_state(s, rt, NOW, stall_seconds=600)[0] == "working"


def test_stall_is_never_judged_near_the_activity_clock():
    from gastown_tui.agents.status import ACTIVITY_CLOCK_SECONDS, MIN_STALL_SECONDS, is_stalled, stall_seconds_of

    assert MIN_STALL_SECONDS >= 5 * ACTIVITY_CLOCK_SECONDS
    # A 1 s setting is floored: output 3 s ago (a loaded machine, a coarse clock) is not a stall.
    assert not is_stalled(NOW - 3, NOW, 1)
    assert not is_stalled(NOW - MIN_STALL_SECONDS - ACTIVITY_CLOCK_SECONDS, NOW, 1)
    assert is_stalled(NOW - MIN_STALL_SECONDS - ACTIVITY_CLOCK_SECONDS - 0.5, NOW, 1)
    assert not is_stalled(None, NOW, 1)

    class Settings:
        def get(self, key):
            return {"witness.stall_seconds": 1}[key]

    assert stall_seconds_of(Settings()) == MIN_STALL_SECONDS
    assert stall_seconds_of() == 600  # the declared default of witness.stall_seconds


def test_unknown_screen_starting_working_stalled_by_age_and_activity():
    rt = get_runtime("claude")
    assert raw_state(sample("shell_unknown", age=5, quiet=1), rt, NOW)[0] == "starting"
    assert raw_state(sample("shell_unknown", age=300, quiet=2), rt, NOW)[0] == "working"
    assert raw_state(sample("shell_unknown", age=3000, quiet=2000), rt, NOW, stall_seconds=600)[0] == "stalled"


def test_idle_and_waiting_need_two_samples():
    rt = get_runtime("claude")
    prev = classify(sample("claude_busy"), rt, None, NOW)
    assert prev.state == "working"
    one = classify(sample("claude_permission"), rt, prev, NOW + 1)
    assert one.state == "working" and one.candidate == "waiting"
    two = classify(sample("claude_permission"), rt, one, NOW + 2)
    assert two.state == "waiting" and two.since == NOW + 2
    # A transient idle screen between busy ones is never reported.
    a = classify(sample("claude_idle"), rt, prev, NOW + 1)
    b = classify(sample("claude_busy"), rt, a, NOW + 2)
    assert a.state == b.state == "working"


def test_no_flapping_faster_than_hysteresis_on_unchanged_input():
    rt = get_runtime("sim")
    s = sample("sim_busy", quiet=595)
    st = classify(s, rt, None, NOW)
    assert st.state == "working"
    seen = [st.state]
    t = NOW
    # The same screen crosses the stall threshold at once; the state may change once at most
    # per HYSTERESIS_SECONDS while the input does not change.
    changes = []
    for _ in range(40):
        t += 1
        s = PaneSample(session="gt-x", text=s.text, activity=s.activity, created=s.created)
        new = classify(s, rt, st, t, stall_seconds=600)
        if new.state != st.state:
            changes.append(t)
        st = new
        seen.append(st.state)
    assert "stalled" in seen
    assert all(b - a >= HYSTERESIS_SECONDS for a, b in zip(changes, changes[1:], strict=False))
    assert changes and changes[0] - NOW >= 5  # quiet 595 s + 5 s crosses 600 s


def test_dead_is_reported_at_once_and_restart_too():
    rt = get_runtime("sim")
    st = classify(sample("sim_idle"), rt, None, NOW)
    st = classify(sample("sim_idle"), rt, st, NOW + 1)
    dead = classify(sample("sim_idle", dead=True, dead_status=1), rt, st, NOW + 2)
    assert dead.state == "dead"
    back = classify(sample("sim_busy"), rt, dead, NOW + 3)
    assert back.state == "working"


def test_status_json_shape():
    st = AgentStatus("idle", "at its prompt", NOW, candidate="idle", samples=2)
    assert st.to_json() == {"state": "idle", "reason": "at its prompt", "since": NOW, "pending": None}
    assert set(STATES) == {"dead", "starting", "working", "idle", "waiting", "stalled"}


@pytest.mark.parametrize("heartbeat_ago, age, state, reason", [
    (5.0, 300.0, "working", "patrolling (heartbeat 5s ago)"),
    (400.0, 3000.0, "stalled", "patrol heartbeat is 6m old"),
    (None, 5.0, "starting", "no heartbeat yet"),
    (None, 300.0, "stalled", "without a heartbeat"),
])
def test_patrol_loops_are_judged_by_their_heartbeat_not_their_screen(heartbeat_ago, age, state, reason):
    # A patrol's log never shows a prompt and may be quiet for minutes; neither is a stall.
    s = sample(text="witness demo: patrol ok (3 polecats)\n", quiet=900.0, age=age, patrol=True,
               heartbeat=None if heartbeat_ago is None else NOW - heartbeat_ago)
    got_state, got_reason = raw_state(s, None, NOW, stall_seconds=600, patrol_stale_seconds=120)
    assert got_state == state and reason in got_reason


def test_a_dead_patrol_is_dead_whatever_its_heartbeat():
    s = sample(text="", patrol=True, heartbeat=NOW - 1, dead=True, dead_status=1)
    assert raw_state(s, None, NOW)[0] == "dead"
