"""Modal dialogs: sling picker, nudge, compose mail, read mail, convoy, confirm, text input.

Each modal only collects input and shows results; the blocking call runs in a worker of the
modal (thread) and the result comes back as a message to the modal itself. Esc always backs out.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from gastown_tui.tui.safe import plain
from gastown_tui.tui.source import ActionResult
from gastown_tui.tui.style import var
from gastown_tui.work.snapshot import BeadView, MailView, TownSnapshot


def fuzzy_score(query: str, text: str) -> int | None:
    """Subsequence match score (higher is better), None when `query` is not a subsequence."""
    q = query.lower().strip()
    if not q:
        return 0
    t = text.lower()
    pos, score, last = 0, 0, -2
    for ch in q:
        i = t.find(ch, pos)
        if i < 0:
            return None
        score += 3 if i == last + 1 else 1
        if i == 0 or t[i - 1] in " -/_.":
            score += 2
        last, pos = i, i + 1
    if q in t:
        score += 10
    return score


def result_text(app, r: ActionResult) -> Text:
    colour = {"failed": "error", "queued": "warning"}.get(r.status, "success")
    t = Text(f"{r.status}: ", Style(color=var(app, colour), bold=True))
    t.append(r.detail)
    return t


def guarded(fn) -> ActionResult:
    """Run an action in a worker; anything it raises becomes a failed result the dialog shows."""
    try:
        return fn()
    except Exception as e:  # noqa: BLE001 - the dialog must always get an answer
        return ActionResult("failed", str(e) or type(e).__name__)


def notify_result(app, r: ActionResult) -> None:
    """A toast for an action's result (toasts take plain text, not Rich Text)."""
    severity = {"failed": "error", "queued": "warning"}.get(r.status, "information")
    app.notify(f"{r.status}: {r.detail}", severity=severity, timeout=6, markup=False)



def literal(body: str | Text) -> Text:
    """A body of data shown as typed: a str is never parsed as markup; controls are stripped."""
    from gastown_tui.infra.termtext import clean

    if isinstance(body, Text):
        return body if body.plain.replace("\n", "").replace("\t", "").isprintable() else Text(clean(body.plain))
    return Text(clean(body))

