"""The git gateway under concurrency: slings adding worktrees while the witness deletes branches."""

from __future__ import annotations

import subprocess
import sys
import time

from tests.conftest import make_git_repo

WORKER = """
import sys, time
from pathlib import Path
from gastown_tui.infra import git
op, bare, arg, go = sys.argv[1], Path(sys.argv[2]), sys.argv[3], float(sys.argv[4])
while time.time() < go:
    pass
for i in range(8):
    if op == "add":
        git.worktree_add(bare, Path(f"{arg}-{i}"), f"{Path(arg).name}-{i}", new_branch=True, base="main")
    else:
        git.delete_branch(bare, f"{arg}-{i}", force=True)
"""


def test_worktree_adds_and_branch_deletes_in_one_repository_at_once_all_succeed(tmp_path):
    # Concurrent `git worktree add`s into one repository race on its worktree list ("failed to
    # read worktrees/<name>/commondir") and `git branch -D` rewrites its config, refusing a
    # second writer ("could not lock config file"): three slings at once failed in CI.
    src = make_git_repo(tmp_path / "src")
    bare = tmp_path / "repo.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(src), str(bare)], check=True)
    for w in range(6):
        for i in range(8):
            subprocess.run(["git", "-C", str(bare), "branch", f"old{w}-{i}", "main"], check=True)
    go = time.time() + 2.0  # every worker starts at the same moment
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, "add", str(bare), str(tmp_path / f"wt{w}"), str(go)],
                              stderr=subprocess.PIPE, text=True) for w in range(6)]
    procs += [subprocess.Popen([sys.executable, "-c", WORKER, "delete", str(bare), f"old{w}", str(go)],
                               stderr=subprocess.PIPE, text=True) for w in range(6)]
    errors = [p.communicate(timeout=180)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 12, "\n".join(e.strip().splitlines()[-1] for e in errors if e)
    branches = subprocess.run(["git", "-C", str(bare), "branch", "--format=%(refname:short)"],
                              capture_output=True, text=True, check=True).stdout.split()
    assert sorted(b for b in branches if b != "main") == sorted(f"wt{w}-{i}" for w in range(6) for i in range(8))
    assert all((tmp_path / f"wt{w}-{i}" / "README.md").exists() for w in range(6) for i in range(8))
