"""The live output of the selected agent: a Line API ScrollView over parsed ANSI lines.

Lines are parsed once per capture (style carried across lines) and cached as Strips; rendering a
frame only crops cached strips. Follow mode keeps the view on the last line while the agent
prints; scrolling up leaves follow mode, `f` or End re-enters it.
"""

from __future__ import annotations

from rich.segment import Segment
from textual.binding import Binding
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from gastown_tui.tui.ansi import parse_lines


class AgentOutput(ScrollView, can_focus=True):
    BINDINGS = [
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
    """

    follow: reactive[bool] = reactive(True)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._raw = ""
        self._lines: list[list[Segment]] = []
        self._strips: dict[int, Strip] = {}
        self._width = 0
        self.session = ""

    def wanted_lines(self) -> int:
        """How much to capture: the screen and a margin while following, the scrollback otherwise."""
        return max(self.size.height, 10) + 50 if self.follow else 2000

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
        from_bottom = len(self._lines) - self.scroll_offset.y
        self.session = session
        self._raw = text
        self._lines = parse_lines(text) if text else []
        self._strips.clear()
        self._width = max((sum(len(s.text) for s in line) for line in self._lines), default=0)
        self.virtual_size = Size(self._width, len(self._lines))
        if new_agent:
            self.follow = True
        if self.follow:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        else:  # keep the lines the reader is looking at in place while output grows
            self.scroll_to(y=max(0, len(self._lines) - from_bottom), animate=False, immediate=True)
        self.refresh()
        return True

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = y + scroll_y
        width = self.scrollable_content_region.width
        if index >= len(self._lines):
            return Strip.blank(width, self.rich_style)
        strip = self._strips.get(index)
        if strip is None:
            strip = Strip(list(Segment.apply_style(self._lines[index], style=self.rich_style)))
            self._strips[index] = strip
        return strip.crop_extend(scroll_x, scroll_x + width, self.rich_style)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()  # cached strips carry the old theme's base style

    def action_follow(self) -> None:
        self.follow = True
        self.scroll_end(animate=False, x_axis=False)

    def _leave_follow(self) -> None:
        self.follow = False

    def action_scroll_up(self) -> None:
        self._leave_follow()
        super().action_scroll_up()

    def action_page_up(self) -> None:
        self._leave_follow()
        super().action_page_up()

    def action_scroll_home(self) -> None:
        self._leave_follow()
        super().action_scroll_home()

    def _on_mouse_scroll_up(self, event) -> None:
        self._leave_follow()
        super()._on_mouse_scroll_up(event)
