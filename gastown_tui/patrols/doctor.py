"""`gt doctor [--fix]`: the town's health, one check per line, each with its fix.

Checks: tmux present and recent enough, the town's tmux socket, town files, every beads store
parses, routes point at stores, every rig's default branch pushed to its upstream, orphaned
sessions / worktrees / branches, stale heartbeats, the daemon, and each configured agent runtime
(installed, its version, can start as this user, has what it needs to reach a model). `fix=True`
repairs only what is safe (nothing with unmerged work) and says what it did.
"""

from __future__ import annotations

import re
import shutil
import time
from typing import Any

from gastown_tui.town.layout import Town

MIN_TMUX = (3, 2)


def _check(name: str, status: str, message: str, hint: str = "", fixed: list[str] | None = None) -> dict[str, Any]:
    return {"name": name, "status": status, "message": message, "hint": hint, "fixed": fixed or []}


def parse_tmux_version(text: str) -> tuple[int, int] | None:
    m = re.search(r"(\d+)\.(\d+)", text or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


def check_tmux(tmux) -> dict[str, Any]:
    path = shutil.which("tmux")
    if not path:
        return _check("tmux", "fail", "tmux is not installed", "install tmux 3.2 or newer (apt install tmux)")
    proc = tmux.run("-V", check=False)
    text = proc.stdout.decode(errors="replace").strip()
    ver = parse_tmux_version(text)
    if ver is None or ver < MIN_TMUX:
        return _check("tmux", "fail", f"{text or 'tmux'} is too old", "install tmux 3.2 or newer")
    return _check("tmux", "ok", f"{text} at {path}")


def check_socket(town: Town, tmux) -> dict[str, Any]:
    sessions = tmux.list_sessions()
    if not sessions:
        return _check("tmux socket", "ok", f"-L {town.tmux_socket}: no server running (nothing started yet)")
    return _check("tmux socket", "ok", f"-L {town.tmux_socket}: {len(sessions)} session(s)")


def check_town_files(town: Town, fix: bool) -> dict[str, Any]:
    from gastown_tui.errors import GtError

    problems, fixed = [], []
    for p in (town.town_json, town.rigs_json):
        try:
            from gastown_tui.town.layout import read_json

            read_json(p)
        except GtError as e:
            problems.append(str(e))
    for d in (town.runtime_dir, town.locks_dir, town.heartbeats_dir):
        if not d.is_dir():
            if fix:
                d.mkdir(parents=True, exist_ok=True)
                fixed.append(f"created {d.relative_to(town.root)}/")
            else:
                problems.append(f"{d.relative_to(town.root)}/ is missing")
    try:
        from gastown_tui.town.config import load_settings

        load_settings(town.root).doc  # noqa: B018 - parse it
    except GtError as e:
        problems.append(str(e))
    for name in town.rigs():
        if not town.rig(name).config_json.exists():
            problems.append(f"rig {name} has no config.json")
    if problems:
        return _check("town files", "fail", "; ".join(problems), "restore the files from git (git -C TOWN status)", fixed)
    return _check("town files", "ok", "town.json, rigs.json, settings and rig configs read", fixed=fixed)


def check_stores(town: Town) -> dict[str, Any]:
    from gastown_tui.beads.store import Store
    from gastown_tui.errors import GtError

    bad, count = [], 0
    dirs = [town.beads_dir] + [town.rig(n).beads_dir for n in sorted(town.rigs())]
    for d in dirs:
        if not d.is_dir():
            bad.append(f"{d} is missing")
            continue
        try:
            st = Store(d)
            count += len(st.all())
            probs = st.problems
            if probs:
                bad.append(f"{d}: {len(probs)} unreadable line(s), first: {probs[0]}")
        except GtError as e:
            bad.append(f"{d}: {e}")
    if bad:
        return _check("beads stores", "fail", "; ".join(bad), "fix the lines by hand or run 'bd doctor'")
    return _check("beads stores", "ok", f"{len(dirs)} store(s), {count} record(s), all parse")


def check_routes(town: Town) -> dict[str, Any]:
    from gastown_tui.beads.routes import beads_dir_for_route, load_routes

    routes = load_routes(town.root)
    bad = []
    for r in routes:
        try:
            if not beads_dir_for_route(town.root, r).is_dir():
                bad.append(f"{r.prefix} -> {r.path}")
        except Exception:  # noqa: BLE001 - a broken redirect is a bad route
            bad.append(f"{r.prefix} -> {r.path}")
    prefixes = {r.prefix for r in routes}
    missing = [f"{e.get('prefix')}- ({n})" for n, e in town.rigs().items() if e.get("prefix") and f"{e['prefix']}-" not in prefixes]
    if bad or missing:
        msg = "; ".join([*(f"route {b} has no store" for b in bad), *(f"no route for {m}" for m in missing)])
        return _check("routes", "fail", msg, "re-add the rig or fix .beads/routes.jsonl")
    return _check("routes", "ok", f"{len(routes)} route(s), all resolve")


def check_orphans(town: Town, tmux, fix: bool) -> dict[str, Any]:
    from gastown_tui.infra import git
    from gastown_tui.patrols.deacon import find_orphans

    sessions, worktrees, branches = find_orphans(town, tmux.panes())
    fixed = []
    if fix:
        for s in sessions:
            if tmux.kill_session(s):
                fixed.append(f"killed orphaned session {s}")
        sessions = []
        for b in list(branches):
            rig, _, br = b.partition(":")
            bare = town.rig(rig).bare_repo
            base = str(town.rig_config(rig).get("default_branch") or "main")
            if git.git_ok(["merge-base", "--is-ancestor", br, base], bare):
                git.delete_branch(bare, br, force=True)
                fixed.append(f"deleted merged branch {br} in {rig}")
                branches.remove(b)
        for w in list(worktrees):
            rig, _, name = w.partition("/")
            from gastown_tui.agents.polecats import unmerged_work
            from gastown_tui.work.nuke import nuke_polecat

            ahead, dirty, _br = unmerged_work(town, rig, name)
            if not ahead and not dirty:
                nuke_polecat(town, rig, name, force=True)
                fixed.append(f"removed idle polecat worktree {w} (nothing unmerged)")
                worktrees.remove(w)
    parts = []
    if sessions:
        parts.append(f"{len(sessions)} orphaned session(s): {', '.join(sessions[:5])}")
    if worktrees:
        parts.append(f"{len(worktrees)} idle polecat worktree(s): {', '.join(worktrees[:5])}")
    if branches:
        parts.append(f"{len(branches)} polecat branch(es) without worktree or MR: {', '.join(branches[:5])}")
    if parts:
        return _check("orphans", "warn", "; ".join(parts),
                      "gt doctor --fix removes the safe ones; 'gt orphans' lists every kind, 'gt cleanup' removes "
                      "them (unmerged work only with --force)", fixed)
    return _check("orphans", "ok", "no orphaned sessions, worktrees or branches", fixed=fixed)


def check_heartbeats(town: Town, tmux, fix: bool, now: float | None = None) -> dict[str, Any]:
    from gastown_tui.agents.heartbeat import all_heartbeats, remove_heartbeat
    from gastown_tui.town.config import load_settings

    now = time.time() if now is None else now
    s = load_settings(town.root)
    limit = max(float(s.get("deacon.heartbeat_stale_seconds")),
                3 * max(float(s.get("witness.patrol_seconds")), float(s.get("refinery.patrol_seconds"))))
    panes = tmux.panes()
    stale, gone, fixed = [], [], []
    for sess, beat in all_heartbeats(town).items():
        if sess not in panes:
            gone.append(sess)
            if fix:
                remove_heartbeat(town, sess)
                fixed.append(f"removed heartbeat of stopped {sess}")
        elif now - float(beat["ts"]) > limit:
            stale.append(f"{sess} ({int(now - float(beat['ts']))}s)")
    if stale:
        return _check("heartbeats", "warn", f"stale: {', '.join(stale)}",
                      "the daemon's boot restarts the deacon; 'gt rig reboot RIG' restarts a rig's patrols", fixed)
    if gone and not fix:
        return _check("heartbeats", "warn", f"left by stopped sessions: {', '.join(gone)}",
                      "gt doctor --fix (or 'gt cleanup --kind heartbeats') removes them")
    return _check("heartbeats", "ok", "every running patrol's heartbeat is fresh", fixed=fixed)


def check_daemon(town: Town) -> dict[str, Any]:
    from gastown_tui.patrols import daemon

    st = daemon.status(town)
    if st["running"]:
        return _check("daemon", "ok", f"running (pid {st['pid']})")
    leftover = daemon.pid_path(town).exists()
    return _check("daemon", "warn", "not running" + (" (stale pidfile)" if leftover else ""),
                  "start it with 'gt daemon start' or 'gt up'")


def check_pushed(town: Town) -> dict[str, Any]:
    """Rigs whose default branch has merged work the upstream lacks (as of the last fetch)."""
    from gastown_tui.errors import GtError
    from gastown_tui.work import upstream

    unpushed, failing = [], []
    for name in sorted(town.rigs()):
        try:
            st = upstream.status(town, name)
        except GtError:
            continue
        if not st["upstream"]:
            continue
        if st["ahead"]:
            unpushed.append(f"{name} ({st['branch']} is {st['ahead']} commit(s) ahead of {st['upstream']}"
                            + ("" if st["push"] else "; merge_queue.push is off") + ")")
        elif st["push"] and st["push_error"]:
            failing.append(f"{name} ({st['push_error']})")
    if unpushed or failing:
        return _check("upstream", "warn", "unpushed work: " + "; ".join(unpushed + failing),
                      "let the refinery push it ('gt refinery run RIG --once'), or see 'gt mq status RIG'")
    return _check("upstream", "ok", "every rig's default branch is on its upstream")


# What each runtime needs in its environment to reach a model (any one of them will do).
RUNTIME_NEEDS: dict[str, tuple[str, ...]] = {
    "claude": ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "CLAUDE_CODE_OAUTH_TOKEN", "~/.claude/.credentials.json"),
    "codex": ("OPENAI_API_KEY", "OPENAI_BASE_URL", "~/.codex/auth.json"),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY", "~/.gemini/oauth_creds.json"),
    "aider": ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_API_BASE"),
}


