"""Helpers shared by command modules."""

from __future__ import annotations

import argparse

from gastown_tui.town.layout import Town, find_town


def town_of(args: argparse.Namespace) -> Town:
    return find_town(getattr(args, "town", None))


def say(text: str) -> None:
    print(text, flush=True)
