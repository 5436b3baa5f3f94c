"""The witness's failure classes as pure decisions over observed facts (no tmux, no git)."""

from __future__ import annotations

from gastown_tui.patrols.witness import (
    PolecatFacts,
    PolecatMemory,
    WitnessConfig,
    WitnessFacts,
    bead_of_branch,
    classify,
    decide,
)

CFG = WitnessConfig(stall_seconds=60, max_restarts=2)
NOW = 10_000.0
BR = "polecat/nux/de-abc-k3j2"


def facts(**kw) -> PolecatFacts:
    base = dict(name="nux", session_exists=True, activity=NOW - 5, hook_id="de-abc", hook_updated="t1",
                worktree_exists=True, branch=BR, branch_bead="de-abc", branch_bead_status="hooked", head="a1")
    base.update(kw)
    return PolecatFacts(**base)


def seen(**kw) -> PolecatMemory:
    base = dict(last_activity=NOW - 5, last_head="a1", last_hook_updated="t1", last_progress=NOW - 30)
    base.update(kw)
    return PolecatMemory(**base)


def run(f, m=None, now=NOW):
    mem = {f.name: m} if m is not None else {}
    return decide(WitnessFacts("demo", [f]), mem, CFG, now)


def test_branch_names_encode_the_bead():
    assert bead_of_branch(BR) == "de-abc"
    assert bead_of_branch("polecat/nux/de-abc.1-k3j2") == "de-abc.1"
    assert bead_of_branch("main") is None


def test_healthy_busy_agent_is_never_touched_even_long_after_its_start():
    # Output keeps arriving: progress, so no stall however long it has been working.
    later = NOW + 10_000
    f = facts(activity=later - 1)
    m = seen(last_activity=NOW - 50, last_progress=NOW - 50)
    assert classify(f, m, CFG, later) == "healthy"
    actions, mem = run(f, m, now=later)
    assert actions == []
    assert mem["nux"].last_progress == later - 1  # the evidence: its last output


def test_new_commits_or_bead_updates_count_as_progress_without_pane_output():
    m = seen(last_activity=NOW - 500, last_progress=NOW - 500)
    quiet = NOW - 500
    assert classify(facts(head="b2", activity=quiet), m, CFG, NOW) == "healthy"
    assert classify(facts(hook_updated="t2", activity=quiet), m, CFG, NOW) == "healthy"
    assert classify(facts(activity=quiet), m, CFG, NOW) == "stalled"


def test_stalled_agent_is_nudged_then_escalated_once():
    f = facts(activity=NOW - 70)
    actions, mem = run(f, seen(last_activity=NOW - 70, last_progress=NOW - 70))
    assert [a.kind for a in actions] == ["nudge"]
    # Not yet a full threshold (and a tick of the activity clock) after the nudge: nothing more.
    actions2, mem2 = decide(WitnessFacts("demo", [f]), mem, CFG, NOW + 61)
    assert actions2 == []
    actions3, mem3 = decide(WitnessFacts("demo", [f]), mem2, CFG, NOW + 62)
    assert [a.kind for a in actions3] == ["escalate_stall"]
    actions4, _ = decide(WitnessFacts("demo", [f]), mem3, CFG, NOW + 500)
    assert actions4 == []


def test_stall_resets_when_progress_resumes_after_a_nudge():
    acts, mem = run(facts(activity=NOW - 70), seen(last_activity=NOW - 70, last_progress=NOW - 70))
    assert [a.kind for a in acts] == ["nudge"]
    actions, mem2 = decide(WitnessFacts("demo", [facts(activity=NOW + 20)]), mem, CFG, NOW + 70)
    assert actions == []
    assert mem2["nux"].nudged_at is None


def test_dead_session_holding_a_hook_is_restarted_then_reopened_and_escalated():
    f = facts(session_exists=False, activity=None)
    assert classify(f, seen(), CFG, NOW) == "dead-session"
    actions, mem = run(f, seen())
    assert [a.kind for a in actions] == ["restart"] and mem["nux"].restarts == 1
    actions, mem = decide(WitnessFacts("demo", [f]), mem, CFG, NOW + 1)
    assert [a.kind for a in actions] == ["restart"] and mem["nux"].restarts == 2
    actions, mem = decide(WitnessFacts("demo", [f]), mem, CFG, NOW + 2)
    assert [a.kind for a in actions] == ["reopen_escalate"]
    assert actions[0].bead == "de-abc"


def test_crashed_process_in_a_live_session_is_told_apart_from_a_dead_session():
    f = facts(pane_dead=True, runtime="sim")
    assert classify(f, seen(), CFG, NOW) == "crashed"
    actions, _ = run(f, seen())
    assert actions[0].kind == "restart" and "process exited" in actions[0].reason
    assert actions[0].runtime == "sim"


