"""Mail in the town store: send, inbox, read, ack, reply (threads), archive, delete, fan-out, protocol."""

from __future__ import annotations

import json

import pytest

from gastown_tui.errors import NotFound, UsageError
from gastown_tui.work import mail, protocol
from tests.work_helpers import gt, gt_json, one_sentence, town_store

MESSAGE_KEYS = {"id", "from", "to", "subject", "body", "read", "created_at"}


def test_send_and_inbox_json_shape(rig_town):
    r = gt(rig_town, "mail", "send", "mayor", "-s", "Hello", "-m", "first line\nsecond", "--json")
    assert r.returncode == 0, r.stderr
    sent = json.loads(r.stdout)
    inbox = gt_json(rig_town, "mail", "inbox", "mayor")
    assert len(inbox) == 1
    m = inbox[0]
    assert MESSAGE_KEYS <= set(m)
    assert (m["id"], m["from"], m["to"], m["subject"], m["body"], m["read"]) == (
        sent["id"], "overseer", "mayor", "Hello", "first line\nsecond", False)
    iss = town_store(rig_town).get(m["id"])
    assert iss.issue_type == "message" and iss.assignee == "mayor" and iss.get("sender") == "overseer"
    assert not iss.is_ephemeral  # ordinary mail is persistent
    assert gt_json(rig_town, "mail", "inbox", "deacon") == []


def test_read_ack_archive_delete(rig_town):
    a, b, c = (mail.send_mail(rig_town, "mayor", f"m{i}", "body")[0]["id"] for i in range(3))
    assert gt_json(rig_town, "mail", "read", a)["read"] is True
    assert [m["id"] for m in gt_json(rig_town, "mail", "inbox", "mayor", "--unread")] == [b, c]
    assert gt(rig_town, "mail", "ack", b).returncode == 0
    assert gt_json(rig_town, "mail", "inbox", "mayor", "--unread") and \
        [m["id"] for m in gt_json(rig_town, "mail", "inbox", "mayor", "--unread")] == [c]
    assert gt(rig_town, "mail", "archive", a).returncode == 0
    assert [m["id"] for m in gt_json(rig_town, "mail", "inbox", "mayor")] == [b, c]
    assert a in [m["id"] for m in gt_json(rig_town, "mail", "inbox", "mayor", "--all")]
    assert gt(rig_town, "mail", "delete", b).returncode == 0
    assert [m["id"] for m in gt_json(rig_town, "mail", "inbox", "mayor")] == [c]
    r = gt(rig_town, "mail", "read", b)
    assert r.returncode == 1 and "no message" in one_sentence(r)


