"""Beads performance: CLI CPU time vs python startup, in-process ready(), concurrent writers, memory.

CLI figures are CPU time (user + sys of the process and its children, from rusage) as a ratio
to `python -c pass` measured the same way in the same run, one process per command, median.
Usage: .venv/bin/python bench/beads_bench.py [--quick] [--reads] [--only ROWS] [--sizes SIZES]
(--reads: the read rows only; --only: some of cli,reads,mol,inproc,writers,cli_writers,memory;
--sizes: some of real,10k,50k; both comma-separated)
Prints numbers; asserts nothing. Synthetic stores are generated in a temp directory.
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT.parent / "shared" / "fixtures" / "real" / "gastown-issues.jsonl"
BD = Path(sys.executable).parent / "bd"
WORDS = "agent polecat witness refinery merge queue convoy hook sling nudge mail bead rig town deacon patrol".split()


def synth(path: Path, n: int, seed: int = 7) -> list[str]:
    """A store shaped like real ones: mostly closed/tombstoned, ~10% open, deps on a third."""
    rnd = random.Random(seed)
    ids = [f"gt-{i:06x}" for i in range(n)]
    lines = []
    for i, iid in enumerate(ids):
        st = rnd.choices(["closed", "tombstone", "open", "in_progress", "hooked"], [45, 40, 10, 3, 2])[0]
        rec = {"id": iid, "title": " ".join(rnd.choices(WORDS, k=6)),
               "description": " ".join(rnd.choices(WORDS, k=rnd.randint(5, 60))), "status": st,
               "priority": rnd.randint(0, 4), "issue_type": rnd.choice(["task", "task", "bug", "feature", "epic"]),
               "created_at": f"2026-01-{1 + i % 28:02d}T10:{i % 60:02d}:00.123456789-08:00",
               "updated_at": "2026-01-29T10:00:00.123456789-08:00"}
        if st == "closed":
            rec["closed_at"] = rec["updated_at"]
        if i and rnd.random() < 0.33:
            rec["dependencies"] = [{"issue_id": iid, "depends_on_id": ids[rnd.randrange(i)],
                                    "type": rnd.choice(["blocks", "parent-child", "related"]),
                                    "created_at": rec["created_at"], "created_by": "bench"}]
        lines.append(json.dumps(rec, separators=(",", ":")))
    path.mkdir(parents=True, exist_ok=True)
    (path / "issues.jsonl").write_text("\n".join(sorted(lines)) + "\n")
    (path / "config.yaml").write_text("issue-prefix: gt\n")
    return ids


def wall(cmd: list[str], runs: int, cwd: Path | None = None) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def cpu(cmd: list[str], runs: int, cwd: Path | None = None) -> float:
    """Median CPU time (user + sys) of one process running `cmd` (and its children)."""
    times = []
    for _ in range(runs):
        before = _children_cpu()
        subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(_children_cpu() - before)
    return statistics.median(times)


def cli_ratios(beads: Path, ids: list[str], runs: int, label: str) -> None:
    base = cpu([sys.executable, "-c", "pass"], runs)
    env_db = ["--db", str(beads)]
    ready = cpu([str(BD), "ready", "--json", *env_db], runs)
    show = cpu([str(BD), "show", ids[len(ids) // 2], "--json", *env_db], runs)
    create = cpu([str(BD), "create", "bench issue", *env_db], runs)
    print(f"[{label}] CPU: python -c pass {base * 1000:.1f} ms | bd ready --json {ready * 1000:.1f} ms "
          f"({ready / base:.2f}x) | bd show ID --json {show * 1000:.1f} ms ({show / base:.2f}x) | "
          f"bd create {create * 1000:.1f} ms ({create / base:.2f}x)")


def cpu_after(cmd: list[str], change: list[str], runs: int) -> float:
    """Median CPU time of `cmd` run right after another process ran `change` (not counted)."""
    times = []
    for _ in range(runs):
        subprocess.run(change, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        before = _children_cpu()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(_children_cpu() - before)
    return statistics.median(times)


def read_ratios(beads: Path, ids: list[str], runs: int, label: str) -> None:
    """The read commands agents call most, on an unchanged store (the ready summary of this file
    version is on disk) and right after another process changed one issue (it is not yet)."""
    base = cpu([sys.executable, "-c", "pass"], runs)
    db = ["--db", str(beads)]
    target = ids[len(ids) // 2]
    change = [str(BD), "update", ids[len(ids) // 3], "--notes", "changed by another process", *db]
    cpu([str(BD), "ready", *db], 1)  # the summary of this version
    rows = {
        "bd ready --json": cpu([str(BD), "ready", "--json", *db], runs),
        "bd show ID --json": cpu([str(BD), "show", target, "--json", *db], runs),
        "bd list --json": cpu([str(BD), "list", "--json", *db], max(3, runs // 3)),
        "bd ready --json after a change": cpu_after([str(BD), "ready", "--json", *db], change, max(3, runs // 3)),
        "bd show ID --json after a change": cpu_after([str(BD), "show", target, "--json", *db], change, max(3, runs // 3)),
    }
    print(f"[{label}] CPU: python -c pass {base * 1000:.1f} ms | "
          + " | ".join(f"{k} {v * 1000:.1f} ms ({v / base:.2f}x)" for k, v in rows.items()))


def mol_ratios(beads: Path, runs: int, label: str) -> None:
    """`bd mol current --json` (by id, and for the actor working on it) with a poured molecule in the store."""
    from gastown_tui.beads.store import Store
    from gastown_tui.work import formulas as F
    from gastown_tui.work import molecules as M

    s = Store(beads, actor="worker")
    mol = M.pour(s, F.load_formula("polecat-work", F.search_paths()), {"issue": "gt-abc"})
    s.update(M.steps(s, mol)[0].id, status="in_progress", assignee="worker")
    base = cpu([sys.executable, "-c", "pass"], runs)
    cpu([str(BD), "ready", "--db", str(beads)], 1)  # the ready summary of this version, as an agent's bd ready leaves it
    by_id = cpu([str(BD), "mol", "current", mol, "--json", "--db", str(beads)], runs)
    mine = cpu([str(BD), "mol", "current", "--json", "--db", str(beads), "--actor", "worker"], runs)
    print(f"[{label}] CPU: python -c pass {base * 1000:.1f} ms | bd mol current MOL --json {by_id * 1000:.1f} ms "
          f"({by_id / base:.2f}x) | bd mol current --json (actor's) {mine * 1000:.1f} ms ({mine / base:.2f}x)")


def in_process(beads: Path, label: str) -> None:
    from gastown_tui.beads.store import Store

    t = time.perf_counter()
    s = Store(beads)
    s.ready()
    cold = time.perf_counter() - t
    warm = []
    for _ in range(20):
        t = time.perf_counter()
        s.ready()
        warm.append(time.perf_counter() - t)
    fresh = []
    for _ in range(5):  # the file's identity changed (touched): re-read, re-check, recompute
        os.utime(beads / "issues.jsonl")
        t = time.process_time()
        s.ready()
        fresh.append(time.process_time() - t)
    ids = [i.id for i in s.list()][:5]
    changed = []
    for n, iid in enumerate(ids):  # another process changed one issue: only its line is parsed again
        subprocess.run([str(BD), "update", iid, "--priority", str(n % 5), "--db", str(beads)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        t = time.process_time()
        s.ready()
        changed.append(time.process_time() - t)
    print(f"[{label}] in-process ready(): warm {statistics.median(warm) * 1000:.2f} ms, "
          f"after another process changed one issue {statistics.median(changed) * 1000:.1f} ms CPU, "
          f"after the file was touched {statistics.median(fresh) * 1000:.1f} ms CPU, first call {cold * 1000:.1f} ms")


WRITER = textwrap.dedent("""
    import sys, time
    from gastown_tui.beads.store import Store
    s = Store(sys.argv[1], actor="w" + sys.argv[2])
    ids = sys.argv[3].split(",")
    go = float(sys.argv[4])
    while time.time() < go:
        time.sleep(0.001)
    for k in range(int(sys.argv[5])):
        if k % 2:
            s.create(f"writer {sys.argv[2]} change {k}")
        else:
            s.update(ids[k % len(ids)], notes=f"w{sys.argv[2]} k{k}")
