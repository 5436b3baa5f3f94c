"""Formulas: repeatable multi-step work written once as TOML (`*.formula.toml`).

A formula has a name, a description, a type (`workflow`, `convoy` or `expansion`), a version,
declared variables (`[vars.X]` with description, required, default) and either steps
(`[[steps]]` with id, title, description, needs, acceptance) or, for a convoy, parallel legs
(`[[legs]]`) joined by one `[synthesis]` step. `extends = "base"` (or a list) inherits the vars
and steps of other formulas; a step with the same id overrides the inherited one. Text may use
`{{var}}`, filled in when a molecule is poured.

Formulas are looked up in order: the rig's `.beads/formulas/`, the town's `formulas/`, then the
built-in `formulas/` shipped with the package. Every error names the file, line and column.

Pure domain code: no printing, no processes. Parsing uses the stdlib `tomllib` (fast); when a file
does not parse, tomlkit re-reads it to report the exact line and column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gastown_tui.errors import NotFound, UsageError

SUFFIX = ".formula.toml"
TYPES = ("workflow", "convoy", "expansion")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")  # a file name: bounded up front (no ENAMETOOLONG)
VAR_RE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}")
TOP_KEYS = frozenset({"formula", "description", "type", "version", "vars", "steps", "legs", "synthesis",
                      "extends", "template"})
STEP_KEYS = frozenset({"id", "title", "description", "needs", "acceptance", "focus", "type", "priority",
                       "labels", "assignee"})
VAR_KEYS = frozenset({"description", "required", "default"})
SYNTHESIS_ID = "synthesis"


class FormulaError(UsageError):
    """A formula file is wrong; the message starts with `file:line:col`."""

    def __init__(self, path: Path | str, line: int, col: int, message: str, *, hint: str | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.col = col
        super().__init__(f"{path}:{line}:{col}: {message}", hint=hint)


@dataclass
class VarSpec:
    name: str
    description: str = ""
    required: bool = False
    default: str | None = None
    line: int = 1

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "required": self.required,
                "default": self.default}


@dataclass
class StepSpec:
    id: str
    title: str
    description: str = ""
    needs: list[str] = field(default_factory=list)
    acceptance: str = ""
    kind: str = "step"  # step, leg or synthesis
    line: int = 1
    source: str = ""  # the file that defined it (differs from the formula's for inherited steps)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out = {"id": self.id, "title": self.title, "description": self.description, "needs": list(self.needs),
               "acceptance": self.acceptance, "kind": self.kind}
        out.update(self.extra)
        return out


@dataclass
class Formula:
    name: str
    description: str
    type: str
    version: int
    path: Path
    text: str
    vars: dict[str, VarSpec] = field(default_factory=dict)
    steps: list[StepSpec] = field(default_factory=list)  # workflow/expansion steps, or legs + synthesis
    extends: list[str] = field(default_factory=list)

    @property
    def legs(self) -> list[StepSpec]:
        return [s for s in self.steps if s.kind == "leg"]

    @property
    def synthesis(self) -> StepSpec | None:
        return next((s for s in self.steps if s.kind == "synthesis"), None)

    def step(self, step_id: str) -> StepSpec:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "description": self.description, "type": self.type, "version": self.version,
            "path": str(self.path), "extends": list(self.extends),
            "vars": [v.to_json() for v in self.vars.values()],
            "steps": [s.to_json() for s in self.steps],
        }


@dataclass(frozen=True)
class RenderedStep:
    """A step with its variables filled in, ready to pour; `needs` are step ids."""

    id: str
    title: str
    description: str
    needs: tuple[str, ...]
    acceptance: str
    kind: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "description": self.description,
                "needs": list(self.needs), "acceptance": self.acceptance, "kind": self.kind}


# ---------------------------------------------------------------------------------------------
# Where formulas live


def builtin_dir() -> Path:
    """The built-in formulas: `gastown_tui/formulas` in a wheel, the repo's top-level `formulas/` in a checkout."""
    here = Path(__file__).resolve().parent.parent  # gastown_tui/
    packaged = here / "formulas"
    if packaged.is_dir():
        return packaged.resolve()  # in a checkout this is a symlink to the top-level formulas/
    return here.parent / "formulas"


