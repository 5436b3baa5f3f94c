"""Supervision of the supervisors: the deacon restarts a killed daemon; after a tmux server loss the
daemon's tick brings the whole fleet back, mayor included."""

from __future__ import annotations

import os
import signal

import pytest

from gastown_tui.patrols import daemon
from gastown_tui.town.config import load_settings
from tests.conftest import wait_for
from tests.work_helpers import add_runtime, gt

pytestmark = pytest.mark.tmux


@pytest.fixture
def town(rig_town):
    add_runtime(rig_town, "sleeper", "sleep", ["3600"])
    s = load_settings(rig_town.root)
    for k, v in {"default_agent": "sleeper", "daemon.tick_seconds": 1, "deacon.patrol_seconds": 1,
                 "witness.patrol_seconds": 1, "refinery.patrol_seconds": 1}.items():
        s.set(k, v)
    s.save()
    yield rig_town
    gt(rig_town, "down")


def test_the_deacon_restarts_a_killed_daemon(town):
    r = gt(town, "up", "--no-mayor")
    assert r.returncode == 0, r.stdout + r.stderr
    st = daemon.status(town)
    assert st["running"]
    os.kill(st["pid"], signal.SIGKILL)
    back = wait_for(lambda: (s := daemon.status(town))["running"] and s["pid"] != st["pid"] and s,
                    timeout=30, interval=0.2, message="the deacon to restart the daemon")
    assert back["pid"] != st["pid"]
    # A daemon stopped on purpose stays stopped.
    r = gt(town, "daemon", "stop")
    assert r.returncode == 0, r.stderr
    assert not daemon.crashed(town)
    from gastown_tui.patrols.deacon import DeaconConfig, DeaconContext, patrol_once

    rep = patrol_once(DeaconContext(town), DeaconConfig(feed_convoys=False))
    assert rep["daemon"] is None and not daemon.status(town)["running"]
