"""Formulas and molecules: how long parsing, pouring, reading a checklist and closing a step take.

Run: .venv/bin/python bench/formulas_bench.py [--issues N]
Prints numbers; asserts nothing. The store is seeded with N plain issues first, because every
molecule operation reads the store.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gastown_tui.beads.store import init_store
from gastown_tui.work import formulas as F
from gastown_tui.work import molecules as M


def timed(fn, n: int) -> tuple[float, float]:
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples), max(samples)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--issues", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=20)
    a = ap.parse_args()
    paths = F.search_paths()
    print(f"formulas bench: {a.issues} issues in the store, {a.runs} runs, median / max ms")
    med, mx = timed(lambda: [F.load_formula(i.name, paths) for i in F.list_formulas(paths)], a.runs)
    print(f"  list + load all {len(F.list_formulas(paths))} built-ins   {med:8.2f} / {mx:8.2f}")
    with tempfile.TemporaryDirectory() as d:
        store = init_store(Path(d) / "proj", "gt")
        store.actor = "bench"
        with store.transaction() as tx:
            for i in range(a.issues):
                tx.create(f"issue {i}", description="x" * 80)
        f = F.load_formula("polecat-work", paths)
        mols: list[str] = []
        med, mx = timed(lambda: mols.append(M.pour(store, f, {"issue": "gt-x"})), a.runs)
        print(f"  pour polecat-work (6 steps, 1 transaction) {med:8.2f} / {mx:8.2f}")
        mol = mols[0]
        med, mx = timed(lambda: M.render_checklist(store, mol), a.runs)
        print(f"  render checklist                        {med:8.2f} / {mx:8.2f}")
        cur = [f"{mol}.1"]

        def step():
            _, nxt = M.close_step(store, cur[0], advance=True, actor="bench")
            cur[0] = nxt.id if nxt else cur[0]

        med, mx = timed(step, 5)
        print(f"  close step --continue (5 steps)         {med:8.2f} / {mx:8.2f}")
        bd = str(Path(sys.executable).parent / "bd")
        env = {**os.environ, "BD_ACTOR": "bench"}
        med, mx = timed(lambda: subprocess.run([bd, "mol", "current", mols[1]], cwd=Path(d) / "proj",
                                               capture_output=True, env=env, check=True), 5)
        print(f"  `bd mol current MOL` (process)          {med:8.2f} / {mx:8.2f}")
        med, mx = timed(lambda: subprocess.run([sys.executable, "-c", "pass"], capture_output=True, check=True), 5)
        print(f"  python -c pass (reference)              {med:8.2f} / {mx:8.2f}")


if __name__ == "__main__":
    main()
