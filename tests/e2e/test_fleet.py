"""The whole fleet, end to end: real tmux, real git, the sim agent, the real patrol loops.

`gt up` starts the daemon, deacon, mayor, witness and refinery; `gt sling --agent sim` hands out
beads; the loops must land everything (or escalate it) with nobody touching anything.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from gastown_tui.beads.store import Store
from gastown_tui.town.config import load_settings
from tests.conftest import wait_for
from tests.work_helpers import branches, gt, gt_json, sessions, worktrees

pytestmark = [pytest.mark.tmux, pytest.mark.slow]


def fast_settings(town, **extra) -> None:
    s = load_settings(town.root)
    for k, v in {"default_agent": "sim", "daemon.tick_seconds": 1, "daemon.commit_debounce_seconds": 2,
                 "deacon.patrol_seconds": 1, "deacon.heartbeat_stale_seconds": 30,
                 "witness.patrol_seconds": 1, "refinery.patrol_seconds": 1,
                 "witness.stall_seconds": 6, "witness.max_restarts": 2, **extra}.items():
        s.set(k, v)
    s.save()


@pytest.fixture
def fleet(rig_town):
    town = rig_town
    yield town
    gt(town, "down")
    from gastown_tui.infra.tmux import Tmux

    tm = Tmux.for_town(town)
    for s in tm.list_sessions():
        tm.kill_session(s)


def rig_store(town):
    return Store(town.rig("demo").beads_dir)


def main_files(town) -> list[str]:
    out = subprocess.run(["git", "-C", str(town.rig("demo").bare_repo), "ls-tree", "-r", "--name-only", "main"],
                         capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_five_beads_in_a_convoy_all_land(fleet):
    town = fleet
    fast_settings(town, **{"deacon.feed_convoys": False})
    ids = [rig_store(town).create(f"Feature {i}", description=f"implement feature {i}").id for i in range(5)]
    conv = gt_json(town, "convoy", "create", "five features", *ids, "--notify", "overseer")
    r = gt(town, "up")
    assert r.returncode == 0, r.stdout + r.stderr
    assert {"gt-deacon", "gt-mayor", "gt-demo-witness", "gt-demo-refinery"} <= set(sessions(town))
    r = gt(town, "up")  # idempotent
    assert r.returncode == 0 and "already running" in r.stdout
    r = gt(town, "sling", *ids, "demo", "--agent", "sim", "--no-convoy")
    assert r.returncode == 0, r.stderr

    def landed():
        st = rig_store(town)
        return all(st.get(i).status == "closed" for i in ids) and \
            gt_json(town, "convoy", "status", conv["id"])["status"] == "closed"

    wait_for(landed, timeout=150, interval=0.5, message="five beads merged and the convoy landed")
    files = main_files(town)
    assert all(f"work/{i}.md" in files for i in ids)
    mrs = rig_store(town).list(type="merge-request", include_closed=True)
    assert len(mrs) == 5 and all(m.status == "closed" and m.close_reason.startswith("merged") for m in mrs)
    inbox = gt_json(town, "mail", "inbox", "overseer")
    assert any("landed" in m["subject"].lower() for m in inbox)
    rp = town.rig("demo")
    # The witness removes a polecat's session, then its worktree, then its branch: wait for all three.
    wait_for(lambda: not [s for s in sessions(town) if s.startswith("gt-demo-")
                          and s not in ("gt-demo-witness", "gt-demo-refinery")]
             and [w for w in worktrees(rp.bare_repo) if w != str(rp.bare_repo)] == [str(rp.refinery_worktree)]
             and not [b for b in branches(rp.bare_repo) if b.startswith("polecat/")],
             timeout=60, interval=0.5, message="every polecat session, worktree and branch removed")
    st = gt_json(town, "status")
    assert st["services"]["daemon"]["running"] is True
    r = gt(town, "down")
    assert r.returncode == 0
    assert sessions(town) == []
    r = gt(town, "daemon", "status", "--json")
    assert json.loads(r.stdout)["running"] is False


def test_faults_crash_stall_conflict_fail_tests(fleet):
    town = fleet
    fast_settings(town)
    r = gt(town, "rig", "config", "set", "demo", "merge_queue.test_command", "! grep -qs FAIL SIM_TESTS")
    assert r.returncode == 0, r.stderr
    st = rig_store(town)
    crash = st.create("Crashes once", labels=["sim:crash"]).id
    stall = st.create("Stalls forever", labels=["sim:stall"]).id
    readme = st.create("Rewrite the readme", description="file: README.md\n```\n# rewritten by a polecat\n```\n").id
    conflict = st.create("Touch the readme title", labels=["sim:conflict"]).id
    failing = st.create("Breaks the tests", labels=["sim:fail-tests"]).id
    all_ids = [crash, stall, readme, conflict, failing]
    r = gt(town, "up", "--no-mayor")
    assert r.returncode == 0, r.stdout + r.stderr
    r = gt(town, "sling", *all_ids, "demo", "--agent", "sim")
    assert r.returncode == 0, r.stderr

    def escalated(bead_id):
        return any(e.data.get("related_issue") == bead_id for e in Store(town.beads_dir).list(type="escalation"))

    def settled():
        s = rig_store(town)
        return all(s.get(i).status == "closed" for i in (crash, readme, conflict)) \
            and escalated(stall) and escalated(failing)

    wait_for(settled, timeout=170, interval=0.5, message="every bead closed or escalated")
    events = [json.loads(line) for line in (town.root / ".events.jsonl").read_text().splitlines() if line.strip()]
    kinds = [e["type"] for e in events]
    assert "witness.restart" in kinds  # the crash was restarted ...
    assert "witness.nudge" in kinds  # ... the stall nudged before it was escalated
    assert "mq.conflict" in kinds  # one of the two readme edits was sent back for rework, then merged
    assert kinds.count("mq.failed") >= 2  # the failing tests went back once, then escalated
    msgs = Store(town.beads_dir).list(type="message", include_ephemeral=True, include_closed=True)
    assert any(m.title.startswith("REWORK_REQUEST") and "README.md" in m.description for m in msgs)
    assert any(m.title.startswith("MERGE_FAILED") for m in msgs)
    assert rig_store(town).get(failing).status == "blocked"
    files = main_files(town)
    assert "SIM_TESTS" not in files and f"work/{crash}.md" in files
    # Nothing is lost: every bead is closed or escalated.
    for i in all_ids:
        assert rig_store(town).get(i).status == "closed" or escalated(i), i
