"""The live output of the selected agent: a Line API ScrollView over parsed ANSI lines.

Lines are parsed once per capture (style carried across lines) and cached as Strips; rendering a
frame only crops cached strips. Follow mode keeps the view on the last line while the agent
prints and needs only the last screenful; scrolling up leaves follow mode and asks for the whole
tmux history (`HistoryWanted`); `f`, End, or scrolling back down to the end re-enters it.
"""

from __future__ import annotations

import re

from rich.segment import Segment
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from gastown_tui.tui.ansi import parse_lines

# Streamed output we can show without a capture: whole lines of text and colour (SGR) only.
_PLAIN_LINES = re.compile(r"(?:(?:[^\x00-\x1f\x7f]|\t|\x1b\[[0-9;:]*m)*\r?\n)+")


class AgentOutput(ScrollView, can_focus=True):
    BINDINGS = [
        Binding("i", "typing", "type into agent"),
        Binding("f", "follow", "follow"),
        Binding("end", "follow", "end", show=False),
        Binding("home", "scroll_home", "top", show=False),
        Binding("up", "scroll_up", "up", show=False),
        Binding("down", "scroll_down", "down", show=False),
        Binding("pageup", "page_up", "page up", show=False),
        Binding("pagedown", "page_down", "page down", show=False),
    ]
    DEFAULT_CSS = """
    AgentOutput { background: $surface; }
    AgentOutput.-typing { border: heavy $warning; }
    """

    follow: reactive[bool] = reactive(True)
    # tmux clamps `-S -N` to the start of its history: this asks for all of it
    HISTORY_LINES = 1_000_000

    class HistoryWanted(Message):
        """The reader left follow mode: the app should capture the pane's whole history."""

    class KeysTyped(Message):
        """Input mode: keys for the selected agent's pane, ("text", s) or ("key", tmux name)."""

        def __init__(self, keys: list[tuple[str, str]]) -> None:
            super().__init__()
            self.keys = keys

    # Textual key -> tmux key name, for the input mode
    KEY_NAMES = {"enter": "Enter", "backspace": "BSpace", "tab": "Tab", "shift+tab": "BTab", "up": "Up",
                 "down": "Down", "left": "Left", "right": "Right", "home": "Home", "end": "End",
                 "pageup": "PPage", "pagedown": "NPage", "delete": "DC", "ctrl+c": "C-c", "ctrl+d": "C-d",
                 "ctrl+u": "C-u", "ctrl+l": "C-l", "ctrl+a": "C-a", "ctrl+e": "C-e", "ctrl+w": "C-w",
                 "ctrl+r": "C-r"}

    typing: reactive[bool] = reactive(False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._raw = ""
        self._lines: list[list[Segment]] = []
        self._strips: dict[int, Strip] = {}  # line index -> its strip, cropped to the view
        self._strips_at = (0, 0)  # (scroll x, width) the cached strips are cropped to
        self._base_style = None
        self._width = 0
        self.session = ""
        self._at_home = False  # Home was pressed: stay on line 1 when the history arrives

    def wanted_lines(self) -> int:
        """How much to capture: the screen and a margin while following, the scrollback otherwise."""
        return max(self.size.height, 10) + 50 if self.follow else self.HISTORY_LINES

    @property
    def line_count(self) -> int:
        return len(self._lines)

    @property
    def plain(self) -> str:
        return "\n".join("".join(s.text for s in line) for line in self._lines)

    def set_output(self, text: str, session: str = "") -> bool:
        """Show `text` (ANSI); returns False (and does nothing) when it did not change."""
        if text == self._raw and session == self.session:
            return False
        new_agent = session != self.session
        lines = parse_lines(text) if text else []
        if not new_agent and self.follow and lines and self._shows_tail(lines):
            # a capture that confirms what the stream already put on screen: no repaint
            self._raw = text
            return False
        top = self._top_line_at(lines)
        self.session = session
        self._raw = text
        self._lines = lines
        self._strips.clear()
        self._width = max((sum(len(s.text) for s in line) for line in self._lines), default=0)
        self.virtual_size = Size(self._width, len(self._lines))
        if new_agent:
            self.follow = True
            self._at_home = False
        if self.follow:
            self._to_end()
        elif self._at_home:
            self.scroll_to(y=0, animate=False, immediate=True)
        else:  # the lines the reader is looking at stay in place while output grows
            self.scroll_to(y=top, animate=False, immediate=True)
        self.refresh()
        return True

    def _top_line_at(self, lines: list[list[Segment]]) -> int:
        """Where the line now at the top of the view is in `lines` (the next capture): the same
        index, or higher up when tmux dropped the oldest lines of a full history."""
        y = int(self.scroll_offset.y)
        if y >= len(self._lines):
            return y
        anchor = self._lines[y]
        for i in range(min(y, len(lines) - 1), max(-1, y - 10_000), -1):
            if lines[i] == anchor:
                return i
        return y

    def _shows_tail(self, lines: list[list[Segment]]) -> bool:
        """The lines shown end with exactly `lines`, and not so many more that they should go."""
        n = len(lines)
        return len(self._lines) <= 2 * n + 100 and self._lines[-n:] == lines

    def append_stream(self, data: bytes) -> bool:
        """Show streamed pane output at once when it is only whole lines of text and colour
        appended at the end while following; False (nothing done) when a capture must show it
        (cursor movement, a partial line, scrolled back). A capture later replaces these lines."""
        if not self.follow or not data or not self._lines:
            return False
        text = data.decode("utf-8", errors="replace")
        if _PLAIN_LINES.fullmatch(text) is None:
            return False
        new = parse_lines(text.replace("\r\n", "\n")[:-1])
        self._lines.extend(new)
        self._raw = None  # the next capture always replaces what we guessed
        width = max(self._width, max((sum(len(s.text) for s in line) for line in new), default=0))
        size = Size(width, len(self._lines))
        if width == self._width and self.show_vertical_scrollbar:
            # Only longer: no layout of the whole screen for one more line (a `virtual_size`
            # assignment is a layout); the scrollbar learns the new length as in a scroll-only
            # reflow. One frame then repaints this widget.
            self.set_reactive(AgentOutput.virtual_size, size)
            self._scroll_update(size)
        else:  # wider, or the scrollbar appears: a real layout
            self._width = width
            self.virtual_size = size
        self._to_end()
        self.refresh()
        return True

    def _to_end(self) -> None:
        # max_scroll_y follows the new virtual size only after layout: compute the end ourselves
        # so a freshly selected agent lands on its last line at once, not on a later capture
        end = max(0, len(self._lines) - self.scrollable_content_region.height)
        self.scroll_to(x=0, y=end, animate=False, immediate=True, force=True)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = y + scroll_y
        width = self.scrollable_content_region.width
        style = self._base_style
        if style is None:  # computed once per style change, not once per line per frame
            style = self._base_style = self.rich_style
        if index >= len(self._lines):
            return Strip.blank(width, style)
        if (scroll_x, width) != self._strips_at:
            self._strips.clear()
            self._strips_at = (scroll_x, width)
        strip = self._strips.get(index)
        if strip is None:
            strip = Strip(list(Segment.apply_style(self._lines[index], style=style)))
            strip = self._strips[index] = strip.crop_extend(scroll_x, scroll_x + width, style)
        return strip

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._base_style = None
        self._strips.clear()  # cached strips carry the old theme's base style

    def action_typing(self) -> None:
        """Input mode: every key goes to the agent's pane until Esc."""
        self.typing = True
        self.action_follow()

    def watch_typing(self, on: bool) -> None:
        self.set_class(on, "-typing")
        base = (self.border_title or "").split(" · typing")[0]
        self.border_title = base + (" · typing (esc leaves)" if on else "")

    def on_blur(self) -> None:
        self.typing = False

    def on_key(self, event) -> None:
        if not self.typing:
            return
        event.stop()
        event.prevent_default()
        if event.key == "escape":
            self.typing = False
            return
        name = self.KEY_NAMES.get(event.key)
        if name is not None:
            self.post_message(self.KeysTyped([("key", name)]))
        elif event.is_printable and event.character:
            self.post_message(self.KeysTyped([("text", event.character)]))

    def action_follow(self) -> None:
        self._at_home = False
        self.follow = True
        self._to_end()
        self.refresh()

    def _leave_follow(self) -> None:
        self._at_home = False
        if self.follow:
            self.follow = False
            self.post_message(self.HistoryWanted())

    def _maybe_follow(self) -> None:
        if not self.follow and self.scroll_offset.y >= len(self._lines) - self.scrollable_content_region.height:
            self.follow = True  # back at the end: follow again

    def action_scroll_up(self) -> None:
        self._leave_follow()
        super().action_scroll_up()

    def action_page_up(self) -> None:
        self._leave_follow()
        super().action_page_up()

    def action_scroll_home(self) -> None:
        self._leave_follow()
        self._at_home = True
        super().action_scroll_home()

    def action_scroll_down(self) -> None:
        self._at_home = False
        super().action_scroll_down()
        self.call_after_refresh(self._maybe_follow)

    def action_page_down(self) -> None:
        self._at_home = False
        super().action_page_down()
        self.call_after_refresh(self._maybe_follow)

    def _on_mouse_scroll_up(self, event) -> None:
        self._leave_follow()
        super()._on_mouse_scroll_up(event)

    def _on_mouse_scroll_down(self, event) -> None:
        super()._on_mouse_scroll_down(event)
        self.call_after_refresh(self._maybe_follow)
