"""A fixed TownSnapshot and fixed pane text, so cockpit snapshots are deterministic."""

from __future__ import annotations

from dataclasses import replace

from gastown_tui.work.snapshot import (AgentView, BeadView, ConvoyView, EscalationView, EventView, MailView,
                                       RigView, TownSnapshot)

T0 = 1_800_000_000.0


def _a(address, role, rig=None, name=None, state="idle", hook="", title="", unread=0):
    session = {"mayor": "gt-mayor", "deacon": "gt-deacon"}.get(role) or (
        f"gt-{rig}-{role}" if role in ("witness", "refinery") else
        f"gt-{rig}-crew-{name}" if role == "crew" else f"gt-{rig}-{name}")
    return AgentView(address, role, rig, name, session, state, hook, title, unread, activity=T0 - 3, runtime="sim")


def fixed_snapshot() -> TownSnapshot:
    g = "gastown"
    rigs = (
        RigView(g, "gt", False, 2, (
            _a(f"{g}/witness", "witness", g, state="working"),
            _a(f"{g}/refinery", "refinery", g, state="idle"),
            _a(f"{g}/crew/max", "crew", g, "max", "idle", unread=1),
            replace(_a(f"{g}/polecats/furiosa", "polecat", g, "furiosa", "working", "gt-a1b", "Add retry to fetch"),
                    mol_done=2, mol_total=5, since=T0 - 125, tokens=48_210, cost_usd=0.42, context_pct=37,
                    ahead=2, dirty=3),
            replace(_a(f"{g}/polecats/nux", "polecat", g, "nux", "stalled", "gt-c3d", "Fix flaky test"),
                    since=T0 - 14 * 60, tokens=120_400, cost_usd=1.07, context_pct=86, ahead=1, dirty=0),
            replace(_a(f"{g}/polecats/slit", "polecat", g, "slit", "waiting", "gt-e5f", "Bump deps"),
                    since=T0 - 40, tokens=9_800, cost_usd=0.08, simulated=True, ahead=0, dirty=1),
        )),
        RigView("beads", "bd", False, 0, (
            _a("beads/witness", "witness", "beads", state="idle"),
            _a("beads/refinery", "refinery", "beads", state="idle"),
            _a("beads/polecats/toast", "polecat", "beads", "toast", "dead", "bd-x9", "Port the merge driver"),
        )),
    )
    town_agents = (replace(_a("mayor", "mayor", state="working", unread=2), since=T0 - 3 * 3600, tokens=2_300_000,
                           cost_usd=6.9, context_pct=52),
                   replace(_a("deacon", "deacon", state="idle"), since=T0 - 50 * 60))
    tracked = (BeadView("gt-a1b", "Add retry to fetch", "hooked", 1, "task", f"{g}/polecats/furiosa", rig=g),
               BeadView("gt-c3d", "Fix flaky test", "closed", 2, "bug", rig=g),
               BeadView("gt-e5f", "Bump deps", "hooked", 2, "chore", f"{g}/polecats/slit", rig=g))
    convoys = (ConvoyView("hq-cv-7k2p1", "Release 0.3", "open", tracked),
               ConvoyView("hq-cv-aa001", "Docs sweep", "closed", (BeadView("gt-d0c", "Docs", "closed", rig=g),)))
    inbox = (MailView("hq-m1", "mayor", "overseer", "Convoy Release 0.3 is half done", "Two of three beads remain.", True,
                      "2027-01-15T08:00:00Z"),
             MailView("hq-m2", "gastown/witness", "overseer", "nux looks stalled", "No output for 12 minutes.", False,
                      "2027-01-15T07:00:00Z"))
    mail = {"overseer": inbox, "mayor": (MailView("hq-m3", "overseer", "mayor", "Plan the release", "", True),
                                         MailView("hq-m4", "gastown/witness", "mayor", "Patrol report", "", True)),
            f"{g}/crew/max": (MailView("hq-m5", "mayor", f"{g}/crew/max", "Review gt-a1b", "", True),)}
    events = tuple(EventView(f"2027-01-15T08:{i:02d}:00Z", t, a, r, s) for i, (t, a, r, s) in enumerate([
        ("sling", "overseer", g, "gt-a1b → gastown/polecats/furiosa"),
        ("sling", "overseer", g, "gt-c3d → gastown/polecats/nux"),
        ("nudge", "gastown/witness", g, "nux: are you stuck?"),
        ("done", "gastown/polecats/nux", g, "gt-c3d"),
        ("merged", "gastown/refinery", g, "gt-c3d"),
        ("spawn", "beads/witness", "beads", "toast"),
        ("crash", "beads/witness", "beads", "toast exited with status 3"),
    ]))
    ready = tuple(BeadView(f"gt-r{i}", t, "open", p, "task", rig=r) for i, (t, p, r) in enumerate([
        ("Write the cockpit help screen", 1, g), ("Speed up bd list", 2, g), ("Theme loader", 2, g),
        ("Merge driver for labels", 1, "beads"), ("Document routes.jsonl", 3, "beads")]))
    escalations = (EscalationView("hq-e1", "toast crashed twice on bd-x9", "high", "open", "beads/witness"),
                   EscalationView("hq-e2", "refinery tests slow", "low", "open", "gastown/refinery", True))
    mq = (BeadView("gt-mr1", "Merge polecat/nux/gt-c3d", "open", 2, "merge-request", "gastown/polecats/nux", rig=g),
          BeadView("gt-mr2", "Merge polecat/furiosa/gt-a1b", "open", 1, "merge-request", "gastown/polecats/furiosa", rig=g))
    return TownSnapshot("demo-town", "/tmp/demo-town", T0, rigs, town_agents, convoys, inbox, mail, events, ready,
                        escalations, mq)


OUTPUT = "\n".join([
    "\x1b[1;36mgastown sim\x1b[0m v0.1 · runtime sim (simulated tokens)",
    "",
    "> check your hook",
    "\x1b[33m⠋ working on gt-a1b: Add retry to fetch",
    "  reading src/fetch.py",
    "  editing src/fetch.py\x1b[0m",
    "\x1b[32m✓ tests passed (12)\x1b[0m",
    "\x1b[38;5;244m[tokens in 1,204 · out 388 · simulated]\x1b[0m",
    "> ",
])


def fixed_source():
    from gastown_tui.tui.source import StaticSource

    snap = fixed_snapshot()
    outputs = {a.session: OUTPUT for a in snap.agents if a.state != "off"}
    beads = list(snap.ready) + [BeadView("gt-c3d", "Fix flaky test", "closed", 2, "bug", rig="gastown"),
                                BeadView("gt-a1b", "Add retry to fetch", "hooked", 1, "task",
                                         "gastown/polecats/furiosa", rig="gastown")]
    return StaticSource(snap, outputs, beads, diffs={"gastown/polecats/furiosa": "diff --git a/x b/x\n-old\n+new"})
