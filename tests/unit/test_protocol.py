"""Protocol mail: structured subjects and `Key: value` bodies round-trip."""

from __future__ import annotations

import pytest

from gastown_tui.work import protocol
from gastown_tui.sim.work import bead_faults, parse_edits


def test_subject_and_body_round_trip():
    subj = protocol.subject("POLECAT_DONE", "nux")
    body = protocol.body({"Polecat": "nux", "Rig": "demo", "Bead": "de-abc", "MR": "", "Note": "two\nlines"},
                         "free text\nhere")
    t, arg, fields = protocol.parse(subj, body)
    assert (t, arg) == ("POLECAT_DONE", "nux")
    assert fields["Polecat"] == "nux" and fields["Bead"] == "de-abc"
    assert "MR" not in fields  # empty values are left out
    assert fields["Note"] == "two lines"
    assert fields["_text"] == "free text\nhere"


def test_ordinary_subjects_are_not_protocol():
    assert protocol.message_type("Hello there") is None
    assert protocol.message_type("MERGED de-1") == "MERGED"
    assert all(protocol.is_protocol(protocol.subject(t)) for t in protocol.PROTOCOL_TYPES)
    with pytest.raises(ValueError):
        protocol.subject("NOT_A_TYPE")


def test_sim_parses_file_blocks_in_both_styles():
    desc = ("Do it.\n\n```file: src/a.py\nprint('a')\n```\n\nand\n\nfile: b/c.txt\n```text\nline 1\nline 2\n```\n"
            "```python\nnot a file block\n```\n")
    assert parse_edits(desc) == [("src/a.py", "print('a')\n"), ("b/c.txt", "line 1\nline 2\n")]
    assert parse_edits("no blocks") == []


def test_sim_faults_come_from_sim_labels_only():
    f = bead_faults(["sim:slow=2", "sim:conflict", "urgent", "sim:fail-tests"])
    assert f == {"slow": 2.0, "conflict": True, "fail-tests": True}
