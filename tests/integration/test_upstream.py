"""Work reaches the user's repository: the refinery pushes to a real bare upstream, rebases and
re-tests when someone else pushed first, fetches fresh bases, and turns refusals into escalations."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from gastown_tui.beads.store import Store
from gastown_tui.patrols import refinery
from gastown_tui.patrols.refinery import RefineryConfig, RefineryContext
from tests.integration.test_refinery import git, make_mr
from tests.work_helpers import gt, gt_json, one_sentence, other_clone, push_from, upstream_file


def escalations(town):
    return Store(town.beads_dir).list(type="escalation")


def test_merged_work_is_pushed_to_the_upstream(up_town, upstream):
    town = up_town
    bead, mr, branch, _ = make_mr(town, "add a", "nux", {"a.txt": "a\n"})
    outs = refinery.patrol_once(RefineryContext(town, "demo"), RefineryConfig())
    assert [o.kind for o in outs] == ["merged"] and "pushed to" in outs[0].detail
    assert upstream_file(upstream, "a.txt") == "a\n"
    rp = town.rig("demo")
    assert git(upstream, "rev-parse", "main") == git(rp.bare_repo, "rev-parse", "main") == outs[0].commit
    assert (rp.refinery_worktree / "a.txt").read_text() == "a\n"
    st = gt_json(town, "mq", "status", "demo")["upstream"]
    assert st["upstream"] == str(upstream) and st["push"] is True
    assert st["ahead"] == 0 and st["behind"] == 0 and st["pushed"] is True
    assert st["pushed_commit"] == outs[0].commit
    text = gt(town, "mq", "status", "demo").stdout
    assert "main -> " in text and ": up to date" in text
    doctor = {c["name"]: c for c in json.loads(gt(town, "doctor", "--json").stdout)["checks"]}
    assert doctor["upstream"]["status"] == "ok"


def test_upstream_moved_meanwhile_rebase_retest_and_push(up_town, upstream, tmp_path):
    town = up_town
    other = other_clone(tmp_path, upstream)
    make_mr(town, "add a", "nux", {"a.txt": "a\n"})
    runs = tmp_path / "runs.log"
    # The first test run is when the other developer pushes: the refinery's push is then refused.
    script = tmp_path / "suite.sh"
    script.write_text(f"""#!/bin/sh
echo run >> {runs}
if [ ! -e {tmp_path}/pushed ]; then
  touch {tmp_path}/pushed
  (cd {other} && echo theirs > theirs.txt && git add -A && git commit -qm theirs && git push -q origin HEAD:main)
fi
test -e a.txt
""")
    script.chmod(0o755)
    logs: list[str] = []
    outs = refinery.patrol_once(RefineryContext(town, "demo", logs.append),
                                RefineryConfig(test_command=str(script), timeout_seconds=60))
    assert [o.kind for o in outs] == ["merged"], outs
    assert runs.read_text().count("run") == 2  # tested again after the rebase
    assert upstream_file(upstream, "a.txt") == "a\n" and upstream_file(upstream, "theirs.txt") == "theirs\n"
    # Linear, nothing forced: their commit is an ancestor of ours on the upstream.
    theirs = git(other, "rev-parse", "HEAD")
    assert git(upstream, "merge-base", "--is-ancestor", theirs, "main") == ""
    assert git(upstream, "rev-list", "--merges", "--count", "main") == "0"
    assert git(town.rig("demo").bare_repo, "rev-parse", "main") == git(upstream, "rev-parse", "main")
    assert any("moved under us" in line for line in logs)


def test_upstream_that_keeps_moving_ends_in_merge_failed_and_escalation(up_town, upstream, tmp_path):
    town = up_town
    other = other_clone(tmp_path, upstream)
    bead, mr, branch, _ = make_mr(town, "add a", "nux", {"a.txt": "a\n"})
    script = tmp_path / "suite.sh"
    script.write_text(f"""#!/bin/sh
