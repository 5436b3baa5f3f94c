"""The sim agent's work loop (DESIGN §9): hook -> edit -> commit -> `gt done`.

On start, and whenever a message mentions its hook (the sling's wake-up nudge, "run gt prime",
new mail about work), the sim:

1. runs `gt hook --json` in its worktree; nothing hooked -> says so and waits;
2. reads the bead's labels for faults (below);
3. applies the file edits in the bead's description — each a fenced block headed `file: <path>`:

       ```file: src/app.py            or      file: src/app.py
       print("new")                            ```python
       ```                                     print("new")
                                               ```

   (the whole file is replaced; paths are relative to the worktree and may not leave it), or,
   with no such block, writes `work/<bead-id>.md` describing the bead;
4. commits as its agent identity (GIT_AUTHOR_NAME etc. come from the session's environment);
5. logs simulated token usage (clearly marked simulated) to `<town>/.runtime/sim/usage.jsonl`;
6. runs `gt done`.

When the bead has a molecule attached (`gt sling --formula`), the sim walks its steps as the
propulsion loop says: `bd close STEP --continue` for each step as the work passes it, all but
the last before `gt done`, the last one after it (the molecule then closes itself).

Faults (bead labels; `$GT_SIM_FAULTS` faults are the terminal's, per message):

- `sim:crash`      exit abruptly (status 3) mid-work, with an uncommitted file written — only the
                   first time: a marker `<town>/.runtime/sim/crashed-<session>-<bead>` makes the
                   restarted sim finish the work;
- `sim:stall`      stop doing anything: busy forever, input ignored;
- `sim:slow=N`     take N extra seconds before committing;
- `sim:conflict`   also rewrite line 1 of README.md (so a rebase onto a branch that changed it
                   conflicts);
- `sim:fail-tests` also write `SIM_TESTS` containing the line `FAIL`. Convention for rigs used in
                   demos and tests: the test command fails when that file says FAIL, e.g.
                   `! grep -qs FAIL SIM_TESTS`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

_RUN_LOCK = threading.Lock()
_FENCE_HEADED = re.compile(r"^```[ \t]*(?:\w+[ \t]+)?file:[ \t]*(\S+)[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
_FENCE_AFTER = re.compile(r"^file:[ \t]*(\S+)[ \t]*\n```[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)
WAKE_WORDS = ("hook", "prime", "work")


def edit_block(path: str, text: str) -> str:
    """A fenced `file: <path>` block (the form `parse_edits` reads) that writes `text` to `path`."""
    return f"\n```file: {path}\n{text}```\n"


def parse_edits(description: str) -> list[tuple[str, str]]:
    """(path, content) for each `file: <path>` fenced block, in order of appearance."""
    found: list[tuple[int, str, str]] = []
    for rx in (_FENCE_HEADED, _FENCE_AFTER):
        for m in rx.finditer(description or ""):
            found.append((m.start(), m.group(1), m.group(2)))
    found.sort()
    return [(p, c) for _, p, c in found]


def bead_faults(labels: list[str]) -> dict[str, Any]:
    from gastown_tui.sim.agent import parse_faults

    return parse_faults(",".join(lb for lb in labels if lb.startswith("sim:")))


def _gt(args: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gastown_tui.cli.gt", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env=dict(os.environ))


def _bd(args: list[str], cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gastown_tui.cli.bd", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


class _Molecule:
    """The open steps of the molecule on our hook, closed in order with `bd close --continue`."""

    def __init__(self, ctx, workdir: Path, bead_id: str) -> None:
        self.ctx, self.workdir, self.open = ctx, workdir, []
        # Only a molecule attached to our bead is ours to walk (a bead that is itself a step of a
        # `gt formula run` molecule shares it with other polecats).
        shown = _bd(["show", bead_id, "--json"], workdir)
        recs = json.loads(shown.stdout) if shown.returncode == 0 else []
        attached = recs[0].get("attached_molecule") if recs else None
        if not attached:
            return
        r = _bd(["mol", "current", attached, "--json"], workdir)
        if r.returncode == 0:
            cur = json.loads(r.stdout)
            self.open = [st["id"] for st in cur.get("steps") or () if st.get("state") != "done"]

    def advance(self, keep: int = 0) -> None:
        """Close open steps in order until only `keep` are left."""
        while len(self.open) > keep:
            step = self.open.pop(0)
            r = _bd(["close", step, "--continue"], self.workdir)
            if r.returncode != 0:
                self.ctx.say(f"✗ bd close {step} --continue: {r.stderr.strip()}")
                self.open = []
                return
            self.ctx.say(f"✓ bd close {step} --continue")


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.setdefault("GIT_AUTHOR_EMAIL", "sim@localhost")
    env.setdefault("GIT_COMMITTER_EMAIL", env["GIT_AUTHOR_EMAIL"])
    env.setdefault("GIT_AUTHOR_NAME", env.get("BD_ACTOR") or "sim")
    env.setdefault("GIT_COMMITTER_NAME", env["GIT_AUTHOR_NAME"])
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=60)


def _set_busy(ctx, busy: bool) -> None:
    """Show the terminal's busy indicator while working (the status engine reads it)."""
    screen = ctx.screen
    if screen is None or not hasattr(screen, "busy") or not hasattr(screen, "lock"):
        return
    with screen.lock:
        screen.busy = busy
        screen.write("\r\x1b[K" + screen._bottom())


