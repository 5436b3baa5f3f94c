"""Per-agent facts from the real sources: `gt costs`' usage, the worktree through git."""

from __future__ import annotations

import json
import time

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
    got = facts.of(snap, {"demo/polecats/nux": 990.0})["demo/polecats/nux"]
    assert (got["since"], got["tokens"], got["simulated"], got["ahead"], got["dirty"]) == (990.0, 1200, True, 1, 1)
    assert got["cost_usd"] > 0
    from gastown_tui.work.costs import agent_costs
    assert got["cost_usd"] == round(agent_costs(town)["demo/polecats/nux"]["cost_usd"], 4)  # gt costs' own figure

    # nothing printed and little time went by: the worktree is not looked at again
    (wt / "wip2.txt").write_text("more\n")
    now[0] += 1
    assert facts.of(snap, {})["demo/polecats/nux"]["dirty"] == 1
    now[0] += AgentFacts.GIT_MAX
    assert facts.of(snap, {})["demo/polecats/nux"]["dirty"] == 2
    snap2 = snap.with_facts(facts.of(snap, {}))
    assert snap2.agent("demo/polecats/nux").dirty == 2 and snap2 != snap
