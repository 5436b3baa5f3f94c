"""Theme-driven styles for labels built in code (every colour comes from the theme's variables)."""

from __future__ import annotations

from rich.style import Style

GLYPHS = {"working": "●", "idle": "○", "starting": "◌", "waiting": "◆", "stalled": "◐", "dead": "✖", "off": "·"}


def var(app, name: str, default: str = "") -> str:
    """A theme variable (`state-working`, `hook`, ...) or theme colour of the app's current theme."""
    theme = app.current_theme
    v = theme.variables.get(name)
    if v:
        return v
    v = getattr(theme, name, None)
    return v or default or (theme.foreground or "#ffffff")


def state_style(app, state: str) -> Style:
    return Style(color=var(app, f"state-{state}"), bold=state in ("waiting", "stalled", "dead"))


def glyph(state: str) -> str:
    return GLYPHS.get(state, "?")


def bar(app, done: int, total: int, width: int = 10) -> list[tuple[str, Style]]:
    filled = round(width * done / total) if total else 0
    return [("█" * filled, Style(color=var(app, "progress-done"))),
            ("░" * (width - filled), Style(color=var(app, "progress-todo")))]
