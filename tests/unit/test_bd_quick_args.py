"""bd's argument pre-parsing must build exactly argparse's Namespace for the same command function."""

from __future__ import annotations

import random

import pytest

from gastown_tui.cli import bd, bd_issues, bd_mol_cmds, framework

OPTIONS = {
    "ready": [("--json",), ("--db", "/tmp/x"), ("--actor", "me"), ("-n", "3"), ("--limit", "0"), ("--sort", "priority"),
              ("--sort", "oldest"), ("-a", "bob"), ("--assignee", "demo/polecats/p"), ("--mol", "gt-mol-abc")],
    "show": [("--json",), ("--db", "/tmp/x"), ("--actor", "me")],
    "create": [("--json",), ("--db", "/tmp/x"), ("--actor", "me"), ("-t", "bug"), ("--type", "epic"), ("-p", "1"),
               ("--priority", "P3"), ("--parent", "gt-abc"), ("-a", "bob"), ("-d", "some text"),
               ("--description", "x"), ("--id", "gt-zzz"), ("--status", "closed")],
    "mol current": [("--json",), ("--db", "/tmp/x"), ("--actor", "me"), ("--actor", "demo/polecats/p")],
    "mol show": [("--json",), ("--db", "/tmp/x"), ("--actor", "me")],
    "update": [("--json",), ("--db", "/tmp/x"), ("--actor", "me"), ("-p", "1"), ("--priority", "P0"), ("-s", "closed"),
               ("--status", "open"), ("-a", "bob"), ("--assignee", "demo/polecats/p"), ("--title", "New title"),
               ("-t", "bug"), ("--type", "epic"), ("-d", "text"), ("--description", "more"), ("--notes", "n")],
}
POSITIONALS = {"ready": [], "show": ["gt-abc", "gt-def.1"], "create": ["A title with spaces"],
               "mol current": ["gt-mol-abc"], "mol show": ["gt-mol-abc"], "update": ["gt-abc"]}
OPTIONAL_POSITIONALS = {"mol current", "mol show"}


def _argparse_ns(argv: list[str], monkeypatch) -> dict:
    got: dict = {}

    def capture(args):
        got.update(vars(args))
        return 0

    if argv[0] == "mol":
        monkeypatch.setattr(bd_mol_cmds, "cmd_current", capture)
    else:
        monkeypatch.setattr(bd_issues, f"cmd_{argv[0]}", capture)
    try:
        assert framework.run("bd", bd.ABOUT, bd.GROUPS, argv) == 0
    finally:
        monkeypatch.undo()
    return got


def _forms(seed: int) -> list[list[str]]:
    rnd = random.Random(seed)
    out = []
    for name, opts in OPTIONS.items():
        for _ in range(12):
            words = [w for o in rnd.sample(opts, rnd.randint(0, min(4, len(opts)))) for w in o]
            least = 0 if name in OPTIONAL_POSITIONALS else 1
            pos = POSITIONALS[name][: rnd.randint(least, len(POSITIONALS[name]))] if POSITIONALS[name] else []
            cut = rnd.randint(0, len(words))
            while cut and words[cut - 1].startswith("-") and words[cut - 1] != "--json":
                cut -= 1  # never split an option from its value
            out.append([*name.split(), *words[:cut], *pos, *words[cut:]])
    return out


@pytest.mark.parametrize("seed", range(5))
def test_quick_args_equal_argparse(seed, monkeypatch):
    for argv in _forms(seed):
        quick = bd.quick_args(argv)
        assert quick is not None, argv
        want = _argparse_ns(argv, monkeypatch)
        q = vars(quick)
        assert q.pop("func").__name__ == ("cmd_current" if argv[0] == "mol" else f"cmd_{argv[0]}")
        want.pop("func")
        assert q == want, argv


@pytest.mark.parametrize("argv", [
    ["label", "add", "gt-abc", "urgent"], ["label", "add", "gt-abc", "a", "b", "--json"],
    ["label", "add", "--db", "/tmp/x", "--actor", "me", "gt-abc", "x"], ["label", "add", "gt-abc", "x", "--db", "/tmp/x"],
    ["comment", "add", "gt-abc", "a comment with words"], ["comment", "gt-abc", "upstream's spelling", "--json"],
    ["comment", "add", "gt-abc", "by", "-a", "bob"], ["comment", "--author", "bob", "add", "gt-abc", "t"],
    ["comment", "list", "gt-abc"], ["comment", "-f", "/tmp/x", "add", "gt-abc"], ["comment"],
])
def test_label_add_and_comment_quick_args_equal_argparse(argv, monkeypatch):
    from gastown_tui.cli import bd_deps

    func = "cmd_label_add" if argv[0] == "label" else "cmd_comment"
    got: dict = {}

    def capture(args):
        got.update(vars(args))
        return 0

    quick = bd.quick_args(argv)
    assert quick is not None, argv
    monkeypatch.setattr(bd_deps, func, capture)
    assert framework.run("bd", bd.ABOUT, bd.GROUPS, argv) == 0
    monkeypatch.undo()
    q = vars(quick)
    assert q.pop("func").__name__ == func
    got.pop("func")
    assert q == got, argv


@pytest.mark.parametrize("argv", [
    ["label", "add", "gt-abc"], ["label", "add", "gt-abc", "--db", "/x", "lbl"], ["label", "add", "gt-a", "-x"],
    ["comment", "add", "gt-a", "--db", "/x", "text"], ["comment", "add", "gt-a", "--stdin"], ["comment", "add", "gt-a", ""],
    ["update", "gt-a", "--claim"], ["update", "gt-a", "--add-label", "x"], ["update", "gt-a", "b"], ["update"],
    ["ready", "--json", "--sort", "bogus"], ["ready", "-n", "-1"], ["ready", "--limit=3"], ["ready", "--help"],
    ["show"], ["show", "--json", "--", "gt-a"], ["create"], ["create", "a", "b"], ["create", "t", "-p"],
    ["create", "t", "-l", "x"], ["create", "t", "-d", ""], ["list", "--json"], ["ready", "--pri"], [],
    ["mol"], ["mol", "list"], ["mol", "current", "a", "b"], ["mol", "current", "--help"], ["mol", "progress", "x"],
])
def test_anything_else_goes_to_argparse(argv):
    assert bd.quick_args(argv) is None
