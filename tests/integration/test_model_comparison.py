"""Model evaluation and A/B testing (gastown-understanding.md): `gt sling BEAD RIG --model NAME`
records the model on the agent bead, the bead, the MR and the events, and `bd stats
--actor='<rig>/polecats/*' --group-by=model` compares the models."""

from __future__ import annotations

import json

import pytest

from gastown_tui.agents import agent_beads
from gastown_tui.agents.runtimes import get_runtime
from gastown_tui.beads.store import Store
from gastown_tui.infra.tmux import Tmux
from gastown_tui.patrols import refinery, witness
from gastown_tui.town.config import load_settings
from gastown_tui.town.identity import Agent
from gastown_tui.work.model_stats import model_report
from tests.conftest import run_cli, wait_for
from tests.work_helpers import gt, one_sentence


def test_a_runtime_takes_the_model_before_the_prompt():
    assert get_runtime("claude").command("hi", model="claude-sonnet")[-3:] == ["--model", "claude-sonnet", "hi"]
    assert "--model" not in get_runtime("claude").command("hi")


def test_model_report_counts_per_model(rig_town):
    store = Store(rig_town.rig("demo").beads_dir)

    def mr(model, worker, reason, slung, merged):
        b = store.create("work", fields={"slung_at": slung})
        m = store.create("Merge", type="merge-request", fields={"model": model, "worker": worker,
                                                                  "source_issue": b.id})
        store.close(m.id, reason)
        store.update(m.id, closed_at=merged)
        return m

    mr("claude-sonnet", "demo/polecats/nux", "merged at abc", "2026-01-01T00:00:00Z", "2026-01-01T00:10:00Z")
    mr("claude-sonnet", "demo/polecats/nux", "merged at abd", "2026-01-01T00:00:00Z", "2026-01-01T00:30:00Z")
    mr("claude-sonnet", "demo/polecats/slit", "merged at abe", "2026-01-01T00:00:00Z", "2026-01-01T00:20:00Z")
    mr("claude-sonnet", "demo/polecats/nux", "rework: conflict in a.txt", "2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z")
    mr("gpt-4", "demo/polecats/rictus", "merge-failed: tests", "2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z")
    mr("gpt-4", "demo/polecats/rictus", "merged at abf", "2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z")
    mr("gpt-4", "demo/crew/ann", "merged at abg", "2026-01-01T00:00:00Z", "2026-01-01T00:01:00Z")
    rows = {r["model"]: r for r in model_report(store, actor="demo/polecats/*")}
    assert rows["claude-sonnet"]["completed"] == 3 and rows["claude-sonnet"]["rework"] == 1
    assert rows["claude-sonnet"]["median_sling_to_merge_seconds"] == 1200.0
    assert rows["gpt-4"]["completed"] == 1 and rows["gpt-4"]["merge_failed"] == 1  # the crew's MR is not a polecat's
    assert rows["gpt-4"]["median_sling_to_merge_seconds"] == 3600.0
    r = run_cli("bd", "stats", "--actor=demo/polecats/*", "--group-by=model", cwd=rig_town.root)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split()[:2] == ["MODEL", "COMPLETED"]
    assert lines[1].split()[:5] == ["claude-sonnet", "3", "20m00s", "1", "0"]


def test_a_bad_model_name_is_refused_before_anything_changes(rig_town):
    b = Store(rig_town.rig("demo").beads_dir).create("x")
    r = gt(rig_town, "sling", b.id, "demo", "--agent", "sim", "--model", "../../etc", "--no-convoy")
    assert r.returncode == 2 and "is not a model name" in one_sentence(r)
    assert Store(rig_town.rig("demo").beads_dir).get(b.id).status == "open"


@pytest.mark.tmux
def test_sling_model_is_recorded_and_compared(rig_town, tmux):
    town = rig_town
    s = load_settings(town.root)
    s.set("models.fast.runtime", "sim")  # a model that maps to a runtime, with the runtime's own id for it
    s.set("models.fast.id", "sim-fast-1")
    s.save()
    store = Store(town.rig("demo").beads_dir)
    bead = store.create("Compare me")
    r = gt(town, "sling", bead.id, "demo", "--model", "fast", "--no-convoy", "--json")
    assert r.returncode == 0, r.stderr
    row = json.loads(r.stdout)["assignments"][0]
    assert (row["runtime"], row["model"]) == ("sim", "fast")
    agent = Agent("polecat", "demo", row["name"])
    assert agent_beads.get(town, agent).get("model") == "fast"
    assert store.get(bead.id).get("model") == "fast" and store.get(bead.id).get("slung_at")
    tm = Tmux.for_town(town)
    wait_for(lambda: "model: sim-fast-1" in tm.capture_many([agent.session], ansi=False).get(agent.session, ""),
             timeout=20, message="the sim started with --model sim-fast-1")
    # the sim hands in its work: the MR carries the model
    mrs = wait_for(lambda: store.list(type="merge-request"), timeout=60, message="the MR from gt done")
    assert mrs[0].get("model") == "fast"
    # the witness verifies it, the refinery merges it
    witness.patrol_once(witness.WitnessContext(town, "demo"), witness.WitnessConfig())
    outs = refinery.patrol_once(refinery.RefineryContext(town, "demo"), refinery.RefineryConfig())
    assert [o.kind for o in outs] == ["merged"]
    events = [json.loads(ln) for ln in (town.root / ".events.jsonl").read_text().splitlines()]
    assert {e["type"] for e in events if (e.get("payload") or {}).get("model") == "fast"} >= {"sling", "done", "mq.merged"}
    r = run_cli("bd", "stats", "--actor=demo/polecats/*", "--group-by=model", "--json", cwd=town.root)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert [(x["model"], x["completed"], x["rework"], x["merge_failed"]) for x in got] == [("fast", 1, 0, 0)]
    assert got[0]["median_sling_to_merge_seconds"] > 0
    assert model_report(store, actor="other/polecats/*") == []
