"""The `gt` entry point: a static table of command groups, each imported only when invoked."""

from __future__ import annotations

import sys

from gastown_tui.cli.framework import Group, run

ABOUT = "Gas Town: run a fleet of AI coding agents on your git projects, in tmux, from one terminal."

# name -> Group(module, help, section). Modules expose `register(parser)`.
GROUPS: dict[str, Group] = {
    # Town
    "install": Group("gastown_tui.cli.town_cmds", "create a town (a workspace for rigs and agents)", "Town"),
    "rig": Group("gastown_tui.cli.rig_cmds", "add, list, show, park and configure rigs (projects)", "Town"),
    "config": Group("gastown_tui.cli.config_cmds", "get and set town settings (settings/config.toml)", "Town"),
    "status": Group("gastown_tui.cli.status_cmds", "show the town: rigs, services and agents", "Town"),
    # Agents in tmux
    "mayor": Group("gastown_tui.cli.agent_cmds", "start, stop, attach to the mayor (the town's AI coordinator)", "Agents"),
    "nudge": Group("gastown_tui.cli.agent_cmds", "type a message into an agent's session, verified", "Agents"),
    "peek": Group("gastown_tui.cli.agent_cmds", "show the last lines of an agent's screen", "Agents"),
    "session": Group("gastown_tui.cli.agent_cmds", "list, capture, attach to and kill agent tmux sessions", "Agents"),
    "dnd": Group("gastown_tui.cli.agent_cmds", "do-not-disturb for an agent: nudges are queued", "Agents"),
    "agents": Group("gastown_tui.cli.agent_cmds", "what every agent is doing (working, idle, stalled ...)", "Agents"),
    # Formulas, molecules, gates (issue 7)
    "formula": Group("gastown_tui.cli.formula_cmds", "formulas: list, show, run, dispatch, create", "Work"),
    "park": Group("gastown_tui.cli.formula_cmds", "park on a gate with a handoff; the deacon wakes you", "Work"),
    "resume": Group("gastown_tui.cli.formula_cmds", "resume after your gate opened: print your handoff", "Work"),
}


def main(argv: list[str] | None = None) -> int:
    return run("gt", ABOUT, GROUPS, argv)


if __name__ == "__main__":
    sys.exit(main())
