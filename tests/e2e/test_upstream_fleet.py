"""A sim convoy lands on the user's repository: a rig added from a bare upstream, the real patrol
loops in tmux, sim polecats — and somebody else pushing to the same upstream meanwhile."""

from __future__ import annotations

import subprocess

import pytest

from gastown_tui.beads.store import Store
from tests.conftest import wait_for
from tests.e2e.test_fleet import fast_settings
from tests.work_helpers import gt, gt_json, other_clone, push_from

pytestmark = [pytest.mark.slow, pytest.mark.tmux]


@pytest.fixture
def up_fleet(up_town):
    yield up_town
    gt(up_town, "down")
    from gastown_tui.infra.tmux import Tmux

    tm = Tmux.for_town(up_town)
    for s in tm.list_sessions():
        tm.kill_session(s)


def upstream_files(upstream) -> list[str]:
    out = subprocess.run(["git", "-C", str(upstream), "ls-tree", "-r", "--name-only", "main"],
                         capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_sim_convoy_lands_on_the_upstream_while_others_push(up_fleet, upstream, tmp_path):
    town = up_fleet
    fast_settings(town, **{"deacon.feed_convoys": False, "refinery.fetch_seconds": 1})
    store = Store(town.rig("demo").beads_dir)
    ids = [store.create(f"Feature {i}", description=f"implement feature {i}").id for i in range(3)]
    conv = gt_json(town, "convoy", "create", "three features", *ids)
    r = gt(town, "up", "--no-mayor")
    assert r.returncode == 0, r.stdout + r.stderr
    r = gt(town, "sling", *ids, "demo", "--agent", "sim", "--no-convoy")
    assert r.returncode == 0, r.stderr
    theirs = push_from(other_clone(tmp_path, upstream), "theirs.txt", "theirs\n", "someone else's work")

    def landed():
        files = upstream_files(upstream)
        return all(f"work/{i}.md" in files for i in ids) and \
            gt_json(town, "convoy", "status", conv["id"])["status"] == "closed"

    wait_for(landed, timeout=150, interval=0.5, message="the convoy's work on the upstream")
    assert "theirs.txt" in upstream_files(upstream)  # nothing of theirs was overwritten
    assert subprocess.run(["git", "-C", str(upstream), "merge-base", "--is-ancestor", theirs, "main"]).returncode == 0
    st = gt_json(town, "mq", "status", "demo")["upstream"]
    assert st["ahead"] == 0 and st["push_error"] is None
