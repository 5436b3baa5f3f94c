"""Why an agent's process ended: its last screen, kept after the pane is gone.

A runtime that fails at start-up (Claude Code refusing `--dangerously-skip-permissions` as root,
a missing API key, a bad flag) says why on its screen and exits at once. tmux keeps the dead pane
(remain-on-exit), but a restart or a kill throws the screen away, and the operator is left with
"process exited (status 1)". So before a dead pane is replaced or killed its last lines are
recorded in `<town>/.runtime/exits/<session>.json` (the last few exits, newest last), and
`gt agents status --explain`, `gt peek`, the witness's escalation and the cockpit show them.

`summarize(text, status)` is the one reading of a dead screen: tmux's own "Pane is dead (...)"
notice is dropped, and the signature (the last meaningful line, digits folded) tells the
witness that a runtime failed the same way twice, so it escalates instead of restart-looping.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

KEEP_EXITS = 3
KEEP_LINES = 15
# tmux moves a dead pane's screen into its history when it prints its "Pane is dead" notice, so
# a dead screen is captured with this much history.
DEAD_SCREEN_LINES = 200


def dead_screens(tmux, sessions: list[str]) -> dict[str, str]:
    """The screens (with recent history) of dead panes, in one tmux call."""
    return tmux.capture_many(sessions, lines=DEAD_SCREEN_LINES, ansi=False) if sessions else {}


def _tmux_notice_free(line: str) -> str:
    """`line` without tmux's remain-on-exit notice ("Pane is dead (status 1, <date>)")."""
    start = line.find("Pane is dead (")
    if start == -1:
        return line
    end = line.find(")", start)
    return (line[:start] + (line[end + 1:] if end != -1 else "")).strip()


def summarize(text: str, status: int | None) -> dict[str, Any]:
    """The meaningful last lines of a dead pane's screen, and a signature of the failure."""
    lines = [_tmux_notice_free(ln.rstrip()) for ln in (text or "").split("\n")]
    lines = [ln for ln in lines if ln.strip()][-KEEP_LINES:]
    last = lines[-1].strip() if lines else ""
    # The last words alone: tmux sometimes has not recorded the exit status yet when the pane is
    # first seen dead, so the status would make one failure look like two.
    folded = "".join("#" if c.isdigit() else c for c in last)
    return {"status": status, "lines": lines, "last_line": last, "signature": folded}


def exits_path(town_root: Path, session: str) -> Path:
    from gastown_tui.infra.safepath import confine

    return confine(Path(town_root) / ".runtime" / "exits", f"{session}.json", what="session name")


def record_exit(town_root: Path, session: str, text: str, status: int | None, *, now: float | None = None) -> dict[str, Any]:
    """Keep this exit (and the previous few) of `session`; returns the record."""
    from gastown_tui.infra.fsutil import atomic_write_text

    rec = {**summarize(text, status), "ts": time.time() if now is None else now}
    history = exit_history(town_root, session)
    history = [*history, rec][-KEEP_EXITS:]
    path = exits_path(town_root, session)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps({"session": session, "exits": history}, ensure_ascii=False, indent=1) + "\n")
    return rec


def exit_history(town_root: Path, session: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(exits_path(town_root, session).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    exits = data.get("exits") if isinstance(data, dict) else None
    return [e for e in exits if isinstance(e, dict)] if isinstance(exits, list) else []


def last_exit(town_root: Path, session: str) -> dict[str, Any] | None:
    history = exit_history(town_root, session)
    return history[-1] if history else None


def describe(rec: dict[str, Any] | None) -> str:
    """One line: "exited with status 1: <its last words>"."""
    if not rec:
        return ""
    status = rec.get("status")
    head = f"exited with status {status}" if status is not None else "exited"
    last = str(rec.get("last_line") or "")
    return f"{head}: {last[:160]}" if last else head
