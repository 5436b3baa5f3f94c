"""Nudge channels: `gt nudge channel:<name> MSG` reaches every running agent of the channel.

Built-in channels: `all` (every agent session), `polecats`, `witnesses`, `refineries`, `crew`,
and one per rig (`<rig>`: its witness, refinery, polecats and crew). The settings may define
more, or redefine these, as lists of addresses or fnmatch patterns:

    [channels]
    reviewers = ["mayor", "demo/crew/*"]

Only agents with a session are members: a broadcast types into sessions, it never starts one.
"""

from __future__ import annotations

import fnmatch

from gastown_tui.errors import UsageError
from gastown_tui.town.identity import Agent, agent_from_session

BUILTIN = {
    "all": lambda a: True,
    "polecats": lambda a: a.role == "polecat",
    "witnesses": lambda a: a.role == "witness",
    "refineries": lambda a: a.role == "refinery",
    "crew": lambda a: a.role == "crew",
}


def running_agents(town, tmux=None) -> list[Agent]:
    from gastown_tui.infra.tmux import Tmux

    rigs = town.rigs()
    panes = (tmux or Tmux.for_town(town)).panes()
    out = [a for s, p in panes.items() if not p.dead and (a := agent_from_session(s, rigs)) is not None]
    return sorted(out)


def channel_names(town) -> list[str]:
    from gastown_tui.town.config import load_settings

    custom = load_settings(town.root).get("channels") or {}
    return sorted(set(BUILTIN) | set(town.rigs()) | set(custom if isinstance(custom, dict) else {}))


def members(town, name: str, tmux=None) -> list[Agent]:
    """The running agents `channel:<name>` reaches; UsageError for a channel nobody defined."""
    from gastown_tui.town.config import load_settings

    custom = load_settings(town.root).get("channels") or {}
    live = running_agents(town, tmux)
    if isinstance(custom, dict) and name in custom:
        patterns = [str(p) for p in custom[name] or ()]
        return [a for a in live if any(fnmatch.fnmatchcase(a.address, p) for p in patterns)]
    if name in BUILTIN:
        return [a for a in live if BUILTIN[name](a)]
    if name in town.rigs():
        return [a for a in live if a.rig == name]
    raise UsageError(f"there is no nudge channel '{name}'",
                     hint=f"channels: {', '.join(channel_names(town))}; define one under [channels] in settings/config.toml")
