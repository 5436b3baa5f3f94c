"""The refinery: one rig's merge queue, one merge at a time (DESIGN §7).

MR beads (`issue_type = "merge-request"`, fields `branch`, `target`, `source_issue`, `worker`,
`commit_sha`) live in the rig's store. Only MRs the witness verified and sent MERGE_READY for
(`merge_ready` on the bead) are taken. Each pass takes the first such MR in priority order and:

1. rebases the polecat's branch onto the default branch in a *temporary detached worktree*
   (the polecat's own worktree keeps its branch checked out, so the branch cannot be checked
   out elsewhere); a conflict aborts the rebase and sends REWORK_REQUEST naming the files;
2. runs the rig's `merge_queue.test_command` there with a timeout; a failure sends MERGE_FAILED
   with the tail of the output;
3. only then fast-forwards the default branch in `refinery/rig` to the tested commit, closes the
   MR and its source bead, deletes the branch (unless a worktree still holds it: the witness
   removes both on MERGED) and sends MERGED.

Work that failed goes back to the polecat that did it (the bead is hooked on it again with a note)
until it failed `refinery.max_failures` times; then it is escalated. The default branch only moves
after tests pass, so a crash mid-merge leaves it intact; an MR left `in_progress` by a crash is
reset to `open` on the next pass (under the rig's merge lock, so no live merge is disturbed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gastown_tui.errors import GtError, NotFound, UsageError
from gastown_tui.town.identity import Agent
from gastown_tui.town.layout import Town
from gastown_tui.work.mq import MR_TYPE, list_mrs, mr_json, queue_order

OPEN = ("open", "in_progress")


@dataclass(frozen=True)
class RefineryConfig:
    test_command: str = ""
    timeout_seconds: float = 600.0
    enabled: bool = True
    max_failures: int = 2
    patrol_seconds: float = 10.0
    push_attempts: int = 3  # pushes tried (fetch, rebase, re-test between them) before MERGE_FAILED
    fetch_seconds: float = 30.0  # fetch the upstream at most this often
    fetch_timeout: float = 30.0
    push_timeout: float = 120.0

    @classmethod
    def load(cls, town: Town, rig: str) -> RefineryConfig:
        from gastown_tui.town.config import load_settings

        s = load_settings(town.root)
        mq = (town.rig_config(rig).get("merge_queue") or {})
        return cls(test_command=str(mq.get("test_command") or ""),
                   timeout_seconds=float(mq.get("timeout_seconds") or 600),
                   enabled=bool(mq.get("enabled", True)),
                   max_failures=int(s.get("refinery.max_failures")),
                   patrol_seconds=float(s.get("refinery.patrol_seconds")),
                   push_attempts=max(1, int(s.get("refinery.push_attempts"))),
                   fetch_seconds=float(s.get("refinery.fetch_seconds")),
                   fetch_timeout=float(s.get("refinery.fetch_timeout_seconds")))


@dataclass(frozen=True)
class MergeOutcome:
    kind: str  # merged | conflict | failed | missing | push-failed
    mr: str
    commit: str | None = None
    files: list[str] = field(default_factory=list)
    detail: str = ""


# --- pure queue rules ----------------------------------------------------------------------------

def failure_count(mrs: list[dict[str, Any]], source_issue: str) -> int:
    """How many MRs for this bead were sent back (conflict or failed tests)."""
    return sum(1 for m in mrs if m.get("source_issue") == source_issue and m.get("status") == "closed"
               and str(m.get("close_reason", "")).startswith(("rework", "merge-failed")))


def next_step_after_failure(failures: int, max_failures: int, worker_exists: bool) -> str:
    """back-to-worker | reopen (nobody to give it to) | escalate (it keeps failing)."""
    if failures >= max_failures:
        return "escalate"
    return "back-to-worker" if worker_exists else "reopen"


# --- the store side ----------------------------------------------------------------------------------

def _store(town: Town, rig: str):
    from gastown_tui.beads.store import Store

    return Store(town.require_rig(rig).beads_dir, actor=f"{rig}/refinery")


def _get_mr(town: Town, rig: str, mr_id: str):
    iss = _store(town, rig).try_get(mr_id)
    if iss is None or iss.issue_type != MR_TYPE:
        raise NotFound(f"no merge request {mr_id} in rig '{rig}'", hint=f"list them with 'gt mq list {rig}'")
    return iss


def retry_mr(town: Town, rig: str, mr_id: str) -> dict[str, Any]:
    iss = _get_mr(town, rig, mr_id)
    if iss.status == "closed" and str(iss.close_reason).startswith("merged"):
        raise UsageError(f"{mr_id} is already merged", hint="nothing to retry")
    iss = _store(town, rig).update(mr_id, status="open", assignee=None, closed_at=None, close_reason=None)
    _event(town, rig, "mq.retry", {"mr": mr_id})
    return mr_json(iss)


def reject_mr(town: Town, rig: str, mr_id: str, reason: str | None = None) -> dict[str, Any]:
    from gastown_tui.work import escalation, protocol

    iss = _get_mr(town, rig, mr_id)
    if iss.status == "closed":
        raise UsageError(f"{mr_id} is already closed ({iss.close_reason or 'closed'})",
                         hint=f"reopen it with 'gt mq retry {rig} {mr_id}' first")
    why = reason or "rejected by the overseer"
    iss = _store(town, rig).close(mr_id, f"rejected: {why}")
    d = iss.data
    escalation.notify(town, f"{rig}/witness", protocol.subject("MERGE_FAILED", _polecat_name(d.get("worker", ""))),
                      protocol.body({"Polecat": _polecat_name(d.get("worker", "")), "Rig": rig,
                                     "Bead": d.get("source_issue"), "Branch": d.get("branch"), "MR": mr_id,
                                     "Reason": f"rejected: {why}"}), sender=f"{rig}/refinery", ephemeral=True)
    _event(town, rig, "mq.rejected", {"mr": mr_id, "reason": why})
    return mr_json(iss)


def _polecat_name(worker: str) -> str:
    return worker.rsplit("/", 1)[-1] if worker else ""


def _event(town: Town, rig: str, type: str, payload: dict[str, Any]) -> None:
    try:
        from gastown_tui.town import events

        events.record(town.root, type, actor=f"{rig}/refinery", rig=rig, payload=payload)
    except Exception:  # noqa: BLE001
        pass


# --- git mechanics --------------------------------------------------------------------------------------

def _identity(town: Town, rig: str) -> dict[str, str]:
    owner = None
    try:
        owner = town.info().get("owner")
    except GtError:
        pass
    email = owner if isinstance(owner, str) and "@" in owner else "refinery@localhost"
    name = f"{rig}/refinery"
    return {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email}


def merge_dir(town: Town, rig: str, mr_id: str) -> Path:
    """The scratch worktree of one merge: named from a safe token of the id, never the raw id."""
    from gastown_tui.beads import ids
    from gastown_tui.infra.safepath import confine

    return confine(town.rig(rig).root / "refinery", f".merge-{ids.token(mr_id)}", what="merge directory")


def _drop_worktree(bare: Path, path: Path) -> None:
    from gastown_tui.infra import git
    from gastown_tui.infra.safepath import remove_tree

    if path.exists() or path.is_symlink():
        if not path.is_symlink():
            git.worktree_remove(bare, path, force=True, check=False)
        remove_tree(path.parent, path)
    git.worktree_prune(bare)


def unsafe_reason(mr: dict[str, Any]) -> str | None:
    """Why the refinery must not touch this MR (it arrived by git with names it cannot trust)."""
    from gastown_tui.beads import ids

    for key in ("id", "source_issue"):
        value = mr.get(key) or ""
        if (key == "id" or value) and ids.id_problem(value) is not None:
            return f"its {key.replace('_', ' ')} {ids.shown(value)} is not a valid bead id"
    branch = str(mr.get("branch") or "")
    if branch.startswith("-") or ".." in branch or not branch.isprintable() or " " in branch:
        return f"its branch {ids.shown(branch)} is not a safe branch name"
    return None


def rebase_and_test(town: Town, rig: str, mr: dict[str, Any], cfg: RefineryConfig,
                    log: Callable[[str], None] = lambda _m: None) -> MergeOutcome:
    """Steps 1-3 for one MR; the default branch moves only in the last step."""
    from gastown_tui.infra import git

    rp = town.rig(rig)
    bare = rp.bare_repo
    target = mr.get("target") or str(town.rig_config(rig).get("default_branch") or "main")
    branch = mr.get("branch") or ""
    if not branch or not git.branch_exists(bare, branch):
        return MergeOutcome("missing", mr["id"], detail=f"branch '{branch}' does not exist in the rig's repository")
    if not git.branch_exists(bare, target):
        return MergeOutcome("missing", mr["id"], detail=f"target branch '{target}' does not exist")
    tip = git.rev_parse(bare, f"refs/heads/{branch}")
    tmp = merge_dir(town, rig, mr["id"])
    _drop_worktree(bare, tmp)
    env = _identity(town, rig)
    git.worktree_add_detached(bare, tmp, tip)
    try:
        base = git.rev_parse(bare, f"refs/heads/{target}")
        bad = _rebase_onto(tmp, base, env, mr, branch, target) or _run_tests(tmp, mr, rig, cfg, log)
        if bad is not None:
            return bad
        new = git.rev_parse(tmp, "HEAD")
        from gastown_tui.work.upstream import upstream_of

        up = upstream_of(town, rig)
        if up.push:
            return push_and_land(town, rig, mr, cfg, tmp, env, log)
        fast_forward(town, rig, target, new)
        return MergeOutcome("merged", mr["id"], commit=new, detail=f"{branch} -> {target} at {new[:8]}")
    finally:
        _drop_worktree(bare, tmp)


def _rebase_onto(tmp: Path, base: str, env: dict[str, str], mr: dict[str, Any], branch: str,
                 target: str) -> MergeOutcome | None:
    """Rebase the scratch worktree's HEAD onto `base`; a conflict is the MR's outcome."""
    from gastown_tui.infra import git

    if git.is_ancestor(tmp, base, "HEAD"):
        return None
    try:
        git.run_git(["rebase", "-q", base], tmp, env=env)
    except git.GitError:
        files = [f for f in git.run_git(["diff", "--name-only", "--diff-filter=U"], tmp,
                                        check=False).splitlines() if f]
        git.run_git(["rebase", "--abort"], tmp, check=False)
        return MergeOutcome("conflict", mr["id"], files=files,
                            detail=f"rebasing {branch} onto {target} conflicts in "
                                   f"{', '.join(files) or 'unknown files'}")
    return None


def _run_tests(tmp: Path, mr: dict[str, Any], rig: str, cfg: RefineryConfig,
               log: Callable[[str], None]) -> MergeOutcome | None:
    """The rig's test command at the scratch worktree's HEAD; a failure is the MR's outcome."""
    from gastown_tui.infra import git
    from gastown_tui.infra.proc import TIMEOUT_STATUS, run_command

    if not cfg.test_command:
        return None
    new = git.rev_parse(tmp, "HEAD")
    log(f"  testing {mr['id']} at {new[:8]}: {cfg.test_command} (limit {int(cfg.timeout_seconds)}s)")
    rc, output = run_command(cfg.test_command, tmp, timeout=cfg.timeout_seconds,
                             env={"GT_MR": mr["id"], "GT_RIG": rig})
    if rc == 0:
        return None
    why = f"timed out after {int(cfg.timeout_seconds)}s" if rc == TIMEOUT_STATUS else f"exit status {rc}"
    tail = "\n".join(output.rstrip("\n").splitlines()[-20:])
    return MergeOutcome("failed", mr["id"], commit=new, detail=f"tests {why}:\n{tail}")