def search_paths(town: Any = None, rig: str | None = None, *, extra: list[Path] | None = None) -> list[Path]:
    """Directories searched for formulas, most specific first: rig, town, built-in."""
    paths: list[Path] = list(extra or [])
    if town is not None:
        if rig:
            paths.append(town.rig(rig).beads_dir / "formulas")
        paths.append(town.formulas_dir)
    paths.append(builtin_dir())
    return paths


def _files(paths: list[Path]) -> list[tuple[str, Path]]:
    out = []
    for d in paths:
        if not d.is_dir():
            continue
        for p in sorted(d.glob("*" + SUFFIX)):
            out.append((p.name[: -len(SUFFIX)], p))
    return out


def find_formula(name: str, paths: list[Path]) -> Path:
    """The file of formula `name` (or a path to a formula file), first match along `paths`."""
    direct = Path(name)
    if name.endswith(SUFFIX) or (direct.suffix == ".toml" and direct.exists()):
        if direct.is_file():
            return direct
        raise NotFound(f"formula file {name} does not exist", hint="check the path")
    if not NAME_RE.match(name):
        raise UsageError(f"{name[:60]!r}{'...' if len(name) > 60 else ''} is not a valid formula name",
                         hint="use at most 100 lowercase letters, digits, '-', '_' and '.'")
    for d in paths:
        p = d / (name + SUFFIX)
        if p.is_file():
            return p
    known = sorted({n for n, _ in _files(paths)})
    import difflib

    close = difflib.get_close_matches(name, known, n=2)
    hint = (f"did you mean {' or '.join(close)}?" if close
            else "run 'gt formula list' to see the formulas available here")
    raise NotFound(f"no formula named '{name}'", hint=hint)


@dataclass(frozen=True)
class FormulaInfo:
    name: str
    type: str
    description: str
    path: Path
    source: str  # rig, town, builtin or other
    shadows: tuple[str, ...] = ()  # paths of same-named formulas it hides

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "description": self.description, "path": str(self.path),
                "source": self.source, "shadows": list(self.shadows)}


def list_formulas(paths: list[Path]) -> list[FormulaInfo]:
    """Every formula visible along `paths` (first one wins per name), sorted by name.

    A broken file is still listed (type `invalid`, the error as description) so it can be found.
    """
    builtin = builtin_dir().resolve()
    seen: dict[str, FormulaInfo] = {}
    for name, path in _files(paths):
        if name in seen:
            old = seen[name]
            seen[name] = FormulaInfo(old.name, old.type, old.description, old.path, old.source,
                                     (*old.shadows, str(path)))
            continue
        parent = path.parent.resolve()
        if parent == builtin:
            source = "builtin"
        elif parent.name == "formulas" and parent.parent.name == ".beads":
            source = "rig"
        elif parent.name == "formulas":
            source = "town"
        else:
            source = "other"
        try:
            f = parse_file(path)
            summary = " ".join(f.description.strip().split("\n\n")[0].split())
            seen[name] = FormulaInfo(name, f.type, summary, path, source)
        except UsageError as e:
            seen[name] = FormulaInfo(name, "invalid", str(e), path, source)
    return [seen[k] for k in sorted(seen)]


# ---------------------------------------------------------------------------------------------
# Parsing


def _line_of(text: str, pattern: str, start: int = 1) -> int:
    """The first line (1-based, from `start`) whose text matches the regex `pattern`; else `start`."""
    rx = re.compile(pattern)
    for i, line in enumerate(text.splitlines()[start - 1:], start=start):
        if rx.search(line):
            return i
    return start


def _syntax_error(path: Path, text: str, exc: Exception) -> FormulaError:
    import tomlkit
    from tomlkit.exceptions import ParseError

    try:
        tomlkit.parse(text)
    except ParseError as e:
        msg = str(e).split(" at line ")[0]
        return FormulaError(path, e.line, e.col + 1, f"TOML syntax error: {msg}", hint="fix the file and retry")
    except Exception:  # noqa: BLE001 - tomlkit may fail differently; fall back to tomllib's text
        pass
    m = re.search(r"line (\d+), column (\d+)", str(exc))
    line, col = (int(m.group(1)), int(m.group(2))) if m else (1, 1)
    return FormulaError(path, line, col, f"TOML syntax error: {str(exc).split(' (at ')[0]}", hint="fix the file and retry")


