"""Shared set-up for the agents-in-tmux benches: a throwaway town on a private tmux socket."""

from __future__ import annotations

import contextlib
import os
import statistics
import tempfile
import time
from pathlib import Path


@contextlib.contextmanager
def bench_town():
    """Yield (town, tmux) in a temp dir with its own tmux server; everything is removed after."""
    os.environ["GT_TMUX_SOCKET"] = f"gt-bench-{os.getpid()}"
    from gastown_tui.infra.tmux import Tmux
    from gastown_tui.town.install import install_town

    with tempfile.TemporaryDirectory(prefix="gt-bench-") as d:
        town = install_town(Path(d) / "town", name="bench", owner="bench@example.com").town
        tm = Tmux.for_town(town)
        try:
            yield town, tm
        finally:
            tm.kill_server()


def wait_prompt(tm, sessions: list[str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    todo = set(sessions)
    while todo:
        got = tm.capture_many(sorted(todo), ansi=False)
        for name, text in got.items():
            lines = [ln for ln in text.split("\n") if ln.strip()]
            if lines and lines[-1].startswith("sim>"):
                todo.discard(name)
        if time.monotonic() > deadline:
            raise SystemExit(f"sims not ready: {sorted(todo)[:5]}")
        time.sleep(0.1)


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


def summary(values_s: list[float]) -> str:
    ms = [v * 1000 for v in values_s]
    return (f"n={len(ms)}  median {statistics.median(ms):.1f} ms  p95 {pct(ms, 95):.1f} ms  "
            f"max {max(ms):.1f} ms")
