"""`gt dog list|run|status` (the deacon's chore jobs) and `gt plugin list|show|run|enable|disable`."""

from __future__ import annotations

from gastown_tui.cli.framework import command, print_json, print_table, subcommands

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse


def register(parser: argparse.ArgumentParser) -> None:
    name = parser.prog.split()[-1]
    sub = subcommands(parser)
    if name == "dog":
        from gastown_tui.patrols import dogs

        parser.description = (dogs.__doc__ or "").strip()
        command(sub, "list", "every dog, how often it runs and what it does", _dog_list, json_flag=True)
        command(sub, "status", "each dog's last run, its result and when it is due", _dog_status, json_flag=True)
        p = command(sub, "run", "run one dog now, in the foreground", _dog_run, json_flag=True)
        p.add_argument("dog", metavar="NAME")
        return
    from gastown_tui.work import plugins

    parser.description = (plugins.__doc__ or "").strip()
    command(sub, "list", "town and rig plugins", _plugin_list, json_flag=True)
    p = command(sub, "show", "one plugin's manifest and recent output", _plugin_show, json_flag=True)
    p.add_argument("plugin", metavar="NAME")
    p = command(sub, "run", "run a plugin now (its timeout applies; output logged)", _plugin_run, json_flag=True)
    p.add_argument("plugin", metavar="NAME")
    p.add_argument("--arg", default=None, help="a gate argument (GT_GATE_ARG)")
    for verb in ("enable", "disable"):
        p = command(sub, verb, f"{verb} a plugin", _plugin_enable if verb == "enable" else _plugin_disable, json_flag=True)
        p.add_argument("plugin", metavar="NAME")


def _town(args):
    from gastown_tui.cli.common import town_of

    return town_of(args)


def _every(s) -> str:
    if not s:
        return "-"
    s = float(s)
    return f"{s / 3600:g}h" if s >= 3600 else (f"{s / 60:g}m" if s >= 60 else f"{s:g}s")


def _when(ts) -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(ts))) if ts else "-"


def _dog_list(args) -> int:
    from gastown_tui.patrols.dogs import all_dogs
    from gastown_tui.infra.termtext import clean as sanitize

    items = all_dogs(_town(args))
    if args.json:
        print_json(items)
    else:
        print_table([(d["name"], _every(d["every"]), sanitize(d["description"])) for d in items], ["dog", "every", "does"])
    return 0


def _dog_status(args) -> int:
    from gastown_tui.patrols.dogs import status
    from gastown_tui.infra.termtext import clean as sanitize

    items = status(_town(args))
    if args.json:
        print_json(items)
    else:
        print_table([(d["name"], "running" if d["running"] else (d["last_status"] or "never run"), _when(d["last_start"]),
                      _when(d["next_due"]) if d["every"] else "(daemon tick)", sanitize(d["last_summary"] or ""))
                     for d in items], ["dog", "state", "last run", "next due", "result"])
    return 0


def _dog_run(args) -> int:
    from gastown_tui.patrols.dog_jobs import run_dog

    res = run_dog(_town(args), args.dog)
    if args.json:
        print_json({k: v for k, v in res.items() if k != "detail"} | {"detail": res.get("detail")})
    else:
        print(f"dog {res['name']}: {res['status']} — {res['summary']}")
    return 0 if res["status"] in ("ok", "skipped") else 1


def _plugin_list(args) -> int:
    from gastown_tui.infra.termtext import clean as sanitize
    from gastown_tui.work.plugins import list_plugins

    items = [p.to_json() for p in list_plugins(_town(args))]
    if args.json:
        print_json(items)
    elif not items:
        print("no plugins (add TOML manifests to <town>/plugins/ or <town>/<rig>/plugins/)")
    else:
        print_table([(p["name"], "error" if p["error"] else ("on" if p["enabled"] else "off"),
                      _every(p["schedule_seconds"]), "yes" if p["gate"] else "", sanitize(p["error"] or p["description"]))
                     for p in items], ["plugin", "state", "every", "gate", "description"])
    return 0


def _plugin_show(args) -> int:
    from gastown_tui.infra.termtext import clean as sanitize
    from gastown_tui.work.plugins import get_plugin, read_log

    town = _town(args)
    p = get_plugin(town, args.plugin).to_json()
    log = read_log(town, args.plugin)
    if args.json:
        print_json({**p, "log_tail": log[-4000:]})
        return 0
    for k in ("name", "path", "description", "command", "enabled", "gate", "error"):
        print(f"{k + ':':<13}{sanitize(str(p[k]))}")
    print(f"{'schedule:':<13}{_every(p['schedule_seconds'])}   timeout: {_every(p['timeout_seconds'])}")
    if log:
        print("\nrecent output:\n" + sanitize(log[-2000:]))
    return 0


def _plugin_run(args) -> int:
    from gastown_tui.infra.termtext import clean as sanitize
    from gastown_tui.work.plugins import run_plugin

    res = run_plugin(_town(args), args.plugin, gate_arg=args.arg, force=True)
    if args.json:
        print_json(res)
    else:
        print(f"plugin {res['name']}: {res['status']} (exit {res['exit']}, {res['seconds']:.1f}s)")
        if res["output"].strip():
            print(sanitize(res["output"].rstrip()))
    return 0 if res["status"] == "ok" else 1


def _set(args, on: bool) -> int:
    from gastown_tui.work.plugins import set_enabled

    p = set_enabled(_town(args), args.plugin, on).to_json()
    if args.json:
        print_json(p)
    else:
        print(f"plugin {p['name']} {'enabled' if p['enabled'] else 'disabled'}")
    return 0


def _plugin_enable(args) -> int:
    return _set(args, True)


def _plugin_disable(args) -> int:
    return _set(args, False)
