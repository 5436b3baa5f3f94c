"""The refinery against real git: merge, conflict, failing tests, crash recovery, one at a time."""

from __future__ import annotations

import subprocess
from pathlib import Path

from gastown_tui.beads.store import Store
from gastown_tui.patrols import refinery
from gastown_tui.patrols.refinery import RefineryConfig, RefineryContext
from tests.conftest import run_cli


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True, text=True).stdout.strip()


def make_polecat_branch(town, name: str, bead: str, files: dict[str, str]) -> tuple[str, Path]:
    """A polecat worktree off the rig's bare repo with one commit, as `gt sling`/`gt done` leave it."""
    rp = town.rig("demo")
    branch = f"polecat/{name}/{bead}-k0"
    wt = rp.polecat(name)
    git(rp.bare_repo, "worktree", "add", "-q", "-b", branch, str(wt), "main")
    for f, text in files.items():
        (wt / f).parent.mkdir(parents=True, exist_ok=True)
        (wt / f).write_text(text)
    git(wt, "add", "-A")
    git(wt, "commit", "-q", "-m", f"work on {bead}")
    return branch, wt


def make_mr(town, bead_title: str, name: str, files: dict[str, str], priority: int = 2):
    store = Store(town.rig("demo").beads_dir)
    bead = store.create(bead_title, status="hooked", assignee=f"demo/polecats/{name}")
    branch, wt = make_polecat_branch(town, name, bead.id, files)
    mr = store.create(f"Merge {bead.id}", type="merge-request", priority=priority,
                      fields={"branch": branch, "target": "main", "source_issue": bead.id,
                              "worker": f"demo/polecats/{name}", "merge_ready": True})  # as the witness verified it
    return bead, mr, branch, wt


def main_file(town, path: str) -> str | None:
    r = subprocess.run(["git", "-C", str(town.rig("demo").bare_repo), "show", f"main:{path}"],
                       capture_output=True, text=True)
    return r.stdout if r.returncode == 0 else None


def test_merges_in_priority_order_and_closes_mr_and_bead(rig_town):
    town = rig_town
    b1, mr1, br1, _ = make_mr(town, "low prio", "nux", {"a.txt": "a\n"}, priority=3)
    b2, mr2, br2, _ = make_mr(town, "urgent", "slit", {"b.txt": "b\n"}, priority=0)
    logs: list[str] = []
    outs = refinery.patrol_once(RefineryContext(town, "demo", logs.append), RefineryConfig())
    assert [o.mr for o in outs] == [mr2.id, mr1.id]
    assert all(o.kind == "merged" for o in outs)
    assert main_file(town, "a.txt") == "a\n" and main_file(town, "b.txt") == "b\n"
    store = Store(town.rig("demo").beads_dir)
    for i in (b1, b2, mr1, mr2):
        assert store.get(i.id).status == "closed"
    assert store.get(mr1.id).close_reason.startswith("merged")
    # The refinery's checkout follows the default branch.
    assert (town.rig("demo").refinery_worktree / "a.txt").read_text() == "a\n"
    # History is linear: the default branch was fast-forwarded.
    assert git(town.rig("demo").bare_repo, "rev-list", "--merges", "--count", "main") == "0"
    # MERGED protocol mail went to the witness.
    msgs = Store(town.beads_dir).list(type="message", include_ephemeral=True)
    assert any(m.title.startswith("MERGED") and m.assignee == "demo/witness" for m in msgs)
    assert any("MERGED" in line for line in logs)


def test_conflict_sends_rework_naming_files_and_hooks_bead_back(rig_town):
    town = rig_town
    bead, mr, branch, wt = make_mr(town, "edit readme", "nux", {"README.md": "# polecat version\n"})
    # Meanwhile main changed the same line.
    ref = town.rig("demo").refinery_worktree  # main is checked out there
    (ref / "README.md").write_text("# main version\n")
    git(ref, "commit", "-qam", "main moves")
    before = git(town.rig("demo").bare_repo, "rev-parse", "main")
    outs = refinery.patrol_once(RefineryContext(town, "demo"), RefineryConfig(max_failures=2))
    assert outs[0].kind == "conflict" and outs[0].files == ["README.md"]
    assert git(town.rig("demo").bare_repo, "rev-parse", "main") == before
    store = Store(town.rig("demo").beads_dir)
    assert store.get(mr.id).close_reason.startswith("rework")
    src = store.get(bead.id)
    assert src.status == "hooked" and src.assignee == "demo/polecats/nux"
    assert "README.md" in src.comments[-1]["text"]
    msgs = Store(town.beads_dir).list(type="message", include_ephemeral=True)
    rework = [m for m in msgs if m.title.startswith("REWORK_REQUEST")]
    assert rework and "README.md" in rework[0].description
    assert not list((town.rig("demo").root / "refinery").glob(".merge-*"))


