"""The polecat name pool: order, reuse, overflow, themes, custom names, and racing allocations."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gastown_tui.agents import namepool
from gastown_tui.errors import Conflict, UsageError


def test_default_theme_has_about_fifty_unique_names():
    names = namepool.THEMES["mad-max"]
    assert 45 <= len(names) <= 60
    assert len(set(names)) == len(names)
    for theme in namepool.THEMES.values():
        for n in theme:
            namepool.check_name(n)


def test_first_free_name_wins_and_freed_names_come_back(rig_town):
    first = namepool.THEMES["mad-max"][:3]
    got = [namepool.allocate(rig_town, "demo")[0] for _ in range(3)]
    assert got == list(first)
    namepool.release(rig_town, "demo", first[1])
    assert namepool.allocate(rig_town, "demo")[0] == first[1]
    assert namepool.allocate(rig_town, "demo")[0] == namepool.THEMES["mad-max"][3]


def test_numbered_overflow_past_the_list(rig_town):
    namepool.add_names(rig_town, "demo", ["zed"])
    namepool.set_theme(rig_town, "wasteland", rig="demo")
    names = namepool.rig_names(rig_town, "demo")
    assert names[-1] == "zed" and names[0] == "ash"
    for _ in names:
        namepool.allocate(rig_town, "demo")
    assert namepool.allocate(rig_town, "demo")[0] == "wasteland_1"
    assert namepool.allocate(rig_town, "demo")[0] == "wasteland_2"


def test_preferred_name_and_bad_names(rig_town):
    assert namepool.allocate(rig_town, "demo", preferred="bob")[0] == "bob"
    with pytest.raises(Conflict):
        namepool.allocate(rig_town, "demo", preferred="bob")
    with pytest.raises(UsageError):
        namepool.allocate(rig_town, "demo", preferred="crew")
    with pytest.raises(UsageError):
        namepool.set_theme(rig_town, "nope")


def test_town_theme_setting_applies_when_the_rig_has_none(rig_town):
    namepool.set_theme(rig_town, "minerals")
    assert namepool.rig_theme(rig_town, "demo") == "minerals"
    assert namepool.allocate(rig_town, "demo")[0] == "agate"


def test_racing_processes_never_get_the_same_name(rig_town):
    code = ("import sys; from gastown_tui.town.layout import Town; from gastown_tui.agents import namepool; "
            "from pathlib import Path; print(namepool.allocate(Town(Path(sys.argv[1])), 'demo')[0])")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(rig_town.root)], stdout=subprocess.PIPE, text=True)
             for _ in range(8)]
    names = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert len(set(names)) == 8
    assert sorted(names) == sorted(namepool.THEMES["mad-max"][:8])


def test_namepool_cli_shapes(rig_town):
    from tests.work_helpers import gt, gt_json

    themes = gt_json(rig_town, "namepool", "themes")
    assert set(themes) >= {"mad-max", "minerals", "wasteland"}
    assert gt(rig_town, "namepool", "add", "demo", "zed").returncode == 0
    s = gt_json(rig_town, "namepool", "show", "demo")
    assert s["theme"] == "mad-max" and s["names"][-1] == "zed" and s["in_use"] == []
    r = gt(rig_town, "namepool", "set", "bogus", "--rig", "demo")
    assert r.returncode == 2 and "not a name theme" in r.stderr
    assert json.loads((rig_town.rig("demo").config_json).read_text())["namepool"]["names"] == ["zed"]
