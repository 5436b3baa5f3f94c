"""Upstream's MCP server, beads-mcp 0.49.6, against our `bd` on a copy of the real gastown store:
every one of its tools and every method of its bd client, through its own Python API.

beads-mcp pins its own dependencies (fastmcp, pydantic), so it lives in its own virtual
environment: `.ci/beads_mcp` builds one and runs this module with $BEADS_MCP_PYTHON pointing at
it. The main suite leaves this module out unless $BEADS_MCP_PYTHON is set (tests/conftest.py).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BIN, REAL_FIXTURE, run_cli

DRIVER = Path(__file__).with_name("beads_mcp_driver.py")
CLIENT_TYPES = {"blocks", "related", "parent-child", "discovered-from"}  # beads-mcp's DependencyType


def _mcp_python() -> str | None:
    for py in (os.environ.get("BEADS_MCP_PYTHON"), sys.executable):
        if py and subprocess.run([py, "-c", "import beads_mcp.server"], capture_output=True).returncode == 0:
            return py
    return None


MCP_PYTHON = _mcp_python()
if MCP_PYTHON is None:
    pytest.fail("beads-mcp 0.49.6 is not importable here: run .ci/beads_mcp (or set BEADS_MCP_PYTHON)",
                pytrace=False)


def bdj(ws: Path, *args: str):
    r = run_cli("bd", *args, "--json", cwd=ws)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def _pick(records: list[dict]) -> tuple[str, str, str]:
    """An issue with dependencies and dependents (all of types the client knows), an open task
    with no links, and an open epic with children."""
    live = {r["id"]: r for r in records if r.get("status") not in ("tombstone",)}
    needed_by: dict[str, list[dict]] = {}
    for r in live.values():
        for d in r.get("dependencies") or ():
            needed_by.setdefault(d["depends_on_id"], []).append({**d, "from": r["id"]})

    def links_ok(iid: str) -> bool:
        deps = live[iid].get("dependencies") or []
        return all(d.get("type") in CLIENT_TYPES for d in deps + needed_by.get(iid, []))

    show = next(i for i in sorted(live) if live[i].get("dependencies") and needed_by.get(i) and links_ok(i)
                and all(d["depends_on_id"] in live for d in live[i]["dependencies"]))
    other = next(i for i in sorted(live) if live[i].get("status") == "open" and not live[i].get("dependencies")
                 and i not in needed_by and live[i].get("issue_type", "task") == "task")
    epic = next(i for i in sorted(live) if live[i].get("issue_type") == "epic" and live[i].get("status") == "open"
                and needed_by.get(i) and links_ok(i))
    return show, other, epic


@pytest.fixture
def workspace(tmp_path):
    ws = tmp_path / "ws"
    (ws / ".beads").mkdir(parents=True)
    shutil.copyfile(REAL_FIXTURE, ws / ".beads" / "issues.jsonl")
    r = run_cli("bd", "init", "--non-interactive", "--skip-agents", "--skip-hooks", "--prefix", "gt", cwd=ws)
    assert r.returncode == 0, r.stderr
    return ws


def test_every_beads_mcp_tool_works_on_the_real_store(workspace):
    records = [json.loads(line) for line in (workspace / ".beads" / "issues.jsonl").read_text().splitlines()]
    show_id, other_id, epic_id = _pick(records)
    before = {"ready": [i["id"] for i in bdj(workspace, "ready", "--limit", "5")],
              "blocked": sorted(i["id"] for i in bdj(workspace, "blocked")),
              "stats": bdj(workspace, "stats")["summary"]}
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    env.pop("BEADS_DB", None)
    env.pop("BEADS_DIR", None)
    r = subprocess.run([MCP_PYTHON, str(DRIVER), str(workspace), show_id, other_id, epic_id], cwd=workspace,
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    calls = json.loads(r.stdout.strip().splitlines()[-1])

    failed = {k: v["error"] for k, v in calls.items() if not v["ok"]}
    assert not failed, failed
    assert len(calls) >= 40  # 14 server tools (6 admin actions) + the resource + 17 client methods
    data = {k: v["data"] for k, v in calls.items()}

    # The answers are the store's answers.
    assert data["client._check_version"] is None
    assert [i["id"] for i in data["server.ready"]] == before["ready"]
    assert all(i["priority"] == 2 and not i.get("assignee") for i in data["server.ready.filtered"])
    # (by then the issue the server made waits on OTHER_ID, so it is blocked too)
    assert sorted(i["id"] for i in data["server.blocked"]) == sorted([*before["blocked"], data["server.create"]["id"]])
    assert data["server.stats"]["summary"]["total_issues"] == before["stats"]["total_issues"] + 1
    assert data["server.stats"]["summary"]["ready_issues"] == before["stats"]["ready_issues"]
    shown = data["server.show"]
    rec = next(x for x in records if x["id"] == show_id)
    assert {d["id"] for d in shown["dependencies"]} == {d["depends_on_id"] for d in rec["dependencies"]}
    assert {d["id"] for d in shown["dependents"]} == {
        x["id"] for x in records if x.get("status") != "tombstone"
        and any(d["depends_on_id"] == show_id for d in x.get("dependencies") or ())}
    assert all(d["dependency_type"] in CLIENT_TYPES for d in shown["dependencies"] + shown["dependents"])
    epic = data["client.show"]
    assert epic["id"] == epic_id and epic["dependents"]
    assert {i["id"] for i in data["client.list_issues"]} <= {x["id"] for x in records if x.get("issue_type") == "epic"}
    assert all(set(i) >= {"id", "blocked_by", "blocked_by_count"} for i in data["client.blocked"])
    assert "beads" in data["server.resource.quickstart"].lower()
    assert data["client.get_schema_info"]["schema"]["detected_prefix"] == "gt"
    assert data["client.inspect_migration"]["registered_migrations"] == []
    assert data["client.repair_deps"]["orphans_found"] == len(data["client.repair_deps"]["orphans"])
    assert set(data["client.validate"]["checks"]) == {"orphans", "duplicates"}

    # What the tools wrote is in the store, under upstream's field names.
    made = bdj(workspace, "show", data["server.create"]["id"])[0]
    assert (made["design"], made["acceptance_criteria"], made["external_ref"]) == ("a design", "it works", "gh-4242")
    assert made["labels"] == ["compat", "mcp"] and made["status"] == "open" and made["notes"] == "working on it"
    assert {(d["id"], d["dependency_type"]) for d in made["dependencies"]} == {(other_id, "blocks"),
                                                                               (epic_id, "related")}
    assert [c["text"] for c in bdj(workspace, "comments", made["id"])] == ["again"]
    client_made = bdj(workspace, "show", data["client.create"]["id"])[0]
    assert (client_made["design"], client_made["acceptance_criteria"]) == ("d2", "ac2")
    assert client_made["external_ref"] == "jira-1" and client_made["status"] == "open"
    assert {(d["id"], d["dependency_type"]) for d in client_made["dependencies"]} == {
        (show_id, "discovered-from"), (other_id, "blocks")}
    fresh = workspace / "fresh" / ".beads"
    assert json.loads((fresh / "metadata.json").read_text())["jsonl_export"] == "issues.jsonl"
    assert "prefix: fresh" in (fresh / "config.yaml").read_text()
