"""The lean lane (beads/lean.py) must answer exactly as the full store does, or step aside (None)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from gastown_tui.beads import codec, graph, ids, lean, model
from gastown_tui.beads.store import Store, init_store

FIXTURE = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "real" / "gastown-issues.jsonl"
if not FIXTURE.exists():
    FIXTURE = Path("/work/shared/fixtures/real/gastown-issues.jsonl")


def _real_store(tmp_path: Path) -> Path:
    bdir = tmp_path / ".beads"
    bdir.mkdir()
    shutil.copy(FIXTURE, bdir / "issues.jsonl")
    (bdir / "config.yaml").write_text("issue-prefix: gt\n")
    return bdir


def test_constants_match_the_full_store():
    assert lean.TYPES == model.TYPES
    assert lean.SORTS == graph.SORTS
    assert lean.RECENT_SECONDS == graph.RECENT_SECONDS


def test_json_codec_matches_json_and_bd_on_every_real_line():
    lines = FIXTURE.read_text(encoding="utf-8").splitlines()
    for line in lines:
        obj = json.loads(line)
        assert lean.loads(line) == obj
        assert lean.dumps_pretty(obj) == json.dumps(obj, indent=2, ensure_ascii=False)
        assert lean.dumps_line(obj) == codec.dumps(obj)
    odd = {"f": 1.5, "e": 1e300, "neg": -0.0, "u": "é\u2028<&>\x01\"\\", "n": None, "b": [True, False, [], {}], "i": -7}
    assert lean.dumps_pretty(odd) == json.dumps(odd, indent=2, ensure_ascii=False)
    assert lean.dumps_line(odd) == codec.dumps(odd)
    assert lean.loads(' {"a": [1, 2.5, "x"]} \n') == {"a": [1, 2.5, "x"]}
    for bad in ("", "{", '{"a":1} x', "nope", '{"a":1,}'):
        with pytest.raises(ValueError):
            lean.loads(bad)


def test_show_matches_the_store_and_steps_aside_on_duplicates(tmp_path):
    bdir = _real_store(tmp_path)
    store = Store(bdir)
    some = [json.loads(x)["id"] for x in FIXTURE.read_text().splitlines()[::400]]
    assert lean.show(str(bdir), some) == [store.get(i).to_json() for i in some]
    assert lean.show(str(bdir), ["gt-nope"]) is None
    first = (bdir / "issues.jsonl").read_text().splitlines()[0]
    with open(bdir / "issues.jsonl", "a") as f:
        f.write(first + "\n")
    assert lean.show(str(bdir), [json.loads(first)["id"]]) is None


def test_ready_matches_the_store_for_every_sort(tmp_path):
    bdir = _real_store(tmp_path)
    store = Store(bdir)
    for sort in graph.SORTS:
        want = [i.to_json() for i in store.ready(limit=10, sort=sort)]
        got = lean.ready(str(bdir), 10, sort)
        assert got is not None and got[0] == want and want
    assert lean.ready(str(bdir), 10, "bogus") is None
    (bdir / "issues.jsonl").write_text((bdir / "issues.jsonl").read_text() + "\n")
    assert lean.ready(str(bdir), 10, "hybrid") is None  # the summary is for another version


def test_create_appends_one_line_like_the_store(tmp_path):
    bdir = _real_store(tmp_path)
    before = (bdir / "issues.jsonl").read_bytes()
    args = dict(itype="bug", priority="P1", description="a <b>", assignee=None, actor="tester")
    assert lean.create(str(bdir), "not stamped yet", **args) is None  # a file we did not write: full path
    Store(bdir, actor="tester").create("stamp it")  # the full path checks every line and stamps the file
    mid = (bdir / "issues.jsonl").read_bytes()
    assert mid.startswith(before)
    rec = lean.create(str(bdir), "  lean issue ", **args)
    after = (bdir / "issues.jsonl").read_bytes()
    assert after.startswith(mid) and after.count(b"\n") == mid.count(b"\n") + 1
    assert after[len(mid):] == codec.encode_issue(rec) + b"\n"
    assert Store(bdir).get(rec["id"]).to_json() == rec
    assert rec["title"] == "lean issue" and rec["priority"] == 1 and rec["issue_type"] == "bug"
    assert rec["description"] == "a <b>" and "assignee" not in rec and rec["created_by"] == "tester"
    # The stamp lets the next write skip the full parse, and the full store agrees it is ours.
    assert lean.create(str(bdir), "second", **args) is not None
    Store(bdir).update(rec["id"], notes="fine")
    assert lean.create(str(bdir), "bad type", **{**args, "itype": "nope"}) is None


def test_new_ids_match_the_id_rules():
    taken = {"gt-abc"}
    for count in (0, 50, 5000, 100_000):
        want = ids.generate_id("gt", title="t", description="d", creator="c", timestamp_ns=123, count=count,
                               exists=taken.__contains__)
        assert lean._new_id("gt", "t", "d", "c", 123, count, taken.__contains__) == want
    assert lean.format_ts(1_700_000_000_123_000_000) == codec.format_ts(1_700_000_000_123_000_000)
    assert lean.format_ts(1_700_000_000_000_000_000) == codec.format_ts(1_700_000_000_000_000_000)


def test_finding_the_store_like_open_store(tmp_path, monkeypatch):
    init_store(tmp_path / "proj", "ab")
    sub = tmp_path / "proj" / "src" / "deep"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    assert lean.beads_dir(None) == str((tmp_path / "proj" / ".beads").resolve())
    assert lean.beads_dir(str(tmp_path / "proj")) == str(tmp_path / "proj" / ".beads")
    assert lean.read_prefix(lean.beads_dir(None)) == "ab"
    (tmp_path / "proj" / ".beads" / "redirect").write_text("../other\n")
    assert lean.beads_dir(None) is None  # redirects: the full path follows them
    assert lean.beads_dir(str(tmp_path / "missing")) is None