def push_and_land(town: Town, rig: str, mr: dict[str, Any], cfg: RefineryConfig, tmp: Path,
                  env: dict[str, str], log: Callable[[str], None]) -> MergeOutcome:
    """Push the tested HEAD of `tmp` to the upstream's target branch, then move the rig's.

    The upstream moved meanwhile (a non-fast-forward): fetch, rebase onto it, test again, push
    again — `cfg.push_attempts` pushes in all. Never forced. Any other refusal, or running out of
    attempts, is a push-failed outcome: the rig's branch has not moved and the polecat's branch is
    kept, so nothing is lost.
    """
    from gastown_tui.infra import git
    from gastown_tui.work import upstream

    bare = town.rig(rig).bare_repo
    target = mr.get("target") or upstream.upstream_of(town, rig).branch
    branch = mr.get("branch") or ""
    old_local = git.rev_parse(bare, f"refs/heads/{target}")
    new = git.rev_parse(tmp, "HEAD")
    url = git.remote_url(bare, upstream.REMOTE) or "the upstream"
    for attempt in range(1, cfg.push_attempts + 1):
        try:
            git.push_ref(bare, new, target, remote=upstream.REMOTE, timeout=cfg.push_timeout)
            break
        except git.RemoteError as e:
            if e.kind != "non-fast-forward":
                upstream.record_push(town, rig, None, error=e.message)
                return MergeOutcome("push-failed", mr["id"], commit=new,
                                    detail=f"{e}; retry with 'gt mq retry {rig} {mr['id']}'")
            if attempt == cfg.push_attempts:
                why = (f"pushing {target} to {url} was refused {attempt} time(s) because the upstream kept "
                       f"moving; the work is tested and waits on {branch}")
                upstream.record_push(town, rig, None, error=why)
                return MergeOutcome("push-failed", mr["id"], commit=new, detail=why)
            log(f"  {url} moved under us; fetching, rebasing and testing again "
                f"(push {attempt}/{cfg.push_attempts} refused)")
        try:
            git.fetch_upstream(bare, remote=upstream.REMOTE, timeout=cfg.fetch_timeout)
        except git.RemoteError as e:
            upstream.record_push(town, rig, None, error=e.message)
            return MergeOutcome("push-failed", mr["id"], commit=new, detail=str(e))
        remote = git.remote_branch_sha(bare, target, upstream.REMOTE)
        if remote:
            bad = _rebase_onto(tmp, remote, env, mr, branch, target) or _run_tests(tmp, mr, rig, cfg, log)
            if bad is not None:
                return bad
            new = git.rev_parse(tmp, "HEAD")
    upstream.record_push(town, rig, new)
    try:
        upstream.set_default_branch(town, rig, target, new, old_local)
    except git.GitError:
        upstream.catch_up(town, rig)  # the rig's branch moved meanwhile; the upstream has both
    _event(town, rig, "mq.pushed", {"mr": mr["id"], "commit": new, "upstream": url})
    return MergeOutcome("merged", mr["id"], commit=new,
                        detail=f"{branch} -> {target} at {new[:8]}, pushed to {url}")


