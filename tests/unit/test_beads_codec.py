"""The JSONL codec and file image: byte-exact round trips of real bd files."""

from __future__ import annotations

import json
import shutil

import pytest

from gastown_tui.beads.codec import dumps, encode_issue, format_ts, set_key, ts_key
from gastown_tui.beads.jsonl import Image
from gastown_tui.beads.store import Store
from tests.conftest import REAL_FIXTURE


def test_real_fixture_round_trips_byte_for_byte(tmp_path):
    raw = REAL_FIXTURE.read_bytes()
    img = Image.read(REAL_FIXTURE)
    assert len(img.records()) == 5306
    assert not img.problems
    assert img.text().encode("utf-8") == raw


def test_every_real_line_reencodes_identically():
    # The encoder itself is exact for bd's lines (Go escaping, key order, omitted empties).
    for line in REAL_FIXTURE.read_text(encoding="utf-8").splitlines():
        assert encode_issue(json.loads(line)).decode() == line


def test_change_to_one_issue_changes_exactly_its_line(tmp_path):
    beads = tmp_path / ".beads"
    beads.mkdir()
    shutil.copy(REAL_FIXTURE, beads / "issues.jsonl")
    before = (beads / "issues.jsonl").read_text(encoding="utf-8").splitlines()
    store = Store(beads)
    target = store.list(status="open")[3]
    store.update(target.id, notes="checked by test")
    after = (beads / "issues.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(after) == len(before)
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    assert len(changed) == 1
    rec = json.loads(after[changed[0]])
    assert rec["id"] == target.id and rec["notes"] == "checked by test"
    # notes goes where bd puts it: after description, before status
    keys = list(rec)
    assert keys.index("notes") < keys.index("status")


def test_go_escaping_and_utf8():
    assert dumps({"t": "<a> & b"}) == '{"t":"\\u003ca\\u003e \\u0026 b"}'
    assert dumps({"t": "héllo ✓"}) == '{"t":"héllo ✓"}'
    assert dumps({"t": "a\u2028b"}) == '{"t":"a\\u2028b"}'


def test_empty_values_omitted_except_required():
    line = encode_issue({"id": "gt-a", "title": "t", "description": "", "priority": 0, "assignee": None,
                         "labels": [], "pinned": False, "created_at": "x", "updated_at": "y"}).decode()
    assert line == '{"id":"gt-a","title":"t","priority":0,"created_at":"x","updated_at":"y"}'


def test_set_key_uses_bd_order_and_keeps_unknown_keys():
    d = {"id": "gt-a", "title": "t", "status": "open", "x_custom": {"k": 1}}
    set_key(d, "description", "d")
    set_key(d, "closed_at", "now")
    assert list(d) == ["id", "title", "description", "status", "closed_at", "x_custom"]


def test_timestamps_with_nanoseconds_and_offsets_compare_as_instants():
    a = ts_key("2026-01-01T15:08:58.978159123-08:00")
    b = ts_key("2026-01-01T23:08:58.978159Z")
    assert abs(a - b) < 1e-5
    assert ts_key("") == 0.0
    s = format_ts(1_700_000_000_123_456_789)
    assert s.endswith(("Z", "0", "5", ":00", ":30")) and ".123456789" in s
    assert abs(ts_key(s) - 1_700_000_000.123456) < 1e-3


def test_schema_and_foreign_lines_are_kept_but_not_issues(tmp_path):
    text = ('{"_schema":"beads","version":1}\n'
            '{"id":"gt-a","title":"A","status":"open","priority":1,"issue_type":"task","created_at":"x","updated_at":"x"}\n'
            '{"_type":"interaction","id":"int-1"}\n')
    img = Image(tmp_path / "issues.jsonl", text)
    assert [r["id"] for r in img.records()] == ["gt-a"]
    assert img.text() == text


def test_int_or_string_comment_ids_and_missing_fields_read_with_defaults(tmp_path):
    from gastown_tui.beads.model import Issue

    iss = Issue({"id": "gt-a", "title": "A", "comments": [{"id": 1, "text": "x"}, {"id": "c2", "text": "y"}]})
    assert iss.status == "open" and iss.issue_type == "task" and iss.priority == 0
    assert [c["id"] for c in iss.comments] == [1, "c2"]


def test_fast_lookups_and_edits_match_the_indexed_path(tmp_path):
    # Lookups/edits on the raw text (no split, no index) must give exactly what the indexed path gives.
    text = REAL_FIXTURE.read_text(encoding="utf-8")
    ids = [json.loads(x)["id"] for x in text.splitlines()]
    fast, slow = Image(tmp_path / "a", text), Image(tmp_path / "b", text)
    slow._materialize()
    for iid in (ids[0], ids[1], ids[2500], ids[-1], "gt-nope"):
        assert fast.record(iid) == slow.record(iid)
        assert (iid in fast) == (iid in slow)
    assert len(fast) == len(slow) == 5306
    assert fast._lines is not None  # after several lookups it indexed the file once
    fast = Image(tmp_path / "a", text)
    for img in (fast, slow):
        for iid in (ids[0], ids[-1], ids[100]):
            rec = img.fresh_record(iid)
            rec["notes"] = "edited"
            img.put(rec)
        img.put({"id": "gt-new1", "title": "n", "priority": 1, "created_at": "x", "updated_at": "x"})
        img.put({"id": "gt-new1", "title": "n2", "priority": 1, "created_at": "x", "updated_at": "x"})
    assert fast._lines is None  # stayed on the fast path
    assert fast.text() == slow.text()
    assert fast.record("gt-new1")["title"] == "n2"
    assert fast.children_numbers("gt-mol-1wf2") == slow.children_numbers("gt-mol-1wf2")
    dup = Image(tmp_path / "c", text + text.splitlines()[5] + "\n")
    assert dup.record(ids[5]) == json.loads(text.splitlines()[5]) and dup.duplicates == [ids[5]]


JSON_SAMPLES = ['{"id":"gt-1","title":"x"}', ' {"a": [1, 2.5, -3e10, true, false, null]} ', '"\\u00e9\\ud83d\\ude00"',
                '{"n": NaN, "i": Infinity, "m": -Infinity}', '[]', '  ', '', '{"a":1}x', '{"a":', '\ufeff{}',
                '{"a":"\\x"}', '1 2', '{"deep": {"b": [{"c": "d"}]}}', '"tab\there"', '[1,]', '{"a":1,"a":2}']


def test_codec_loads_is_json_loads_values_and_errors():
    from gastown_tui.beads.codec import loads

    for text in JSON_SAMPLES:
        try:
            want = ("ok", json.loads(text))
        except ValueError as e:
            want = ("err", type(e), str(e))
        try:
            got = ("ok", loads(text))
        except ValueError as e:
            got = ("err", type(e), str(e))
        assert repr(got) == repr(want), text  # repr: NaN != NaN


def test_codec_to_json_is_json_dumps():
    from gastown_tui.beads.codec import dumps, to_json

    values = [json.loads(t) for t in JSON_SAMPLES[:5]] + [{"é": "<&>\u2028", "k": [1, {"x": None}]}, "plain", 3, None,
                                                       {"lone": "\udcff"}]
    for v in values:
        assert to_json(v) == json.dumps(v, ensure_ascii=False)
        assert to_json(v, compact=True) == json.dumps(v, ensure_ascii=False, separators=(",", ":"))
        assert to_json(v, ascii_only=True) == json.dumps(v)
    assert to_json({"s": (1, 2)}, default=list, ascii_only=True) == json.dumps({"s": (1, 2)}, default=list)
    assert dumps({"t": "<a & b>"}) == '{"t":"\\u003ca \\u0026 b\\u003e"}'
    for bad in (float("nan"), {"x": object()}):
        with pytest.raises((ValueError, TypeError)):
            dumps(bad)


def test_codec_loads_words_errors_like_json_in_a_fresh_process():
    # Without the json package imported (as at `bd`/`gt` start-up) the C scanner cannot word its
    # errors itself: loads must still raise json's own error, never a SystemError.
    import subprocess
    import sys

    code = ("import sys\nfrom gastown_tui.beads.codec import loads\nassert 'json' not in sys.modules\n"
            "for t in ['{\"a\":', '[1,]', '{\"a\":1}x']:\n"
            "    try:\n        loads(t)\n    except ValueError as e:\n        print(type(e).__name__, e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["JSONDecodeError Expecting value: line 1 column 6 (char 5)",
                                "JSONDecodeError Expecting value: line 1 column 4 (char 3)",
                                "JSONDecodeError Extra data: line 1 column 8 (char 7)"]


def test_scan_line_parses_a_line_in_place_exactly_as_json_loads_does():
    from gastown_tui.beads.codec import scan_line

    lines = ['{"id":"gt-1","t":"a"}', ' {"id":"gt-2"}', '{"id":"gt-3"}  ', '{"id":"gt-4"', '{"id":"gt-5"}{"x":1}',
             '[1, 2]', '', '"just a string"', '{"id":"gt-6","n":NaN}']
    text = "\n".join(lines)
    start = 0
    for line in lines:
        try:
            want = ("ok", repr(json.loads(line)))
        except ValueError as e:
            want = ("err", str(e))
        try:
            got = ("ok", repr(scan_line(text, start)))
        except ValueError as e:
            got = ("err", str(e))
        assert got == want, line
        start += len(line) + 1


def _random_value(rnd, depth=0):
    kinds = ["str", "int", "float", "none", "bool", "list", "tuple", "dict", "empty"] if depth < 4 else ["str", "int"]
    k = rnd.choice(kinds)
    if k == "str":
        return "".join(rnd.choice(["a", "é", "<", "&", '"', "\\", "\n", "\x00", "\u2028", "\udcff", "😀", " "])
                       for _ in range(rnd.randint(0, 6)))
    if k == "int":
        return rnd.choice([0, -1, 2**70, rnd.randint(-999, 999)])
    if k == "float":
        return rnd.choice([0.1, -0.0, 1e300, float("nan"), float("inf"), float("-inf"), rnd.random()])
    if k == "none":
        return None
    if k == "bool":
        return rnd.random() < 0.5
    if k in ("list", "tuple"):
        items = [_random_value(rnd, depth + 1) for _ in range(rnd.randint(0, 4))]
        return items if k == "list" else tuple(items)
    if k == "dict":
        keys = [rnd.choice(["id", "é", 3, 2.5, True, False, None, "", "x\ny"]) for _ in range(rnd.randint(0, 4))]
        return {key: _random_value(rnd, depth + 1) for key in keys}
    return rnd.choice([[], {}, (), ""])


def test_indented_to_json_is_json_dumps_with_indent_on_many_seeds():
    import random

    from gastown_tui.beads.codec import to_json

    for seed in range(400):
        v = _random_value(random.Random(seed))
        assert to_json(v, indent=2) == json.dumps(v, indent=2, ensure_ascii=False), seed
        assert to_json(v, indent=2, ascii_only=True) == json.dumps(v, indent=2), seed
        odd = {"w": [v, {1, 2}, b"x"]}  # not JSON: default words them
        assert to_json(odd, indent=2, default=str) == json.dumps(odd, indent=2, ensure_ascii=False, default=str), seed


def test_indented_to_json_errors_are_json_dumps_errors():
    from gastown_tui.beads.codec import to_json

    loop: list = []
    loop.append(loop)
    cases = [{"k": object()}, {(1, 2): 1}, loop, [{"a": {1: set()}}]]
    for v in cases:
        with pytest.raises((TypeError, ValueError)) as want:
            json.dumps(v, indent=2, ensure_ascii=False)
        with pytest.raises(type(want.value)) as got:
            to_json(v, indent=2)
        assert str(got.value) == str(want.value)
    assert to_json({"s": {1, 2}}, indent=2, default=sorted) == json.dumps({"s": {1, 2}}, indent=2, default=sorted)


def test_bd_json_output_does_not_import_json_or_re(tmp_path):
    # `import json` pulls in `re` and `enum` (~6 ms of every bd start-up): bd's hot listings
    # print through the codec alone, in a fresh process, as agents run them.
    import subprocess
    import sys

    from gastown_tui.beads.store import init_store

    s = init_store(tmp_path / ".beads", "gt")
    iid = s.create("one", description="<b> & é").id
    s.ready()  # the summary exists, as for any second `bd ready`
    code = ("import sys\nfrom gastown_tui.cli import bd\nsys.argv = ['bd'] + sys.argv[1:]\n"
            "try:\n    bd.main()\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('json', 're', 'enum') if m in sys.modules), file=sys.stderr)\n")
    for argv in (["ready", "--json"], ["show", iid, "--json"]):
        p = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, cwd=tmp_path, check=True)
        assert p.stderr.strip().splitlines()[-1] == "[]", (argv, p.stderr)
        assert json.loads(p.stdout)[0]["id"] == iid


def test_a_lone_surrogate_is_written_back_as_its_escape():
    """`\\ud800` in a line that arrived by git reads as a str with no UTF-8 form: the line written
    back holds the same escape, and reads as the same record."""
    from gastown_tui.beads.codec import encode_issue, loads

    rec = {"id": "hq-\ud800x", "title": "odd \udfff and ünï", "status": "open"}
    line = encode_issue(rec)
    assert b"\\ud800" in line and b"\\udfff" in line and "ünï".encode() in line
    assert loads(line.decode("utf-8")) == rec
