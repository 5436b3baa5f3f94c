"""Cockpit themes: TOML files → `textual.theme.Theme`.

Built-in themes live in the repository's top-level `themes/` directory; users add their own in
`$XDG_CONFIG_HOME/gastown/themes/` (a user theme with a built-in's name replaces it). Every
colour the cockpit draws is a theme colour or a theme variable (`state-working`, `hook`, ...).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from textual.theme import Theme

from gastown_tui.errors import GtError

DEFAULT_THEME = "gastown-dark"
_COLOR_KEYS = ("primary", "secondary", "accent", "foreground", "background", "surface", "panel", "boost",
               "success", "warning", "error")
REQUIRED_VARIABLES = ("state-working", "state-idle", "state-starting", "state-waiting", "state-stalled",
                      "state-dead", "state-off", "progress-done", "progress-todo", "mail-unread", "hook", "muted")


def builtin_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "themes"


def user_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "gastown" / "themes"


def load_theme(path: Path) -> Theme:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise GtError(f"theme {path} cannot be read: {e}", hint="fix the TOML or remove the file") from None
    colors = data.get("colors") or {}
    if "primary" not in colors:
        raise GtError(f"theme {path} has no [colors] primary", hint="copy themes/gastown-dark.toml and edit it")
    variables = {str(k): str(v) for k, v in (data.get("variables") or {}).items()}
    base = {k: str(colors[k]) for k in _COLOR_KEYS if k in colors}
    return Theme(name=str(data.get("name") or path.stem), dark=bool(data.get("dark", True)),
                 variables=variables, **base)


def discover_themes(extra_dirs: list[Path] | None = None) -> dict[str, Theme]:
    """Built-in themes, then user themes (a bad user file is skipped, not fatal)."""
    out: dict[str, Theme] = {}
    for d in [builtin_dir(), user_dir(), *(extra_dirs or [])]:
        if not d.is_dir():
            continue
        for p in sorted(d.glob("*.toml")):
            try:
                t = load_theme(p)
            except GtError:
                continue
            out[t.name] = t
    return out
