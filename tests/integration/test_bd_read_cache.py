"""The ready summary (`.ready.cache`): dependent counts and the line index it carries are the
store's own answers for exactly one version of the files, and never trusted over them.

`bd ready --json` and `bd show --json` take dependent counts, dependents and single records from
it instead of scanning the 5 MB file per row (issue 11); these tests hold those answers to the
full reading after other processes change the file, and to a cache that belongs to another file,
is forged, or is garbage.
"""

from __future__ import annotations

import json
import random
import shutil
from array import array

import pytest

from gastown_tui.beads import graph
from gastown_tui.beads import store as S
from gastown_tui.beads.store import Store
from tests.conftest import run_cli
from tests.integration.test_lane_equivalence import generate, naive_records


def _bd(beads, *args):
    r = run_cli("bd", *args, "--db", str(beads))
    assert r.returncode == 0, r.stderr
    return r.stdout


def _rows(beads, *args) -> dict[str, dict]:
    return {d["id"]: d for d in json.loads(_bd(beads, *args, "--json"))}


def _store(tmp_path, name="s"):
    beads = tmp_path / name / ".beads"
    beads.mkdir(parents=True)
    (beads / "config.yaml").write_text("issue-prefix: gt\n")
    (beads / "issues.jsonl").write_text("")
    return beads


def _naive_links(records: dict[str, tuple[dict, bool]]) -> dict[str, list[tuple[str, dict]]]:
    """target -> (dependent id, dependency) for live dependents, read the obvious way."""
    out: dict[str, list] = {}
    for iid in sorted(records):
        d = records[iid][0]
        if (d.get("status") or "open") == "tombstone":
            continue
        for dep in d.get("dependencies") or ():
            t = dep.get("depends_on_id")
            if t and t != iid:
                out.setdefault(t, []).append((iid, dep))
    return out


def test_dependent_counts_follow_changes_by_other_processes(tmp_path):
    beads = _store(tmp_path)
    a = json.loads(_bd(beads, "create", "target", "--json"))["id"]
    b = json.loads(_bd(beads, "create", "related one", "--deps", f"related:{a}", "--json"))["id"]
    assert _rows(beads, "ready")[a]["dependent_count"] == 1
    in_process = Store(beads)
    assert in_process.dependent_counts()[a] == 1
    # Other processes add a link, close the dependent, delete it: every answer follows the file.
    c = json.loads(_bd(beads, "create", "another", "--json"))["id"]
    _bd(beads, "dep", "add", c, a, "--type", "related")
    assert _rows(beads, "ready")[a]["dependent_count"] == 2
    assert in_process.dependent_counts()[a] == 2
    shown = json.loads(_bd(beads, "show", a, "--json"))[0]
    assert [d["id"] for d in shown["dependents"]] == sorted([b, c])
    _bd(beads, "close", b)  # closed issues still count (upstream counts their links)
    assert _rows(beads, "ready")[a]["dependent_count"] == 2
    _bd(beads, "delete", c, "--force")  # a deleted issue depends on nothing
    assert _rows(beads, "ready")[a]["dependent_count"] == 1
    assert in_process.dependent_counts().get(a) == 1
    assert [d["id"] for d in json.loads(_bd(beads, "show", a, "--json"))[0]["dependents"]] == [b]


