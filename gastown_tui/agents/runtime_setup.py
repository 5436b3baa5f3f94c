"""What a real agent CLI needs to start unattended in a town's tmux session.

An agent started by Gas Town has nobody at its first screen, so anything that would stop it
there must be settled before it starts:

- Claude Code refuses `--dangerously-skip-permissions` as root unless `IS_SANDBOX=1` is set
  (agent fleets often run as root in containers): set it when we are root, and `gt doctor` says so.
- With a model endpoint of the town's own (`ANTHROPIC_BASE_URL` in the runtime's env, e.g. the
  scripted model of `gastown_tui.sim.model`), each agent gets a config directory of its own under
  `<town>/.runtime/claude/<session>/` (CLAUDE_CONFIG_DIR) in which onboarding is complete, the
  API key is approved and the agent's working directory is trusted. The user's own `~/.claude`
  (and the login in it) is left alone otherwise. The same directory holds the agent's session
  transcripts, which is where `gt costs` reads Claude Code's token usage.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

CLAUDE_PROGRAMS = ("claude", "claude.exe")
CODEX_PROGRAMS = ("codex",)
CODEX_PROVIDER = "gastown"


def is_claude(rt) -> bool:
    return rt.name == "claude" or (bool(rt.program) and Path(rt.program[0]).name in CLAUDE_PROGRAMS)


def is_codex(rt) -> bool:
    return rt.name == "codex" or (bool(rt.program) and Path(rt.program[0]).name in CODEX_PROGRAMS)


def claude_config_dir(town_root: Path, session: str) -> Path:
    """The per-agent Claude Code config directory of a town with its own model endpoint."""
    from gastown_tui.infra.safepath import confine

    return confine(Path(town_root) / ".runtime" / "claude", session, what="session name")


def running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def codex_home(town_root: Path, session: str) -> Path:
    """The per-agent Codex home (CODEX_HOME) of a town with its own model endpoint."""
    from gastown_tui.infra.safepath import confine

    return confine(Path(town_root) / ".runtime" / "codex", session, what="session name")


def prepare(town_root: Path, rt, session: str, workdir: Path, env: dict[str, str]) -> dict[str, str]:
    """Environment additions for `rt` started as `session` in `workdir` (files written as needed)."""
    if is_codex(rt):
        return _prepare_codex(town_root, session, workdir, env)
    if not is_claude(rt):
        return {}
    extra: dict[str, str] = {}
    if running_as_root() and "IS_SANDBOX" not in env:
        extra["IS_SANDBOX"] = "1"
    if env.get("ANTHROPIC_BASE_URL") and not env.get("CLAUDE_CONFIG_DIR"):
        cfg = claude_config_dir(town_root, session)
        _settle_claude_config(cfg, workdir, env.get("ANTHROPIC_API_KEY") or os.environ.get("ANTHROPIC_API_KEY"))
        extra["CLAUDE_CONFIG_DIR"] = str(cfg)
    return extra


def _settle_claude_config(cfg: Path, workdir: Path, api_key: str | None) -> None:
    """Mark onboarding done, the key approved and `workdir` trusted in `cfg/.claude.json`."""
    from gastown_tui.infra.fsutil import atomic_write_text, file_lock

    cfg.mkdir(parents=True, exist_ok=True)
    path = cfg / ".claude.json"
    with file_lock(cfg / ".gt-setup.lock"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                data = {}
        except (OSError, ValueError):
            data = {}
        data["hasCompletedOnboarding"] = True
        data["bypassPermissionsModeAccepted"] = True
        data.setdefault("lastOnboardingVersion", "2.1.332")
        if api_key:
            responses = data.setdefault("customApiKeyResponses", {"approved": [], "rejected": []})
            approved = responses.setdefault("approved", [])
            if api_key[-20:] not in approved:
                approved.append(api_key[-20:])
            responses["rejected"] = [k for k in responses.get("rejected", []) if k != api_key[-20:]]
        projects = data.setdefault("projects", {})
        entry = projects.setdefault(str(workdir), {})
        entry.update({"hasTrustDialogAccepted": True, "hasCompletedProjectOnboarding": True})
        entry.setdefault("allowedTools", [])
        atomic_write_text(path, json.dumps(data, indent=2) + "\n")


def _prepare_codex(town_root: Path, session: str, workdir: Path, env: dict[str, str]) -> dict[str, str]:
    """With `OPENAI_BASE_URL` in the runtime's env: a CODEX_HOME whose config uses that endpoint
    (Responses API) as its model provider and trusts the agent's working directory."""
    base = env.get("OPENAI_BASE_URL")
    if not base or env.get("CODEX_HOME"):
        return {}
    from gastown_tui.infra.fsutil import atomic_write_text

    home = codex_home(town_root, session)
    home.mkdir(parents=True, exist_ok=True)
    url = base.rstrip("/") + ("" if base.rstrip("/").endswith("/v1") else "/v1")
    model = env.get("GT_MODEL") or "scripted-gastown-model"
    lines = [
        "# Written by Gas Town for this agent: the town's own model endpoint, this worktree trusted.",
        f"model = {json.dumps(model)}",
        f"model_provider = {json.dumps(CODEX_PROVIDER)}",
        'approval_policy = "never"',
        'sandbox_mode = "danger-full-access"',
        "",
        f"[model_providers.{CODEX_PROVIDER}]",
        f"name = {json.dumps(CODEX_PROVIDER)}",
        f"base_url = {json.dumps(url)}",
        'wire_api = "responses"',
        'env_key = "OPENAI_API_KEY"',
        "",
        f"[projects.{json.dumps(str(workdir))}]",
        'trust_level = "trusted"',
        "",
    ]
    atomic_write_text(home / "config.toml", "\n".join(lines))
    extra = {"CODEX_HOME": str(home)}
    if not env.get("OPENAI_API_KEY") and not os.environ.get("OPENAI_API_KEY"):
        extra["OPENAI_API_KEY"] = "sk-gastown-local"  # the town's endpoint needs none; codex wants one set
    return extra
