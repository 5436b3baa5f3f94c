"""`gt prime`: what an agent reads first — its role, its hooked work, its mail (DESIGN §7).

Written for a real Claude Code / Codex session: plain Markdown, concrete commands, the rule that
work on the hook starts at once (GUPP), when to run `gt done`, and how to ask for help.
"""

from __future__ import annotations

from gastown_tui.town.identity import Agent
from gastown_tui.town.layout import Town

ROLE_TEXT = {
    "polecat": """\
You are **{address}**, a polecat: a worker with your own git worktree at `{workdir}`
on branch `{branch}`. You exist to finish the bead on your hook, then hand it in.

Rules:
1. Work on your hook starts NOW. Do not wait for confirmation (GUPP: if it is on your hook, you run it).
2. Work only inside your worktree. Commit as you go (`git add -A && git commit -m "<bead-id>: ..."`).
3. Keep the bead updated: `bd update <bead-id> --notes "..."` for progress worth keeping.
4. When the work is done and committed, run `gt done`. It pushes your branch, files a merge
   request for the refinery, and tells the witness. Then stop and wait.
5. Stuck, blocked, or the task is wrong? Run `gt done --status ESCALATED -m "why"` (or
   `gt mail send {rig}/witness -s "HELP {name}" -m "..."` to ask without giving up the bead).
   Out of time or should be done later: `gt done --status DEFERRED -m "why"`.
6. Check mail with `gt mail inbox`; a REWORK_REQUEST means: fix, commit, `gt done` again.
""",
    "crew": """\
You are **{address}**, a crew member: a persistent workspace (a full clone at `{workdir}`)
directed by the overseer. Take work from your hook (`gt hook`) or from `bd ready`. You work on
`main` and push to it yourself (`git pull --rebase && git push`); no merge queue. When the work
on your hook is done, run `gt done`: it commits leftovers, pushes to main, closes the bead and
tells the mayor. Work in another rig with `gt worktree RIG`. Ask for help with
`gt mail send mayor -s "..." -m "..."`.
""",
    "mayor": """\
You are **the mayor**, the town's coordinator. You do not write code yourself: you file beads
(`bd create`), group them in convoys (`gt convoy create`), give them to rigs (`gt sling BEAD RIG`),
and watch progress (`gt convoy list`, `gt polecat list`, `gt mail inbox`). Escalations come to you.
""",
    "witness": """\
You are **{address}**, the witness of rig {rig}: watch its polecats, nudge stalled ones, handle
POLECAT_DONE mail (send MERGE_READY to the refinery), clean up after MERGED.
""",
    "refinery": """\
You are **{address}**, the refinery of rig {rig}: merge MRs in priority order onto the default
branch after rebasing and running the rig's tests; report MERGED / MERGE_FAILED / REWORK_REQUEST.
""",
    "deacon": """\
You are **the deacon**, the town's supervisor: keep witnesses and refineries alive, re-escalate
stale escalations.
""",
}


def molecule_steps(town: Town, bead_id: str) -> list[dict]:
    """The bead's child steps (a molecule's checklist), in id order."""
    try:
        from gastown_tui.beads.routes import store_for_id

        kids = store_for_id(town.root, bead_id).children(bead_id)
    except Exception:  # noqa: BLE001 - a bead without a store or children has no checklist
        return []
    return [{"id": k.id, "title": k.title, "status": k.status} for k in kids]


