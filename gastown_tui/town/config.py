"""Town settings in `settings/config.toml`, edited with tomlkit so comments and order survive.

Known keys have a type; `gt config set` converts and checks the value against it. Other modules
read settings through `Settings.get(key)`, which falls back to the defaults below.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gastown_tui.errors import GtError, UsageError


@dataclass(frozen=True)
class Key:
    pattern: str  # dotted; '*' matches one segment
    type: type
    default: Any
    help: str


KEYS: tuple[Key, ...] = (
    Key("default_agent", str, "claude", "runtime for new agents: claude, codex, gemini, aider, opencode, sim, or a custom one"),
    Key("role_agents.*", str, None, "runtime for one role (mayor, polecat, crew, witness, refinery, deacon)"),
    Key("agents.*.command", str, None, "custom runtime: the program to run"),
    Key("agents.*.args", list, None, "custom runtime: its arguments"),
    Key("agents.*.prompt_mode", str, None, "custom runtime: how the first prompt is given (arg or nudge)"),
    Key("agents.*.submit_keys", list, None, "custom runtime: keys that submit typed input"),
    Key("agents.*.ready_patterns", list, None, "custom runtime: regexes meaning it waits for input"),
    Key("agents.*.busy_patterns", list, None, "custom runtime: regexes meaning it is working"),
    Key("agents.*.permission_patterns", list, None, "custom runtime: regexes meaning it waits for permission"),
    Key("agents.*.env", dict, None, "custom runtime: extra environment"),
    Key("agents.*.model_flag", list, None, "runtime: arguments before a model name (default --model)"),
    Key("models.*.runtime", str, None, "gt sling --model NAME: the runtime that serves this model"),
    Key("models.*.id", str, None, "gt sling --model NAME: the runtime's own name for the model"),
    Key("tmux.width", int, 200, "width of new agent windows"),
    Key("tmux.height", int, 50, "height of new agent windows"),
    Key("namepool.theme", str, "mad-max", "default polecat name theme"),
    Key("daemon.tick_seconds", int, 30, "seconds between daemon ticks"),
    Key("daemon.commit_debounce_seconds", int, 60, "quiet seconds before the daemon commits bead changes"),
    Key("deacon.heartbeat_stale_seconds", int, 120, "age at which boot restarts the deacon"),
    Key("deacon.patrol_seconds", int, 15, "seconds between deacon patrols"),
    Key("deacon.feed_convoys", bool, True, "whether the deacon slings ready beads of stranded convoys"),
    Key("deacon.witness_ping_stale_seconds", int, 120,
        "a running witness whose WITNESS_PING is older than this is restarted (then escalated to the mayor)"),
    Key("witness.patrol_seconds", int, 5, "seconds between witness patrols (a dead polecat is noticed within this)"),
    Key("witness.stall_seconds", int, 600, "seconds without progress before a polecat counts as stalled (at least 5)"),
    Key("witness.max_restarts", int, 2, "restarts before hooked work is reopened and escalated"),
    Key("witness.cycle_after_hours", float, 0.0, "hand a polecat off to a fresh session after this many hours of one (0: never)"),
    Key("witness.cycle_context_percent", float, 0.0, "hand a polecat off when its context window is this full (Claude Code; 0: never)"),
    Key("witness.context_window_tokens", int, 200000, "the context window size that cycle_context_percent is of"),
    Key("refinery.patrol_seconds", int, 10, "seconds between refinery patrols"),
    Key("refinery.max_failures", int, 2, "merge failures of one bead before it is escalated instead of sent back"),
    Key("refinery.push_attempts", int, 3, "pushes to the upstream (fetch, rebase, re-test between) before MERGE_FAILED"),
    Key("refinery.fetch_seconds", int, 30, "fetch the rig's upstream at most this often"),
    Key("refinery.fetch_timeout_seconds", int, 30, "time limit for one fetch of the upstream"),
    Key("escalation.stale_seconds", int, 3600, "age at which an unacknowledged escalation re-escalates"),
    Key("nudge.verify_timeout_seconds", float, 5.0, "how long a nudge waits to verify delivery"),
    Key("tui.theme", str, "gastown-dark", "cockpit theme"),
    Key("costs.prices", dict, None, "prices in USD per million tokens: model glob -> {input, output, cache_read, cache_write}"),
    Key("costs.prices.*", dict, None, "price of models matching this glob: {input, output, cache_read, cache_write}"),
    Key("costs.spike_usd_per_hour", float, 25.0, "spend in one hour above which the deacon escalates a cost spike (0: never)"),
    Key("costs.spike_include_simulated", bool, False, "whether the sim's simulated spend counts towards a cost spike"),
    Key("costs.check_seconds", int, 300, "seconds between the deacon's cost-spike checks"),
    Key("krc.ttl.*", str, None, "time to live of ephemeral data (heartbeats, wisps, patrol_checks, trails): 1d, 7d ..."),
    Key("plugins.disabled", list, None, "plugins that never run (gt plugin enable|disable edits this)"),
    Key("dogs.enabled", bool, True, "whether the deacon starts the dogs (digest, krc, orphans, logs, scheduled plugins)"),
    Key("dogs.events_max_bytes", int, 67108864, "size at which the logs dog rotates .events.jsonl to .events.jsonl.1"),
    Key("trail.enabled", bool, True, "keep a bounded output log per agent session for `gt trail` (tmux pipe-pane)"),
    Key("trail.max_bytes", int, 262144, "size at which an agent's output log rotates (at most twice this on disk per session)"),
    Key("channels.*", list, None, "nudge channel:<name>: agent addresses or patterns (demo/polecats/*) it reaches"),
)

DEFAULT_CONFIG = """\
# Gas Town settings. Edit by hand or with `gt config set KEY VALUE`; comments survive both.

