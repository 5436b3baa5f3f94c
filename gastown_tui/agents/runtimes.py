"""Agent runtime presets: how to start each coding-agent CLI and how to read its screen.

A runtime says which command to run, how the first prompt is given (as an argument, or typed in
with a nudge once the program is ready), which keys submit typed input, and the regular
expressions that mean "ready for input", "busy" and "waiting for permission" on the last lines
of its screen. Presets cover claude, codex, gemini, aider, opencode and sim; `[agents.NAME]` in
settings/config.toml defines a custom runtime or overrides fields of a preset.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
import sys
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from gastown_tui.errors import UsageError

PROMPT_MODES = ("arg", "nudge")


@dataclass(frozen=True)
class Runtime:
    name: str
    program: tuple[str, ...]  # the command and its fixed arguments
    prompt_mode: str = "arg"  # "arg": the prompt is passed on the command line; "nudge": typed in
    prompt_flag: tuple[str, ...] = ()  # arguments that precede the prompt in "arg" mode
    model_flag: tuple[str, ...] = ("--model",)  # arguments that precede a model name (`gt sling --model`)
    submit_keys: tuple[str, ...] = ("Enter",)
    ready_patterns: tuple[str, ...] = ()
    busy_patterns: tuple[str, ...] = ()
    permission_patterns: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    status_lines: int = 12  # how many of the last non-blank lines the patterns look at
    custom: bool = False
    description: str = ""

    def command(self, prompt: str | None = None, model: str | None = None) -> list[str]:
        argv = list(self.program)
        if model:
            argv += [*self.model_flag, model]
        if prompt and self.prompt_mode == "arg":
            argv += [*self.prompt_flag, prompt]
        return argv

    @cached_property
    def _compiled(self) -> dict[str, list[re.Pattern[str]]]:
        return {
            kind: [re.compile(p, re.MULTILINE) for p in pats]
            for kind, pats in (("ready", self.ready_patterns), ("busy", self.busy_patterns),
                               ("permission", self.permission_patterns))
        }

    def match(self, kind: str, lines: list[str]) -> str | None:
        """The first of `lines` matching a `kind` pattern (ready, busy, permission), or None."""
        for pat in self._compiled[kind]:
            for line in lines:
                if pat.search(line):
                    return line
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "command": list(self.program), "prompt_mode": self.prompt_mode,
            "prompt_flag": list(self.prompt_flag), "model_flag": list(self.model_flag),
            "submit_keys": list(self.submit_keys),
            "ready_patterns": list(self.ready_patterns), "busy_patterns": list(self.busy_patterns),
            "permission_patterns": list(self.permission_patterns), "env": dict(self.env),
            "status_lines": self.status_lines, "custom": self.custom, "description": self.description,
        }


def _presets() -> dict[str, Runtime]:
    return {r.name: r for r in (
        Runtime(
            "claude", ("claude", "--dangerously-skip-permissions"),
            description="Anthropic Claude Code",
            # Screens recorded from Claude Code 2.1.332 (tests/fixtures/panes/claude-2.1.332/) and
            # from earlier versions (the `>` box and "? for shortcuts").
            ready_patterns=(r"^\s*❯(\s|$)", r"^\s*[│|]?\s*>\s", r"\? for shortcuts"),
            busy_patterns=(r"esc to interrupt", r"^\s*[✻✶✳✢·✽*]\s+\w+…"),
            # Questions only a person can answer: permission prompts and start-up dialogs.
            permission_patterns=(r"Do you want to (proceed|make this edit|create)", r"❯\s*1\.\s*Yes",
                                 r"Allow .+\?", r"Enter to continue", r"Unable to connect to Anthropic services",
                                 r"Do you trust the files in this folder", r"Select login method",
                                 r"Do you want to use this API key"),
        ),
        Runtime(
            "codex", ("codex",), description="OpenAI Codex CLI",
            ready_patterns=(r"^\s*›\s", r"⏎ send", r"send\s+⌃J newline", r"Ctrl\+J newline"),
            busy_patterns=(r"esc to interrupt", r"^\s*•\s*Working\b", r"Working \(\d+s"),
            permission_patterns=(r"Allow command\?", r"Would you like to run", r"\[y\]es", r"Approve"),
        ),
        Runtime(
            "gemini", ("gemini", "--yolo"), prompt_flag=("--prompt-interactive",),
            description="Google Gemini CLI",
            ready_patterns=(r"Type your message", r"^\s*[│|]?\s*>\s"),
            busy_patterns=(r"esc to cancel",),
            permission_patterns=(r"Allow execution", r"Apply this change\?", r"Do you want to proceed"),
        ),
        Runtime(
            "aider", ("aider", "--yes-always"), prompt_mode="nudge", description="Aider",
            ready_patterns=(r"^[\w./-]*>\s*$",),
            busy_patterns=(r"Waiting for", r"Thinking", r"Tokens:.*sent"),
            permission_patterns=(r"\(Y\)es/\(N\)o",),
        ),
        Runtime(
            "opencode", ("opencode",), prompt_flag=("--prompt",), description="opencode",
            ready_patterns=(r"enter send", r"ctrl\+p commands"),
            busy_patterns=(r"esc interrupt", r"esc to interrupt", r"Working"),
            permission_patterns=(r"Permission required", r"Allow (once|always)"),
        ),
        Runtime(
            "sim", (sys.executable, "-m", "gastown_tui.sim"), prompt_flag=("--prompt",),
            description="the built-in simulated agent (no model; for demos and tests)",
            ready_patterns=(r"^sim>( |$)",), busy_patterns=(r"^⠋ working\.\.\.",),
            permission_patterns=(r"^\[sim\] allow .*\? \(y/n\)",), status_lines=1,
        ),
    )}


PRESETS: dict[str, Runtime] = _presets()

_LIST_FIELDS = ("submit_keys", "ready_patterns", "busy_patterns", "permission_patterns", "prompt_flag", "model_flag")


def _from_settings(name: str, spec: dict[str, Any], base: Runtime | None) -> Runtime:
    """A runtime from an `[agents.NAME]` table, on top of the preset of that name if any."""
    if not isinstance(spec, dict):
        raise UsageError(f"settings 'agents.{name}' must be a table", hint=f"edit [agents.{name}] in settings/config.toml")
    fields: dict[str, Any] = {}
    if "command" in spec or "args" in spec:
        cmd = spec.get("command")
        program = shlex.split(cmd) if isinstance(cmd, str) else list(cmd or (base.program[:1] if base else []))
        if not program:
            raise UsageError(f"custom runtime '{name}' has no command",
                             hint=f"set one with 'gt config agent set {name} command PROGRAM'")
        args = spec.get("args")
        same_program = base is not None and bool(program) and Path(program[0]).name == Path(base.program[0]).name
        if args is None and base is not None and ("command" not in spec or same_program):
            args = list(base.program[1:])  # a preset's own program moved elsewhere keeps its flags
        program += [str(a) for a in (args or [])]
        fields["program"] = tuple(program)
    if "prompt_mode" in spec:
        if spec["prompt_mode"] not in PROMPT_MODES:
            raise UsageError(f"runtime '{name}' has prompt_mode '{spec['prompt_mode']}'", hint="use 'arg' or 'nudge'")
        fields["prompt_mode"] = spec["prompt_mode"]
    for key in _LIST_FIELDS:
        if key in spec:
            val = spec[key]
            fields[key] = tuple([val] if isinstance(val, str) else [str(v) for v in val])
    for key in ("ready_patterns", "busy_patterns", "permission_patterns"):
        for pat in fields.get(key, ()):
            try:
                re.compile(pat)
            except re.error as e:
                raise UsageError(f"runtime '{name}' {key} entry {pat!r} is not a valid regex ({e})",
                                 hint=f"fix it with 'gt config agent set {name} {key} ...'") from None
    if "env" in spec:
        fields["env"] = {str(k): str(v) for k, v in dict(spec["env"]).items()}
    if "status_lines" in spec:
        fields["status_lines"] = int(spec["status_lines"])
    if base is not None:
        return replace(base, **fields)
    if "program" not in fields:
        raise UsageError(f"custom runtime '{name}' has no command",
                         hint=f"set one with 'gt config agent set {name} command PROGRAM'")
    fields.setdefault("prompt_mode", "nudge")
    return Runtime(name=name, custom=True, description="custom", **fields)


def _custom_specs(settings) -> dict[str, Any]:
    if settings is None:
        return {}
    agents = settings.get("agents", {}) or {}
    return dict(agents) if isinstance(agents, dict) else {}


def list_runtimes(settings=None) -> list[Runtime]:
    custom = _custom_specs(settings)
    out = dict(PRESETS)
    for name, spec in custom.items():
        out[name] = _from_settings(name, spec, PRESETS.get(name))
    return [out[n] for n in sorted(out)]


def get_runtime(name: str, settings=None) -> Runtime:
    """The preset `name`, overlaid with `[agents.NAME]`; a UsageError names the valid runtimes."""
    custom = _custom_specs(settings)
    if name in custom:
        return _from_settings(name, custom[name], PRESETS.get(name))
    if name in PRESETS:
        return PRESETS[name]
    valid = ", ".join(sorted({*PRESETS, *custom}))
    raise UsageError(f"'{name}' is not an agent runtime", hint=f"use one of: {valid} (or define [agents.{name}] in settings/config.toml)")


_MODEL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,99}$")


def check_model(name: str) -> str:
    """A model name as `gt sling --model` takes it: it becomes an argument, a field and an event."""
    if not isinstance(name, str) or not _MODEL_RE.match(name) or ".." in name:
        raise UsageError(f"'{name}' is not a model name",
                         hint="use letters, digits and . _ : / @ + - (for example claude-sonnet or gpt-4)")
    return name


def resolve_model(model: str, runtime: str | None, settings=None) -> tuple[str, str | None, str | None]:
    """(model as recorded, the id passed to the runtime, the runtime it maps to or None).

    `[models."NAME"]` in settings may give `runtime = "codex"` (a model that only one runtime
    serves) and `id = "..."` (the runtime's own spelling of it). An explicit --agent that
    contradicts the mapping is refused.
    """
    check_model(model)
    spec = {}
    if settings is not None:
        models = settings.get("models", {}) or {}
        spec = models.get(model, {}) if isinstance(models, dict) else {}
        spec = spec if isinstance(spec, dict) else {}
    mapped = spec.get("runtime")
    if mapped is not None:
        get_runtime(str(mapped), settings)
        if runtime and runtime != mapped:
            raise UsageError(f"model '{model}' runs on runtime '{mapped}' (settings models.{model}.runtime), not '{runtime}'",
                             hint=f"drop --agent, or use --agent {mapped}")
    ident = str(spec.get("id") or model)
    check_model(ident)
    return model, ident, (str(mapped) if mapped is not None else None)