class Dialog(ModalScreen):
    BINDINGS = [Binding("escape", "dismiss_none", "back")]
    DEFAULT_CSS = """
    Dialog { align: center middle; background: $background 60%; }
    Dialog > Vertical { width: 90%; max-width: 100; height: auto; max-height: 90%;
        border: round $primary; background: $panel; padding: 0 1; }
    Dialog .title { text-style: bold; color: $primary; }
    Dialog .hint { color: $text-muted; }
    Dialog OptionList { height: auto; max-height: 14; }
    Dialog TextArea { height: 6; }
    """

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class SlingModal(Dialog):
    """Step 1: fuzzy pick a ready bead; step 2: pick a target; step 3: the result."""

    BINDINGS = [Binding("escape", "back", "back")]

    def __init__(self, snap: TownSnapshot, preselected: list[str] | None = None) -> None:
        super().__init__()
        self.snap = snap
        self.beads: list[BeadView] = list(snap.ready)
        self.chosen: list[str] = list(preselected or [])
        self.step = "target" if self.chosen else "bead"
        self.result: ActionResult | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Sling", classes="title", id="sling-title")
            yield self.app.steady(Input(placeholder="type to filter ready beads", id="sling-query"))
            yield OptionList(id="sling-options")
            yield Static("", id="sling-result")
            yield Label("enter choose · esc back", classes="hint")

    def on_mount(self) -> None:
        self._show()

    def _show(self) -> None:
        opts = self.query_one("#sling-options", OptionList)
        query = self.query_one("#sling-query", Input)
        title = self.query_one("#sling-title", Label)
        opts.clear_options()
        if self.step == "bead":
            title.update("Sling · pick a ready bead")
            query.placeholder = "type to filter ready beads"
            scored = []
            for b in self.beads:
                s = fuzzy_score(query.value, f"{b.id} {b.title} {b.rig}")
                if s is not None:
                    scored.append((-s, b.priority, b.id, b))
            scored.sort(key=lambda x: x[:3])
            for _s, _p, _i, b in scored[:200]:
                t = Text()
                t.append(b.id, Style(color=var(self.app, "hook")))
                t.append(f" P{b.priority} ")
                t.append(b.title)
                t.append(f"  {b.rig}", Style(color=var(self.app, "muted")))
                opts.add_option(Option(t, id=b.id))
            if not scored:
                opts.add_option(Option("no ready beads match", disabled=True))
            query.focus()
        elif self.step == "target":
            title.update(f"Sling {', '.join(self.chosen)} · pick a target")
            query.placeholder = "type to filter targets (rigs, idle agents, mayor)"
            for tid, label in self.targets():
                if fuzzy_score(query.value, label) is not None:
                    opts.add_option(Option(label, id=tid))
            query.focus()
        else:
            title.update("Sling · result")
            query.display = False
            opts.display = False
            self.query_one(".hint", Label).update("enter / esc close")
            self.focus()  # keys now reach the dialog (the query input is gone)
        if opts.option_count and self.step != "result":
            opts.highlighted = 0

    def targets(self) -> list[tuple[str, str]]:
        rigs_of = {b.id: b.rig for b in self.beads}
        home = {rigs_of.get(i, "") for i in self.chosen}
        out: list[tuple[str, str]] = []
        for r in sorted(self.snap.rigs, key=lambda r: (r.name not in home, r.name)):
            out.append((r.name, f"{r.name}  (new or idle polecat in rig {r.name})"))
        for a in self.snap.agents:
            if a.role in ("polecat", "crew") and a.state in ("idle", "off") and not a.hook_id:
                out.append((a.address, f"{a.address}  ({a.state})"))
        out.append(("mayor", "mayor  (town coordinator)"))
        return out

    @on(Input.Changed, "#sling-query")
    def _filter(self) -> None:
        if self.step != "result":
            self._show()

    @on(Input.Submitted, "#sling-query")
    def _submit_query(self) -> None:
        opts = self.query_one("#sling-options", OptionList)
        if opts.option_count and opts.highlighted is not None:
            self._choose(opts.get_option_at_index(opts.highlighted).id)

    def on_key(self, event) -> None:
        if self.step == "result":
            if event.key == "enter" and self.result is not None:  # the hint says "enter": close
                event.stop()
                self.dismiss(self.result)
            return
        if event.key not in ("down", "up"):
            return
        opts = self.query_one("#sling-options", OptionList)
        if event.key == "down":
            opts.action_cursor_down()
        else:
            opts.action_cursor_up()
        event.stop()

    @on(OptionList.OptionSelected, "#sling-options")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._choose(event.option.id)

    def _choose(self, oid: str | None) -> None:
        if not oid:
            return
        if self.step == "bead":
            self.chosen = [oid]
            self.step = "target"
            self.query_one("#sling-query", Input).value = ""
            self._show()
        elif self.step == "target":
            self.step = "result"
            self._show()
            self.query_one("#sling-result", Static).update(f"slinging {', '.join(self.chosen)} to {oid} …")
            self._run(list(self.chosen), oid)

    @work(thread=True, exclusive=True, exit_on_error=False, group="sling")
    def _run(self, beads: list[str], target: str) -> None:
        r = guarded(lambda: self.app.source.sling(beads, target))
        self.app.call_from_thread(self._done, r)

    def _done(self, r: ActionResult) -> None:
        self.result = r
        self.query_one("#sling-result", Static).update(result_text(self.app, r))
        self.app.request_refresh()

    def action_back(self) -> None:
        if self.step == "target" and self.snap.ready and self.result is None:
            self.step = "bead"
            self.query_one("#sling-query", Input).value = ""
            self._show()
            return
        self.dismiss(self.result)


class NudgeModal(Dialog):
    """Multi-line message to one agent; ctrl+s sends; shows delivered / queued / failed."""

    BINDINGS = [Binding("escape", "dismiss_result", "back"), Binding("ctrl+s", "send", "send")]

    def __init__(self, address: str) -> None:
        super().__init__()
        self.address = address
        self.result: ActionResult | None = None
        self.sending = False

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Nudge {self.address}", classes="title")
            yield self.app.steady(TextArea(id="nudge-text", soft_wrap=True))
            yield Static("", id="nudge-result")
            yield Label("ctrl+s send · esc back", classes="hint")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_send(self) -> None:
        text = self.query_one(TextArea).text
        if not text.strip():
            self.query_one("#nudge-result", Static).update(result_text(self.app, ActionResult("failed", "the message is empty")))
            return
        self.query_one("#nudge-result", Static).update("sending …")
        self.sending = True
        self.app.run_worker(lambda: self._run(text), thread=True, exit_on_error=False, group="nudge")

    def _run(self, text: str) -> None:
        # an app worker, not the dialog's: closing the dialog while sending must not lose the result
        app = self.app
        r = guarded(lambda: app.source.nudge(self.address, text))
        app.call_from_thread(self._done, r)

    def _done(self, r: ActionResult) -> None:
        self.result = r
        self.sending = False
        if not self.is_attached:  # closed meanwhile: the result comes as a toast
            notify_result(self.app, r)
            return
        self.query_one("#nudge-result", Static).update(result_text(self.app, r))
        if r.ok:
            self.query_one(TextArea).text = ""

    def action_dismiss_result(self) -> None:
        self.dismiss(self.result)


