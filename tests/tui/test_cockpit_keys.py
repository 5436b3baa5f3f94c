"""Pilot tests over the fixed snapshot: navigation, filter, command line, palette, help, theme,
attach (injected runner), nudge/sling/mail/convoy dialogs — each checks what the action did."""

from __future__ import annotations

import asyncio

import pytest

from gastown_tui.tui.app import CockpitApp
from gastown_tui.tui.modals import NudgeModal, SlingModal
from gastown_tui.tui.screens.agent import HelpScreen, PeekScreen
from gastown_tui.tui.screens.beads import BeadsScreen
from gastown_tui.tui.screens.lists import EscalationsScreen
from gastown_tui.tui.widgets.output import AgentOutput
from gastown_tui.tui.widgets.tree import TownTree
from tests.tui.fixture_town import T0, fixed_source


def drive(test, size=(160, 50), **kw):
    """Run `test(app, pilot)` against a cockpit over the fixed snapshot."""
    source = fixed_source()
    app = CockpitApp(source, live=False, **kw)

    async def main():
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            await test(app, pilot)

    asyncio.run(main())
    return app, source


async def settle(pilot):
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_first_agent_is_selected_and_its_output_shown():
    async def t(app, pilot):
        assert app.selected == "mayor"
        out = app.query_one("#output", AgentOutput)
        assert "working on gt-a1b" in out.plain
        assert out.line_count == 9

    drive(t)


def test_streamed_lines_land_at_the_end_and_scroll_like_captured_ones():
    async def t(app, pilot):
        out = app.query_one("#output", AgentOutput)
        out.set_output("\n".join(f"line {i}" for i in range(60)), out.session)
        # what tmux holds once the 40 lines below are printed (the history scrolling up asks for)
        app.source.outputs[out.session] = "\n".join(
            [f"line {i}" for i in range(60)] + [f"\x1b[32mline {i}\x1b[39m" for i in range(60, 100)])
        await pilot.pause()
        for i in range(60, 100):  # one more line at a time: the scrollbar grows, no layout
            assert out.append_stream(f"\x1b[32mline {i}\x1b[0m\r\n".encode())
            await pilot.pause()
        height = out.scrollable_content_region.height
        assert out.virtual_size.height == out.line_count == 100
        assert out.scroll_offset.y == out.max_scroll_y == 100 - height
        assert out.plain.split("\n")[-1] == "line 99" and out.follow
        # a capture that shows what the stream already did changes nothing
        before = out.plain
        capture = [f"line {i}" for i in range(50, 60)] + [f"\x1b[32mline {i}\x1b[39m" for i in range(60, 100)]
        assert not out.set_output("\n".join(capture), out.session)  # (tmux ends a colour with 39)
        assert out.plain == before
        out.focus()
        await pilot.press("home")
        assert out.scroll_offset.y == 0 and not out.follow
        await pilot.press("end")
        await pilot.pause()
        assert out.follow and out.scroll_offset.y == 100 - height
        # not plain lines (a cursor move): only a capture can show that
        assert not out.append_stream(b"\x1b[2Aover\r\n")

    drive(t)


def test_scrolled_up_the_view_holds_still_while_the_agent_prints():
    async def t(app, pilot):
        out = app.query_one("#output", AgentOutput)
        lines = [f"row {i}" for i in range(200)]
        app.source.outputs[out.session] = "\n".join(lines)
        out.set_output("\n".join(lines), out.session)
        out.focus()
        await pilot.press("pageup", "pageup")
        await settle(pilot)
        assert not out.follow
        top = out.plain.split("\n")[out.scroll_offset.y]
        # the agent prints 5 more lines: the next capture is longer, the reader's lines stay put
        out.set_output("\n".join(lines + [f"row {i}" for i in range(200, 205)]), out.session)
        assert out.plain.split("\n")[out.scroll_offset.y] == top
        # a full history: tmux drops the oldest lines as new ones come; still the same lines
        out.set_output("\n".join(f"row {i}" for i in range(20, 225)), out.session)
        assert out.plain.split("\n")[out.scroll_offset.y] == top and not out.follow

    drive(t)


