"""Helpers shared by command modules."""

from __future__ import annotations

import argparse

from gastown_tui.town.layout import Town, find_town


def town_of(args: argparse.Namespace) -> Town:
    return find_town(getattr(args, "town", None))


def say(text: str) -> None:
    print(text, flush=True)


def current_rig(town: Town, given: str | None = None, *, what: str = "this command") -> str:
    """The rig named on the command line, else the one you stand in (directory, then $GT_RIG).

    The documents run `gt mq status` or `gt witness attach` from inside a rig; a name given
    explicitly must exist.
    """
    import os
    from pathlib import Path

    from gastown_tui.errors import UsageError

    if given:
        town.require_rig(given)
        return given
    rigs = town.rigs()
    try:
        rel = Path.cwd().resolve().relative_to(town.root.resolve()).parts
    except ValueError:
        rel = ()
    if rel and rel[0] in rigs:
        return rel[0]
    env_rig = os.environ.get("GT_RIG")
    if env_rig and env_rig in rigs:
        return env_rig
    raise UsageError(f"which rig? {what} needs a RIG, and {Path.cwd()} is not inside one",
                     hint=f"name it (rigs: {', '.join(sorted(rigs)) or 'none yet'}) or cd into {town.root}/<rig>")
