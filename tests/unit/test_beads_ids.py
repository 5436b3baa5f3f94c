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
