"""Convoys, mail and feed panes."""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Tree
from textual.widgets.tree import TreeNode

from gastown_tui.tui.style import bar, var
from gastown_tui.tui.widgets.tables import cursor_key, sync_table
from gastown_tui.work.snapshot import ConvoyView, EventView, MailView


class ConvoyTree(Tree[str]):
    """Convoys with progress bars; expand one to see its tracked beads (state, assignee)."""

    BINDINGS = [
        Binding("enter", "toggle_node", "expand"),
        Binding("space", "toggle_node", "expand", show=False),
        Binding("l", "toggle_landed", "landed"),
    ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__("convoys", *args, **kwargs)
        self.show_root = False
        self.guide_depth = 2
        self.show_landed = False
        self._keyed: dict[str, TreeNode[str]] = {}
        self._convoys: tuple[ConvoyView, ...] = ()
        self.filter_text = ""

    def _label(self, c: ConvoyView) -> Text:
        t = Text()
        for s, st in bar(self.app, c.closed, c.total, 8):
            t.append(s, st)
        t.append(f" {c.closed}/{c.total} ")
        t.append(c.id, Style(color=var(self.app, "hook")))
        t.append(" " + c.title)
        if c.landed:
            t.append(" landed", Style(color=var(self.app, "success")))
        return t

    def update_convoys(self, convoys: tuple[ConvoyView, ...]) -> None:
        self._convoys = convoys
        wanted: set[str] = set()
        f = self.filter_text.lower()
        for c in convoys:
            if c.landed and not self.show_landed:
                continue
            if f and f not in c.id.lower() and f not in c.title.lower():
                continue
            node = self._keyed.get(c.id)
            label = self._label(c)
            if node is None:
                node = self.root.add(label, data=c.id, expand=False)
                self._keyed[c.id] = node
            elif node.label.plain != label.plain:
                node.set_label(label)
            wanted.add(c.id)
            for b in c.tracked:
                key = f"{c.id}/{b.id}"
                bl = Text()
                bl.append(b.id, Style(color=var(self.app, "hook")))
                bl.append(f" {b.status}", Style(color=var(self.app, "success" if b.status == "closed" else "muted")))
                if b.assignee:
                    bl.append(f" {b.assignee}")
                bl.append(f" {b.title}", Style(color=var(self.app, "muted")))
                child = self._keyed.get(key)
                if child is None:
                    self._keyed[key] = node.add_leaf(bl, data=key)
                elif child.label.plain != bl.plain:
                    child.set_label(bl)
                wanted.add(key)
        for key in [k for k in self._keyed if k not in wanted]:
            n = self._keyed.pop(key)
            try:
                n.remove()
            except Exception:  # noqa: BLE001 - removed with its convoy
                pass

    def action_toggle_landed(self) -> None:
        self.show_landed = not self.show_landed
        self.update_convoys(self._convoys)
        self.notify("showing landed convoys" if self.show_landed else "hiding landed convoys")

    def action_toggle_node(self) -> None:
        node = self.cursor_node
        if node is not None and node.allow_expand:
            node.toggle()

    @property
    def selected_convoy(self) -> str | None:
        node = self.cursor_node
        return node.data.split("/")[0] if node is not None and node.data else None


class MailTable(DataTable):
    """The overseer's inbox (or, toggled with `i`, the selected agent's); unread in bold."""

    BINDINGS = [
        Binding("enter", "read", "read"),
        Binding("m", "app.compose", "compose"),
        Binding("r", "reply", "reply"),
        Binding("i", "app.toggle_inbox", "whose inbox"),
    ]

    @dataclass
    class Open(Message):
        mail: MailView

    @dataclass
    class Reply(Message):
        mail: MailView

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, cursor_type="row", zebra_stripes=False, **kwargs)
        self.owner = "overseer"
        self._mail: dict[str, MailView] = {}
        self.filter_text = ""

    def on_mount(self) -> None:
        self.add_column("from", key="from")
        self.add_column("subject", key="subject")

    def update_mail(self, owner: str, mail: tuple[MailView, ...]) -> None:
        self.owner = owner
        self.border_title = f"4 Mail · {owner}"
        f = self.filter_text.lower()
        shown = [m for m in mail if not f or f in m.subject.lower() or f in m.sender.lower()]
        self._mail = {m.id: m for m in shown}
        rows = []
        for m in shown:
            st = Style(bold=True, color=var(self.app, "mail-unread")) if m.unread else Style(color=var(self.app, "muted"))
            rows.append((m.id, (Text(m.sender, st), Text(m.subject, st))))
        sync_table(self, rows)

    @property
    def selected(self) -> MailView | None:
        k = cursor_key(self)
        return self._mail.get(k) if k else None

    def action_read(self) -> None:
        if self.selected:
            self.post_message(self.Open(self.selected))

    def action_reply(self) -> None:
        if self.selected:
            self.post_message(self.Reply(self.selected))


class FeedTable(DataTable):
    """The event stream, newest last; `/` filters (`rig:NAME`, `type:TYPE`, or any text)."""

    BINDINGS = [Binding("/", "app.filter", "filter")]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, cursor_type="row", **kwargs)
        self.filter_text = ""
        self._follow = True

    def on_mount(self) -> None:
        # type and who get fixed widths (shortened from the left) so "what" keeps the room
        self.add_column("time", key="time")
        self.add_column("type", key="type", width=self.TYPE_WIDTH)
        self.add_column("who", key="who", width=self.WHO_WIDTH)
        self.add_column("what", key="what")

    TYPE_WIDTH = 13
    WHO_WIDTH = 14

    def update_events(self, events: tuple[EventView, ...]) -> None:
        rows = []
        for i, e in enumerate(events):
            if not event_matches(e, self.filter_text):
                continue
            t = e.ts[11:19] if len(e.ts) >= 19 else e.ts
            rows.append((f"{i}:{e.ts}:{e.type}", (Text(t, Style(color=var(self.app, "muted"))),
                                                   _left_cut(e.type, self.TYPE_WIDTH),
                                                   _left_cut(e.actor, self.WHO_WIDTH), e.summary)))
        at_end = self.cursor_row >= self.row_count - 1
        sync_table(self, rows)
        if at_end and self.row_count:
            self.move_cursor(row=self.row_count - 1, animate=False)


def _left_cut(s: str, width: int) -> str:
    """`sample/refinery` in 12 columns -> `…e/refinery`: the end of a name says the most."""
    return s if len(s) <= width else "…" + s[-(width - 1):]


def event_matches(e: EventView, query: str) -> bool:
    for word in query.split():
        if word.startswith("rig:"):
            if e.rig != word[4:]:
                return False
        elif word.startswith("type:"):
            if not e.type.startswith(word[5:]):
                return False
        elif word.lower() not in f"{e.actor} {e.summary} {e.type} {e.rig}".lower():
            return False
    return True
