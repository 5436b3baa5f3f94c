"""Merge queue and escalations screens (read from the snapshot; refreshed with it)."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

from gastown_tui.tui.widgets.footer import KeyFooter
from gastown_tui.tui.modals import notify_result
from gastown_tui.tui.style import var
from gastown_tui.tui.widgets.tables import cursor_key, sync_table
from gastown_tui.work.snapshot import TownSnapshot


class SnapshotScreen(Screen):
    """A screen the app re-renders on every snapshot (`update_snapshot`)."""

    BINDINGS = [Binding("escape", "app.pop_screen", "back")]

    def update_snapshot(self, snap: TownSnapshot) -> None:  # pragma: no cover - overridden
        pass

    def on_mount(self) -> None:
        if self.app.snapshot is not None:
            self.update_snapshot(self.app.snapshot)


class MergeQueueScreen(SnapshotScreen):
    BINDINGS = [Binding("escape", "app.pop_screen", "back"), Binding("r", "retry", "retry"),
                Binding("x", "reject", "reject")]

    def _current(self):
        k = cursor_key(self.query_one(DataTable))
        snap = self.app.snapshot
        return next((b for b in snap.merge_queue if b.id == k), None) if k and snap else None

    def action_retry(self) -> None:
        b = self._current()
        if b is not None:
            self.app._act(lambda: self.app.source.mq_retry(b.rig, b.id))

    def action_reject(self) -> None:
        b = self._current()
        if b is not None:
            self.app.confirm_then(f"Reject {b.id} “{b.title[:50]}”? The worker is told to rework it.",
                                  lambda: self.app.source.mq_reject(b.rig, b.id))

    def compose(self) -> ComposeResult:
        yield Static("Merge queue", classes="screen-title", id="mq-title")
        yield DataTable(id="mq-table", cursor_type="row")
        yield KeyFooter()

    def on_mount(self) -> None:
        t = self.query_one(DataTable)
        for c in ("id", "P", "rig", "state", "worker", "title"):
            t.add_column(c, key=c)
        t.focus()
        super().on_mount()

    def update_snapshot(self, snap: TownSnapshot) -> None:
        rows = [(b.id, (Text(b.id, Style(color=var(self.app, "hook"))), f"P{b.priority}", b.rig,
                        Text(b.mr_state or b.status, Style(color=var(self.app, "error"), bold=True)
                             if b.mr_state in ("failed", "rework") else Style()),
                        b.worker or b.assignee, b.title)) for b in snap.merge_queue]
        sync_table(self.query_one(DataTable), rows)
        per_rig = ", ".join(f"{r.name} {r.mq_length}" for r in snap.rigs) or "no rigs"
        self.query_one("#mq-title", Static).update(f"Merge queue · {len(snap.merge_queue)} waiting · {per_rig}")


class EscalationsScreen(SnapshotScreen):
    BINDINGS = [Binding("escape", "app.pop_screen", "back"), Binding("a", "ack", "acknowledge"),
                Binding("o", "answer", "answer"), Binding("c", "close", "close")]

    def action_close(self) -> None:
        k = cursor_key(self.query_one(DataTable))
        if k:
            self.app.confirm_then(f"Close escalation {k}?", lambda: self.app.source.close_escalation(k))

    def action_answer(self) -> None:
        k = cursor_key(self.query_one(DataTable))
        if k:
            self._options(k)

    @work(thread=True, exit_on_error=False, group="ack")
    def _options(self, esc_id: str) -> None:
        try:
            question, options = self.app.source.escalation_options(esc_id)
        except Exception as e:  # noqa: BLE001 - a vanished escalation is a toast
            self.app.call_from_thread(self.app.notify, f"cannot read {esc_id}: {e}", severity="error", markup=False)
            return
        self.app.call_from_thread(self._pick, esc_id, question, options)

    def _pick(self, esc_id: str, question: str, options: list[str]) -> None:
        from gastown_tui.tui.modals import TextPrompt

        if options:
            title = (question or f"Answer {esc_id}") + " — " + " · ".join(f"{i}) {o}" for i, o in enumerate(options, 1))
            hint = f"1-{len(options)} or the answer's text"
        else:
            title, hint = f"Answer {esc_id} (it closes with your answer)", "your decision"

        def go(text: str | None) -> None:
            text = (text or "").strip()
            if not text:
                return
            if text.isdigit() and options:
                n = int(text)
                if not 1 <= n <= len(options):
                    self.app.notify(f"pick 1 to {len(options)}", severity="error")
                    return
                text = options[n - 1]
            self.app._act(lambda: self.app.source.answer_escalation(esc_id, text))

        self.app.push_screen(TextPrompt(title, hint), go)

    def compose(self) -> ComposeResult:
        yield Static("Escalations", classes="screen-title", id="esc-title")
        yield DataTable(id="esc-table", cursor_type="row")
        yield KeyFooter()

    def on_mount(self) -> None:
        t = self.query_one(DataTable)
        for c in ("id", "severity", "acked", "from", "title"):
            t.add_column(c, key=c)
        t.focus()
        super().on_mount()

    def update_snapshot(self, snap: TownSnapshot) -> None:
        colour = {"critical": "error", "high": "error", "medium": "warning", "low": "muted"}
        rows = [(e.id, (Text(e.id, Style(color=var(self.app, "hook"))),
                        Text(e.severity, Style(color=var(self.app, colour.get(e.severity, "muted")), bold=True)),
                        "yes" if e.acked else "", e.source, e.title)) for e in snap.escalations]
        sync_table(self.query_one(DataTable), rows)
        self.query_one("#esc-title", Static).update(
            f"Escalations · {snap.open_escalations} open · a acknowledge · o answer · c close")

    def action_ack(self) -> None:
        k = cursor_key(self.query_one(DataTable))
        if k:
            self._ack(k)

    @work(thread=True, exit_on_error=False, group="ack")
    def _ack(self, esc_id: str) -> None:
        r = self.app.source.ack_escalation(esc_id)
        self.app.call_from_thread(notify_result, self.app, r)
        self.app.call_from_thread(self.app.request_refresh)
