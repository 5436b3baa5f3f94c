"""Attach from inside the user's own tmux (issue 14, item 7), driven as a user would.

The cockpit (`gt tui`, a real process) runs in a pane of the user's own tmux server; that server
has a real client in a stand-in terminal emulator, and every key is typed at that terminal. Three
private tmux servers: the town's (the agents), the user's, and the terminal's. Enter opens the
selected agent in a popup over the cockpit; one prefix+d (C-b d) closes it, leaves the user's own
session attached, and the cockpit answers keys again.
"""

from __future__ import annotations

import pytest

from tests.conftest import BIN, UserTerminal, user_clients, wait_for, wait_sim_ready

pytestmark = pytest.mark.tmux


@pytest.fixture
def sim_town(rig_town):
    from gastown_tui.town.config import load_settings

    s = load_settings(rig_town.root)
    s.set("default_agent", "sim")
    s.save()
    return rig_town


def test_enter_opens_the_agent_in_a_popup_and_prefix_d_returns_to_the_cockpit(sim_town, tmux):
    from gastown_tui.agents.sessions import start_agent
    from gastown_tui.town.identity import Agent

    start_agent(sim_town, Agent("mayor"), runtime="sim", prompt="", tmux=tmux)
    wait_sim_ready(tmux, "gt-mayor")
    tmux.send_keys("gt-mayor", "echo", "Space", "popup-proof", "Enter")  # a line only the agent's pane shows
    wait_for(lambda: "popup-proof" in tmux.capture("gt-mayor", ansi=False), message="the mayor's own line")
    size = tmux.window_size("gt-mayor")
    user = UserTerminal(tmux.socket_name)
    try:
        user.start([str(BIN / "gt"), "tui", "--town", str(sim_town.root)], cwd=sim_town.root)
        wait_for(lambda: "Output · mayor" in user.screen() and "popup-proof" in user.screen(), timeout=60,
                 message="the cockpit with the mayor selected and its output shown")

        user.keys("Enter")
        wait_for(lambda: user_clients(tmux, "gt-mayor"), timeout=20, message="a terminal client on the mayor's session")
        # the popup covers the cockpit with the agent's screen; its title (tmux 3.3+) says how back
        popup = wait_for(lambda: s if "popup-proof" in (s := user.screen()) and "Output · mayor" not in s else None,
                         timeout=30, message="the popup with the mayor's session")
        if tmux.server_version(user.outer.run("display-message", "-p", "#{socket_path}").stdout.decode().strip()) >= (3, 3):
            assert "gt-mayor · prefix d: back" in popup
        assert not user.outer.panes()["user"].dead  # the cockpit is still running under it

        user.keys("C-b", "d")
        wait_for(lambda: not user_clients(tmux, "gt-mayor"), timeout=30, message="the popup's client to detach")
        wait_for(lambda: "Output · mayor" in user.screen(), timeout=30, message="the cockpit back on the terminal")
        assert user.clients(), "prefix+d detached the user's own tmux session"
        assert "[detached" not in user.screen()
        wait_for(lambda: tmux.window_size("gt-mayor") == size, timeout=30, message="the agent's window size restored")

        user.keys("?")  # still responsive: the help screen opens, and Esc backs out
        wait_for(lambda: "Keys" in user.screen() and "Output · mayor" not in user.screen(), timeout=30,
                 message="the help screen")
        user.keys("Escape")
        wait_for(lambda: "Output · mayor" in user.screen(), timeout=30, message="the cockpit after help")
        user.keys("q")
        wait_for(lambda: user.outer.panes()["user"].dead, timeout=20, message="the cockpit to quit on q")
    finally:
        user.close()
