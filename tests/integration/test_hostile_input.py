"""Hostile input at the doors (issue 12): bad ids, names and fields are refused in one sentence,
nothing is written, and what arrives by git is reported, never used as a name."""

from __future__ import annotations

import json

import pytest

from tests.conftest import make_git_repo, run_cli

TS = "2026-01-01T00:00:00Z"


def bd(*args, cwd, input=None):
    return run_cli("bd", *args, cwd=cwd, input=input)


def record(issue_id, **kw):
    return json.dumps({"id": issue_id, "title": "t", "status": "open", "priority": 1, "issue_type": "task",
                       "created_at": TS, "updated_at": TS, **kw})


@pytest.fixture
def proj(tmp_path):
    repo = make_git_repo(tmp_path / "proj")
    assert bd("init", "--prefix", "gt", cwd=repo).returncode == 0
    return repo


def store_bytes(repo):
    return (repo / ".beads" / "issues.jsonl").read_bytes()


def refused(r, *words):
    assert r.returncode in (1, 2), r
    assert "Traceback" not in r.stderr
    err = r.stderr.strip()
    assert err.count("\n") == 0, err  # one sentence
    for w in words:
        assert w in err, err
    return err


@pytest.mark.parametrize("bad", ["../../etc", "pr-a/../../victim", "gt-a\tb", "gt-a b", "gt-a\x1b[2Jb", "gt-x..1"])
def test_create_refuses_a_bad_id(proj, bad):
    before = store_bytes(proj)
    err = refused(bd("create", "x", "--id", bad, cwd=proj), "not a valid bead id")
    assert "\x1b" not in err and "\t" not in err
    assert store_bytes(proj) == before


