"""How a failed push or fetch is told apart and said in one sentence (the refinery acts on the kind)."""

from __future__ import annotations

from gastown_tui.infra.git import _classify, _remote_error

NON_FF = """To /srv/up.git
 ! [rejected]        abc -> main (fetch first)
error: failed to push some refs to '/srv/up.git'
hint: Updates were rejected because the remote contains work that you do not
"""
HOOK = """remote: main is protected: open a pull request
To /srv/up.git
 ! [remote rejected] abc -> main (pre-receive hook declined)
error: failed to push some refs to '/srv/up.git'
"""
GONE = """fatal: '/srv/gone.git' does not appear to be a git repository
fatal: Could not read from remote repository.

Please make sure you have the correct access rights
and the repository exists.
"""
AUTH = "remote: Permission to o/r.git denied.\nfatal: unable to access 'https://h/o/r.git/': The requested URL returned error: 403\n"


def test_kinds():
    assert _classify(NON_FF, 1) == "non-fast-forward"
    assert _classify(HOOK, 1) == "rejected"
    assert _classify(GONE, 128) == "unreachable"
    assert _classify(AUTH, 128) == "auth"
    assert _classify("", -9) == "timeout"
    assert _classify("fatal: something new\n", 128) == "error"


def test_one_sentence_with_what_the_upstream_said():
    e = _remote_error("pushing main to", "/srv/up.git", HOOK, 1)
    assert e.kind == "rejected" and "\n" not in str(e)
    assert e.message == ("pushing main to /srv/up.git failed: the upstream refused it (pre-receive hook declined): "
                         "main is protected: open a pull request")
    e = _remote_error("fetching from", "/srv/gone.git", GONE, 128)
    assert e.message == "fetching from /srv/gone.git failed: '/srv/gone.git' does not appear to be a git repository"
    assert "nothing was lost" in str(e)
    assert "timed out" in _remote_error("pushing main to", "u", "", -9).message
