"""What the sim agent does with its start and with each submitted message.

The terminal program (`gastown_tui.sim.terminal`) owns the screen and the input; this module owns
behaviour. Two hooks:

- `on_start(ctx)` runs once after the banner (ctx.prompt holds the start prompt, if any);
- `on_message(ctx, text)` runs for every submitted message, after it has been logged.

The work loop (hook -> edit -> commit -> `gt done`, DESIGN §9) plugs in by providing a module
`gastown_tui.sim.work` with `on_start(ctx)` and/or `on_message(ctx, text) -> bool` (True when
it handled the message). Until it exists, the sim only echoes and logs.

Faults come from `ctx.faults` (parsed from $GT_SIM_FAULTS, a comma list such as
`slow=3,stall`; the `sim:` prefix of bead labels is accepted too):

- `slow=N`  each message keeps the sim busy N seconds;
- `stall`   the first message makes it hang, busy, reading nothing more;
- `crash`   the first message makes it exit with status 3.
"""

from __future__ import annotations

import importlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


class Screen(Protocol):
    def say(self, text: str) -> None: ...


def parse_faults(text: str | None) -> dict[str, Any]:
    faults: dict[str, Any] = {}
    for item in (text or "").split(","):
        item = item.strip()
        if item.startswith("sim:"):
            item = item[4:]
        if not item:
            continue
        key, _, val = item.partition("=")
        if key == "slow":
            try:
                faults["slow"] = float(val)
            except ValueError:
                continue
        else:
            faults[key] = val or True
    return faults


@dataclass
class SimContext:
    """What a behaviour hook may use: where it runs, who it is, and a way to print."""

    town_root: Path
    session: str
    faults: dict[str, Any]
    prompt: str | None = None
    screen: Screen | None = None
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))

    @property
    def log_path(self) -> Path:
        return self.town_root / ".runtime" / "sim" / f"{self.session}.jsonl"

    def say(self, text: str) -> None:
        if self.screen is not None:
            self.screen.say(text)


def log_message(ctx: SimContext, text: str) -> None:
    """Append one received message to the sim's log (the tests' delivery oracle)."""
    from gastown_tui.infra.fsutil import append_line

    ctx.log_path.parent.mkdir(parents=True, exist_ok=True)
    ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{int(time.time() * 1e6) % 1_000_000:06d}Z"
    append_line(ctx.log_path, json.dumps({"ts": ts, "text": text}, ensure_ascii=False))


def read_log(path: Path) -> list[dict[str, Any]]:
    """The messages a sim received, in order (for tests and benches)."""
    try:
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


def _workloop():
    try:
        return importlib.import_module("gastown_tui.sim.work")
    except ModuleNotFoundError as e:
        if e.name != "gastown_tui.sim.work":
            raise
        return None


def on_start(ctx: SimContext) -> None:
    loop = _workloop()
    if loop is not None and hasattr(loop, "on_start"):
        loop.on_start(ctx)


def on_message(ctx: SimContext, text: str) -> None:
    loop = _workloop()
    if loop is not None and hasattr(loop, "on_message") and loop.on_message(ctx, text):
        return
    # Default behaviour: nothing beyond the echo and the log.