# Runtime for new agents: claude, codex, gemini, aider, opencode, sim, or a name under [agents].
default_agent = "claude"

[role_agents]
# Per-role runtime, overriding default_agent. For example:
# mayor = "claude"
# polecat = "codex"

[tmux]
# Size of new agent windows (kept when detached).
width = 200
height = 50

[namepool]
# Default theme for polecat names: mad-max, minerals, wasteland (see `gt namepool themes`).
theme = "mad-max"

[daemon]
tick_seconds = 30
commit_debounce_seconds = 60

[witness]
# A polecat with no progress for this long is nudged, then escalated.
stall_seconds = 600
max_restarts = 2

[escalation]
stale_seconds = 3600

# Custom runtimes:
# [agents.mybot]
# command = "mybot"
# args = ["--yolo"]
# prompt_mode = "nudge"
"""


def key_spec(key: str) -> Key | None:
    for k in KEYS:
        if fnmatch.fnmatchcase(key, k.pattern) and key.count(".") == k.pattern.count("."):
            return k
    return None


def _example(t, default) -> str:
    """A value of type `t` to show in a hint (the default, or a sample when it has none)."""
    if default is not None:
        return repr(default)
    return {dict: "'{\"NAME\": \"value\"}'", list: "a,b", int: "10", float: "1.5", bool: "true"}.get(t, "VALUE")


def convert(key: str, raw: str, spec: Key | None = None) -> Any:
    """Turn command-line text into the key's type, or explain what is expected."""
    import json

    spec = spec or key_spec(key)
    if spec is None:
        known = ", ".join(k.pattern for k in KEYS)
        raise UsageError(f"'{key}' is not a setting", hint=f"known settings: {known}")
    t = spec.type
    try:
        if t is bool:
            low = raw.lower()
            if low not in ("true", "false", "yes", "no", "on", "off", "1", "0"):
                raise ValueError
            return low in ("true", "yes", "on", "1")
        if t is int:
            return int(raw)
        if t is float:
            return float(raw)
        if t is list:
            val = json.loads(raw) if raw.strip().startswith("[") else [s for s in raw.split(",") if s]
            if not isinstance(val, list):
                raise ValueError
            return val
        if t is dict:
            val = json.loads(raw)
            if not isinstance(val, dict):
                raise ValueError
            return val
        return raw
    except ValueError:
        names = {int: "an integer", float: "a number", bool: "true or false",
                 list: "a list (a,b or a JSON array)", dict: "a JSON object"}
        raise UsageError(f"'{key}' takes {names.get(t, t.__name__)}, not '{raw}'",
                         hint=f"for example: gt config set {key} {_example(t, spec.default)}") from None


class Settings:
    """`settings/config.toml` as a tomlkit document."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._doc = None

    @property
    def doc(self):
        if self._doc is None:
            import tomlkit

            try:
                text = self.path.read_text(encoding="utf-8")
            except FileNotFoundError:
                text = ""
            try:
                self._doc = tomlkit.parse(text)
            except Exception as e:  # tomlkit raises ParseError with line/col in the message
                raise GtError(f"{self.path} is not valid TOML: {e}", hint="fix the file by hand") from None
        return self._doc

    def get(self, key: str, default: Any = ...) -> Any:
        node: Any = self.doc
        for part in key.split("."):
            if not hasattr(node, "get") or part not in node:
                if default is not ...:
                    return default
                spec = key_spec(key)
                return spec.default if spec else None
            node = node[part]
        return node.unwrap() if hasattr(node, "unwrap") else node

    def set(self, key: str, value: Any) -> None:
        import tomlkit

        parts = key.split(".")
        node: Any = self.doc
        for part in parts[:-1]:
            if part not in node:
                node[part] = tomlkit.table()
            node = node[part]
            if not hasattr(node, "get"):
                raise UsageError(f"cannot set '{key}': '{part}' is a value, not a table")
        node[parts[-1]] = value

    def unset(self, key: str) -> bool:
        parts = key.split(".")
        node: Any = self.doc
        for part in parts[:-1]:
            if not hasattr(node, "get") or part not in node:
                return False
            node = node[part]
        if parts[-1] in node:
            del node[parts[-1]]
            return True
        return False

    def flat(self) -> dict[str, Any]:
        out: dict[str, Any] = {}

        def walk(prefix: str, node: Any) -> None:
            for k, v in node.items():
                full = f"{prefix}{k}"
                if hasattr(v, "items") and not (key_spec(full) and key_spec(full).type is dict):
                    walk(full + ".", v)
                else:
                    out[full] = v.unwrap() if hasattr(v, "unwrap") else v

        walk("", self.doc)
        return out

    def save(self) -> None:
        import tomlkit

        from gastown_tui.infra.fsutil import atomic_write_text

        atomic_write_text(self.path, tomlkit.dumps(self.doc))


def load_settings(town_root: Path) -> Settings:
    return Settings(Path(town_root) / "settings" / "config.toml")
