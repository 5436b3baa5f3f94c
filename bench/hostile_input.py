"""Cost of the input checks (issue 12), as agents call the CLI (one process per command).

1. `import gastown_tui.beads.ids` (cumulative, `python -X importtime`, median of N): the id
   grammar is hand-written so that every `bd` call does not pay for `re`.
2. `bd list --all` over the real fixture (5,306 issues), human output (every line through the
   terminal-text sanitizer) vs `--json` (not sanitized): CPU time user+sys of the child, median
   of N, each also as a ratio to `python -c pass` in the same run.
3. In-process: `clean()` per call on a plain 80-character title / one carrying escapes (labelled).

Usage: python bench/hostile_input.py [N]
"""

from __future__ import annotations

import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
FIXTURE = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "real" / "gastown-issues.jsonl"


def cpu(argv: list[str], cwd: str | None = None) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def import_ms(module: str) -> float:
    r = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"], capture_output=True, text=True)
    line = [ln for ln in r.stderr.splitlines() if ln.rstrip().endswith(" " + module)][-1]
    return int(line.split("|")[1]) / 1000


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    ids = statistics.median(import_ms("gastown_tui.beads.ids") for _ in range(n))
    print(f"import gastown_tui.beads.ids (cumulative)   {ids:6.2f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        beads = Path(tmp) / ".beads"
        beads.mkdir()
        shutil.copy(FIXTURE, beads / "issues.jsonl")
        (beads / "config.yaml").write_text("issue-prefix: gt\n")
        env_bd = str(BIN / "bd")
        cpu([env_bd, "list", "--all"], tmp)  # warm caches
        base = statistics.median(cpu([sys.executable, "-c", "pass"]) for _ in range(n))
        human = statistics.median(cpu([env_bd, "list", "--all"], tmp) for _ in range(n))
        js = statistics.median(cpu([env_bd, "list", "--all", "--json"], tmp) for _ in range(n))
        print(f"python -c pass                               {base * 1000:6.1f} ms CPU")
        print(f"bd list --all (5,306, sanitized text)        {human * 1000:6.1f} ms CPU  ratio {human / base:5.2f}")
        print(f"bd list --all --json (not sanitized)         {js * 1000:6.1f} ms CPU  ratio {js / base:5.2f}")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from gastown_tui.infra.termtext import clean

    for label, text in (("plain title", "Fix the flaky login test in the web client " * 2),
                        ("title with escapes", "Fix \x1b[31mred\x1b[0m \x1b]0;x\x07 the login test " * 2)):
        k = 100_000
        t = time.perf_counter()
        for _ in range(k):
            clean(text)
        print(f"in-process clean(), {label:<20} {(time.perf_counter() - t) / k * 1e6:6.2f} µs per call")


if __name__ == "__main__":
    main()
