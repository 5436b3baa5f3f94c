"""Run by tests/integration/test_beads_mcp.py under a Python that has beads-mcp 0.49.6 installed.

Calls every tool of upstream's MCP server (through fastmcp's in-memory client, as an MCP client
would) and every method of its bd client (`BdCliClient`) against the workspace given in argv[1],
with whatever `bd` is first on PATH, and prints one JSON object: {call: {"ok", "data"|"error"}}.

argv: WORKSPACE SHOW_ID OTHER_ID EPIC_ID
"""

from __future__ import annotations

import asyncio
import json
import os
import sys


def _plain(value):
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


async def _server_calls(ws: str, show_id: str, other_id: str, epic_id: str, out: dict) -> str | None:
    from fastmcp.client import Client

    from beads_mcp import tools
    from beads_mcp.server import mcp

    tools._connection_pool.clear()
    created: str | None = None

    async def call(label: str, name: str, args: dict | None = None):
        try:
            res = await client.call_tool(name, args or {})
            text = res.content[0].text if res.content else ""
            try:
                data = json.loads(text)
            except ValueError:
                data = text
            out[label] = {"ok": True, "data": data}
            return data
        except Exception as e:  # noqa: BLE001 - every failure is reported to the test
            out[label] = {"ok": False, "error": f"{type(e).__name__}: {e}"}
            return None

    async with Client(mcp) as client:
        await call("server.context.set", "context", {"workspace_root": ws})
        await call("server.context.show", "context", {"action": "show"})
        await call("server.discover_tools", "discover_tools")
        await call("server.get_tool_info", "get_tool_info", {"tool_name": "show"})
        try:
            res = await client.read_resource("beads://quickstart")
            out["server.resource.quickstart"] = {"ok": True, "data": res[0].text}
        except Exception as e:  # noqa: BLE001
            out["server.resource.quickstart"] = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        await call("server.ready", "ready", {"limit": 5})
        await call("server.ready.filtered", "ready", {"limit": 5, "priority": 2, "unassigned": True,
                                                      "sort_policy": "priority"})
        await call("server.list", "list", {"status": "open", "limit": 10})
        await call("server.list.query", "list", {"query": "patrol", "limit": 5, "brief": True})
        await call("server.show", "show", {"issue_id": show_id})
        await call("server.show.brief_deps", "show", {"issue_id": show_id, "brief_deps": True})
        made = await call("server.create", "create", {
            "title": "MCP-made issue", "description": "made through beads-mcp", "design": "a design",
            "acceptance": "it works", "external_ref": "gh-4242", "priority": 1, "issue_type": "bug",
            "labels": ["mcp", "compat"], "deps": [f"blocks:{other_id}"], "brief": False})
        created = made.get("id") if isinstance(made, dict) else None
        if created:
            await call("server.update", "update", {"issue_id": created, "status": "in_progress",
                                                   "notes": "working on it", "brief": False})
            await call("server.dep", "dep", {"issue_id": created, "depends_on_id": epic_id,
                                             "dep_type": "related"})
            await call("server.close", "close", {"issue_id": created, "reason": "done", "brief": False})
            await call("server.reopen", "reopen", {"issue_ids": [created], "reason": "again", "brief": False})
        await call("server.stats", "stats")
        await call("server.blocked", "blocked")
        for action in ("validate", "repair", "schema", "debug", "migration", "pollution"):
            await call(f"server.admin.{action}", "admin", {"action": action})
    tools._connection_pool.clear()
    return created


async def _client_calls(ws: str, show_id: str, other_id: str, epic_id: str, created: str | None,
                        out: dict) -> None:
    from beads_mcp import models as m
    from beads_mcp.bd_client import BdCliClient

    for var in ("BEADS_DB", "BEADS_DIR", "BEADS_WORKING_DIR", "BEADS_CONTEXT_SET"):  # the server's context
        os.environ.pop(var, None)
    c = BdCliClient(working_dir=ws, no_auto_flush=True, no_auto_import=True)

    async def call(label: str, coro):
        try:
            out[label] = {"ok": True, "data": _plain(await coro)}
        except Exception as e:  # noqa: BLE001
            out[label] = {"ok": False, "error": f"{type(e).__name__}: {e}"}

    await call("client._check_version", c._check_version())
    await call("client.ready", c.ready(m.ReadyWorkParams(limit=20, labels_any=["gt:agent", "x"])))
    await call("client.list_issues", c.list_issues(m.ListIssuesParams(issue_type="epic", limit=20)))
    await call("client.show", c.show(m.ShowIssueParams(issue_id=epic_id)))
    new = None
    try:
        new = await c.create(m.CreateIssueParams(title="Client-made", deps=[f"discovered-from:{show_id}"]))
        out["client.create"] = {"ok": True, "data": _plain(new)}
    except Exception as e:  # noqa: BLE001
        out["client.create"] = {"ok": False, "error": f"{type(e).__name__}: {e}"}
    target = new.id if new is not None else (created or show_id)
    await call("client.update", c.update(m.UpdateIssueParams(issue_id=target, design="d2",
                                                              acceptance_criteria="ac2", external_ref="jira-1")))
    await call("client.add_dependency", c.add_dependency(m.AddDependencyParams(
        issue_id=target, depends_on_id=other_id, dep_type="blocks")))
    await call("client.close", c.close(m.CloseIssueParams(issue_id=target, reason="finished")))
    await call("client.reopen", c.reopen(m.ReopenIssueParams(issue_ids=[target], reason="not yet")))
    await call("client.quickstart", c.quickstart())
    await call("client.stats", c.stats())
    await call("client.blocked", c.blocked(m.BlockedParams(parent_id=epic_id)))
    await call("client.inspect_migration", c.inspect_migration())
    await call("client.get_schema_info", c.get_schema_info())
    await call("client.repair_deps", c.repair_deps())
    await call("client.detect_pollution", c.detect_pollution())
    await call("client.validate", c.validate(checks="orphans,duplicates"))
    fresh = os.path.join(ws, "fresh")
    os.makedirs(fresh, exist_ok=True)
    await call("client.init", BdCliClient(working_dir=fresh).init(m.InitParams(prefix="fresh")))


async def main() -> None:
    ws, show_id, other_id, epic_id = sys.argv[1:5]
    os.environ["BEADS_USE_DAEMON"] = "0"
    out: dict = {}
    created = await _server_calls(ws, show_id, other_id, epic_id, out)
    await _client_calls(ws, show_id, other_id, epic_id, created, out)
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
