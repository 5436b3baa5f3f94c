"""gt's argument pre-parsing of `gt mail inbox` must build exactly argparse's Namespace."""

from __future__ import annotations

import itertools

import pytest

from gastown_tui.cli import framework, gt, mail_cmds


def _argparse_ns(argv: list[str], monkeypatch) -> dict:
    got: dict = {}

    def capture(args):
        got.update(vars(args))
        return 0

    monkeypatch.setattr(mail_cmds, "_inbox", capture)
    try:
        assert framework.run("gt", gt.ABOUT, gt.GROUPS, argv) == 0
    finally:
        monkeypatch.undo()
    return got


WORDS = [["--json"], ["--unread"], ["--all"], ["--type", "POLECAT_DONE"], ["demo/witness"]]


@pytest.mark.parametrize("town", [None, "/tmp/some town"])
def test_quick_args_equal_argparse(town, monkeypatch):
    for n in range(len(WORDS) + 1):
        for combo in itertools.permutations(WORDS, n):
            argv = (["--town", town] if town else []) + ["mail", "inbox", *[w for ws in combo for w in ws]]
            quick = gt.quick_args(argv)
            assert quick is not None, argv
            want = _argparse_ns(argv, monkeypatch)
            q = vars(quick)
            assert q.pop("func") is mail_cmds._inbox
            want.pop("func")
            assert q == want, argv


@pytest.mark.parametrize("argv", [
    ["mail", "inbox", "a", "b"], ["mail", "inbox", "--type"], ["mail", "inbox", "--json", "--help"],
    ["mail", "inbox", "--town", "x"], ["--town=x", "mail", "inbox"], ["mail", "send", "mayor"], ["mail"], [],
    ["mail", "inbox", "--type", "--json"],
])
def test_anything_else_goes_to_argparse(argv):
    assert gt.quick_args(argv) is None
