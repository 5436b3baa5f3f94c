"""`gt rig remove --force` stops the rig's sessions first; nothing brings the rig back afterwards."""

from __future__ import annotations

import time

import pytest

from gastown_tui.agents.heartbeat import read_heartbeat
from gastown_tui.town.config import load_settings
from gastown_tui.town.identity import Agent
from tests.conftest import wait_for
from tests.work_helpers import (sleeper_town,  # noqa: F401 - fixture
                                bead, gt, gt_json, one_sentence, sessions)

pytestmark = pytest.mark.tmux


@pytest.fixture
def fleet_town(sleeper_town):  # noqa: F811
    yield sleeper_town
    gt(sleeper_town, "down")


def test_rig_remove_force_stops_witness_refinery_polecats_and_crew_first(fleet_town):
    town = fleet_town
    s = load_settings(town.root)
    for k, v in {"deacon.patrol_seconds": 1, "witness.patrol_seconds": 1, "refinery.patrol_seconds": 1}.items():
        s.set(k, v)
    s.save()
    r = gt(town, "up", "--no-mayor")
    assert r.returncode == 0, r.stdout + r.stderr
    gt_json(town, "sling", bead(town, "busy work").id, "demo", "--agent", "sleeper", "--no-convoy")
    from gastown_tui.agents.sessions import start_agent
    from gastown_tui.work.crew import add_crew

    add_crew(town, "demo", "ann")
    start_agent(town, Agent("crew", "demo", "ann"), runtime="sleeper")
    rig_sessions = {"gt-demo-witness", "gt-demo-refinery", "gt-demo-furiosa", "gt-demo-crew-ann"}
    wait_for(lambda: rig_sessions <= set(sessions(town)), timeout=30, message="the rig's four sessions")
    r = gt(town, "rig", "remove", "demo")
    assert r.returncode == 1 and "has running sessions" in one_sentence(r)
    assert town.rig("demo").root.is_dir()

    r = gt(town, "rig", "remove", "demo", "--force")
    assert r.returncode == 0, r.stderr
    assert not [x for x in sessions(town) if x.startswith("gt-demo-")]
    assert not town.rig("demo").root.exists()
    assert "demo" not in town.rigs()
    assert "gt-demo-witness" in r.stdout  # it says what it stopped
    # Two whole deacon patrols later (the deacon restarts missing witnesses), nothing came back.
    def finished_patrol_after(t: float):
        hb = read_heartbeat(town, "gt-deacon")
        return hb is not None and "landed" in hb and hb["ts"] > t and hb["ts"]

    removed_at = time.time()
    t = wait_for(lambda: finished_patrol_after(removed_at), timeout=30, message="a deacon patrol")
    wait_for(lambda: finished_patrol_after(t), timeout=30, message="another deacon patrol")
    assert not [x for x in sessions(town) if x.startswith("gt-demo-")]
    assert not town.rig("demo").root.exists()


def test_a_witness_of_a_removed_rig_stops_and_writes_nothing(sleeper_town):  # noqa: F811
    """A witness run outside tmux (or one that outlived its session) must not bring the rig back."""
    import threading

    from gastown_tui.patrols import witness
    from gastown_tui.town.rigs import remove_rig

    town = sleeper_town
    s = load_settings(town.root)
    s.set("witness.patrol_seconds", 1)
    s.save()
    passes: list[str] = []
    loop = threading.Thread(target=witness.run, args=(town, "demo"), kwargs={"log": passes.append}, daemon=True)
    loop.start()
    wait_for(lambda: (town.rig("demo").witness_dir / "state.json").exists(), timeout=30, message="a witness pass")
    remove_rig(town, "demo", force=True)
    loop.join(timeout=60)
    assert not loop.is_alive()  # the loop noticed its rig is gone and ended
    assert not town.rig("demo").root.exists()
    assert witness.patrol_once(witness.WitnessContext(town, "demo"), witness.WitnessConfig()) == []
    assert not town.rig("demo").root.exists()
