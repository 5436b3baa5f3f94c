"""`gt trail`: what agents printed lately, from each session's bounded output log.

Every agent session started by `start_agent` pipes its pane's output (tmux `pipe-pane`) into
`infra/trail_writer.py`, which keeps `.runtime/trail/<session>.log` (+ one rotated `.log.1`) as
`<epoch>\\t<text>` lines, at most 2 x `trail.max_bytes` per session. This module builds that
pipe command and reads the logs back; it never prints.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from gastown_tui.town.layout import Town


def trail_dir(town: Town) -> Path:
    return town.runtime_dir / "trail"


def log_path(town: Town, session: str) -> Path:
    """The log of one session. Session names come from `Agent.session` (or a listing of this
    directory), never from data; anything else is refused rather than turned into a path."""
    from gastown_tui.errors import UsageError

    if not session or not all(c.isalnum() or c in "-_." for c in session) or session.startswith("."):
        raise UsageError(f"'{session}' is not a session name", hint="name an agent, e.g. demo/polecats/furiosa")
    return trail_dir(town) / f"{session}.log"


def pipe_command(town: Town, session: str, max_bytes: int) -> str:
    """The shell command tmux runs for `pipe-pane`: the writer, by absolute path, without site packages."""
    import shlex
    import sys

    from gastown_tui.infra import trail_writer

    path = log_path(town, session)
    path.parent.mkdir(parents=True, exist_ok=True)
    return " ".join(["exec", shlex.quote(sys.executable), "-S", "-E", shlex.quote(trail_writer.__file__),
                     shlex.quote(str(path)), str(int(max_bytes))])


def sessions_with_logs(town: Town) -> list[str]:
    d = trail_dir(town)
    try:
        names = os.listdir(d)
    except OSError:
        return []
    return sorted({n[:-4] for n in names if n.endswith(".log") and not n.startswith(".")})


def read_lines(town: Town, session: str, *, lines: int = 20, since: float | None = None) -> list[dict[str, Any]]:
    """The last `lines` logged lines of a session (oldest first), newer than `since` when given."""
    path = log_path(town, session)
    out: list[dict[str, Any]] = []
    for p in (str(path) + ".1", str(path)):
        try:
            with open(p, encoding="utf-8", errors="replace") as f:
                text = f.read()
        except OSError:
            continue
        for raw in text.splitlines():
            stamp, sep, line = raw.partition("\t")
            if not sep or not stamp.isdigit():
                continue
            t = int(stamp)
            if since is not None and t < since:
                continue
            out.append({"ts": t, "text": line})
    return out[-lines:] if lines else out


def disk_usage(town: Town) -> int:
    """Bytes the trail logs take now (the README states the bound)."""
    total = 0
    d = trail_dir(town)
    try:
        for n in os.listdir(d):
            try:
                total += os.path.getsize(d / n)
            except OSError:
                pass
    except OSError:
        pass
    return total