def test_dead_session_without_a_worktree_is_not_restarted():
    actions, _ = run(facts(session_exists=False, worktree_exists=False), seen())
    assert [a.kind for a in actions] == ["reopen_escalate"]


def test_finished_agent_waiting_for_merge_gets_one_merge_ready_and_no_stall():
    f = facts(hook_id=None, mr_open="de-mr1", activity=NOW - 5000)
    m = seen(last_progress=NOW - 5000)
    assert classify(f, m, CFG, NOW) == "awaiting-merge"
    actions, mem = run(f, m)
    assert [(a.kind, a.mr) for a in actions] == [("merge_ready", "de-mr1")]
    actions2, _ = decide(WitnessFacts("demo", [f]), mem, CFG, NOW + 5000)
    assert actions2 == []
    # `gt done` may leave the finished bead on the hook: still awaiting merge.
    assert classify(facts(mr_open="de-mr1"), m, CFG, NOW) == "awaiting-merge"


def test_merged_branch_is_cleaned_up_and_forgotten():
    f = facts(hook_id=None, mr_merged="de-mr1", branch_bead_status="closed")
    actions, mem = run(f, seen())
    assert [a.kind for a in actions] == ["cleanup"]
    assert "nux" not in mem


def test_agent_still_running_after_its_bead_was_closed_is_retired():
    f = facts(hook_id=None, branch_bead_status="closed")
    assert classify(f, seen(), CFG, NOW) == "bead-closed"
    actions, _ = run(f, seen())
    assert [a.kind for a in actions] == ["retire"]


def test_idle_polecat_without_work_is_left_alone():
    f = facts(hook_id=None, branch_bead_status="open", session_exists=False)
    assert classify(f, seen(), CFG, NOW) == "idle"
    assert run(f, seen())[0] == []


def test_rework_after_a_merge_failure_is_work_again_not_awaiting_merge():
    # The MR was closed (rework) and the bead hooked again: ordinary monitoring.
    f = facts(mr_open=None, mr_merged=None)
    assert classify(f, seen(), CFG, NOW) == "healthy"


def test_the_echo_of_our_own_nudge_is_not_progress():
    _, mem = run(facts(activity=NOW - 70), seen(last_activity=NOW - 70, last_progress=NOW - 70))
    assert mem["nux"].nudged_at == NOW
    echoed = facts(activity=NOW + 2)  # the typed nudge shows up in the pane
    actions, mem2 = decide(WitnessFacts("demo", [echoed]), mem, CFG, NOW + 62)
    assert [a.kind for a in actions] == ["escalate_stall"]
    # tmux truncates activity to whole seconds: the echo of a nudge sent at NOW + 0.4 reads NOW.
    _, mem_frac = run(facts(activity=NOW - 70), seen(last_activity=NOW - 70, last_progress=NOW - 70), now=NOW + 0.4)
    actions, _ = decide(WitnessFacts("demo", [facts(activity=NOW)]), mem_frac, CFG, NOW + 62.5)
    assert [a.kind for a in actions] == ["escalate_stall"]
    # Real output well after the nudge is progress.
    actions3, mem3 = decide(WitnessFacts("demo", [facts(activity=NOW + 30)]), mem, CFG, NOW + 31)
    assert actions3 == [] and mem3["nux"].nudged_at is None


def test_a_polecat_being_spawned_is_not_restarted_under_the_sling():
    f = facts(session_exists=False, activity=None, age=2.0, spawning=True)
    assert classify(f, seen(), CFG, NOW) == "spawning"
    assert run(f, seen())[0] == []
    assert classify(facts(session_exists=False, activity=None, age=2.0), seen(), CFG, NOW) == "dead-session"
    # A sling that died half-way long ago does not hold the polecat forever.
    assert classify(facts(session_exists=False, activity=None, age=600.0, spawning=True), seen(), CFG,
                    NOW) == "dead-session"


def test_a_threshold_near_the_activity_clock_never_stalls_a_busy_agent():
    # witness.stall_seconds = 1 against tmux's 1 s activity clock: on a loaded machine two passes
    # may see the same activity second. The rule floors the threshold and judges the output's age.
    cfg = WitnessConfig(stall_seconds=1, max_restarts=1)
    m = seen(last_activity=NOW - 2, last_progress=NOW - 2)
    for lag in (0.5, 1.5, 3.0, 4.0):  # the pane's last output, `lag` seconds before the pass
        assert classify(facts(activity=NOW - lag), m, cfg, NOW) == "healthy"
    assert decide(WitnessFacts("demo", [facts(activity=NOW - 2)]), {"nux": m}, cfg, NOW + 3)[0] == []
    assert classify(facts(activity=NOW - 10), seen(last_activity=NOW - 10, last_progress=NOW - 10), cfg,
                    NOW) == "stalled"
