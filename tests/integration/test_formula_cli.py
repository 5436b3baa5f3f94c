"""Formulas from the command line: listing, bad files, pouring, sling --formula + prime + walking, convoy runs."""

from __future__ import annotations

import json

import pytest

from gastown_tui.beads.codec import ts_key
from gastown_tui.beads.store import Store
from gastown_tui.town.identity import Agent
from tests.conftest import run_cli, wait_for

BUILTINS = {"polecat-work", "code-review", "release", "design", "witness-patrol", "refinery-patrol", "deacon-patrol"}


def gt(town, *args, cwd=None, env=None):
    return run_cli("gt", *args, cwd=cwd or town.root, env=env)


def bd(town, *args, cwd=None, env=None):
    return run_cli("bd", *args, cwd=cwd or town.root, env=env)


def test_formula_list_json_has_the_builtins(town):
    r = gt(town, "formula", "list", "--json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert len([x for x in rows if x["source"] == "builtin"]) >= 6
    assert BUILTINS <= {x["name"] for x in rows}
    for x in rows:
        assert set(x) == {"name", "type", "description", "path", "source", "shadows"}
        assert x["type"] in ("workflow", "convoy", "expansion")
    show = json.loads(gt(town, "formula", "show", "code-review", "--json").stdout)
    assert show["type"] == "convoy" and [s["id"] for s in show["steps"]][-1] == "synthesis"
    assert {v["name"] for v in show["vars"]} == {"target", "base_branch"}
    text = gt(town, "formula", "show", "release").stdout
    assert "version" in text and "needs preflight" in text
    bad = gt(town, "formula", "show", "relase")
    assert bad.returncode == 1 and "did you mean release" in bad.stderr


@pytest.mark.parametrize("name,vars_", [("release", ["version=1.0"]), ("code-review", ["target=feat"]),
                                        ("design", ["topic=cache"])])
def test_bd_mol_pour_json_shape(town, name, vars_):
    args = [a for v in vars_ for a in ("--var", v)]
    r = bd(town, "mol", "pour", name, *args, "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert set(out) >= {"id", "formula", "ephemeral", "vars", "steps"}
    assert out["formula"] == name and not out["ephemeral"] and "-mol-" in out["id"]
    by_step = {s["step"]: s for s in out["steps"]}
    show = json.loads(gt(town, "formula", "show", name, "--json").stdout)
    for s in show["steps"]:
        assert sorted(by_step[n]["id"] for n in s["needs"]) == sorted(by_step[s["id"]]["needs"])
    prog = json.loads(bd(town, "mol", "progress", out["id"], "--json").stdout)
    assert prog["total"] == len(show["steps"]) and prog["done"] == 0


BAD = {
    "syntax": ('formula = "syntax"\n[[steps]]\nid = "a"\ntitle = "unterminated\n', 4, "TOML syntax error"),
    "missing": ('formula = "missing"\n[[steps]]\nid = "a"\n\n[[steps]]\nid = "b"\nneeds = ["nope"]\n', 7, "needs 'nope'"),
    "cycle": ('formula = "cycle"\n[[steps]]\nid = "a"\nneeds = ["b"]\n[[steps]]\nid = "b"\nneeds = ["a"]\n', 3, "cycle"),
    "needsvar": ('formula = "needsvar"\n[vars.who]\nrequired = true\n[[steps]]\nid = "a"\ntitle = "hi {{who}}"\n', 2,
                 "needs var 'who'"),
    "undeclared": ('formula = "undeclared"\n[[steps]]\nid = "a"\n\ntitle = "hi {{ghost}}"\n', 5, "not a declared var"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_formulas_name_file_and_line_and_pour_nothing(town, case):
    text, line, words = BAD[case]
    town.formulas_dir.mkdir(exist_ok=True)
    path = town.formulas_dir / f"{case}.formula.toml"
    path.write_text(text)
    before = (town.beads_dir / "issues.jsonl").read_text()
    r = bd(town, "mol", "pour", case)
    assert r.returncode == 2, r.stderr
    err = r.stderr.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.startswith(f"bd: {path}:{line}:"), err
    assert words in err
    assert (town.beads_dir / "issues.jsonl").read_text() == before
    listed = {x["name"]: x for x in json.loads(gt(town, "formula", "list", "--json").stdout)}
    if case in ("syntax",):
        assert listed[case]["type"] == "invalid"


def test_unknown_var_is_refused(town):
    r = bd(town, "mol", "pour", "release", "--var", "version=1", "--var", "colour=red")
    assert r.returncode == 2 and "has no var 'colour'" in r.stderr and "release.formula.toml:" in r.stderr
    r = bd(town, "mol", "pour", "release", "--var", "oops")
    assert r.returncode == 2 and "KEY=VALUE" in r.stderr


def test_formula_create_town_and_rig_then_shadowing(rig_town):
    town = rig_town
    r = gt(town, "formula", "create", "nightly", "--description", "nightly checks", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["path"] == str(town.formulas_dir / "nightly.formula.toml")
    r = gt(town, "formula", "create", "release", "--rig", "demo")
    assert r.returncode == 0, r.stderr
    rows = {x["name"]: x for x in json.loads(gt(town, "formula", "list", "--rig", "demo", "--json").stdout)}
    assert rows["nightly"]["source"] == "town" and rows["release"]["source"] == "rig"
    assert rows["release"]["shadows"]
    again = gt(town, "formula", "create", "nightly")
    assert again.returncode == 1 and "already exists" in again.stderr


def test_cook_wisp_squash_burn_from_the_cli(town):
    cooked = json.loads(bd(town, "cook", "deacon-patrol", "--json").stdout)
    assert cooked["proto"] == "deacon-patrol" and cooked["steps"][0]["index"] == 1
    wisp = json.loads(bd(town, "mol", "wisp", "deacon-patrol", "--json").stdout)
    assert wisp["ephemeral"] and "-wisp-" in wisp["id"]
    assert wisp["id"] in (town.beads_dir / "wisps.jsonl").read_text()
    r = bd(town, "mol", "squash", wisp["id"], "--summary", "all quiet", "--json")
    assert r.returncode == 0, r.stderr
    digest = json.loads(r.stdout)["digest"]
    assert json.loads(bd(town, "show", digest, "--json").stdout)[0]["status"] == "closed"
    mol = json.loads(bd(town, "mol", "pour", "design", "--var", "topic=x", "--json").stdout)["id"]
    assert json.loads(bd(town, "mol", "burn", mol, "--json").stdout)["deleted"] == 7
    assert json.loads(bd(town, "mol", "list", "--json").stdout) == []


@pytest.mark.tmux
def test_sling_with_polecat_work_shows_the_checklist_and_walks_it(rig_town, tmux):
    town = rig_town
    store = Store(town.rig("demo").beads_dir)
    # sim:stall keeps the sim from finishing on its own, so this test alone walks the checklist.
    bead = store.create("Add a greeting", description="Say hello in the README.", labels=["sim:stall"])
    r = gt(town, "sling", bead.id, "demo", "--formula", "polecat-work", "--agent", "sim", "--no-convoy", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    mol = out["molecules"][bead.id]
    address = out["assignments"][0]["agent"]
    agent = Agent("polecat", "demo", address.rsplit("/", 1)[-1])
    env = {"BD_ACTOR": address, "GT_ROLE": "polecat", "GT_RIG": "demo", "GT_TOWN_ROOT": str(town.root)}
    wt = agent.workdir(town.root)

    prime = gt(town, "prime", cwd=wt, env=env)
    assert prime.returncode == 0, prime.stderr
    assert "Molecule checklist" in prime.stdout and f"{mol}.1" in prime.stdout
    assert "<- YOU ARE HERE" in prime.stdout and f"Load context for {bead.id}" in prime.stdout

    cur = json.loads(bd(town, "mol", "current", "--json", cwd=wt, env=env).stdout)
    assert cur["id"] == mol and cur["current"] == f"{mol}.1"
    # Out of order is refused (the force flag exists for humans who know better).
    early = bd(town, "close", f"{mol}.6", cwd=wt, env=env)
    assert early.returncode == 1 and "closed first" in early.stderr
    step, walked = f"{mol}.1", []
    while True:
        r = bd(town, "close", step, "--continue", "--json", cwd=wt, env=env)
        assert r.returncode == 0, r.stderr
        res = json.loads(r.stdout)
        walked.append(res["closed"]["mol_step"])
        if res["next"] is None:
            break
        assert res["next"]["assignee"] == address and res["next"]["status"] == "in_progress"
        step = res["next"]["id"]
    assert walked == ["load-context", "implement", "self-review", "test", "commit", "submit"]
    final = json.loads(bd(town, "mol", "progress", mol, "--json", cwd=wt, env=env).stdout)
    assert final["complete"] and final["status"] == "closed"
    assert "All steps are done." in gt(town, "prime", cwd=wt, env=env).stdout


def test_sling_with_a_bad_formula_changes_nothing(rig_town):
    town = rig_town
    store = Store(town.rig("demo").beads_dir)
    bead = store.create("Something")
    before = store.issues_path.read_text()
    r = gt(town, "sling", bead.id, "demo", "--formula", "release", "--agent", "sim")
    assert r.returncode == 2 and "needs var 'version'" in r.stderr
    assert store.issues_path.read_text() == before
    assert not town.rig("demo").polecats_dir.exists() or not any(town.rig("demo").polecats_dir.iterdir())


@pytest.mark.tmux
def test_code_review_runs_legs_in_parallel_and_synthesis_last(rig_town, tmux):
    town = rig_town
    dry = json.loads(gt(town, "formula", "run", "code-review", "--var", "target=feature/x", "--rig", "demo",
                        "--dry-run", "--json").stdout)
    assert dry["dry_run"] and dry["slung"] == ["correctness", "security", "performance", "style"]
    r = gt(town, "formula", "run", "code-review", "--var", "target=feature/x", "--rig", "demo", "--agent", "sim", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    mol = out["molecule"]
    steps = {s["step"]: s for s in out["steps"]}
    legs = ["correctness", "security", "performance", "style"]
    assert sorted(out["slung"]) == sorted(steps[leg]["id"] for leg in legs)
    store = Store(town.rig("demo").beads_dir)
    holders = {store.get(steps[leg]["id"]).assignee for leg in legs}
    assert len(holders) == 4 and all(h.startswith("demo/polecats/") for h in holders)  # one polecat per leg
    # hooked, or already handed in by a fast sim (`gt done` leaves it in_progress): never closed.
    assert all(store.get(steps[leg]["id"]).status in ("hooked", "in_progress") for leg in legs)
    syn = store.get(steps["synthesis"]["id"])
    assert syn.status == "open" and not syn.assignee and steps["synthesis"]["state"] == "blocked"
    assert set(steps["synthesis"]["needs"]) == {steps[leg]["id"] for leg in legs}

    # Each sim polecat works its leg and hands it in (`gt done` leaves it in_progress for the
    # refinery); wait for that, then play the refinery and close the legs.
    wait_for(lambda: all(store.get(steps[leg]["id"]).status == "in_progress" for leg in legs), timeout=90,
             message="every leg handed in by its polecat")
    # While any leg is open, the synthesis cannot start.
    for leg in legs[:3]:
        assert bd(town, "close", steps[leg]["id"], "-r", "reviewed").returncode == 0
    none = json.loads(gt(town, "formula", "dispatch", mol, "--rig", "demo", "--agent", "sim", "--json").stdout)
    assert none["slung"] == []
    assert bd(town, "close", steps["style"]["id"], "-r", "reviewed").returncode == 0
    # The deacon's patrol starts the synthesis on its own once the last leg is closed.
    from gastown_tui.patrols.deacon import DeaconConfig, DeaconContext, patrol_once

    report = patrol_once(DeaconContext(town), DeaconConfig.from_settings(town))
    assert report["dispatched"] == [steps["synthesis"]["id"]]
    again = json.loads(gt(town, "formula", "dispatch", mol, "--rig", "demo", "--agent", "sim", "--json").stdout)
    assert again["slung"] == []  # already on a polecat's hook: never slung twice
    syn = store.get(steps["synthesis"]["id"])
    assert syn.status in ("hooked", "in_progress") and syn.assignee.startswith("demo/polecats/")
    leg_closed = max(ts_key(store.get(steps[leg]["id"]).closed_at) for leg in legs)
    assert ts_key(syn.updated_at) >= leg_closed  # synthesis started after the last leg closed
