"""The git gateway: every git operation of the product goes through here.

Uses GitPython's command wrapper (``Repo.git`` / ``Git``) so arguments are passed as a list and
never through a shell. Errors come back as ``GitError`` with git's own message in one line.
GitPython is imported lazily: `bd` and `gt --json` listings must start fast.
"""

from __future__ import annotations

import os
from pathlib import Path

from gastown_tui.errors import GtError


class GitError(GtError):
    """A git command failed; the message carries git's stderr, trimmed to its useful line."""


def _git(cwd: Path | str | None = None):
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
    import git

    return git.Git(str(cwd) if cwd else None)


def run_git(args: list[str], cwd: Path | str | None = None, *, env: dict[str, str] | None = None,
            check: bool = True, strip: bool = True) -> str:
    """Run `git ARGS` in `cwd` and return stdout; raise GitError with git's message on failure."""
    import git

    g = _git(cwd)
    try:
        extra = {"env": {**os.environ, **env}} if env else {}
        out = g.execute(["git", *args], with_extended_output=False, strip_newline_in_stdout=strip, **extra)
        return out if isinstance(out, str) else out.decode()
    except git.GitCommandError as e:
        if not check:
            return ""
        msg = (e.stderr or e.stdout or "").strip().replace("stderr: ", "").strip("'\n ")
        lines = [ln.strip() for ln in msg.splitlines() if ln.strip()]
        useful = next((ln for ln in lines if ln.startswith(("fatal:", "error:"))), lines[-1] if lines else str(e))
        raise GitError(f"git {args[0]} failed in {cwd}: {useful}") from None


def git_ok(args: list[str], cwd: Path | str | None = None) -> bool:
    """True when `git ARGS` exits 0 (for questions like 'does this ref exist?')."""
    import git

    try:
        _git(cwd).execute(["git", *args])
        return True
    except git.GitCommandError:
        return False


def is_git_repo(path: Path) -> bool:
    return path.is_dir() and git_ok(["rev-parse", "--git-dir"], path)


def init_repo(path: Path, *, initial_branch: str = "main") -> None:
    path.mkdir(parents=True, exist_ok=True)
    run_git(["init", "-q", "-b", initial_branch], path)


def commit_all(path: Path, message: str, *, author: str | None = None, email: str | None = None,
               paths: list[str] | None = None, allow_empty: bool = False) -> bool:
    """Stage `paths` (default: everything) and commit; return False when there was nothing to commit."""
    run_git(["add", "-A", "--", *(paths or ["."])], path)
    if not allow_empty and git_ok(["diff", "--cached", "--quiet"], path):
        return False
    env = _identity_env(author, email)
    run_git(["commit", "-q", "--no-verify", "-m", message, *(["--allow-empty"] if allow_empty else [])], path, env=env)
    return True


def _identity_env(author: str | None, email: str | None) -> dict[str, str]:
    """Commits must work on a machine with no git identity configured."""
    name = author or os.environ.get("GIT_AUTHOR_NAME") or _config_value("user.name") or "gastown"
    mail = email or os.environ.get("GIT_AUTHOR_EMAIL") or _config_value("user.email") or "gastown@localhost"
    return {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": mail,
            "GIT_COMMITTER_NAME": os.environ.get("GIT_COMMITTER_NAME") or name,
            "GIT_COMMITTER_EMAIL": os.environ.get("GIT_COMMITTER_EMAIL") or mail}


def _config_value(key: str, cwd: Path | None = None) -> str | None:
    out = run_git(["config", "--get", key], cwd, check=False)
    return out or None


def user_identity() -> tuple[str | None, str | None]:
    return _config_value("user.name"), _config_value("user.email")


def clone_bare(source: str, dest: Path) -> None:
    run_git(["clone", "-q", "--bare", source, str(dest)])
    # A bare clone has no fetch refspec. The upstream's branches go to refs/remotes/origin/*:
    # never straight onto refs/heads/*, where a fetch would overwrite merged-but-unpushed work.
    run_git(["config", "remote.origin.fetch", UPSTREAM_REFSPEC], dest)


def clone(source: str | Path, dest: Path, *, branch: str | None = None) -> None:
    run_git(["clone", "-q", *(["-b", branch] if branch else []), str(source), str(dest)])


