"""A small argparse-based command framework shared by `gt` and `bd`.

Startup speed matters (agents call these commands hundreds of times an hour), so a command
group's module is imported only when that group is invoked; `--help` lists groups from a
static table. Every user mistake becomes one sentence on stderr and exit status 2; a
``GtError`` becomes its sentence and its exit status; ``GT_DEBUG=1`` shows tracebacks.
"""

from __future__ import annotations

import os
import sys

from gastown_tui import __version__
from gastown_tui.errors import GtError, UsageError

TYPE_CHECKING = False  # not `from typing import ...`: typing costs ~2 ms of startup
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Iterable, Sequence
    from typing import Any


class Group:
    """One top-level command: the module that registers it and its one-line help.

    (A plain class, not a dataclass: importing dataclasses costs startup time on every call.)
    """

    __slots__ = ("module", "help", "section")

    def __init__(self, module: str, help: str, section: str = "Commands") -> None:
        self.module = module
        self.help = help
        self.section = section


_PARSER_CLASS = None


def parser_class() -> type[argparse.ArgumentParser]:
    """ArgumentParser whose errors are UsageErrors (one sentence, exit 2), not SystemExit.

    Built on first use so `--version` and `--help` never import argparse.
    """
    global _PARSER_CLASS
    if _PARSER_CLASS is None:
        import argparse

        class Parser(argparse.ArgumentParser):
            def error(self, message: str) -> None:  # type: ignore[override]
                raise UsageError(f"{self.prog}: {message}", hint=f"run '{self.prog} --help' for usage")

        _PARSER_CLASS = Parser
    return _PARSER_CLASS


def count(text: str) -> int:
    """argparse type for a number of things (lines, seconds, agents): a whole number >= 0."""
    import argparse

    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"{n} is negative; give zero or more")
    return n


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def subcommands(parser: argparse.ArgumentParser, title: str = "commands") -> argparse._SubParsersAction:
    """Subcommand table whose leaves inherit our Parser class and require a choice."""
    sub = parser.add_subparsers(title=title, dest=f"_{parser.prog.replace(' ', '_')}_cmd", metavar="COMMAND")
    sub.required = True
    return sub


