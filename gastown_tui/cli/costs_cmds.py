"""`gt costs`: token use and spend per day, agent, rig and model, from the runtimes' own records."""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

DESCRIPTION = """\
Token use and cost, read from each runtime's own usage records:
  claude  Claude Code transcripts ($CLAUDE_CONFIG_DIR or ~/.claude, projects/<workdir>/*.jsonl)
  codex   Codex session logs ($CODEX_HOME or ~/.codex, sessions/**/rollout-*.jsonl)
  sim     the sim agent's .runtime/sim/usage.jsonl — always SIMULATED, never in the real total
Usage is attributed to the agent whose working directory it ran in. Prices (USD per million
tokens) come from [costs.prices] in settings/config.toml over built-in defaults, e.g.

  [costs.prices]
  "claude-opus-4*" = { input = 15, output = 75, cache_read = 1.5, cache_write = 18.75 }

Examples:
  gt costs                       today and the last 7 days, by day
  gt costs --since 7d --by-rig   the weekly review
  gt costs --by-agent --json     per agent over the window
  gt costs --current --json      per running agent, its current session only (what the cockpit shows)
  gt costs spike                 check the last hours against costs.spike_usd_per_hour
"""


def register(p: argparse.ArgumentParser) -> None:
    from gastown_tui.cli.framework import add_json

    p.description = DESCRIPTION
    p.add_argument("verb", nargs="?", choices=["spike"], help="spike: check for a cost spike now (escalates one)")
    p.add_argument("--since", default=None, metavar="DURATION", help="how far back: 1h, 24h, 7d (default), 30d, or 'all'")
    p.add_argument("--by-agent", action="store_true", help="a row per agent")
    p.add_argument("--by-rig", action="store_true", help="a row per rig")
    p.add_argument("--by-model", action="store_true", help="a row per model")
    p.add_argument("--current", action="store_true",
                   help="per running agent, only its current session (from its tmux session's start; implies --by-agent)")
    p.add_argument("--by-day", action="store_true", help="a row per day (the default when no other --by is given)")
    add_json(p)
    p.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    from gastown_tui.cli.common import town_of
    from gastown_tui.work import costs
    from gastown_tui.work.feed import since_epoch

    town = town_of(args)
    if args.verb == "spike":
        if args.current or args.since is not None:
            from gastown_tui.errors import UsageError

            raise UsageError("'gt costs spike' checks the last hour against costs.spike_usd_per_hour; "
                             "--current and --since do not apply", hint="run it without them")
        found = costs.check_spike(town)
        if args.json:
            from gastown_tui.cli.framework import print_json

            print_json(found or {"spike": None})
        elif found:
            print(f"cost spike: ${found['usd']:.2f} in the hour {found['hour']}:00 UTC "
                  f"(limit ${found['limit']:.2f}/h): escalated {found['escalation']}")
        else:
            print("no cost spike (or already escalated for this hour)")
        return 0
    if args.current and args.since is not None:
        from gastown_tui.errors import UsageError

        raise UsageError("--current counts each running agent from its session's start, so --since does not apply",
                         hint="drop --since, or drop --current for a window of time")
    window = args.since or "7d"
    since = None if window == "all" else since_epoch(window)
    by = [g for g, on in (("day", args.by_day), ("agent", args.by_agent or args.current), ("rig", args.by_rig),
                          ("model", args.by_model)) if on] or ["day"]
    sessions = None
    if args.current:
        from gastown_tui.errors import GtError

        try:
            sessions = costs.session_starts(town)
        except GtError:
            sessions = {}  # no tmux server: no agent has a current session
        since = None
    rep = costs.report(town, since=since, by=by, sessions=sessions)
    if args.json:
        from gastown_tui.cli.framework import print_json

        print_json(rep)
        return 0
    _print(rep, window, args.current)
    return 0


def _tokens(n: int) -> str:
    if n >= 10_000_000:
        return f"{n / 1e6:.0f}M"
    if n >= 1_000_000:
        return f"{n / 1e6:.1f}M"
    if n >= 10_000:
        return f"{n / 1e3:.0f}k"
    return str(n)


def _print(rep: dict, since: str, current: bool = False) -> None:
    from gastown_tui.cli.framework import print_table
    from gastown_tui.infra.termtext import clean as sanitize

    out = sys.stdout
    window = ("current sessions" if current else
              "all time" if since == "all" else f"since {rep['since']} ({since})")
    out.write(f"Costs {window}\n")
    real, sim = rep["total_cost_usd"], rep["simulated_cost_usd"]
    out.write(f"  total ${real:,.2f}" + (f"   simulated ${sim:,.2f} (sim agent, not real spend)" if sim else "") + "\n")
    if not rep["rows"]:
        out.write("  no usage recorded in this window\n")
        return
    out.write("\n")
    groups = rep["group_by"]
    rows = []
    for r in rep["rows"]:
        rows.append([*(sanitize(str(r.get(g) or "-")) for g in groups),
                     _tokens(r["input_tokens"]), _tokens(r["output_tokens"]),
                     _tokens(r["cache_read_tokens"]), _tokens(r["cache_write_tokens"]),
                     f"${r['cost_usd']:,.2f}" + (" *" if r["simulated"] else ""), ",".join(r["sources"])])
    print_table(rows, [*groups, "input", "output", "cache read", "cache write", "cost", "source"])
    if rep["simulated_cost_usd"]:
        out.write("\n* simulated: the sim agent's made-up usage, priced for show\n")
