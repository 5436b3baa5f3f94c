"""Shared fixtures: isolated environment, real git identity, a private tmux socket, towns in tmp_path.

Other areas add their fixtures below; keep this file additive.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"
REAL_FIXTURE = SHARED / "fixtures" / "real" / "gastown-issues.jsonl"
BIN = Path(sys.executable).parent

# Upstream's beads-mcp lives in a virtual environment of its own: `.ci/beads_mcp` (run by .ci/run
# right after `make test`) builds it and runs tests/integration/test_beads_mcp.py with
# $BEADS_MCP_PYTHON set. The main suite leaves that module to it rather than skipping it.
collect_ignore = [] if os.environ.get("BEADS_MCP_PYTHON") else ["integration/test_beads_mcp.py"]


def wait_for(condition, timeout: float = 10.0, interval: float = 0.05, message: str = "condition"):
    """Poll `condition()` until it returns a truthy value; fail the test with `message` on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


@pytest.fixture(scope="session")
def tmux_socket() -> str:
    """One private tmux server per test session (per xdist worker); killed at the end."""
    name = f"gt-test-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    yield name
    subprocess.run(["tmux", "-L", name, "kill-server"], capture_output=True)


REAL_TMUX = __import__("shutil").which("tmux") or "tmux"


@pytest.fixture(scope="session")
def _tmux_spy(tmp_path_factory) -> Path:
    """A `tmux` first on PATH that notes when a test starts a server or a session, then runs the
    real one: a test doing so without the `tmux` marker fails (see `_isolated_env`)."""
    d = tmp_path_factory.mktemp("tmux-spy")
    spy = d / "tmux"
    spy.write_text("#!/bin/sh\n"
                   'for a in "$@"; do case "$a" in new-session|new|start-server|start) '
                   ': > "${GT_TEST_TMUX_USED:-/dev/null}";; esac; done\n'
                   f'exec "{REAL_TMUX}" "$@"\n')
    spy.chmod(0o755)
    return d


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path_factory, tmux_socket, _tmux_spy, request):
    """No test touches the user's town, tmux server or git identity."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Test Overseer")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "overseer@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Test Overseer")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "overseer@example.com")
    monkeypatch.setenv("GT_TMUX_SOCKET", tmux_socket)
    for var in ("GT_TOWN_ROOT", "BD_ACTOR", "GT_ROLE", "GT_RIG", "GT_NAME", "TMUX", "TMUX_PANE", "GT_DEBUG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PATH", f"{_tmux_spy}{os.pathsep}{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    used = home / ".tmux-used"
    monkeypatch.setenv("GT_TEST_TMUX_USED", str(used))
    yield
    if used.exists() and request.node.get_closest_marker("tmux") is None:
        pytest.fail(f"{request.node.nodeid} starts tmux sessions: mark it @pytest.mark.tmux", pytrace=False)


def run_cli(*args: str, cwd: Path | None = None, input: str | None = None, env: dict | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `gt ...` or `bd ...` as a real subprocess, as a user would."""
    prog, *rest = args
    exe = BIN / prog
    return subprocess.run([str(exe), *rest], cwd=cwd, input=input, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout)


def make_git_repo(path: Path, files: dict[str, str] | None = None, branch: str = "main") -> Path:
    """A real project repository with one commit."""
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", branch, str(path)], check=True)
    for name, text in (files or {"README.md": "# demo\n"}).items():
        f = path / name
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(text)
    subprocess.run(["git", "-C", str(path), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(path), "commit", "-q", "-m", "initial"], check=True)
    return path


@pytest.fixture
def project_repo(tmp_path) -> Path:
    return make_git_repo(tmp_path / "project", {"README.md": "# demo project\n", "src/app.py": "print('hi')\n"})


@pytest.fixture
def town(tmp_path):
    """A freshly installed town in tmp_path (via the real `install_town`)."""
    from gastown_tui.town.install import install_town

    return install_town(tmp_path / "town", name="testtown", owner="overseer@example.com").town


