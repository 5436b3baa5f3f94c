"""Generate the README's command reference from the live argparse tree.

    python -m gastown_tui.cli.reference > /tmp/ref.md

Walking the real parsers keeps the reference from drifting away from the commands.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from gastown_tui.cli.framework import command, parser_class


def _usage_line(parser: argparse.ArgumentParser) -> str:
    parts = []
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction) or a.dest in ("help", "town") or a.help == argparse.SUPPRESS:
            continue
        if a.option_strings:
            flag = max(a.option_strings, key=len)
            if a.nargs == 0:
                parts.append(f"[{flag}]")
            else:
                parts.append(f"[{flag} {a.metavar or a.dest.upper()}]")
        else:
            parts.append(a.metavar or a.dest.upper())
    return " ".join(parts)


def walk(prog: str, groups) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for name, group in groups.items():
        root = parser_class()(prog=prog, add_help=False)
        sub = root.add_subparsers()
        p = command(sub, name, group.help)
        importlib.import_module(group.module).register(p)

        def visit(parser: argparse.ArgumentParser, path: list[str], helptext: str) -> None:
            subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
            if not subs:
                rows.append((" ".join([prog, *path, _usage_line(parser)]).strip(), helptext))
                return
            seen = set()
            for action in subs:
                helps = {c.dest: c.help for c in action._choices_actions}
                for child_name, child in action.choices.items():
                    if id(child) in seen:
                        continue  # aliases
                    seen.add(id(child))
                    visit(child, [*path, child_name], helps.get(child_name, ""))

        visit(p, [name], group.help)
    return rows


def main() -> None:
    from gastown_tui.cli import bd, gt

    for prog, groups in (("gt", gt.GROUPS), ("bd", bd.GROUPS)):
        print(f"### `{prog}`\n")
        print("| command | what it does |\n|---|---|")
        for usage, helptext in walk(prog, groups):
            cell = usage.replace("|", "\\|")
            print(f"| `{cell}` | {helptext} |")
        print()


if __name__ == "__main__":
    sys.exit(main())
