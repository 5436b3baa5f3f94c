"""ANSI SGR → Rich segments, with the style carried across lines.

tmux's `capture-pane -e` emits an SGR sequence where a style *changes*, not at the start of each
line, so a colour set on one line continues on the next. Parsing line by line
(`Text.from_ansi(line)`) loses that; `AnsiParser` keeps the current style between `feed` calls.
Everything that is not SGR (cursor moves, OSC titles, charset switches) is dropped.
"""

from __future__ import annotations

import re

from rich.color import Color
from rich.segment import Segment
from rich.style import Style

_ESC_RE = re.compile(r"\x1b(?:\[([0-9;:?]*)([@-~])|\][^\x07\x1b]*(?:\x07|\x1b\\)|[()][0-9A-Za-z]|[@-Z\\-_])")
_CTRL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

_ATTRS_ON = {1: "bold", 2: "dim", 3: "italic", 4: "underline", 5: "blink", 7: "reverse", 8: "conceal", 9: "strike"}
_ATTRS_OFF = {22: ("bold", "dim"), 23: ("italic",), 24: ("underline",), 25: ("blink",), 27: ("reverse",),
              28: ("conceal",), 29: ("strike",)}


class AnsiParser:
    """Feed lines one at a time; each comes back as Rich segments in the style in force."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.fg: Color | None = None
        self.bg: Color | None = None
        self.attrs: dict[str, bool] = {}
        self._style: Style | None = Style()

    @property
    def style(self) -> Style:
        if self._style is None:
            self._style = Style(color=self.fg, bgcolor=self.bg, **{k: True for k, v in self.attrs.items() if v})
        return self._style

    def feed(self, line: str) -> list[Segment]:
        out: list[Segment] = []
        pos = 0
        for m in _ESC_RE.finditer(line):
            if m.start() > pos:
                out.append(Segment(_CTRL_RE.sub("", line[pos:m.start()]), self.style))
            pos = m.end()
            if m.group(2) == "m":
                self._sgr(m.group(1) or "0")
        if pos < len(line):
            out.append(Segment(_CTRL_RE.sub("", line[pos:]), self.style))
        return [s for s in out if s.text]

    def _sgr(self, params: str) -> None:
        codes = [int(p) if p.isdigit() else 0 for p in params.replace(":", ";").split(";")] or [0]
        self._style = None
        i = 0
        while i < len(codes):
            c = codes[i]
            if c == 0:
                self.fg = self.bg = None
                self.attrs = {}
            elif c in _ATTRS_ON:
                self.attrs[_ATTRS_ON[c]] = True
            elif c in _ATTRS_OFF:
                for a in _ATTRS_OFF[c]:
                    self.attrs.pop(a, None)
            elif 30 <= c <= 37:
                self.fg = Color.from_ansi(c - 30)
            elif 90 <= c <= 97:
                self.fg = Color.from_ansi(c - 90 + 8)
            elif 40 <= c <= 47:
                self.bg = Color.from_ansi(c - 40)
            elif 100 <= c <= 107:
                self.bg = Color.from_ansi(c - 100 + 8)
            elif c == 39:
                self.fg = None
            elif c == 49:
                self.bg = None
            elif c in (38, 48) and i + 1 < len(codes):
                color, used = _extended(codes[i + 1:])
                if c == 38:
                    self.fg = color
                else:
                    self.bg = color
                i += used
            i += 1


def _extended(rest: list[int]) -> tuple[Color | None, int]:
    if rest[0] == 5 and len(rest) >= 2:
        return Color.from_ansi(max(0, min(rest[1], 255))), 2
    if rest[0] == 2 and len(rest) >= 4:
        r, g, b = (max(0, min(v, 255)) for v in rest[1:4])
        return Color.from_rgb(r, g, b), 4
    return None, len(rest)


def parse_lines(text: str) -> list[list[Segment]]:
    """Every line of `text` as segments, style carried from line to line."""
    p = AnsiParser()
    return [p.feed(line) for line in text.split("\n")]
