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


BEGIN = "<!-- BEGIN REFERENCE -->"
END = "<!-- END REFERENCE -->"


def render() -> str:
    from gastown_tui.cli import bd, gt

    out: list[str] = []
    for prog, groups in (("gt", gt.GROUPS), ("bd", bd.GROUPS)):
        out.append(f"### `{prog}`\n")
        out.append("| command | what it does |\n|---|---|")
        for usage, helptext in walk(prog, groups):
            cell = usage.replace("|", "\\|")
            out.append(f"| `{cell}` | {helptext} |")
        out.append("")
    return "\n".join(out)


def splice(text: str, reference: str) -> str:
    """`text` with the part between the markers replaced by `reference`."""
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{reference}{END}{tail}"


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--update":
        path = sys.argv[2]
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if BEGIN not in text or END not in text:
            sys.stderr.write(f"{path} has no {BEGIN} ... {END} markers\n")
            sys.exit(1)
        new = splice(text, render())  # rendered in full before the file is opened: a failure leaves it as it was
        with open(path, "w", encoding="utf-8") as f:
            f.write(new)
        return
    sys.stdout.write(render())


if __name__ == "__main__":
    sys.exit(main())
