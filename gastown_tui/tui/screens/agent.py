"""Agent detail (state and time in it, usage and context, worktree facts, hook, molecule progress,
mail, recent events, worktree diff), peek and help."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from gastown_tui.tui.widgets.footer import KeyFooter
from gastown_tui.tui.style import bar, duration, glyph, state_style, var
from gastown_tui.tui.widgets.output import AgentOutput
from gastown_tui.work.snapshot import TownSnapshot


class AgentDetailScreen(Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "back"), Binding("n", "app.nudge", "nudge"),
                Binding("enter", "app.attach", "attach")]

    def __init__(self, address: str) -> None:
        super().__init__()
        self.address = address
        self.diff_text = ""

    def compose(self) -> ComposeResult:
        yield Static(self.address, classes="screen-title", id="detail-title")
        with VerticalScroll():
            yield Static(id="detail-body")
            yield Static(id="detail-diff")
        yield KeyFooter()

    def on_mount(self) -> None:
        if self.app.snapshot:
            self.update_snapshot(self.app.snapshot)
        self.load_diff()

    @work(thread=True, exclusive=True, exit_on_error=False, group="diff")
    def load_diff(self) -> None:
        d = self.app.source.diff(self.address)
        self.app.call_from_thread(self._diff, d)

    def _diff(self, d: str) -> None:
        t = Text("Worktree diff\n", Style(bold=True, color=var(self.app, "primary")))
        for line in (d or "(no changes)").splitlines()[:400]:
            colour = "success" if line.startswith("+") else "error" if line.startswith("-") else "foreground"
            t.append(line + "\n", Style(color=var(self.app, colour)))
        self.query_one("#detail-diff", Static).update(t)

    def update_snapshot(self, snap: TownSnapshot) -> None:
        a = snap.agent(self.address)
        t = Text()
        h = Style(bold=True, color=var(self.app, "primary"))
        if a is None:
            t.append("This agent is no longer in the town.\n")
        else:
            t.append(f"{glyph(a.state)} {a.state}", state_style(self.app, a.state))
            if a.since:
                t.append(f" for {duration(self.app.clock() - a.since)}")
            t.append(f"   session {a.session}   runtime {a.runtime or '-'}\n")
            usage = []
            if a.tokens is not None:
                usage.append(f"{a.tokens:,} tokens")
            if a.cost_usd is not None:
                usage.append(f"${a.cost_usd:.2f}" + (" (simulated)" if a.simulated else ""))
            if a.context_pct is not None:
                usage.append(f"context {a.context_pct}% full")
            t.append("usage " + (" · ".join(usage) or "(no usage records yet)") + "\n")
            if a.ahead is not None or a.dirty is not None:
                d = a.dirty or 0
                t.append(f"worktree {a.ahead or 0} commits ahead · {d} dirty file{'' if d == 1 else 's'}\n")
            t.append("\n")
            t.append("Hook\n", h)
            if a.hook_id:
                t.append(f"  {a.hook_id} ", Style(color=var(self.app, "hook")))
                t.append(a.hook_title + "\n")
                if a.mol_total:
                    t.append("  molecule ")
                    for piece, st in bar(self.app, a.mol_done, a.mol_total, 12):
                        t.append(piece, st)
                    t.append(f" {a.mol_done}/{a.mol_total} steps done\n")
            else:
                t.append("  (empty)\n")
            t.append("\nMail\n", h)
            for m in snap.mail.get(a.address, ())[:10]:
                t.append(f"  {'●' if m.unread else ' '} {m.sender}: {m.subject}\n",
                         Style(bold=m.unread))
            if not snap.mail.get(a.address):
                t.append("  (none)\n")
            t.append("\nRecent events\n", h)
            mine = [e for e in snap.events if e.actor == a.address or a.address in e.summary][-12:]
            for e in mine:
                t.append(f"  {e.ts[11:19]} {e.type} {e.summary}\n")
            if not mine:
                t.append("  (none)\n")
        self.query_one("#detail-body", Static).update(t)


class PeekScreen(Screen):
    """The selected agent's output, full screen; the app keeps it live."""

    BINDINGS = [Binding("escape", "app.pop_screen", "back"), Binding("q", "app.pop_screen", "back", show=False),
                Binding("enter", "app.attach", "attach"), Binding("n", "app.nudge", "nudge")]

    def __init__(self, address: str, session: str) -> None:
        super().__init__()
        self.address, self.session = address, session

    def compose(self) -> ComposeResult:
        yield Static(f"peek · {self.address}", classes="screen-title")
        yield AgentOutput(id="peek-output")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(AgentOutput).focus()


class HelpScreen(Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "back"), Binding("q", "app.pop_screen", "back", show=False)]

    def __init__(self, sections: list[tuple[str, list[tuple[str, str]]]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        yield Static("Keys", classes="screen-title")
        t = Text()
        for title, keys in self.sections:
            t.append(title + "\n", Style(bold=True))
            width = max((len(k) for k, _d in keys), default=0) + 2  # a key never runs into its text
            for k, d in keys:
                t.append(f"  {k:<{width}}", Style(bold=True))
                t.append(d + "\n")
            t.append("\n")
        with VerticalScroll():
            yield Static(t, id="help-body")
        yield KeyFooter()
