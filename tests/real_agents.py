"""Real agent CLIs in tests: the pinned installs (`.ci/agents`) and the scripted model on loopback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, wait_for

AGENTS_BIN = REPO_ROOT / ".cache" / "agents" / "node_modules" / ".bin"
API_KEY = "sk-ant-scripted-0123456789abcdefghij"  # a dummy: the scripted model ignores it


def claude_bin() -> Path:
    path = AGENTS_BIN / "claude"
    if not path.exists():
        pytest.fail(f"Claude Code is not installed at {path}: run 'bash .ci/agents' (make test does)")
    return path


@pytest.fixture
def scripted_model(tmp_path):
    """The scripted model service (gastown_tui.sim.model) on a free loopback port; yields its URL."""
    port_file = tmp_path / "model.port"
    log = open(tmp_path / "model.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "gastown_tui.sim.model", "--port", "0", "--port-file",
                             str(port_file), "--lifetime", "900"], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: port_file.exists() or proc.poll() is not None, timeout=20, message="the model to listen")
        assert proc.poll() is None, (tmp_path / "model.log").read_text()
        yield f"http://127.0.0.1:{port_file.read_text().strip()}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def model_log(tmp_path: Path) -> str:
    return (tmp_path / "model.log").read_text(encoding="utf-8", errors="replace")


def use_claude(town, url: str, **env: str) -> None:
    """Point the town's claude runtime at the pinned Claude Code and the scripted model."""
    from gastown_tui.town.config import load_settings

    s = load_settings(town.root)
    s.set("agents.claude.command", str(claude_bin()))
    s.set("agents.claude.args", ["--dangerously-skip-permissions"])
    s.set("agents.claude.env", {"ANTHROPIC_BASE_URL": url, "ANTHROPIC_API_KEY": API_KEY, **env})
    s.save()


def use_codex(town, url: str) -> None:
    """Point the town's codex runtime at the pinned Codex CLI and the scripted model (Responses API)."""
    from gastown_tui.town.config import load_settings

    path = AGENTS_BIN / "codex"
    if not path.exists():
        pytest.fail(f"Codex is not installed at {path}: run 'bash .ci/agents' (make test does)")
    s = load_settings(town.root)
    s.set("agents.codex.command", str(path))
    s.set("agents.codex.args", ["--dangerously-bypass-approvals-and-sandbox"])
    s.set("agents.codex.env", {"OPENAI_BASE_URL": url})
    s.save()
