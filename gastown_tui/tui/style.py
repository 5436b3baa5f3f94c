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


_AGE_UNITS = ((3600, 60, "m"), (86400, 3600, "h"), (float("inf"), 86400, "d"))


def age(seconds: float) -> str:
    """A compact time in state: <1m, 3m, 2h, 4d. Never seconds: a row that changed every second
    would repaint the tree every second (idle CPU)."""
    s = max(0, int(seconds))
    if s < 60:
        return "<1m"
    for limit, unit, name in _AGE_UNITS:
        if s < limit:
            return f"{s // unit}{name}"
    return ""


def age_changes_at(since: float, now: float) -> float:
    """When `age(now - since)` will next read differently."""
    s = max(0.0, now - since)
    if s < 60:
        return since + 60
    for limit, unit, _name in _AGE_UNITS:
        if s < limit:
            return since + (s // unit + 1) * unit
    return float("inf")


def duration(seconds: float) -> str:
    """A precise one: 45s, 2m05s, 1h07m."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def tokens(n: int) -> str:
    """1234 -> 1.2k, 3400000 -> 3.4M."""
    if n < 1000:
        return str(n)
    if n < 1_000_000:
        return f"{n / 1000:.1f}k" if n < 10_000 else f"{n // 1000}k"
    return f"{n / 1_000_000:.1f}M"


def fact_bits(app, a, now: float) -> list[tuple[str, Style]]:
    """An agent's facts as the tree shows them, most important first (a narrow tree keeps the
    first ones): time in state, commits ahead (↑) and dirty files (*), context %, cost."""
    muted = Style(color=var(app, "muted"))
    out: list[tuple[str, Style]] = []
    if a.since:
        out.append((age(now - a.since), muted))
    git = []
    if a.ahead:
        git.append(f"↑{a.ahead}")
    if a.dirty:
        git.append(f"*{a.dirty}")
    if git:
        out.append((" ".join(git), Style(color=var(app, "accent"))))
    if a.context_pct is not None:
        out.append((f"{a.context_pct}%", Style(color=var(app, "warning")) if a.context_pct >= 80 else muted))
    if a.cost_usd is not None:  # the tokens behind it are in the agent detail
        out.append((f"${a.cost_usd:.2f}", muted))
    return out