def default_branch_of(bare_repo: Path) -> str:
    """The branch HEAD names in a (bare) repository."""
    ref = run_git(["symbolic-ref", "--quiet", "HEAD"], bare_repo, check=False)
    return ref.removeprefix("refs/heads/") if ref else "main"


def branch_exists(repo: Path, branch: str) -> bool:
    return git_ok(["show-ref", "--verify", "--quiet", f"refs/heads/{branch}"], repo)


def rev_parse(repo: Path, rev: str) -> str:
    return run_git(["rev-parse", rev], repo)


def _common_dir(repo: Path) -> Path:
    repo = Path(repo)
    if (repo / "HEAD").is_file() and (repo / "objects").is_dir():  # a bare repository (or a .git dir)
        return repo
    return Path(run_git(["rev-parse", "--path-format=absolute", "--git-common-dir"], repo))


def _repo_lock(repo: Path):
    """Serialise our worktree and branch changes per repository.

    git refuses a second writer of the same repository's config or worktree list ("could not
    lock config file config: File exists") instead of waiting, so three slings into one rig at
    once would fail; they queue on this lock instead.
    """
    from gastown_tui.infra.fsutil import file_lock

    return file_lock(_common_dir(repo) / "gt-worktrees.lock")


def worktree_add(repo: Path, dest: Path, branch: str, *, new_branch: bool = False, base: str | None = None) -> None:
    with _repo_lock(repo):
        if new_branch:
            run_git(["worktree", "add", "-q", "-b", branch, str(dest), *([base] if base else [])], repo)
        else:
            run_git(["worktree", "add", "-q", str(dest), branch], repo)


def worktree_add_detached(repo: Path, dest: Path, rev: str) -> None:
    """A scratch worktree at `rev` with no branch checked out (the refinery rebases there)."""
    with _repo_lock(repo):
        run_git(["worktree", "add", "-q", "--detach", str(dest), rev], repo)


def worktree_remove(repo: Path, dest: Path, *, force: bool = False, check: bool = True) -> None:
    with _repo_lock(repo):
        run_git(["worktree", "remove", *(["--force"] if force else []), str(dest)], repo, check=check)
        run_git(["worktree", "prune"], repo, check=False)


def worktree_prune(repo: Path) -> None:
    with _repo_lock(repo):
        run_git(["worktree", "prune"], repo, check=False)


def delete_branch(repo: Path, branch: str, *, force: bool = False) -> None:
    with _repo_lock(repo):
        run_git(["branch", "-D" if force else "-d", branch], repo)


def status_porcelain(path: Path) -> str:
    return run_git(["status", "--porcelain"], path)


def current_branch(path: Path) -> str:
    return run_git(["rev-parse", "--abbrev-ref", "HEAD"], path)


# --- beads (bd init / bd sync) ---------------------------------------------------------------------

BEADS_ATTRIBUTES_LINE = ".beads/issues.jsonl merge=beads"


def repo_root(path: Path) -> Path:
    return Path(run_git(["rev-parse", "--show-toplevel"], path))


def register_beads_merge_driver(path: Path, bd_command: str) -> None:
    """Make git merge .beads/issues.jsonl with `bd merge BASE LEFT RIGHT` (result written to LEFT)."""
    root = repo_root(path)
    attrs = root / ".gitattributes"
    rel = os.path.relpath(Path(path).resolve() / ".beads" / "issues.jsonl", root.resolve())
    line = f"{rel} merge=beads"
    text = attrs.read_text(encoding="utf-8") if attrs.exists() else ""
    if line not in text.splitlines():
        from gastown_tui.infra.fsutil import atomic_write_text

        atomic_write_text(attrs, text + ("" if not text or text.endswith("\n") else "\n") + line + "\n")
    run_git(["config", "merge.beads.name", "bd field-level JSONL merge driver"], root)
    run_git(["config", "merge.beads.driver", f"{bd_command} merge %O %A %B"], root)


def has_remote(path: Path) -> bool:
    return bool(run_git(["remote"], path, check=False).strip())