def command(
    sub: argparse._SubParsersAction,
    name: str,
    help: str,
    func: Callable[[argparse.Namespace], int | None] | None = None,
    *,
    aliases: Sequence[str] = (),
    description: str | None = None,
    json_flag: bool = False,
) -> argparse.ArgumentParser:
    """Add one leaf (or group) parser; `--town`/`--json` are accepted after the command too."""
    import argparse

    p = sub.add_parser(
        name,
        help=help,
        description=description or help,
        aliases=list(aliases),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--town", default=argparse.SUPPRESS, metavar="PATH", help="the town root (default: $GT_TOWN_ROOT, then walk up from the current directory)")
    if json_flag:
        add_json(p)
    p.set_defaults(_prog=p.prog)
    if func is not None:
        p.set_defaults(func=func)
    return p


class TerminalStream:
    """stdout for human-readable output: every write passes the one terminal-text sanitizer.

    Data (titles, mail, names) reaches listings through many `print`s; cleaning the stream they
    all write to means no listing can forget. `--json` output never goes through it (JSON keeps
    data exact), and a command that must send its own control sequences writes to `.raw`.
    """

    def __init__(self, raw: Any, *, keep_sgr: bool = False) -> None:
        self.raw = raw
        self.keep_sgr = keep_sgr

    def write(self, text: str) -> int:
        from gastown_tui.infra.termtext import clean

        self.raw.write(clean(text, keep_sgr=self.keep_sgr))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


def raw_stdout() -> Any:
    """The real stdout, for a command's own control sequences (clearing a watched screen)."""
    out = sys.stdout
    return out.raw if isinstance(out, TerminalStream) else out


class human_output:
    """While active, stdout is a TerminalStream (unless `json`, or the command opted out)."""

    def __init__(self, json: bool = False, mode: str = "clean") -> None:
        self.active = not json and mode != "raw" and not isinstance(sys.stdout, TerminalStream)
        self.keep_sgr = mode == "sgr"
        self.saved: Any = None

    def __enter__(self) -> human_output:
        if self.active:
            self.saved = sys.stdout
            sys.stdout = TerminalStream(sys.stdout, keep_sgr=self.keep_sgr)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.active and isinstance(sys.stdout, TerminalStream):
            sys.stdout = self.saved


def print_json(obj: Any) -> None:
    from gastown_tui.beads.codec import to_json

    sys.stdout.write(to_json(obj, indent=2, default=str) + "\n")


def print_table(rows: Iterable[Sequence[Any]], headers: Sequence[str]) -> None:
    """Plain aligned columns (no rich: listings must stay fast to start)."""
    rows = [["" if c is None else str(c) for c in r] for r in rows]
    widths = [len(h) for h in headers]
    for r in rows:
        for i, c in enumerate(r):
            widths[i] = max(widths[i], len(c))
    line = "  ".join(h.upper().ljust(widths[i]) for i, h in enumerate(headers)).rstrip()
    sys.stdout.write(line + "\n")
    for r in rows:
        sys.stdout.write("  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip() + "\n")


def _top_help(prog: str, about: str, groups: dict[str, Group]) -> str:
    out = [f"usage: {prog} [--town PATH] [--version] COMMAND [ARGS]", "", about, ""]
    sections: dict[str, list[tuple[str, str]]] = {}
    for name, g in groups.items():
        sections.setdefault(g.section, []).append((name, g.help))
    width = max(len(n) for n in groups) + 2
    for section, items in sections.items():
        out.append(f"{section}:")
        out.extend(f"  {n.ljust(width)}{h}" for n, h in items)
        out.append("")
    out.append(f"Run '{prog} COMMAND --help' for a command's options.")
    return "\n".join(out) + "\n"


def run(prog: str, about: str, groups: dict[str, Group], argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    return guarded(prog, lambda: _run(prog, about, groups, argv), argv)


def guarded(prog: str, body: Callable[[], int], argv: Sequence[str] = ()) -> int:
    """Run a command body the way every command runs: errors as one sentence and their exit code."""
    try:
        check_arguments(prog, argv)
        return body()
    except GtError as e:
        return report(prog, e)
    except KeyboardInterrupt:
        sys.stderr.write(f"{prog}: interrupted.\n")
        return 130
    except BrokenPipeError:
        # `gt ... | head`: the reader went away; that is not our failure.
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        except OSError:
            pass
        return 0
    except (OSError, UnicodeError) as e:  # every command: a read-only store, a full disk, a long name
        if os.environ.get("GT_DEBUG"):
            raise
        from gastown_tui.errors import fault_error

        return report(prog, fault_error(e))


def check_arguments(prog: str, argv: Sequence[str]) -> None:
    """Arguments that are not valid UTF-8 (undecodable bytes arrive as surrogates) are refused up
    front, before any of them can reach a file half-written."""
    for n, a in enumerate(argv, 1):
        try:
            a.encode("utf-8")
        except UnicodeEncodeError:
            shown = a.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            raise UsageError(f"{prog}: argument {n} ('{shown[:60]}') is not valid UTF-8",
                             hint="pass text in UTF-8 (check the terminal's locale)") from None


def report(prog: str, e: GtError) -> int:
    """Print a GtError as its one sentence (sanitized: messages quote data); return its exit code."""
    if os.environ.get("GT_DEBUG"):
        raise e
    from gastown_tui.infra.termtext import clean_line

    msg = clean_line(str(e))  # messages quote data (ids, names): never raw to the terminal
    sys.stderr.write(f"{prog}: {msg}\n" if not msg.startswith(prog) else f"{msg}\n")
    return e.exit_code


def _run(prog: str, about: str, groups: dict[str, Group], argv: list[str]) -> int:
    # Global options may precede the command: `gt --town X rig list`.
    town: str | None = None
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        a = argv[i]
        if a in ("-h", "--help"):
            sys.stdout.write(_top_help(prog, about, groups))
            return 0
        if a in ("-V", "--version"):
            sys.stdout.write(f"{prog} {__version__}\n")
            return 0
        if a == "--town":
            if i + 1 >= len(argv):
                raise UsageError(f"{prog}: --town needs a PATH", hint="for example '--town ~/gt'")
            town = argv[i + 1]
            i += 2
            continue
        if a.startswith("--town="):
            town = a.split("=", 1)[1]
            i += 1
            continue
        break
    rest = argv[i:]
    if not rest:
        sys.stdout.write(_top_help(prog, about, groups))
        return 2
    name, rest = rest[0], rest[1:]
    group = groups.get(name)
    if group is None:
        import difflib

        close = difflib.get_close_matches(name, list(groups), n=3)
        hint = f"did you mean {' or '.join(repr(c) for c in close)}?" if close else f"run '{prog} --help' to list commands"
        raise UsageError(f"{prog}: unknown command '{name}'", hint=hint)
    parser = parser_class()(prog=prog, add_help=False)
    sub = parser.add_subparsers(dest="_cmd")
    import importlib

    module = importlib.import_module(group.module)
    cmd_parser = command(sub, name, group.help)
    module.register(cmd_parser)
    args, extra = parser.parse_known_args([name, *rest])
    if extra:
        where = getattr(args, "_prog", prog)
        raise UsageError(f"{where}: unrecognized arguments: {' '.join(extra)}",
                         hint=f"run '{where} --help' for usage")
    if town is not None and not hasattr(args, "town"):
        args.town = town
    if not hasattr(args, "town"):
        args.town = None
    args.prog = prog
    func = getattr(args, "func", None)
    if func is None:
        cmd_parser.print_help()
        return 2
    return invoke(func, args)


def invoke(func: Callable[[Any], int | None], args: Any) -> int:
    """Call a command function with its human output made terminal-safe (not with --json)."""
    # `_terminal` (set_defaults): "clean" (default), "sgr" (keep colours: pane captures) or "raw".
    with human_output(bool(getattr(args, "json", False)), getattr(args, "_terminal", "clean")):
        result = func(args)
    return 0 if result is None else int(result)
