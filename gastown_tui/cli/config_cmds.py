"""`gt config get|set|unset|list` over settings/config.toml (comments and order survive)."""

from __future__ import annotations

import argparse

from gastown_tui.cli.common import town_of
from gastown_tui.cli.framework import command, print_json, print_table, subcommands


def register(p: argparse.ArgumentParser) -> None:
    sub = subcommands(p)
    g = command(sub, "get", "print a setting (its default when unset)", run_get, json_flag=True)
    g.add_argument("key", metavar="KEY", help="dotted key, e.g. default_agent or role_agents.polecat")
    s = command(sub, "set", "set a setting (the value is checked against the key's type)", run_set)
    s.add_argument("key", metavar="KEY")
    s.add_argument("value", metavar="VALUE")
    u = command(sub, "unset", "remove a setting (back to its default)", run_unset)
    u.add_argument("key", metavar="KEY")
    ls = command(sub, "list", "list the settings in the file, or every known key with --all", run_list,
                 aliases=["ls"], json_flag=True)
    ls.add_argument("--all", action="store_true", help="every known key with its type and default")
    register_agent_commands(sub)


def register_agent_commands(sub: argparse._SubParsersAction) -> None:
    """`gt config agent ...` lives with the runtimes; imported lazily only when present."""
    try:
        from gastown_tui.cli.agent_cmds import register_config_agent
    except ImportError:
        return
    register_config_agent(sub)


def run_get(args: argparse.Namespace) -> int:
    from gastown_tui.town.config import convert, key_spec, load_settings

    if key_spec(args.key) is None:
        convert(args.key, "")  # raises the 'not a setting' sentence
    value = load_settings(town_of(args).root).get(args.key)
    if args.json:
        print_json({"key": args.key, "value": value})
    else:
        print("" if value is None else value)
    return 0


def run_set(args: argparse.Namespace) -> int:
    from gastown_tui.town.config import convert, load_settings

    town = town_of(args)
    value = convert(args.key, args.value)
    settings = load_settings(town.root)
    _check_runtime_setting(args.key, value, settings)
    settings.set(args.key, value)
    settings.save()
    print(f"{args.key} = {value!r}")
    return 0


ROLES = ("mayor", "deacon", "witness", "refinery", "polecat", "crew")


def _check_runtime_setting(key: str, value: object, settings) -> None:
    """A runtime setting must name a runtime that exists (a preset or an [agents.NAME] table)."""
    from gastown_tui.errors import UsageError

    if key.startswith("role_agents."):
        role = key.split(".", 1)[1]
        if role not in ROLES:
            raise UsageError(f"'{role}' is not a role", hint="use one of: " + ", ".join(ROLES))
    elif key != "default_agent":
        return
    from gastown_tui.agents.runtimes import get_runtime

    get_runtime(str(value), settings)


def run_unset(args: argparse.Namespace) -> int:
    from gastown_tui.town.config import convert, key_spec, load_settings

    if key_spec(args.key) is None:
        convert(args.key, "")
    settings = load_settings(town_of(args).root)
    if settings.unset(args.key):
        settings.save()
        print(f"{args.key} unset")
    else:
        print(f"{args.key} was not set; nothing changed.")
    return 0


def run_list(args: argparse.Namespace) -> int:
    from gastown_tui.town.config import KEYS, load_settings

    settings = load_settings(town_of(args).root)
    if args.all:
        rows = [{"key": k.pattern, "type": k.type.__name__, "default": k.default,
                 "value": settings.get(k.pattern) if "*" not in k.pattern else None, "help": k.help} for k in KEYS]
        if args.json:
            print_json(rows)
        else:
            print_table([(r["key"], r["type"], repr(r["default"]), r["help"]) for r in rows],
                        ["key", "type", "default", "help"])
        return 0
    flat = settings.flat()
    if args.json:
        print_json(flat)
    else:
        for k, v in flat.items():
            print(f"{k} = {v!r}")
    return 0