def configured_runtimes(town: Town, settings) -> dict[str, list[str]]:
    """Runtime name -> who uses it (default_agent, role_agents.*, a rig's agent, [agents.*])."""
    used: dict[str, list[str]] = {}
    used.setdefault(str(settings.get("default_agent") or "claude"), []).append("default_agent")
    roles = settings.get("role_agents", {}) or {}
    for role, name in (roles.items() if isinstance(roles, dict) else []):
        used.setdefault(str(name), []).append(f"role_agents.{role}")
    for rig in town.rigs():
        try:
            agent = town.rig_config(rig).get("agent")
        except Exception:  # noqa: BLE001 - a broken rig config is the town-files check's to report
            agent = None
        if agent:
            used.setdefault(str(agent), []).append(f"rig {rig}")
    agents = settings.get("agents", {}) or {}
    for name in (agents if isinstance(agents, dict) else {}):
        used.setdefault(str(name), []).append(f"[agents.{name}]")
    return used


def check_runtime(town: Town, name: str, users: list[str], settings) -> dict[str, Any]:
    """One runtime: installed (and its version), can start as this user, has what it needs."""
    import os
    from pathlib import Path

    from gastown_tui.agents.runtime_setup import is_claude, running_as_root
    from gastown_tui.agents.runtimes import get_runtime
    from gastown_tui.errors import GtError
    from gastown_tui.infra.proc import run_command, which

    label = f"runtime {name}"
    try:
        rt = get_runtime(name, settings)
    except GtError as e:
        return _check(label, "fail", f"{e} (used by {', '.join(users)})", getattr(e, "hint", "") or "")
    if name == "sim":
        return _check(label, "ok", "built in (the simulated agent; no model)")
    program = rt.program[0] if rt.program else ""
    path = which(program) if program else None
    if not path:
        return _check(label, "warn",
                      f"'{program}' is not installed (used by {', '.join(users)})",
                      f"install {rt.description or name} or pick another runtime: gt config set default_agent sim")
    rc, out = run_command([path, "--version"], timeout=15)
    version = (out.strip().splitlines() or ["?"])[0][:80] if rc == 0 else f"--version failed ({rc})"
    notes, status = [f"{version} at {path}"], "ok"
    if is_claude(rt) and running_as_root():
        if rt.env.get("IS_SANDBOX", "1") in ("", "0"):
            return _check(label, "fail", f"{version}: as root Claude Code refuses --dangerously-skip-permissions "
                          "without IS_SANDBOX=1, and [agents.claude] env sets it off",
                          "run the town as a normal user, or remove IS_SANDBOX from [agents.claude] env")
        notes.append("runs as root: gt sets IS_SANDBOX=1, so its tools run without asking")
        status = "warn"
    needs = RUNTIME_NEEDS.get(rt.name if rt.name in RUNTIME_NEEDS else Path(program).name, ())
    if needs:
        have = [n for n in needs if (n.startswith("~") and Path(n).expanduser().exists())
                or (not n.startswith("~") and (rt.env.get(n) or os.environ.get(n)))]
        if not have:
            return _check(label, "warn", "; ".join(notes) + f"; none of {', '.join(needs)} is set, so it may stop "
                          "at a login screen", f"set one, e.g. gt config agent set {name} env '{{{needs[0]} = \"...\"}}'")
        notes.append(f"model access: {have[0]}")
    hint = "run the town as a normal user unless this machine is a sandbox" if status == "warn" else ""
    return _check(label, status, "; ".join(notes), hint)


def check_runtimes(town: Town) -> list[dict[str, Any]]:
    from gastown_tui.town.config import load_settings

    settings = load_settings(town.root)
    return [check_runtime(town, name, users, settings)
            for name, users in sorted(configured_runtimes(town, settings).items())]


def run_checks(town: Town, *, fix: bool = False, tmux=None) -> list[dict[str, Any]]:
    from gastown_tui.infra.tmux import Tmux

    tm = tmux or Tmux.for_town(town)
    checks = [check_tmux(tm)]
    tmux_ok = checks[0]["status"] == "ok"
    if tmux_ok:
        checks.append(check_socket(town, tm))
    checks += [check_town_files(town, fix), check_stores(town), check_routes(town), check_pushed(town)]
    if tmux_ok:
        checks += [check_orphans(town, tm, fix), check_heartbeats(town, tm, fix)]
    checks += check_runtimes(town)
    checks.append(check_daemon(town))
    if fix:
        d = checks[-1]
        from gastown_tui.patrols import daemon

        if d["status"] != "ok" and daemon.pid_path(town).exists() and not daemon.status(town)["running"]:
            daemon.pid_path(town).unlink()
            d["fixed"].append("removed the stale daemon pidfile")
    return checks
