"""`gt costs --since 7d --json` over 1M usage records: CPU time and peak memory of the command.

Budget (issue 16): ≤ 2 s CPU, ≤ 200 MB. The records: 850k sim usage lines (30 sessions over 10
days, so --since 7d skips the first 3 by binary search), 100k Claude Code assistant lines in 60
transcripts of 30 polecat workdirs (~1 KB each, every message written twice as Claude Code does
for multi-block replies) and 50k Codex token_count events in 10 rollouts.
Usage: python bench/costs_bench.py [N] [RECORDS]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

BIN = Path(sys.executable).parent


def ts(t: float, micro: bool = False) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z" if micro else \
        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def fill(town: Path, claude: Path, codex: Path, total: int) -> None:
    now = time.time()
    n_sim, n_claude, n_codex = int(total * 0.85), int(total * 0.10), total - int(total * 0.85) - int(total * 0.10)
    span = 10 * 86400
    sim = town / ".runtime" / "sim" / "usage.jsonl"
    sim.parent.mkdir(parents=True, exist_ok=True)
    with open(sim, "w") as f:
        for i in range(n_sim):
            f.write(json.dumps({"ts": ts(now - span + span * i / n_sim), "session": f"gt-demo-p{i % 30}",
                                "bead": f"de-{i:06x}", "input_tokens": 1200 + i % 500, "output_tokens": 300 + i % 77,
                                "simulated": True}) + "\n")
    text = "Let me look at the failing test and fix the import. " * 12
    per = n_claude // 60
    for k in range(60):
        workdir = town / "demo" / "polecats" / f"p{k % 30}"
        d = claude / "projects" / str(workdir).replace("/", "-").replace("_", "-").replace(".", "-")
        d.mkdir(parents=True, exist_ok=True)
        with open(d / f"session-{k}.jsonl", "w") as f:
            for i in range(per):
                t = now - 6 * 86400 + 6 * 86400 * i / per
                line = json.dumps({"parentUuid": f"u{i - 1}", "isSidechain": False, "userType": "external",
                                   "cwd": str(workdir), "sessionId": f"s{k}", "version": "2.0.1", "type": "assistant",
                                   "message": {"id": f"msg_{k}_{i // 2}", "type": "message", "role": "assistant",
                                               "model": "claude-sonnet-4-5-20250929",
                                               "content": [{"type": "text", "text": text}],
                                               "usage": {"input_tokens": 4, "cache_creation_input_tokens": 2000,
                                                         "cache_read_input_tokens": 30000, "output_tokens": 250}},
                                   "requestId": f"req_{k}_{i // 2}", "uuid": f"u{i}", "timestamp": ts(t, True)},
                                  separators=(",", ":"))  # Claude Code writes compact JSON
                f.write(line + "\n")
    per = n_codex // 10
    for k in range(10):
        d = codex / "sessions" / "2026" / "11" / f"{20 + k:02d}"
        d.mkdir(parents=True, exist_ok=True)
        workdir = town / "demo" / "crew" / f"c{k % 3}"
        with open(d / f"rollout-{k}.jsonl", "w") as f:
            f.write(json.dumps({"timestamp": ts(now - 5 * 86400, True), "type": "session_meta",
                                "payload": {"id": f"s{k}", "cwd": str(workdir), "cli_version": "0.58.0"}}) + "\n")
            f.write(json.dumps({"timestamp": ts(now - 5 * 86400, True), "type": "turn_context",
                                "payload": {"cwd": str(workdir), "model": "gpt-5-codex"}}) + "\n")
            for i in range(per):
                f.write(json.dumps({"timestamp": ts(now - 5 * 86400 + i * 5, True), "type": "event_msg",
                                    "payload": {"type": "token_count", "info": {
                                        "total_token_usage": {"input_tokens": 9000 * i, "cached_input_tokens": 8000 * i,
                                                              "output_tokens": 400 * i},
                                        "last_token_usage": {"input_tokens": 9000, "cached_input_tokens": 8000,
                                                             "output_tokens": 400, "reasoning_output_tokens": 100}}}},
                                   separators=(",", ":")) + "\n")


def run_child(argv: list[str], env: dict) -> tuple[float, float, bytes]:
    """CPU seconds and peak RSS (MB) of one run, measured by a wrapper so only this child counts."""
    code = ("import resource,subprocess,sys,json;r=subprocess.run(sys.argv[1:],stdout=subprocess.PIPE,check=True);"
            "u=resource.getrusage(resource.RUSAGE_CHILDREN);"
            "sys.stderr.write(json.dumps([u.ru_utime+u.ru_stime,u.ru_maxrss/1024]));sys.stdout.buffer.write(r.stdout)")
    p = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, check=True, env=env)
    cpu, rss = json.loads(p.stderr)
    return cpu, rss, p.stdout


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    total = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        claude, codex = tmp / "claude", tmp / "codex"
        env = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
               "CLAUDE_CONFIG_DIR": str(claude), "CODEX_HOME": str(codex)}
        town = tmp / "town"
        subprocess.run([str(BIN / "gt"), "install", str(town), "--owner", "b@x.com"], check=True,
                       stdout=subprocess.DEVNULL, env=env)
        fill(town, claude, codex, total)
        size = sum(p.stat().st_size for p in tmp.rglob("*.jsonl"))
        argv = [str(BIN / "gt"), "--town", str(town), "costs", "--since", "7d", "--json"]
        _, _, out = run_child(argv, env)
        rep = json.loads(out)
        records = sum(r["records"] for r in rep["totals"])
        base = statistics.median(run_child([sys.executable, "-c", "pass"], env)[0] for _ in range(3))
        runs = [run_child(argv, env) for _ in range(n)]
        by_agent = [run_child([*argv, "--by-agent", "--by-model"], env) for _ in range(max(1, n // 2))]
        print(f"{total} records ({size / 1e6:.0f} MB of JSONL); counted in the 7-day window: {records} "
              f"(sources {rep['sources']})")
        print(f"python -c pass                       {base * 1000:7.1f} ms CPU")
        print(f"costs --since 7d --json              {statistics.median(r[0] for r in runs):7.2f} s CPU (median of {n}), "
              f"peak RSS {max(r[1] for r in runs):.0f} MB")
        print(f"costs --since 7d --by-agent --by-model {statistics.median(r[0] for r in by_agent):5.2f} s CPU, "
              f"peak RSS {max(r[1] for r in by_agent):.0f} MB")


if __name__ == "__main__":
    main()
