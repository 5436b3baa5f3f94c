"""Helpers shared by command modules."""

from __future__ import annotations

from gastown_tui.town.layout import Town, find_town

TYPE_CHECKING = False
if TYPE_CHECKING:  # argparse costs milliseconds (gettext, shutil): not for `gt mail inbox`
    import argparse


def town_of(args: argparse.Namespace) -> Town:
    return find_town(getattr(args, "town", None))


def say(text: str) -> None:
    print(text, flush=True)


def current_rig(town: Town, given: str | None = None, *, what: str = "this command") -> str:
    """The rig named on the command line, else the one you stand in (directory, then $GT_RIG).

    The documents run `gt mq status` or `gt witness attach` from inside a rig; a name given
    explicitly must exist.
    """
    from pathlib import Path

    from gastown_tui.errors import UsageError

    if given:
        town.require_rig(given)
        return given
    here = rig_here(town)
    if here is not None:
        return here
    rigs = town.rigs()
    raise UsageError(f"which rig? {what} needs a RIG, and {Path.cwd()} is not inside one",
                     hint=f"name it (rigs: {', '.join(sorted(rigs)) or 'none yet'}) or cd into {town.root}/<rig>")


def rig_here(town: Town) -> str | None:
    """The rig the current directory is in, else $GT_RIG (an agent's session), else None."""
    import os
    from pathlib import Path

    rigs = town.rigs()
    try:
        rel = Path.cwd().resolve().relative_to(town.root.resolve()).parts
    except ValueError:
        rel = ()
    if rel and rel[0] in rigs:
        return rel[0]
    env_rig = os.environ.get("GT_RIG")
    return env_rig if env_rig and env_rig in rigs else None
