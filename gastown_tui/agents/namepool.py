"""Polecat names: a themed list per rig, first free name wins, freed names come back.

A name is *taken* while `<rig>/polecats/<name>/` exists. Allocation claims a name by creating
that directory with `os.mkdir`, which is atomic: when several slings race, each gets a different
name without any lock, and a crashed sling that leaves an empty directory behind is cleaned up by
its own rollback. Past the end of the list, names overflow as `<theme>-<n>` (n from 1).

Which list a rig uses: the rig's `namepool.theme` (rig config.json), else the town setting
`namepool.theme`, else "mad-max". Extra names added with `gt namepool add` live in the rig's
config.json under `namepool.names` and come after the theme's names.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from gastown_tui.errors import GtError, UsageError
from gastown_tui.town.layout import Town, read_json, write_json

DEFAULT_THEME = "mad-max"
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,30}$")
# Names that would collide with the session scheme (gt-<rig>-crew-<name>, gt-<rig>-witness, ...).
RESERVED = frozenset({"crew", "witness", "refinery", "mayor", "deacon", "polecats", "overseer", "boot"})

THEMES: dict[str, tuple[str, ...]] = {
    "mad-max": (
        "furiosa", "nux", "slit", "rictus", "toast", "capable", "dag", "cheedo", "angharad", "valkyrie",
        "max", "joe", "organic", "ace", "morsov", "keeper", "bullet", "corpus", "scabrous", "coma",
        "prime", "miss", "glory", "vuvalini", "doof", "buzzard", "rockrider", "imperator", "warboy",
        "bloodbag", "chumbucket", "dementus", "jack", "praetorian", "scrotus", "hungry", "octoboss",
        "mechanic", "fang", "gastown", "bullet", "history", "wretched", "lonely", "wasteland",
        "gigahorse", "interceptor", "peacemaker", "razor", "citadel", "redemption",
    ),
    "minerals": (
        "agate", "basalt", "beryl", "calcite", "cinnabar", "cobalt", "copper", "corundum", "feldspar",
        "flint", "fluorite", "galena", "garnet", "gneiss", "granite", "graphite", "gypsum", "halite",
        "hematite", "jade", "jasper", "kyanite", "lapis", "malachite", "marble", "mica", "obsidian",
        "olivine", "onyx", "opal", "pumice", "pyrite", "quartz", "ruby", "rutile", "sapphire", "schist",
        "shale", "silver", "slate", "spinel", "talc", "topaz", "tourmaline", "zircon",
    ),
    "wasteland": (
        "ash", "bone", "cinder", "dust", "ember", "grit", "husk", "iron", "jolt", "kettle", "lug",
        "moss", "nail", "oil", "pike", "quill", "rust", "salt", "scrap", "shard", "smoke", "soot",
        "spark", "spike", "static", "tallow", "thorn", "tin", "torch", "vapor", "wick", "wire",
    ),
}
# 'bullet' appears twice in mad-max by accident of memory; keep the list unique and ordered.
THEMES = {k: tuple(dict.fromkeys(v)) for k, v in THEMES.items()}


def check_theme(theme: str) -> str:
    if theme not in THEMES:
        raise UsageError(f"'{theme}' is not a name theme", hint="themes: " + ", ".join(THEMES))
    return theme


def check_name(name: str) -> str:
    if not NAME_RE.match(name) or name in RESERVED:
        raise UsageError(f"'{name}' is not a valid polecat name",
                         hint="use lowercase letters, digits and '_', starting with a letter, and not a role name")
    return name


def _rig_config(town: Town, rig: str) -> dict:
    path = town.require_rig(rig).config_json
    return read_json(path) if path.exists() else {}


def rig_theme(town: Town, rig: str) -> str:
    """The theme a rig draws names from (rig setting, then town setting, then the default)."""
    theme = (_rig_config(town, rig).get("namepool") or {}).get("theme")
    if not theme:
        from gastown_tui.town.config import load_settings

        theme = load_settings(town.root).get("namepool.theme") or DEFAULT_THEME
    return theme if theme in THEMES else DEFAULT_THEME


def rig_names(town: Town, rig: str) -> list[str]:
    """The rig's ordered name list: its theme's names, then names added with `gt namepool add`."""
    extra = (_rig_config(town, rig).get("namepool") or {}).get("names") or []
    return list(dict.fromkeys([*THEMES[rig_theme(town, rig)], *extra]))


def names_in_use(town: Town, rig: str) -> list[str]:
    d = town.rig(rig).polecats_dir
    if not d.is_dir():
        return []
    return sorted(p.name for p in d.iterdir() if p.is_dir() and not p.name.startswith("."))


def candidates(town: Town, rig: str):
    """Names in allocation order: the list, then `<theme>-1`, `<theme>-2`, ..."""
    names = rig_names(town, rig)
    yield from names
    theme = rig_theme(town, rig)
    n = 1
    while True:
        yield f"{theme.replace('-', '_')}_{n}"
        n += 1


def allocate(town: Town, rig: str, *, preferred: str | None = None, limit: int = 10_000) -> tuple[str, Path]:
    """Claim the first free name by creating its directory; returns (name, directory).

    The directory is empty on return (a `git worktree add` target). The caller owns it: on any
    later failure it must `release()` it.
    """
    polecats = town.require_rig(rig).polecats_dir
    polecats.mkdir(parents=True, exist_ok=True)
    if preferred is not None:
        check_name(preferred)
        path = polecats / preferred
        try:
            os.mkdir(path)
        except FileExistsError:
            from gastown_tui.errors import Conflict

            raise Conflict(f"polecat name '{preferred}' is already taken in rig '{rig}'",
                           hint="pick another name or leave it out to take the next free one") from None
        return preferred, path
    for i, name in enumerate(candidates(town, rig)):
        if i >= limit:
            break
        path = polecats / name
        try:
            os.mkdir(path)
        except FileExistsError:
            continue
        return name, path
    raise GtError(f"rig '{rig}' has no free polecat name", hint="nuke idle polecats with 'gt polecat gc'")


def release(town: Town, rig: str, name: str) -> None:
    """Free a name whose directory is empty (a failed spawn); a non-empty directory is left alone."""
    path = town.rig(rig).polecat(name)
    try:
        os.rmdir(path)
    except (FileNotFoundError, OSError):
        pass


def set_theme(town: Town, theme: str, rig: str | None = None) -> None:
    """Set the theme for one rig (config.json) or, without a rig, the town default (config.toml)."""
    check_theme(theme)
    if rig is None:
        from gastown_tui.town.config import load_settings

        s = load_settings(town.root)
        s.set("namepool.theme", theme)
        s.save()
        return
    _update_rig_namepool(town, rig, lambda np: np.__setitem__("theme", theme))


def add_names(town: Town, rig: str, names: list[str]) -> list[str]:
    """Append custom names to a rig's pool; returns the rig's added names afterwards."""
    for n in names:
        check_name(n)

    def change(np: dict) -> None:
        np["names"] = list(dict.fromkeys([*(np.get("names") or []), *names]))

    return _update_rig_namepool(town, rig, change).get("names", [])


def _update_rig_namepool(town: Town, rig: str, change) -> dict:
    from gastown_tui.infra.fsutil import file_lock

    path = town.require_rig(rig).config_json
    with file_lock(town.locks_dir / "rigs.lock"):
        cfg = read_json(path) if path.exists() else {"name": rig}
        np = dict(cfg.get("namepool") or {})
        change(np)
        cfg["namepool"] = np
        write_json(path, cfg)
    return np


def pool_status(town: Town, rig: str) -> dict:
    """For `gt namepool`: the theme, the list, and which names are in use."""
    used = names_in_use(town, rig)
    names = rig_names(town, rig)
    return {"rig": rig, "theme": rig_theme(town, rig), "names": names, "in_use": used,
            "free": [n for n in names if n not in set(used)]}