def write_work(workdir: Path, bead_id: str, title: str, description: str, agent: str,
               say=lambda _m: None) -> list[str]:
    """Apply the bead's `file:` blocks (or write `work/<bead-id>.md`) inside `workdir`; the
    relative paths written. Every path goes through the one confining function, so neither a
    `../` nor a committed symlink takes a write outside the worktree."""
    from gastown_tui.beads import ids
    from gastown_tui.infra.safepath import UnsafePath, confine

    edits = parse_edits(description or "")
    written = []
    for rel, content in edits:
        try:
            target = confine(workdir, rel, what="file path")
        except UnsafePath as e:
            say(f"✗ refusing to write outside the worktree: {e}")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
        written.append(rel)
    if not edits:
        if not ids.is_valid_id(bead_id):
            say(f"✗ refusing to name a file after {ids.shown(bead_id)}: not a valid bead id")
            return written
        try:
            note = confine(workdir, "work", f"{bead_id}.md", what="work note")
        except UnsafePath as e:
            say(f"✗ refusing to write outside the worktree: {e}")
            return written
        note.parent.mkdir(parents=True, exist_ok=True)
        note.write_text(f"# {bead_id}: {title}\n\n{description or ''}\n\nDone by {agent} (sim).\n", encoding="utf-8")
        written.append(f"work/{bead_id}.md")
    return written


def commit_work(workdir: Path, message: str) -> tuple[bool, str]:
    """`git add -A; git commit`: (True, "") when a commit was made, (False, why) when not."""
    _git(["add", "-A"], workdir)
    c = _git(["commit", "-q", "-m", message], workdir)
    if c.returncode == 0:
        return True, ""
    out = (c.stdout + c.stderr).strip()
    return False, "nothing to commit" if "nothing to commit" in out or "nothing added" in out else out


def _log_usage(ctx, bead_id: str, text_len: int) -> dict[str, Any]:
    from gastown_tui.infra.fsutil import append_line
    from gastown_tui.work.costs import sim_usage_path

    usage = {"ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "session": ctx.session, "bead": bead_id,
             "input_tokens": 1200 + text_len // 3, "output_tokens": 300 + text_len // 4, "simulated": True,
             "model": os.environ.get("GT_SIM_MODEL") or None}
    path = Path(sim_usage_path(ctx.town_root))
    path.parent.mkdir(parents=True, exist_ok=True)
    append_line(path, json.dumps(usage))
    return usage


