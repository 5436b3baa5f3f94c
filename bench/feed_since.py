"""`gt feed --no-follow --since 1h` on a 200k-event `.events.jsonl`, CPU time against `python -c pass`.

Budget (issue 16): the whole command (so its first line too) ≤ 3x `python -c pass` CPU time
(user+sys of the child, same run). The log spans 7 days, ending now (~1,200 events in the last
hour); the feed reads it backwards from the end. Usage: python bench/feed_since.py [N] [EVENTS]
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

BIN = Path(sys.executable).parent


def child_cpu(argv: list[str], env: dict) -> tuple[float, bytes]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True, env=env).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), out


def median_cpu(argv: list[str], n: int, env: dict) -> float:
    return statistics.median(child_cpu(argv, env)[0] for _ in range(n))


def fill(path: Path, count: int, span_s: float) -> None:
    now = time.time()
    types = ["sling", "polecat.spawned", "done", "mail.sent", "merged", "escalation.created", "patrol.witness"]
    with open(path, "w", encoding="utf-8") as f:
        for i in range(count):
            t = now - span_s + span_s * i / count
            ts = datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            rig = f"rig{i % 5}"
            f.write(json.dumps({"ts": ts, "type": types[i % len(types)], "actor": f"{rig}/polecats/p{i % 30}",
                                "rig": rig, "payload": {"bead": f"r{i % 5}-{i:05x}", "subject": "work item"}},
                               separators=(",", ":")) + "\n")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory() as tmp:
        town = Path(tmp) / "town"
        subprocess.run([str(BIN / "gt"), "install", str(town), "--owner", "b@x.com"], check=True,
                       stdout=subprocess.DEVNULL, env=env)
        log = town / ".events.jsonl"
        fill(log, count, 7 * 86400)
        gt = [str(BIN / "gt"), "--town", str(town), "feed", "--no-follow", "--since", "1h"]
        _, out = child_cpu(gt, env)
        shown = out.count(b"\n")
        assert shown > 500, f"expected the last hour's ~{count // 168} events, got {shown}"
        median_cpu([sys.executable, "-c", "pass"], 3, env)
        base = median_cpu([sys.executable, "-c", "pass"], n, env)
        rows = [("python -c pass", base),
                ("gt --version", median_cpu([str(BIN / "gt"), "--version"], n, env)),
                (f"feed --since 1h ({shown} of {count})", median_cpu(gt, n, env)),
                ("feed --since 1h --json", median_cpu([*gt, "--json"], n, env)),
                ("feed -n 20", median_cpu([str(BIN / "gt"), "--town", str(town), "feed", "--no-follow", "-n", "20"], n, env))]
        print(f"log: {log.stat().st_size / 1e6:.1f} MB, {count} events over 7 days")
        for name, t in rows:
            print(f"{name:<34} {t * 1000:7.1f} ms CPU  ratio {t / base:4.2f}")


if __name__ == "__main__":
    main()
