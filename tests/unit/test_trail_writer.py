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
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["gt-demo-nux.log", "gt-demo-nux.log.1"]
    assert all((tmp_path / f).stat().st_size <= 65_536 for f in files)
    last = log.read_text().splitlines()[-1]
    assert last.endswith("line 039999 of a chatty agent")


def test_lines_of_matches_the_sanitizer():
    assert trail_writer.lines_of("a\x1b[2Kb\r\n \n", sanitize) == ["ab"]
