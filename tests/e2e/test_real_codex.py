"""The real Codex CLI (pinned, from npm) in our fleet against the scripted model's Responses API."""

from __future__ import annotations

import json

import pytest

from gastown_tui.beads.store import Store
from gastown_tui.infra.tmux import Tmux
from tests import real_agents
from tests.conftest import wait_for
from tests.e2e.test_fleet import fast_settings, main_files, rig_store
from tests.real_agents import model_log, use_codex
from tests.work_helpers import gt, gt_json

pytestmark = [pytest.mark.slow, pytest.mark.tmux]
scripted_model = real_agents.scripted_model  # the fixture, used by name below


@pytest.fixture
def fleet(rig_town):
    yield rig_town
    gt(rig_town, "down")
    tm = Tmux.for_town(rig_town)
    for s in tm.list_sessions():
        tm.kill_session(s)


def test_real_codex_fleet_lands_a_convoy_with_a_stall_and_a_conflict(fleet, scripted_model, tmp_path):
    town = fleet
    use_codex(town, scripted_model)
    fast_settings(town, default_agent="codex", **{"deacon.feed_convoys": False, "witness.stall_seconds": 8})
    st = rig_store(town)
    readme = st.create("Rewrite the readme", description="file: README.md\n```\n# rewritten by codex\n```\n").id
    conflict = st.create("Retitle the readme", labels=["sim:conflict"]).id
    stall = st.create("Think hard first", labels=["sim:stall=once"]).id
    ids = [readme, conflict, stall]
    conv = gt_json(town, "convoy", "create", "three with codex", *ids, "--notify", "overseer")
    r = gt(town, "up", "--no-mayor")
    assert r.returncode == 0, r.stdout + r.stderr
    r = gt(town, "sling", *ids, "demo", "--agent", "codex", "--no-convoy")
    assert r.returncode == 0, r.stderr

    def landed():
        s = rig_store(town)
        return all(s.get(i).status == "closed" for i in ids) and \
            gt_json(town, "convoy", "status", conv["id"])["status"] == "closed"

    wait_for(landed, timeout=240, interval=1.0, message="three beads merged by real Codex\n" + model_log(tmp_path))
    files = main_files(town)
    assert f"work/{conflict}.md" in files and f"work/{stall}.md" in files
    events = [json.loads(ln) for ln in (town.root / ".events.jsonl").read_text().splitlines() if ln.strip()]
    assert stall in {e["payload"].get("bead") for e in events if e["type"] == "witness.nudge"}
    assert "mq.conflict" in [e["type"] for e in events]
    mails = Store(town.beads_dir).list(type="message", include_ephemeral=True, include_closed=True)
    assert any(m.title.startswith("REWORK_REQUEST") and "README.md" in m.description for m in mails)
    assert not Store(town.beads_dir).list(type="escalation")
    # Codex ran with the town's own home: its config names the scripted endpoint.
    costs = gt_json(town, "costs", "--by-agent")  # read from Codex's own session logs
    assert any(r["sources"] == ["codex"] and r["input_tokens"] > 0 for r in costs["rows"]), costs
    homes = list((town.root / ".runtime" / "codex").iterdir())
    assert homes and all(scripted_model in (h / "config.toml").read_text() for h in homes)
