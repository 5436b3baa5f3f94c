"""Snapshot tests of every cockpit screen and modal, each theme, at 80×24 and 200×50 (the sizes issue 14 asks for).

The app runs over a fixed TownSnapshot (tests/tui/fixture_town.py) with live updates off, so the
pictures depend only on the code. Cursors never blink (`blink=False`, set before any field is
drawn): switching blinking off after a frame was drawn in the blink's hidden phase left that
frame in TextArea's line cache, so the nudge picture had its cursor drawn or not by chance.
"""

from __future__ import annotations

import pytest
from textual.widgets import Input, TextArea

from gastown_tui.tui.app import CockpitApp
from tests.tui.fixture_town import T0, fixed_source

SIZES = {"small": (80, 24), "large": (200, 50)}


def make_app(theme: str = "gastown-dark") -> CockpitApp:
    return CockpitApp(fixed_source(), live=False, theme=theme, blink=False, clock=lambda: T0)


async def settle(pilot) -> None:
    app = pilot.app
    await app.workers.wait_for_complete()
    await pilot.pause()
    await app.workers.wait_for_complete()
    assert not any(w.cursor_blink for w in app.screen.query(TextArea))
    for w in app.screen.query(Input):  # Textual's own palette input; Input redraws on the change
        w.cursor_blink = False
    await pilot.pause()


def before(*keys: str, text: str | None = None):
    async def run(pilot) -> None:
        await settle(pilot)
        for k in keys:
            await pilot.press(k)
            await settle(pilot)
        if text:
            await pilot.press(*text)
            await settle(pilot)

    return run


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("theme", ["gastown-dark", "gastown-light", "gastown-high-contrast"])
def test_main_screen(snap_compare, theme, size):
    assert snap_compare(make_app(theme), terminal_size=SIZES[size], run_before=before("down", "down", "down"))


SCREENS = {
    "sling_beads": ("s",),
    "sling_targets": ("s", "enter"),
    "nudge": ("n",),
    "compose": ("m",),
    "read_mail": ("4", "enter"),
    "help": ("question_mark",),
    "beads": ("B",),
    "merge_queue": ("M",),
    "escalations": ("e",),
    "agent_detail": ("down", "down", "down", "down", "down", "down", "down", "down", "d"),
    "peek": ("p",),
    "command_line": ("colon",),
    "filter_feed": ("5", "slash"),
    "convoy_expanded": ("3", "enter"),
    "confirm_close": ("B", "x"),
    "palette": ("ctrl+p", "s", "l", "i", "n", "g"),  # typed: discovery order is not deterministic
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", SCREENS)
def test_screens_and_modals(snap_compare, name, size):
    assert snap_compare(make_app(), terminal_size=SIZES[size], run_before=before(*SCREENS[name]))


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("theme", ["gastown-light", "gastown-high-contrast"])
@pytest.mark.parametrize("name", SCREENS)
def test_screens_and_modals_in_other_themes(snap_compare, name, theme, size):
    assert snap_compare(make_app(theme), terminal_size=SIZES[size], run_before=before(*SCREENS[name]))