def test_reply_threads(rig_town):
    first = mail.send_mail(rig_town, "mayor", "Question", "why?", sender="demo/witness")[0]
    r = gt(rig_town, "mail", "reply", first["id"], "-m", "because", "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["to"] == "demo/witness" and rep["from"] == "mayor"
    assert rep["subject"] == "Re: Question" and rep["thread_id"] == first["id"] and rep["reply_to"] == first["id"]
    second = mail.reply(rig_town, rep["id"], "ok then")
    assert second["thread_id"] == first["id"] and second["subject"] == "Re: Question"
    assert [m["id"] for m in gt_json(rig_town, "mail", "thread", first["id"])] == [first["id"], rep["id"], second["id"]]


def test_fan_out_to_a_rig_and_the_town(rig_town):
    (rig_town.rig("demo").polecats_dir / "nux").mkdir(parents=True)
    msgs = mail.send_mail(rig_town, "@demo", "All hands", "meeting")
    assert sorted(m["to"] for m in msgs) == ["demo/polecats/nux", "demo/refinery", "demo/witness"]
    town_msgs = mail.send_mail(rig_town, "@town", "Town news", "")
    assert {"mayor", "deacon", "demo/witness", "demo/refinery", "demo/polecats/nux"} == {m["to"] for m in town_msgs}
    assert gt_json(rig_town, "mail", "inbox", "demo/nux")[0]["subject"] == "All hands"


def test_protocol_mail_is_ephemeral_and_typed(rig_town):
    subj = protocol.subject("POLECAT_DONE", "nux")
    m = mail.send_mail(rig_town, "demo/witness", subj, protocol.body({"Bead": "de-1"}), sender="demo/polecats/nux")[0]
    assert m["type"] == "POLECAT_DONE" and m["ephemeral"] is True
    assert "hq-" in m["id"]
    assert m["id"] not in (rig_town.beads_dir / "issues.jsonl").read_text()
    assert m["id"] in (rig_town.beads_dir / "wisps.jsonl").read_text()
    got = gt_json(rig_town, "mail", "inbox", "demo/witness", "--type", "POLECAT_DONE")
    assert [x["id"] for x in got] == [m["id"]]
    assert protocol.parse_body(got[0]["body"]) == {"Bead": "de-1"}


def test_bad_addresses_are_refused_with_the_valid_forms(rig_town):
    before = (rig_town.beads_dir / "issues.jsonl").read_text()
    for addr in ("nobody/at/all/x", "@nowhere", "ghost/witness"):
        r = gt(rig_town, "mail", "send", addr, "-s", "x")
        assert r.returncode == 2, (addr, r.stderr)
        line = one_sentence(r)
        assert addr in line and ("@town" in line or "known rigs" in line)
    r = gt(rig_town, "mail", "send", "demo/polecats/ghost", "-s", "x")
    assert r.returncode == 1 and "does not exist" in one_sentence(r)
    assert (rig_town.beads_dir / "issues.jsonl").read_text() == before
    with pytest.raises(UsageError):
        mail.send_mail(rig_town, "mayor", "   ")
    with pytest.raises(NotFound):
        mail.read_message(rig_town, "hq-nope")


def test_stdin_body_and_sender_from_actor(rig_town):
    r = gt(rig_town, "mail", "send", "overseer", "-s", "From a polecat", "--stdin", "--json",
           env={"BD_ACTOR": "demo/witness", "GT_ROLE": "witness"})
    assert r.returncode == 0, r.stderr
    # (stdin is empty here: run_cli passes no input)
    m = json.loads(r.stdout)
    assert m["from"] == "demo/witness" and m["body"] == ""
    r = gt(rig_town, "mail", "inbox", env={"BD_ACTOR": "mayor", "GT_ROLE": "mayor"})
    assert r.returncode == 0 and "no mail for mayor" in r.stdout


@pytest.mark.tmux
def test_new_mail_nudges_a_running_agent_and_queues_under_dnd(rig_town):
    from gastown_tui.agents import nudge
    from gastown_tui.infra.tmux import Tmux
    from gastown_tui.sim.agent import read_log
    from gastown_tui.town.identity import Agent
    from gastown_tui.work.crew import add_crew
    from tests.conftest import wait_for

    add_crew(rig_town, "demo", "ann")
    assert gt(rig_town, "crew", "at", "ann", "--agent", "sim", "--no-attach").returncode == 0
    tm = Tmux.for_town(rig_town)
    try:
        wait_for(lambda: "nothing on my hook" in tm.capture_many(["gt-demo-crew-ann"], ansi=False).get("gt-demo-crew-ann", ""),
                 timeout=30, message="the sim to check its (empty) hook")
        m = mail.send_mail(rig_town, "demo/crew/ann", "Lunch?", "at noon")[0]
        log = rig_town.root / ".runtime" / "sim" / "gt-demo-crew-ann.jsonl"
        got = wait_for(lambda: [e for e in read_log(log) if m["id"] in e["text"]], timeout=30,
                       message="the mail nudge in the sim's log")
        assert "Lunch?" in got[0]["text"]
        ann = Agent("crew", "demo", "ann")
        nudge.set_dnd(rig_town, ann, True)
        m2 = mail.send_mail(rig_town, "demo/crew/ann", "Later", "")[0]
        assert any(m2["id"] in q.get("message", q.get("text", "")) for q in nudge.queued(rig_town, ann))
        assert not [e for e in read_log(log) if m2["id"] in e["text"]]
    finally:
        tm.kill_session("gt-demo-crew-ann")


@pytest.mark.tmux
def test_new_mail_to_a_busy_agent_is_queued_not_typed_over_its_work(rig_town):
    from gastown_tui.agents import nudge
    from gastown_tui.agents.sessions import start_agent
    from gastown_tui.infra.tmux import Tmux
    from gastown_tui.sim.agent import read_log
    from gastown_tui.town.identity import Agent
    from gastown_tui.work.crew import add_crew
    from tests.conftest import wait_for, wait_sim_ready

    add_crew(rig_town, "demo", "bob")
    bob = Agent("crew", "demo", "bob")
    tm = Tmux.for_town(rig_town)
    start_agent(rig_town, bob, runtime="sim", extra_env={"GT_SIM_FAULTS": "slow=60"})
    try:
        wait_sim_ready(tm, bob.session, timeout=30)
        assert nudge.deliver(rig_town, bob, "start a long job").status == "delivered"
        wait_for(lambda: nudge.is_busy(rig_town, bob, tmux=tm), timeout=20, message="the sim to be busy")
        m = mail.send_mail(rig_town, "demo/crew/bob", "Status?", "how is it going")[0]
        assert any(m["id"] in q.get("message", q.get("text", "")) for q in nudge.queued(rig_town, bob))
        log = rig_town.root / ".runtime" / "sim" / f"{bob.session}.jsonl"
        assert not [e for e in read_log(log) if m["id"] in e["text"]]
    finally:
        tm.kill_session(bob.session)