def test_tree_cursor_and_expansion_survive_refresh():
    async def t(app, pilot):
        tree = app.query_one("#tree", TownTree)
        await pilot.press("down", "down")  # the gastown rig
        rig = tree.cursor_node
        assert rig.data == "rig:gastown"
        rig.collapse()
        await pilot.press("down")
        before = tree.cursor_node.data
        app.apply_snapshot(app.source.snapshot(), force=True)
        await settle(pilot)
        assert tree.cursor_node.data == before
        assert not rig.is_expanded

    drive(t)


def test_filter_narrows_the_tree_and_esc_backs_out():
    async def t(app, pilot):
        await pilot.press("slash")
        await pilot.press(*"stalled")
        await settle(pilot)
        tree = app.query_one("#tree", TownTree)
        agents = [k for k in tree._keyed if "/" in k or k in ("mayor", "deacon")]
        assert agents == ["gastown/polecats/nux"]
        await pilot.press("escape")
        assert not app.query_one("#filterbar").display

    drive(t)


def test_feed_filter_by_rig_and_type():
    async def t(app, pilot):
        await pilot.press("5", "slash")
        await pilot.press(*"rig:beads type:cr")
        await settle(pilot)
        feed = app.query_one("#feed")
        assert feed.row_count == 1
        assert "crash" in str(feed.get_row_at(0))

    drive(t)


def test_command_line_sling_and_nudge_aliases():
    async def t(app, pilot):
        await pilot.press("colon")
        await pilot.press(*"sl gt-r0 gastown", "enter")
        await settle(pilot)
        await pilot.press("colon")
        await pilot.press(*"nudge mayor hello there", "enter")
        await settle(pilot)

    _app, source = drive(t)
    assert ("sling", ("gt-r0",), "gastown") in source.calls
    assert ("nudge", "mayor", "hello there") in source.calls


def test_palette_runs_an_action():
    async def t(app, pilot):
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Escalations")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, EscalationsScreen)
        await pilot.press("a")  # acknowledge the first
        await settle(pilot)

    _app, source = drive(t)
    assert ("ack", "hq-e1") in source.calls


def test_help_lists_every_key_and_esc_returns():
    async def t(app, pilot):
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-body").render())
        for key in ("sling", "nudge", "attach", "peek", "theme", "command palette", ":sling", "acknowledge"):
            assert key in text, key
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)

    drive(t)


def test_theme_switch_cycles_through_themes():
    async def t(app, pilot):
        assert app.theme == "gastown-dark"
        await pilot.press("t")
        await settle(pilot)
        assert app.theme == "gastown-high-contrast"
        await pilot.press("colon")
        await pilot.press(*"theme gastown-light", "enter")
        await settle(pilot)
        assert app.theme == "gastown-light"
        assert app.current_theme.variables["state-working"] == "#2e7d32"

    drive(t)


def test_attach_hands_the_terminal_to_the_injected_runner():
    seen = []

    def runner(argv):
        seen.append(argv)
        return 0

    async def t(app, pilot):
        await pilot.press("enter")
        await settle(pilot)
        assert app.is_running

    drive(t, runner=runner)
    assert seen == [["tmux", "attach-session", "-t", "=gt-mayor"]]


@pytest.mark.parametrize("how,back", [("popup", "prefix d"), ("switch", "prefix L")])
def test_attach_inside_tmux_follows_the_gateways_plan(how, back):
    """A popup is drawn by the user's tmux over the cockpit: nothing to suspend. A switch-client
    returns at once, and the cockpit says which keys bring the user back."""
    import contextlib

    from gastown_tui.infra.tmux import AttachPlan

    seen, suspended = [], []

    def runner(argv):
        seen.append(argv)
        return 0

    async def t(app, pilot):
        app.source.attach_plan = lambda s: AttachPlan(["tmux", how, s], how, back)
        app.suspend = lambda: suspended.append(1) or contextlib.nullcontext()
        await pilot.press("enter")
        await settle(pilot)
        assert app.is_running
        notes = [str(n.message) for n in app._notifications]
        assert any(back in m for m in notes) == (how == "switch"), notes

    drive(t, runner=runner)
    assert seen == [["tmux", how, "gt-mayor"]] and suspended == []


