"""The one terminal-text sanitizer: escape sequences and controls out, text in (issue 12)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gastown_tui.infra.termtext import clean, clean_line

CASES = [
    ("plain text", "plain text"),
    ("red \x1b[31mX\x1b[0m end", "red X end"),
    ("title \x1b]0;pwned\x07 after", "title  after"),
    ("osc st \x1b]2;pwned\x1b\\ after", "osc st  after"),
    ("clip \x1b]52;c;ZWNobw==\x07!", "clip !"),
    ("dcs \x1bPq#0;2;0;0;0\x1b\\ after", "dcs  after"),
    ("apc \x1b_secret\x1b\\ after", "apc  after"),
    ("c1 csi \x9b2J and osc \x9d0;t\x9c done", "c1 csi  and osc  done"),
    ("charset \x1b(B and \x1b7save\x1b8", "charset  and save"),
    ("clear \x1b[2J\x1b[H home", "clear  home"),
    ("bell\x07 bs\x08 nul\x00 del\x7f cr\r end", "bell bs nul del cr end"),
    ("c1 \x85 \x9f", "c1  "),
    ("keep\nnewline\tand tab", "keep\nnewline\tand tab"),
    ("unterminated osc \x1b]0;forever", "unterminated osc "),
    ("trailing esc \x1b", "trailing esc "),
    ("üñïcødé ✓ 漢字", "üñïcødé ✓ 漢字"),
    ("[red]markup[/] stays text", "[red]markup[/] stays text"),
]


@pytest.mark.parametrize("raw, want", CASES)
def test_clean(raw, want):
    assert clean(raw) == want


def test_keep_sgr_keeps_colours_only():
    assert clean("\x1b[1;31mred\x1b[0m\x1b]0;t\x07\x1b[2J", keep_sgr=True) == "\x1b[1;31mred\x1b[0m"


def test_options_and_one_line():
    assert clean("a\nb\tc", keep_newlines=False, keep_tabs=False) == "abc"
    assert clean_line("two\nlines\tand\r\nmore \x1b[31m") == "two lines and more "


def test_nothing_unsafe_survives_random_input():
    import random

    rng = random.Random(1234)
    alphabet = "ab \x1b[]0;P\\\x07\x9b\x9d\x9c\x90m\n\t\r\x00\x7f\x85"
    for _ in range(2000):
        s = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        out = clean(s)
        assert not any(ord(c) < 0x20 and c not in "\n\t" or 0x7F <= ord(c) <= 0x9F for c in out), repr(s)


def test_nudge_and_the_classifier_use_it():
    from gastown_tui.agents import nudge

    assert nudge.sanitize("a\r\nb\x1b]0;t\x07") == "a\nb"


def test_it_imports_without_re():
    code = "import sys; import gastown_tui.infra.termtext; print('re' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
