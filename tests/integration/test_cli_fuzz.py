"""CLI fuzz (issue 12): seeded random arguments for every `gt` and `bd` leaf command.

The parser tree is walked (every group module registers its commands exactly as the CLI does),
and each leaf gets a few argument lists built from its own positionals, options and choices,
mixed with hostile values (path escapes, control characters, over-long names, negative counts).
Each call runs in-process through the CLI framework (the same `run` the console scripts call),
against a real town with a rig and a few beads. Asserted for every call:

- never a traceback: no exception leaves the framework (it turns faults into sentences);
- the exit status is 0, 1 or 2;
- a refused call (status 1 or 2) leaves the town byte-identical (runtime state aside).

`GT_FUZZ_SEED` replays a run; `GT_FUZZ_CASES` (default 3 per leaf) makes it longer. Commands
that start long-running things or replace the process are left out, each with its reason.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib
import io
import os
import random
import signal
import sys
from pathlib import Path


from tests.conftest import run_cli

SKIP = {  # leaf -> why it is not fuzzed
    "gt tui": "opens the full-screen cockpit",
    "gt demo": "builds a demo town and starts a fleet",
    "gt install": "creates a town at the path it is given (anywhere)",
    "gt daemon run": "runs the daemon loop in the foreground",
    "gt deacon run": "runs the deacon patrol loop",
    "gt witness run": "runs a witness patrol loop",
    "gt refinery run": "runs a refinery patrol loop",
    "gt mayor attach": "replaces the process with tmux attach",
    "gt session attach": "replaces the process with tmux attach",
    "gt deacon attach": "replaces the process with tmux attach",
    "gt witness attach": "replaces the process with tmux attach",
    "gt refinery attach": "replaces the process with tmux attach",
    "gt crew at": "replaces the process with tmux attach",
    "gt daemon start": "starts a background daemon",
    "gt mayor start": "starts an agent session",
    "gt mayor restart": "starts an agent session",
    "gt session start": "starts an agent session",
    "gt deacon start": "starts a patrol session",
    "gt witness start": "starts a patrol session",
    "gt refinery start": "starts a patrol session",
    "gt up": "starts the whole fleet",
    "gt start": "starts the whole fleet",
    "gt sling": "spawns polecat sessions",
    "gt formula run": "pours and slings (spawns polecat sessions)",
    "gt formula dispatch": "slings (spawns polecat sessions)",
    "gt resume": "restarts parked agents' sessions",
}
SKIP_OPTIONS = {"--watch": "loops until interrupted", "--town": "the town is given by the environment",
                "-h": "help only", "--help": "help only"}
RUNTIME = (".runtime",)  # locks, heartbeats, logs, nudge queues: not town state
IPC = (".pending",)  # a store's writer hand-off directory (git-ignored, like its lock file)

HOSTILE = ["", "-", "--", "gt-abc", "de-zzz", "hq-cv-zzzzz", "../../etc", "pr-a/../../../../victim", "/",
           "a/b", "x" * 300, "gt-a\tb", "line\nbreak", "\x1b]0;PWNED\x07", "[red]x[/]", "-1", "0", "7",
           "99999999999999999999", "3.5", "nan", "true", "mayor", "deacon", "overseer", "demo",
           "demo/polecats/nux", "demo/crew/nobody", "demo/witness", "hq", "é漢字", "'; rm -rf ~", "$(id)",
           "blocks:gt-abc", "a,b,,c", "{}", "[]", "null", "key=value", "default_agent", "tui.theme",
           "open", "closed", "P0", "task", "nonexistent.jsonl", "../outside.jsonl"]


def leaf_parsers(prog: str):
    """(["gt", "rig", "add"], parser) for every leaf of the real parser tree."""
    from gastown_tui.cli import bd, framework, gt

    groups = (gt if prog == "gt" else bd).GROUPS
    out = []
    for name, g in groups.items():
        root = framework.parser_class()(prog=prog, add_help=False)
        sub = root.add_subparsers(dest="_cmd")
        cp = framework.command(sub, name, g.help)
        importlib.import_module(g.module).register(cp)

        def walk(p, path):
            subs = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
            if not subs:
                out.append((path, p))
                return
            seen = set()
            for a in subs:
                for n, child in a.choices.items():
                    if id(child) not in seen:
                        seen.add(id(child))
                        walk(child, [*path, n])

        walk(cp, [prog, name])
    return out


def _value(rng: random.Random, action: argparse.Action, extra: list[str]) -> str:
    if action.choices and rng.random() < 0.6:
        return str(rng.choice(list(action.choices)))
    return rng.choice(HOSTILE + extra)


def random_args(rng: random.Random, parser: argparse.ArgumentParser, extra: list[str]) -> list[str]:
    args: list[str] = []
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction) or not a.option_strings:
            continue
        flag = rng.choice(a.option_strings)
        if flag in SKIP_OPTIONS or any(s in SKIP_OPTIONS for s in a.option_strings) or rng.random() > 0.35:
            continue
        if a.nargs == 0:
            args.append(flag)
        else:
            args += [flag, _value(rng, a, extra)]
    for a in parser._actions:
        if a.option_strings or isinstance(a, argparse._SubParsersAction):
            continue
        n = {None: 1, "?": rng.randint(0, 1), "*": rng.randint(0, 2), "+": rng.randint(1, 2)}.get(a.nargs, 1)
        if isinstance(a.nargs, int):
            n = a.nargs
        if a.nargs == argparse.REMAINDER:
            n = rng.randint(0, 2)
        args += [_value(rng, a, extra) for _ in range(n)]
    if rng.random() < 0.1:
        args.append(rng.choice(["--bogus", "extra-positional"]))
    return args


def town_state(root: Path) -> dict[str, str]:
    """Every file of the town (runtime state aside) with a digest of its bytes."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        if rel.split(os.sep)[0] in RUNTIME or os.path.basename(dirpath) in IPC or os.path.basename(dirpath) == ".memo":
            dirnames[:] = []
            continue
        for f in filenames:
            if f.endswith((".lock", ".jsonl.stamp")) or f.startswith(".jsonl.stamp") or f == ".ready.cache":
                continue  # lock files and read caches are not state
            p = os.path.join(dirpath, f)
            try:
                with open(p, "rb") as fh:
                    out[os.path.relpath(p, root)] = hashlib.sha1(fh.read()).hexdigest()
            except OSError:
                out[os.path.relpath(p, root)] = "?"
        out[rel + "/"] = "dir"
    return out


