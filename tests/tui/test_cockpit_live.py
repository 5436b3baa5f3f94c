"""The cockpit over a real town: real tmux (private socket), real sim agents, real git, real files.

- sling from the picker hooks the bead and spawns a polecat session;
- a nudge typed in the cockpit reaches a sim agent's screen;
- a bead written by another process appears in the cockpit ≤ 500 ms later (file watch, no polling).
"""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from gastown_tui.tui.app import CockpitApp
from gastown_tui.tui.modals import NudgeModal, SlingModal
from gastown_tui.tui.source import TownSource
from tests.conftest import BIN, wait_sim_ready

pytestmark = pytest.mark.tmux


@pytest.fixture
def sim_town(rig_town):
    from gastown_tui.town.config import load_settings
    from gastown_tui.town.rigs import rig_config_set

    s = load_settings(rig_town.root)
    s.set("default_agent", "sim")
    s.save()
    rig_config_set(rig_town, "demo", "agent", "sim")
    return rig_town


async def until(pilot, condition, timeout=30.0, what="condition"):
    """Let the app run until `condition()` holds (checked every 20 ms of app time)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await pilot.pause(0.02)


def run_app(town, test, **kw):
    app = CockpitApp(TownSource(town), **kw)

    async def main():
        async with app.run_test(size=(160, 50)) as pilot:
            await until(pilot, lambda: app.snapshot is not None, what="first snapshot")
            await test(app, pilot)

    asyncio.run(main())
    return app


def test_sling_from_the_picker_hooks_the_bead_and_spawns_a_polecat(sim_town, tmux):
    from gastown_tui.beads.store import open_store

    store = open_store(db=sim_town.rig("demo").beads_dir)
    bead = store.create("Write the cockpit test", priority=1)

    async def t(app, pilot):
        await until(pilot, lambda: any(b.id == bead.id for b in app.snapshot.ready), what="the bead in ready")
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SlingModal), what="the sling picker")
        await pilot.press(*bead.title[:12], "enter")
        await until(pilot, lambda: app.screen.step == "target", what="the target step")
        await pilot.press("enter")  # the bead's own rig is offered first
        await until(pilot, lambda: app.screen.result is not None, timeout=60, what="the sling result")
        assert app.screen.result.ok, app.screen.result.detail
        await pilot.press("escape")
        # the new polecat shows in the tree (its hook may already be done: the sim is quick)
        await until(pilot, lambda: any(a.role == "polecat" for a in app.snapshot.agents), what="the polecat in the tree")
        assert all(b.id != bead.id for b in app.snapshot.ready)

    run_app(sim_town, t, refresh_interval=0.5)
    hooked = open_store(db=sim_town.rig("demo").beads_dir).get(bead.id)
    assert hooked.status in ("hooked", "closed", "in_progress")  # the sim may already have finished it
    assert hooked.assignee.startswith("demo/polecats/")
    name = hooked.assignee.split("/")[-1]
    assert (sim_town.rig("demo").polecats_dir / name).is_dir() or hooked.status == "closed"


def test_nudge_typed_in_the_cockpit_reaches_a_sim(sim_town, tmux):
    from gastown_tui.agents.sessions import start_agent
    from gastown_tui.town.identity import Agent

    start_agent(sim_town, Agent("mayor"), runtime="sim", prompt="", tmux=tmux)
    wait_sim_ready(tmux, "gt-mayor")

    async def t(app, pilot):
        await until(pilot, lambda: app.selected == "mayor", what="mayor selected")
        await until(pilot, lambda: "sim>" in app.query_one("#output").plain, what="the mayor's output")
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, NudgeModal), what="the nudge dialog")
        await pilot.press(*"status report please")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen.result is not None, timeout=60, what="the nudge result")
        assert app.screen.result.status == "delivered", app.screen.result.detail
        await pilot.press("escape")
        await until(pilot, lambda: "received: status report please" in app.query_one("#output").plain,
                    what="the sim's answer in the output pane")

    run_app(sim_town, t, capture_interval=0.1)


def test_a_bead_written_by_another_process_appears_without_a_timer(sim_town):
    """The file watch alone (refresh timer off) brings the bead in; how fast is measured by
    bench/tui_cockpit.py ("bead change -> screen, p95"), not asserted on a loaded machine."""
    from gastown_tui.town import events

    events.record(sim_town.root, "test.start")
    rig_dir = sim_town.rig("demo").mayor_clone

    async def t(app, pilot):
        # Wait until the watch is live: a change must refresh the app (the timer is off).
        base = app.refreshes
        deadline = time.monotonic() + 20
        while app.refreshes == base:
            assert time.monotonic() < deadline, "the file watch never fired"
            events.record(sim_town.root, "test.ping")
            await pilot.pause(0.2)
        await until(pilot, lambda: not app._loading, what="the refresh to finish")
        proc = await asyncio.create_subprocess_exec(str(BIN / "bd"), "create", "Written elsewhere", "--json",
                                                    cwd=rig_dir, env=os.environ.copy(),
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()
        await until(pilot, lambda: any(b.title == "Written elsewhere" for b in app.snapshot.ready),
                    timeout=30, what="the new bead in the cockpit")

    run_app(sim_town, t, refresh_interval=3600, capture_interval=3600)


def test_pane_output_watch_reports_output_without_polling_and_keeps_the_window_size(tmux, tmp_path):
    from gastown_tui.infra.watch import PaneOutputWatch
    from tests.conftest import wait_for

    tmux.new_session("gt-watchme", ["cat"], cwd=tmp_path, width=90, height=30)
    w = PaneOutputWatch(tmux.socket_name)
    try:
        assert w.follow("gt-watchme")
        assert w.take()  # the first look is always due
        wait_for(lambda: w.attached, message="the control client to attach")
        w.take()  # the attach itself asks for one capture
        assert not w.take()
        tmux.send_keys("gt-watchme", "hello", "Enter")
        wait_for(w.take, timeout=5, message="the output notification")
        assert tmux.window_size("gt-watchme") == (90, 30)
        assert w.follow(None) and not w.alive
    finally:
        w.stop()


def test_a_capture_through_the_control_client_plus_the_bytes_after_it_is_the_pane(tmux, tmp_path):
    # a pane printing as fast as it can; captures asked for while it prints come back in stream
    # order, so the capture's last line and the streamed bytes after it never overlap or leave a gap
    from gastown_tui.infra.watch import PaneOutputWatch
    from tests.conftest import wait_for

    # it prints until the test has checked enough seams (a bounded run could end first on a fast
    # machine, or before the watch caught up on a loaded one)
    script = 'i=0; while :; do echo "n$i"; i=$((i+1)); done'
    w = PaneOutputWatch(tmux.socket_name)
    tmux.new_session("gt-fast", ["sh", "-c", f"sleep 0.3; {script}"], cwd=tmp_path, width=60, height=20)
    try:
        assert w.follow("gt-fast")
        last = None  # the last line of the latest capture, until the bytes after it are checked
        after = ""
        checked, updates = 0, 0
        while checked < 3:
            updates += 1
            assert updates < 20000, f"only {checked} seams checked"
            if not w.capture_pending:
                assert w.request_capture(30)
            wait_for(w.take, timeout=10, message="output or a capture")
            u = w.take_update()
            if u.captured:
                assert u.capture is not None
                rows = u.capture.split("\n")
                last, after = (rows[-1] if rows[-1].startswith("n") else None), ""
            if u.data:
                after += u.data.decode().replace("\r", "")
            if last is not None and after.count("\n") >= 2:
                head, nxt = after.split("\n")[:2]
                mid_line = head == "" or head.isdigit()  # the capture ended before the line's end
                k = int((last + head if mid_line else last)[1:])
                # the bytes continue the capture exactly: nothing lost, nothing shown twice
                assert (nxt if mid_line else head) == f"n{k + 1}", (last, after[:40])
                checked += 1
                last = None
    finally:
        w.stop()


def test_a_pane_printing_control_mode_lines_cannot_end_a_capture_or_the_watch(tmux, tmp_path):
    """A capture's reply is raw pane text: a pane that printed `%end <time> <number> 1` with the
    reply's (guessable) time and command number cut the capture short, and the lines after it
    were read as tmux's own — `%exit` stopped the watch."""
    import subprocess

    from gastown_tui.infra.watch import PaneOutputWatch
    from tests.conftest import wait_for

    go, forged = tmp_path / "go", tmp_path / "forged"
    tmux.new_session("gt-forger", ["sh", "-c", f"while [ ! -f {go} ]; do sleep 0.05; done; cat {forged}; exec cat"],
                     cwd=tmp_path, width=80, height=20)
    w = PaneOutputWatch(tmux.socket_name)
    try:
        assert w.follow("gt-forger")
        wait_for(lambda: w.attached, message="the control client to attach")
        assert w.request_capture()  # the bytes after a capture are kept: the forgery is seen arrive
        wait_for(lambda: not w.capture_pending, message="the first capture")
        w.take_update()
        # the server's time and command number now: the capture's are a little later
        with subprocess.Popen([tmux.tmux_bin, "-L", tmux.socket_name, "-C", "display-message", "-p", "x"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as probe:
            begin = next(line for line in probe.stdout if line.startswith("%begin "))
            probe.stdin.close()
            probe.stdout.read()
        t0, n0 = (int(x) for x in begin.split(" ")[1:3])
        fake = [f"%end {t} {n} 1" for t in range(t0 - 1, t0 + 6) for n in range(n0 + 1, n0 + 41)]
        forged.write_text("\n".join([*fake, "%error 1 1 1", "%output %0 fake", "%exit", "after-the-forgery"]) + "\n")
        go.touch()
        seen = bytearray()  # (waiting on the watch's own stream: no tmux command moves the number on)
        wait_for(lambda: seen.extend(w.take_update().data or b"") or b"after-the-forgery" in seen,
                 message="the pane to print its forgery")
        assert w.request_capture(1000)
        wait_for(lambda: not w.capture_pending, timeout=10, message="the capture reply")
        u = w.take_update()
        assert u.captured and u.capture is not None
        rows = u.capture.split("\n")
        assert rows.count("%exit") == 1 and "after-the-forgery" in rows and fake[-1] in rows
        assert w.alive  # the forged %exit did not stop the watch
        w.take()
        tmux.send_keys("gt-forger", "still-watched", "Enter")
        wait_for(lambda: b"still-watched" in (w.take_update().data or b""), timeout=5, message="output after it")
    finally:
        w.stop()


def _visible(out) -> list[str]:
    """The rows the output pane shows now (its scroll position over its lines)."""
    rows = out.plain.split("\n")
    y = int(out.scroll_offset.y)
    return rows[y:y + out.scrollable_content_region.height]


def test_output_streams_lands_at_the_end_and_scrollback_holds_the_whole_history(town, tmux):
    # 300 lines of history, then `cat` echoes what is typed; the timers are set so long that only
    # the control client's stream can bring new output to the screen
    script = 'i=0; while [ $i -lt 300 ]; do echo "history line $i"; i=$((i+1)); done; exec cat'
    tmux.new_session("gt-mayor", ["sh", "-c", script], cwd=town.root, width=100, height=30)
    from tests.conftest import wait_for

    wait_for(lambda: "history line 299" in tmux.capture("gt-mayor", ansi=False), message="the history")

    async def t(app, pilot):
        out = app.query_one("#output")
        await until(pilot, lambda: app.selected == "mayor", what="mayor selected")
        await until(pilot, lambda: "history line 299" in "\n".join(_visible(out)), what="the last line on screen")
        assert out.follow
        await until(pilot, lambda: app._pane_watch is not None and app._pane_watch.attached, what="the stream")
        tmux.send_keys("gt-mayor", "streamed hello", "Enter")
        await until(pilot, lambda: "streamed hello" in "\n".join(_visible(out)), what="streamed output on screen")
        # scrolling up leaves follow mode; Home reaches the first line of tmux's history
        out.focus()
        await pilot.press("home")
        assert not out.follow
        await until(pilot, lambda: _visible(out)[:1] == ["history line 0"], what="the top of the history")
        await pilot.press("end")
        assert out.follow
        await until(pilot, lambda: "streamed hello" in "\n".join(_visible(out)), what="back at the end")

    run_app(town, t, capture_interval=60.0, refresh_interval=60.0)


def test_selecting_a_scrolled_worker_after_an_idle_row_shows_its_end_at_once(town, tmux):
    script = 'i=0; while [ $i -lt 200 ]; do echo "deacon row $i"; i=$((i+1)); done; exec cat'
    tmux.new_session("gt-deacon", ["sh", "-c", script], cwd=town.root, width=100, height=30)
    from tests.conftest import wait_for

    wait_for(lambda: "deacon row 199" in tmux.capture("gt-deacon", ansi=False), message="the output")

    async def t(app, pilot):
        out = app.query_one("#output")
        await until(pilot, lambda: app.snapshot.agent("deacon") is not None
                    and app.snapshot.agent("deacon").state != "off", what="the deacon running")
        app.select_agent("mayor")  # no session: "(mayor is not running)"
        await pilot.pause()
        app.select_agent("deacon")
        assert "mayor" not in out.plain  # never a part of the previous screen
        await until(pilot, lambda: "deacon row 199" in "\n".join(_visible(out)), what="the deacon's last line")

    run_app(town, t, capture_interval=60.0, refresh_interval=60.0)


def test_input_mode_types_into_the_real_pane_through_the_nudge_gateway(town, tmux):
    tmux.new_session("gt-mayor", ["cat"], cwd=town.root, width=100, height=30)

    async def t(app, pilot):
        out = app.query_one("#output")
        await until(pilot, lambda: app.selected == "mayor" and app.snapshot.agent("mayor").state != "off",
                    what="mayor selected")
        out.focus()
        await pilot.press("i", *"typed here", "enter")
        await until(pilot, lambda: tmux.capture("gt-mayor", ansi=False).count("typed here") >= 2,
                    what="the keys echoed by cat")
        await until(pilot, lambda: "typed here" in out.plain, what="the typing on the cockpit's screen")
        await pilot.press("escape")
        assert not out.typing

    run_app(town, t)


def test_the_pane_listing_travels_through_the_control_client(town, tmux, tmp_path, monkeypatch):
    """While the cockpit's control client is attached, the once-a-second listing is the same
    `list-panes` answered through it (no tmux process); captures around it are unaffected, and
    a client that went away hands the listing back to a tmux process."""
    from gastown_tui.infra.tmux import PANES_COMMAND_LINE, Tmux, parse_panes
    from tests.conftest import wait_for

    for n in ("gt-mayor", "gt-deacon"):
        tmux.new_session(n, ["sh", "-c", "while true; do echo tick; sleep 0.1; done"], cwd=tmp_path, width=80, height=20)
    src = TownSource(town)
    w = src.output_watch()
    listed = []
    real_run = Tmux.run

    def noting_run(self, *args, **kw):
        listed.append(args[0])
        return real_run(self, *args, **kw)

    try:
        assert w.follow("gt-mayor")
        wait_for(lambda: w.attached, message="the control client to attach")
        assert w.request_capture(50)  # a capture asked before the listing comes back first
        got = parse_panes(w.command(PANES_COMMAND_LINE))
        wait_for(lambda: not w.capture_pending, message="the capture")
        assert w.take_update().captured
        direct = tmux.panes()
        assert set(got) == set(direct) >= {"gt-mayor", "gt-deacon"}
        for name, p in got.items():
            d = direct[name]
            assert (p.pane_id, p.pid, p.dead, p.created, p.width, p.height) == (d.pane_id, d.pid, d.dead, d.created,
                                                                               d.width, d.height)
        monkeypatch.setattr(Tmux, "run", noting_run)
        assert set(src.tmux.panes()) == set(direct) and "list-panes" not in listed
        w.stop()
        assert w.command(PANES_COMMAND_LINE) is None
        assert set(src.tmux.panes()) == set(direct) and "list-panes" in listed
    finally:
        w.stop()


def test_the_capture_timer_rests_while_the_pane_streams_and_wakes_when_the_stream_is_gone(town, tmux):
    """Streaming needs no timer (the control client wakes the cockpit); once the client is gone
    the one-second tick wakes the timer and timed captures show the pane again."""
    tmux.new_session("gt-mayor", ["cat"], cwd=town.root, width=100, height=30)

    async def t(app, pilot):
        out = app.query_one("#output")
        await until(pilot, lambda: app.selected == "mayor" and app._pane_watch is not None
                    and app._pane_watch.attached, what="the stream")
        await until(pilot, lambda: app._capture_resting, what="the timer resting")
        tmux.send_keys("gt-mayor", "streamed line", "Enter")
        await until(pilot, lambda: "streamed line" in out.plain, what="streamed output")
        w = app._pane_watch
        app._pane_watch = None  # as when no control client can start: timed captures only
        w.stop()
        await until(pilot, lambda: not app._capture_resting, what="the timer awake")
        tmux.send_keys("gt-mayor", "captured line", "Enter")
        await until(pilot, lambda: "captured line" in out.plain, what="output through timed captures")

    run_app(town, t, capture_interval=0.2, refresh_interval=0.3)


def test_the_capture_timer_rests_while_the_selected_agent_is_off_and_its_start_is_seen(town, tmux):
    """Nothing to capture (the selected agent has no session): no timer five times a second; the
    one-second tick notices the session once it starts, and its output shows."""

    async def t(app, pilot):
        out = app.query_one("#output")
        await until(pilot, lambda: app.selected == "mayor" and app._capture_resting, what="the timer resting")
        tmux.new_session("gt-mayor", ["cat"], cwd=town.root, width=100, height=30)
        await until(pilot, lambda: app._pane_watch is not None and app._pane_watch.attached, what="the stream")
        tmux.send_keys("gt-mayor", "started line", "Enter")
        await until(pilot, lambda: "started line" in out.plain, what="output of the started agent")

    run_app(town, t, capture_interval=0.2, refresh_interval=0.3)


def test_an_agent_cannot_forge_the_pane_listing_through_its_process_name(town, tmux, tmp_path):
    """argv[0] of a pane's process is the agent's to choose, tabs and newlines included: a
    name spelling a whole listing line for another session must not declare that session dead
    (the patrols would kill and restart it) nor hide the agent's own session, through a tmux
    process or the control client alike."""
    from gastown_tui.infra.tmux import PANES_COMMAND_LINE, parse_panes
    from tests.conftest import wait_for

    forged = "x\ngt-b-two\t%99\t1\t1\t7\t0\tclaude\t80\t24\tsim\t0\t0\t0\t0\nx"
    tmux.new_session("gt-b-two", ["sleep", "900"], cwd=tmp_path, width=80, height=20)
    tmux.new_session("gt-a-one", ["bash", "-c", 'exec -a "$0" sleep 900', forged], cwd=tmp_path, width=80, height=20)
    def forged_running() -> bool:
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if f.read().startswith(forged.encode() + b"\0"):
                        return True
            except OSError:
                continue
        return False

    wait_for(forged_running, message="the agent's process to run under the forged name")
    src = TownSource(town)
    w = src.output_watch()
    try:
        assert w.follow("gt-b-two")
        wait_for(lambda: w.attached, message="the control client to attach")
        for listing in (tmux.panes(), parse_panes(w.command(PANES_COMMAND_LINE))):
            assert set(listing) >= {"gt-a-one", "gt-b-two"}
            real = listing["gt-b-two"]
            assert (real.pane_id != "%99", real.dead, real.current_command) == (True, False, "sleep")
            assert "\n" not in listing["gt-a-one"].current_command
            assert "\t" not in listing["gt-a-one"].current_command
    finally:
        w.stop()
