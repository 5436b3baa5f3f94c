"""Every lane that reads a `.beads` directory gives one answer (issue 11, item 5).

A seeded generator writes hostile-but-valid stores: duplicate lines (the last wins), wisps that
shadow main records, tombstones, JSON written with spaces and escapes, bad lines, non-issue
lines, deferred and pinned issues, molecules (one of them blocked) and messages for many
addresses. Each store is read through every lane — each `bd` form, each `gt mail inbox` form,
the cockpit snapshot and the `Store` API — and all must agree on records, warnings and exit
codes; the Store itself is checked against a naive reading of the rules (DESIGN §4).
Seeds: GT_LANE_SEEDS (default 6).
"""

from __future__ import annotations

import json
import os
import random

import pytest

from gastown_tui.beads.codec import encode_issue, format_ts
from gastown_tui.beads.store import Store
from tests.conftest import run_cli
from tests.work_helpers import gt

SEEDS = range(int(os.environ.get("GT_LANE_SEEDS", "6")))
ADDRS = ["mayor", "deacon", "overseer", "demo/witness", "demo/refinery", "demo/polecats/p1", "demo/crew/ann"]
NOW_NS = __import__("time").time_ns()
RECENT = format_ts(NOW_NS - 3600 * 10**9)
OLD = "2025-06-01T10:00:00.123456789-07:00"


def _spell(rnd: random.Random, rec: dict) -> str:
    """One line for `rec` in some valid JSON spelling."""
    r = rnd.random()
    if r < 0.6:
        return encode_issue(rec).decode()  # as bd and the store write it
    if r < 0.8:
        return json.dumps(rec)  # spaces after ':' and ','
    if r < 0.9:
        return json.dumps(rec, ensure_ascii=True).replace("/", "\\/")  # escaped '/', \\u for non-ASCII
    return json.dumps(rec, separators=(" , ", " : "), ensure_ascii=False)


def generate(rnd: random.Random, beads_dir) -> dict:
    """Write issues.jsonl and wisps.jsonl; return what was written (ids by kind)."""
    main: list[str] = []
    wisps: list[str] = []
    ids: list[str] = []
    kinds: dict[str, list[str]] = {"task": [], "message": [], "molecule": [], "bad": []}

    def rec(iid: str, **kw) -> dict:
        d = {"id": iid, "title": kw.pop("title", f"{iid} ünïcode <&> title"), "status": kw.pop("status", "open"),
             "priority": kw.pop("priority", rnd.randint(0, 4)), "issue_type": kw.pop("issue_type", "task"),
             "created_at": kw.pop("created_at", rnd.choice([RECENT, OLD])), "updated_at": OLD}
        d.update(kw)
        if d["status"] == "closed":
            d["closed_at"] = OLD
        return d

    if rnd.random() < 0.5:
        main.append(json.dumps({"_schema": "beads", "version": 1}))
    for n in range(rnd.randint(25, 45)):
        iid = f"hq-t{n:03d}"
        extra: dict = {}
        roll = rnd.random()
        if roll < 0.1:
            extra["defer_until"] = rnd.choice(["2999-01-01T00:00:00Z", "2001-01-01T00:00:00+02:00"])
        elif roll < 0.15:
            extra["pinned"] = True
        if ids and rnd.random() < 0.35:
            extra["dependencies"] = [{"issue_id": iid, "depends_on_id": rnd.choice(ids + ["hq-missing"]),
                                      "type": rnd.choice(["blocks", "parent-child", "related", "conditional-blocks",
                                                          "waits-for", "tracks"]), "created_at": OLD}]
        status = rnd.choices(["open", "in_progress", "closed", "tombstone", "deferred", "blocked", "hooked"],
                             [50, 8, 15, 8, 5, 5, 4])[0]
        r = rec(iid, status=status, assignee=rnd.choice(["", "", *ADDRS]), **extra)
        if status == "closed" and rnd.random() < 0.3:
            r["close_reason"] = rnd.choice(["done", "failed: tests"])
        if rnd.random() < 0.15:  # a stale earlier copy: the later line wins
            main.append(_spell(rnd, {**r, "status": "open", "title": "stale", "assignee": rnd.choice(ADDRS)}))
        main.append(_spell(rnd, r))
        ids.append(iid)
        kinds["task"].append(iid)
    for m in range(rnd.randint(2, 3)):  # molecules: steps with needs; some molecules blocked
        mid = f"hq-mol-m{m}"
        deps = []
        if rnd.random() < 0.5:
            deps = [{"issue_id": mid, "depends_on_id": rnd.choice(kinds["task"]), "type": "blocks", "created_at": OLD}]
        main.append(_spell(rnd, rec(mid, issue_type="molecule", dependencies=deps) if deps else
                           rec(mid, issue_type="molecule")))
        kinds["molecule"].append(mid)
        prev = None
        for k in range(1, rnd.randint(2, 5)):
            sid = f"{mid}.{k}"
            sdeps = [{"issue_id": sid, "depends_on_id": mid, "type": "parent-child", "created_at": OLD}]
            if prev and rnd.random() < 0.7:
                sdeps.append({"issue_id": sid, "depends_on_id": prev, "type": "blocks", "created_at": OLD})
            extra = {}
            if rnd.random() < 0.2:
                extra["defer_until"] = "2999-01-01T00:00:00Z"
            elif rnd.random() < 0.1:
                extra["pinned"] = True
            main.append(_spell(rnd, rec(sid, status=rnd.choice(["open", "open", "closed", "in_progress"]),
                                        dependencies=sdeps, **extra)))
            ids.append(sid)
            prev = sid
    for n in range(rnd.randint(20, 40)):  # mail for many addresses
        mid = f"hq-m{n:03d}"
        to = rnd.choice(ADDRS)
        labels = ["from:mayor"] + (["read"] if rnd.random() < 0.3 else [])
        r = rec(mid, issue_type="message", assignee=to, status=rnd.choices(["open", "closed", "tombstone"], [7, 2, 1])[0],
                sender="mayor", labels=labels, created_at=format_ts(NOW_NS - rnd.randint(1, 10**6) * 10**9))
        if rnd.random() < 0.2:  # reassigned by a later line
            main.append(_spell(rnd, {**r, "assignee": rnd.choice(ADDRS)}))
        main.append(_spell(rnd, r))
        kinds["message"].append(mid)
        ids.append(mid)
    for n in range(rnd.randint(3, 10)):  # wisps: ephemeral mail, some shadowed by the main file
        if rnd.random() < 0.4:
            iid = rnd.choice(ids)
            wisps.append(_spell(rnd, rec(iid, title="wisp copy", issue_type="message", assignee=rnd.choice(ADDRS),
                                         ephemeral=True)))
        else:
            iid = f"hq-wisp-w{n:02d}"
            wisps.append(_spell(rnd, rec(iid, title=f"POLECAT_DONE w{n}", issue_type="message",
                                         assignee=rnd.choice(ADDRS), ephemeral=True, labels=["msg:POLECAT_DONE"])))
            kinds["message"].append(iid)
    if rnd.random() < 0.4:
        main.insert(rnd.randrange(len(main)), json.dumps({"_type": "interaction", "id": "hq-t000", "x": 1}))
    for n in range(rnd.choice([0, 0, 1, 3, 7])):  # unreadable lines
        bad = f"hq-bad{n}"
        main.insert(rnd.randrange(len(main) + 1), rnd.choice([f'{{"id":"{bad}","title":"torn', f'{{"id":"{bad}",,}}']))
        kinds["bad"].append(bad)
    rnd.shuffle(main)  # not sorted: nothing may rely on order but "the last line wins"
    (beads_dir / "issues.jsonl").write_text("\n".join(main) + "\n", encoding="utf-8")
    (beads_dir / "wisps.jsonl").write_text("".join(w + "\n" for w in wisps), encoding="utf-8")
    return kinds


