"""The house layering rules, checked by importing modules in a fresh interpreter (STYLE.md rule 1)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "gastown_tui"
DOMAIN = ("beads", "town", "work")


def _modules(layer: str) -> list[str]:
    return sorted(
        "gastown_tui." + ".".join(p.relative_to(PKG).with_suffix("").parts).removesuffix(".__init__")
        for p in (PKG / layer).rglob("*.py")
    )


def _loaded_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
                         capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("layer", DOMAIN)
def test_domain_layer_imports_no_ui_toolkit(layer):
    mods = _modules(layer)
    assert mods, f"layer {layer} has no modules"
    loaded = _loaded_after("\n".join(f"import {m}" for m in mods))
    ui = sorted(m for m in loaded if m.split(".")[0] in ("textual", "rich"))
    assert ui == [], f"importing gastown_tui.{layer} pulled in {ui[:5]}"


@pytest.mark.parametrize("layer", DOMAIN + ("agents", "patrols"))
def test_domain_layer_never_runs_processes_directly(layer):
    offenders = []
    for path in (PKG / layer).rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for n in names:
                if n.split(".")[0] in ("subprocess", "libtmux", "git", "textual", "rich"):
                    offenders.append(f"{path.relative_to(PKG)} imports {n}")
    assert offenders == []


def test_domain_layers_never_print():
    offenders = []
    for layer in DOMAIN:
        for path in (PKG / layer).rglob("*.py"):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
                    offenders.append(f"{path.relative_to(PKG)}:{node.lineno}")
    assert offenders == []


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["rig", "--help"]])
def test_gt_fast_paths_import_no_ui_and_no_git(argv):
    loaded = _loaded_after(
        "import sys\nfrom gastown_tui.cli.gt import main\n"
        "try:\n    main(%r)\nexcept SystemExit:\n    pass\nsys.stdout.flush()" % (argv,)
    )
    heavy = sorted(m for m in loaded if m.split(".")[0] in ("textual", "rich", "git", "libtmux"))
    assert heavy == []


def test_every_import_of_our_own_modules_resolves():
    """Lazy imports run only when their function does: a module moved to fix the layers (or a
    branch merged after the move) must not leave an import that fails at run time."""
    import importlib
    import importlib.util

    missing = []
    for path in sorted(PKG.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [(a.name, None) for a in node.names if a.name.startswith("gastown_tui")]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("gastown_tui"):
                targets = [(node.module, a.name) for a in node.names]
            else:
                continue
            for mod, name in targets:
                where = f"{path.relative_to(PKG)}:{node.lineno}"
                if importlib.util.find_spec(mod) is None:
                    missing.append(f"{where} {mod}")
                elif name not in (None, "*") and not hasattr(importlib.import_module(mod), name):
                    is_package = importlib.util.find_spec(mod).submodule_search_locations is not None
                    if not (is_package and importlib.util.find_spec(f"{mod}.{name}") is not None):
                        missing.append(f"{where} {mod}.{name}")
    assert missing == []