class Hang(Exception):
    pass


def call(prog: str, argv: list[str]) -> tuple[int, str]:
    """Run `prog argv` in-process the way the console script does; (exit status, stderr)."""
    from gastown_tui.cli import bd, gt

    out, err = io.StringIO(), io.StringIO()

    def hang(*_a):
        raise Hang(f"{prog} {argv!r} did not finish in 20 s")

    old = signal.signal(signal.SIGALRM, hang)
    signal.alarm(20)
    saved_stdin = sys.stdin
    sys.stdin = io.StringIO("")
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = (gt if prog == "gt" else bd).main(argv)
            except SystemExit as e:  # argparse's own --help/--version exit
                rc = e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
        sys.stdin = saved_stdin
    return rc, err.getvalue()


def test_fuzz_every_leaf_command(rig_town, monkeypatch):
    from gastown_tui.beads.store import Store

    town = rig_town
    store = Store(town.rig("demo").beads_dir)
    real = [store.create("fuzz target").id, store.create("another", type="bug").id]
    assert run_cli("gt", "mail", "send", "mayor", "-s", "hello", "-m", "x", "--no-nudge",
                   "--town", str(town.root)).returncode == 0
    monkeypatch.chdir(town.root)
    monkeypatch.setenv("GT_TOWN_ROOT", str(town.root))
    monkeypatch.setenv("BD_ACTOR", "overseer")
    seed = int(os.environ.get("GT_FUZZ_SEED") or 20261201)
    per_leaf = int(os.environ.get("GT_FUZZ_CASES") or 3)
    rng = random.Random(seed)
    leaves = [(path, p) for prog in ("gt", "bd") for path, p in leaf_parsers(prog)
              if " ".join(path) not in SKIP]
    assert len(leaves) > 100  # the walk found the real tree
    failures = []
    before = town_state(town.root)
    calls = 0
    for path, parser in leaves:
        for _ in range(per_leaf):
            argv = [*path[1:], *random_args(rng, parser, real)]
            calls += 1
            try:
                rc, err = call(path[0], argv)
            except Exception as e:  # noqa: BLE001 - a traceback is exactly what we look for
                failures.append(f"{path[0]} {argv!r}: traceback {type(e).__name__}: {e}")
                before = town_state(town.root)
                continue
            if rc not in (0, 1, 2):
                failures.append(f"{path[0]} {argv!r}: exit status {rc}")
            elif "Traceback" in err:
                failures.append(f"{path[0]} {argv!r}: traceback on stderr")
            after = town_state(town.root)
            if rc in (1, 2) and after != before:
                changed = sorted(k for k in set(after) | set(before) if after.get(k) != before.get(k))
                failures.append(f"{path[0]} {argv!r}: refused (exit {rc}) but changed {changed[:5]}")
            before = after
    assert calls >= 300
    assert not failures, f"seed {seed}: {len(failures)} problem(s):\n" + "\n".join(failures[:40])


def test_every_skipped_leaf_exists_and_says_why():
    real = {" ".join(path) for prog in ("gt", "bd") for path, _ in leaf_parsers(prog)}
    assert set(SKIP) <= real, set(SKIP) - real
    assert all(SKIP.values())