def work_once(ctx) -> str:
    """Do the hooked work once; returns what happened ("nothing", "done", "failed: ...")."""
    cwd = Path.cwd()
    r = _gt(["hook", "--json"], cwd)
    if r.returncode != 0:
        ctx.say(f"✗ gt hook failed: {r.stderr.strip()}")
        return f"failed: {r.stderr.strip()}"
    info = json.loads(r.stdout)
    bead = info.get("bead")
    if not bead:
        ctx.say("○ nothing on my hook; waiting")
        return "nothing"
    bead_id, title = bead["id"], bead["title"]
    workdir = Path(info.get("workdir") or cwd)
    faults = bead_faults(bead.get("labels") or [])
    ctx.say(f"● working on {bead_id}: {title}")
    if faults.get("stall"):
        ctx.say("… (fault injected: sim:stall) thinking very hard")
        if ctx.screen is not None and hasattr(ctx.screen, "stalled"):
            with ctx.screen.lock:
                ctx.screen.stalled = True
        _set_busy(ctx, True)
        threading.Event().wait()
    _catch_up(workdir)
    mol = _Molecule(ctx, workdir, bead_id)
    mol.advance(keep=len(mol.open) - 1 if len(mol.open) > 1 else len(mol.open))  # context loaded
    written = write_work(workdir, bead_id, title, bead.get("description") or "", info.get("agent") or "", ctx.say)
    if faults.get("crash"):
        from gastown_tui.beads import ids
        from gastown_tui.infra.safepath import confine

        marker = confine(Path(ctx.town_root) / ".runtime" / "sim", f"crashed-{ctx.session}-{ids.token(bead_id)}")
        if not marker.exists():
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.write_text("crashed once\n")
            ctx.say("✗ sim crashed mid-work (fault injected: sim:crash)")
            sys.stdout.flush()
            os._exit(3)
    if faults.get("conflict"):
        readme = workdir / "README.md"
        lines = readme.read_text(encoding="utf-8").splitlines(keepends=True) if readme.exists() else []
        first = f"# {title} ({info.get('agent')})\n"
        readme.write_text("".join([first, *lines[1:]]), encoding="utf-8")
        written.append("README.md")
    if faults.get("fail-tests"):
        (workdir / "SIM_TESTS").write_text("FAIL\n", encoding="utf-8")
        written.append("SIM_TESTS")
    slow = float(faults.get("slow") or 0)
    if slow:
        ctx.say(f"… (fault injected: sim:slow={slow:g})")
        time.sleep(slow)
    committed, why = commit_work(workdir, f"{bead_id}: {title}")
    if not committed and why != "nothing to commit":
        ctx.say(f"✗ git commit failed: {why}")
        return "failed: commit"
    if not written and not committed:
        ctx.say("✗ nothing written, nothing committed; not submitting")
        return "failed: nothing written"
    usage = _log_usage(ctx, bead_id, len(bead.get("description") or ""))
    what = f"committed {', '.join(written)}" if committed else f"nothing new to commit ({', '.join(written)} unchanged)"
    ctx.say(f"{'✓' if committed else '○'} {what} · tokens (simulated): in {usage['input_tokens']}, "
            f"out {usage['output_tokens']}")
    mol.advance(keep=1)  # implemented, reviewed, tested, committed: only "submit" is left
    d = _gt(["done", "--json"], workdir)
    if d.returncode != 0:
        ctx.say(f"✗ gt done failed: {d.stderr.strip()}")
        return f"failed: {d.stderr.strip()}"
    res = json.loads(d.stdout)
    ctx.say(f"✓ gt done: {res.get('mr') or res.get('status')} on {res.get('branch')}")
    mol.advance(keep=0)  # submitted: the last step closes, and the molecule with it
    return "done"


def _catch_up(workdir: Path) -> None:
    """Rework after a REWORK_REQUEST: rebase the branch onto the rig's default branch, keeping our
    side of conflicting hunks (what a real agent does by hand). A no-op when already up to date;
    any failure is undone and the work goes on as before."""
    rig = os.environ.get("GT_RIG")
    town = os.environ.get("GT_TOWN_ROOT")
    if not rig or not town:
        return
    try:
        base = json.loads((Path(town) / rig / "config.json").read_text()).get("default_branch") or "main"
    except (OSError, ValueError):
        return
    if _git(["merge-base", "--is-ancestor", base, "HEAD"], workdir).returncode == 0:
        return
    if _git(["rebase", "-q", "-X", "theirs", base], workdir).returncode != 0:
        _git(["rebase", "--abort"], workdir)


def _run(ctx) -> str:
    if not _RUN_LOCK.acquire(blocking=False):
        ctx.say("○ already working")
        return "busy"
    try:
        _set_busy(ctx, True)
        try:
            return work_once(ctx)
        except Exception as e:  # noqa: BLE001 - a sim never dies of its own bug silently
            ctx.say(f"✗ work loop error: {e}")
            return f"failed: {e}"
    finally:
        _set_busy(ctx, False)
        _RUN_LOCK.release()


def _is_agent(ctx) -> bool:
    env = getattr(ctx, "env", None) or os.environ
    return bool(env.get("GT_ROLE") and env.get("BD_ACTOR") and env.get("GT_TOWN_ROOT"))


def on_start(ctx) -> None:
    """Check the hook in the background so the terminal stays responsive."""
    if not _is_agent(ctx):
        return
    threading.Thread(target=_run, args=(ctx,), daemon=True, name="sim-work").start()


def on_message(ctx, text: str) -> bool:
    """Work when a message mentions the hook/prime/work; True when handled."""
    if not _is_agent(ctx) or not any(w in (text or "").lower() for w in WAKE_WORDS):
        return False
    _run(ctx)
    return True