def fast_forward(town: Town, rig: str, target: str, commit: str) -> None:
    """Move `target` to `commit` (a descendant), updating `refinery/rig` when it has it checked out."""
    from gastown_tui.infra import git

    rp = town.rig(rig)
    wt = rp.refinery_worktree
    from gastown_tui.patrols.witness import worktree_branch

    if wt.is_dir() and worktree_branch(wt) == target:
        # The refinery's checkout is ours alone: resync it to its ref, then fast-forward.
        git.run_git(["reset", "-q", "--hard", "HEAD"], wt)
        git.run_git(["merge", "-q", "--ff-only", commit], wt)
    else:
        old = git.rev_parse(rp.bare_repo, f"refs/heads/{target}")
        if not git.git_ok(["merge-base", "--is-ancestor", old, commit], rp.bare_repo):
            raise GtError(f"{target} moved while merging", hint="the MR will be retried")
        git.run_git(["update-ref", f"refs/heads/{target}", commit, old], rp.bare_repo)


# --- one pass ----------------------------------------------------------------------------------------------

@dataclass
class RefineryContext:
    town: Town
    rig: str
    log: Callable[[str], None] = lambda _m: None


def _lock_path(town: Town, rig: str) -> Path:
    return town.locks_dir / f"refinery-{rig}.lock"