class ComposeModal(Dialog):
    """New mail (to, subject, body) or a reply; ctrl+s sends."""

    BINDINGS = [Binding("escape", "dismiss_none", "back"), Binding("ctrl+s", "send", "send")]

    def __init__(self, to: str = "", subject: str = "", reply_to: str | None = None) -> None:
        super().__init__()
        self.to, self.subject, self.reply_to = to, subject, reply_to

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Reply" if self.reply_to else "New mail", classes="title")
            yield self.app.steady(Input(self.to, placeholder="to (mayor, gastown/witness, gastown/polecats/furiosa)", id="mail-to"))
            yield self.app.steady(Input(self.subject, placeholder="subject", id="mail-subject"))
            yield self.app.steady(TextArea(id="mail-body"))
            yield Static("", id="mail-result")
            yield Label("ctrl+s send · esc back", classes="hint")

    def on_mount(self) -> None:
        (self.query_one("#mail-body") if self.to else self.query_one("#mail-to")).focus()

    def action_send(self) -> None:
        to = self.query_one("#mail-to", Input).value.strip()
        subject = self.query_one("#mail-subject", Input).value.strip()
        body = self.query_one("#mail-body", TextArea).text
        if not to or not subject:
            self.query_one("#mail-result", Static).update(result_text(self.app, ActionResult("failed", "give a recipient and a subject")))
            return
        self._run(to, subject, body)

    @work(thread=True, exclusive=True, exit_on_error=False, group="mail")
    def _run(self, to: str, subject: str, body: str) -> None:
        r = guarded(lambda: self.app.source.send_mail(to, subject, body, reply_to=self.reply_to))
        self.app.call_from_thread(self._done, r)

    def _done(self, r: ActionResult) -> None:
        if r.ok:
            self.app.notify(r.detail, markup=False)
            self.app.request_refresh()
            self.dismiss(r)
        else:
            self.query_one("#mail-result", Static).update(result_text(self.app, r))


class ReadMailModal(Dialog):
    BINDINGS = [Binding("escape", "dismiss_none", "back"), Binding("r", "reply", "reply")]

    def __init__(self, mail: MailView) -> None:
        super().__init__()
        self.mail = mail

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(plain(self.mail.subject), classes="title")
            yield Label(plain(f"from {self.mail.sender} to {self.mail.to} · {self.mail.created_at[:16]}"), classes="hint")
            yield Static(literal(self.mail.body or "(no body)"), id="mail-read-body")
            yield Label("r reply · esc back", classes="hint")

    def action_reply(self) -> None:
        self.dismiss("reply")


class TextPrompt(Dialog):
    """One line of input (convoy title, new bead title …); returns the text or None."""

    def __init__(self, title: str, placeholder: str = "", value: str = "") -> None:
        super().__init__()
        self.title_text, self.placeholder, self.value = title, placeholder, value

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(plain(self.title_text), classes="title")
            yield self.app.steady(Input(self.value, placeholder=self.placeholder, id="prompt-input"))
            yield Label("enter ok · esc back", classes="hint")

    @on(Input.Submitted)
    def _ok(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)


class ConfirmModal(Dialog):
    BINDINGS = [Binding("escape", "dismiss_none", "back"), Binding("y", "yes", "yes"), Binding("n", "dismiss_none", "no")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(plain(self.question), classes="title")
            yield Label("y yes · n / esc no", classes="hint")

    def action_yes(self) -> None:
        self.dismiss(True)


class InfoModal(Dialog):
    """Read-only text (bead detail, result of a command)."""

    def __init__(self, title: str, body: str | Text) -> None:
        super().__init__()
        self.title_text, self.body = title, body

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(plain(self.title_text), classes="title")
            yield Static(literal(self.body), id="info-body")
            yield Label("esc back", classes="hint")
