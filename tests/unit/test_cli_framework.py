"""The CLI conventions every command follows: --help everywhere, --version, exit codes, one-sentence errors."""

from __future__ import annotations

import argparse

import pytest

from gastown_tui.cli import bd, gt
from gastown_tui.cli.framework import command, parser_class


def _all_leaf_argvs(groups) -> list[list[str]]:
    import importlib

    out = []
    for name, group in groups.items():
        root = parser_class()(prog="x", add_help=False)
        sub = root.add_subparsers()
        p = command(sub, name, group.help)
        importlib.import_module(group.module).register(p)

        def walk(parser: argparse.ArgumentParser, path: list[str]) -> None:
            out.append(path)
            for action in parser._actions:
                if isinstance(action, argparse._SubParsersAction):
                    for child_name, child in action.choices.items():
                        walk(child, [*path, child_name])

        walk(p, [name])
    return out


@pytest.mark.parametrize("main, groups", [(gt.main, gt.GROUPS), (bd.main, bd.GROUPS)], ids=["gt", "bd"])
def test_every_command_has_help(main, groups, capsys):
    argvs = _all_leaf_argvs(groups)
    assert len(argvs) >= len(groups)
    for argv in argvs:
        with pytest.raises(SystemExit) as e:
            main([*argv, "--help"])
        assert e.value.code == 0, argv
        assert "usage:" in capsys.readouterr().out


def test_version_and_top_help(capsys):
    assert gt.main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("gt 0.")
    assert gt.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "install" in out and "rig" in out


def test_unknown_command_and_bad_option_are_usage_errors(capsys):
    assert gt.main(["rgi"]) == 2
    err = capsys.readouterr().err
    assert "unknown command 'rgi'" in err and "'rig'" in err
    assert gt.main(["rig", "list", "--bogus"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unrecognized arguments: --bogus" in err


def test_missing_arguments_is_a_usage_error(capsys):
    assert gt.main(["rig", "add"]) == 2
    err = capsys.readouterr().err
    assert "required" in err and "Traceback" not in err


def test_readme_command_reference_matches_the_parsers():
    from pathlib import Path

    from gastown_tui.cli import reference

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert reference.splice(readme, reference.render()) == readme, "run 'make reference' to update the README"
    assert readme.index("make demo") < readme.index("## What Gas Town is")