def recover(ctx: RefineryContext) -> list[str]:
    """After a crash: MRs stuck in progress go back to the queue, leftover merge worktrees go."""
    store = _store(ctx.town, ctx.rig)
    reset = []
    for mr in store.list(type=MR_TYPE, status="in_progress"):
        if _skip_unsafe(ctx, mr_json(mr)):
            continue
        store.update(mr.id, status="open", assignee=None)
        reset.append(mr.id)
    root = ctx.town.rig(ctx.rig).root / "refinery"
    for p in root.glob(".merge-*") if root.is_dir() else ():
        _drop_worktree(ctx.town.rig(ctx.rig).bare_repo, p)
    for mid in reset:
        ctx.log(f"recovered {mid}: back in the queue after an interrupted merge")
    return reset


_WARNED: set[str] = set()


def _skip_unsafe(ctx: RefineryContext, mr: dict[str, Any]) -> bool:
    """Unsafe MRs are left alone (not merged, closed or cleaned) and reported once per process."""
    why = unsafe_reason(mr)
    if why is not None and mr["id"] not in _WARNED:
        from gastown_tui.beads import ids

        _WARNED.add(mr["id"])
        ctx.log(f"ignoring merge request {ids.shown(mr['id'])}: {why} (see 'bd doctor')")
    return why is not None