def test_b_jumps_to_the_agent_needing_attention_most():
    async def t(app, pilot):
        await pilot.press("b")
        await settle(pilot)
        assert app.selected == "gastown/polecats/slit"  # waiting beats stalled and dead
        assert app.query_one("#tree", TownTree).selected_address == "gastown/polecats/slit"

    drive(t)


def test_nudge_dialog_shows_the_delivery_result():
    async def t(app, pilot):
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, NudgeModal)
        await pilot.press(*"check your hook")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "delivered" in str(app.screen.query_one("#nudge-result").render())

    _app, source = drive(t)
    assert ("nudge", "mayor", "check your hook") in source.calls


def test_sling_picker_fuzzy_bead_then_target():
    async def t(app, pilot):
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, SlingModal)
        await pilot.press(*"mrg drv")
        await settle(pilot)
        await pilot.press("enter")  # the best match: "Merge driver for labels" (beads)
        await settle(pilot)
        assert app.screen.step == "target"
        await pilot.press("enter")  # its own rig comes first
        await settle(pilot)
        assert "slung" in str(app.screen.query_one("#sling-result").render())
        await pilot.press("enter")  # the result box takes Enter, as its hint says
        await settle(pilot)
        assert not isinstance(app.screen, SlingModal)

    _app, source = drive(t)
    assert ("sling", ("gt-r3",), "beads") in source.calls


def test_mail_enter_reads_and_marks_read_and_reply_composes():
    async def t(app, pilot):
        await pilot.press("4", "enter")
        await settle(pilot)
        assert "half done" in str(app.screen.query_one("Label").render())
        await pilot.press("r")
        await settle(pilot)
        await pilot.press(*"on it")
        await pilot.press("ctrl+s")
        await settle(pilot)

    _app, source = drive(t)
    assert ("read", "hq-m1") in source.calls
    assert ("mail", "mayor", "Re: Convoy Release 0.3 is half done", "on it", "hq-m1") in source.calls


def test_beads_screen_mark_and_create_convoy():
    async def t(app, pilot):
        await pilot.press("B")
        await settle(pilot)
        assert isinstance(app.screen, BeadsScreen)
        await pilot.press("space", "down", "space", "c")
        await settle(pilot)
        await pilot.press(*"Sprint", "enter")
        await settle(pilot)

    _app, source = drive(t)
    convoy = [c for c in source.calls if c[0] == "convoy"]
    assert convoy == [("convoy", "Sprint", ("gt-a1b", "gt-r0"))]  # sorted by priority, then id


def test_pane_keys_and_peek():
    async def t(app, pilot):
        await pilot.press("2")
        assert app.focused.id == "output"
        await pilot.press("tab")
        assert app.focused.id == "convoys"
        await pilot.press("shift+tab", "shift+tab")
        assert app.focused.id == "tree"
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, PeekScreen)
        assert "tests passed" in app.screen.query_one(AgentOutput).plain
        await pilot.press("escape")
        assert not isinstance(app.screen, PeekScreen)

    drive(t)


def test_usable_at_80x24():
    async def t(app, pilot):
        assert app.screen.has_class("-narrow")
        assert app.query_one("#tree").outer_size.width == 26
        assert app.query_one("#output").size.height >= 5

    drive(t, size=(80, 24))


def test_when_the_selected_agent_leaves_the_selection_follows_the_cursor():
    from dataclasses import replace

    async def t(app, pilot):
        tree = app.query_one("#tree", TownTree)
        assert tree.select_address("gastown/polecats/furiosa")
        await settle(pilot)
        assert app.selected == "gastown/polecats/furiosa"
        snap = app.snapshot
        g = snap.rigs[0]
        gone = replace(snap, rigs=(replace(g, agents=tuple(a for a in g.agents if a.name != "furiosa")), *snap.rigs[1:]))
        app.apply_snapshot(gone)
        await settle(pilot)
        assert app.selected == tree.selected_address
        assert app.selected not in (None, "gastown/polecats/furiosa")

    drive(t)


