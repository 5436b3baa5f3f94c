"""The one patrol loop the deacon, witness and refinery share: patrol, log a failed pass, rest."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any


def run_patrols(name: str, patrol: Callable[[Any], object], load_config: Callable[[], Any], *,
                rest: Callable[[Any], None], log: Callable[[str], None], once: bool = False,
                should_stop: Callable[[], bool] = lambda: False) -> None:
    """Run `patrol(config)` until stopped. The config is re-read every pass so a `gt config set`
    takes effect without a restart; an exception is logged and the loop goes on."""
    log(f"{name} starting (pid {os.getpid()})")
    while True:
        cfg = load_config()
        try:
            patrol(cfg)
        except Exception as e:  # noqa: BLE001 - the loop outlives a bad pass; the log says why
            log(f"patrol failed: {e}")
        if once or should_stop():
            return
        rest(cfg)
