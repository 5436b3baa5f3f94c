"""The cockpit (`gt tui`): town tree, live output, convoys, mail and feed (DESIGN §10).

State lives here, on the UI thread. All I/O (snapshot, captures, actions) runs in thread
workers that hand results back with `call_from_thread`; widgets are updated in place by key.
Live data: a watch on the stores/event log/heartbeats (debounced) plus one pane listing per
second; only the selected agent's pane is captured at a high rate.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Static

from gastown_tui.tui.commands import ACTIONS, CockpitCommands
from gastown_tui.tui.modals import (ComposeModal, ConfirmModal, InfoModal, NudgeModal, ReadMailModal, SlingModal,
                                    TextPrompt, notify_result)
from gastown_tui.tui.screens.agent import AgentDetailScreen, HelpScreen, PeekScreen
from gastown_tui.tui.screens.beads import BeadsScreen
from gastown_tui.tui.screens.lists import EscalationsScreen, MergeQueueScreen, SnapshotScreen
from gastown_tui.tui.source import ActionResult, Source, default_runner, prefetch_snapshot
from gastown_tui.tui.style import glyph, state_style, var
from gastown_tui.tui.themes import DEFAULT_THEME, discover_themes
from gastown_tui.tui.widgets.footer import KeyFooter
from gastown_tui.tui.widgets.output import AgentOutput
from gastown_tui.tui.widgets.panes import ConvoyTree, FeedTable, MailTable
from gastown_tui.tui.widgets.tree import TownTree
from gastown_tui.work.snapshot import TownSnapshot

PANES = ("tree", "output", "convoys", "mail", "feed")
PANE_TITLES = {"tree": "1 Town", "output": "2 Output", "convoys": "3 Convoys", "mail": "4 Mail", "feed": "5 Feed"}
# `:` command aliases -> canonical names.
ALIASES = {"sl": "sling", "s": "sling", "nu": "nudge", "n": "nudge", "b": "beads", "bd": "beads",
           "mq": "mq", "merge": "mq", "esc": "escalations", "e": "escalations", "h": "help", "?": "help",
           "q": "quit", "quit": "quit", "rigs": "rig", "r": "rig", "cv": "convoy", "convoys": "convoy",
           "th": "theme", "p": "peek", "a": "attach", "mail": "mail", "m": "mail"}


class CockpitApp(App):
    CSS_PATH = "cockpit.tcss"
    TITLE = "Gas Town"
    COMMANDS = App.COMMANDS | {CockpitCommands}
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        # help and quit first: a narrow footer (80 columns) drops the last keys, never these
        Binding("question_mark", "help", "help"),
        Binding("q", "quit", "quit"),
        Binding("s", "sling", "sling"),
        Binding("n", "nudge", "nudge"),
        Binding("m", "compose", "mail", show=False),
        Binding("c", "convoy", "convoy", show=False),
        Binding("e", "escalations", "escalations", show=False),
        Binding("b", "next_attention", "attention", show=False),
        Binding("B", "beads", "beads", show=False),
        Binding("M", "merge_queue", "merge queue", show=False),
        Binding("p", "peek", "peek", show=False),
        Binding("R", "restart_agent", "restart", show=False),
        Binding("X", "nuke_agent", "nuke", show=False),
        Binding("u", "unsling_agent", "unsling", show=False),
        Binding("A", "reassign_agent", "reassign", show=False),
        Binding("t", "cycle_theme", "theme", show=False),
        Binding("/", "filter", "filter"),
        Binding("colon", "command_line", "command"),
        Binding("tab", "focus_next_pane", "next pane", show=False),
        Binding("shift+tab", "focus_previous_pane", "prev pane", show=False),
        Binding("1", "focus_pane('tree')", "town", show=False),
        Binding("2", "focus_pane('output')", "output", show=False),
        Binding("3", "focus_pane('convoys')", "convoys", show=False),
        Binding("4", "focus_pane('mail')", "mail", show=False),
        Binding("5", "focus_pane('feed')", "feed", show=False),
        Binding("ctrl+r", "refresh_now", "refresh", show=False),
        Binding("escape", "back", "back", show=False),
    ]

    def __init__(self, source: Source, *, clock: Callable[[], float] = time.time,
                 runner: Callable[[list[str]], int] = default_runner, theme: str | None = None,
                 live: bool = True, capture_interval: float = 0.2, refresh_interval: float = 1.0,
                 extra_theme_dirs: list[Path] | None = None, blink: bool = True, first_snapshot=None) -> None:
        super().__init__()
        self.blink = blink  # snapshot tests turn cursor blinking off before any field is drawn
        self.source = source
        self.clock = clock
        self.runner = runner
        self.live = live
        self.capture_interval = capture_interval
        self.refresh_interval = refresh_interval
        self.snapshot: TownSnapshot | None = None
        self.selected: str | None = None
        self.inbox_owner = "overseer"  # or "agent": the selected agent's inbox
        self._themes = discover_themes(extra_theme_dirs)
        self._initial_theme = theme or DEFAULT_THEME
        self.refreshes = 0  # snapshots applied (benches and tests read it)
        self._output_changed_at = 0.0
        self._captured_at = 0.0
        self._seen_activity = 0.0
        self._pane_watch = None  # PaneOutputWatch: the visible pane tells us when it prints
        self._agent_index: tuple = (None, {})  # (snapshot, address -> agent)
        self._last_raw: tuple = (None, None)  # (last snapshot as read, as sanitized)
        self._watch_wanted: str | None = None  # the session the watch should follow
        self._watch_lock = threading.Lock()
        self._capturing = False  # one capture in flight at a time
        self._capture_again = False  # output arrived during it: one more when it returns
        self._history_timer_set = False
        self._reconcile_set = False
        self._typed: list[tuple[str, str]] = []  # input mode: keys waiting for the one sender
        self._typing_busy = False
        self._wake_context = None
        self._follow_tried_at = 0.0
        self.last_applied = 0.0
        self._pending_refresh = False
        self._capture_timer = None  # every capture_interval; rests while the selected pane streams
        self._capture_resting = False
        self._loading = False
        self._prefetch = first_snapshot  # a Future of source.snapshot(), started before Textual was imported
        if live and first_snapshot is None:
            self._prefetch = prefetch_snapshot(source)

    # -- layout -----------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("", id="header")
        with Horizontal(id="main"):
            yield TownTree(id="tree")
            with Vertical(id="right"):
                yield AgentOutput(id="output")
                with Horizontal(id="bottom"):
                    yield ConvoyTree(id="convoys")
                    yield MailTable(id="mail")
                    yield FeedTable(id="feed")
        yield self.steady(Input(placeholder=":sling ID RIG · :nudge AGENT TEXT · :rig · :convoy · :beads · :mq · :esc · :theme NAME",
                    id="cmdline"))
        yield self.steady(Input(placeholder="filter the focused pane (feed: rig:NAME type:TYPE text)", id="filterbar"))
        yield KeyFooter()

    def steady(self, field):
        """An Input or TextArea whose cursor blinks only when the app allows it. Set before the
        field is mounted, so no frame is ever drawn in the blink's hidden phase."""
        field.cursor_blink = self.blink
        return field

    def on_mount(self) -> None:
        for t in self._themes.values():
            self.register_theme(t)
        if self._initial_theme in self._themes:
            self.theme = self._initial_theme
        elif DEFAULT_THEME in self._themes:
            self.theme = DEFAULT_THEME
        else:  # an install without the themes/ directory: Textual's own dark theme still works
            self.theme = "textual-dark"
        for pid, title in PANE_TITLES.items():
            self.query_one(f"#{pid}").border_title = title
        self.query_one("#cmdline").display = False
        self.query_one("#filterbar").display = False
        self.query_one("#tree").focus()
        self.request_refresh()
        if self.live:
            import contextvars

            self._wake_context = contextvars.copy_context()
            self._pane_watch = self.source.output_watch(on_output=self._wake)
            self.set_interval(self.refresh_interval, self._tick)
            self._capture_timer = self.set_interval(self.capture_interval, self.capture_selected)
            if self.source.watch() is not None:
                self.watch_files()

    def on_resize(self, event) -> None:
        self.screen_stack[0].set_class(event.size.width < 120, "-narrow")

    # -- data in: workers -------------------------------------------------------------------------

    def request_refresh(self, fresh_panes: bool = True) -> None:
        """Reload the snapshot in a worker; refreshes asked for during a load coalesce into one."""
        if self._loading:
            self._pending_refresh = True
            return
        self._loading = True
        self._load(fresh_panes)

    @work(thread=True, exit_on_error=False, group="snapshot")
    def _load(self, fresh_panes: bool = True) -> None:
        from gastown_tui.tui.safe import safe_view_since

        try:
            first, self._prefetch = self._prefetch, None
            raw = first.result() if first is not None else self.source.snapshot(fresh_panes)
            # sanitized here, off the UI thread (a line of output waits for no snapshot's
            # strings), and only the parts that changed since the last one
            snap = safe_view_since(raw, *self._last_raw)
            self._last_raw = (raw, snap)
        except Exception as e:  # noqa: BLE001 - one place reports worker failures: the header
            self.call_from_thread(self._load_failed, e)
            return
        self.call_from_thread(self.apply_snapshot, snap, sanitized=True)

    def _load_failed(self, e: Exception) -> None:
        self._loading = False
        self.query_one("#header", Static).update(Text(f"cannot read the town: {e}", Style(color=var(self, "error"))))
        self._again()

    def _again(self) -> None:
        if self._pending_refresh:
            self._pending_refresh = False
            self.request_refresh()

    @work(exclusive=True, exit_on_error=False, group="watch")
    async def watch_files(self) -> None:
        it = self.source.watch()
        if it is None:
            return
        async for _batch in it:
            self.request_refresh(fresh_panes=False)  # a file changed: the panes did not

    # Output streams: the control client's reader thread calls `_wake` when the visible pane
    # prints; whole lines of text are shown at once, anything else (cursor moves, a partial line)
    # asks for a capture through the same client, which comes back in stream order: the capture
    # plus the bytes after it is the pane now. At most one capture is in flight. Without a control
    # client the timer below captures with a tmux process instead: every `capture_interval` while
    # output moves, every QUIET_INTERVAL once quiet for QUIET_AFTER.
    QUIET_AFTER = 3.0
    QUIET_INTERVAL = 0.6
    # While the reader has scrolled up, each capture is the whole history: at most this often.
    HISTORY_INTERVAL = 1.0

    def _wake(self) -> None:
        """Called from the control client's reader thread when the watched pane printed."""
        loop, ctx = getattr(self, "_loop", None), self._wake_context
        if loop is None or ctx is None:
            return
        try:
            # in the app's context: the reader thread's has no active app (timers need one)
            loop.call_soon_threadsafe(self._output_arrived, context=ctx)
        except RuntimeError:  # the loop closed: the app is gone
            pass

    # Streamed lines are shown at once; a capture this much later makes the view exactly tmux's
    # (colours carried over from earlier output, tabs, the history limit).
    RECONCILE_AFTER = 0.5

    def _streaming(self, a) -> bool:
        w = self._pane_watch
        return w is not None and a is not None and w.session == a.session and w.alive

    def _output_arrived(self) -> None:
        if not self.screen_stack:  # shutting down
            return
        a = self.selected_agent()
        w = self._pane_watch
        if a is None or a.state == "off" or not self._streaming(a):
            return
        w.take()  # first: output printed from now on wakes us again
        u = w.take_update()
        outs = self._outputs_of(a.session)
        if u.captured:
            body = u.capture if u.capture is not None else f"({a.address} has no running session)"
            for out in outs:
                if out.set_output(body, a.session):
                    self._output_changed_at = time.monotonic()
        if u.data == b"":
            return
        if u.data is not None and outs and all(out.append_stream(u.data) for out in outs):
            self._output_changed_at = time.monotonic()
            if not self._reconcile_set:
                self._reconcile_set = True
                self.set_timer(self.RECONCILE_AFTER, self._reconcile)
            return
        self._request_capture()

    def _outputs_of(self, session: str) -> list[AgentOutput]:
        """The output widgets showing `session`: the main pane, and the peek screen's."""
        outs = [self.query_one("#output", AgentOutput)]
        if isinstance(self.screen, PeekScreen) and self.screen.session == session:
            outs.append(self.screen.query_one(AgentOutput))
        return outs

    def _reconcile(self) -> None:
        self._reconcile_set = False
        self._request_capture()

    def _request_capture(self) -> None:
        a = self.selected_agent()
        if a is None or a.state == "off":
            return
        streaming = self._streaming(a)
        # While the pane streams, only the stream's own pending capture holds a new one back: a
        # timed capture still out (asked before the stream attached) must not (it may never
        # come back in time, and its text is older than the stream; `_show_output` drops it).
        if (self._capturing and not streaming) or (streaming and self._pane_watch.capture_pending):
            # its result shows this output too; what comes after it is applied on top (stream)
            # or asks for one more capture when it returns (`_show_output`)
            self._capture_again = not streaming
            return
        out = self._visible_output()
        if out is not None and not out.follow:
            wait = self.HISTORY_INTERVAL - (time.monotonic() - self._captured_at)
            if wait > 0:  # reading history: keep up, but not once per printed line
                if not self._history_timer_set:
                    self._history_timer_set = True
                    self.set_timer(wait, self._history_due)
                return
        self._captured_at = time.monotonic()
        if streaming and self._pane_watch.request_capture(self._capture_lines()):
            return
        self._capturing = True
        self._capture(a.address, a.session, self._capture_lines())

    def _history_due(self) -> None:
        self._history_timer_set = False
        self._request_capture()

    def _visible_output(self) -> AgentOutput | None:
        if not self.screen_stack:
            return None
        if isinstance(self.screen, PeekScreen):
            return self.screen.query_one(AgentOutput)
        try:
            return self.query_one("#output", AgentOutput)
        except Exception:  # noqa: BLE001 - not composed yet
            return None

    def _tick(self) -> None:
        """Once a second: a new snapshot, and a look at the selected pane (a lost wake-up, a
        control client gone) that wakes the fast capture timer when it is needed again."""
        self.request_refresh()
        self.capture_selected()

    def _capture_timer_rests(self, rest: bool) -> None:
        t = self._capture_timer
        if t is None or rest == self._capture_resting:
            return
        self._capture_resting = rest
        t.pause() if rest else t.resume()

    def capture_selected(self, force: bool = False) -> None:
        a = self.selected_agent()
        if a is None or a.state == "off":
            self._capture_timer_rests(True)  # nothing to capture: the one-second tick looks instead
            return
        w = self._pane_watch
        if w is not None and not force:
            if w.session != a.session or not w.alive:
                self._capture_timer_rests(False)
                if time.monotonic() - self._follow_tried_at > 2.0:
                    self._follow_tried_at = time.monotonic()
                    self._follow_pane(a.session, self._capture_lines())
            elif w.dirty:
                self._output_arrived()  # a wake-up was lost (or not yet delivered): catch up
                return
            else:
                # streaming: the control client wakes us when the pane prints; the timer rests
                # (five callbacks a second for nothing) and the one-second tick looks instead
                self._capture_timer_rests(True)
                return
        elif w is None:
            self._capture_timer_rests(False)  # timed captures: no stream to wake us
        now = time.monotonic()
        quiet = now - self._output_changed_at > self.QUIET_AFTER
        if not force and quiet and now - self._captured_at < self.QUIET_INTERVAL:
            return
        self._request_capture()

    def _follow_pane(self, session: str | None, lines: int | None = None) -> None:
        self._watch_wanted = session
        self._follow_worker(lines)

    @work(thread=True, exit_on_error=False, group="pane-watch")
    def _follow_worker(self, lines: int | None) -> None:
        with self._watch_lock:  # one switch at a time, and the last selection wins
            self._switch_watch(lines)

    def _switch_watch(self, lines: int | None) -> None:
        w, session = self._pane_watch, self._watch_wanted
        if w is None:
            return
        if w.follow(session):
            if session is not None and lines is not None and not w.capture_pending:
                w.request_capture(lines)  # the first view comes through the stream too
            return
        self._pane_watch = None  # no control client: fall back to timed captures
        self.call_from_thread(self._timed_captures)

    def _timed_captures(self) -> None:
        self._capture_timer_rests(False)
        self._request_capture()

    def on_unmount(self) -> None:
        if self._pane_watch is not None:
            self._pane_watch.on_output = None
            self._pane_watch.stop()

    def _capture_lines(self) -> int:
        out = self._visible_output()
        return out.wanted_lines() if out is not None else 2000

    @work(thread=True, exit_on_error=False, group="capture")
    def _capture(self, address: str, session: str, lines: int = 2000) -> None:
        text = None
        try:
            text = self.source.capture(session, lines=lines)
        finally:
            self.call_from_thread(self._show_output, address, session, text)

    def _show_output(self, address: str, session: str, text: str | None) -> None:
        self._capturing = False
        w = self._pane_watch
        if w is not None and w.session == session and w.alive and w.attached:
            return  # the pane streams: its own captures and output are newer than this timed one
        if address == self.selected:
            body = text if text is not None else f"({address} has no running session)"
            if self.query_one("#output", AgentOutput).set_output(body, session):
                self._output_changed_at = time.monotonic()
            if isinstance(self.screen, PeekScreen) and self.screen.session == session:
                self.screen.query_one(AgentOutput).set_output(body, session)
        if self._capture_again:
            self._capture_again = False
            self._request_capture()

    @on(AgentOutput.KeysTyped)
    def _keys_typed(self, event: AgentOutput.KeysTyped) -> None:
        event.stop()
        a = self.selected_agent()
        if a is None or a.state == "off":
            self.notify("that agent has no running session to type into", severity="warning")
            event.control.typing = False
            return
        self._typed.extend(event.keys)
        if not self._typing_busy:
            self._send_typed(a.address)

    def _send_typed(self, address: str) -> None:
        keys, self._typed = self._typed, []
        self._typing_busy = True
        self._type_worker(address, keys)

    @work(thread=True, exit_on_error=False, group="typing")
    def _type_worker(self, address: str, keys: list[tuple[str, str]]) -> None:
        try:
            r = self.source.type_keys(address, keys)
        except Exception as e:  # noqa: BLE001 - a failed keystroke is a toast, never a crash
            r = ActionResult("failed", str(e))
        self.call_from_thread(self._typed_done, address, r)

    def _typed_done(self, address: str, r: ActionResult) -> None:
        self._typing_busy = False
        if not r.ok:
            self._typed.clear()
            notify_result(self, r)
            return
        if self._typed and address == self.selected:  # keys pressed meanwhile, in order
            self._send_typed(address)
        else:
            self._typed.clear()

    @on(AgentOutput.HistoryWanted)
    def _history_wanted(self, event: AgentOutput.HistoryWanted) -> None:
        event.stop()
        self._captured_at = 0.0  # the first look back is due at once
        self._request_capture()

    # -- data in: applying ------------------------------------------------------------------------

    def apply_snapshot(self, snap: TownSnapshot, force: bool = False, sanitized: bool = False) -> None:
        from gastown_tui.tui.safe import safe_view

        if not sanitized:  # data enters the UI here: no control sequences past this point
            snap = safe_view(snap)
        self._loading = False
        sel = snap.agent(self.selected) if self.selected else None
        if sel is not None and sel.activity > self._seen_activity:
            self._seen_activity = sel.activity
            if self.live:
                self.call_later(self.capture_selected, True)
        if snap == self.snapshot and not force:
            self.snapshot = snap  # same town: keep the widgets as they are (no repaint) ...
            self.query_one("#tree", TownTree).tick()  # ... but time in state moves on
            self._again()
            return
        self.snapshot = snap
        self.refreshes += 1
        self.last_applied = time.monotonic()
        self._render_header(snap)
        tree = self.query_one("#tree", TownTree)
        tree.update_snapshot(snap)
        self.query_one("#convoys", ConvoyTree).update_convoys(snap.convoys)
        self._render_mail()
        self.query_one("#feed", FeedTable).update_events(snap.events)
        if tree.cursor_line < 0 and snap.agents:
            tree.cursor_line = 0
        if self.selected is None:
            addr = tree.selected_address or (snap.agents[0].address if snap.agents else None)
            if addr:
                self.select_agent(addr)
        elif snap.agent(self.selected) is None:
            # the agent left (a polecat was cleaned up): follow the cursor to whoever is there now
            self.query_one("#output", AgentOutput).set_output(f"({self.selected} is gone)", "")
            self.call_after_refresh(self._follow_cursor)  # the tree's lines are rebuilt on refresh
        for screen in self.screen_stack:
            if isinstance(screen, SnapshotScreen | AgentDetailScreen):
                screen.update_snapshot(snap)
        self._again()

    def _follow_cursor(self) -> None:
        addr = self.query_one("#tree", TownTree).selected_address
        if addr and addr != self.selected and self.snapshot and self.snapshot.agent(self.selected or "") is None:
            self.select_agent(addr)

    def _render_header(self, snap: TownSnapshot) -> None:
        t = Text()
        t.append(f" {snap.name} ", Style(bold=True, color=var(self, "primary")))
        from gastown_tui.work.snapshot import WORKER_ROLES

        workers = sum(1 for a in snap.agents if a.role in WORKER_ROLES)
        patrols = [a for a in snap.agents if a.role not in WORKER_ROLES]
        t.append(f"· {len(snap.rigs)} rigs · {workers} workers ")
        for state, n in snap.worker_counts().items():
            if n and state != "off":
                t.append(f"{glyph(state)}{n} {state} ", state_style(self, state))
        up = sum(1 for a in patrols if a.state not in ("off", "dead"))
        down = sum(1 for a in patrols if a.state == "dead")
        t.append(f"· patrols {up}/{len(patrols)} up ", Style(color=var(self, "muted")))
        if down:
            t.append(f"{glyph('dead')}{down} dead ", state_style(self, "dead"))
        need = len(snap.attention())
        if need:
            t.append(f"· b: {need} need you ", Style(bold=True, color=var(self, "warning")))
        t.append("· ")
        t.append(f"✉ {snap.unread} unread ", Style(bold=bool(snap.unread), color=var(self, "mail-unread")))
        t.append(f"· ⚠ {snap.open_escalations} escalations ",
                 Style(color=var(self, "error" if snap.open_escalations else "muted")))
        live = sum(1 for c in snap.convoys if not c.landed)
        t.append(f"· {live} convoys")
        if not snap.tmux_ok:
            t.append(" · tmux unavailable", Style(color=var(self, "error")))
        self.query_one("#header", Static).update(t)

    def _render_mail(self) -> None:
        snap = self.snapshot
        if snap is None:
            return
        mail = self.query_one("#mail", MailTable)
        if self.inbox_owner == "agent" and self.selected:
            mail.update_mail(self.selected, snap.mail.get(self.selected, ()))
        else:
            mail.update_mail("overseer", snap.inbox)

    # -- selection --------------------------------------------------------------------------------

    def select_agent(self, address: str) -> None:
        if address == self.selected:
            return
        self.selected = address
        self._capture_timer_rests(False)  # until its pane streams
        self._output_changed_at = time.monotonic()  # a new agent starts in the fast capture mode
        self._seen_activity = 0.0
        self._follow_tried_at = 0.0
        out = self.query_one("#output", AgentOutput)
        out.typing = False
        out.border_title = f"2 Output · {address}"
        a = self.snapshot.agent(address) if self.snapshot else None
        if a is not None and a.state == "off":
            out.set_output(f"({address} is not running)", a.session)
        elif a is not None:
            out.set_output("", a.session)  # never a part of the previous agent's screen
            if self.live and self._pane_watch is not None:
                self._follow_tried_at = time.monotonic()
                self._follow_pane(a.session, out.wanted_lines())  # stream this pane (and its first view)
            else:
                self._request_capture()
        if self.inbox_owner == "agent":
            self._render_mail()

    @on(TownTree.AgentSelected)
    def _agent_selected(self, event: TownTree.AgentSelected) -> None:
        if event.address:
            self.select_agent(event.address)

    def selected_agent(self):
        snap = self.snapshot
        if snap is None or self.selected is None:
            return None
        if self._agent_index[0] is not snap:  # looked up on every streamed line and timer tick
            self._agent_index = (snap, {a.address: a for a in reversed(snap.agents)})  # first wins, as agent()
        return self._agent_index[1].get(self.selected)

    # -- panes and navigation ---------------------------------------------------------------------

    def _focused_pane(self) -> str | None:
        w = self.focused
        while w is not None:
            if w.id in PANES:
                return w.id
            w = w.parent
        return None

    def action_focus_pane(self, pane: str) -> None:
        self.query_one(f"#{pane}").focus()

    def action_focus_next_pane(self, step: int = 1) -> None:
        cur = self._focused_pane()
        i = PANES.index(cur) if cur in PANES else -1
        self.query_one(f"#{PANES[(i + step) % len(PANES)]}").focus()

    def action_focus_previous_pane(self) -> None:
        self.action_focus_next_pane(-1)

    def action_back(self) -> None:
        for bar in ("#cmdline", "#filterbar"):
            w = self.query_one(bar, Input)
            if w.display:
                w.display = False
                if bar == "#filterbar":
                    self.clear_filter(self._filter_target or "tree")
                self.query_one(f"#{self._filter_target or 'tree'}").focus()
                return
        if len(self.screen_stack) > 1:
            self.pop_screen()
            return
        pane = self._focused_pane()
        if pane and getattr(self.query_one(f"#{pane}"), "filter_text", ""):
            self.clear_filter(pane)  # Esc always backs out: here, out of the filter

    def clear_filter(self, target: str) -> None:
        w = self.query_one(f"#{target}")
        if getattr(w, "filter_text", ""):
            w.filter_text = ""
            if self.snapshot is not None:
                self.apply_filter(target)

    _filter_target: str | None = None

    def action_filter(self) -> None:
        if not isinstance(self.screen, type(self.screen_stack[0])) or len(self.screen_stack) > 1:
            if hasattr(self.screen, "action_filter"):
                self.screen.action_filter()
            return
        self._filter_target = self._focused_pane() or "tree"
        if self._filter_target == "output":
            self._filter_target = "tree"
        bar = self.query_one("#filterbar", Input)
        bar.placeholder = f"filter {self._filter_target}" + (" (rig:NAME type:TYPE text)" if self._filter_target == "feed" else "")
        bar.value = getattr(self.query_one(f"#{self._filter_target}"), "filter_text", "")
        bar.display = True
        bar.focus()

    @on(Input.Changed, "#filterbar")
    def _filter_changed(self, event: Input.Changed) -> None:
        target = self._filter_target or "tree"
        w = self.query_one(f"#{target}")
        w.filter_text = event.value
        if self.snapshot is not None:
            self.apply_filter(target)

    def apply_filter(self, target: str) -> None:
        text = getattr(self.query_one(f"#{target}"), "filter_text", "")
        title = self._pane_title(target)
        self.query_one(f"#{target}").border_title = f"{title} · filter /{text} (esc clears)" if text else title
        snap = self.snapshot
        if target == "tree":
            tree = self.query_one("#tree", TownTree)
            tree.update_snapshot(snap)
            self.call_after_refresh(self._follow_filtered_tree)
        elif target == "convoys":
            self.query_one("#convoys", ConvoyTree).update_convoys(snap.convoys)
        elif target == "mail":
            self._render_mail()
        elif target == "feed":
            self.query_one("#feed", FeedTable).update_events(snap.events)

    def _pane_title(self, pane: str) -> str:
        title = PANE_TITLES.get(pane, pane)
        if pane == "tree" and self.query_one("#tree", TownTree).sort_by == "state":
            title += " · by state"
        return title

    @on(TownTree.SortChanged)
    def _tree_sorted(self) -> None:
        self.apply_filter("tree")  # retitles the pane, keeps the filter and the selection

    def _follow_filtered_tree(self) -> None:
        # the output pane never keeps showing an agent the filter hid
        tree = self.query_one("#tree", TownTree)
        if self.selected and tree.select_address(self.selected):
            return  # still shown
        for i in range(tree.last_line + 1):
            node = tree.get_node_at_line(i)
            key = node.data if node is not None else None
            if key and self.snapshot and self.snapshot.agent(key) is not None:
                tree.select_address(key)
                self.select_agent(key)
                return

    @on(Input.Submitted, "#filterbar")
    def _filter_done(self) -> None:
        self.query_one("#filterbar").display = False
        self.query_one(f"#{self._filter_target or 'tree'}").focus()

    def action_command_line(self) -> None:
        self._filter_target = self._focused_pane()
        bar = self.query_one("#cmdline", Input)
        bar.value = ""
        bar.display = True
        bar.focus()

    @on(Input.Submitted, "#cmdline")
    def _command_submitted(self, event: Input.Submitted) -> None:
        self.query_one("#cmdline").display = False
        self.query_one(f"#{self._filter_target or 'tree'}").focus()
        self.run_command_line(event.value)

    def run_command_line(self, line: str) -> None:
        """`:sling ID.. TARGET`, `:nudge AGENT TEXT`, `:rig`, `:convoy [TITLE]`, `:beads`, `:mq`, …"""
        words = line.strip().lstrip(":").split()
        if not words:
            return
        cmd = ALIASES.get(words[0], words[0])
        args = words[1:]
        if cmd == "sling":
            if len(args) < 2:
                self.notify("usage: :sling BEAD [BEAD…] TARGET", severity="error", markup=False)
                return
            self._act(lambda: self.source.sling(args[:-1], args[-1]))
        elif cmd == "nudge":
            if len(args) < 2:
                self.notify("usage: :nudge AGENT MESSAGE", severity="error", markup=False)
                return
            self._act(lambda: self.source.nudge(args[0], " ".join(args[1:])))
        elif cmd == "rig":
            self._show_rigs()
        elif cmd == "convoy":
            if args:
                self._act(lambda: self.source.create_convoy(" ".join(a for a in args if "-" not in a) or "convoy",
                                                            [a for a in args if "-" in a]))
            else:
                self.action_focus_pane("convoys")
        elif cmd == "beads":
            self.action_beads()
        elif cmd == "mq":
            self.action_merge_queue()
        elif cmd == "escalations":
            self.action_escalations()
        elif cmd == "help":
            self.action_help()
        elif cmd == "theme":
            if args and args[0] in self.available_themes:
                self.theme = args[0]
            else:
                self.notify("themes: " + ", ".join(sorted(self._themes)), severity="warning" if args else "information")
        elif cmd == "mail":
            self.action_compose()
        elif cmd in ("peek", "attach"):
            if args and self.query_one("#tree", TownTree).select_address(args[0]):
                self.select_agent(args[0])
            self.run_action(cmd)
        elif cmd == "quit":
            self.exit()
        else:
            self.notify(f"unknown command '{words[0]}' — try :help", severity="error", markup=False)

    def _show_rigs(self) -> None:
        snap = self.snapshot
        if snap is None:
            return
        t = Text()
        for r in snap.rigs:
            t.append(f"{r.name}", Style(bold=True))
            t.append(f"  prefix {r.prefix}  agents {len(r.agents)}  mq {r.mq_length}{'  parked' if r.parked else ''}\n")
        self.push_screen(InfoModal("Rigs", t or "no rigs yet — add one with 'gt rig add NAME SOURCE'"))

    @work(thread=True, exit_on_error=False, group="action")
    def _act(self, fn: Callable[[], ActionResult], quiet: bool = False) -> None:
        try:
            r = fn()
        except Exception as e:  # noqa: BLE001 - an action's failure is a toast, never a crash
            r = ActionResult("failed", str(e))
        self.call_from_thread(self._acted, r, quiet)

    def _acted(self, r: ActionResult, quiet: bool = False) -> None:
        if not (quiet and r.ok):
            notify_result(self, r)
        self.request_refresh()

    # -- actions ----------------------------------------------------------------------------------

    def action_refresh_now(self) -> None:
        self.request_refresh()

    def action_sling(self) -> None:
        if self.snapshot is None:
            return
        self.push_screen(SlingModal(self.snapshot))

    def action_nudge(self) -> None:
        a = self.selected_agent()
        if a is None:
            self.notify("select an agent in the town tree first", severity="warning")
            return
        self.push_screen(NudgeModal(a.address))

    def action_attach(self) -> None:
        a = self.selected_agent()
        if a is None or a.state == "off":
            self.notify("that agent has no running session to attach to", severity="warning")
            return
        plan = self.source.attach_plan(a.session)
        from textual.app import SuspendNotSupported

        if plan.how == "switch":  # this very tmux client moves to the agent; the cockpit stays
            rc = self.runner(plan.argv)
            self.notify(f"back to the cockpit: {plan.back}" if not rc else f"switch-client ended with status {rc}",
                        severity="information" if not rc else "warning")
            return
        if self._pane_watch is not None:
            # our control client would keep the session "attached" after the user detaches, and
            # tmux would then leave the window at the user's terminal size: step aside meanwhile
            self._pane_watch.stop()
            self._pane_watch.session = None
            self._follow_tried_at = 0.0

        if plan.how == "popup":
            # the user's tmux draws the agent over the cockpit and returns when it closes (prefix d):
            # the terminal stays ours, nothing to suspend
            rc = self.runner(plan.argv)
        else:
            try:
                with self.suspend():
                    rc = self.runner(plan.argv)
            except SuspendNotSupported:  # headless (tests) or a web driver: run without suspending
                rc = self.runner(plan.argv)
        self.refresh(layout=True)
        if rc:
            self.notify(f"attach ended with status {rc}", severity="warning")
        self.request_refresh()

    def action_peek(self) -> None:
        a = self.selected_agent()
        if a is None:
            return
        screen = PeekScreen(a.address, a.session)
        self.push_screen(screen)
        out = self.query_one("#output", AgentOutput)
        self.call_after_refresh(lambda: screen.query_one(AgentOutput).set_output(out._raw or out.plain, a.session))

    def action_agent_detail(self) -> None:
        if self.selected:
            self.push_screen(AgentDetailScreen(self.selected))

    def action_compose(self) -> None:
        self.push_screen(ComposeModal())

    @on(MailTable.Open)
    def _open_mail(self, event: MailTable.Open) -> None:
        m = event.mail
        if m.unread:
            self._act(lambda: (self.source.mark_read(m.id), ActionResult("ok", f"read {m.id}"))[1], quiet=True)

        def after(r) -> None:
            if r == "reply":
                self.push_screen(ComposeModal(m.sender, "Re: " + m.subject, reply_to=m.id))

        self.push_screen(ReadMailModal(m), after)

    @on(MailTable.Reply)
    def _reply_mail(self, event: MailTable.Reply) -> None:
        m = event.mail
        self.push_screen(ComposeModal(m.sender, "Re: " + m.subject, reply_to=m.id))

    def action_toggle_inbox(self) -> None:
        self.inbox_owner = "agent" if self.inbox_owner == "overseer" else "overseer"
        self._render_mail()

    def action_convoy(self) -> None:
        ids: list[str] = []
        if isinstance(self.screen, BeadsScreen):
            ids = sorted(self.screen.marked)
        if not ids:
            self.push_screen(BeadsScreen())
            self.notify("mark beads with space, then press c", timeout=5)
            return
        self.create_convoy(ids)

    def create_convoy(self, ids: list[str]) -> None:
        if not ids:
            return

        def go(title: str | None) -> None:
            if title:
                self._act(lambda: self.source.create_convoy(title, ids))

        self.push_screen(TextPrompt(f"Convoy tracking {len(ids)} beads", "title"), go)

    def action_escalations(self) -> None:
        self.push_screen(EscalationsScreen())

    def action_merge_queue(self) -> None:
        self.push_screen(MergeQueueScreen())

    def action_beads(self) -> None:
        self.push_screen(BeadsScreen())

    def action_next_attention(self) -> None:
        if self.snapshot is None:
            return
        a = self.snapshot.next_needing_attention(self.selected)
        if a is None:
            self.notify("no agent needs attention")
            return
        reason = dict((x.address, r) for x, r in self.snapshot.attention()).get(a.address, "")
        self.query_one("#tree", TownTree).select_address(a.address)
        self.select_agent(a.address)
        self.notify(f"{a.address}: {reason}", timeout=3, markup=False)

    def action_cycle_theme(self) -> None:
        names = sorted(self._themes)
        if not names:
            return
        i = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(i + 1) % len(names)]
        self.notify(f"theme {self.theme}", timeout=2)

    def watch_theme(self, _theme: str) -> None:
        if self.snapshot is not None and self.is_mounted:
            self.call_after_refresh(self.apply_snapshot, self.snapshot, True, True)

    # -- agent actions: each the CLI's own function, the destructive ones confirmed -----------

    def confirm_then(self, question: str, fn: Callable[[], ActionResult]) -> None:
        def go(yes: bool | None) -> None:
            if yes:
                self._act(fn)

        self.push_screen(ConfirmModal(question), go)

    def _acting_on(self):
        a = self.selected_agent()
        if a is None:
            self.notify("select an agent in the town tree first", severity="warning")
        return a

    def action_restart_agent(self) -> None:
        a = self._acting_on()
        if a is not None:
            self.confirm_then(f"Restart {a.address}? Its process is killed and started again.",
                              lambda: self.source.restart(a.address))

    def action_nuke_agent(self) -> None:
        a = self._acting_on()
        if a is None:
            return
        if a.role != "polecat":
            self.notify(f"only polecats can be nuked; {a.address} is a {a.role}", severity="warning", markup=False)
            return
        self.confirm_then(f"Nuke {a.address}? Session, worktree and branch go; its bead reopens.",
                          lambda: self.source.nuke(a.address))

    def _acting_on_hooked(self):
        """The agent an action applies to, when it has work on its hook (else it says so: None)."""
        a = self._acting_on()
        if a is not None and not a.hook_id:
            self.notify(f"{a.address} has nothing on its hook", severity="warning", markup=False)
            return None
        return a

    def action_unsling_agent(self) -> None:
        a = self._acting_on_hooked()
        if a is None:
            return
        self.confirm_then(f"Take {a.hook_id} off {a.address}'s hook? The bead goes back to open.",
                          lambda: self.source.unsling(a.address))

    def action_reassign_agent(self) -> None:
        a = self._acting_on_hooked()
        if a is None:
            return

        def go(target: str | None) -> None:
            if target and target.strip():
                self._act(lambda: self.source.reassign(a.address, target.strip()))

        self.push_screen(TextPrompt(f"Reassign {a.hook_id} from {a.address} to", "a rig or an agent address",
                                    a.rig or ""), go)

    @staticmethod
    def screenshot_dir() -> str:
        """~/Downloads when it exists, else the current directory (Textual's own choice fails
        when ~/Downloads is missing)."""
        downloads = Path.home() / "Downloads"
        return str(downloads if downloads.is_dir() else Path.cwd())

    def deliver_screenshot(self, filename: str | None = None, path: str | None = None,
                           time_format: str | None = None) -> str | None:
        """The palette's Screenshot: saved by Textual (which says where), into `screenshot_dir`."""
        return super().deliver_screenshot(filename, path or self.screenshot_dir(), time_format)

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        """The `screenshot` action: saved at once, and say where."""
        path = path or self.screenshot_dir()
        try:
            name = self.save_screenshot(filename, path)
        except OSError as e:
            self.notify(f"could not save the screenshot in {path}: {e.strerror or e}", severity="error", markup=False)
            return
        self.notify(f"screenshot saved: {name}", timeout=5, markup=False)

    def action_type_into(self) -> None:
        out = self.query_one("#output", AgentOutput)
        out.focus()
        out.action_typing()

    def action_help(self) -> None:
        self.push_screen(HelpScreen(help_sections(self)))