def test_input_mode_types_into_the_selected_agent_until_escape():
    async def t(app, pilot):
        out = app.query_one("#output", AgentOutput)
        out.focus()
        await pilot.press("i")
        assert out.typing and "typing" in out.border_title
        await pilot.press("l", "s", "q", "enter", "ctrl+c")  # q is typed, it does not quit
        await settle(pilot)
        await pilot.press("escape")
        assert not out.typing and "typing" not in out.border_title
        await pilot.press("s")  # back to the cockpit's keys: the sling dialog
        await settle(pilot)
        assert isinstance(app.screen, SlingModal)

    app, source = drive(t)
    keys = [k for c in source.calls if c[0] == "keys" for k in c[2]]
    assert {c[1] for c in source.calls if c[0] == "keys"} == {"mayor"}
    assert keys == [("text", "l"), ("text", "s"), ("text", "q"), ("key", "Enter"), ("key", "C-c")]


def test_filter_shows_an_indicator_esc_clears_it_and_the_order_comes_back():
    async def t(app, pilot):
        tree = app.query_one("#tree", TownTree)

        def rows():
            return [tree.get_node_at_line(i).data for i in range(tree.last_line + 1)]

        before = rows()
        await pilot.press("/", *"nux")
        await settle(pilot)
        assert "filter /nux" in tree.border_title
        assert "gastown/polecats/furiosa" not in rows()
        assert app.selected == "gastown/polecats/nux"  # the output follows the filter
        await pilot.press("escape")
        await settle(pilot)
        assert tree.filter_text == "" and "filter" not in tree.border_title
        assert rows() == before

    drive(t)


def test_closing_the_nudge_dialog_while_sending_keeps_the_result():
    import threading

    from gastown_tui.tui.source import ActionResult

    release = threading.Event()

    async def t(app, pilot):
        def slow_nudge(address, message):
            release.wait(10)
            return ActionResult("delivered", f"typed into {address} and submitted")

        app.source.nudge = slow_nudge
        await pilot.press("n")
        await pilot.press(*"hi")
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("escape")  # closed while the worker still sends
        assert not isinstance(app.screen, NudgeModal)
        release.set()
        await settle(pilot)
        await pilot.pause(0.1)
        assert any("delivered: typed into mayor" in str(n.message) for n in app._notifications)

    drive(t)


def test_screenshot_works_without_a_downloads_directory(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)

    async def t(app, pilot):
        app.action_screenshot()
        await pilot.pause()

    drive(t)
    shots = list(tmp_path.glob("*.svg"))
    assert len(shots) == 1 and shots[0].name.startswith("Gas_Town") and "<svg" in shots[0].read_text()


def test_the_palettes_screenshot_works_without_a_downloads_directory(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)

    async def t(app, pilot):
        await pilot.press("ctrl+p")
        await pilot.press(*"Screenshot")
        await settle(pilot)
        await pilot.press("enter")  # the system command: a timer, then Textual's delivery thread
        for _ in range(500):
            if list(tmp_path.glob("*.svg")):
                break
            await pilot.pause(0.02)

    drive(t)
    shots = list(tmp_path.glob("*.svg"))
    assert len(shots) == 1 and "<svg" in shots[0].read_text()
    assert not (home / "Downloads").exists()


def test_beads_screen_enter_opens_the_bead_marks_show_and_wisps_are_hidden():

    from gastown_tui.tui.modals import InfoModal
    from gastown_tui.work.snapshot import BeadView

    async def t(app, pilot):
        app.source._beads.append(BeadView("hq-wisp-abc", "patrol step", "open", 2, "task"))
        await pilot.press("B")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BeadsScreen)
        assert all("-wisp-" not in b.id for b in screen.visible())
        await pilot.press("space")
        await settle(pilot)
        table = screen.query_one("#beads-table")
        assert str(table.get_cell_at((0, 0))) == "✓"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, InfoModal)
        await pilot.press("escape")
        await pilot.press("a")
        await settle(pilot)
        assert any("-wisp-" in b.id for b in screen.visible())

    drive(t)