def sync_paths(path: Path, paths: list[str], message: str, *, author: str | None = None,
               pull_push: bool = True, lock=None, attempts: int = 3) -> dict[str, bool]:
    """Commit `paths` (the beads files); with a remote: pull (a merge, so `.gitattributes`' beads
    driver merges issues.jsonl field by field) and push, pulling again when someone pushed in
    between (bounded). `lock()` is held while the pull rewrites the files (the store's lock).

    A pull that still conflicts is aborted (the commit stays), so nothing is lost."""
    import contextlib

    committed = False
    run_git(["add", "-A", "--", *paths], path)
    if not git_ok(["diff", "--cached", "--quiet", "--", *paths], path):
        env = _identity_env(author, None)
        run_git(["commit", "-q", "--no-verify", "-m", message, "--", *paths], path, env=env)
        committed = True
    pulled = pushed = False
    if not (pull_push and has_remote(path)):
        return {"committed": committed, "pulled": pulled, "pushed": pushed}
    branch = current_branch(path)
    upstream = run_git(["rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{u}"], path, check=False)
    if not upstream:
        remote = run_git(["remote"], path).split()[0]
        rc, _o, err = _execute(["push", "-q", "-u", remote, branch], path, env=_batch_env(), timeout=120)
        if rc != 0:
            raise _remote_error(f"pushing {branch} to", remote_url(path, remote), err, rc)
        return {"committed": committed, "pulled": False, "pushed": True}
    remote = upstream.split("/", 1)[0]
    env = _identity_env(author, None)
    for attempt in range(1, attempts + 1):
        with lock() if lock else contextlib.nullcontext():
            rc, _o, err = _execute(["pull", "-q", "--no-rebase", "--no-edit", remote, upstream.split("/", 1)[1]],
                                   path, env={**_batch_env(), **env}, timeout=120)
            if rc != 0:
                files = [f for f in run_git(["diff", "--name-only", "--diff-filter=U"], path,
                                            check=False).splitlines() if f]
                if files:
                    run_git(["merge", "--abort"], path, check=False)
                    raise GitError(f"pulling into {path} conflicts in {', '.join(files)}; the merge was undone "
                                   "and your commit kept",
                                   hint="resolve it by hand with 'git pull', then run 'bd sync' again")
                raise _remote_error("pulling from", remote_url(path, remote), err, rc)
        pulled = True
        rc, _o, err = _execute(["push", "-q", remote, f"HEAD:refs/heads/{upstream.split('/', 1)[1]}"], path,
                               env=_batch_env(), timeout=120)
        if rc == 0:
            pushed = True
            break
        e = _remote_error(f"pushing {branch} to", remote_url(path, remote), err, rc)
        if e.kind != "non-fast-forward" or attempt == attempts:
            raise e
    return {"committed": committed, "pulled": pulled, "pushed": pushed}


def repoint_origin(clone: Path, url: str, rig_repo: Path, branch: str, *, fetch: bool = True,
                   timeout: float = 60.0) -> None:
    """Make `url` the clone's `origin` (where its pushes to `branch` go); the rig's bare repo
    stays reachable as the `rig` remote."""
    run_git(["remote", "set-url", "origin", url], clone)
    if not remote_url(clone, "rig"):
        run_git(["remote", "add", "rig", str(rig_repo)], clone)
    if fetch:
        fetch_upstream(clone, remote="origin", timeout=timeout)
        run_git(["merge", "-q", "--ff-only", f"origin/{branch}"], clone, check=False)
    run_git(["branch", "-q", f"--set-upstream-to=origin/{branch}", branch], clone, check=False)


# --- work distribution (sling, done, polecats, crew) ----------------------------------------------

def switch_new_branch(worktree: Path, branch: str, base: str) -> None:
    """In an existing worktree, create `branch` at `base` and check it out."""
    with _repo_lock(worktree):
        run_git(["switch", "-q", "-c", branch, base], worktree)


def switch_branch(worktree: Path, branch: str) -> None:
    run_git(["switch", "-q", branch], worktree)


def commits_ahead(repo: Path, branch: str, base: str) -> int:
    """How many commits `branch` has that `base` does not (0 when merged or empty)."""
    out = run_git(["rev-list", "--count", f"{base}..{branch}"], repo, check=False)
    return int(out) if out.strip().isdigit() else 0


