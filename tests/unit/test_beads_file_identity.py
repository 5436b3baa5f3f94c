"""An image's fingerprint and the store's stamp always belong to the very text they describe,
even when another writer replaces issues.jsonl between two system calls."""

from __future__ import annotations

import os

from gastown_tui.beads import jsonl as J
from gastown_tui.beads import store as S
from gastown_tui.beads.store import Store

OTHER = '{"id":"gt-other","title":"written by someone else","status":"open"}\n'


def _store(tmp_path):
    beads = tmp_path / ".beads"
    beads.mkdir()
    (beads / "config.yaml").write_text("issue-prefix: gt\n")
    (beads / "issues.jsonl").write_text("")
    return beads


def _replace_with_other(path, replace=os.replace):
    tmp = str(path) + ".other"
    with open(tmp, "w") as f:
        f.write(OTHER)
    replace(tmp, path)


def test_an_image_fingerprint_is_the_file_it_read(tmp_path, monkeypatch):
    beads = _store(tmp_path)
    Store(beads).create("mine")
    path = beads / "issues.jsonl"

    def replaced_then_opened(p, *args, **kwargs):  # another writer renames its file over ours just before
        if os.fspath(p) == os.fspath(path):
            _replace_with_other(path)
        return open(p, *args, **kwargs)

    monkeypatch.setattr(J, "open", replaced_then_opened, raising=False)
    img = J.Image.read(path)
    monkeypatch.delattr(J, "open")
    st = os.stat(path)
    assert img.fp == (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    assert img.text() == OTHER


def test_no_stamp_vouches_for_a_file_replaced_after_our_write(tmp_path, monkeypatch):
    beads = _store(tmp_path)
    s = Store(beads)
    s.create("first")
    path = beads / "issues.jsonl"
    real = os.replace

    def and_replaced_again(src, dst):
        real(src, dst)
        if os.fspath(dst) == os.fspath(path):
            _replace_with_other(path, real)

    monkeypatch.setattr(os, "replace", and_replaced_again)
    s.create("second")
    monkeypatch.setattr(os, "replace", real)
    assert not S._stamp_matches(beads, path, J.fingerprint(path))
    S._SUMMARIES.clear()
    assert [i.id for i in Store(beads).all()] == ["gt-other"]
    assert [i.id for i in s.all()] == ["gt-other"]
