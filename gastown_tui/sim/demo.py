"""The demo town (`gt demo`): a living town in one command, with no model and no network.

`build_demo(path, agents=N)`:

1. installs a town at `path` (default `~/gt-demo`), or reuses it when it already is a demo town;
2. creates a small local git project (a calculator with a test script) under the town's
   git-ignored `.runtime/`, adds it as rig `sample`, sets its test command and the `sim` runtime;
3. files a dozen beads (most carry fenced `file: <path>` edits the sim applies) and a convoy;
4. brings the fleet up with the sim runtime (`gt up`: deacon, mayor, witness, refinery) and
   slings ready beads until N polecats have work.

Every step is idempotent, so a second run (or a run after a failure half-way) completes the town
instead of failing on what exists. A step that fails is skipped and reported.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gastown_tui.errors import GtError, UsageError
from gastown_tui.sim.work import edit_block
from gastown_tui.town.layout import Town

DEMO_RIG = "sample"
DEFAULT_PATH = "~/gt-demo"
MARKER = "demo.json"  # in mayor/: this town was made by `gt demo`

_CALC = '''"""A tiny calculator: the demo rig's code."""


def add(a, b):
    return a + b


def sub(a, b):
    return a - b
'''

_TEST = '''"""The demo rig's test command: `python3 test_calc.py` (exit 0 = pass)."""
import calc