def process_next(ctx: RefineryContext, cfg: RefineryConfig) -> MergeOutcome | None:
    """Merge (or send back) the first MR in the queue; None when the queue is empty."""
    from gastown_tui.infra.fsutil import file_lock

    town, rig = ctx.town, ctx.rig
    with file_lock(_lock_path(town, rig)):
        recover(ctx)
        store = _store(town, rig)
        all_mrs = [mr_json(i) for i in store.list(type=MR_TYPE, include_closed=True)]
        # MERGE_READY gates merging: only MRs the witness verified (clean worktree, branch pushed).
        queue = [m for m in queue_order(all_mrs) if m["merge_ready"] and not _skip_unsafe(ctx, m)]
        if not queue or not cfg.enabled:
            return None
        mr = queue[0]
        store.update(mr["id"], status="in_progress", assignee=f"{rig}/refinery")
        ctx.log(f"merging {mr['id']} ({mr['branch']}, bead {mr['source_issue']}, P{mr['priority']})")
        try:
            outcome = rebase_and_test(town, rig, mr, cfg, ctx.log)
        except GtError as e:
            store.update(mr["id"], status="open", assignee=None, mq_result=f"error: {e}")
            ctx.log(f"  {mr['id']}: {e}; left in the queue")
            return MergeOutcome("error", mr["id"], detail=str(e))
        finish(ctx, cfg, mr, outcome, all_mrs)
        return outcome


