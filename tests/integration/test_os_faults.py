"""OS faults are one sentence, exit 1, nothing half-made (issue 12): a full disk, a read-only
store, over-long names, arguments that are not UTF-8.

The disk faults use a real tiny tmpfs when this machine lets us mount one (root with
CAP_SYS_ADMIN); elsewhere the same fault is injected, in-process, at the store's one write path.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.conftest import BIN, make_git_repo, run_cli


def _try_mount(point: Path, opts: str) -> bool:
    point.mkdir(parents=True, exist_ok=True)
    if os.environ.get("GT_TEST_NO_MOUNT"):  # exercise the injected variant where mounting works
        return False
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(point)], capture_output=True)
    return r.returncode == 0


@pytest.fixture
def small_fs(tmp_path):
    """A 256 KiB tmpfs (None when mounting is not allowed here)."""
    point = tmp_path / f"fs-{uuid.uuid4().hex[:6]}"
    if not _try_mount(point, "size=256k"):
        yield None
        return
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], capture_output=True)


def one_sentence(stderr: str, *words: str) -> None:
    assert "Traceback" not in stderr, stderr
    assert stderr.count("\n") == 1, stderr
    for w in words:
        assert w in stderr, stderr


def run_bd_in_process(args, cwd, monkeypatch):
    """`bd ARGS` in this process (to inject a fault); returns (exit code, stderr)."""
    from gastown_tui.cli import bd

    monkeypatch.chdir(cwd)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = bd.main(list(args))
    return rc, err.getvalue()


def store_files(beads: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in beads.iterdir() if p.is_file() and not p.name.startswith(".jsonl")}


def test_a_full_disk_is_one_sentence_and_the_store_is_unchanged(small_fs, tmp_path, monkeypatch):
    root = small_fs or tmp_path
    repo = make_git_repo(root / "p")
    assert run_cli("bd", "init", "--prefix", "gt", cwd=repo).returncode == 0
    assert run_cli("bd", "create", "first", cwd=repo).returncode == 0
    beads = repo / ".beads"
    before = store_files(beads)
    big = "x" * 200_000
    if small_fs is not None:
        fd = os.open(small_fs / "filler", os.O_WRONLY | os.O_CREAT)  # fill the disk to the last block
        with contextlib.suppress(OSError):
            while True:
                os.write(fd, b"\0" * 4096)
        os.close(fd)
        r = run_cli("bd", "create", "second", "--stdin", cwd=repo, input=big)
        rc, err = r.returncode, r.stderr
    else:
        def full(*_a, **_k):  # where a full disk shows up at the latest: flushing the temp file
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(os, "fsync", full)
        rc, err = run_bd_in_process(["create", "second", "-d", big[:1000]], repo, monkeypatch)
    assert rc == 1
    one_sentence(err, "no space left on the device", "nothing was changed")
    assert store_files(beads) == before
    assert not [p for p in beads.iterdir() if p.name.endswith(".tmp")]


def test_a_read_only_store_is_one_sentence(tmp_path, monkeypatch):
    point = tmp_path / "ro"
    mounted = _try_mount(point, "size=1m")
    try:
        root = point if mounted else tmp_path
        repo = make_git_repo(root / "p")
        assert run_cli("bd", "init", "--prefix", "gt", cwd=repo).returncode == 0
        before = store_files(repo / ".beads")
        if mounted:
            assert subprocess.run(["mount", "-o", "remount,ro", str(point)]).returncode == 0
            r = run_cli("bd", "create", "x", cwd=repo)
            rc, err = r.returncode, r.stderr
        else:
            real_open = os.open

            def ro_open(path, flags, *a, **k):
                if str(path).endswith(".jsonl.lock"):
                    raise OSError(errno.EROFS, "Read-only file system", str(path))
                return real_open(path, flags, *a, **k)

            monkeypatch.setattr(os, "open", ro_open)
            rc, err = run_bd_in_process(["create", "x"], repo, monkeypatch)
        assert rc == 1
        one_sentence(err, "read-only", ".jsonl.lock")
        assert store_files(repo / ".beads") == before
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(point)], capture_output=True)


def test_over_long_names_are_refused_up_front(town):
    long = "a" * 300
    for args in (["rig", "add", long, "/tmp"], ["formula", "show", long], ["formula", "create", long]):
        r = run_cli("gt", *args, "--town", str(town.root))
        assert r.returncode == 2, (args, r.stderr)
        one_sentence(r.stderr)
        assert "too long" in r.stderr or "at most" in r.stderr, r.stderr
    assert not any(len(p.name) > 255 for p in town.root.rglob("*"))


def test_a_path_too_long_for_the_file_system_is_one_sentence(tmp_path):
    r = run_cli("bd", "list", "--db", str(tmp_path / ("d" * 300) / ".beads"), cwd=tmp_path)
    assert r.returncode == 1
    one_sentence(r.stderr, "too long")


def test_arguments_that_are_not_utf8_are_refused_before_anything_is_written(tmp_path):
    repo = make_git_repo(tmp_path / "p")
    assert run_cli("bd", "init", "--prefix", "gt", cwd=repo).returncode == 0
    before = store_files(repo / ".beads")
    for prog, args in (("bd", [b"create", b"bad \xff title"]), ("bd", [b"create", b"x", b"-l", b"\xfe"]),
                       ("gt", [b"mail", b"send", b"mayor", b"-s", b"\xff"])):
        r = subprocess.run([os.fsencode(BIN / prog), *args], cwd=repo, capture_output=True, env=dict(os.environ))
        err = r.stderr.decode("utf-8", "replace")
        assert r.returncode == 2, err
        one_sentence(err, "not valid UTF-8")
    assert store_files(repo / ".beads") == before


def test_undecodable_stdin_is_one_sentence(tmp_path):
    repo = make_git_repo(tmp_path / "p")
    assert run_cli("bd", "init", "--prefix", "gt", cwd=repo).returncode == 0
    r = subprocess.run([str(BIN / "bd"), "create", "x", "--stdin"], cwd=repo, input=b"\xff\xfe bad",
                       capture_output=True, env={**os.environ, "PYTHONIOENCODING": "utf-8:strict"})
    err = r.stderr.decode("utf-8", "replace")
    assert r.returncode in (1, 2), err
    one_sentence(err)
    assert sys.executable  # the venv's python ran it