def test_failing_tests_send_merge_failed_then_escalate_when_it_keeps_failing(rig_town):
    town = rig_town
    bead, mr, branch, wt = make_mr(town, "breaks tests", "nux", {"x.txt": "x\n"})
    cfg = RefineryConfig(test_command="echo running suite; echo 'FAILED test_x' >&2; exit 1",
                         timeout_seconds=30, max_failures=2)
    before = git(town.rig("demo").bare_repo, "rev-parse", "main")
    outs = refinery.patrol_once(RefineryContext(town, "demo"), cfg)
    assert outs[0].kind == "failed" and "FAILED test_x" in outs[0].detail
    assert git(town.rig("demo").bare_repo, "rev-parse", "main") == before
    store = Store(town.rig("demo").beads_dir)
    assert store.get(bead.id).status == "hooked"
    msgs = Store(town.beads_dir).list(type="message", include_ephemeral=True)
    assert any(m.title.startswith("MERGE_FAILED") and "FAILED test_x" in m.description for m in msgs)
    # The polecat tries again; it fails again: now it is escalated, not sent back.
    mr2 = store.create("Merge again", type="merge-request", fields={
        "branch": branch, "target": "main", "source_issue": bead.id, "worker": "demo/polecats/nux",
        "merge_ready": True})
    store.update(bead.id, status="in_progress")
    outs = refinery.patrol_once(RefineryContext(town, "demo"), cfg)
    assert outs[0].kind == "failed"
    assert store.get(bead.id).status == "blocked"
    escs = Store(town.beads_dir).list(type="escalation")
    assert len(escs) == 1 and bead.id in escs[0].title
    assert store.get(mr2.id).status == "closed"


def test_test_command_timeout_is_a_failure(rig_town):
    town = rig_town
    make_mr(town, "slow", "nux", {"s.txt": "s\n"})
    outs = refinery.patrol_once(RefineryContext(town, "demo"),
                                RefineryConfig(test_command="sleep 30", timeout_seconds=1))
    assert outs[0].kind == "failed" and "timed out" in outs[0].detail


def test_crash_mid_merge_leaves_main_intact_and_mr_retryable(rig_town):
    town = rig_town
    bead, mr, branch, wt = make_mr(town, "ok work", "nux", {"ok.txt": "ok\n"})
    rp = town.rig("demo")
    before = git(rp.bare_repo, "rev-parse", "main")
    # What a crash leaves: the MR marked in progress and a half-made merge worktree.
    Store(rp.beads_dir).update(mr.id, status="in_progress", assignee="demo/refinery")
    crashed = refinery.merge_dir(town, "demo", mr.id)
    git(rp.bare_repo, "worktree", "add", "-q", "--detach", str(crashed), branch)
    assert git(rp.bare_repo, "rev-parse", "main") == before
    outs = refinery.patrol_once(RefineryContext(town, "demo"), RefineryConfig())
    assert [o.kind for o in outs] == ["merged"]
    assert main_file(town, "ok.txt") == "ok\n"
    assert not crashed.exists()


def test_mq_cli_list_retry_reject(rig_town):
    town = rig_town
    bead, mr, branch, wt = make_mr(town, "cli", "nux", {"c.txt": "c\n"})
    r = run_cli("gt", "mq", "list", "demo", "--json", "--town", str(town.root))
    assert r.returncode == 0, r.stderr
    import json

    rows = json.loads(r.stdout)
    assert [m["id"] for m in rows] == [mr.id]
    assert {"id", "status", "priority", "branch", "source_issue", "worker"} <= set(rows[0])
    r = run_cli("gt", "mq", "reject", "demo", mr.id, "--reason", "not wanted", "--town", str(town.root))
    assert r.returncode == 0, r.stderr
    assert Store(town.rig("demo").beads_dir).get(mr.id).close_reason == "rejected: not wanted"
    r = run_cli("gt", "mq", "retry", "demo", mr.id, "--town", str(town.root))
    assert r.returncode == 0, r.stderr
    assert Store(town.rig("demo").beads_dir).get(mr.id).status == "open"
    r = run_cli("gt", "mq", "retry", "demo", "de-nope", "--town", str(town.root))
    assert r.returncode == 1 and "no merge request" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("gt", "mq", "status", "demo", "--json", "--town", str(town.root))
    assert r.returncode == 0, r.stderr
    st = json.loads(r.stdout)
    assert st["rig"] == "demo" and st["queued"] == 1