@pytest.mark.parametrize("seed", range(4))
def test_summary_answers_equal_the_full_reading(tmp_path, seed):
    """Hostile-but-valid stores (duplicates, wisps, spaced and escaped JSON, tombstones, bad
    lines): counts, dependents and lookups from the cache equal the rules read naively."""
    beads = tmp_path / ".beads"
    beads.mkdir()
    (beads / "config.yaml").write_text("issue-prefix: hq\n")
    generate(random.Random(seed), beads)
    records = naive_records(beads)
    links = _naive_links(records)
    s = Store(beads)
    s.ready()  # builds the summary, in memory and on disk
    assert (beads / S.SUMMARY).exists()
    assert s.dependent_counts() == {t: len(v) for t, v in links.items()}
    S._SUMMARIES.clear()
    S._CACHE.clear()
    fresh = Store(beads)  # from the file on disk, looking up single lines by the index
    assert fresh.dependent_counts() == {t: len(v) for t, v in links.items()}
    for iid in sorted(records)[:25] + ["hq-nothere"]:
        got = fresh.try_get(iid)
        want = records.get(iid)
        assert (got.data, got.ephemeral_file) == want if want else got is None, iid
        assert [(o.id, d) for o, d in fresh.dependent_links(iid)] == links.get(iid, []), iid
    # Listings of unfinished work (read without parsing closed or deleted lines) equal the rules too.
    for kw, keep in (({}, lambda d, e: not e and not d.get("ephemeral")), ({"include_ephemeral": True}, lambda d, e: True)):
        want = sorted(iid for iid, (d, e) in records.items()
                      if (d.get("status") or "open") not in ("closed", "tombstone") and keep(d, e))
        assert [i.id for i in Store(beads).list(**kw)] == want, kw
    for statuses in (["open"], ["in_progress", "hooked", "blocked"], ["closed"], ["tombstone", "open"]):
        want = sorted(iid for iid, (d, e) in records.items() if (d.get("status") or "open") in statuses
                      and not e and not d.get("ephemeral"))
        assert [i.id for i in Store(beads).list(status=statuses)] == want, statuses
    for who in ("mayor", "demo/polecats/p1", "nobody"):
        want = sorted(iid for iid, (d, _e) in records.items() if d.get("assignee") == who
                      and (d.get("status") or "open") not in ("closed", "tombstone"))
        assert [i.id for i in fresh.assigned(who)] == want, who
        S._SUMMARIES.clear()
        assert [i.id for i in Store(beads).assigned(who)] == want, who
    # Without any summary the scan for the id gives the same links.
    S._SUMMARIES.clear()
    (beads / S.SUMMARY).unlink()
    for iid in sorted(links)[:15]:
        assert [(o.id, d) for o, d in Store(beads).dependent_links(iid)] == links[iid], iid
    for who in ("mayor", "demo/polecats/p1"):
        assert [i.id for i in Store(beads).assigned(who)] == sorted(
            iid for iid, (d, _e) in records.items()
            if d.get("assignee") == who and (d.get("status") or "open") not in ("closed", "tombstone")), who


def test_a_cache_from_another_file_is_not_used(tmp_path):
    one, two = _store(tmp_path, "one"), _store(tmp_path, "two")
    a = json.loads(_bd(one, "create", "target", "--json"))["id"]
    _bd(one, "create", "dependent", "--deps", f"related:{a}")
    shutil.copy(one / "issues.jsonl", two / "issues.jsonl")
    _bd(one, "ready")  # one's cache, made from one's file
    # Same bytes but another file (inode, times): two's own answer, never one's cache.
    lines = (two / "issues.jsonl").read_text().replace(f'"depends_on_id":"{a}"', '"depends_on_id":"gt-zzz"')
    (two / "issues.jsonl").write_text(lines)
    shutil.copy(one / S.SUMMARY, two / S.SUMMARY)
    assert _rows(one, "ready")[a]["dependent_count"] == 1
    assert _rows(two, "ready")[a]["dependent_count"] == 0
    assert "dependents" not in json.loads(_bd(two, "show", a, "--json"))[0]


def _forge(beads, **changes):
    """Rewrite `.ready.cache` for the current file versions with some of its answers changed."""
    s = Store(beads)
    summary = s._ready_summary()
    at = s._summary_index(summary)
    head = {k: v for k, v in summary.items() if k not in ("at", "_index")}
    head.update(changes)
    S._write_summary(beads / S.SUMMARY, head, at)
    S._SUMMARIES.clear()
    assert Store(beads)._known_summary() is not None  # accepted as this very version's cache
    return summary


def test_a_forged_cache_of_candidates_or_assignees_is_never_trusted(tmp_path):
    """The cache's lines are checked to be the issues named, and those issues to be what the cache
    says (ready candidates, unfinished and assigned, live dependents): a lie means the full reading."""
    beads = _store(tmp_path)
    ids = [json.loads(_bd(beads, "create", f"issue {n}", "--json"))["id"] for n in range(3)]
    _bd(beads, "update", ids[0], "--assignee", "ann")
    _bd(beads, "dep", "add", ids[2], ids[1], "--type", "related")
    _bd(beads, "update", ids[2], "--status", "closed")
    want_ready = _bd(beads, "ready", "--json")
    assert ids[2] not in {d["id"] for d in json.loads(want_ready)}
    lines = (beads / "issues.jsonl").read_text().splitlines()
    offsets = S._line_offsets(lines)
    n = next(k for k, ln in enumerate(lines) if ln.startswith(f'{{"id":"{ids[2]}"'))
    closed_row = (ids[2], 2, 0.0, 0.0, offsets[n], offsets[n + 1] - offsets[n] - 1)
    _forge(beads, cands=[*Store(beads)._ready_summary()["cands"], closed_row], who={"ann": [ids[0], ids[2]]})
    assert _bd(beads, "ready", "--json") == want_ready
    assert [i.id for i in Store(beads).assigned("ann")] == [ids[0]]
    # A deleted dependent named by the cache is no dependent.
    _bd(beads, "delete", ids[2], "--force")
    want_show = _bd(beads, "show", ids[1], "--json")
    assert json.loads(want_show)[0].get("dependents") in (None, [])
    summary = Store(beads)._ready_summary()
    _forge(beads, by={**summary["by"], ids[1]: [ids[2]]})
    assert Store(beads).dependent_links(ids[1]) == []
    assert _bd(beads, "show", ids[1], "--json") == want_show