assert calc.add(2, 3) == 5
assert calc.sub(5, 3) == 2
print("all tests passed")
'''




# (title, priority, type, description)
DEMO_BEADS: list[tuple[str, int, str, str]] = [
    ("Add multiply to the calculator", 1, "feature",
     "Add `mul(a, b)`." + edit_block("mul.py", "def mul(a, b):\n    return a * b\n")),
    ("Add divide with a zero check", 1, "feature",
     "Add `div(a, b)` raising ValueError on zero." + edit_block(
         "div.py", "def div(a, b):\n    if b == 0:\n        raise ValueError('division by zero')\n    return a / b\n")),
    ("Write a usage section in the README", 2, "task",
     "Explain how to run the tests." + edit_block("USAGE.md", "# Usage\n\nRun `python3 test_calc.py`.\n")),
    ("Add power()", 2, "feature", "Integer powers." + edit_block("power.py", "def power(a, n):\n    return a ** n\n")),
    ("Add a changelog", 3, "chore", "Start CHANGELOG.md." + edit_block("CHANGELOG.md", "# Changelog\n\n## 0.1\n- first demo\n")),
    ("Add modulo()", 2, "feature", "Remainders." + edit_block("mod.py", "def mod(a, b):\n    return a % b\n")),
    ("Add negate()", 3, "feature", "Unary minus." + edit_block("neg.py", "def neg(a):\n    return -a\n")),
    ("Add an average helper", 2, "feature",
     "Mean of a list." + edit_block("stats.py", "def mean(xs):\n    return sum(xs) / len(xs)\n")),
    ("Document the project layout", 3, "task", "A short overview for newcomers (the sim writes work/<id>.md)."),
    ("Add a .editorconfig", 4, "chore", "Spaces, not tabs." + edit_block(".editorconfig", "root = true\n[*]\nindent_style = space\n")),
    ("Add abs()", 3, "feature", "Absolute value." + edit_block("absval.py", "def absval(a):\n    return a if a >= 0 else -a\n")),
    ("Add a license file", 4, "chore", "MIT." + edit_block("LICENSE", "MIT License\n")),
]


DEMO_THINK_SECONDS = (6, 12, 20, 9, 30, 15, 25, 10, 40, 18, 35, 22)
DEMO_STALL_SECONDS = 60  # above the longest think above: only the stall fault looks stalled
# The sim's `sim:fail-tests` writes SIM_TESTS=FAIL; the demo's tests honour it (sim/work.py)
DEMO_TEST_COMMAND = "python3 test_calc.py && ! grep -qs FAIL SIM_TESTS"


@dataclass
class DemoResult:
    town: Town
    created: bool = False
    steps: list[str] = field(default_factory=list)  # what was done, in words
    skipped: list[str] = field(default_factory=list)  # what could not be done, and why
    slung: list[str] = field(default_factory=list)
    convoy: str | None = None
    feeder: dict[str, Any] | None = None  # the demo feeder's status, when it runs
    on_step: Callable[[str], None] | None = None  # told each step as it is done (first runs take a while)

    def step(self, text: str) -> None:
        self.steps.append(text)
        if self.on_step is not None:
            self.on_step(text)

    def doing(self, text: str) -> None:
        """Say what is under way (not a step of the report)."""
        if self.on_step is not None:
            self.on_step(f"{text} …")

    def skip(self, text: str) -> None:
        self.skipped.append(text)
        if self.on_step is not None:
            self.on_step(f"skipped {text}")

    def to_json(self) -> dict[str, Any]:
        return {"town": str(self.town.root), "created": self.created, "steps": self.steps,
                "skipped": self.skipped, "slung": self.slung, "convoy": self.convoy, "feeder": self.feeder}


def is_demo_town(root: Path) -> bool:
    return (root / "mayor" / MARKER).is_file()


def build_demo(path: str | Path | None = None, *, agents: int = 3, start: bool = True, sling_work: bool = True,
               tmux=None, feed_every: float = 0.0, feed_minutes: float = 10.0,
               progress: Callable[[str], None] | None = None) -> DemoResult:
    """Build (or complete) the demo town; with `feed_every` > 0 and `start`, the demo feeder
    (sim/feeder.py) files and slings a new bead every `feed_every` s for `feed_minutes` min.
    `progress` is told each step as it is done."""
    from gastown_tui.town.install import install_town
    from gastown_tui.town.layout import write_json

    if agents < 0 or agents > 30:
        raise UsageError(f"--agents {agents} is out of range", hint="pick a number from 0 to 30")
    if (not (math.isfinite(feed_every) and math.isfinite(feed_minutes)) or feed_every < 0
            or (feed_every and (feed_every < 2 or not 0 < feed_minutes <= 24 * 60))):  # (nan < 2 is False)
        raise UsageError(f"--feed-every {feed_every:g} / --feed-minutes {feed_minutes:g} is out of range",
                         hint="feed every 2 s or more (0 turns the feed off), for up to 1440 minutes")
    root = Path(path or DEFAULT_PATH).expanduser().absolute()
    if root.exists() and (root / "mayor" / "town.json").is_file() and not is_demo_town(root):
        raise UsageError(f"{root} is a town that was not made by 'gt demo'",
                         hint="pass --path to build the demo somewhere else")
    if progress is not None and not (root / "mayor" / "town.json").is_file():
        progress(f"installing a town at {root} …")
    res = install_town(root, name="gt-demo")
    town = res.town
    result = DemoResult(town, created=res.created, on_step=progress)
    if res.created:
        result.step(f"installed a town at {town.root}")
    _settings(town, result)
    _rig(town, result)
    ids = _beads(town, result)
    _convoy(town, ids, result)
    first_time = not is_demo_town(town.root)
    write_json(town.mayor_dir / MARKER, {"version": 1, "rig": DEMO_RIG, "beads": ids})
    if first_time:
        _welcome(town, result)
    if start:
        _fleet(town, result, tmux)
    if start and sling_work and agents:
        _sling(town, agents, result)
    if start and feed_every:
        _feeder(town, feed_every, feed_minutes, result)
    return result


def _settings(town: Town, result: DemoResult) -> None:
    from gastown_tui.town.config import load_settings

    s = load_settings(town.root)
    changed = []
    if s.get("default_agent", None) != "sim":
        s.set("default_agent", "sim")
        changed.append("every agent runs the sim runtime (no model needed)")
    if float(s.get("witness.stall_seconds")) > DEMO_STALL_SECONDS:
        s.set("witness.stall_seconds", DEMO_STALL_SECONDS)
        changed.append(f"a polecat silent for {DEMO_STALL_SECONDS} s counts as stalled (so stalls show in minutes)")
    if changed:
        s.save()
        for c in changed:
            result.step(c)


def _rig(town: Town, result: DemoResult) -> None:
    from gastown_tui.infra import git
    from gastown_tui.town.rigs import add_rig, rig_config_set

    if DEMO_RIG in town.rigs():
        if (town.rig_config(DEMO_RIG).get("merge_queue") or {}).get("test_command") != DEMO_TEST_COMMAND:
            rig_config_set(town, DEMO_RIG, "merge_queue.test_command", DEMO_TEST_COMMAND)  # a demo made before the feed
        return
    result.doing(f"adding rig '{DEMO_RIG}' (a bare clone, the mayor's clone, the refinery's worktree)")
    src = town.runtime_dir / "demo-src" / DEMO_RIG
    if not (src / ".git").exists():
        src.mkdir(parents=True, exist_ok=True)
        (src / "calc.py").write_text(_CALC)
        (src / "test_calc.py").write_text(_TEST)
        (src / "README.md").write_text("# sample\n\nThe Gas Town demo project: a tiny calculator.\n")
        git.init_repo(src)
        git.commit_all(src, "sample project", author="gt demo", email="demo@gastown.local")
    add_rig(town, DEMO_RIG, str(src))
    rig_config_set(town, DEMO_RIG, "merge_queue.test_command", DEMO_TEST_COMMAND)
    rig_config_set(town, DEMO_RIG, "merge_queue.timeout_seconds", "60")
    rig_config_set(town, DEMO_RIG, "agent", "sim")
    result.step(f"added rig '{DEMO_RIG}' (a local calculator repo; tests: {DEMO_TEST_COMMAND})")


def _beads(town: Town, result: DemoResult) -> list[str]:
    from gastown_tui.beads.store import open_store

    marker = town.mayor_dir / MARKER
    if marker.is_file():
        try:
            ids = list(json.loads(marker.read_text()).get("beads") or [])
        except ValueError:
            ids = []
        if ids:
            return ids
    store = open_store(db=town.rig(DEMO_RIG).beads_dir)
    existing = {i.title: i.id for i in store.list(include_closed=True)}
    ids = []
    for n, (title, prio, itype, desc) in enumerate(DEMO_BEADS):
        if title in existing:
            ids.append(existing[title])
            continue
        # sim:slow makes each sim "think" a while, so the cockpit shows work in flight for a minute or two
        labels = [f"sim:slow={DEMO_THINK_SECONDS[n % len(DEMO_THINK_SECONDS)]}"]
        ids.append(store.create(title, type=itype, priority=prio, description=desc, labels=labels, actor="overseer").id)
    result.step(f"filed {len(ids)} beads in rig '{DEMO_RIG}'")
    return ids


def _convoy(town: Town, ids: list[str], result: DemoResult) -> None:
    from gastown_tui.work import convoy

    title = "Calculator 1.0"
    for c in convoy.list_convoys(town, include_closed=True):
        if c.get("title") == title:
            result.convoy = c.get("id")
            return
    got = convoy.create_convoy(town, title, ids[:6], actor="overseer")
    result.convoy = got.get("id") if isinstance(got, dict) else str(got)
    result.step(f"created convoy {result.convoy} tracking 6 beads")


WELCOME = """This is a demo town: one rig ('sample', a tiny calculator), a dozen beads and a convoy.
Every agent runs the sim runtime, a scripted stand-in for a coding agent, so no model is needed.

Try: s to sling a ready bead, n to nudge the selected agent, enter to attach (detach with
ctrl-b d), p to peek, B for all beads, e for escalations, ? for every key."""


def _welcome(town: Town, result: DemoResult) -> None:
    from gastown_tui.work.mail import send_mail

    try:
        send_mail(town, "overseer", "Welcome to Gas Town", WELCOME, sender="mayor", nudge=False)
        result.step("the mayor left you a welcome mail")
    except GtError as e:
        result.skip(f"welcome mail: {e}")


def _fleet(town: Town, result: DemoResult, tmux) -> None:
    from gastown_tui.patrols.lifecycle import up

    result.doing("starting the fleet: daemon, deacon, mayor, witness, refinery")
    try:
        out = up(town, tmux=tmux, daemon=True)
        started = [a["agent"] for a in out.get("agents", []) if a.get("action") == "started"]
        result.step("fleet up" + (f": started {', '.join(started)}" if started else " (already running)"))
    except GtError as e:
        result.skip(f"fleet: {e}")


def _sling(town: Town, agents: int, result: DemoResult) -> None:
    from gastown_tui.beads.graph import ready
    from gastown_tui.work.sling import AlreadyClaimed, sling
    from gastown_tui.work.snapshot import read_issues

    issues = read_issues(town.rig(DEMO_RIG).beads_dir)
    need = max(agents - sum(1 for i in issues.values() if i.status == "hooked"), 0)
    for bead in [i.id for i in ready(issues, sort="priority")]:
        if need <= 0:
            break
        try:
            sling(town, [bead], DEMO_RIG, runtime="sim", no_convoy=True, actor="overseer")
            result.slung.append(bead)
        except AlreadyClaimed:  # the deacon slung it first: a polecat works it all the same
            pass
        except GtError as e:
            result.skip(f"sling {bead}: {e}")
            break
        need -= 1
    if result.slung:
        result.step(f"slung {len(result.slung)} beads to polecats: {', '.join(result.slung)}")


def _feeder(town: Town, every: float, minutes: float, result: DemoResult) -> None:
    from gastown_tui.sim import feeder

    try:
        st = feeder.start(town, rig=DEMO_RIG, every=every, minutes=minutes)
    except GtError as e:
        result.skip(f"demo feeder: {e}")
        return
    result.feeder = st
    if st["started"]:
        result.step(f"the demo feeder files and slings a new bead every {every:g} s for {minutes:g} min, some "
                    f"of them faulty (log: {st['log']})")
    else:
        result.step(f"the demo feeder already runs (pid {st['pid']})")
