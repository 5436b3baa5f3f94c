"""A refinery killed mid-test leaves nothing running, and its next start finishes the merge."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from gastown_tui.beads.store import Store
from gastown_tui.infra.proc import pid_alive, run_command
from tests.conftest import BIN, wait_for
from tests.integration.test_refinery import main_file, make_mr
from tests.work_helpers import gt


def pids_running(argv: list[str]) -> list[int]:
    """Processes whose command line is exactly `argv`."""
    want = "\0".join(argv) + "\0"
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if (d / "cmdline").read_text() == want and pid_alive(int(d.name)):
                    out.append(int(d.name))
            except OSError:
                pass
    return out


def test_a_killed_refinerys_test_command_dies_with_it_and_the_next_start_recovers(rig_town, tmp_path):
    town = rig_town
    marker = ["sleep", "3017"]  # a duration no other test uses, to find exactly this process
    r = gt(town, "rig", "config", "set", "demo", "merge_queue.test_command", " ".join(marker))
    assert r.returncode == 0, r.stderr
    bead, mr, _, _ = make_mr(town, "some work", "nux", {"a.txt": "a\n"})
    log = open(tmp_path / "refinery.log", "wb")  # noqa: SIM115 - closed below
    ref = subprocess.Popen([str(BIN / "gt"), "--town", str(town.root), "refinery", "run", "demo"],
                           stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        (sleeper,) = wait_for(lambda: pids_running(marker), timeout=30, message="the test command to start")
        os.kill(ref.pid, signal.SIGKILL)
        ref.wait(timeout=10)
    finally:
        if ref.poll() is None:
            ref.kill()
        log.close()
    wait_for(lambda: not pid_alive(sleeper), timeout=15, message="the test command to go with the refinery")
    assert Store(town.rig("demo").beads_dir).get(mr.id).status == "in_progress"  # interrupted mid-merge
    # The next start puts the MR back in the queue, drops the scratch worktree and merges.
    r = gt(town, "rig", "config", "set", "demo", "merge_queue.test_command", "true")
    assert r.returncode == 0, r.stderr
    r = gt(town, "refinery", "run", "demo", "--once")
    assert r.returncode == 0, r.stdout + r.stderr
    store = Store(town.rig("demo").beads_dir)
    assert store.get(mr.id).status == "closed" and store.get(mr.id).close_reason.startswith("merged")
    assert store.get(bead.id).status == "closed"
    assert main_file(town, "a.txt") == "a\n"
    assert not list((town.rig("demo").root / "refinery").glob(".merge-*"))


def test_a_test_command_runs_in_its_own_group_and_nothing_it_started_outlives_it(tmp_path):
    marker = ["sleep", "3019"]
    rc, out = run_command(f"{' '.join(marker)} >/dev/null 2>&1 & echo started; ps -o pgid= -p $$", timeout=30)
    assert rc == 0 and out.startswith("started"), out
    assert int(out.split()[1]) != os.getpgid(0)  # not in our process group
    wait_for(lambda: not pids_running(marker), timeout=15, message="the command's leftover to be killed")
    # A leftover that keeps the output pipe open does not hold the caller until the timeout.
    rc, out = run_command("sleep 3023 & echo started", timeout=60)
    assert (rc, out) == (0, "started\n")
    wait_for(lambda: not pids_running(["sleep", "3023"]), timeout=15, message="the leftover holding the pipe")
    rc, out = run_command("sleep 3021", timeout=0.5)
    assert rc == 124 and "timed out" in out
    wait_for(lambda: not pids_running(["sleep", "3021"]), timeout=15, message="the timed-out command to be killed")
