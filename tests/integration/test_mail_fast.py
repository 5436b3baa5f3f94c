"""`gt mail inbox --json`'s hand-parsed fast lane answers byte for byte as the argparse path does."""

from __future__ import annotations

import io
import json
import os
import sys

from gastown_tui.cli import mail_cmds
from gastown_tui.work import mail
from tests.work_helpers import gt


def _fast(argv: list[str]) -> tuple[int | None, str]:
    out, old = io.StringIO(), sys.stdout
    sys.stdout = out
    try:
        rc = mail_cmds.try_fast(argv)
    finally:
        sys.stdout = old
    return rc, out.getvalue()


def test_fast_lane_matches_the_full_inbox(rig_town):
    mail.send_mail(rig_town, "mayor", "Hello <there> & é", "body\nline", sender="demo/witness", nudge=False)
    mail.send_mail(rig_town, "demo/witness", "POLECAT_DONE nux", "Polecat: nux\n", sender="demo/polecats/nux", nudge=False)
    first = mail.send_mail(rig_town, "mayor", "Second", "b", nudge=False)[0]
    mail.ack(rig_town, [first["id"]])
    town = str(rig_town.root)
    cases = [["mayor"], ["mayor", "--unread"], ["mayor", "--all"], ["demo/witness"], ["deacon"]]
    for extra in cases:
        rc, text = _fast(["--town", town, "mail", "inbox", *extra, "--json"])
        assert rc == 0
        full = mail.inbox(rig_town, extra[0], unread_only="--unread" in extra, include_archived="--all" in extra)
        assert text == json.dumps(full, ensure_ascii=False) + "\n"
        # and the whole command agrees with the argparse path (--type forces it)
        slow = gt(rig_town, "mail", "inbox", *extra, "--json", "--type", "NOPE")
        assert slow.returncode == 0 and json.loads(slow.stdout) == []
    assert len(json.loads(_fast(["--town", town, "mail", "inbox", "mayor", "--json"])[1])) == 2


def test_fast_lane_steps_aside_for_everything_else(rig_town):
    town = str(rig_town.root)
    for argv in (["--town", town, "mail", "inbox", "--json"],  # whoami: the full path
                 ["--town", town, "mail", "inbox", "mayor"],  # the table
                 ["--town", town, "mail", "inbox", "nope/witness", "--json"],  # unknown rig: its error
                 ["--town", town, "mail", "inbox", "demo/nux", "--json"],  # short form: normalised by the full path
                 ["--town", town, "mail", "inbox", "mayor", "--type", "HELP", "--json"],
                 ["--town", os.path.join(town, "nowhere"), "mail", "inbox", "mayor", "--json"]):
        assert _fast(argv)[0] is None, argv
    r = gt(rig_town, "mail", "inbox", "nope/witness", "--json")
    assert r.returncode == 2 and "nope" in r.stderr and "Traceback" not in r.stderr
