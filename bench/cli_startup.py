"""Startup cost of the CLI: `gt --version` wall time over `python -c pass` (median of N runs).

Budget (issue 2): ratio ≤ 2.0. Usage: python bench/cli_startup.py [N]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def median_wall(argv: list[str], n: int) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    median_wall([sys.executable, "-c", "pass"], 3)  # warm the page cache
    base = median_wall([sys.executable, "-c", "pass"], n)
    rows = [("python -c pass", base)]
    for argv in (["gt", "--version"], ["gt", "--help"], ["bd", "--version"]):
        rows.append((" ".join(argv), median_wall([str(BIN / argv[0]), *argv[1:]], n)))
    for name, t in rows:
        print(f"{name:<16} {t * 1000:7.1f} ms  ratio {t / base:4.2f}")


if __name__ == "__main__":
    main()
