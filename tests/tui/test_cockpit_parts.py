"""Cockpit parts without a running app: ANSI parsing, themes, fuzzy matching, filters."""

from __future__ import annotations

from rich.color import Color

from gastown_tui.tui.ansi import parse_lines
from gastown_tui.tui.modals import fuzzy_score
from gastown_tui.tui.screens.beads import bead_matches
from gastown_tui.tui.themes import REQUIRED_VARIABLES, builtin_dir, discover_themes
from gastown_tui.tui.widgets.panes import event_matches
from gastown_tui.work.snapshot import BeadView, EventView


def test_sgr_state_is_carried_across_lines():
    lines = parse_lines("\x1b[1;31mred\nstill red\x1b[0m plain\n\x1b[38;2;1;2;3mrgb\x1b[39m default")
    (red,) = lines[0]
    assert red.style.color == Color.from_ansi(1) and red.style.bold
    still, plain = lines[1]
    assert still.text == "still red" and still.style.color == Color.from_ansi(1) and still.style.bold
    assert plain.text == " plain" and plain.style.color is None and not plain.style.bold
    rgb, default = lines[2]
    assert rgb.style.color == Color.from_rgb(1, 2, 3) and default.style.color is None


def test_non_sgr_escapes_and_controls_are_dropped():
    (segs,) = parse_lines("\x1b]0;title\x07a\x1b[2Kb\x1b(Bc\x07d")
    assert "".join(s.text for s in segs) == "abcd"


def test_bright_background_and_256_colours():
    (segs,) = parse_lines("\x1b[97;104mx\x1b[48;5;200my")
    assert segs[0].style.color == Color.from_ansi(15) and segs[0].style.bgcolor == Color.from_ansi(12)
    assert segs[1].style.bgcolor == Color.from_ansi(200)


def test_builtin_themes_define_every_variable_the_cockpit_uses():
    themes = discover_themes()
    assert {"gastown-dark", "gastown-light", "gastown-high-contrast"} <= set(themes)
    for name in ("gastown-dark", "gastown-light", "gastown-high-contrast"):
        missing = [v for v in REQUIRED_VARIABLES if v not in themes[name].variables]
        assert missing == [], f"{name} lacks {missing}"
    assert not themes["gastown-light"].dark


def test_user_themes_come_from_xdg_config_and_bad_ones_are_skipped(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    d = tmp_path / "gastown" / "themes"
    d.mkdir(parents=True)
    text = (builtin_dir() / "gastown-dark.toml").read_text().replace('name = "gastown-dark"', 'name = "mine"')
    (d / "mine.toml").write_text(text.replace('primary = "#e0a030"', 'primary = "#123456"'))
    (d / "broken.toml").write_text("this is [not toml")
    themes = discover_themes()
    assert themes["mine"].primary == "#123456"
    assert "broken" not in themes


def test_user_theme_shows_up_in_the_app(tmp_path, monkeypatch):
    import asyncio

    from gastown_tui.tui.app import CockpitApp
    from tests.tui.fixture_town import fixed_source

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    d = tmp_path / "gastown" / "themes"
    d.mkdir(parents=True)
    (d / "mine.toml").write_text((builtin_dir() / "gastown-light.toml").read_text().replace("gastown-light", "mine"))
    app = CockpitApp(fixed_source(), live=False, theme="mine")

    async def main():
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            assert app.theme == "mine"

    asyncio.run(main())


def test_fuzzy_score_prefers_contiguous_and_word_starts():
    assert fuzzy_score("mrg", "Merge driver") is not None
    assert fuzzy_score("xyz", "Merge driver") is None
    assert fuzzy_score("merge", "Merge driver") > fuzzy_score("mrgdr", "Merge driver")


def test_bead_and_event_filters():
    b = BeadView("gt-1", "Fix the login", "open", 1, "bug", "a/polecats/x", ("ui",), "gastown")
    assert bead_matches(b, "rig:gastown type:bug p:1 login")
    assert not bead_matches(b, "status:closed")
    e = EventView("2027-01-01T00:00:00Z", "sling", "overseer", "gastown", "gt-1 → gastown")
    assert event_matches(e, "rig:gastown type:sl")
    assert not event_matches(e, "rig:beads")