def parse_file(path: Path) -> Formula:
    """Parse one formula file on its own (no `extends` resolution)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFound(f"formula file {path} does not exist") from None
    except UnicodeDecodeError:
        raise FormulaError(path, 1, 1, "is not UTF-8 text") from None
    return parse_text(text, path)


def parse_text(text: str, path: Path | str = "<formula>") -> Formula:
    import tomllib

    path = Path(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise _syntax_error(path, text, e) from None

    def err(line: int, message: str, hint: str | None = None) -> FormulaError:
        return FormulaError(path, line, 1, message, hint=hint)

    stem = path.name[: -len(SUFFIX)] if path.name.endswith(SUFFIX) else path.stem
    for key in data:
        if key not in TOP_KEYS:
            raise err(_line_of(text, rf"^\s*{re.escape(key)}\s*=|^\s*\[+\s*{re.escape(key)}\b"),
                      f"unknown key '{key}'", hint="allowed keys: " + ", ".join(sorted(TOP_KEYS)))
    name = data.get("formula", stem)
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise err(_line_of(text, r"^\s*formula\s*="), f"formula name {name!r} is not valid",
                  hint="use lowercase letters, digits, '-', '_' and '.'")
    ftype = data.get("type", "convoy" if "legs" in data else "workflow")
    if ftype not in TYPES:
        raise err(_line_of(text, r"^\s*type\s*="), f"formula type '{ftype}' is not known",
                  hint="use one of: " + ", ".join(TYPES))
    version = data.get("version", 1)
    if not isinstance(version, int):
        raise err(_line_of(text, r"^\s*version\s*="), "version must be an integer")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise err(_line_of(text, r"^\s*description\s*="), "description must be a string")
    extends = data.get("extends", [])
    if isinstance(extends, str):
        extends = [extends]
    if not isinstance(extends, list) or not all(isinstance(x, str) for x in extends):
        raise err(_line_of(text, r"^\s*extends\s*="), "extends must be a formula name or a list of names")

    f = Formula(name=name, description=description, type=ftype, version=version, path=path, text=text,
                extends=list(extends))

    raw_vars = data.get("vars", {})
    if not isinstance(raw_vars, dict):
        raise err(_line_of(text, r"^\s*vars\s*="), "vars must be a table of [vars.NAME] sections")
    for vname, spec in raw_vars.items():
        line = _line_of(text, rf"^\s*\[\s*vars\.\"?{re.escape(vname)}\"?\s*\]", 1)
        if line == 1:  # shorthand inside a [vars] table
            line = _line_of(text, rf"^\s*\"?{re.escape(vname)}\"?\s*=", _line_of(text, r"^\s*\[\s*vars\s*\]"))
        if not isinstance(spec, dict):
            # Shorthand: `[vars] name = "default"`.
            spec = {"default": spec}
        for k in spec:
            if k not in VAR_KEYS:
                raise err(_line_of(text, rf"^\s*{re.escape(k)}\s*=", line), f"var '{vname}' has an unknown key '{k}'",
                          hint="allowed: description, required, default")
        default = spec.get("default")
        if default is not None and not isinstance(default, str):
            default = str(default).lower() if isinstance(default, bool) else str(default)
        f.vars[vname] = VarSpec(vname, str(spec.get("description", "")), bool(spec.get("required", False)),
                                default, line)

    if ftype == "convoy":
        legs = data.get("legs") or []
        if not legs:
            raise err(_line_of(text, r"^\s*type\s*="), "a convoy formula needs at least one [[legs]] entry")
        cursor = 1
        for raw in legs:
            step, cursor = _parse_step(raw, text, path, "legs", "leg", cursor)
            if step.needs:
                raise err(step.line, f"leg '{step.id}' has needs; legs of a convoy run in parallel",
                          hint="remove 'needs' from the leg")
            f.steps.append(step)
        syn = data.get("synthesis")
        if syn is not None:
            if not isinstance(syn, dict):
                raise err(_line_of(text, r"^\s*\[\s*synthesis\s*\]"), "synthesis must be a table")
            syn = dict(syn)
            syn.setdefault("id", SYNTHESIS_ID)
            line = _line_of(text, r"^\s*\[\s*synthesis\s*\]")
            step, _ = _parse_step(syn, text, path, "synthesis", "synthesis", line)
            step.line = line
            step.needs = [leg.id for leg in f.steps]  # waits for every leg
            f.steps.append(step)
        if data.get("steps"):
            raise err(_line_of(text, r"^\s*\[\[\s*steps\s*\]\]"), "a convoy formula has [[legs]], not [[steps]]")
    else:
        key = "steps" if "steps" in data or "template" not in data else "template"
        raw_steps = data.get(key) or []
        if not isinstance(raw_steps, list):
            raise err(_line_of(text, rf"^\s*{key}\s*="), f"{key} must be an array of tables ([[{key}]])")
        if not raw_steps and not extends:
            raise err(1, "the formula has no steps", hint="add at least one [[steps]] entry")
        cursor = 1
        for raw in raw_steps:
            step, cursor = _parse_step(raw, text, path, key, "step", cursor)
            f.steps.append(step)
        if "legs" in data:
            raise err(_line_of(text, r"^\s*\[\[\s*legs\s*\]\]"), "only convoy formulas have [[legs]]",
                      hint="set type = \"convoy\"")
    _check_duplicates(f)
    return f


def _parse_step(raw: Any, text: str, path: Path, table: str, kind: str, cursor: int) -> tuple[StepSpec, int]:
    line = _line_of(text, rf"^\s*\[\[\s*{table}\s*\]\]|^\s*\[\s*{table}\s*\]", cursor)
    if not isinstance(raw, dict):
        raise FormulaError(path, line, 1, f"each {table} entry must be a table")
    sid = raw.get("id")
    if not isinstance(sid, str) or not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", sid):
        raise FormulaError(path, line, 1, f"a [[{table}]] entry needs an id (letters, digits, '-', '_')",
                           hint="add id = \"some-step\"")
    id_line = _line_of(text, rf"^\s*id\s*=\s*[\"']{re.escape(sid)}[\"']", line)
    needs = raw.get("needs", [])
    if isinstance(needs, str):
        needs = [needs]
    if not isinstance(needs, list) or not all(isinstance(n, str) for n in needs):
        raise FormulaError(path, id_line, 1, f"needs of step '{sid}' must be a list of step ids")
    extra = {k: v for k, v in raw.items() if k not in ("id", "title", "description", "needs", "acceptance")}
    for k in extra:
        if k not in STEP_KEYS:
            raise FormulaError(path, _line_of(text, rf"^\s*{re.escape(k)}\s*=", id_line), 1,
                               f"step '{sid}' has an unknown key '{k}'",
                               hint="allowed: " + ", ".join(sorted(STEP_KEYS)))
    acceptance = raw.get("acceptance", "")
    if isinstance(acceptance, list):
        acceptance = "\n".join(f"- {a}" for a in acceptance)
    step = StepSpec(id=sid, title=str(raw.get("title") or sid), description=str(raw.get("description", "")),
                    needs=list(needs), acceptance=str(acceptance), kind=kind, line=id_line,
                    source=str(path), extra=extra)
    return step, id_line + 1


def _check_duplicates(f: Formula) -> None:
    seen: set[str] = set()
    for s in f.steps:
        if s.id in seen:
            raise FormulaError(s.source or f.path, s.line, 1, f"step id '{s.id}' is used twice",
                               hint="give every step a unique id")
        seen.add(s.id)


# ---------------------------------------------------------------------------------------------
# Loading with inheritance, and validation


def load_formula(name: str, paths: list[Path]) -> Formula:
    """Find, parse, resolve `extends`, and validate one formula."""
    return _load(name, paths, ())


def _load(name: str, paths: list[Path], chain: tuple[str, ...]) -> Formula:
    path = find_formula(name, paths)
    f = parse_file(path)
    if f.extends:
        if f.name in chain:
            raise FormulaError(path, _line_of(f.text, r"^\s*extends\s*="), 1,
                               "extends forms a loop: " + " -> ".join((*chain, f.name)))
        merged_vars: dict[str, VarSpec] = {}
        merged_steps: list[StepSpec] = []
        for base_name in f.extends:
            try:
                base = _load(base_name, paths, (*chain, f.name))
            except NotFound:
                raise FormulaError(path, _line_of(f.text, r"^\s*extends\s*="), 1,
                                   f"extends names '{base_name}', which is not a formula here",
                                   hint="run 'gt formula list' to see the formulas available") from None
            merged_vars.update(base.vars)
            for s in base.steps:
                merged_steps = [m for m in merged_steps if m.id != s.id] + [s]
        merged_vars.update(f.vars)
        for s in f.steps:
            idx = next((i for i, m in enumerate(merged_steps) if m.id == s.id), None)
            if idx is None:
                merged_steps.append(s)
            else:
                merged_steps[idx] = s  # override in place, keeping the inherited order
        f.vars = merged_vars
        f.steps = merged_steps
        if f.type == "workflow":
            # A child of a convoy is a convoy.
            if any(s.kind in ("leg", "synthesis") for s in f.steps):
                f.type = "convoy"
    validate(f)
    return f


def validate(f: Formula) -> None:
    """needs name existing steps, no cycles, every `{{var}}` is declared."""
    if not f.steps:
        raise FormulaError(f.path, 1, 1, "the formula has no steps", hint="add at least one [[steps]] entry")
    ids = {s.id for s in f.steps}
    for s in f.steps:
        for n in s.needs:
            if n not in ids:
                src = Path(s.source) if s.source else f.path
                text = src.read_text(encoding="utf-8") if src != f.path and src.exists() else f.text
                line = _line_of(text, rf"[\"']{re.escape(n)}[\"']", s.line)
                raise FormulaError(src, line, 1, f"step '{s.id}' needs '{n}', which is not a step of this formula",
                                   hint="known steps: " + ", ".join(sorted(ids)))
    cycle = _find_cycle(f.steps)
    if cycle:
        first = f.step(cycle[0])
        raise FormulaError(first.source or f.path, first.line, 1, "the needs of steps form a cycle: " + " -> ".join(cycle),
                           hint="remove one of these needs")
    for s in f.steps:
        for text in (s.title, s.description, s.acceptance):
            for m in VAR_RE.finditer(text):
                if m.group(1) not in f.vars:
                    src = Path(s.source) if s.source else f.path
                    body = src.read_text(encoding="utf-8") if src != f.path and src.exists() else f.text
                    line = _line_of(body, re.escape(m.group(0)), s.line)
                    raise FormulaError(src, line, 1, f"step '{s.id}' uses {{{{{m.group(1)}}}}}, which is not a declared var",
                                       hint=f"declare it with [vars.{m.group(1)}]")


def _find_cycle(steps: list[StepSpec]) -> list[str] | None:
    graph = {s.id: list(s.needs) for s in steps}
    color: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        color[node] = 1
        path.append(node)
        for nxt in graph.get(node, ()):
            c = color.get(nxt, 0)
            if c == 1:
                return path[path.index(nxt):] + [nxt]
            if c == 0:
                found = visit(nxt)
                if found:
                    return found
        color[node] = 2
        path.pop()
        return None

    for s in steps:
        if not color.get(s.id):
            found = visit(s.id)
            if found:
                return found
    return None


def topo_order(steps: list[StepSpec]) -> list[StepSpec]:
    """Steps ordered so that every step comes after what it needs (stable: file order otherwise)."""
    done: set[str] = set()
    out: list[StepSpec] = []
    pending = list(steps)
    while pending:
        progressed = False
        for s in list(pending):
            if all(n in done for n in s.needs):
                out.append(s)
                done.add(s.id)
                pending.remove(s)
                progressed = True
        if not progressed:  # validate() refuses cycles; stay total anyway
            out.extend(pending)
            break
    return out


# ---------------------------------------------------------------------------------------------
# Variables


def parse_var_args(items: list[str] | None) -> dict[str, str]:
    """`--var k=v` items into a dict; a malformed item is a usage error."""
    out: dict[str, str] = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--var '{item}' is not KEY=VALUE", hint="for example --var version=1.2.0")
        out[key] = value
    return out


def resolve_vars(f: Formula, given: dict[str, str]) -> dict[str, str]:
    """Declared vars with defaults applied; unknown or missing required vars are refused."""
    header = _line_of(f.text, r"^\s*formula\s*=")
    for k in given:
        if k not in f.vars:
            known = ", ".join(sorted(f.vars)) or "none"
            raise FormulaError(f.path, header, 1, f"formula '{f.name}' has no var '{k}'",
                               hint=f"its vars are: {known}")
    values: dict[str, str] = {}
    for name, spec in f.vars.items():
        if name in given:
            values[name] = given[name]
        elif spec.default is not None:
            values[name] = spec.default
        elif spec.required:
            raise FormulaError(f.path, spec.line, 1, f"formula '{f.name}' needs var '{name}'",
                               hint=f"pass --var {name}=VALUE" + (f" ({spec.description})" if spec.description else ""))
        else:
            values[name] = ""
    return values


def substitute(text: str, values: dict[str, str]) -> str:
    return VAR_RE.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def render(f: Formula, given: dict[str, str]) -> tuple[dict[str, str], list[RenderedStep]]:
    """The steps of `f` with vars filled in, in dependency order: what a molecule is poured from."""
    values = resolve_vars(f, given)
    out = [RenderedStep(s.id, substitute(s.title, values), substitute(s.description, values), tuple(s.needs),
                        substitute(s.acceptance, values), s.kind)
           for s in topo_order(f.steps)]
    return values, out


# ---------------------------------------------------------------------------------------------
# Creating a new formula file


TEMPLATES = {
    "workflow": '''formula = "{name}"
description = "{description}"
type = "workflow"
version = 1

[vars.issue]
description = "The bead this work is for"
required = false
default = ""

[[steps]]
id = "plan"
title = "Plan the work for {{{{issue}}}}"
description = "Read the bead and decide what to change."

[[steps]]
id = "do"
title = "Do the work"
needs = ["plan"]
acceptance = "The change is committed."

[[steps]]
id = "check"
title = "Check the result"
needs = ["do"]
''',
    "convoy": '''formula = "{name}"
description = "{description}"
type = "convoy"
version = 1

[vars.target]
description = "What the legs examine"
required = true

[[legs]]
id = "first"
title = "First angle on {{{{target}}}}"

[[legs]]
id = "second"
title = "Second angle on {{{{target}}}}"

[synthesis]
title = "Combine the findings on {{{{target}}}}"
''',
}
TEMPLATES["expansion"] = TEMPLATES["workflow"].replace('type = "workflow"', 'type = "expansion"')


def create_formula(name: str, directory: Path, *, type: str = "workflow", description: str = "",
                   force: bool = False) -> Path:
    """Write a new formula skeleton `directory/<name>.formula.toml` and return its path."""
    from gastown_tui.errors import Conflict
    from gastown_tui.infra.fsutil import atomic_write_text

    if not NAME_RE.match(name):
        raise UsageError(f"{name[:60]!r}{'...' if len(name) > 60 else ''} is not a valid formula name",
                         hint="use at most 100 lowercase letters, digits, '-', '_' and '.'")
    if type not in TYPES:
        raise UsageError(f"formula type '{type}' is not known", hint="use one of: " + ", ".join(TYPES))
    from gastown_tui.infra.safepath import confine

    path = confine(Path(directory), name + SUFFIX, what="formula name")
    if path.exists() and not force:
        raise Conflict(f"formula file {path} already exists", hint="edit it, or pass --force to overwrite it")
    text = TEMPLATES[type].format(name=name, description=(description or f"The {name} workflow").replace('"', "'"))
    parse_text(text, path)  # never write a file we could not read back
    atomic_write_text(path, text)
    return path