@pytest.fixture
def rig_town(town, project_repo):
    """A town with one rig, 'demo', made from a local repository."""
    from gastown_tui.town.rigs import add_rig

    add_rig(town, "demo", str(project_repo))
    return town


@pytest.fixture
def upstream(tmp_path) -> Path:
    """The user's repository as on a git server: a bare repo (issue 15)."""
    src = make_git_repo(tmp_path / "seed", {"README.md": "# demo project\n"})
    bare = tmp_path / "upstream.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(src), str(bare)], check=True)
    return bare


@pytest.fixture
def up_town(town, upstream):
    """A town whose rig 'demo' was added from the bare `upstream`."""
    from gastown_tui.town.rigs import add_rig

    add_rig(town, "demo", str(upstream))
    return town


# -- agents in tmux (issue 4) -------------------------------------------------------------------

@pytest.fixture
def tmux(tmux_socket):
    """The test session's private tmux server as a gateway; sessions a test starts are killed after it."""
    from gastown_tui.infra.tmux import Tmux

    tm = Tmux(tmux_socket)
    before = set(tm.list_sessions())
    yield tm
    for name in set(tm.list_sessions()) - before:
        tm.kill_session(name)


def wait_sim_ready(tm, session: str, timeout: float = 20.0) -> str:
    """Wait until a sim agent shows its idle prompt; returns the screen."""
    def ready():
        text = tm.capture_many([session], ansi=False).get(session, "")
        lines = [ln for ln in text.split("\n") if ln.strip()]
        return text if lines and lines[-1].startswith("sim>") else None

    return wait_for(ready, timeout=timeout, message=f"sim prompt in {session}")


# -- the user's own tmux, seen through a real terminal (issue 14: attach from inside tmux) ------

class UserTerminal:
    """The user's own tmux server (`outer`, a private socket) with a real client attached, which
    runs in the pane of a stand-in terminal emulator (`term`, another private server). Keys typed
    with `keys()` go through that client's key handling, popups included, as a user's would
    (`send-keys` to the user's pane would skip both); `screen()` is what the terminal shows."""

    def __init__(self, base: str, outer=None) -> None:
        """`outer`: a server of the test's own to play the user's (the town's, say): only our
        session on it is killed at the end."""
        from gastown_tui.infra.tmux import Tmux

        self.own_outer = outer is None
        self.outer = outer or Tmux(f"{base}-user")
        self.term = Tmux(f"{base}-term")

    def start(self, command: list[str], *, cwd: Path, env: dict[str, str] | None = None,
              width: int = 160, height: int = 48) -> None:
        self.outer.new_session("user", command, cwd=cwd, env=env, width=width, height=height)
        self.term.new_session("term", ["env", "-u", "TMUX", self.outer.tmux_bin, "-L", self.outer.socket_name,
                                       "attach-session", "-t", "=user"], cwd=cwd, width=width, height=height)
        wait_for(self.clients, timeout=30, message="the user's tmux client")

    def clients(self) -> list[str]:
        """The user's server's clients (the terminal's one while it is attached)."""
        out = self.outer.run("list-clients", "-F", "#{client_tty}", check=False).stdout.decode()
        return out.split()

    def screen(self) -> str:
        return self.term.capture("term", ansi=False)

    def keys(self, *keys: str) -> None:
        self.term.send_keys("term", *keys)

    def close(self) -> None:
        self.term.kill_server()
        if self.own_outer:
            self.outer.kill_server()
        else:
            self.outer.kill_session("user")


def user_clients(tm, session: str) -> list[str]:
    """Terminal clients (not control-mode ones, such as the cockpit's stream) on `session`."""
    out = tm.run("list-clients", "-t", f"={session}", "-F", "#{client_control_mode} #{client_tty}",
                 check=False).stdout.decode()
    return [line.split(" ", 1)[1] for line in out.splitlines() if line.startswith("0 ")]
