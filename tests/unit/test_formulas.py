"""Formula files: parsing, built-ins, search path, inheritance, and errors with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from gastown_tui.errors import NotFound, UsageError
from gastown_tui.work import formulas as F

BUILTINS = ("polecat-work", "code-review", "release", "design", "witness-patrol", "refinery-patrol",
            "deacon-patrol")


def write(d: Path, name: str, text: str) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    p = d / f"{name}.formula.toml"
    p.write_text(text)
    return p


def test_builtin_dir_holds_at_least_six_valid_formulas():
    infos = {i.name: i for i in F.list_formulas(F.search_paths())}
    assert set(BUILTINS) <= set(infos)
    assert all(infos[n].source == "builtin" and infos[n].type != "invalid" for n in BUILTINS)
    assert infos["code-review"].type == "convoy"


@pytest.mark.parametrize("name", BUILTINS)
def test_every_builtin_loads_and_its_needs_are_acyclic(name):
    f = F.load_formula(name, F.search_paths())
    assert f.name == name and f.steps
    order = [s.id for s in F.topo_order(f.steps)]
    for s in f.steps:
        for n in s.needs:
            assert order.index(n) < order.index(s.id)


def test_code_review_is_a_convoy_of_four_legs_and_a_synthesis_last():
    f = F.load_formula("code-review", F.search_paths())
    assert [leg.id for leg in f.legs] == ["correctness", "security", "performance", "style"]
    assert f.synthesis is not None and f.synthesis.needs == ["correctness", "security", "performance", "style"]
    values, steps = F.render(f, {"target": "feature/x"})
    assert values["base_branch"] == "main"
    assert steps[-1].id == "synthesis" and "feature/x" in steps[0].title


def test_vars_substitute_and_required_missing_or_unknown_are_refused_with_line():
    f = F.load_formula("release", F.search_paths())
    _, steps = F.render(f, {"version": "2.0.1"})
    assert any("2.0.1" in s.title for s in steps)
    with pytest.raises(F.FormulaError) as e:
        F.render(f, {})
    assert "needs var 'version'" in str(e.value)
    assert str(e.value).startswith(f"{f.path}:{f.vars['version'].line}:")
    assert f.text.splitlines()[f.vars["version"].line - 1].strip() == "[vars.version]"
    with pytest.raises(F.FormulaError, match="has no var 'colour'"):
        F.render(f, {"version": "1", "colour": "red"})


def test_syntax_error_names_file_line_and_column(tmp_path):
    p = write(tmp_path, "broken", 'formula = "broken"\n[[steps]]\nid = "a"\ntitle = \n')
    with pytest.raises(F.FormulaError) as e:
        F.parse_file(p)
    assert e.value.exit_code == 2
    assert str(e.value).startswith(f"{p}:4:")
    assert "syntax" in str(e.value)


def test_needs_naming_a_missing_step_is_refused_at_its_line(tmp_path):
    text = 'formula = "x"\n\n[[steps]]\nid = "a"\n\n[[steps]]\nid = "b"\nneeds = ["a", "zzz"]\n'
    p = write(tmp_path, "x", text)
    with pytest.raises(F.FormulaError) as e:
        F.load_formula("x", [tmp_path])
    assert str(e.value).startswith(f"{p}:8:1: step 'b' needs 'zzz'")


def test_cycle_of_needs_is_refused(tmp_path):
    text = ('formula = "c"\n[[steps]]\nid = "a"\nneeds = ["c"]\n[[steps]]\nid = "b"\nneeds = ["a"]\n'
            '[[steps]]\nid = "c"\nneeds = ["b"]\n')
    write(tmp_path, "c", text)
    with pytest.raises(F.FormulaError, match="cycle: a -> c -> b -> a"):
        F.load_formula("c", [tmp_path])


def test_undeclared_placeholder_is_refused_at_its_line(tmp_path):
    p = write(tmp_path, "u", 'formula = "u"\n[[steps]]\nid = "a"\ntitle = "Do {{thing}}"\n')
    with pytest.raises(F.FormulaError) as e:
        F.load_formula("u", [tmp_path])
    assert str(e.value).startswith(f"{p}:4:1:") and "{{thing}}" in str(e.value)


def test_duplicate_step_ids_and_unknown_keys_are_refused(tmp_path):
    write(tmp_path, "d", 'formula = "d"\n[[steps]]\nid = "a"\n[[steps]]\nid = "a"\n')
    with pytest.raises(F.FormulaError, match=r"d.formula.toml:5:1: step id 'a' is used twice"):
        F.load_formula("d", [tmp_path])
    write(tmp_path, "k", 'formula = "k"\nbogus = 1\n[[steps]]\nid = "a"\n')
    with pytest.raises(F.FormulaError, match=r"k.formula.toml:2:1: unknown key 'bogus'"):
        F.load_formula("k", [tmp_path])


def test_search_order_rig_then_town_then_builtin(tmp_path):
    rig_dir, town_dir = tmp_path / "rig" / ".beads" / "formulas", tmp_path / "town" / "formulas"
    write(town_dir, "release", 'formula = "release"\ndescription = "town release"\n[[steps]]\nid = "only"\n')
    paths = [town_dir, F.builtin_dir()]
    infos = {i.name: i for i in F.list_formulas(paths)}
    assert infos["release"].source == "town" and infos["release"].shadows
    assert [s.id for s in F.load_formula("release", paths).steps] == ["only"]
    write(rig_dir, "release", 'formula = "release"\n[[steps]]\nid = "rig-step"\n')
    assert [s.id for s in F.load_formula("release", [rig_dir, *paths]).steps] == ["rig-step"]
    assert {i.name: i for i in F.list_formulas([rig_dir, *paths])}["release"].source == "rig"


def test_extends_inherits_vars_and_steps_and_overrides_by_id(tmp_path):
    write(tmp_path, "base", 'formula = "base"\n[vars.who]\ndefault = "me"\n[[steps]]\nid = "a"\ntitle = "A {{who}}"\n'
                            '[[steps]]\nid = "b"\nneeds = ["a"]\n')
    write(tmp_path, "child", 'formula = "child"\nextends = "base"\n[[steps]]\nid = "b"\ntitle = "B2"\nneeds = ["a"]\n'
                             '[[steps]]\nid = "c"\nneeds = ["b"]\n')
    f = F.load_formula("child", [tmp_path])
    assert [s.id for s in f.steps] == ["a", "b", "c"]
    assert f.step("b").title == "B2"
    _, steps = F.render(f, {"who": "you"})
    assert steps[0].title == "A you"
    write(tmp_path, "orphan", 'formula = "orphan"\nextends = "nope"\n[[steps]]\nid = "a"\n')
    with pytest.raises(F.FormulaError, match=r"orphan.formula.toml:2:1: extends names 'nope'"):
        F.load_formula("orphan", [tmp_path])


def test_unknown_formula_suggests_close_names():
    with pytest.raises(NotFound, match="did you mean release"):
        F.find_formula("relase", F.search_paths())


def test_create_writes_a_loadable_skeleton_and_refuses_to_overwrite(tmp_path):
    for t in F.TYPES:
        p = F.create_formula(f"new-{t}", tmp_path, type=t)
        assert F.load_formula(f"new-{t}", [tmp_path]).type == t
        assert p.exists()
    with pytest.raises(UsageError):
        F.create_formula("Bad Name", tmp_path)
    from gastown_tui.errors import Conflict

    with pytest.raises(Conflict):
        F.create_formula("new-workflow", tmp_path)


def test_var_args_must_be_key_value():
    assert F.parse_var_args(["a=1", "b=x=y"]) == {"a": "1", "b": "x=y"}
    with pytest.raises(UsageError, match="KEY=VALUE"):
        F.parse_var_args(["novalue"])


def test_expansion_formulas_may_use_template_tables(tmp_path):
    write(tmp_path, "expand", 'formula = "expand"\ntype = "expansion"\n[vars.target]\nrequired = true\n'
                              '[[template]]\nid = "draft"\ntitle = "Draft {{target}}"\n'
                              '[[template]]\nid = "refine"\nneeds = ["draft"]\n')
    f = F.load_formula("expand", [tmp_path])
    assert f.type == "expansion" and [s.id for s in f.steps] == ["draft", "refine"]
    _, steps = F.render(f, {"target": "x"})
    assert steps[0].title == "Draft x"


def test_convoy_legs_cannot_have_needs(tmp_path):
    p = write(tmp_path, "cv", 'formula = "cv"\ntype = "convoy"\n[[legs]]\nid = "a"\n[[legs]]\nid = "b"\nneeds = ["a"]\n')
    with pytest.raises(F.FormulaError) as e:
        F.parse_file(p)
    assert str(e.value).startswith(f"{p}:6:1: leg 'b' has needs")