def finish(ctx: RefineryContext, cfg: RefineryConfig, mr: dict[str, Any], outcome: MergeOutcome,
           all_mrs: list[dict[str, Any]]) -> None:
    from gastown_tui.beads.routes import store_for_id
    from gastown_tui.infra import git
    from gastown_tui.work import escalation, protocol

    town, rig = ctx.town, ctx.rig
    me = f"{rig}/refinery"
    store = _store(town, rig)
    src = mr.get("source_issue") or ""
    worker = mr.get("worker") or ""
    polecat = _polecat_name(worker)
    fields = {"Polecat": polecat, "Rig": rig, "Bead": src, "Branch": mr.get("branch"), "MR": mr["id"]}
    if outcome.kind == "merged":
        store.update(mr["id"], merged_commit=outcome.commit, mq_result="merged")
        store.close(mr["id"], f"merged at {outcome.commit[:12] if outcome.commit else ''}")
        if src:
            try:
                s = store_for_id(town.root, src)
                if s.get(src).status != "closed":
                    s.close(src, f"merged in {outcome.commit[:12] if outcome.commit else ''}", actor=me)
            except GtError as e:
                ctx.log(f"  could not close {src}: {e}")
        bare = town.rig(rig).bare_repo
        br = mr.get("branch") or ""
        from gastown_tui.patrols.witness import worktree_branch

        held = polecat and worktree_branch(town.rig(rig).polecat(polecat)) == br
        if br and not held and git.branch_exists(bare, br):
            git.delete_branch(bare, br, force=True)
        escalation.notify(town, f"{rig}/witness", protocol.subject("MERGED", polecat),
                          protocol.body({**fields, "Commit": outcome.commit}), sender=me, ephemeral=True)
        ctx.log(f"  MERGED {mr['id']}: {outcome.detail}")
        _event(town, rig, "mq.merged", {"mr": mr["id"], "commit": outcome.commit, "bead": src,
                                        "model": mr.get("model")})
        try:
            from gastown_tui.work.convoy import check_convoys

            for cid in check_convoys(town):
                ctx.log(f"  convoy {cid} landed")
        except Exception:  # noqa: BLE001 - the deacon checks convoys too
            pass
        return
    # Sent back: conflict, failed tests, or a missing branch.
    kind = "rework" if outcome.kind == "conflict" else "merge-failed"
    store.update(mr["id"], mq_result=outcome.kind)
    store.close(mr["id"], f"{kind}: {outcome.detail.splitlines()[0] if outcome.detail else outcome.kind}")
    all_mrs = [*(m for m in all_mrs if m["id"] != mr["id"]),
               {**mr, "status": "closed", "close_reason": kind}]
    failures = failure_count(all_mrs, src) if src else 1
    worker_exists = bool(polecat) and town.rig(rig).polecat(polecat).is_dir()
    step = next_step_after_failure(failures, cfg.max_failures, worker_exists)
    if outcome.kind == "push-failed":
        step = "escalate"  # the work is tested and fine; only the overseer can fix the upstream
    note = (f"refinery: {mr['id']} could not merge ({outcome.kind}). " + outcome.detail
            + ("\nRebase onto the default branch, resolve the conflicts in: " + ", ".join(outcome.files)
               if outcome.files else ""))
    if src:
        try:
            s = store_for_id(town.root, src)
            s.add_comment(src, note, author=me)
            if step == "back-to-worker":
                s.update(src, status="hooked", assignee=worker, actor=me)
            elif step == "reopen":
                s.update(src, status="open", assignee=None, actor=me)
            else:
                s.update(src, status="blocked", assignee=None, actor=me)
        except GtError as e:
            ctx.log(f"  could not update {src}: {e}")
    if outcome.kind == "conflict":
        subj, extra = protocol.subject("REWORK_REQUEST", polecat), {"Files": ", ".join(outcome.files)}
    else:
        subj, extra = protocol.subject("MERGE_FAILED", polecat), {"Reason": outcome.detail.splitlines()[0]}
    body = protocol.body({**fields, **extra}, outcome.detail)
    escalation.notify(town, f"{rig}/witness", subj, body, sender=me, ephemeral=True)
    if step == "back-to-worker":
        escalation.notify(town, worker, subj, body, sender=me, ephemeral=True)
        from gastown_tui.patrols.witness import nudge_agent

        nudge_agent(town, Agent("polecat", rig, polecat),
                    f"[refinery] {mr['id']} was sent back ({outcome.kind}); {src} is on your hook again. "
                    f"Run `gt hook`, fix it, then `gt done`.")
    elif step == "escalate":
        pushing = outcome.kind == "push-failed"
        escalation.create_escalation(
            town, f"{rig} cannot push {src or mr['id']} to its upstream" if pushing
            else f"{src or mr['id']} keeps failing to merge in {rig}", severity="high",
            category="merge" if pushing else "conflict" if outcome.kind == "conflict" else "tests",
            issue=src or mr["id"], description=note, actor=me, dedupe=True)
    ctx.log(f"  {subj.split()[0]} {mr['id']}: {outcome.detail.splitlines()[0] if outcome.detail else ''} "
            f"-> {step} (failure {failures}/{cfg.max_failures})")
    _event(town, rig, f"mq.{outcome.kind}", {"mr": mr["id"], "bead": src, "next": step, "model": mr.get("model")})


def fetch_now(town: Town, rig: str) -> dict[str, Any]:
    """Fetch the rig's upstream at once (`gt mq status --fetch`), under the merge lock so the
    default branch never moves under a merge; errors are raised, not escalated."""
    from gastown_tui.infra.fsutil import file_lock
    from gastown_tui.work import upstream

    cfg = RefineryConfig.load(town, rig)
    with file_lock(_lock_path(town, rig)):
        return upstream.fetch(town, rig, timeout=cfg.fetch_timeout)


