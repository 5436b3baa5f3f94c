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
    # Work
    "sling": Group("gastown_tui.cli.work_cmds", "put beads on agents' hooks (spawning polecats)", "Work"),
    "hook": Group("gastown_tui.cli.work_cmds", "show the bead on an agent's hook", "Work"),
    "unsling": Group("gastown_tui.cli.work_cmds", "take a bead off a hook", "Work"),
    "prime": Group("gastown_tui.cli.work_cmds", "print an agent's role, hooked work and unread mail", "Work"),
    "done": Group("gastown_tui.cli.work_cmds", "hand in a polecat's work (branch, merge request, witness)", "Work"),
    "mail": Group("gastown_tui.cli.mail_cmds", "send and read mail between agents", "Work"),
    "convoy": Group("gastown_tui.cli.convoy_cmds", "track batches of beads across rigs", "Work"),
    "polecat": Group("gastown_tui.cli.polecat_cmds", "list, inspect and remove polecats (workers)", "Work"),
    "crew": Group("gastown_tui.cli.crew_cmds", "persistent workspaces for humans", "Work"),
    "worktree": Group("gastown_tui.cli.crew_cmds", "a crew member's checkout in another rig, identity kept", "Work"),
    "namepool": Group("gastown_tui.cli.namepool_cmds", "polecat name themes", "Work"),
    # Supervision (issue 6)
    "up": Group("gastown_tui.cli.lifecycle_cmds", "bring the fleet up: daemon, deacon, mayor, witnesses, refineries", "Supervision"),
    "down": Group("gastown_tui.cli.lifecycle_cmds", "stop every session and the daemon; keep state and worktrees", "Supervision"),
    "start": Group("gastown_tui.cli.lifecycle_cmds", "start the deacon and mayor (--all: the whole fleet)", "Supervision"),
    "shutdown": Group("gastown_tui.cli.lifecycle_cmds", "stop sessions and remove finished polecats", "Supervision"),
    "doctor": Group("gastown_tui.cli.lifecycle_cmds", "check the town's health (--fix repairs safe problems)", "Supervision"),
    "daemon": Group("gastown_tui.cli.daemon_cmds", "the background ticker: boot the deacon, commit beads", "Supervision"),
    "deacon": Group("gastown_tui.cli.patrol_cmds", "the town supervisor patrol (run, start, stop, status)", "Supervision"),
    "witness": Group("gastown_tui.cli.patrol_cmds", "a rig's polecat supervisor patrol", "Supervision"),
    "refinery": Group("gastown_tui.cli.patrol_cmds", "a rig's merge-queue patrol", "Supervision"),
    "mq": Group("gastown_tui.cli.mq_cmds", "a rig's merge queue: list, status, retry, reject", "Supervision"),
    "escalate": Group("gastown_tui.cli.escalate_cmds", "raise, list, acknowledge and close escalations", "Supervision"),
    # Operations (issue 16)
    "feed": Group("gastown_tui.cli.feed_cmds", "the town's activity as it happens: work, mail, escalations", "Operations"),
    "trail": Group("gastown_tui.cli.trail_cmds", "recent output of agents and what they last did", "Operations"),
    "orphans": Group("gastown_tui.cli.orphans_cmds", "sessions, worktrees, branches, beads ... that belong to nothing", "Operations"),
    "cleanup": Group("gastown_tui.cli.orphans_cmds", "remove what 'gt orphans' lists as safe (--dry-run, --force)", "Operations"),
    "handoff": Group("gastown_tui.cli.handoff_cmds", "hand off to a fresh session: HANDOFF mail, same hook, restart", "Operations"),
    "warrant": Group("gastown_tui.cli.warrant_cmds", "stop a stuck agent in a controlled way: file, list, execute", "Operations"),
    "patrol": Group("gastown_tui.cli.krc_cmds", "patrol digests: one bead per patrol and day, records removed", "Operations"),
    "krc": Group("gastown_tui.cli.krc_cmds", "time-to-live lifecycle of heartbeats, wisps, patrol checks, logs", "Operations"),
    "dog": Group("gastown_tui.cli.dog_cmds", "the deacon's chore jobs: list, status, run", "Operations"),
    "plugin": Group("gastown_tui.cli.dog_cmds", "town and rig plugins: scheduled commands and custom gate types", "Operations"),
    "costs": Group("gastown_tui.cli.costs_cmds", "token use and spend per day, agent, rig and model", "Operations"),
    # Cockpit (issue 8)
    "tui": Group("gastown_tui.cli.tui_cmds", "the cockpit: every agent, live output, convoys, mail, feed", "Cockpit"),
    "demo": Group("gastown_tui.cli.tui_cmds", "build a demo town with sim agents and open the cockpit", "Cockpit"),
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    quick = quick_args(argv)
    if quick is not None:  # the same command function, without building an argparse tree
        from gastown_tui.cli.framework import guarded

        return guarded("gt", lambda: int(quick.func(quick) or 0))
    return run("gt", ABOUT, GROUPS, argv)


class _Args:
    """argparse.Namespace's behaviour for a command function (attributes, `vars()`)."""

    def __init__(self, **kw) -> None:
        self.__dict__.update(kw)


def quick_args(argv: list[str]):
    """`gt [--town T] mail inbox [ADDR] [--unread] [--all] [--type T] [--json]` (agents poll it),
    parsed into exactly the Namespace argparse builds (tests/unit/test_gt_quick_args.py), or None."""
    town = None
    if argv[:1] == ["--town"] and len(argv) > 2 and argv[1] and not argv[1].startswith("-"):
        town, argv = argv[1], argv[2:]
    if argv[:2] != ["mail", "inbox"]:
        return None
    out = {"json": False, "address": None, "unread": False, "all": False, "msg_type": None, "human": False}
    rest = argv[2:]
    i = 0
    while i < len(rest):
        a = rest[i]
        if a in ("--json", "--unread", "--all"):
            out[a[2:]] = True
        elif a == "--type" and i + 1 < len(rest) and rest[i + 1] and not rest[i + 1].startswith("-"):
            out["msg_type"] = rest[i + 1]
            i += 1
        elif a.startswith("-") or not a or out["address"] is not None:
            return None  # anything else: argparse
        else:
            out["address"] = a
        i += 1
    from gastown_tui.cli import mail_cmds

    return _Args(_cmd="mail", _gt_mail_cmd="inbox", _prog="gt mail inbox", func=mail_cmds._inbox, town=town,
                 prog="gt", **out)


if __name__ == "__main__":
    sys.exit(main())
