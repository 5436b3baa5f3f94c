"""Plugins: TOML manifests that add commands to the town — on a schedule (run by the deacon's dogs)
or as a gate type (`plugin:NAME[:ARG]` gates open when the plugin's command exits 0).

    <town>/plugins/<name>.toml         town-level, runs in the town root
    <town>/<rig>/plugins/<name>.toml   rig-level, named <rig>/<name>, runs in the rig's clone

    description = "Nightly dependency audit"
    command = "pip-audit -r requirements.txt"     # a string (sh -c) or a list of arguments
    schedule = "24h"                              # optional: a dog runs it this often
    timeout = "10m"                               # default 5m; the process group is killed after it
    gate = true                                   # optional: usable as gate plugin:<name>[:ARG]

The command gets GT_TOWN_ROOT, GT_PLUGIN and, as a gate, GT_GATE_ARG. Disabled plugins (setting
`plugins.disabled`, changed by `gt plugin enable|disable`) never run. A manifest that does not
parse is listed with its error and never run.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from gastown_tui.errors import NotFound, UsageError
from gastown_tui.town.layout import Town

DEFAULT_TIMEOUT = 300.0
OUTPUT_KEEP = 64 * 1024  # bytes of a plugin's output log kept (the newest)


def _valid_name(name: str) -> bool:
    return bool(name) and len(name) <= 64 and name[0].isalpha() and name.isascii() \
        and all(c.isalnum() or c in "-_" for c in name) and name == name.lower()


class Plugin:
    __slots__ = ("name", "path", "rig", "description", "command", "schedule", "timeout", "gate", "error", "enabled")

    def __init__(self, name: str, path: Path, rig: str | None) -> None:
        self.name, self.path, self.rig = name, path, rig
        self.description, self.command, self.schedule = "", None, None
        self.timeout, self.gate, self.error, self.enabled = DEFAULT_TIMEOUT, False, None, True

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "rig": self.rig, "path": str(self.path), "description": self.description,
                "command": self.command, "schedule_seconds": self.schedule, "timeout_seconds": self.timeout,
                "gate": self.gate, "enabled": self.enabled, "error": self.error}


def _load(path: Path, rig: str | None, disabled: set[str]) -> Plugin:
    import tomllib

    from gastown_tui.work.feed import parse_duration

    stem = path.name[:-5]
    p = Plugin(f"{rig}/{stem}" if rig else stem, path, rig)
    p.enabled = p.name not in disabled
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        cmd = data.get("command")
        if isinstance(cmd, list) and cmd and all(isinstance(c, str) for c in cmd):
            p.command = list(cmd)
        elif isinstance(cmd, str) and cmd.strip():
            p.command = cmd
        else:
            raise ValueError("'command' must be a string or a list of strings")
        p.description = str(data.get("description") or "")[:200]
        if data.get("schedule") is not None:
            p.schedule = parse_duration(str(data["schedule"]))
        if data.get("timeout") is not None:
            p.timeout = parse_duration(str(data["timeout"]))
        p.gate = bool(data.get("gate", False))
    except (OSError, ValueError, UsageError, tomllib.TOMLDecodeError) as e:
        p.error = str(e).split("\n")[0][:200]
        p.enabled = False
    return p


def _disabled(town: Town) -> set[str]:
    from gastown_tui.town.config import load_settings

    v = load_settings(town.root).get("plugins.disabled") or []
    return {str(x) for x in v} if isinstance(v, list) else set()


def list_plugins(town: Town) -> list[Plugin]:
    disabled = _disabled(town)
    dirs: list[tuple[Path, str | None]] = [(town.root / "plugins", None)]
    dirs += [(town.root / rig / "plugins", rig) for rig in sorted(town.rigs())]
    out = []
    for d, rig in dirs:
        try:
            names = sorted(os.listdir(d))
        except OSError:
            continue
        for n in names:
            if n.endswith(".toml") and _valid_name(n[:-5]) and (d / n).is_file():
                out.append(_load(d / n, rig, disabled))
    return out


def get_plugin(town: Town, name: str) -> Plugin:
    for p in list_plugins(town):
        if p.name == name:
            return p
    raise NotFound(f"no plugin '{name}'", hint="list them with 'gt plugin list'; manifests live in <town>/plugins/*.toml")


def set_enabled(town: Town, name: str, enabled: bool) -> Plugin:
    from gastown_tui.town.config import load_settings

    get_plugin(town, name)  # it must exist
    s = load_settings(town.root)
    cur = [str(x) for x in (s.get("plugins.disabled") or []) if str(x) != name]
    if not enabled:
        cur.append(name)
    s.set("plugins.disabled", sorted(cur))
    s.save()
    return get_plugin(town, name)


def _log_path(town: Town, plugin: Plugin) -> Path:
    return town.runtime_dir / "plugins" / (plugin.name.replace("/", "--") + ".log")


def run_plugin(town: Town, name: str, *, gate_arg: str | None = None, run=None, force: bool = False) -> dict[str, Any]:
    """Run the plugin's command once (timeout, output logged); returns its status and output tail."""
    p = get_plugin(town, name)
    if p.error:
        raise UsageError(f"plugin '{name}' cannot run: {p.error}", hint=f"fix {p.path}")
    if not p.enabled and not force:
        raise UsageError(f"plugin '{name}' is disabled", hint=f"enable it with 'gt plugin enable {name}'")
    if run is None:
        from gastown_tui.infra.proc import run_command as run
    cwd = town.rig(p.rig).mayor_clone if p.rig else town.root
    env = {"GT_TOWN_ROOT": str(town.root), "GT_PLUGIN": p.name}
    if gate_arg is not None:
        env["GT_GATE_ARG"] = gate_arg
    start = time.time()
    code, out = run(p.command, cwd, p.timeout, env)
    took = time.time() - start
    status = "ok" if code == 0 else ("timeout" if code == 124 else "failed")
    _append_log(_log_path(town, p), f"--- {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(start))} "
                                    f"{p.name} exit {code} ({took:.1f}s)\n{out}")
    from gastown_tui.town import events

    events.record(town.root, "plugin.run", actor="deacon", rig=p.rig,
                  payload={"name": p.name, "status": status, "exit": code, "seconds": round(took, 2)})
    return {"name": p.name, "status": status, "exit": code, "seconds": round(took, 3), "output": out[-2000:]}


def _append_log(path: Path, text: str) -> None:
    """Append, keeping only the newest OUTPUT_KEEP bytes (a plugin's log never grows without bound)."""
    from gastown_tui.infra.fsutil import atomic_write_bytes, file_lock

    path.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(path.with_suffix(".lock")):
        try:
            old = path.read_bytes()
        except FileNotFoundError:
            old = b""
        data = (old + text.encode("utf-8", "replace") + b"\n")[-OUTPUT_KEEP:]
        atomic_write_bytes(path, data)


def read_log(town: Town, name: str) -> str:
    try:
        return _log_path(town, get_plugin(town, name)).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""


def check_gate(town: Any, arg: str, run=None) -> tuple[bool, str]:
    """A `plugin:NAME[:ARG]` gate: open when the plugin's command exits 0 (never raises)."""
    name, _, garg = arg.partition(":")
    try:
        p = get_plugin(town, name)
        if not p.gate:
            return (False, "")
        res = run_plugin(town, name, gate_arg=garg, run=run)
    except Exception:  # noqa: BLE001 - a missing or broken plugin keeps the gate closed
        return (False, "")
    return (res["exit"] == 0, f"plugin {name} said yes" + (f" for {garg}" if garg else ""))