def test_merge_ready_gates_merging(rig_town):
    """The refinery merges only MRs the witness verified (concepts reference §9, §17)."""
    town = rig_town
    store = Store(town.rig("demo").beads_dir)
    bead = store.create("unverified", status="hooked", assignee="demo/polecats/nux")
    branch, wt = make_polecat_branch(town, "nux", bead.id, {"u.txt": "u\n"})
    head = git(wt, "rev-parse", "HEAD")
    mr = store.create(f"Merge {bead.id}", type="merge-request", fields={
        "branch": branch, "target": "main", "source_issue": bead.id, "worker": "demo/polecats/nux",
        "commit_sha": head})
    assert refinery.patrol_once(RefineryContext(town, "demo"), RefineryConfig()) == []
    assert main_file(town, "u.txt") is None and store.get(mr.id).status == "open"

    # The witness verifies: a dirty worktree holds it ...
    from gastown_tui.patrols.witness import WitnessContext, _merge_ready, Action
    from gastown_tui.town.identity import Agent

    (wt / "stray.txt").write_text("not committed\n")
    ctx = WitnessContext(town, "demo")
    act = Action("merge_ready", "nux", "done", bead=bead.id, mr=mr.id, branch=branch)
    _merge_ready(ctx, act, Agent("polecat", "demo", "nux"))
    got = store.get(mr.id)
    assert not got.get("merge_ready") and "uncommitted" in got.get("merge_ready_problem")
    assert refinery.patrol_once(RefineryContext(town, "demo"), RefineryConfig()) == []
    # ... a clean one passes, MERGE_READY goes to the refinery, and then it merges.
    (wt / "stray.txt").unlink()
    _merge_ready(ctx, act, Agent("polecat", "demo", "nux"))
    got = store.get(mr.id)
    assert got.get("merge_ready") is True and not got.get("merge_ready_problem")
    msgs = Store(town.beads_dir).list(type="message", include_ephemeral=True)
    assert any(m.title == "MERGE_READY nux" and m.assignee == "demo/refinery" for m in msgs)
    outs = refinery.patrol_once(RefineryContext(town, "demo"), RefineryConfig())
    assert [(o.mr, o.kind) for o in outs] == [(mr.id, "merged")]
    assert main_file(town, "u.txt") == "u\n"


def test_the_refinery_reads_its_merge_ready_mail_and_leaves_other_mail_unread(rig_town):
    """Its unread count used to only grow: MERGE_READY was never marked read (issue 14)."""
    from gastown_tui.patrols.witness import Action, WitnessContext, _merge_ready
    from gastown_tui.town.identity import Agent
    from gastown_tui.work import mail
    from gastown_tui.work.snapshot import load_snapshot

    town = rig_town
    bead, mr, branch, wt = make_mr(town, "ready work", "nux", {"r.txt": "r\n"})
    Store(town.rig("demo").beads_dir).update(mr.id, merge_ready=False)
    _merge_ready(WitnessContext(town, "demo"), Action("merge_ready", "nux", "done", bead=bead.id, mr=mr.id,
                                                      branch=branch), Agent("polecat", "demo", "nux"))
    human = mail.send_mail(town, "demo/refinery", "please hold merges tonight", "thanks", sender="overseer",
                           nudge=False)[0]["id"]
    unread = [m["subject"] for m in mail.inbox(town, "demo/refinery", unread_only=True)]
    assert sorted(unread) == ["MERGE_READY nux", "please hold merges tonight"]

    outs = refinery.patrol_once(RefineryContext(town, "demo"), RefineryConfig())
    assert [o.kind for o in outs] == ["merged"]
    assert [m["id"] for m in mail.inbox(town, "demo/refinery", unread_only=True)] == [human]
    snap = load_snapshot(town, panes={})
    assert snap.agent("demo/refinery").unread == 1