def test_a_forged_or_broken_cache_is_never_trusted(tmp_path):
    beads = _store(tmp_path)
    ids = [json.loads(_bd(beads, "create", f"issue {n}", "--json"))["id"] for n in range(4)]
    want = _bd(beads, "show", ids[0], "--json")
    want_ready = _bd(beads, "ready")
    # A cache claiming this very file version whose index points ids[0] at another issue's line.
    s = Store(beads)
    summary = s._ready_summary()
    at = s._summary_index(summary)
    places = array("q", at.places)
    places[0:2] = places[2:4]
    S._write_summary(beads / S.SUMMARY, {k: v for k, v in summary.items() if k not in ("at", "_index")},
                     S._LineIndex(at.ids, places))
    S._SUMMARIES.clear()
    assert Store(beads)._known_summary() is not None  # accepted as this very version's cache
    assert _bd(beads, "show", ids[0], "--json") == want
    # Garbage of every kind: no cache, the same output, no traceback.
    for junk in (b"", S._MAGIC, S._MAGIC + (10**15).to_bytes(8, "little"), b"\x00" * 64,
                 (beads / "issues.jsonl").read_bytes()[:200]):
        (beads / S.SUMMARY).write_bytes(junk)
        assert _bd(beads, "show", ids[0], "--json") == want
        (beads / S.SUMMARY).write_bytes(junk)
        assert _bd(beads, "ready") == want_ready


def test_in_process_reads_follow_other_processes_line_by_line(tmp_path):
    """A long-lived Store (the cockpit, the patrols) re-reads only what another process changed
    (parses of unchanged lines are reused); what it answers is what a fresh reading answers."""
    beads = _store(tmp_path)
    ids = [json.loads(_bd(beads, "create", f"issue {n}", "--json"))["id"] for n in range(6)]
    _bd(beads, "dep", "add", ids[1], ids[0])
    s = Store(beads)

    def same_as_fresh():
        S._SUMMARIES.clear()
        fresh = {i.id: i.data for i in Store(beads).all()}
        assert {i.id: i.data for i in s.all()} == fresh
        assert [i.id for i in s.ready(limit=None)] == [i.id for i in graph.ready({i.id: i for i in Store(beads).all()})]
        assert s.dependent_counts() == Store(beads).dependent_counts()

    s.ready(), s.all()
    _bd(beads, "update", ids[2], "--title", "renamed elsewhere")
    assert s.get(ids[2]).title == "renamed elsewhere"
    same_as_fresh()
    _bd(beads, "close", ids[0])  # unblocks ids[1]
    assert ids[1] in [i.id for i in s.ready(limit=None)]
    same_as_fresh()
    _bd(beads, "create", "added elsewhere")
    same_as_fresh()
    # A line another process broke is reported by this process too, and skipped.
    text = (beads / "issues.jsonl").read_text()
    (beads / "issues.jsonl").write_text(text.replace(f'{{"id":"{ids[3]}",', f'{{"id":"{ids[3]}",,', 1))
    assert [p.line for p in s.known_problems()] == [text[:text.index(ids[3])].count("\n") + 1]
    assert s.try_get(ids[3]) is None and ids[3] not in {i.id for i in s.all()}
    same_as_fresh()


def test_a_time_that_is_not_a_string_is_no_time_in_a_writers_summary_too(tmp_path):
    # A line from git with a number for defer_until: a full rebuild reads it as no time (ready
    # now). A reopen that makes the writer add its row to the next summary must say the same, or
    # `bd ready` hides the issue until the cache is rebuilt.
    beads = _store(tmp_path)
    n = json.loads(_bd(beads, "create", "normal", "--json"))["id"]
    f = json.loads(_bd(beads, "create", "float times", "--json"))["id"]
    _bd(beads, "close", f)
    path = beads / "issues.jsonl"
    recs = [json.loads(line) for line in path.read_text().splitlines()]
    for rec in recs:
        if rec["id"] == f:
            rec["defer_until"], rec["created_at"] = 4102444800.0, 1.7e9
    path.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in recs))
    _bd(beads, "ready")
    _bd(beads, "reopen", f)
    assert (beads / ".ready.cache").exists()
    assert sorted(_rows(beads, "ready")) == sorted([n, f])
    (beads / ".ready.cache").unlink()
    assert sorted(_rows(beads, "ready")) == sorted([n, f])
