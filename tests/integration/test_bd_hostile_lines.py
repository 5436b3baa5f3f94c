"""Hostile lines of issues.jsonl (it arrives by git): every `bd` command reads a line as JSON does,
so listings, lookups and readiness never disagree about one line, and bad lines are reported.

The fast paths read the raw text (the id at the start of a line, the status key) and must fall
back to parsing whenever the raw text could mean something else than the JSON.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli


def _bd(beads, *args, ok=True):
    r = run_cli("bd", *args, "--db", str(beads), timeout=30)
    if ok:
        assert r.returncode == 0, r.stderr
    return r


def _ids(beads, *args) -> list[str]:
    return [d["id"] for d in json.loads(_bd(beads, *args, "--json").stdout)]


def _store(tmp_path, n=3):
    beads = tmp_path / ".beads"
    beads.mkdir(parents=True)
    (beads / "config.yaml").write_text("issue-prefix: gt\n")
    (beads / "issues.jsonl").write_text("")
    ids = [json.loads(_bd(beads, "create", f"issue {k}", "--json").stdout)["id"] for k in range(n)]
    return beads, ids


def _edit_line(beads, iid, edit):
    path = beads / "issues.jsonl"
    lines = path.read_text().splitlines()
    k = next(k for k, ln in enumerate(lines) if ln.startswith(f'{{"id":"{iid}"'))
    lines[k] = edit(lines[k])
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("first", ['"status":"tombstone"', '"status":"closed"'])
@pytest.mark.parametrize("last", [',"status":"open"', ', "status" : "open"', ',"st\\u0061tus":"open"'])
def test_the_last_duplicate_status_key_decides_everywhere(tmp_path, first, last):
    """JSON keeps the last of duplicate keys: an issue whose line says tombstone (or closed) and
    then open is open for `bd list` and `bd ready` too, not only for `bd show`."""
    beads, ids = _store(tmp_path)
    iid = ids[1]
    _edit_line(beads, iid, lambda ln: ln.replace('"status":"open"', first)[:-1] + last + "}")
    assert json.loads(_bd(beads, "show", iid, "--json").stdout)[0]["status"] == "open"
    assert iid in _ids(beads, "list", "--all")
    assert iid in _ids(beads, "list")
    assert iid in _ids(beads, "ready")
    assert iid in _bd(beads, "list").stdout


def test_an_escaped_quote_before_status_is_not_the_status_key(tmp_path):
    """`"a\\"status":"tombstone"` is a key `a"status`, not the status: the issue stays listed."""
    beads, ids = _store(tmp_path)
    iid = ids[0]
    _edit_line(beads, iid, lambda ln: ln.replace('"title":', '"a\\"status":"tombstone","title":', 1))
    assert iid in _ids(beads, "list")
    assert iid in _ids(beads, "ready")


def test_a_line_with_two_different_ids_is_a_problem_line(tmp_path):
    """`{"id":"A",...,"id":"B"}`: the line is indexed under A but JSON reads B; it is reported like
    any bad line and skipped by every command, never listed as B and shown as A."""
    beads, ids = _store(tmp_path)
    iid = ids[0]
    _edit_line(beads, iid, lambda ln: ln[:-1] + ',"id":"gt-xp7"}')
    lineno = next(k for k, ln in enumerate((beads / "issues.jsonl").read_text().splitlines(), 1)
                  if ln.startswith(f'{{"id":"{iid}"'))
    for args in (("list",), ("list", "--all"), ("ready",)):
        got = _ids(beads, *args)
        assert iid not in got and "gt-xp7" not in got, args
        assert sorted(got) == sorted(ids[1:]), args
    for other in (iid, "gt-xp7"):
        r = _bd(beads, "show", other, "--json", ok=False)
        assert r.returncode == 1 and "Traceback" not in r.stderr
    r = _bd(beads, "doctor", ok=False)
    assert r.returncode == 1
    assert f"line {lineno}: has two different \"id\" keys" in r.stdout


def _forge_stamp(beads, text: str, layout: str) -> None:
    """Write issues.jsonl as `text` and a store stamp naming this very version with `layout`."""
    path = beads / "issues.jsonl"
    path.write_text(text)
    st = path.stat()
    (beads / ".jsonl.stamp.issues.jsonl").write_text(
        f"{st.st_ino} {st.st_size} {st.st_mtime_ns} {st.st_ctime_ns} {layout}")


def _file_ids(beads) -> list[str]:
    return [json.loads(ln)["id"] for ln in (beads / "issues.jsonl").read_text().splitlines()]


def _shown(beads, iid) -> dict:
    return json.loads(_bd(beads, "show", iid, "--json").stdout)[0]


@pytest.mark.parametrize("forgery", ["unsorted", "no final newline", "wrong line count"])
def test_a_stamp_lying_about_the_layout_is_never_trusted_over_the_file(tmp_path, forgery):
    """A stamp whose fingerprint matches but whose layout (`layout 1 N 1`: standard, N lines,
    sorted) is false: updates find every issue, creates add no duplicate line, nothing hangs
    (every bd call has a subprocess timeout)."""
    beads, ids = _store(tmp_path, n=5)
    lines = (beads / "issues.jsonl").read_text().splitlines()
    lines.sort(key=lambda ln: json.loads(ln)["id"])
    if forgery == "unsorted":
        lines = lines[2:] + lines[:2]
        text, layout = "\n".join(lines) + "\n", f"layout 1 {len(lines)} 1"
    elif forgery == "no final newline":
        text, layout = "\n".join(lines), f"layout 1 {len(lines)} 1"
    else:
        text, layout = "\n".join(lines) + "\n", "layout 1 99 1"
    for iid in sorted(ids):
        _forge_stamp(beads, text, layout)
        _bd(beads, "update", iid, "--title", f"renamed {iid}")
        assert _shown(beads, iid)["title"] == f"renamed {iid}"
        assert sorted(_file_ids(beads)) == sorted(ids)
    # Creating an id the file holds is refused, whatever the stamp says; a new one is added once.
    for iid in sorted(ids):
        _forge_stamp(beads, text, layout)
        r = _bd(beads, "create", "again", "--id", iid, ok=False)
        assert r.returncode == 1 and "Traceback" not in r.stderr
        assert sorted(_file_ids(beads)) == sorted(ids)
    for new in ("gt-000", "gt-mmm", "gt-zzz", f"{sorted(ids)[1]}x"):
        _forge_stamp(beads, text, layout)
        _bd(beads, "create", f"new {new}", "--id", new)
        assert sorted(_file_ids(beads)) == sorted([*ids, new])
        assert _shown(beads, new)["title"] == f"new {new}"
        for iid in ids:
            assert _shown(beads, iid)["id"] == iid
        # What this write stamped is true of the file it wrote.
        _bd(beads, "update", new, "--title", "again")
        assert _file_ids(beads).count(new) == 1 and _shown(beads, new)["title"] == "again"
    _forge_stamp(beads, text, layout)
    made = json.loads(_bd(beads, "create", "generated", "--json").stdout)["id"]
    assert sorted(_file_ids(beads)) == sorted([*ids, made])