def test_agent_detail_shows_time_in_state_usage_and_git_facts():
    async def t(app, pilot):
        _select(app, "gastown/polecats/furiosa")
        app.source.diffs["gastown/polecats/furiosa"] = "2 commits ahead of main · 3 dirty files\n\n x | 1 +"
        app.action_agent_detail()
        await settle(pilot)
        body = str(app.screen.query_one("#detail-body").render())
        assert "working for 2m05s" in body
        assert "48,210 tokens · $0.42 · context 37% full" in body
        assert "worktree 2 commits ahead · 3 dirty files" in body
        assert "2 commits ahead of main · 3 dirty files" in str(app.screen.query_one("#detail-diff").render())

    drive(t, clock=lambda: T0)


def test_tree_rows_show_the_facts_where_the_width_allows():
    def row(app, address):
        return app.query_one("#tree", TownTree)._keyed[address].label.plain

    async def wide(app, pilot):
        r = row(app, "gastown/polecats/furiosa")
        assert r.startswith("● furiosa gt-a1b Add retry to fetch") and r.endswith("2m ↑2 *3 37% $0.42")
        assert row(app, "gastown/polecats/nux").endswith("14m ↑1 86% $1.07")  # no dirty files: no *0
        assert row(app, "mayor").endswith("3h 52% $6.90")
        assert "✉1" in row(app, "gastown/crew/max")  # no facts known: nothing made up

    drive(wide, size=(200, 50), clock=lambda: T0)

    async def narrow(app, pilot):
        r = row(app, "gastown/polecats/furiosa")
        room = app.query_one("#tree", TownTree).row_width(3)
        assert len(r) <= room and "gt-a1b" in r and "2m" in r  # the title gives way first, time in state stays
        assert "$0.42" not in r  # the least important fact went

    drive(narrow, size=(80, 24), clock=lambda: T0)


def test_time_in_state_moves_on_without_a_new_snapshot():
    now = [T0]

    async def t(app, pilot):
        tree = app.query_one("#tree", TownTree)
        assert tree._keyed["gastown/polecats/slit"].label.plain.endswith("<1m *1 $0.08")
        now[0] = T0 + 20
        app.apply_snapshot(app.snapshot)  # the same town again: only the clock moved
        await settle(pilot)
        assert tree._keyed["gastown/polecats/slit"].label.plain.endswith("1m *1 $0.08")
        assert tree._keyed["gastown/polecats/furiosa"].label.plain.endswith("2m ↑2 *3 37% $0.42")  # 2m25s

    drive(t, size=(200, 50), clock=lambda: now[0])


def _select(app, address):
    app.query_one("#tree", TownTree).select_address(address)
    app.select_agent(address)


def test_agent_actions_confirm_and_call_the_source():
    from gastown_tui.tui.modals import ConfirmModal, TextPrompt

    async def t(app, pilot):
        _select(app, "gastown/polecats/nux")
        await settle(pilot)
        for key, expect in (("R", ("restart", "gastown/polecats/nux")), ("X", ("nuke", "gastown/polecats/nux")),
                            ("u", ("unsling", "gastown/polecats/nux"))):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, ConfirmModal)
            await pilot.press("n")  # no: nothing happens
            await settle(pilot)
            assert expect not in app.source.calls
            await pilot.press(key, "y")
            await settle(pilot)
            assert expect in app.source.calls
        await pilot.press("A")
        await settle(pilot)
        assert isinstance(app.screen, TextPrompt)
        await pilot.press("ctrl+u", *"beads", "enter")
        await settle(pilot)
        assert ("reassign", "gastown/polecats/nux", "beads") in app.source.calls
        _select(app, "mayor")
        await settle(pilot)
        await pilot.press("X")  # not a polecat: refused before any dialog
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmModal)

    drive(t)


