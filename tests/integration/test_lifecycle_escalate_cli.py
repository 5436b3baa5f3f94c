"""`gt escalate` and `gt status --json` as a user runs them."""

from __future__ import annotations

import json

from tests.work_helpers import gt, one_sentence


def test_escalate_raise_list_show_ack_close(town):
    r = gt(town, "escalate", "-s", "critical", "--type", "infra", "disk is full")
    assert r.returncode == 0, r.stderr
    assert "to overseer" in r.stdout
    r = gt(town, "escalate", "which database?", "--question", "Pick one", "--options", "pg,sqlite",
           "--issue", "de-1", "--json")
    dec = json.loads(r.stdout)
    assert dec["options"] == ["pg", "sqlite"] and dec["routed_to"] == "deacon" and dec["issue"] == "de-1"
    rows = json.loads(gt(town, "escalate", "list", "--json").stdout)
    assert [x["severity"] for x in rows] == ["critical", "medium"]
    assert {"id", "title", "severity", "priority", "category", "status", "routed_to", "acked_by",
            "question", "options", "issue", "created_at"} <= set(rows[0])
    crit = rows[0]["id"]
    r = gt(town, "escalate", "show", crit)
    assert "disk is full" in r.stdout and "routed to overseer" in r.stdout
    assert gt(town, "escalate", "ack", crit).returncode == 0
    assert json.loads(gt(town, "escalate", "show", crit, "--json").stdout)["acked_by"]
    assert gt(town, "escalate", "close", crit, "--reason", "cleaned up").returncode == 0
    rows = json.loads(gt(town, "escalate", "list", "--json").stdout)
    assert [x["id"] for x in rows] == [dec["id"]]
    assert json.loads(gt(town, "escalate", "stale", "--json").stdout) == []
    inbox = json.loads(gt(town, "mail", "inbox", "overseer", "--json").stdout)
    assert any("disk is full" in m["subject"] for m in inbox)


def test_escalate_errors_are_one_sentence(town):
    r = gt(town, "escalate", "-s", "urgent", "help")
    assert r.returncode == 2 and "critical, high, medium or low" in one_sentence(r)
    r = gt(town, "escalate", "show", "hq-nope")
    assert r.returncode == 1 and "no escalation hq-nope" in one_sentence(r)
    r = gt(town, "escalate", "pick", "--options", "a,b")
    assert r.returncode == 2 and "--question" in one_sentence(r)
    r = gt(town, "escalate", "x", "--to", "not/an/address/really")
    assert r.returncode == 2


def test_status_json_is_a_superset_with_services_and_agents(rig_town):
    st = json.loads(gt(rig_town, "status", "--json").stdout)
    assert {"name", "path", "owner", "tmux_socket", "rigs"} <= set(st)
    assert {"services", "agents", "open_escalations", "overseer_unread_mail"} <= set(st)
    assert st["services"]["daemon"]["running"] is False
    assert set(st["services"]["rigs"]["demo"]) == {"witness", "refinery"}
    r = gt(rig_town, "status")
    assert "Services:" in r.stdout and "Agents:" in r.stdout