def pending_escalations_block(town: Town) -> str:
    """The mayor's startup check (concepts reference §4): open, unacknowledged escalations by severity."""
    from gastown_tui.work.escalation import SEVERITIES, list_escalations

    try:
        pending = [e for e in list_escalations(town) if not e.data.get("acked_by")]
    except Exception:  # noqa: BLE001 - a town without a readable store has nothing pending to show
        return ""
    if not pending:
        return ""
    counts = {s: sum(1 for e in pending if e.data.get("severity", "medium") == s) for s in SEVERITIES}
    # Line for line as the reference prints it (no blank lines inside the block).
    lines = ["## PENDING ESCALATIONS", f"There are {len(pending)} escalation(s) awaiting attention:"]
    lines += [f"{s.upper()}: {n}" for s, n in counts.items() if n]
    lines.append("")
    lines += [f"- {e.id} [{e.data.get('severity', 'medium')}] {e.title} (to {e.data.get('routed_to', '?')})"
              for e in pending[:10]]
    if len(pending) > 10:
        lines.append(f"- ... and {len(pending) - 10} more")
    lines += ["", "Take one with `gt escalate ack ID`; see them all with `gt escalate list`."]
    return "\n".join(lines)


def render_prime(town: Town, agent: Agent, *, hook_only: bool = False) -> str:
    """The Markdown `gt prime` prints for `agent`."""
    from gastown_tui.work.hook import hook_info

    info = hook_info(town, agent)
    bead = info["bead"]
    parts: list[str] = []
    if agent.role == "mayor" and not hook_only:
        block = pending_escalations_block(town)
        if block:
            parts.append(block)
    unread: list[dict] = []
    if not hook_only:
        try:
            from gastown_tui.work.mail import inbox

            unread = inbox(town, agent.address, unread_only=True) if agent.role != "overseer" else []
        except Exception:  # noqa: BLE001
            unread = []
        from gastown_tui.work.handoff import latest_handoff

        ho = latest_handoff(unread, agent.address)
        if ho is not None:  # a handoff from the previous session comes first
            parts.append(f"# Handoff from your previous session ({ho['id']})\n\n{ho['body'].strip()}\n\n"
                         f"Acknowledge it with `gt mail ack {ho['id']}` once you have picked it up.")
    if not hook_only:
        text = ROLE_TEXT.get(agent.role, "You are {address}.\n")
        parts.append("# Gas Town: your role\n\n" + text.format(
            address=agent.address, workdir=info["workdir"], branch=info.get("branch") or "(your branch)",
            rig=agent.rig or "", name=agent.name or ""))
    if bead is None:
        parts.append("## Your hook\n\nNothing is on your hook. "
                     + ("Wait for work; the witness or the mayor will sling some to you."
                        if agent.role == "polecat" else "Pick work with `bd ready` or ask the mayor."))
    else:
        lines = [f"## Your hook: {bead['id']} — {bead['title']}", "",
                 f"Priority P{bead['priority']} · type {bead['type']} · status {bead['status']}"]
        if bead["labels"]:
            lines.append("Labels: " + ", ".join(bead["labels"]))
        lines += ["", bead["description"].strip() or "(no description)", ""]
        steps = molecule_steps(town, bead["id"])
        if steps:
            lines.append("### Checklist (molecule steps; close each with `bd close <id>`)")
            for s in steps:
                mark = "x" if s["status"] == "closed" else " "
                lines.append(f"- [{mark}] {s['id']}: {s['title']}")
            lines.append("")
        from gastown_tui.work.molecules import checklist_for_bead  # molecules (issue 7)

        mol_text = checklist_for_bead(town, bead["id"], me=agent.address)
        if mol_text:
            lines += ["### Molecule checklist (walk it with `bd close <step> --continue`)", "", "```", mol_text, "```", ""]
        if agent.role == "polecat":
            lines += ["### Do this now", "",
                      "1. Make the change the bead asks for, in this worktree.",
                      f'2. Commit: `git add -A && git commit -m "{bead["id"]}: <what you did>"`',
                      "3. Run `gt done`.", ""]
        parts.append("\n".join(lines))
    if not hook_only:
        if unread:
            parts.append(f"## Mail: {len(unread)} unread\n\n"
                         + "\n".join(f"- {m['id']} from {m['from']}: {m['subject']}" for m in unread[:10])
                         + "\n\nRead one with `gt mail read ID`.")
    return "\n\n".join(p.rstrip() for p in parts) + "\n"
