"""Every bead is worked once, however many slingers race for it (issue 12, item 5).

The deacon feeds a stranded convoy while a script slings the same beads, twice each, at once;
the sim polecats work, the refinery merges. Each bead must be submitted once and merged once.
"""

from __future__ import annotations

import os
import subprocess
from collections import Counter

import pytest

from gastown_tui.town import events
from tests.conftest import BIN, wait_for
from tests.e2e.test_fleet import fast_settings, fleet, main_files, rig_store  # noqa: F401 - fixture
from tests.work_helpers import gt, gt_json

pytestmark = [pytest.mark.slow, pytest.mark.tmux]


def test_deacon_feeding_a_convoy_while_a_script_slings_the_same_beads_merges_each_once(fleet):  # noqa: F811
    town = fleet
    fast_settings(town)  # the deacon feeds stranded convoys
    ids = [rig_store(town).create(f"Chore {i}", description=f"chore number {i}").id for i in range(4)]
    conv = gt_json(town, "convoy", "create", "four chores", *ids)
    r = gt(town, "up", "--no-mayor")
    assert r.returncode == 0, r.stdout + r.stderr
    argv = [str(BIN / "gt"), "--town", str(town.root), "sling"]
    procs = [subprocess.Popen([*argv, i, "demo", "--agent", "sim", "--no-convoy"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env={**os.environ})
             for i in ids for _ in range(2)]
    outs = [(p, *p.communicate(timeout=120)) for p in procs]
    for p, _, err in outs:  # a lost race is one sentence and exit 1, never a traceback
        assert p.returncode in (0, 1) and "Traceback" not in err, err

    def landed():
        st = rig_store(town)
        return all(st.get(i).status == "closed" for i in ids) and \
            gt_json(town, "convoy", "status", conv["id"])["status"] == "closed"

    wait_for(landed, timeout=170, interval=0.5, message="four beads merged and the convoy landed")
    mrs = rig_store(town).list(type="merge-request", include_closed=True)
    assert Counter(m.get("source_issue") for m in mrs) == Counter(ids)  # each submitted once
    assert all(m.close_reason.startswith("merged") for m in mrs)
    slung = Counter(e["payload"]["bead"] for e in events.read(town.root) if e["type"] == "sling")
    assert slung == Counter(ids)  # each slung once, by whichever slinger won
    files = main_files(town)
    assert all(f"work/{i}.md" in files for i in ids)