def sync_upstream(ctx: RefineryContext, cfg: RefineryConfig) -> dict[str, Any]:
    """Fetch the upstream (bounded by a timeout, at most every `cfg.fetch_seconds`) so new polecat
    worktrees branch from its latest default branch; push what the rig has and the upstream lacks
    (after an outage). An unreachable upstream is logged and escalated once; merging goes on."""
    from gastown_tui.infra import git
    from gastown_tui.infra.fsutil import file_lock
    from gastown_tui.work import escalation, upstream

    town, rig = ctx.town, ctx.rig
    up = upstream.upstream_of(town, rig)
    res: dict[str, Any] = {}
    try:
        with file_lock(_lock_path(town, rig)):
            res = upstream.fetch(town, rig, timeout=cfg.fetch_timeout, min_interval=cfg.fetch_seconds)
            if res.get("moved"):
                ctx.log(f"upstream moved: {up.branch} fast-forwarded to {str(res['to'])[:8]}")
            st = upstream.status(town, rig) if res.get("fetched") and up.push else {}
            if st.get("ahead") and st.get("behind") == 0:
                ctx.log(f"pushing {st['ahead']} unpushed commit(s) of {up.branch} to {up.url}")
                try:
                    git.push_ref(town.rig(rig).bare_repo, st["local"], up.branch, remote=upstream.REMOTE,
                                 timeout=cfg.push_timeout)
                except git.RemoteError as e:
                    upstream.record_push(town, rig, None, error=e.message)
                    raise
                upstream.record_push(town, rig, st["local"])
                res["pushed"] = st["local"]
            elif res.get("diverged"):
                ctx.log(f"{up.branch} has diverged from {up.url}; the next merge rebases onto it")
    except git.RemoteError as e:
        ctx.log(f"upstream: {e}")
        if e.kind != "non-fast-forward":  # a race with another pusher settles on the next patrol
            escalation.create_escalation(
                town, f"{rig} cannot reach its upstream", severity="medium", category="infra",
                description=str(e), actor=f"{rig}/refinery", dedupe=True)
        res = {"fetched": False, "error": str(e)}
    return res


def patrol_once(ctx: RefineryContext, cfg: RefineryConfig | None = None, *, drain: bool = True) -> list[MergeOutcome]:
    """Process MRs (all queued ones with `drain`, else one) and write a heartbeat."""
    from gastown_tui.agents.heartbeat import write_heartbeat

    cfg = cfg or RefineryConfig.load(ctx.town, ctx.rig)
    sync_upstream(ctx, cfg)
    outcomes = []
    while True:
        out = process_next(ctx, cfg)
        if out is None:
            break
        outcomes.append(out)
        write_heartbeat(ctx.town, Agent("refinery", ctx.rig).session, role="refinery", rig=ctx.rig, status="merging")
        if not drain or out.kind == "error":
            break
    ack_protocol_mail(ctx)
    write_heartbeat(ctx.town, Agent("refinery", ctx.rig).session, role="refinery", rig=ctx.rig,
                    queue=len(queue_order(list_mrs(ctx.town, ctx.rig))))
    return outcomes


def ack_protocol_mail(ctx: RefineryContext) -> list[str]:
    """MERGE_READY is a wake-up call: the queue reads the MR's `merge_ready` flag in the rig's
    store, never the mail. Once a pass has looked at the queue the mail is consumed, so it is
    marked read; otherwise the refinery's unread count only grows and hides mail a person or an
    agent sent it (which stays unread)."""
    try:
        from gastown_tui.work import mail

        ids = [m["id"] for m in mail.inbox(ctx.town, f"{ctx.rig}/refinery", unread_only=True, msg_type="MERGE_READY")]
        if ids:
            mail.ack(ctx.town, ids)
        return ids
    except Exception as e:  # noqa: BLE001 - mail trouble must not stop the merge queue
        ctx.log(f"could not read the refinery inbox: {e}")
        return []


def run(town: Town, rig: str, *, once: bool = False, log: Callable[[str], None] = lambda _m: None,
        should_stop: Callable[[], bool] = lambda: False) -> None:
    from gastown_tui.patrols.loop import run_patrols
    from gastown_tui.patrols.witness import _sleep_or_wake

    town.require_rig(rig)
    ctx = RefineryContext(town, rig, log)
    run_patrols(f"refinery for rig {rig}", lambda c: patrol_once(ctx, c), lambda: RefineryConfig.load(town, rig),
                rest=lambda c: _sleep_or_wake(town, rig, c.patrol_seconds),
                log=log, once=once, should_stop=should_stop)