def test_import_refuses_a_bad_id_and_imports_nothing(proj, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(record("gt-good") + "\n" + record("pr-a/../../../../victim") + "\n")
    before = store_bytes(proj)
    refused(bd("import", str(src), cwd=proj), "pr-a/../../../../victim", "not a valid bead id", "nothing was imported")
    assert store_bytes(proj) == before


def test_merge_driver_refuses_an_id_brought_in_by_a_side(tmp_path):
    base, ours, theirs = (tmp_path / n for n in ("base", "ours", "theirs"))
    base.write_text(record("gt-a") + "\n")
    ours.write_text(record("gt-a") + "\n")
    theirs.write_text(record("gt-a") + "\n" + record("gt-a/../../x") + "\n")
    before = ours.read_bytes()
    refused(bd("merge", str(base), str(ours), str(theirs), cwd=tmp_path), "theirs", "not a valid bead id")
    assert ours.read_bytes() == before


def dep(issue_id, target):
    return {"issue_id": issue_id, "depends_on_id": target, "type": "blocks", "created_at": TS, "created_by": "x"}


@pytest.mark.parametrize("target", ["../../etc/passwd", "gt-a\x1b[2Jb", "external:beads:../x", "external:Bad Name:x",
                                    "external:beads:"])
def test_import_refuses_a_bad_dependency_target_and_imports_nothing(proj, tmp_path, target):
    src = tmp_path / "in.jsonl"
    src.write_text(record("gt-good") + "\n" + record("gt-b", dependencies=[dep("gt-b", target)]) + "\n")
    before = store_bytes(proj)
    err = refused(bd("import", str(src), cwd=proj), "gt-b depends on", "not a valid target", "nothing was imported")
    assert "\x1b" not in err
    assert store_bytes(proj) == before


def test_import_refuses_a_dependency_that_claims_another_issue(proj, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(record("gt-b", dependencies=[dep("../../x", "gt-good")]) + "\n")
    refused(bd("import", str(src), cwd=proj), "another issue", "nothing was imported")


def test_import_keeps_upstreams_external_references(proj, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(record("gt-b", dependencies=[dep("gt-b", "external:beads:bd-dx6e")]) + "\n")
    r = bd("import", str(src), cwd=proj)
    assert r.returncode == 0, r.stderr
    kept = [json.loads(x) for x in store_bytes(proj).decode().splitlines() if '"gt-b"' in x]
    assert [d["depends_on_id"] for d in kept[0]["dependencies"]] == ["external:beads:bd-dx6e"]


def test_merge_driver_refuses_a_bad_dependency_brought_in_by_a_side(tmp_path):
    base, ours, theirs = (tmp_path / n for n in ("base", "ours", "theirs"))
    base.write_text(record("gt-a") + "\n")
    ours.write_text(record("gt-a") + "\n")
    theirs.write_text(record("gt-a", dependencies=[dep("gt-a", "../../../victim")]) + "\n")
    before = ours.read_bytes()
    refused(bd("merge", str(base), str(ours), str(theirs), cwd=tmp_path), "theirs", "not a valid target")
    assert ours.read_bytes() == before


def test_doctor_reports_a_bad_id_that_arrived_by_git_escaped(proj):
    with (proj / ".beads" / "issues.jsonl").open("a") as f:
        f.write(record("gt-a/../../x\x1b]0;pwn\x07") + "\n")
    r = bd("doctor", cwd=proj)
    assert r.returncode == 1
    assert "bad-id" in r.stdout and "gt-a/../../x" in r.stdout
    assert "\x1b" not in r.stdout and "\x07" not in r.stdout
    findings = json.loads(bd("doctor", "--json", cwd=proj).stdout)["findings"]
    assert [f["check"] for f in findings] == ["bad-id"]


def no_traceback(r):
    assert "Traceback" not in r.stderr and "Error:" not in r.stderr, r.stderr
    return r


def test_a_line_nested_too_deeply_is_a_bad_line_not_a_traceback(proj):
    """A line of 100,000 `[` blew the json parser's stack: every reader tracebacked (RecursionError)."""
    with (proj / ".beads" / "issues.jsonl").open("a") as f:
        f.write(record("gt-one") + "\n" + "[" * 100_000 + "\n" + record("gt-two") + "\n")
    for args in (["list"], ["ready"], ["show", "gt-two"]):
        r = no_traceback(bd(*args, cwd=proj))
        assert r.returncode == 0, (args, r)
        assert "line 2" in r.stderr and "nested too deeply" in r.stderr and r.stderr.count("\n") == 1
        assert "gt-two" in r.stdout and (args[0] == "show" or "gt-one" in r.stdout)
    r = no_traceback(bd("doctor", cwd=proj))
    assert r.returncode == 1 and "bad-line" in r.stdout and "line 2" in r.stdout
    assert [x["id"] for x in json.loads(bd("list", "--json", cwd=proj).stdout)] == ["gt-one", "gt-two"]


@pytest.mark.parametrize("when", [5, ["2099-01-01T00:00:00Z"], {"t": 1}, True])
def test_a_time_that_is_not_a_string_reads_as_no_time(proj, when):
    """`"defer_until": 5` crashed `bd ready` (TypeError in the timestamp parser): a time that is not a
    string is no time at all, so the issue is not deferred — the same on the cold and the warm path."""
    with (proj / ".beads" / "issues.jsonl").open("a") as f:
        f.write(record("gt-odd", defer_until=when, created_at=when) + "\n"
                + record("gt-later", defer_until="2999-01-01T00:00:00Z") + "\n" + record("gt-plain") + "\n")
    for _ in range(2):  # the second run answers from the ready summary the first one wrote
        r = no_traceback(bd("ready", "--json", cwd=proj))
        assert r.returncode == 0 and r.stderr == "", r
        assert sorted(x["id"] for x in json.loads(r.stdout)) == ["gt-odd", "gt-plain"]
    for args in (["list"], ["show", "gt-odd"], ["doctor"], ["stats"]):
        r = no_traceback(bd(*args, cwd=proj))
        assert r.returncode in (0, 1), (args, r)
    assert "gt-odd" in bd("list", cwd=proj).stdout


@pytest.mark.parametrize("args, words", [
    (["create", "x", "--deps", "bogus"], ["bogus", "not a valid bead id"]),
    (["create", "x", "-a", "bob\nroot"], ["assignee", "newline"]),
    (["create", "x", "--assignee", "bob\nroot"], ["assignee", "newline"]),
    (["create", "x", "-l", "ok,a\nb"], ["label", "newline"]),
])
def test_create_refuses_silently_accepted_fields(proj, args, words):
    before = store_bytes(proj)
    refused(bd(*args, cwd=proj), *words)
    assert store_bytes(proj) == before


def test_update_and_label_refuse_a_newline(proj):
    iid = json.loads(bd("create", "x", "--json", cwd=proj).stdout)["id"]
    before = store_bytes(proj)
    refused(bd("label", "add", iid, "a\nb", cwd=proj), "label")
    refused(bd("update", iid, "--assignee", "a\nb", cwd=proj), "assignee")
    assert store_bytes(proj) == before


# --- patrols never act on a bad id; derived paths stay inside their root -----------------------

def append_record(beads_dir, rec: dict) -> None:
    """A record as it arrives by git (a pulled issues.jsonl), bypassing every door."""
    with (beads_dir / "issues.jsonl").open("a", encoding="utf-8") as f:
        f.write(json.dumps(rec) + "\n")


def test_a_crafted_mr_id_removes_nothing_outside_and_closes_nothing(rig_town, tmp_path):
    import subprocess

    from gastown_tui.beads.store import Store
    from gastown_tui.patrols import refinery
    from gastown_tui.patrols.refinery import RefineryConfig, RefineryContext

    town = rig_town
    victim = tmp_path / "victim"  # where <rig>/refinery/.merge-<id> would lead with the raw id
    victim.mkdir()
    (victim / "precious.txt").write_text("keep me\n")
    rp = town.rig("demo")
    store = Store(rp.beads_dir)
    unrelated = store.create("unrelated work")
    branch = f"polecat/nux/{unrelated.id}-k0"
    wt = rp.polecat("nux")
    subprocess.run(["git", "-C", str(rp.bare_repo), "worktree", "add", "-q", "-b", branch, str(wt), "main"], check=True)
    (wt / "f.txt").write_text("x\n")
    subprocess.run(["git", "-C", str(wt), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(wt), "commit", "-q", "-m", "w"], check=True)
    bad_id = "pr-a/../../../../victim"
    assert (rp.root / "refinery" / f".merge-{bad_id}").resolve() == victim.resolve()
    append_record(rp.beads_dir, {"id": bad_id, "title": "Merge", "status": "open", "priority": 0,
                                 "issue_type": "merge-request", "created_at": TS, "updated_at": TS,
                                 "branch": branch, "target": "main", "source_issue": unrelated.id,
                                 "worker": "demo/polecats/nux"})
    in_progress = "pr-b/../../../../victim"  # one a crash would have left in progress
    append_record(rp.beads_dir, {"id": in_progress, "title": "Merge", "status": "in_progress", "priority": 0,
                                 "issue_type": "merge-request", "created_at": TS, "updated_at": TS,
                                 "branch": branch, "source_issue": unrelated.id})
    logs: list[str] = []
    outs = refinery.patrol_once(RefineryContext(town, "demo", logs.append), RefineryConfig())
    assert outs == []
    assert Store(rp.beads_dir).get(in_progress).status == "in_progress"  # not "recovered" either
    assert (victim / "precious.txt").read_text() == "keep me\n"
    store = Store(rp.beads_dir)
    assert store.get(unrelated.id).status == "open"
    assert store.get(bad_id).status == "open"
    assert any("ignoring merge request" in line and "not a valid bead id" in line for line in logs)


def test_the_merge_directory_is_a_safe_token(rig_town):
    from gastown_tui.patrols import refinery

    root = rig_town.rig("demo").root / "refinery"
    assert refinery.merge_dir(rig_town, "demo", "gt-abc") == root / ".merge-gt-abc"
    bad = refinery.merge_dir(rig_town, "demo", "pr-a/../../../../victim")
    assert bad.parent == root and "/" not in bad.name and ".." not in bad.name


def test_confine_refuses_escapes_and_symlinks(tmp_path):
    import os

    from gastown_tui.infra.safepath import UnsafePath, confine, remove_tree

    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("k")
    assert confine(root, "sub", "a.md") == root / "sub" / "a.md"
    for bad in ("../x", "/etc/passwd", "a/../../x", "", ".", "a\nb", "x" * 300, "~/x"):
        with pytest.raises(UnsafePath):
            confine(root, bad)
    os.symlink(outside, root / "link")
    with pytest.raises(UnsafePath, match="symlink"):
        confine(root, "link", "note.md")
    remove_tree(root, root / "link")  # the link goes, never what it points at
    assert not (root / "link").exists() and (outside / "keep").exists()
    with pytest.raises(UnsafePath):
        remove_tree(root, outside)
    assert (outside / "keep").exists()


def test_the_sim_work_note_stays_inside_its_worktree(tmp_path):
    import os

    from gastown_tui.sim.work import write_work

    wt = make_git_repo(tmp_path / "wt")
    outside = tmp_path / "outside"
    outside.mkdir()
    said: list[str] = []
    assert write_work(wt, "gt-a/../../../outside/x", "t", "", "me", said.append) == []
    assert write_work(wt, "gt-abc", "t", "```file: ../outside/evil.txt\nx\n```\n", "me", said.append) == []
    os.symlink(outside, wt / "work")  # a committed symlink
    assert write_work(wt, "gt-abc", "t", "", "me", said.append) == []
    assert write_work(wt, "gt-abc", "t", "```file: work/evil.txt\nx\n```\n", "me", said.append) == []
    assert list(outside.iterdir()) == []
    assert len(said) == 4 and all(s.startswith("✗ refusing") for s in said)
    (wt / "work").unlink()
    assert write_work(wt, "gt-abc", "t", "", "me", said.append) == ["work/gt-abc.md"]
    assert (wt / "work" / "gt-abc.md").is_file()


def test_the_sim_says_when_git_committed_nothing(tmp_path):
    from gastown_tui.sim.work import commit_work

    wt = make_git_repo(tmp_path / "wt")
    assert commit_work(wt, "nothing") == (False, "nothing to commit")
    (wt / "new.txt").write_text("x\n")
    assert commit_work(wt, "something") == (True, "")


# --- redirects stay inside the town ----------------------------------------------------------------

def test_a_redirect_committed_in_the_project_is_replaced_at_rig_add(town, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / ".beads").mkdir(parents=True)
    for target in ("/etc", str(elsewhere / ".beads")):
        name = "proj" if target == "/etc" else "proj2"
        repo = make_git_repo(tmp_path / name, {"README.md": "x\n", ".beads/redirect": target + "\n"})
        r = run_cli("gt", "rig", "add", name, str(repo), "--town", str(town.root))
        assert r.returncode == 0, r.stderr
        assert "warning" in r.stderr and ".beads/redirect" in r.stderr
        rig = town.rig(name)
        assert not (rig.beads_dir / "redirect").exists()
        r = run_cli("bd", "create", "lands in the rig", cwd=rig.mayor_clone)
        assert r.returncode == 0, r.stderr
        assert "lands in the rig" in (rig.beads_dir / "issues.jsonl").read_text()
    assert list((elsewhere / ".beads").iterdir()) == []


def test_a_redirect_pulled_later_to_outside_the_town_is_refused(rig_town, tmp_path):
    elsewhere = tmp_path / "elsewhere" / ".beads"
    elsewhere.mkdir(parents=True)
    crew = rig_town.rig("demo").refinery_worktree
    for target in ("/etc", str(elsewhere), "../../../../elsewhere/.beads"):
        (crew / ".beads" / "redirect").write_text(target + "\n")
        r = run_cli("bd", "create", "x", cwd=crew)
        refused(r, "redirect")
        assert not r.stdout
    assert list(elsewhere.iterdir()) == []
    assert not any(p.name == "issues.jsonl" for p in (tmp_path / "elsewhere").rglob("*"))


# --- terminal-safe listings ------------------------------------------------------------------------

EVIL = "evil \x1b]0;PWNED\x07\x1b[2J\x9b31m [red]x[/] \x1bP+q\x1b\\ end"
SAFE = "evil  [red]x[/]  end"


def assert_terminal_safe(text: str) -> None:
    assert not any(ord(c) < 0x20 and c not in "\n\t" or 0x7F <= ord(c) <= 0x9F for c in text), repr(text)


@pytest.fixture
def evil_town(rig_town):
    """A town whose data (bead, convoy, mail, escalation) carries escape sequences."""
    from gastown_tui.beads.store import Store

    town = rig_town
    rig_store = Store(town.rig("demo").beads_dir)
    bead = rig_store.create(EVIL, description="desc " + EVIL, status="hooked", assignee="demo/polecats/nux")
    rig_store.create(EVIL, labels=["ready"])
    root = str(town.root)
    r = run_cli("gt", "convoy", "create", EVIL, "--json", "--town", root)
    assert r.returncode == 0, r.stderr
    convoy = json.loads(r.stdout)["id"]
    r = run_cli("gt", "mail", "send", "mayor", "-s", EVIL, "-m", "body " + EVIL, "--no-nudge", "--town", root)
    assert r.returncode == 0, r.stderr
    r = run_cli("gt", "escalate", EVIL, "--town", root)
    assert r.returncode == 0, r.stderr
    return town, bead.id, convoy


def listing_cases(bead_id, convoy):
    return [
        ("bd", ["list"]), ("bd", ["show", bead_id]), ("bd", ["ready"]), ("bd", ["search", "evil"]),
        ("gt", ["convoy", "list"]), ("gt", ["convoy", "status", convoy]),
        ("gt", ["hook", "demo/polecats/nux"]), ("gt", ["prime", "demo/polecats/nux"]),
        ("gt", ["mail", "inbox", "mayor"]), ("gt", ["escalate", "list"]),
    ]


def test_every_listing_strips_escapes_and_json_keeps_them(evil_town):
    town, bead_id, convoy = evil_town
    cwd = town.rig("demo").mayor_clone
    for prog, args in listing_cases(bead_id, convoy):
        r = run_cli(prog, *args, "--town", str(town.root), cwd=cwd) if prog == "gt" else run_cli(prog, *args, cwd=cwd)
        assert r.returncode == 0, (args, r.stderr)
        assert_terminal_safe(r.stdout)
        assert "[red]x[/]" in r.stdout, (args, r.stdout)
        j = run_cli(prog, *args, "--json", *(["--town", str(town.root)] if prog == "gt" else []), cwd=cwd)
        assert j.returncode == 0, (args, j.stderr)
        assert any(EVIL in s for s in strings(json.loads(j.stdout))), args  # --json keeps data exact


def strings(obj):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from strings(v)


def test_error_messages_quoting_data_are_terminal_safe(proj):
    r = bd("show", "gt-zzz\x1b]0;x\x07", cwd=proj)
    assert r.returncode != 0
    assert_terminal_safe(r.stderr)


# --- inputs that were accepted silently --------------------------------------------------------------

def test_silently_accepted_inputs_are_refused(rig_town):
    root = str(rig_town.root)
    settings = (rig_town.root / "settings" / "config.toml")
    before = settings.read_bytes() if settings.exists() else None
    cases = [
        (["config", "set", "default_agent", "nosuchrt"], 2, "not an agent runtime"),
        (["config", "set", "role_agents.polecat", "nosuchrt"], 2, "not an agent runtime"),
        (["config", "set", "role_agents.janitor", "sim"], 2, "not a role"),
        (["daemon", "logs", "--lines", "-1"], 2, "negative"),
        (["prime", "demo/polecats/nobody"], 1, "no polecat 'nobody'"),
        (["hook", "demo/polecats/nobody"], 1, "no polecat 'nobody'"),
        (["prime", "demo/crew/nobody"], 1, "no crew member 'nobody'"),
    ]
    for args, code, words in cases:
        r = run_cli("gt", *args, "--town", root)
        assert r.returncode == code, (args, r.returncode, r.stderr)
        refused(r, words)
    assert (settings.read_bytes() if settings.exists() else None) == before
    r = run_cli("gt", "config", "set", "default_agent", "sim", "--town", root)
    assert r.returncode == 0, r.stderr


def test_sling_and_the_witness_never_take_a_bad_id_as_a_name(rig_town):
    from gastown_tui.patrols.witness import bead_of_branch

    before = sorted(p.name for p in rig_town.rig("demo").polecats_dir.iterdir())
    r = run_cli("gt", "sling", "de-a/../../x", "demo", "--town", str(rig_town.root))
    refused(r, "not a valid bead id")
    assert sorted(p.name for p in rig_town.rig("demo").polecats_dir.iterdir()) == before
    assert bead_of_branch("polecat/nux/de-abc-k0") == "de-abc"
    assert bead_of_branch("polecat/nux/de-a/../../x-k0") is None
