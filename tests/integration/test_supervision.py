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


def test_after_a_tmux_server_loss_the_daemon_brings_the_whole_fleet_back(town, monkeypatch):
    import subprocess
    import time
    import uuid

    from tests.work_helpers import bead, gt_json, sessions

    socket = f"gt-test-loss-{uuid.uuid4().hex[:6]}"  # this test kills its server: its own socket
    monkeypatch.setenv("GT_TMUX_SOCKET", socket)
    try:
        r = gt(town, "up")
        assert r.returncode == 0, r.stdout + r.stderr
        gt_json(town, "sling", bead(town, "hooked work").id, "demo", "--agent", "sleeper", "--no-convoy")
        # a crew member started with another runtime than the town's default keeps it
        add_runtime(town, "napper", "sleep", ["3601"])
        assert gt(town, "crew", "add", "demo", "max").returncode == 0
        r = gt(town, "crew", "at", "max", "--rig", "demo", "--agent", "napper", "--no-attach")
        assert r.returncode == 0, r.stdout + r.stderr
        fleet = {"gt-deacon", "gt-mayor", "gt-demo-witness", "gt-demo-refinery", "gt-demo-furiosa", "gt-demo-crew-max"}
        wait_for(lambda: fleet <= set(sessions(town)), timeout=30, message="the fleet up")
        up_at = time.time()

        def boot_checked_after(t: float):
            import json

            try:
                last = json.loads((town.boot_dir / "state.json").read_text())["last_check"]
            except (FileNotFoundError, ValueError, KeyError):
                return None
            return last > t and last

        # two daemon ticks after the fleet was up: the daemon has seen it on this server
        first = wait_for(lambda: boot_checked_after(up_at), timeout=30, message="a daemon tick")
        wait_for(lambda: boot_checked_after(first), timeout=30, message="another daemon tick")
        assert subprocess.run(["tmux", "-L", socket, "kill-server"]).returncode == 0
        assert sessions(town) == []
        wait_for(lambda: fleet <= set(sessions(town)), timeout=60, interval=0.2,
                 message="the daemon to bring back the deacon, mayor, witness, refinery and the polecat")
        assert daemon.status(town)["running"]
        from gastown_tui.infra.tmux import Tmux

        panes = Tmux(socket).panes()
        assert panes["gt-demo-crew-max"].runtime == "napper" and panes["gt-mayor"].runtime == "sleeper"
    finally:
        gt(town, "down")
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True)


def test_a_server_that_ended_with_its_last_session_is_not_a_loss(town, monkeypatch):
    import uuid

    from gastown_tui.patrols.lifecycle import watch_fleet
    from tests.work_helpers import sessions

    monkeypatch.setenv("GT_TMUX_SOCKET", f"gt-test-quiet-{uuid.uuid4().hex[:6]}")  # no server runs there
    memory = {"server": 4242, "sessions": ["gt-mayor"]}  # the mayor was all there was, and it quit
    assert watch_fleet(town, memory) == []
    assert sessions(town) == [] and memory == {"server": None, "sessions": [], "runtimes": {}}
