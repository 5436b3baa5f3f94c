"""`bd` as upstream bd v0.49.6's clients call it: version, init, global flags, the environment,
the actor, and the --json shapes and commands of the README's compatibility table."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.conftest import make_git_repo, run_cli


def bd(*args, cwd, ok=True, env=None, input=None):
    r = run_cli("bd", *args, cwd=cwd, env=env, input=input)
    if ok:
        assert r.returncode == 0, r.stderr
    return r


def bdj(*args, cwd, env=None):
    return json.loads(bd(*args, "--json", cwd=cwd, env=env).stdout)


@pytest.fixture
def proj(tmp_path):
    repo = make_git_repo(tmp_path / "proj")
    bd("init", "--prefix", "gt", cwd=repo)
    return repo


def test_version_says_upstream_and_ours(tmp_path):
    line = bd("version", cwd=tmp_path).stdout
    assert line == bd("--version", cwd=tmp_path).stdout == bd("--no-daemon", "-V", cwd=tmp_path).stdout
    assert line.startswith("bd version 0.49.6 (gastown-tui ") and line.endswith(")\n")
    v = bdj("version", cwd=tmp_path)
    assert v["version"] == "0.49.6" and v["implementation"] == "gastown-tui"


def test_init_as_clients_call_it(tmp_path):
    repo = make_git_repo(tmp_path / "p")
    r = bd("init", "--non-interactive", "--skip-agents", "--skip-hooks", "--prefix", "ab", cwd=repo)
    assert "bd initialized successfully!" in r.stdout
    beads = repo / ".beads"
    assert json.loads((beads / "metadata.json").read_text()) == {"database": "beads.db",
                                                                 "jsonl_export": "issues.jsonl"}
    assert (beads / "beads.db").stat().st_size == 0
    assert "no-db: true" in (beads / "config.yaml").read_text()
    assert "beads" in (repo / ".gitattributes").read_text()
    quiet = make_git_repo(tmp_path / "q")
    assert bd("init", "-q", "--skip-merge-driver", "--prefix", "cd", cwd=quiet).stdout == ""
    assert not (quiet / ".gitattributes").exists()


def test_global_flags_before_or_after_the_subcommand(proj):
    a = bdj("--no-daemon", "--sandbox", "create", "One", "--no-auto-flush", "--no-auto-import", cwd=proj)
    rows = json.loads(bd("--json", "--no-daemon", "list", "--quiet", "--allow-stale", cwd=proj).stdout)
    assert [x["id"] for x in rows] == [a["id"]]
    made = json.loads(bd("--actor", "zed", "create", "Two", "--json", "--lock-timeout", "5s", cwd=proj).stdout)
    assert made["created_by"] == "zed"
    assert bd("--quiet", "close", a["id"], cwd=proj).stdout == ""
    r = bd("list", "--no-such-flag", cwd=proj, ok=False)
    assert r.returncode == 2 and "unrecognized arguments: --no-such-flag" in r.stderr


def test_beads_dir_and_beads_db_name_the_store(tmp_path, proj):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    a = bdj("create", "In proj", cwd=proj)
    env = {"BEADS_DIR": str(proj / ".beads")}
    assert [x["id"] for x in bdj("list", cwd=elsewhere, env=env)] == [a["id"]]
    env = {"BEADS_DB": str(proj / ".beads" / "beads.db")}
    assert [x["id"] for x in bdj("list", cwd=elsewhere, env=env)] == [a["id"]]
    # A database file outside any .beads: its own store beside it, not a .beads every
    # directory below would find.
    db = tmp_path / "scratch" / "test_x.db"
    db.parent.mkdir()
    env = {"BEADS_DB": str(db)}
    bd("init", "--prefix", "sc", cwd=elsewhere, env=env)
    assert (tmp_path / "scratch" / "test_x.beads" / "issues.jsonl").exists()
    assert not (tmp_path / "scratch" / ".beads").exists()
    b = bdj("create", "Scratch", cwd=proj, env=env)
    assert b["id"].startswith("sc-") and [x["id"] for x in bdj("list", cwd=proj)] == [a["id"]]


def test_the_repositorys_own_git_user_wins_over_the_global_one(tmp_path, proj):
    (tmp_path / "home").mkdir(exist_ok=True)
    gitconfig = tmp_path / "globalcfg"
    gitconfig.write_text("[user]\n\tname = Global Name\n")
    env = {"GIT_AUTHOR_NAME": "", "GIT_CONFIG_GLOBAL": str(gitconfig), "BD_ACTOR": ""}
    assert bdj("create", "G", cwd=proj, env=env)["created_by"] == "Global Name"
    subprocess.run(["git", "config", "user.name", "tester"], cwd=proj, check=True)
    sub = proj / "src"
    sub.mkdir()
    assert bdj("create", "L", cwd=sub, env=env)["created_by"] == "tester"
    wt = tmp_path / "wt"
    subprocess.run(["git", "worktree", "add", "-q", "-b", "side", str(wt)], cwd=proj, check=True)
    assert bdj("create", "W", "--db", str(proj / ".beads"), cwd=wt, env=env)["created_by"] == "tester"


def test_json_shapes_of_show_list_blocked_and_stats(proj):
    epic = bdj("create", "Epic", "-t", "epic", cwd=proj)
    a = bdj("create", "Blocker", "--design", "D", "--acceptance-criteria", "AC", "--external-ref", "gh-9", cwd=proj)
    b = bdj("create", "Waiter", "--parent", epic["id"], "--deps", f"blocks:{a['id']}", cwd=proj)
    bd("comment", a["id"], "hello", "--author", "ann", cwd=proj)
    shown = bdj("show", b["id"], cwd=proj)[0]
    assert {(d["id"], d["dependency_type"]) for d in shown["dependencies"]} == {(epic["id"], "parent-child"),
                                                                               (a["id"], "blocks")}
    assert all(d["title"] and d["created_at"] and "dependencies" not in d for d in shown["dependencies"])
    assert shown["parent"] == epic["id"] and "dependents" not in shown
    blocker = bdj("show", a["id"], cwd=proj)[0]
    assert [(d["id"], d["dependency_type"]) for d in blocker["dependents"]] == [(b["id"], "blocks")]
    assert (blocker["design"], blocker["acceptance_criteria"], blocker["external_ref"]) == ("D", "AC", "gh-9")
    rows = {r["id"]: r for r in bdj("list", cwd=proj)}
    assert (rows[b["id"]]["dependency_count"], rows[b["id"]]["dependent_count"]) == (2, 0)
    assert (rows[a["id"]]["dependent_count"], rows[a["id"]]["comment_count"]) == (1, 1)
    assert all("dependencies" not in r for r in rows.values())
    blocked = bdj("blocked", cwd=proj)
    assert [(r["id"], r["blocked_by_count"], r["blocked_by"]) for r in blocked] == [(b["id"], 1, [a["id"]])]
    assert bdj("blocked", "--parent", a["id"], cwd=proj) == []
    s = bdj("stats", cwd=proj)
    assert s["total"] == 3 and s["summary"]["total_issues"] == 3 and s["summary"]["blocked_issues"] == 1
    assert s["summary"]["ready_issues"] == s["ready"] and s["summary"]["open_issues"] == 3


def test_list_and_ready_filters(proj):
    a = bdj("create", "Alpha task", "-p", "1", "-l", "x", cwd=proj)
    b = bdj("create", "Beta bug", "-p", "2", "-t", "bug", "-l", "y", "-a", "bob", cwd=proj)
    kid = bdj("create", "Kid", "--parent", a["id"], cwd=proj)
    ids = lambda rows: sorted(r["id"] for r in rows)  # noqa: E731
    assert ids(bdj("list", "--label-any", "x,y", cwd=proj)) == sorted([a["id"], b["id"]])
    assert ids(bdj("list", "--title", "BETA", cwd=proj)) == [b["id"]]
    assert ids(bdj("list", "--no-assignee", cwd=proj)) == sorted([a["id"], kid["id"]])
    tree = bd("list", "--tree", cwd=proj).stdout
    assert f"└─ {kid['id']}" in tree
    assert ids(bdj("ready", "--priority", "1", cwd=proj)) == [a["id"]]
    assert ids(bdj("ready", "--type", "bug", cwd=proj)) == [b["id"]]
    assert ids(bdj("ready", "--unassigned", "--label", "x", cwd=proj)) == [a["id"]]
    assert ids(bdj("ready", "--assignee", "bob", cwd=proj)) == [b["id"]]
    assert ids(bdj("ready", "--parent", a["id"], cwd=proj)) == [kid["id"]]
    assert [r["id"] for r in bdj("ready", "--sort", "priority", "--limit", "1", cwd=proj)] == [a["id"]]
    r = bd("ready", "--sort", "newest", cwd=proj, ok=False)
    assert r.returncode == 2 and "invalid sort policy 'newest'. Valid values: hybrid, priority, oldest" in r.stderr


def test_comments_note_reopen_reason_and_update_fields(proj):
    a = bdj("create", "Thing", cwd=proj)
    assert "added to" in bd("comment", a["id"], "first", cwd=proj).stdout
    bd("comments", "add", a["id"], "second", cwd=proj)
    bd("comment", "add", a["id"], "third", cwd=proj)
    assert [c["text"] for c in bdj("comments", a["id"], cwd=proj)] == ["first", "second", "third"]
    assert [c["text"] for c in bdj("comment", "list", a["id"], cwd=proj)] == ["first", "second", "third"]
    bd("note", a["id"], "found", "it", cwd=proj)
    up = bdj("update", a["id"], "--append-notes", "fixed", "--design", "x", cwd=proj)
    assert up["notes"] == "found it\nfixed" and up["design"] == "x"
    bd("close", a["id"], cwd=proj)
    re = bdj("reopen", a["id"], "--reason", "regressed", cwd=proj)
    assert re[0]["status"] == "open" and re[0]["comments"][-1]["text"] == "regressed"
    r = bd("comments", cwd=proj, ok=False)
    assert r.returncode == 2 and "needs one ID" in r.stderr
    gone = bdj("delete", a["id"], "--force", cwd=proj)
    assert gone[0]["status"] == "tombstone"


def test_quickstart_info_epic_and_maintenance_commands(proj):
    assert "bd ready" in bd("quickstart", cwd=proj).stdout
    epic = bdj("create", "E", "-t", "epic", cwd=proj)
    kid = bdj("create", "K", "--parent", epic["id"], cwd=proj)
    bdj("create", "test-thing", cwd=proj)
    info = bdj("info", "--schema", cwd=proj)
    assert info["issue_count"] == 3 and info["schema"]["detected_prefix"] == "gt"
    assert [(r["epic"]["id"], r["total_children"], r["eligible_for_close"]) for r in bdj("epic", "status", cwd=proj)] \
        == [(epic["id"], 1, False)]
    bd("close", kid["id"], cwd=proj)
    assert [r["epic"]["id"] for r in bdj("epic", "status", "--eligible-only", cwd=proj)] == [epic["id"]]
    # an orphaned dependency, as git can deliver one
    path = proj / ".beads" / "issues.jsonl"
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    for rec in lines:
        if rec["id"] == kid["id"]:
            rec["dependencies"].append({"issue_id": kid["id"], "depends_on_id": "gt-zzzzz", "type": "blocks"})
    path.write_text("".join(json.dumps(x, separators=(",", ":")) + "\n" for x in lines))
    rep = bdj("repair-deps", cwd=proj)
    assert rep == {"orphans_found": 1, "orphans": [{"issue_id": kid["id"], "depends_on_id": "gt-zzzzz",
                                                    "type": "blocks"}]}
    v = bdj("validate", "--checks", "orphans,dupes", cwd=proj)
    assert v["checks"]["orphans"]["issue_count"] == 1 and v["healthy"] is False
    assert bd("validate", "--checks", "orphans", cwd=proj, ok=False).returncode == 1
    assert bd("validate", "--checks", "nope", cwd=proj, ok=False).returncode == 2
    assert bdj("repair-deps", "--fix", cwd=proj)["fixed"] == 1 and bdj("repair-deps", cwd=proj)["orphans_found"] == 0
    pol = bdj("detect-pollution", cwd=proj)
    assert [p["title"] for p in pol["issues"]] == ["test-thing"]
    assert bd("detect-pollution", "--clean", cwd=proj, ok=False).returncode == 2
    assert bdj("doctor", "--check=pollution", cwd=proj)["polluted_count"] == 1
    assert bdj("doctor", "--check", "validate", cwd=proj)["healthy"] is False  # the pollution
    assert bd("doctor", "--check=bogus", cwd=proj, ok=False).returncode == 2
    bdj("detect-pollution", "--clean", "--yes", cwd=proj)
    assert bdj("detect-pollution", cwd=proj)["polluted_count"] == 0
    mig = bdj("migrate", "--inspect", cwd=proj)
    assert mig["registered_migrations"] == [] and mig["current_state"]["db_exists"] is False


def test_global_flags_are_moved_behind_the_subcommand_or_dropped():
    from gastown_tui.cli.bd import normalize_argv

    assert normalize_argv(["--no-daemon", "--json", "--actor", "a", "dep", "add", "x", "y", "-q"]) == \
        ["dep", "add", "x", "y", "--json", "--actor", "a", "--quiet"]
    assert normalize_argv(["list", "--db=/d", "--lock-timeout", "5s", "--sandbox", "-v"]) == ["list", "--db=/d"]
    # after `--` everything is an argument
    assert normalize_argv(["create", "--json", "--", "--sandbox"]) == ["create", "--json", "--", "--sandbox"]
    assert normalize_argv(["show", "--actor"]) == ["show", "--actor"]  # the parser names the missing value
