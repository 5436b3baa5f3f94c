"""The tmux gateway against a real tmux server on a private socket."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gastown_tui.errors import Conflict, NotFound
from gastown_tui.infra.tmux import Tmux
from tests.conftest import wait_for

pytestmark = pytest.mark.tmux

CAT = ["cat"]  # an interactive program that echoes what it reads


def test_exact_targeting_never_prefix_matches(tmux, tmp_path):
    tmux.new_session("gt-demo-nux2", ["bash", "--norc", "--noprofile"], cwd=tmp_path)
    # Only the longer name exists: a prefix match would find it; exact targeting must not.
    assert not tmux.has_session("gt-demo-nux")
    assert tmux.capture_many(["gt-demo-nux"]) == {}
    with pytest.raises(NotFound):
        tmux.capture("gt-demo-nux")
    assert tmux.kill_session("gt-demo-nux") is False
    assert tmux.has_session("gt-demo-nux2")

    tmux.new_session("gt-demo-nux", ["bash", "--norc", "--noprofile"], cwd=tmp_path)
    tmux.send_keys("gt-demo-nux", "echo only-in-nux", "Enter")
    wait_for(lambda: "only-in-nux\n" in tmux.capture("gt-demo-nux", ansi=False) + "\n", message="echo in nux")
    assert "only-in-nux" not in tmux.capture("gt-demo-nux2", ansi=False)
    assert tmux.kill_session("gt-demo-nux")
    assert tmux.has_session("gt-demo-nux2") and not tmux.has_session("gt-demo-nux")


def test_new_session_env_cwd_size_and_options(tmux, tmp_path):
    info = tmux.new_session("gt-envtest", ["bash", "--norc", "--noprofile"], cwd=tmp_path,
                            env={"GT_ROLE": "mayor", "ODD": "a b;c"}, width=160, height=45,
                            options={"@gt_runtime": "sim"})
    assert (info.width, info.height) == (160, 45)
    assert info.runtime == "sim" and not info.dead and info.pid
    tmux.send_keys("gt-envtest", 'echo "[$GT_ROLE|$ODD|$PWD]"', "Enter")
    wait_for(lambda: f"[mayor|a b;c|{tmp_path}]" in tmux.capture("gt-envtest", ansi=False), message="env echoed")
    with pytest.raises(Conflict):
        tmux.new_session("gt-envtest", ["true"], cwd=tmp_path)
    # No window-size manual left behind anywhere.
    opts = tmux.run("show-options", "-g", "window-size").stdout.decode()
    assert "manual" not in opts
    assert "window-size" not in tmux.run("show-options", "-w", "-t", "=gt-envtest:").stdout.decode()


def test_pane_death_is_detected_with_status(tmux, tmp_path):
    tmux.new_session("gt-dies", ["sh", "-c", "echo bye; read x; exit 7"], cwd=tmp_path)
    wait_for(lambda: "bye" in tmux.capture("gt-dies", ansi=False), message="output")
    assert not tmux.panes()["gt-dies"].dead
    tmux.send_keys("gt-dies", "Enter")
    pane = wait_for(lambda: (p := tmux.panes().get("gt-dies")) and p.dead and p, message="pane dead")
    # tmux 3.3 fills #{pane_dead_status} only when it reaps the child before reading the pty's
    # EOF; under load it can stay empty for good (seen in CI). When tmux has it, it is ours.
    assert pane.dead_status in (7, None)
    assert "bye" in tmux.capture("gt-dies", lines=200, ansi=False)  # scrolled into history, still there


def test_capture_of_30_panes_uses_one_tmux_process(tmux, tmp_path):
    names = [f"gt-cap-{i:02d}" for i in range(30)]
    for i, n in enumerate(names):
        tmux.new_session(n, ["sh", "-c", f"printf 'pane-{i:02d}-line\\n'; exec cat"], cwd=tmp_path, width=80, height=20)
    wait_for(lambda: all(f"pane-{i:02d}-line" in t for i, t in enumerate(tmux.capture_many(names, ansi=False).values()))
             and len(tmux.capture_many(names)) == 30, message="all panes printed")
    calls = tmux.calls
    got = tmux.capture_many(names, ansi=True)
    assert tmux.calls == calls + 1
    assert sorted(got) == names
    for i, n in enumerate(names):
        assert got[n].splitlines()[0] == f"pane-{i:02d}-line"
    # A missing name in the middle does not lose the others.
    got = tmux.capture_many([names[0], "gt-cap-missing", names[1]], ansi=False)
    assert sorted(got) == [names[0], names[1]]
    # Activity of all panes in one call.
    calls = tmux.calls
    panes = tmux.panes()
    assert tmux.calls == calls + 1
    assert set(names) <= set(panes)
    assert all(p.activity > 0 for n, p in panes.items() if n in names)


def test_capture_last_lines_and_ansi(tmux, tmp_path):
    script = "for i in $(seq 1 80); do echo line-$i; done; printf '\\033[31mred\\033[0m\\n'; exec cat"
    tmux.new_session("gt-lines", ["sh", "-c", script], cwd=tmp_path, width=80, height=20)
    wait_for(lambda: "red" in tmux.capture("gt-lines", ansi=False), message="output")
    last = tmux.capture("gt-lines", lines=5, ansi=False).split("\n")
    assert last == ["line-77", "line-78", "line-79", "line-80", "red"]
    assert "\x1b[31m" in tmux.capture("gt-lines", lines=2, ansi=True)
    assert "\x1b[" not in tmux.capture("gt-lines", lines=2, ansi=False)


def test_paste_and_keys_reach_the_program_intact(tmux, tmp_path):
    tmux.new_session("gt-paste", CAT, cwd=tmp_path)
    text = "héllo ✓ $(x) `y` ; | & 'q' \"d\""
    tmux.paste("gt-paste", text, bracketed=True)
    tmux.send_keys("gt-paste", "Enter")
    # cat (cooked tty) echoes the typed line and then prints it again.
    wait_for(lambda: tmux.capture("gt-paste", ansi=False).count(text) == 2, message="pasted line echoed twice")


def test_copy_mode_is_left_before_paste(tmux, tmp_path):
    tmux.new_session("gt-copy", CAT, cwd=tmp_path)
    tmux.run("copy-mode", "-t", "=gt-copy:")
    assert tmux.panes()["gt-copy"].in_mode
    tmux.paste("gt-copy", "after-copy-mode", bracketed=True)
    tmux.send_keys("gt-copy", "Enter")
    assert not tmux.panes()["gt-copy"].in_mode
    wait_for(lambda: tmux.capture("gt-copy", ansi=False).count("after-copy-mode") == 2, message="text reached cat")


def test_attach_plan_forms(tmp_path):
    import shlex

    from gastown_tui.infra.tmux import parse_version

    tm = Tmux("gt-sockname")
    outside = tm.attach_plan("gt-mayor", environ={})
    assert outside.how == "attach" and outside.argv[1:] == ["-L", "gt-sockname", "attach-session", "-t", "=gt-mayor"]
    user_tmux = {"TMUX": "/tmp/tmux-0/default,123,0"}
    popup = tm.attach_plan("gt-mayor", environ=user_tmux, outer_version=(3, 3))
    assert popup.how == "popup" and popup.back == "prefix d"
    assert popup.argv[1:5] == ["-S", "/tmp/tmux-0/default", "display-popup", "-E"]  # on the user's server
    assert "-T" in popup.argv
    # one shell string (3.2 takes no argv); our TMUX_TMPDIR, so -L finds the town's server
    assert shlex.split(popup.argv[-1]) == ["env", "-u", "TMUX", "-u", "TMUX_TMPDIR", tm.tmux_bin, "-L", "gt-sockname",
                                           "attach-session", "-t", "=gt-mayor"]
    with_tmpdir = tm.attach_plan("gt-mayor", environ={**user_tmux, "TMUX_TMPDIR": "/run/x y"}, outer_version=(3, 2))
    assert "-T" not in with_tmpdir.argv  # popup titles came with 3.3
    assert shlex.split(with_tmpdir.argv[-1])[3] == "TMUX_TMPDIR=/run/x y"
    same = {"TMUX": "/tmp/tmux-0/gt-sockname,123,0"}
    assert tm.attach_plan("gt-mayor", environ=same, outer_version=(3, 4)).how == "popup"
    switch = tm.attach_plan("gt-mayor", environ=same, outer_version=(3, 1))
    assert switch.how == "switch" and switch.argv[-3:] == ["switch-client", "-t", "=gt-mayor"] and switch.back == "prefix L"
    nested = tm.attach_plan("gt-mayor", environ=user_tmux, outer_version=(2, 9))
    assert nested.how == "nested" and nested.argv[:3] == ["env", "-u", "TMUX"] and nested.back == "prefix prefix d"
    assert [parse_version(v) for v in ("3.3a\n", "next-3.4", "3.2-rc3", "master", "")] == \
        [(3, 3), (3, 4), (3, 2), (99, 0), (0, 0)]
    assert tm.server_version(str(tmp_path / "no-server")) == (0, 0)


@pytest.mark.parametrize("how,version,detach,same", [("popup", None, ["C-b", "d"], False),
                                                     ("nested", (3, 1), ["C-b", "C-b", "d"], False),
                                                     ("popup", None, ["C-b", "d"], True)])
def test_attach_inside_the_users_tmux_returns_with_the_documented_keys(tmux, tmp_path, how, version, detach, same):
    """A program inside the user's tmux (or a session of the town's own server: `same`) attaches
    to an agent; the keys the plan names (typed at the user's terminal, through their tmux client)
    detach the agent, not the user's session; the program carries on, and the agent's window goes
    back to its configured size."""
    from tests.conftest import UserTerminal, user_clients

    tmux.new_session("gt-attachme", ["bash", "--norc", "--noprofile"], cwd=tmp_path, width=200, height=50)
    done = tmp_path / "caller-continued"
    caller = tmp_path / "caller.py"
    caller.write_text(
        "import subprocess, sys\n"
        "from gastown_tui.infra.tmux import Tmux\n"
        f"plan = Tmux({tmux.socket_name!r}).attach_plan('gt-attachme', outer_version={version!r})\n"
        f"open({str(tmp_path / 'how')!r}, 'w').write(plan.how)\n"
        "rc = subprocess.run(plan.argv).returncode\n"
        f"open({str(done)!r}, 'w').write(str(rc))\n"
        "print('CALLER CONTINUES', flush=True)\n"
        "sys.stdin.read()\n"
    )
    user = UserTerminal(tmux.socket_name, outer=tmux if same else None)
    try:
        user.start([sys.executable, str(caller)], cwd=tmp_path, width=120, height=40,
                   env={"PYTHONPATH": os.pathsep.join(sys.path)})
        wait_for(lambda: user_clients(tmux, "gt-attachme"), timeout=30, message="client attached")
        assert (tmp_path / "how").read_text() == how
        assert tmux.window_size("gt-attachme")[0] <= 120  # follows the attached client
        user.keys(*detach)
        wait_for(done.exists, timeout=30, message="caller continued after detach")
        assert done.read_text() == "0"
        wait_for(lambda: "CALLER CONTINUES" in user.screen(), timeout=30, message="caller output on the user's terminal")
        assert user.clients(), "the user's own tmux client was detached"
        wait_for(lambda: tmux.window_size("gt-attachme") == (200, 50), timeout=30, message="size restored after detach")
        assert "window-size" not in tmux.run("show-options", "-w", "-t", "=gt-attachme:").stdout.decode()
        assert tmux.has_session("gt-attachme")
    finally:
        user.close()


def test_no_server_means_empty_listings(tmp_path):
    tm = Tmux(f"gt-never-started-{os.getpid()}")
    assert tm.panes() == {}
    assert tm.list_sessions() == []
    assert tm.capture_many(["gt-x"]) == {}
    assert tm.has_session("gt-x") is False


def test_gateway_is_the_only_tmux_caller():
    """Layering: only infra imports libtmux; the agents layer runs no subprocess and loads no libtmux."""
    root = Path(__file__).resolve().parents[2] / "gastown_tui"
    offenders = [p.relative_to(root).as_posix() for p in root.rglob("*.py")
                 if not p.relative_to(root).as_posix().startswith("infra/")
                 and "import libtmux" in p.read_text(encoding="utf-8")]
    assert offenders == []
    for name in ("nudge", "status", "sessions", "runtimes"):
        text = (root / "agents" / f"{name}.py").read_text(encoding="utf-8")
        assert "import subprocess" not in text and "libtmux" not in text.replace("libtmux is", "")
    out = subprocess.run([sys.executable, "-c", "import gastown_tui.agents.nudge, gastown_tui.agents.status, "
                          "gastown_tui.agents.sessions, sys; print('libtmux' in sys.modules)"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
