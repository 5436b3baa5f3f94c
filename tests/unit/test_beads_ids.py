"""Hash ids with bd's adaptive length, children, and the molecule/wisp/convoy forms."""

from __future__ import annotations

import re

from gastown_tui.beads import ids
from gastown_tui.beads.store import init_store


def test_adaptive_length_grows_with_the_store():
    assert ids.adaptive_length(0) == 3
    assert ids.adaptive_length(160) == 3
    assert ids.adaptive_length(170) == 4
    assert ids.adaptive_length(1_000) == 5
    assert ids.adaptive_length(10_000) == 6
    assert ids.adaptive_length(50_000) == 7
    assert ids.adaptive_length(10**9) == 8
    for n in (10, 500, 5_000, 50_000):
        length = ids.adaptive_length(n)
        assert ids.collision_probability(n, length) <= 0.25
        if length > ids.MIN_HASH_LENGTH:
            assert ids.collision_probability(n, length - 1) > 0.25


def test_generate_id_skips_taken_ids():
    taken: set[str] = set()
    made = []
    for _ in range(50):
        new = ids.generate_id("gt", title="same", description="", creator="me", timestamp_ns=1, count=0,
                              exists=taken.__contains__)
        assert new not in taken
        taken.add(new)
        made.append(new)
    assert all(re.fullmatch(r"gt-[0-9a-z]{3,8}", m) for m in made)


def test_store_id_forms(tmp_path):
    store = init_store(tmp_path, "gt")
    top = store.create("epic", type="epic")
    assert re.fullmatch(r"gt-[0-9a-z]{3}", top.id)
    c1 = store.create("step one", parent=top.id)
    c2 = store.create("step two", parent=top.id)
    assert (c1.id, c2.id) == (f"{top.id}.1", f"{top.id}.2")
    assert store.create("grandchild", parent=c1.id).id == f"{top.id}.1.1"
    mol = store.create("patrol", type="molecule")
    assert mol.id.startswith("gt-mol-")
    wisp = store.create("heartbeat", ephemeral=True)
    assert wisp.id.startswith("gt-wisp-") and wisp.is_ephemeral
    hq = init_store(tmp_path / "hq", "hq")
    cv = hq.create("batch", type="convoy")
    assert re.fullmatch(r"hq-cv-[0-9a-z]{5}", cv.id)


def test_prefix_from_config_yaml_as_bd_writes_it(tmp_path):
    beads = tmp_path / ".beads"
    beads.mkdir()
    (beads / "config.yaml").write_text("# bd config\nissue-prefix: \"wy\"\nsync-branch: beads-sync\n")
    (beads / "issues.jsonl").write_text("")
    from gastown_tui.beads.store import Store

    assert Store(beads).prefix == "wy"
    assert Store(beads).create("x").id.startswith("wy-")


# --- the id grammar (issue 12) ----------------------------------------------------------------

def test_every_id_written_by_real_bd_is_valid():
    import json

    from tests.conftest import REAL_FIXTURE

    seen = [json.loads(line)["id"] for line in REAL_FIXTURE.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(seen) > 5000
    assert [i for i in seen if not ids.is_valid_id(i)] == []


def test_the_grammar_accepts_the_known_forms():
    for good in ("gt-abc", "gt-a1b2c3d4", "gt-abc.1", "gt-abc.1.12", "gt-mol-x3k", "gt-wisp-78q", "hq-cv-0z9ab",
                 "gt-gastown-polecat-ace", "my_rig-abc", "gt-eph-8zq"):
        assert ids.id_problem(good) is None, good


def test_the_grammar_refuses_what_could_escape_or_forge_output():
    for bad in ("../../etc", "pr-a/../../../../victim", "gt-a\tb", "gt-a b", "gt-a\nb", "gt-\x1b[31mx",
                "gt-abc..1", "gt-abc.", "gt-abc.x", "gt", "gt-", "-abc", "1x-abc", "gt--abc", "gt-mol",
                "gt-" + "a" * ids.MAX_ID_LENGTH, "gt-é", "gt-a\\b", "", None, 7):
        assert ids.id_problem(bad), repr(bad)
        assert not ids.is_valid_id(bad)


def test_check_id_is_one_sentence_and_the_token_is_a_safe_name():
    import pytest

    from gastown_tui.errors import UsageError

    with pytest.raises(UsageError) as e:
        ids.check_id("gt-a\x1b]0;x\x07")
    assert "\x1b" not in str(e.value) and "\x07" not in str(e.value) and "not a valid bead id" in str(e.value)
    assert ids.token("gt-abc") == "gt-abc"
    tok = ids.token("pr-a/../../../../victim")
    assert ids.is_valid_id(tok) and "/" not in tok and tok != ids.token("pr-a/../../victim")


def test_ids_imports_without_re():
    import subprocess
    import sys

    code = "import sys; import gastown_tui.beads.ids; print('re' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
