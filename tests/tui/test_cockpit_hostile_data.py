"""Data in the cockpit is text: markup in titles shows literally, escape sequences never reach
the terminal (issue 12)."""

from __future__ import annotations

import asyncio
import dataclasses

from gastown_tui.tui.app import CockpitApp
from gastown_tui.tui.screens.beads import BeadsScreen
from gastown_tui.tui.source import StaticSource
from gastown_tui.work.snapshot import BeadView
from tests.tui.fixture_town import OUTPUT, fixed_snapshot

EVIL = "[red]x[/] \x1b]0;PWNED\x07\x1b[2Jboom [bold]"


def evil_source():
    snap = fixed_snapshot()
    convoys = (dataclasses.replace(snap.convoys[0], title="convoy " + EVIL), *snap.convoys[1:])
    inbox = (dataclasses.replace(snap.inbox[0], subject="mail " + EVIL), *snap.inbox[1:])
    snap = dataclasses.replace(snap, convoys=convoys, inbox=inbox)
    beads = [BeadView("gt-e1l", "bead " + EVIL, "open", 1, "task", rig="gastown")]
    return StaticSource(snap, {a.session: OUTPUT for a in snap.agents if a.state != "off"}, beads)


def test_titles_render_literally_and_escapes_are_stripped():
    app = CockpitApp(evil_source(), live=False)
    shots = []

    async def main():
        async with app.run_test(size=(220, 50)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            shots.append(app.export_screenshot())
            await pilot.press("B")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert isinstance(app.screen, BeadsScreen)
            shots.append(app.export_screenshot())

    asyncio.run(main())
    for svg in shots:
        assert "PWNED" not in svg and "\x1b" not in svg and "\x07" not in svg
    main_screen, beads_screen = (screen_text(s) for s in shots)
    assert "convoy [red]x[/" in main_screen and "mail [red]x[/] boom [b" in main_screen
    assert "bead [red]x[/] boom [bold]" in beads_screen


def screen_text(svg: str) -> str:
    import html
    import re

    return html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")


def test_the_snapshot_is_sanitized_where_it_enters_the_ui():
    from gastown_tui.tui.safe import safe_view

    snap = evil_source().snapshot()
    clean = safe_view(snap)
    assert clean.convoys[0].title == "convoy [red]x[/] boom [bold]"
    assert clean.inbox[0].subject == "mail [red]x[/] boom [bold]"
    assert safe_view(clean) is clean  # nothing left to change: the same object


def test_a_snapshot_sanitized_since_the_last_one_reuses_only_what_did_not_change():
    from gastown_tui.tui.safe import safe_view, safe_view_since

    first = evil_source().snapshot()
    first_clean = safe_view(first)
    # next second: the same town, but a new hostile mail subject arrived
    inbox = (dataclasses.replace(first.inbox[0], subject="new " + EVIL), *first.inbox[1:])
    second = dataclasses.replace(first, inbox=inbox)
    clean = safe_view_since(second, first, first_clean)
    assert clean == safe_view(second)
    assert clean.inbox[0].subject == "new [red]x[/] boom [bold]"
    assert clean.convoys is first_clean.convoys  # unchanged: taken from the last sanitized one
    assert safe_view_since(first, None, None) == first_clean
