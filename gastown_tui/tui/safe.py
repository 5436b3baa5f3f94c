"""Data on screen is text, never markup and never control sequences (issue 12).

Everything the cockpit shows from the town (titles, subjects, bodies, names) arrives by git or
from agents. `safe_view` passes every string of a snapshot view through the one terminal-text
sanitizer once, where the data enters the UI (`apply_snapshot`, the beads screen); `plain` and
`cell` make sure a string is shown as a `Text` (literal), never parsed as Rich/Textual markup, so a
title like `[red]x[/]` reads as typed.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from rich.text import Text

from gastown_tui.infra.termtext import clean, clean_line


def safe_view(obj: Any) -> Any:
    """`obj` with every string inside it sanitized; unchanged objects are returned as they are."""
    if isinstance(obj, str):
        return clean(obj)
    if isinstance(obj, tuple):
        new = tuple(safe_view(x) for x in obj)
        return obj if all(a is b for a, b in zip(new, obj, strict=True)) else new
    if isinstance(obj, list):
        return [safe_view(x) for x in obj]
    if isinstance(obj, dict):
        return {k: safe_view(v) for k, v in obj.items()}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        changes = {}
        for f in dataclasses.fields(obj):
            if not f.init:
                continue
            v = getattr(obj, f.name)
            nv = safe_view(v)
            if nv is not v and nv != v:
                changes[f.name] = nv
        return dataclasses.replace(obj, **changes) if changes else obj
    return obj


def safe_view_since(obj: Any, last_raw: Any = None, last_safe: Any = None) -> Any:
    """`safe_view(obj)` for a dataclass whose previous version `last_raw` was sanitized into
    `last_safe`: fields equal to the previous ones take their sanitized values from there. The
    cockpit rebuilds its snapshot every second and most of it has not changed."""
    if (last_raw is None or last_safe is None or type(last_raw) is not type(obj)
            or not dataclasses.is_dataclass(obj)):
        return safe_view(obj)
    changes = {}
    for f in dataclasses.fields(obj):
        if not f.init:
            continue
        v = getattr(obj, f.name)
        nv = getattr(last_safe, f.name) if v == getattr(last_raw, f.name) else safe_view(v)
        if nv is not v:
            changes[f.name] = nv
    return dataclasses.replace(obj, **changes) if changes else obj


def plain(text: Any, style: Any = "") -> Text:
    """One line of data as literal text (no markup), controls stripped."""
    return Text(clean_line("" if text is None else str(text)), style=style)


def cell(value: Any) -> Any:
    """A DataTable cell: strings become literal Text (DataTable parses str cells as markup)."""
    if isinstance(value, str):
        return plain(value)
    if isinstance(value, Text) and not value.plain.isprintable():
        out = value.copy()
        out.plain = clean_line(value.plain)  # rare: keep the style, drop the controls
        return out
    return value