# A worktree's own change leaves out the shared `.beads` store (its JSONL is bookkeeping).
WORK_PATHSPEC = ("--", ".", ":(exclude).beads")


def worktree_facts(path: Path, base: str) -> tuple[int, int]:
    """(commits ahead of `base`, dirty files) of a worktree, the `.beads` store left out."""
    ahead = commits_ahead(path, "HEAD", base)
    dirty = sum(1 for ln in run_git(["status", "--porcelain", *WORK_PATHSPEC], path, check=False).splitlines() if ln)
    return ahead, dirty


def head_sha(path: Path) -> str:
    return run_git(["rev-parse", "HEAD"], path)


def branch_sha(repo: Path, branch: str) -> str | None:
    out = run_git(["rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"], repo, check=False)
    return out or None


def update_ref(repo: Path, branch: str, sha: str) -> None:
    run_git(["update-ref", f"refs/heads/{branch}", sha], repo)


def list_branches(repo: Path, pattern: str = "refs/heads/") -> list[str]:
    out = run_git(["for-each-ref", "--format=%(refname:short)", pattern], repo, check=False)
    return [b for b in out.splitlines() if b.strip()]


def set_config(repo: Path, key: str, value: str) -> None:
    run_git(["config", key, value], repo)


# --- the rig's upstream (refinery push/fetch, crew, gt mq status) ---------------------------------

UPSTREAM_REFSPEC = "+refs/heads/*:refs/remotes/origin/*"

# No prompt ever waits for a password in a patrol; ssh gives up instead of hanging. git's own
# messages in English, because a refusal is told apart by its words.
_BATCH_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true", "SSH_ASKPASS": "true", "LC_ALL": "C"}


