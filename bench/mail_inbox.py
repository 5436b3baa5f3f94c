"""`gt mail inbox --json` with 10k messages in the town store, against `python -c pass`.

CPU time (user + sys of the process and its children, from rusage) as a ratio to `python -c pass`
measured the same way, alternately with the row's own runs (the machine is shared: both drift
together), one process per command, medians of N. Budgets: issue 5
(≤ 3.0, 500 of 10k for the agent) and issue 11 (≤ 4.0 with all 10k for the agent). The store
holds 10,000 persistent messages spread over 20 recipients plus 1,000 protocol wisps; we time the
inbox of one recipient (500 messages), of none, and of the busiest case (all 10k to one address).
Each twice: "hot", the store unchanged since the last poll (the answer comes from the memo,
`beads.memo`), and "cold", the first poll after a `bd` process changed one unrelated issue (the
store's change log says which ids changed: only those are read again). For the busiest case also
the first poll after `bd` changed one of the recipient's own messages (its text in the answer
is replaced), and after another tool rewrote the file (no log line says what changed: the
answer is computed afresh, as on the very first poll).
Usage: python bench/mail_inbox.py [N]
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
from pathlib import Path

from gastown_tui.beads.store import Store

BIN = Path(sys.executable).parent


def _cpu(argv: list[str], env) -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    before = r.ru_utime + r.ru_stime
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime - before


PASS = [sys.executable, "-c", "pass"]


def median_cpu(argv: list[str], n: int, env=None, change=None) -> tuple[float, float]:
    """(median CPU of `argv`, median CPU of `python -c pass` run right after each of its runs):
    on a shared machine the two drift together, so each row is its own ratio.
    `change()` (not timed) runs before each timed run: a store change makes the poll cold."""
    if change is None:  # hot: the memo is there for the first timed run too
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
    times, base = [], []
    for _ in range(n):
        if change is not None:
            change()
        times.append(_cpu(argv, env))
        base.append(_cpu(PASS, env))
    return statistics.median(times), statistics.median(base)


def fill(town: Path, count: int, recipients: list[str], wisps: int) -> None:
    """Write message lines the way the store does (sorted by id, bd's key order)."""
    from gastown_tui.beads.codec import encode_issue, format_ts

    lines = []
    now = time.time_ns()
    for i in range(count):
        to = recipients[i % len(recipients)]
        ts = format_ts(now - (count - i) * 1_000_000_000)
        mid = f"hq-m{i:07d}"
        lines.append({"id": mid, "title": f"Message {i} about the thing", "description": "Body line one.\nLine two.\n" * 3,
                      "status": "open", "priority": 2, "issue_type": "message", "assignee": to,
                      "created_at": ts, "updated_at": ts, "created_by": "mayor", "sender": "mayor",
                      "labels": ["from:mayor", f"thread:{mid}"] + (["read"] if i % 3 == 0 else []),
                      "thread_id": mid})
    lines.sort(key=lambda r: r["id"])
    (town / ".beads" / "issues.jsonl").write_bytes(b"".join(encode_issue(r) + b"\n" for r in lines))
    w = []
    for i in range(wisps):
        ts = format_ts(now - i * 1_000_000)
        w.append({"id": f"hq-wisp-{i:06d}", "title": f"POLECAT_DONE p{i}", "description": "Polecat: p\nRig: demo\n",
                  "status": "open", "priority": 2, "issue_type": "message", "assignee": "demo/witness",
                  "created_at": ts, "updated_at": ts, "ephemeral": True, "sender": "demo/polecats/p",
                  "labels": ["from:demo/polecats/p", "msg:POLECAT_DONE"]})
    (town / ".beads" / "wisps.jsonl").write_bytes(b"".join(encode_issue(r) + b"\n" for r in w))


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    with tempfile.TemporaryDirectory() as tmp:
        # Bytecode caching on, as for any installed package (PYTHONDONTWRITEBYTECODE would make
        # every run recompile our modules and measure the compiler instead).
        env = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@x", "GIT_COMMITTER_NAME": "b",
               "GIT_COMMITTER_EMAIL": "b@x"}
        town = Path(tmp) / "town"
        subprocess.run([str(BIN / "gt"), "install", str(town), "--owner", "b@x.com"], check=True,
                       stdout=subprocess.DEVNULL, env=env)
        recipients = ["mayor"] + [f"demo{i}/witness" for i in range(19)]
        fill(town, 10_000, recipients, 1_000)
        gt = [str(BIN / "gt"), "--town", str(town), "mail", "inbox"]
        out = subprocess.run([*gt, "mayor", "--json"], capture_output=True, text=True, check=True, env=env)
        assert len(json.loads(out.stdout)) == 500, "fixture not read as expected"
        median_cpu(PASS, 3, env)
        store = Store(town / ".beads")
        other = [store.create("an unrelated task", actor="bench").id]
        turn = [0]
        bd = [str(BIN / "bd"), "--db", str(town / ".beads")]

        def change(issue: list[str]):
            def run() -> None:  # one write, as another agent's bd makes it: the memo is not current
                turn[0] += 1
                subprocess.run([*bd, "update", issue[0], "--title", f"changed ({turn[0] % 10})"], check=True,
                               stdout=subprocess.DEVNULL, env=env)
            return run

        def rewrite() -> None:  # another tool (git, upstream bd) rewrites the file: nothing is logged
            path = town / ".beads" / "issues.jsonl"
            tmp = path.with_suffix(".other")
            tmp.write_bytes(path.read_bytes())
            os.replace(tmp, path)

        rows = [("python -c pass", median_cpu(PASS, n, env)),
                ("gt --version", median_cpu([str(BIN / "gt"), "--version"], n, env))]
        for label, addr in (("mayor (500 of 10k)", "mayor"), ("deacon (0 of 10k)", "deacon")):
            rows.append((f"inbox {label} hot", median_cpu([*gt, addr, "--json"], n, env)))
            rows.append((f"inbox {label} cold", median_cpu([*gt, addr, "--json"], n, env, change(other))))
        rows.append(("inbox --unread hot", median_cpu([*gt, "mayor", "--unread", "--json"], n, env)))
        fill(town, 10_000, ["mayor"], 1_000)
        other = [store.create("an unrelated task", actor="bench").id]
        out = subprocess.run([*gt, "mayor", "--json"], capture_output=True, text=True, check=True, env=env)
        assert len(json.loads(out.stdout)) == 10_000, "fixture not read as expected"
        mine = [json.loads(out.stdout)[5000]["id"]]
        rows.append(("inbox mayor (10k of 10k) hot", median_cpu([*gt, "mayor", "--json"], n, env)))
        rows.append(("inbox mayor (10k of 10k) cold", median_cpu([*gt, "mayor", "--json"], n, env, change(other))))
        rows.append(("  ... after its own msg changed", median_cpu([*gt, "mayor", "--json"], n, env, change(mine))))
        rows.append(("  ... after another tool wrote", median_cpu([*gt, "mayor", "--json"], max(3, n // 3), env,
                                                                  rewrite)))
        for name, (t, base) in rows:
            print(f"{name:<34} CPU {t * 1000:7.1f} ms  ratio {t / base:4.2f}  (python -c pass {base * 1000:.1f} ms)")


if __name__ == "__main__":
    main()
