"""Foundation as a user meets it: `gt install`, town discovery, `gt rig ...`, `gt config ...`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import make_git_repo, run_cli


def tree(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*") if ".git" not in p.parts)


def one_sentence(stderr: str) -> None:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr


def git_log(path: Path) -> list[str]:
    out = subprocess.run(["git", "-C", str(path), "log", "--format=%s"], capture_output=True, text=True, check=True)
    return out.stdout.splitlines()


# --- install ------------------------------------------------------------------------------

def test_install_creates_the_layout_and_a_first_commit(tmp_path):
    r = run_cli("gt", "install", str(tmp_path / "t"), "--name", "mytown", "--owner", "me@example.com")
    assert r.returncode == 0, r.stderr
    t = tmp_path / "t"
    info = json.loads((t / "mayor/town.json").read_text())
    assert info["type"] == "town" and info["version"] == 1 and info["name"] == "mytown"
    assert info["owner"] == "me@example.com" and info["created_at"]
    assert json.loads((t / "mayor/rigs.json").read_text()) == {"version": 1, "rigs": {}}
    config = (t / "settings/config.toml").read_text()
    assert "default_agent" in config and config.lstrip().startswith("#")
    assert "issue-prefix: hq" in (t / ".beads/config.yaml").read_text()
    assert (t / ".beads/issues.jsonl").exists()
    assert (t / ".events.jsonl").exists() and (t / ".runtime").is_dir()
    assert ".runtime/" in (t / ".gitignore").read_text()
    assert git_log(t) == ["gt install: create town 'mytown'"]
    tracked = subprocess.run(["git", "-C", str(t), "ls-files"], capture_output=True, text=True).stdout
    assert "mayor/town.json" in tracked and ".runtime" not in tracked


def test_install_again_is_safe_and_says_so(tmp_path):
    assert run_cli("gt", "install", str(tmp_path / "t")).returncode == 0
    before = tree(tmp_path / "t")
    r = run_cli("gt", "install", str(tmp_path / "t"))
    assert r.returncode == 0
    assert "already a town" in r.stdout
    assert tree(tmp_path / "t") == before
    assert len(git_log(tmp_path / "t")) == 1


def test_install_refuses_a_file_and_a_non_empty_directory(tmp_path):
    f = tmp_path / "afile"
    f.write_text("x")
    r = run_cli("gt", "install", str(f))
    assert r.returncode == 2
    one_sentence(r.stderr)
    assert "is a file" in r.stderr
    assert f.read_text() == "x"

    d = tmp_path / "stuff"
    d.mkdir()
    (d / "keep.txt").write_text("mine")
    r = run_cli("gt", "install", str(d))
    assert r.returncode == 2
    one_sentence(r.stderr)
    assert "not empty" in r.stderr
    assert tree(d) == ["keep.txt"]


def test_install_json_output(tmp_path):
    r = run_cli("gt", "install", str(tmp_path / "t"), "--json")
    data = json.loads(r.stdout)
    assert data["created"] is True and data["path"] == str((tmp_path / "t").resolve())
    assert data["tmux_socket"].startswith("gt-")


# --- discovery ------------------------------------------------------------------------------

def test_town_is_found_by_flag_env_and_walking_up(tmp_path, town, project_repo):
    sub = town.root / "settings"
    assert run_cli("gt", "rig", "list", "--json", cwd=sub).returncode == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert run_cli("gt", "--town", str(town.root), "rig", "list", "--json", cwd=elsewhere).returncode == 0
    assert run_cli("gt", "rig", "list", "--town", str(town.root), "--json", cwd=elsewhere).returncode == 0
    r = run_cli("gt", "rig", "list", "--json", cwd=elsewhere, env={"GT_TOWN_ROOT": str(town.root)})
    assert r.returncode == 0 and json.loads(r.stdout) == []


def test_any_command_outside_a_town_is_one_sentence(tmp_path):
    r = run_cli("gt", "rig", "list", cwd=tmp_path)
    assert r.returncode == 1
    one_sentence(r.stderr)
    assert "not inside a Gas Town" in r.stderr and "gt install" in r.stderr


# --- rigs -------------------------------------------------------------------------------------

def test_rig_add_builds_the_rig_layout(town, project_repo):
    r = run_cli("gt", "rig", "add", "demo", str(project_repo), cwd=town.root)
    assert r.returncode == 0, r.stderr
    rig = town.root / "demo"
    for d in (".repo.git", "mayor/rig", "mayor/rig/.beads", "refinery/rig", "witness", "crew", "polecats"):
        assert (rig / d).is_dir(), d
    assert (rig / "mayor/rig/src/app.py").exists()
    assert (rig / "refinery/rig/README.md").exists()
    assert (rig / ".beads/redirect").read_text().strip() == "mayor/rig/.beads"
    assert (rig / "refinery/rig/.beads/redirect").read_text().strip() == "../../mayor/rig/.beads"
    cfg = json.loads((rig / "config.json").read_text())
    assert cfg["type"] == "rig" and cfg["name"] == "demo" and cfg["default_branch"] == "main"
    assert cfg["beads"]["prefix"] == "de"
    routes = [json.loads(x) for x in (town.root / ".beads/routes.jsonl").read_text().splitlines()]
    assert {"prefix": "de-", "path": "demo/mayor/rig"} in routes
    listed = json.loads(run_cli("gt", "rig", "list", "--json", cwd=town.root).stdout)
    assert [(x["name"], x["prefix"], x["default_branch"], x["parked"]) for x in listed] == [("demo", "de", "main", False)]
    assert listed[0]["git_url"] == str(project_repo.resolve())
    assert git_log(town.root)[0] == f"gt rig add demo: {project_repo.resolve()}"
    tracked = subprocess.run(["git", "-C", str(town.root), "ls-files"], capture_output=True, text=True).stdout
    assert "demo/config.json" in tracked and "demo/.repo.git" not in tracked and "demo/mayor" not in tracked


def test_rig_add_adopts_the_projects_own_beads(town, tmp_path):
    proj = make_git_repo(tmp_path / "withbeads", {
        "README.md": "x\n",
        ".beads/config.yaml": "issue-prefix: zz\n",
        ".beads/issues.jsonl": '{"id":"zz-abc","title":"existing","status":"open","priority":1,'
                               '"issue_type":"task","created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}\n',
    })
    r = run_cli("gt", "rig", "add", "proj", str(proj), "--json", cwd=town.root)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["prefix"] == "zz"
    assert "zz-abc" in (town.root / "proj/mayor/rig/.beads/issues.jsonl").read_text()
    r = run_cli("gt", "rig", "add", "proj2", str(proj), "--prefix", "yy", cwd=town.root)
    assert r.returncode == 2 and "already uses prefix 'zz'" in r.stderr


@pytest.mark.parametrize("argv, code, words", [
    (["Bad-Name", "{repo}"], 2, "not a valid rig name"),
    (["hq", "{repo}"], 2, "reserved"),
    (["demo2", "/no/such/path"], 2, "does not exist"),
    (["demo", "{repo}"], 1, "already exists"),
    (["demo2", "{repo}", "--prefix", "de"], 1, "already used by demo"),
    (["demo2", "{repo}", "--prefix", "hq"], 1, "already used by the town"),
    (["demo2", "{repo}", "--prefix", "Bad!"], 2, "not a valid prefix"),
    (["demo2", "{repo}", "--branch", "nope"], 2, "branch 'nope' does not exist"),
    (["demo2", "{notrepo}"], 2, "not a git repository"),
])
def test_rig_add_bad_input_changes_nothing(rig_town, project_repo, tmp_path, argv, code, words):
    notrepo = tmp_path / "plain"
    notrepo.mkdir(exist_ok=True)
    argv = [a.format(repo=project_repo, notrepo=notrepo) for a in argv]
    town_root = rig_town.root
    before = (tree(town_root), (town_root / "mayor/rigs.json").read_text(),
              (town_root / ".beads/routes.jsonl").read_text(), git_log(town_root))
    r = run_cli("gt", "rig", "add", *argv, cwd=town_root)
    assert r.returncode == code, r.stderr
    one_sentence(r.stderr)
    assert words in r.stderr
    after = (tree(town_root), (town_root / "mayor/rigs.json").read_text(),
             (town_root / ".beads/routes.jsonl").read_text(), git_log(town_root))
    assert after == before


def test_rig_show_park_unpark_and_remove(rig_town):
    root = rig_town.root
    show = json.loads(run_cli("gt", "rig", "show", "demo", "--json", cwd=root).stdout)
    assert show["name"] == "demo" and show["parked"] is False
    assert "parked" in run_cli("gt", "rig", "park", "demo", cwd=root).stdout
    assert json.loads(run_cli("gt", "rig", "list", "--json", cwd=root).stdout)[0]["parked"] is True
    assert "already parked" in run_cli("gt", "rig", "park", "demo", cwd=root).stdout
    run_cli("gt", "rig", "unpark", "demo", cwd=root)
    assert json.loads(run_cli("gt", "rig", "list", "--json", cwd=root).stdout)[0]["parked"] is False
    r = run_cli("gt", "rig", "show", "nope", cwd=root)
    assert r.returncode == 1 and "no rig named 'nope'" in r.stderr and "demo" in r.stderr
    r = run_cli("gt", "rig", "remove", "demo", cwd=root)
    assert r.returncode == 0, r.stderr
    assert not (root / "demo").exists()
    assert json.loads(run_cli("gt", "rig", "list", "--json", cwd=root).stdout) == []
    assert "de-" not in (root / ".beads/routes.jsonl").read_text()


def test_rig_remove_refuses_unmerged_work_without_force(rig_town):
    root = rig_town.root
    wt = root / "demo/refinery/rig"
    subprocess.run(["git", "-C", str(wt), "checkout", "-q", "-b", "feature"], check=True)
    (wt / "new.txt").write_text("work\n")
    subprocess.run(["git", "-C", str(wt), "add", "new.txt"], check=True)
    subprocess.run(["git", "-C", str(wt), "commit", "-q", "-m", "work"], check=True)
    r = run_cli("gt", "rig", "remove", "demo", cwd=root)
    assert r.returncode == 1 and "not merged" in r.stderr and "--force" in r.stderr
    assert (root / "demo").exists()
    assert run_cli("gt", "rig", "remove", "demo", "--force", cwd=root).returncode == 0
    assert not (root / "demo").exists()


def test_rig_config_set_get_unset_with_types(rig_town):
    root = rig_town.root
    assert run_cli("gt", "rig", "config", "set", "demo", "merge_queue.test_command", "make test", cwd=root).returncode == 0
    r = run_cli("gt", "rig", "config", "get", "demo", "merge_queue.test_command", "--json", cwd=root)
    assert json.loads(r.stdout)["value"] == "make test"
    assert json.loads((root / "demo/config.json").read_text())["merge_queue"]["test_command"] == "make test"
    r = run_cli("gt", "rig", "config", "set", "demo", "merge_queue.timeout_seconds", "soon", cwd=root)
    assert r.returncode == 2 and "takes an integer" in r.stderr
    r = run_cli("gt", "rig", "config", "set", "demo", "no.such", "1", cwd=root)
    assert r.returncode == 2 and "not a rig setting" in r.stderr
    run_cli("gt", "rig", "config", "unset", "demo", "merge_queue.test_command", cwd=root)
    assert run_cli("gt", "rig", "config", "get", "demo", "merge_queue.test_command", cwd=root).stdout.strip() == ""


# --- settings ----------------------------------------------------------------------------------

def test_config_edits_keep_comments_and_check_types(town):
    root = town.root
    cfg = root / "settings/config.toml"
    cfg.write_text(cfg.read_text() + "\n# my own note\n")
    assert run_cli("gt", "config", "set", "default_agent", "sim", cwd=root).returncode == 0
    assert run_cli("gt", "config", "set", "role_agents.polecat", "codex", cwd=root).returncode == 0
    assert run_cli("gt", "config", "set", "witness.stall_seconds", "120", cwd=root).returncode == 0
    text = cfg.read_text()
    assert "# my own note" in text and "# Runtime for new agents" in text
    assert 'default_agent = "sim"' in text and "stall_seconds = 120" in text
    assert json.loads(run_cli("gt", "config", "get", "role_agents.polecat", "--json", cwd=root).stdout)["value"] == "codex"
    assert run_cli("gt", "config", "get", "daemon.tick_seconds", cwd=root).stdout.strip() == "30"
    r = run_cli("gt", "config", "set", "witness.stall_seconds", "ten", cwd=root)
    assert r.returncode == 2 and "takes an integer" in r.stderr
    assert cfg.read_text() == text
    r = run_cli("gt", "config", "set", "bogus", "1", cwd=root)
    assert r.returncode == 2 and "not a setting" in r.stderr
    assert run_cli("gt", "config", "unset", "role_agents.polecat", cwd=root).returncode == 0
    assert run_cli("gt", "config", "get", "role_agents.polecat", cwd=root).stdout.strip() == ""
    assert '\npolecat = "codex"' not in cfg.read_text()
    flat = json.loads(run_cli("gt", "config", "list", "--json", cwd=root).stdout)
    assert flat["default_agent"] == "sim"


def test_status_lists_rigs(rig_town):
    r = run_cli("gt", "status", "--json", cwd=rig_town.root)
    data = json.loads(r.stdout)
    assert data["name"] == "testtown" and [x["name"] for x in data["rigs"]] == ["demo"]


def test_json_listing_imports_no_ui_toolkit(rig_town):
    import sys

    code = ("import sys\nfrom gastown_tui.cli.gt import main\n"
            f"main(['--town', {str(rig_town.root)!r}, 'rig', 'list', '--json'])\n"
            "print('MODS', [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "MODS []"
