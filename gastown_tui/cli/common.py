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
