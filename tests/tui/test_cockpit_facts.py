"""Per-agent facts from the real sources: `gt costs`' usage, the worktree through git."""

from __future__ import annotations

import json
import time

import pytest

from gastown_tui.infra.tmux import PaneInfo
from gastown_tui.tui.source import AgentFacts
from gastown_tui.work.snapshot import load_snapshot
from tests.integration.test_refinery import make_polecat_branch


def test_facts_come_from_gt_costs_and_the_worktree_and_are_looked_at_only_when_due(rig_town):
    town = rig_town
    _branch, wt = make_polecat_branch(town, "nux", "de-1", {"a.txt": "a\n", "b.txt": "b\n"})
    (wt / "wip.txt").write_text("not yet committed\n")
    usage = town.runtime_dir / "sim" / "usage.jsonl"
    usage.parent.mkdir(parents=True, exist_ok=True)
    ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    usage.write_text(json.dumps({"ts": ts, "session": "gt-demo-nux", "bead": "de-1", "input_tokens": 1000,
                                 "output_tokens": 200, "simulated": True}) + "\n")
    now = [1000.0]
    facts = AgentFacts(town, clock=lambda: now[0], background=False)
    snap = load_snapshot(town, panes={})
    assert snap.agent("demo/polecats/nux") is not None
    # its session (one row of the pane listing) started before the usage line: it is counted
    panes = {"gt-demo-nux": PaneInfo("%1", "gt-demo-nux", 1, False, None, 0.0, "sim", 80, 24,
                                     created=time.time() - 60)}
    got = facts.of(snap, {"demo/polecats/nux": 990.0}, panes)["demo/polecats/nux"]
    assert (got["since"], got["tokens"], got["simulated"], got["ahead"], got["dirty"]) == (990.0, 1200, True, 1, 1)
    assert got["cost_usd"] > 0
    from gastown_tui.work.costs import agent_costs
    assert got["cost_usd"] == round(agent_costs(town)["demo/polecats/nux"]["cost_usd"], 4)  # gt costs' own figure
    now[0] += AgentFacts.USAGE_CHECK
    # a tick whose pane listing failed (None: tmux timed out) is not "no sessions": costs stay
    assert facts.of(snap, {}, None)["demo/polecats/nux"]["tokens"] == 1200
    assert "tokens" not in facts.of(snap, {}, {}).get("demo/polecats/nux", {})  # no session now: no session costs

    # nothing printed and little time went by: the worktree is not looked at again
    (wt / "wip2.txt").write_text("more\n")
    now[0] += 1
    assert facts.of(snap, {}, panes)["demo/polecats/nux"]["dirty"] == 1
    now[0] += AgentFacts.GIT_MAX
    assert facts.of(snap, {})["demo/polecats/nux"]["dirty"] == 2
    snap2 = snap.with_facts(facts.of(snap, {}))
    assert snap2.agent("demo/polecats/nux").dirty == 2 and snap2 != snap


@pytest.mark.tmux
def test_a_reused_polecat_name_shows_only_its_own_session_costs(rig_town, tmux):
    """A new polecat named like a finished one: the cockpit's tokens and `gt costs --current`
    both count from the new tmux session's creation, not the previous polecat's spend."""
    from gastown_tui.tui.source import TownSource
    from tests.conftest import run_cli

    town = rig_town
    wd = town.root / "demo" / "polecats" / "nux"
    wd.mkdir(parents=True, exist_ok=True)
    usage = town.runtime_dir / "sim" / "usage.jsonl"
    usage.parent.mkdir(parents=True, exist_ok=True)
    old = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3000))
    usage.write_text(json.dumps({"ts": old, "session": "gt-demo-nux", "bead": "de-1", "input_tokens": 9000,
                                 "output_tokens": 900, "simulated": True}) + "\n")
    pane = tmux.new_session("gt-demo-nux", ["sleep", "300"], cwd=wd)
    created = tmux.panes()["gt-demo-nux"].created or pane.created
    new = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(created + 1))
    with open(usage, "a") as f:
        f.write(json.dumps({"ts": new, "session": "gt-demo-nux", "bead": "de-2", "input_tokens": 10,
                            "output_tokens": 2, "simulated": True}) + "\n")
    src = TownSource(town)
    src._facts.background = False
    nux = src.snapshot().agent("demo/polecats/nux")
    assert nux.tokens == 12
    r = run_cli("gt", "costs", "--current", "--json", cwd=town.root)
    assert r.returncode == 0, r.stderr
    rows = {row["agent"]: row for row in json.loads(r.stdout)["rows"]}
    assert rows["demo/polecats/nux"]["input_tokens"] + rows["demo/polecats/nux"]["output_tokens"] == nux.tokens
    assert rows["demo/polecats/nux"]["cost_usd"] == pytest.approx(nux.cost_usd, abs=1e-4)
