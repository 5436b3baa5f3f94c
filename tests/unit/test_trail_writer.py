"""The trail writer keeps text, not escapes, and never more than 2 x max bytes per session."""

from __future__ import annotations

import subprocess
import sys

from gastown_tui.infra import trail_writer
from gastown_tui.infra.termtext import clean as sanitize


def run_writer(path, data: bytes, max_bytes: int) -> None:
    subprocess.run([sys.executable, "-S", "-E", trail_writer.__file__, str(path), str(max_bytes)], input=data,
                   check=True, timeout=60)


def test_lines_are_clean_text(tmp_path):
    log = tmp_path / "trail" / "gt-demo-nux.log"
    run_writer(log, b"\x1b[31mred\x1b[0m line\r\nprogress 10%\rprogress 100%\n\n\x1b]0;title\x07\ttabbed\nno newline at end", 100_000)
    lines = [ln.split("\t", 1) for ln in log.read_text().splitlines()]
    assert all(stamp.isdigit() for stamp, _ in lines)
    assert [t for _, t in lines] == ["red line", "progress 100%", "    tabbed", "no newline at end"]


def test_rotation_bounds_the_disk(tmp_path):
    log = tmp_path / "gt-demo-nux.log"
    data = b"".join(b"line %06d of a chatty agent\n" % i for i in range(40_000))  # ~1.1 MB
    run_writer(log, data, 65_536)
    # how many batches the writer made depends on how fast the input came (one batch keeps only
    # its last max_bytes, so no .1 is needed): the bound and the newest line hold either way
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files in (["gt-demo-nux.log"], ["gt-demo-nux.log", "gt-demo-nux.log.1"])
    assert all((tmp_path / f).stat().st_size <= 65_536 for f in files)
    last = log.read_text().splitlines()[-1]
    assert last.endswith("line 039999 of a chatty agent")


def test_the_log_rotates_to_one_old_file_before_it_passes_the_bound(tmp_path):
    log = tmp_path / "gt-demo-nux.log"
    w = trail_writer._Log(str(log), 4096)
    for batch in range(40):  # ~50 KB in batches of ~1.2 KB
        w.append([f"batch {batch:02d} line {i:02d}" for i in range(60)])
    w.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gt-demo-nux.log", "gt-demo-nux.log.1"]
    assert all(p.stat().st_size <= 4096 for p in tmp_path.iterdir())
    assert log.read_text().splitlines()[-1].endswith("batch 39 line 59")
    old = (tmp_path / "gt-demo-nux.log.1").read_text().splitlines()
    assert old and old[-1].split("\t")[1] < log.read_text().splitlines()[0].split("\t")[1]  # older batches


def test_lines_of_matches_the_sanitizer():
    assert trail_writer.lines_of("a\x1b[2Kb\r\n \n", sanitize) == ["ab"]