def help_sections(app: App) -> list[tuple[str, list[tuple[str, str]]]]:
    def key(b: Binding) -> str:  # "question_mark" -> "?", as the footer shows it
        return b.key_display or app.get_key_display(b)

    glob = [(key(b), b.description) for b in CockpitApp.BINDINGS]
    glob += [("ctrl+p", "command palette"), ("space", "expand / collapse (tree), mark (beads)")]
    out = [("Everywhere", glob)]
    for title, cls in (("Town tree", TownTree), ("Output", AgentOutput), ("Convoys", ConvoyTree),
                       ("Mail", MailTable), ("Feed", FeedTable), ("Beads screen", BeadsScreen),
                       ("Escalations screen", EscalationsScreen)):
        out.append((title, [(key(b), b.description) for b in cls.BINDINGS]))
    out.append(("Command line (:)", [(":sling ID… TARGET", "sling beads (aliases sl, s)"),
                                     (":nudge AGENT TEXT", "nudge (nu, n)"), (":rig", "rigs"),
                                     (":convoy [TITLE IDS]", "convoys / create"), (":beads", "beads screen"),
                                     (":mq", "merge queue"), (":esc", "escalations"), (":theme NAME", "theme"),
                                     (":peek / :attach [AGENT]", "peek or attach"), (":q", "quit")]))
    out.append(("Command palette (ctrl+p)", [(t, h) for t, _a, h in ACTIONS]))
    return out
