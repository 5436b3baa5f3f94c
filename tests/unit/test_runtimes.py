"""Runtime presets and custom runtimes from settings/config.toml."""

from __future__ import annotations

import sys

import pytest

from gastown_tui.agents.runtimes import PRESETS, get_runtime, list_runtimes
from gastown_tui.errors import UsageError
from gastown_tui.town.config import Settings


def settings(tmp_path, text: str) -> Settings:
    p = tmp_path / "config.toml"
    p.write_text(text)
    return Settings(p)


def test_presets_exist_with_patterns():
    assert {"claude", "codex", "gemini", "aider", "opencode", "sim"} <= set(PRESETS)
    for rt in PRESETS.values():
        assert rt.program and rt.prompt_mode in ("arg", "nudge") and rt.submit_keys
        assert rt.ready_patterns and rt.busy_patterns and rt.permission_patterns


def test_prompt_as_argument_or_not():
    assert get_runtime("sim").command("go") == [sys.executable, "-m", "gastown_tui.sim", "--prompt", "go"]
    assert get_runtime("claude").command("hi there")[-1] == "hi there"
    assert get_runtime("aider").prompt_mode == "nudge"
    assert "hi" not in get_runtime("aider").command("hi")
    assert get_runtime("sim").command(None) == [sys.executable, "-m", "gastown_tui.sim"]


def test_custom_runtime_and_preset_override(tmp_path):
    s = settings(tmp_path, """
[agents.mybot]
command = "mybot --fast"
args = ["--yolo"]
submit_keys = ["C-m"]
ready_patterns = ["^bot> "]
env = {MYBOT_MODE = "agent"}

[agents.claude]
args = ["--model", "opus"]
""")
    bot = get_runtime("mybot", s)
    assert bot.custom and bot.command("x") == ["mybot", "--fast", "--yolo"]  # custom default: nudge
    assert bot.prompt_mode == "nudge" and bot.submit_keys == ("C-m",) and bot.env == {"MYBOT_MODE": "agent"}
    claude = get_runtime("claude", s)
    assert claude.program == ("claude", "--model", "opus") and not claude.custom
    assert claude.busy_patterns == PRESETS["claude"].busy_patterns
    names = [r.name for r in list_runtimes(s)]
    assert names == sorted(names) and "mybot" in names


def test_unknown_and_invalid_runtimes_are_usage_errors(tmp_path):
    with pytest.raises(UsageError) as e:
        get_runtime("clod")
    assert "claude" in str(e.value) and "sim" in str(e.value)
    s = settings(tmp_path, '[agents.bad]\nargs = ["x"]\n[agents.rx]\ncommand = "x"\nready_patterns = ["("]\n')
    with pytest.raises(UsageError, match="no command"):
        get_runtime("bad", s)
    with pytest.raises(UsageError, match="not a valid regex"):
        get_runtime("rx", s)