def naive_file_records(path) -> dict[str, dict]:
    """One file read the slow obvious way: the last line of an id wins; lines that are not issue
    records (bad JSON, schema headers, other `_type`s) are nothing."""
    per: dict[str, dict] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            d = json.loads(line)
        except ValueError:
            continue
        if isinstance(d, dict) and "_schema" not in d and d.get("_type", "issue") == "issue" \
                and isinstance(d.get("id"), str):
            per[d["id"]] = d  # the last line wins
    return per


def naive_records(beads_dir) -> dict[str, tuple[dict, bool]]:
    """DESIGN §4 read rules, read the slow obvious way: the oracle the store must match."""
    out: dict[str, tuple[dict, bool]] = {}
    for name, eph in (("wisps.jsonl", True), ("issues.jsonl", False)):
        for iid, d in naive_file_records(beads_dir / name).items():
            out[iid] = (d, eph)  # main (read second) wins over wisps
    return out


def _bd(beads_dir, *args, cwd=None):
    r = run_cli("bd", *args, "--db", str(beads_dir), cwd=cwd)
    return r.returncode, r.stdout, r.stderr


@pytest.mark.parametrize("seed", SEEDS)
def test_every_lane_gives_one_answer(rig_town, seed):
    from gastown_tui.work import mail, molecules
    from gastown_tui.work.snapshot import load_snapshot, read_issues

    rnd = random.Random(seed)
    beads = rig_town.beads_dir
    kinds = generate(rnd, beads)
    store = Store(beads)

    # The Store API against the naive oracle.
    oracle = naive_records(beads)
    got = {i.id: (i.data, i.ephemeral_file) for i in store.all()}
    assert got == oracle
    assert [p.line for p in store.known_problems()] == sorted(p.line for p in store.known_problems())
    assert len(store.known_problems()) == len(kinds["bad"])
    warnings = "".join(f"bd: {w}\n" for w in store.warnings())

    # The cockpit's reader.
    cockpit_issues = {k: (v.data, v.ephemeral_file) for k, v in read_issues(beads).items()}
    assert cockpit_issues == {k: v for k, v in got.items() if (v[0].get("status") or "open") != "tombstone"}

    # Ready work: the store's cached summary, the graph over every record, and the cockpit's reader.
    from gastown_tui.beads import graph

    summary = [i.id for i in Store(beads).ready(limit=None, sort="priority")]
    assert summary == [i.id for i in graph.ready({i.id: i for i in store.all()}, sort="priority")]
    assert summary == [i.id for i in graph.ready(read_issues(beads), sort="priority")]

    # bd ready: every form, the same records, warnings and exit code as the Store API.
    from gastown_tui.cli.bd_common import details_json, rows_json  # upstream's JSON shapes

    want = json.dumps(rows_json(Store(beads), Store(beads).ready(limit=10)), indent=2, ensure_ascii=False) + "\n"
    for form in (("ready", "--json"), ("ready", "--json", "--sort", "hybrid"), ("ready", "-n", "10", "--json")):
        assert _bd(beads, *form) == (0, want, warnings), form
    assert _bd(beads, "ready", "--json", cwd=rig_town.root) == (0, want, warnings)
    want_all = rows_json(Store(beads), Store(beads).ready(limit=None, sort="priority"))
    rc, out, err = _bd(beads, "ready", "--json", "-n", "0", "--sort", "priority")
    assert (rc, json.loads(out), err) == (0, want_all, warnings)

    # bd show: each kind of id, JSON and text forms agree on the exit code; JSON on the record.
    sample = rnd.sample(sorted(oracle), min(6, len(oracle))) + kinds["bad"][:2] + ["hq-nothere"]
    for iid in sample:
        rc_json, out, err_json = _bd(beads, "show", iid, "--json")
        rc_text, _, err_text = _bd(beads, "show", iid)
        assert rc_json == rc_text and err_json == err_text, iid
        assert "Traceback" not in err_json
        if iid in oracle:
            links = ("dependencies", "dependents", "parent")  # upstream's IssueDetails joins them
            shown = json.loads(out)
            assert rc_json == 0 and err_json == warnings
            assert [{k: v for k, v in d.items() if k not in links} for d in shown] == \
                [{k: v for k, v in oracle[iid][0].items() if k not in links}]
            assert shown == [details_json(Store(beads), Store(beads).get(iid))]
        else:
            assert rc_json == 1 and ("line" in err_json if iid in kinds["bad"] else "no issue" in err_json)

    # bd list agrees with Store.list.
    rc, out, err = _bd(beads, "list", "--json", "--all", "--ephemeral")
    listed = Store(beads).list(include_closed=True, include_ephemeral=True)
    assert rc == 0 and sorted(d["id"] for d in json.loads(out)) == sorted(i.id for i in listed) and err == warnings

    # Molecules: bd ready --mol and the molecule API.
    for mol in kinds["molecule"]:
        rc, out, _ = _bd(beads, "ready", "--mol", mol, "--json")
        want_steps = [s.id for s in molecules.ready_steps(Store(beads), mol)]
        assert rc == 0 and [d["id"] for d in json.loads(out)] == want_steps
        api = {**molecules.progress(Store(beads), mol),
               "steps": [st.to_json() for st in molecules.steps(Store(beads), mol, me="demo/polecats/p1")]}
        for verb in ("current", "show"):
            rc, out, _ = _bd(beads, "mol", verb, mol, "--json", "--actor", "demo/polecats/p1")
            assert rc == 0 and json.loads(out) == api, (mol, verb)

    # gt mail inbox: every form, the Store API and the cockpit's inboxes agree.
    snap = load_snapshot(rig_town, panes={}, now=NOW_NS / 1e9)
    gt_warn = warnings.replace("bd: ", "gt: ")
    for addr in ADDRS:
        for flags in ((), ("--unread",), ("--all",)):
            want_msgs = mail.inbox_in(Store(beads), addr, unread_only="--unread" in flags,
                                      include_archived="--all" in flags)
            expect = {m["id"] for (d, _e) in oracle.values() for m in [d] if d.get("assignee") == addr
                      and d.get("issue_type") == "message"
                      and (d.get("status") or "open") in (("open", "closed") if "--all" in flags else ("open",))
                      and not ("--unread" in flags and "read" in (d.get("labels") or []))}
            assert {m["id"] for m in want_msgs} == expect, (addr, flags)
            for argv, cwd in ((["mail", "inbox", addr, "--json", *flags], None),
                              (["mail", "inbox", *flags, "--json", addr], None)):
                r = gt(rig_town, *argv, cwd=cwd)
                assert (r.returncode, json.loads(r.stdout), r.stderr) == (0, want_msgs, gt_warn), (addr, flags)
            r = run_cli("gt", "mail", "inbox", addr, "--json", *flags, cwd=rig_town.root)
            assert (r.returncode, json.loads(r.stdout), r.stderr) == (0, want_msgs, gt_warn), (addr, flags)
        cockpit = {m.id for m in snap.mail.get(addr, ())}
        assert cockpit == {m["id"] for m in mail.inbox_in(Store(beads), addr)}, addr