def test_merge_queue_retry_and_reject_and_escalation_answer_and_close():
    from dataclasses import replace

    from gastown_tui.tui.modals import ConfirmModal
    from gastown_tui.tui.screens.lists import MergeQueueScreen
    from gastown_tui.work.snapshot import BeadView, EscalationView

    async def t(app, pilot):
        snap = replace(app.snapshot, merge_queue=(BeadView("gt-mr1", "Merge polecat/nux/gt-c3d", "open", 1,
                                                           "merge-request", rig="gastown", mr_state="failed",
                                                           worker="gastown/polecats/nux"),),
                       escalations=(EscalationView("hq-e1", "Which approach?", "high", "open"),))
        app.source.snap = snap
        app.source.escalation_questions = {"hq-e1": ("Which approach?", ["rebase", "rewrite"])}
        app.apply_snapshot(snap)
        await pilot.press("M")
        await settle(pilot)
        assert isinstance(app.screen, MergeQueueScreen)
        await pilot.press("r")
        await settle(pilot)
        assert ("retry", "gastown", "gt-mr1") in app.source.calls
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
        assert ("reject", "gastown", "gt-mr1") in app.source.calls
        await pilot.press("escape", "e")
        await settle(pilot)
        assert isinstance(app.screen, EscalationsScreen)
        await pilot.press("o")
        await settle(pilot)
        await pilot.press("2", "enter")
        await settle(pilot)
        assert ("answer", "hq-e1", "rewrite") in app.source.calls
        await pilot.press("c", "y")
        await settle(pilot)
        assert ("close_esc", "hq-e1") in app.source.calls

    drive(t)


def test_o_sorts_workers_by_state_and_back_keeping_the_selection():
    def polecats(app):
        tree = app.query_one("#tree", TownTree)
        return [c.data for c in tree._keyed["group:gastown:polecat"].children]

    async def t(app, pilot):
        assert polecats(app) == ["gastown/polecats/furiosa", "gastown/polecats/nux", "gastown/polecats/slit"]
        _select(app, "gastown/polecats/furiosa")
        await settle(pilot)
        app.query_one("#tree").focus()
        await pilot.press("o")
        await settle(pilot)
        # waiting, then stalled, then working: the attention states first, in the classifier's order
        assert polecats(app) == ["gastown/polecats/slit", "gastown/polecats/nux", "gastown/polecats/furiosa"]
        assert app.query_one("#tree").border_title == "1 Town · by state"
        assert app.query_one("#tree", TownTree).selected_address == "gastown/polecats/furiosa"
        assert app.selected == "gastown/polecats/furiosa"
        await pilot.press("o")
        await settle(pilot)
        assert polecats(app)[0] == "gastown/polecats/furiosa" and app.query_one("#tree").border_title == "1 Town"

    drive(t)


def test_footer_is_built_once_at_start_and_follows_the_focused_pane(monkeypatch):
    """The footer rebuilds once per change of the keys it shows (not once per bindings signal),
    and still shows the focused pane's own keys."""
    from gastown_tui.tui.widgets.footer import KeyFooter
    from textual.widgets._footer import FooterKey

    builds = []
    real = KeyFooter.recompose

    async def counting(self):
        builds.append(self._shown)
        return await real(self)

    monkeypatch.setattr(KeyFooter, "recompose", counting)

    def keys(app):
        return {k.description for k in app.screen.query_one(KeyFooter).query(FooterKey)}

    async def t(app, pilot):
        assert len(builds) == 1  # the start-up's many bindings signals: one build
        assert {"help", "quit"} <= keys(app) and "type into agent" not in keys(app)
        await pilot.press("2")  # the output pane: its keys join the footer
        await settle(pilot)
        assert "type into agent" in keys(app) and len(builds) == 2
        await pilot.press("2")  # focus stays: nothing to rebuild
        await settle(pilot)
        assert len(builds) == 2

    drive(t)