cd {other} && date +%s%N >> busy.txt && git add -A && git commit -qm busy && git push -q origin HEAD:main
""")
    script.chmod(0o755)
    rp = town.rig("demo")
    before = git(rp.bare_repo, "rev-parse", "main")
    outs = refinery.patrol_once(RefineryContext(town, "demo"),
                                RefineryConfig(test_command=str(script), timeout_seconds=60, push_attempts=2))
    assert [o.kind for o in outs] == ["push-failed"]
    assert "kept moving" in outs[0].detail
    assert upstream_file(upstream, "a.txt") is None
    assert git(rp.bare_repo, "rev-parse", "main") == before
    assert branch in git(rp.bare_repo, "branch", "--list", branch)  # no lost commit
    store = Store(rp.beads_dir)
    assert store.get(mr.id).close_reason.startswith("merge-failed")
    assert store.get(bead.id).status == "blocked"
    escs = escalations(town)
    assert len(escs) == 1 and "cannot push" in escs[0].title
    msgs = Store(town.beads_dir).list(type="message", include_ephemeral=True)
    assert any(m.title.startswith("MERGE_FAILED") for m in msgs)


def test_pre_receive_hook_rejection_is_one_sentence_and_an_escalation(up_town, upstream):
    town = up_town
    hook = upstream / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'main is protected: open a pull request' >&2\nexit 1\n")
    hook.chmod(0o755)
    bead, mr, branch, _ = make_mr(town, "add a", "nux", {"a.txt": "a\n"})
    rp = town.rig("demo")
    before = git(rp.bare_repo, "rev-parse", "main")
    outs = refinery.patrol_once(RefineryContext(town, "demo"), RefineryConfig())
    assert [o.kind for o in outs] == ["push-failed"]
    first = outs[0].detail.splitlines()[0]
    assert "pre-receive hook declined" in first and "gt mq retry" in first
    assert git(rp.bare_repo, "rev-parse", "main") == before and upstream_file(upstream, "a.txt") is None
    assert git(rp.bare_repo, "rev-parse", branch)  # the work is kept
    escs = escalations(town)
    assert len(escs) == 1 and escs[0].data.get("category") == "merge"
    assert "pre-receive hook declined" in escs[0].description
    st = gt_json(town, "mq", "status", "demo")["upstream"]
    assert "pre-receive hook declined" in st["push_error"]
    # Once the hook is fixed, a retry lands the work on the upstream.
    hook.unlink()
    gt(town, "mq", "retry", "demo", mr.id)
    outs = refinery.patrol_once(RefineryContext(town, "demo"), RefineryConfig())
    assert [o.kind for o in outs] == ["merged"] and upstream_file(upstream, "a.txt") == "a\n"
    assert gt_json(town, "mq", "status", "demo")["upstream"]["push_error"] is None


def test_patrol_fetches_fresh_bases_bounded_by_the_fetch_interval(up_town, upstream, tmp_path):
    from gastown_tui.agents.polecats import Undo, create_worktree

    town = up_town
    other = other_clone(tmp_path, upstream)
    theirs = push_from(other, "theirs.txt", "theirs\n", "theirs")
    rp = town.rig("demo")
    logs: list[str] = []
    refinery.patrol_once(RefineryContext(town, "demo", logs.append), RefineryConfig(fetch_seconds=3600))
    assert git(rp.bare_repo, "rev-parse", "main") == theirs
    assert (rp.refinery_worktree / "theirs.txt").exists()
    assert any("fast-forwarded" in line for line in logs)
    # A new polecat worktree branches from the upstream's latest main.
    wt = create_worktree(town, "demo", "de-abc", Undo())
    assert (Path(wt["path"]) / "theirs.txt").read_text() == "theirs\n"
    # Not more often than the setting: a second push is only seen after the interval.
    later = push_from(other, "later.txt", "later\n", "later")
    refinery.patrol_once(RefineryContext(town, "demo"), RefineryConfig(fetch_seconds=3600))
    assert git(rp.bare_repo, "rev-parse", "main") == theirs
    refinery.patrol_once(RefineryContext(town, "demo"), RefineryConfig(fetch_seconds=0))
    assert git(rp.bare_repo, "rev-parse", "main") == later


def test_unreachable_upstream_is_escalated_once_and_nothing_is_lost(up_town, upstream, tmp_path):
    town = up_town
    bead, mr, branch, _ = make_mr(town, "add a", "nux", {"a.txt": "a\n"})
    gone = tmp_path / "moved-away.git"
    shutil.move(str(upstream), str(gone))
    rp = town.rig("demo")
    before = git(rp.bare_repo, "rev-parse", "main")
    logs: list[str] = []
    outs = refinery.patrol_once(RefineryContext(town, "demo", logs.append), RefineryConfig(fetch_seconds=0))
    assert [o.kind for o in outs] == ["push-failed"]
    assert "does not appear to be a git repository" in outs[0].detail
    assert git(rp.bare_repo, "rev-parse", "main") == before and git(rp.bare_repo, "rev-parse", branch)
    titles = sorted(e.title for e in escalations(town))
    assert titles == ["demo cannot push " + bead.id + " to its upstream", "demo cannot reach its upstream"]
    refinery.patrol_once(RefineryContext(town, "demo"), RefineryConfig(fetch_seconds=0))
    assert len(escalations(town)) == 2  # raised once, not every patrol
    assert any("fetching from" in line for line in logs)
    # The network is back: retrying the MR pushes the kept work.
    shutil.move(str(gone), str(upstream))
    gt(town, "mq", "retry", "demo", mr.id)
    outs = refinery.patrol_once(RefineryContext(town, "demo"), RefineryConfig(fetch_seconds=0))
    assert [o.kind for o in outs] == ["merged"] and upstream_file(upstream, "a.txt") == "a\n"


def test_push_off_leaves_main_unpushed_and_doctor_says_so(up_town, upstream):
    town = up_town
    r = gt(town, "rig", "config", "set", "demo", "merge_queue.push", "false")
    assert r.returncode == 0, r.stderr
    make_mr(town, "add a", "nux", {"a.txt": "a\n"})
    outs = refinery.patrol_once(RefineryContext(town, "demo"), RefineryConfig())
    assert [o.kind for o in outs] == ["merged"] and "pushed" not in outs[0].detail
    assert upstream_file(upstream, "a.txt") is None
    st = gt_json(town, "mq", "status", "demo")["upstream"]
    assert st["push"] is False and st["ahead"] == 1 and st["behind"] == 0 and st["pushed"] is False
    assert "not pushed (merge_queue.push is off)" in gt(town, "mq", "status", "demo").stdout
    doctor = {c["name"]: c for c in json.loads(gt(town, "doctor", "--json").stdout)["checks"]}
    assert doctor["upstream"]["status"] == "warn"
    assert "demo (main is 1 commit(s) ahead" in doctor["upstream"]["message"]
    # Turned back on: the next patrol pushes what was kept.
    gt(town, "rig", "config", "set", "demo", "merge_queue.push", "true")
    refinery.patrol_once(RefineryContext(town, "demo"), RefineryConfig(fetch_seconds=0))
    assert upstream_file(upstream, "a.txt") == "a\n"
    assert gt_json(town, "mq", "status", "demo")["upstream"]["ahead"] == 0


def test_a_working_repository_is_fetched_but_not_pushed(rig_town, project_repo):
    town = rig_town
    make_mr(town, "add a", "nux", {"a.txt": "a\n"})
    outs = refinery.patrol_once(RefineryContext(town, "demo"), RefineryConfig())
    assert [o.kind for o in outs] == ["merged"]
    assert subprocess.run(["git", "-C", str(project_repo), "show", "main:a.txt"], capture_output=True).returncode != 0
    st = gt_json(town, "mq", "status", "demo")["upstream"]
    assert st["pushable"] is False and st["push"] is False
    assert "a working repository" in gt(town, "mq", "status", "demo").stdout


def test_diverged_history_is_reported_then_rebased_and_pushed_by_the_next_merge(up_town, upstream, tmp_path):
    town = up_town
    gt(town, "rig", "config", "set", "demo", "merge_queue.push", "false")
    make_mr(town, "kept locally", "nux", {"a.txt": "a\n"})
    refinery.patrol_once(RefineryContext(town, "demo"), RefineryConfig())
    theirs = push_from(other_clone(tmp_path, upstream), "theirs.txt", "theirs\n", "theirs")
    gt(town, "rig", "config", "set", "demo", "merge_queue.push", "true")
    logs: list[str] = []
    refinery.patrol_once(RefineryContext(town, "demo", logs.append), RefineryConfig(fetch_seconds=0))
    assert any("has diverged" in line for line in logs)
    st = gt_json(town, "mq", "status", "demo")["upstream"]
    assert st["ahead"] == 1 and st["behind"] == 1
    assert "1 commit(s) not pushed, 1 behind" in gt(town, "mq", "status", "demo").stdout
    make_mr(town, "next one", "slit", {"b.txt": "b\n"})
    outs = refinery.patrol_once(RefineryContext(town, "demo"), RefineryConfig(fetch_seconds=0))
    assert [o.kind for o in outs] == ["merged"]
    for f in ("a.txt", "b.txt", "theirs.txt"):
        assert upstream_file(upstream, f) is not None
    assert git(upstream, "merge-base", "--is-ancestor", theirs, "main") == ""
    st = gt_json(town, "mq", "status", "demo")["upstream"]
    assert st["ahead"] == 0 and st["behind"] == 0


def test_network_upstream_that_refuses_connections_is_one_sentence_and_escalated(up_town):
    town = up_town
    rp = town.rig("demo")
    url = "http://127.0.0.1:9/nowhere.git"  # the discard port: nothing listens
    git(rp.bare_repo, "remote", "set-url", "origin", url)
    cfg = json.loads(rp.config_json.read_text())
    rp.config_json.write_text(json.dumps({**cfg, "git_url": url}))
    bead, mr, branch, _ = make_mr(town, "add a", "nux", {"a.txt": "a\n"})
    outs = refinery.patrol_once(RefineryContext(town, "demo"), RefineryConfig(fetch_seconds=0))
    assert [o.kind for o in outs] == ["push-failed"]
    detail = outs[0].detail
    assert len(detail.splitlines()) == 1 and url in detail and "nothing was lost" in detail
    assert git(rp.bare_repo, "rev-parse", branch)
    assert {e.title for e in escalations(town)} == {"demo cannot reach its upstream",
                                                    f"demo cannot push {bead.id} to its upstream"}


def test_mq_status_fetch_sees_the_upstream_now(up_town, upstream, tmp_path):
    town = up_town
    refinery.patrol_once(RefineryContext(town, "demo"), RefineryConfig())
    theirs = push_from(other_clone(tmp_path, upstream), "theirs.txt", "theirs\n", "theirs")
    assert gt_json(town, "mq", "status", "demo")["upstream"]["remote"] != theirs  # as of the last fetch
    st = gt_json(town, "mq", "status", "demo", "--fetch")["upstream"]
    assert st["remote"] == theirs and st["local"] == theirs and st["behind"] == 0
    upstream.rename(tmp_path / "gone.git")
    r = gt(town, "mq", "status", "demo", "--fetch")
    assert r.returncode == 1 and "does not appear to be a git repository" in one_sentence(r)
