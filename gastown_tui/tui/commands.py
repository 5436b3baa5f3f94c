"""The command palette (ctrl+p): every cockpit action, searchable."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

# (title, action, help). The same table feeds the `?` help screen and the `:` command line.
ACTIONS: list[tuple[str, str, str]] = [
    ("Sling a bead", "sling", "pick a ready bead, then a rig or agent (s)"),
    ("Nudge the selected agent", "nudge", "type a message into its session (n)"),
    ("Attach to the selected agent", "attach", "hand the terminal to tmux; detach to return (enter)"),
    ("Peek at the selected agent", "peek", "its output full screen (p)"),
    ("Agent detail", "agent_detail", "hook, molecule, mail, events, diff (d)"),
    ("Compose mail", "compose", "new message (m)"),
    ("Create a convoy", "convoy", "from the marked beads (c)"),
    ("Escalations", "escalations", "list and acknowledge (e)"),
    ("Next agent needing attention", "next_attention", "waiting, stalled, dead, escalated, merge failed (b)"),
    ("Beads", "beads", "every bead: filter, sort, create, close, sling (B)"),
    ("Merge queue", "merge_queue", "MRs waiting for the refinery (M)"),
    ("Filter the focused pane", "filter", "(/)"),
    ("Command line", "command_line", "(:)"),
    ("Switch theme", "cycle_theme", "(t)"),
    ("Toggle whose inbox", "toggle_inbox", "overseer / selected agent (i in the mail pane)"),
    ("Type into the selected agent", "type_into", "input mode on the output pane; esc leaves (i)"),
    ("Refresh now", "refresh_now", "reload the snapshot (ctrl+r)"),
    ("Help", "help", "every key (?)"),
    ("Quit", "quit", "(q)"),
]


class CockpitCommands(Provider):
    async def discover(self) -> Hits:
        for title, action, help in ACTIONS:
            yield DiscoveryHit(title, partial(self.app.run_action, action), help=help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, action, help in ACTIONS:
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self.app.run_action, action), help=help)
