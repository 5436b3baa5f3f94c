"""Terminal-safe text: the one sanitizer for data that reaches a terminal (typed by nudge, printed by listings).

Its own small module so a listing can use it without importing tmux machinery; `re` is only
imported (and the patterns compiled) the first time a text actually holds a control character.
"""

from __future__ import annotations

_PATTERNS = None


def _patterns():
    global _PATTERNS
    if _PATTERNS is None:
        import re

        # CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), other two-byte ESC sequences, then any
        # remaining C0/C1 control character except tab and newline.
        _PATTERNS = (re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?|\x9b[0-?]*[ -/]*[@-~]"),
                     re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]"))
    return _PATTERNS


def sanitize(text: str) -> str:
    """The text with escape sequences and control characters removed (newlines and tabs stay)."""
    if text.isprintable():  # no control character of any kind: nothing to remove
        return text
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    escapes, controls = _patterns()
    return controls.sub("", escapes.sub("", text))