def _batch_env() -> dict[str, str]:
    env = dict(_BATCH_ENV)
    if not os.environ.get("GIT_SSH_COMMAND"):
        env["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes -o ConnectTimeout=10"
    return env


def _execute(args: list[str], cwd: Path | str | None, *, timeout: float | None = None,
             env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """(status, stdout, stderr) of `git ARGS`, killed after `timeout` seconds (status -9 then)."""
    g = _git(cwd)
    try:
        rc, out, err = g.execute(["git", *args], with_extended_output=True, with_exceptions=False,
                                 kill_after_timeout=timeout, env={**os.environ, **(env or {})})
    except OSError as e:  # git itself could not start
        return 127, "", str(e)
    out = out if isinstance(out, str) else (out or b"").decode("utf-8", "replace")
    err = err if isinstance(err, str) else (err or b"").decode("utf-8", "replace")
    if rc is None:  # killed by kill_after_timeout
        rc = -9
    return int(rc), out, err


def remote_url(repo: Path, remote: str = "origin") -> str | None:
    out = run_git(["remote", "get-url", remote], repo, check=False)
    return out or None


def is_bare_repo(path: Path) -> bool:
    return path.is_dir() and run_git(["rev-parse", "--is-bare-repository"], path, check=False) == "true"


class RemoteError(GitError):
    """A fetch or push to the upstream failed; `kind` says how (the refinery acts on it)."""

    def __init__(self, kind: str, message: str, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.kind = kind  # non-fast-forward | rejected | unreachable | auth | timeout | error


def _classify(err: str, rc: int) -> str:
    low = err.lower()
    if rc == -9:
        return "timeout"
    if "(fetch first)" in low or "non-fast-forward" in low or "[rejected]" in low and "stale info" not in low:
        return "non-fast-forward"
    if "[remote rejected]" in low or "hook declined" in low or "protected branch" in low:
        return "rejected"
    if ("authentication failed" in low or "permission denied" in low or "could not read username" in low
            or "403" in low):
        return "auth"
    if ("could not read from remote" in low or "does not appear to be a git repository" in low
            or "could not resolve host" in low or "connection refused" in low or "unable to access" in low
            or "connection timed out" in low or "no such file or directory" in low):
        return "unreachable"
    return "error"


def _remote_reason(err: str) -> str:
    """git's most telling words about a failed push or fetch, with what the upstream itself said."""
    import re

    lines = [ln.strip() for ln in err.splitlines() if ln.strip()]
    said = [ln[len("remote:"):].strip() for ln in lines if ln.startswith("remote:")]
    said = [t for t in said if t and not t.lower().startswith(("error: failed to push", "to "))][:2]
    reason = ""
    for ln in lines:
        m = re.search(r"\[(remote rejected|rejected)\][^(]*\((.*)\)\s*$", ln)
        if m:
            reason = f"{m.group(1).replace('remote rejected', 'the upstream refused it')} ({m.group(2)})"
            break
    if not reason:
        reason = next((ln for key in ("fatal:", "error:") for ln in lines
                       if ln.startswith(key) and "failed to push some refs" not in ln),
                      lines[-1] if lines else "no output")
        reason = reason.removeprefix("fatal: ").removeprefix("error: ")
    text = reason + (": " + " ".join(said) if said else "")
    return text[:300]


_REMOTE_HINTS = {
    "non-fast-forward": "someone else pushed first; fetch and rebase, then push again",
    "rejected": "the upstream refused the push (a hook or a protected branch); fix that there, then push again",
    "auth": "the upstream refused our credentials; set up access for this machine (ssh key or credential helper)",
    "unreachable": "check the rig's git_url and the network; nothing was lost, the work waits in the rig",
    "timeout": "the upstream did not answer in time; check the network; nothing was lost",
    "error": "see the git message; nothing was lost",
}


def _remote_error(what: str, url: str | None, err: str, rc: int) -> RemoteError:
    kind = _classify(err, rc)
    where = url or "the upstream"
    if kind == "timeout":
        return RemoteError(kind, f"{what} {where} timed out", hint=_REMOTE_HINTS[kind])
    return RemoteError(kind, f"{what} {where} failed: {_remote_reason(err)}", hint=_REMOTE_HINTS[kind])


def fetch_upstream(repo: Path, *, remote: str = "origin", timeout: float = 60.0) -> None:
    """Fetch the upstream's branches into refs/remotes/<remote>/* (never onto local branches)."""
    if is_bare_repo(repo) and run_git(["config", "--get", f"remote.{remote}.fetch"], repo, check=False) \
            == "+refs/heads/*:refs/heads/*":  # rigs added before: a plain `git fetch` would clobber main
        run_git(["config", f"remote.{remote}.fetch", UPSTREAM_REFSPEC.replace("origin", remote)], repo)
    rc, _out, err = _execute(["fetch", "-q", "--prune", "--no-tags", remote,
                              f"+refs/heads/*:refs/remotes/{remote}/*"], repo, timeout=timeout, env=_batch_env())
    if rc != 0:
        raise _remote_error("fetching from", remote_url(repo, remote), err, rc)


def push_ref(repo: Path, commit: str, branch: str, *, remote: str = "origin", timeout: float = 120.0) -> None:
    """Push `commit` to `branch` on the upstream. Never forced: a moved upstream is a non-fast-forward."""
    rc, _out, err = _execute(["push", "-q", "--no-verify", remote, f"{commit}:refs/heads/{branch}"], repo,
                             timeout=timeout, env=_batch_env())
    if rc != 0:
        raise _remote_error(f"pushing {branch} to", remote_url(repo, remote), err, rc)
    # Record what the upstream now has, as a fetch would.
    run_git(["update-ref", f"refs/remotes/{remote}/{branch}", commit], repo, check=False)


def ahead_behind(repo: Path, local: str, upstream: str) -> tuple[int, int] | None:
    """(commits only in `local`, commits only in `upstream`); None when either is unknown."""
    out = run_git(["rev-list", "--left-right", "--count", f"{local}...{upstream}"], repo, check=False)
    parts = out.split()
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return None
    return int(parts[0]), int(parts[1])


def is_ancestor(repo: Path, older: str, newer: str) -> bool:
    return git_ok(["merge-base", "--is-ancestor", older, newer], repo)


def remote_branch_sha(repo: Path, branch: str, remote: str = "origin") -> str | None:
    out = run_git(["rev-parse", "--verify", "--quiet", f"refs/remotes/{remote}/{branch}"], repo, check=False)
    return out or None


def move_branch(repo: Path, branch: str, new: str, old: str) -> None:
    """Compare-and-set `branch` from `old` to `new` (git refuses when it moved meanwhile)."""
    run_git(["update-ref", f"refs/heads/{branch}", new, old], repo)
