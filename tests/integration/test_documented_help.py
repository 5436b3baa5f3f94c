"""`--help` of every command the Gas Town documents use lists the flags they write (issue 17)."""

from __future__ import annotations

import pytest

from tests.conftest import run_cli

# (command, flags) as the operations guide, the understanding document and the concepts reference spell them
DOCUMENTED = [
    ("gt start", ["--all"]),
    ("gt shutdown", ["--all", "--polecats-only"]),
    ("gt sling", ["--model"]),
    ("gt done", ["--exit"]),
    ("gt polecat done", ["--exit"]),
    ("gt park", ["--gate", "--message", "--handoff"]),
    ("gt resume", ["--check-handoff"]),
    ("gt escalate", ["-s", "--type", "--to", "--forward", "--question", "--options", "--context", "--issue"]),
    ("gt convoy create", ["--notify"]),
    ("gt convoy list", ["--all"]),
    ("gt mail send", ["-s", "-m", "--human"]),
    ("gt mail inbox", ["--human"]),
    ("gt nudge", ["--force", "channel:"]),
    ("gt rig start", []), ("gt rig stop", []), ("gt rig status", []), ("gt rig reboot", []),
    ("gt session stop", []), ("gt session restart", []), ("gt session health", []),
    ("gt agents", []), ("gt mq status", []), ("gt witness attach", []),
    ("gt deacon start", []), ("gt deacon stop", []), ("gt deacon status", []),
    ("gt escalate", ["answer"]),
    ("bd create", ["--prefix"]),
    ("bd ready", ["--parent"]),
    ("bd close", ["--continue"]),
    ("bd list", ["--status"]),
    ("bd gate create", ["TITLE"]),
    ("bd gate status", []),
    ("bd mol current", []),
    ("bd squash", []), ("bd burn", []),
    ("bd stats", ["--actor", "--group-by"]),
]


@pytest.mark.parametrize(("command", "flags"), DOCUMENTED, ids=[c for c, _ in DOCUMENTED])
def test_help_lists_the_documents_flags(command, flags):
    prog, *words = command.split()
    r = run_cli(prog, *words, "--help")
    assert r.returncode == 0, r.stderr
    for flag in flags:
        assert flag in r.stdout, f"'{command} --help' does not mention {flag}"
