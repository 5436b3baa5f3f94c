"""`gt status [--json] [--watch]`: the town at a glance — rigs, services and every agent.

Services: the daemon, the deacon and each rig's witness and refinery (session state and
heartbeat age). Agents: every agent session plus every polecat directory, with its state, its
hooked bead and its unread mail. One tmux listing and one read of each store, however many agents.
"""

from __future__ import annotations

import argparse

from gastown_tui.cli.common import town_of
from gastown_tui.cli.framework import add_json, print_json


def register(p: argparse.ArgumentParser) -> None:
    add_json(p)
    p.add_argument("--watch", action="store_true", help="refresh every 2 seconds until Ctrl-C")
    p.add_argument("--interval", type=float, default=2.0, help=argparse.SUPPRESS)
    p.set_defaults(func=run_status)


def collect(town) -> dict:
    from gastown_tui.town.install import town_summary
    from gastown_tui.town.rigs import list_rigs

    data = {**town_summary(town), "rigs": list_rigs(town)}
    data.update(collect_fleet(town))
    return data


def collect_fleet(town) -> dict:
    """Services and agents (additive keys of `gt status --json`)."""
    import time

    from gastown_tui.agents.heartbeat import all_heartbeats
    from gastown_tui.agents.status import HookFacts, listing_state
    from gastown_tui.beads.store import Store
    from gastown_tui.infra.tmux import Tmux
    from gastown_tui.patrols import daemon
    from gastown_tui.patrols.witness import status_engine
    from gastown_tui.town.identity import Agent, agent_from_session
    from gastown_tui.work.hook import HOOK_STATUS, hooks_by_agent

    now = time.time()
    rigs = town.rigs()
    tm = Tmux.for_town(town)
    panes = tm.panes()
    beats = all_heartbeats(town)
    # One place decides an agent's state: the status engine (screen patterns, heartbeats, activity).
    states = {row.session: row.status for row in status_engine(town, tmux=tm).poll(panes).values()}

    def svc(agent: Agent) -> dict:
        pane = panes.get(agent.session)
        beat = beats.get(agent.session)
        return {"agent": agent.address, "session": agent.session,
                "state": "running" if pane and not pane.dead else ("dead" if pane else "stopped"),
                "heartbeat_age": round(now - float(beat["ts"]), 1) if beat else None}

    services = {"daemon": daemon.status(town), "deacon": svc(Agent("deacon")),
                "rigs": {r: {"witness": svc(Agent("witness", r)), "refinery": svc(Agent("refinery", r))}
                         for r in sorted(rigs)}}
    hooks: dict[str, str] = {}
    for r in sorted(rigs):
        bd = town.rig(r).beads_dir
        if bd.is_dir():
            for addr, iss in hooks_by_agent(Store(bd).list(status=HOOK_STATUS)).items():
                hooks.setdefault(addr, iss.id)
    unread: dict[str, int] = {}
    town_store = Store(town.beads_dir)
    for m in town_store.list(type="message", include_ephemeral=True):
        if m.assignee and "read" not in m.labels:
            unread[m.assignee] = unread.get(m.assignee, 0) + 1
    for addr, iss in hooks_by_agent(town_store.list(status=HOOK_STATUS)).items():
        hooks.setdefault(addr, iss.id)
    agents: dict[str, dict] = {}
    for s, pane in panes.items():
        a = agent_from_session(s, rigs)
        if a is None:
            continue
        idle_for = max(0.0, now - pane.activity) if pane.activity else None
        st = states.get(s)
        agents[a.address] = {"agent": a.address, "role": a.role, "rig": a.rig, "session": s,
                             "state": st.state if st else ("dead" if pane.dead else "starting"),
                             "reason": st.reason if st else "",
                             "runtime": pane.runtime, "idle_seconds": round(idle_for, 1) if idle_for is not None else None}
    for r in sorted(rigs):
        pd = town.rig(r).polecats_dir
        if pd.is_dir():
            for p in sorted(pd.iterdir()):
                if p.is_dir() and not p.name.startswith("."):
                    a = Agent("polecat", r, p.name)
                    agents.setdefault(a.address, {"agent": a.address, "role": "polecat", "rig": r,
                                                  "session": a.session,
                                                  "state": listing_state(None, now, hook=HookFacts(a.address in hooks)),
                                                  "reason": "no session",
                                                  "runtime": "",
                                                  "idle_seconds": None})
    for row in agents.values():
        row["hook"] = hooks.get(row["agent"])
        row["unread_mail"] = unread.get(row["agent"], 0)
    escalations = [e for e in town_store.list(type="escalation")]
    return {"services": services, "agents": sorted(agents.values(), key=lambda r: (r["rig"] or "", r["agent"])),
            "open_escalations": len(escalations), "overseer_unread_mail": unread.get("overseer", 0)}


def render(data: dict) -> str:
    out = [f"Town {data['name']}  ({data['path']})  owner {data['owner']}  tmux -L {data['tmux_socket']}"]
    if not data["rigs"]:
        out.append("  no rigs yet: gt rig add NAME SOURCE")
    for r in data["rigs"]:
        state = "parked" if r["parked"] else "active"
        out.append(f"  rig {r['name']:<14} {r['prefix']}-  {r['default_branch']:<8} {state:<7} "
                   f"polecats: {', '.join(r['polecats']) or '-'}")
    sv = data["services"]
    d = sv["daemon"]

    def beat(s):
        return f"{s['state']}" + (f" (heartbeat {s['heartbeat_age']:.0f}s ago)" if s["heartbeat_age"] is not None else "")

    out.append("Services:")
    out.append(f"  daemon    {'running (pid ' + str(d['pid']) + ')' if d['running'] else 'stopped'}")
    out.append(f"  deacon    {beat(sv['deacon'])}")
    for rig, s in sv["rigs"].items():
        out.append(f"  {rig}: witness {beat(s['witness'])}; refinery {beat(s['refinery'])}")
    out.append("Agents:")
    if not data["agents"]:
        out.append("  none running: gt up")
    for a in data["agents"]:
        out.append(f"  {a['agent']:<28} {a['state']:<8} hook {a['hook'] or '-':<12} mail {a['unread_mail']}")
    out.append(f"Escalations open: {data['open_escalations']}   overseer unread mail: {data['overseer_unread_mail']}")
    return "\n".join(out)


def run_status(args: argparse.Namespace) -> int:
    import time

    town = town_of(args)
    while True:
        data = collect(town)
        if args.json:
            print_json(data)
        else:
            if args.watch:
                from gastown_tui.cli.framework import raw_stdout

                raw_stdout().write("\x1b[H\x1b[2J")  # our own control sequence, past the sanitizer
            print(render(data), flush=True)
        if not args.watch:
            return 0
        time.sleep(args.interval)
