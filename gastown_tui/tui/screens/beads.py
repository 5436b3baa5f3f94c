"""The beads screen: every bead of every rig; filter, sort, detail, create, close, sling, convoy."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static

from gastown_tui.tui.widgets.footer import KeyFooter
from gastown_tui.tui.modals import ConfirmModal, InfoModal, SlingModal, TextPrompt, notify_result
from gastown_tui.tui.style import var
from gastown_tui.tui.widgets.tables import cursor_key, sync_table
from gastown_tui.work.snapshot import BeadView

SORTS = ("priority", "id", "status", "updated")


class BeadsScreen(Screen):
    BINDINGS = [
        Binding("escape", "back", "back"),
        Binding("/", "filter", "filter"),
        Binding("o", "sort", "sort"),
        Binding("enter", "detail", "detail"),
        Binding("space", "mark", "mark"),
        Binding("n", "create", "new"),
        Binding("x", "close_bead", "close"),
        Binding("s", "sling", "sling"),
        Binding("c", "convoy", "convoy"),
        Binding("a", "toggle_closed", "closed + internal"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.all: list[BeadView] = []
        self.sort = "priority"
        self.filter = ""
        self.marked: set[str] = set()
        self.show_closed = False

    def compose(self) -> ComposeResult:
        yield Static("Beads", id="beads-title", classes="screen-title")
        yield self.app.steady(Input(placeholder="filter: text, rig:NAME, status:open, type:bug, p:1", id="beads-filter"))
        yield DataTable(id="beads-table", cursor_type="row")
        yield KeyFooter()

    def on_mount(self) -> None:
        t = self.query_one(DataTable)
        t.add_column("✓", key="mark", width=1)
        for c in ("id", "P", "status", "type", "rig", "assignee", "title"):
            t.add_column(c, key=c)
        self.query_one("#beads-filter").display = False
        t.focus()
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="beads")
    def load(self) -> None:
        from gastown_tui.tui.safe import safe_view

        beads = safe_view(self.app.source.beads())
        self.app.call_from_thread(self._loaded, beads)

    def _loaded(self, beads: list[BeadView]) -> None:
        self.all = beads
        self.render_rows()

    def visible(self) -> list[BeadView]:
        out = []
        for b in self.all:
            if not self.show_closed and (b.status in ("closed", "tombstone") or "-wisp-" in b.id):
                continue  # closed beads and the patrols' internal wisps: `a` shows them
            if self.filter and not bead_matches(b, self.filter):
                continue
            out.append(b)
        key = {"priority": lambda b: (b.priority, b.id), "id": lambda b: b.id,
               "status": lambda b: (b.status, b.priority, b.id), "updated": lambda b: b.updated_at}[self.sort]
        out.sort(key=key, reverse=self.sort == "updated")
        return out

    def render_rows(self) -> None:
        rows = []
        shown = self.visible()
        for b in shown[:5000]:
            mark = Text("✓", Style(bold=True, color=var(self.app, "accent"))) if b.id in self.marked else ""
            rows.append((b.id, (mark, Text(b.id, Style(color=var(self.app, "hook"))), f"P{b.priority}", b.status,
                                b.issue_type, b.rig or "hq", b.assignee, b.title[:80])))
        sync_table(self.query_one(DataTable), rows)
        self.query_one("#beads-title", Static).update(Text(
            f"Beads · {len(shown)} shown of {len(self.all)} · sort {self.sort}"
            + (f" · filter '{self.filter}'" if self.filter else "") + (f" · {len(self.marked)} marked" if self.marked else "")))

    def current(self) -> BeadView | None:
        k = cursor_key(self.query_one(DataTable))
        return next((b for b in self.all if b.id == k), None) if k else None

    def action_back(self) -> None:
        f = self.query_one("#beads-filter", Input)
        if f.display:
            f.display = False
            self.query_one(DataTable).focus()
            return
        self.app.pop_screen()

    def action_filter(self) -> None:
        f = self.query_one("#beads-filter", Input)
        f.display = True
        f.value = self.filter
        f.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.filter = event.value
        self.render_rows()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one(DataTable).focus()

    def action_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        self.render_rows()

    def action_toggle_closed(self) -> None:
        self.show_closed = not self.show_closed
        self.render_rows()

    def action_mark(self) -> None:
        b = self.current()
        if b:
            self.marked ^= {b.id}
            self.render_rows()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()  # the table takes Enter itself: open the bead from here
        self.action_detail()

    def action_detail(self) -> None:
        b = self.current()
        if b:
            body = Text()
            body.append(f"{b.id}  P{b.priority}  {b.status}  {b.issue_type}  rig {b.rig or 'hq'}\n", Style(bold=True))
            if b.assignee:
                body.append(f"assignee {b.assignee}\n")
            if b.labels:
                body.append("labels " + ", ".join(b.labels) + "\n")
            body.append("\n" + (b.description or "(no description)"))
            self.app.push_screen(InfoModal(b.title, body))

    def action_create(self) -> None:
        def made(text: str | None) -> None:
            if not text:
                return
            rig, _, title = text.partition(":") if ":" in text.split(" ")[0] else ("", "", text)
            if not title:
                rig, title = "", text
            rigs = [r.name for r in self.app.snapshot.rigs] if self.app.snapshot else []
            self._create(rig.strip() or (rigs[0] if rigs else ""), title.strip())

        self.app.push_screen(TextPrompt("New bead", "rig: title  (for example  gastown: Fix the login bug)"), made)

    @work(thread=True, exit_on_error=False, group="beads-write")
    def _create(self, rig: str, title: str) -> None:
        r = self.app.source.create_bead(rig, title)
        self.app.call_from_thread(self._after, r)

    def _after(self, r) -> None:
        notify_result(self.app, r)
        self.load()

    def action_close_bead(self) -> None:
        b = self.current()
        if not b:
            return

        def go(yes: bool | None) -> None:
            if yes:
                self._close(b.id)

        self.app.push_screen(ConfirmModal(f"Close {b.id} “{b.title[:50]}”?"), go)

    @work(thread=True, exit_on_error=False, group="beads-write")
    def _close(self, bead_id: str) -> None:
        r = self.app.source.close_bead(bead_id)
        self.app.call_from_thread(self._after, r)

    def action_sling(self) -> None:
        ids = sorted(self.marked) or ([self.current().id] if self.current() else [])
        if ids and self.app.snapshot:
            self.app.push_screen(SlingModal(self.app.snapshot, preselected=ids), lambda _r: self.load())

    def action_convoy(self) -> None:
        ids = sorted(self.marked) or ([self.current().id] if self.current() else [])
        self.app.create_convoy(ids)


def bead_matches(b: BeadView, query: str) -> bool:
    for word in query.split():
        w = word.lower()
        if w.startswith("rig:"):
            if (b.rig or "hq") != w[4:]:
                return False
        elif w.startswith("status:"):
            if b.status != w[7:]:
                return False
        elif w.startswith("type:"):
            if b.issue_type != w[5:]:
                return False
        elif w.startswith("p:"):
            if str(b.priority) != w[2:]:
                return False
        elif w not in f"{b.id} {b.title} {b.assignee} {' '.join(b.labels)}".lower():
            return False
    return True