""")


def writers(beads: Path, ids: list[str], procs: int, each: int, label: str) -> None:
    from gastown_tui.beads.store import Store

    before = len(Store(beads).all())
    targets = ",".join(ids[:: max(1, len(ids) // 40)][:40])
    go = time.time() + 1.5  # all processes start writing at the same moment
    ps = [subprocess.Popen([sys.executable, "-c", WRITER, str(beads), str(n), targets, str(go), str(each)])
          for n in range(procs)]
    for p in ps:
        p.wait()
    elapsed = time.time() - go
    after = len(Store(beads).all())
    created = after - before
    print(f"[{label}] {procs} writer processes x {each} changes (each process one Store, in-process calls): "
          f"{procs * each / elapsed:.0f} changes/s "
          f"({elapsed:.2f} s), created {created}/{procs * (each // 2)} (none lost: {created == procs * (each // 2)})")


def memory(beads: Path, label: str) -> None:
    # VmHWM (peak RSS of this process image); ru_maxrss would include the forking parent's peak.
    code = ("import sys\n"
            "def hwm():\n"
            "    for line in open('/proc/self/status'):\n"
            "        if line.startswith('VmHWM'): return int(line.split()[1])\n"
            "from gastown_tui.beads.store import Store\n"
            "a = hwm(); s = Store(sys.argv[1]); s.ready(); s.list(); s.blocked(); print(a, hwm())")
    out = subprocess.run([sys.executable, "-c", code, str(beads)], capture_output=True, text=True, check=True).stdout
    a, b = (int(x) for x in out.split())
    print(f"[{label}] loaded store (ready+list+blocked): peak RSS {b / 1024:.0f} MB "
          f"(interpreter and imports {a / 1024:.0f} MB)")


def cli_writers(beads: Path, ids: list[str], procs: int, total: int, label: str, runs: int) -> None:
    """`total` mixed changes, each its own `bd` process, `procs` of them running at any moment.

    Every acknowledged change (exit 0) must be in the store afterwards; CPU per acknowledged change
    (all the processes' user + sys) is compared with `python -c pass`.
    """
    from gastown_tui.beads.store import Store

    base = cpu([sys.executable, "-c", "pass"], runs)
    rnd = random.Random(11)
    targets = rnd.sample([i for i in ids if Store(beads).get(i).status != "tombstone"], total)
    jobs = []
    for n, target in enumerate(targets):
        kind = n % 4
        if kind == 0:
            jobs.append(("create", None, f"cli writer {n}", [str(BD), "create", f"cli writer {n}", "--db", str(beads)]))
        elif kind == 1:
            jobs.append(("comment", target, f"note {n}", [str(BD), "comment", "add", target, f"note {n}", "--db", str(beads)]))
        elif kind == 2:
            prio = str(n % 5)
            jobs.append(("priority", target, prio, [str(BD), "update", target, "--priority", prio, "--db", str(beads)]))
        else:
            jobs.append(("label", target, f"lbl{n}", [str(BD), "label", "add", target, f"lbl{n}", "--db", str(beads)]))
    before = _children_cpu()
    t0 = time.perf_counter()
    running: list[tuple[subprocess.Popen, tuple]] = []
    acked = []
    failed: list[tuple[str, int, str]] = []
    todo = list(jobs)
    while todo or running:
        while todo and len(running) < procs:
            job = todo.pop()
            running.append((subprocess.Popen(job[3], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE), job))
        still = []
        for p, job in running:
            if p.poll() is None:
                still.append((p, job))
            elif p.returncode == 0:
                acked.append(job)
            else:
                failed.append((job[0], p.returncode, p.stderr.read().decode(errors="replace").strip()[-300:]))
            if p.returncode is not None:
                p.stderr.close()
        running = still
        time.sleep(0.002)
    elapsed = time.perf_counter() - t0
    used = _children_cpu() - before
    s = Store(beads)
    titles = {i.title for i in s.all()}
    kept = 0
    for kind, target, value, _ in acked:
        if kind == "create":
            kept += value in titles
        elif kind == "comment":
            kept += any(c.get("text") == value for c in s.get(target).comments)
        elif kind == "priority":
            kept += s.get(target).priority == int(value)
        else:
            kept += value in s.get(target).labels
    per = used / max(1, len(acked))
    print(f"[{label}] {procs} concurrent bd processes, {total} mixed changes (create, comment add, update "
          f"--priority, label add): {len(acked)}/{total} acknowledged, {kept}/{len(acked)} kept; CPU per "
          f"acknowledged change {per * 1000:.1f} ms = {per / base:.2f}x python -c pass ({base * 1000:.1f} ms); "
          f"{len(acked) / elapsed:.1f} changes/s")
    for kind, code, err in failed[:3]:
        print(f"    not acknowledged: {kind} exit {code}: {err}")


def main() -> None:
    import compileall

    # Measure steady state: byte-code compiled (PYTHONDONTWRITEBYTECODE would otherwise recompile
    # every changed module in every run).
    compileall.compile_dir(str(ROOT / "gastown_tui"), quiet=1)
    quick = "--quick" in sys.argv
    writes = "--reads" not in sys.argv
    only = set(_arg("--only", "cli,reads,mol,inproc,writers,cli_writers,memory").split(","))
    if not writes:
        only -= {"cli", "writers", "cli_writers"}
    sizes = set(_arg("--sizes", "real,10k,50k").split(","))
    runs = 5 if quick else 15
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if "real" in sizes:
            real = tmp / "real" / ".beads"
            real.mkdir(parents=True)
            shutil.copy(FIXTURE, real / "issues.jsonl")
            (real / "config.yaml").write_text("issue-prefix: gt\n")
            real_ids = [json.loads(x)["id"] for x in FIXTURE.read_text().splitlines()]
            if "cli" in only:
                cli_ratios(real, real_ids, runs, "real 5,306")
            if "reads" in only:
                read_ratios(real, real_ids, runs, "real 5,306")
            if "inproc" in only:
                in_process(real, "real 5,306")
        if "10k" in sizes:
            s10 = tmp / "s10k" / ".beads"
            ids10 = synth(s10, 10_000)
            if "cli" in only:
                cli_ratios(s10, ids10, runs, "synthetic 10k")
            if "reads" in only:
                read_ratios(s10, ids10, runs, "synthetic 10k")
            if "mol" in only:
                mol_ratios(s10, runs, "synthetic 10k")
            if "inproc" in only:
                in_process(s10, "synthetic 10k")
            if "writers" in only:
                writers(s10, ids10, 30, 20 if quick else 50, "synthetic 10k, in-process Store API")
            if "cli_writers" in only:
                cli_writers(s10, ids10, 20, 100 if quick else 300, "synthetic 10k, CLI", runs)
        if "50k" in sizes:
            s50 = tmp / "s50k" / ".beads"
            ids50 = synth(s50, 50_000)
            if "cli" in only:
                cli_ratios(s50, ids50, max(3, runs // 3), "synthetic 50k")
            if "reads" in only:
                read_ratios(s50, ids50, max(3, runs // 3), "synthetic 50k")
            if "inproc" in only:
                in_process(s50, "synthetic 50k")
            if "memory" in only:
                memory(s50, "synthetic 50k")


def _arg(flag: str, default: str) -> str:
    return sys.argv[sys.argv.index(flag) + 1] if flag in sys.argv[:-1] else default


if __name__ == "__main__":
    main()
