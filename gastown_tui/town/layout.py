"""Where everything lives on disk (DESIGN §3), and how a town is found.

Pure path arithmetic plus the small JSON readers every command needs; no git, no tmux.
"""

from __future__ import annotations

import os

from gastown_tui.errors import GtError, NotFound, UsageError

# rigs.json path -> ((path, inode, size, mtime_ns), its "rigs")
_RIGS: dict[str, tuple[tuple, dict]] = {}

TYPE_CHECKING = False  # `typing` and `dataclasses` cost startup on every gt call
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any
# pathlib (~5 ms with urllib.parse under it) is imported when a Path is first asked for: finding
# the town and reading rigs.json, all an agent's `gt mail inbox` poll needs, use strings.

_RIG_FIRST = frozenset("abcdefghijklmnopqrstuvwxyz")
_RIG_CHARS = _RIG_FIRST | frozenset("0123456789_")
MAX_RIG_NAME = 40  # a rig name is a directory and part of session names: bounded up front
RESERVED_RIG_NAMES = frozenset({"hq", "mayor", "deacon", "settings", "formulas", "overseer", "town"})
TOWN_PREFIX = "hq"


class RigPaths:
    """The directories of one rig inside a town."""

    __slots__ = ("town_root", "name")

    def __init__(self, town_root: Path, name: str) -> None:
        self.town_root = town_root
        self.name = name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RigPaths) and (self.town_root, self.name) == (other.town_root, other.name)

    def __hash__(self) -> int:
        return hash((self.town_root, self.name))

    def __repr__(self) -> str:
        return f"RigPaths(town_root={self.town_root!r}, name={self.name!r})"

    @property
    def root(self) -> Path:
        return self.town_root / self.name

    @property
    def config_json(self) -> Path:
        return self.root / "config.json"

    @property
    def bare_repo(self) -> Path:
        return self.root / ".repo.git"

    @property
    def mayor_clone(self) -> Path:
        return self.root / "mayor" / "rig"

    @property
    def beads_dir(self) -> Path:
        """The rig's canonical store: it lives in the mayor's clone."""
        return self.mayor_clone / ".beads"

    @property
    def refinery_worktree(self) -> Path:
        return self.root / "refinery" / "rig"

    @property
    def witness_dir(self) -> Path:
        return self.root / "witness"

    @property
    def crew_dir(self) -> Path:
        return self.root / "crew"

    @property
    def polecats_dir(self) -> Path:
        return self.root / "polecats"

    def polecat(self, name: str) -> Path:
        return self.polecats_dir / name

    def crew(self, name: str) -> Path:
        return self.crew_dir / name


class Town:
    """A town root and the paths of its files."""

    __slots__ = ("_where", "_root", "_socket")

    def __init__(self, root: Path | str) -> None:
        if isinstance(root, str):  # as `str(Path(root))`: no empty or '.' parts, no trailing slash
            parts = [c for c in root.split("/") if c and c != "."]
            root = ("/" if root.startswith("/") else "") + "/".join(parts) or ("/" if root.startswith("/") else ".")
        self._where = os.fspath(root)
        self._root: Path | None = root if not isinstance(root, str) else None
        self._socket: str | None = None

    @property
    def root(self) -> Path:
        if self._root is None:
            from pathlib import Path

            self._root = Path(self._where)
        return self._root

    @property
    def where(self) -> str:
        """The root as a string (`str(root)`, without making a Path)."""
        return self._where

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Town) and self._where == other._where

    def __hash__(self) -> int:
        return hash(self._where)

    def __repr__(self) -> str:
        return f"Town(root={self.root!r})"

    @property
    def mayor_dir(self) -> Path:
        return self.root / "mayor"

    @property
    def town_json(self) -> Path:
        return self.mayor_dir / "town.json"

    @property
    def rigs_json(self) -> Path:
        return self.mayor_dir / "rigs.json"

    @property
    def settings_dir(self) -> Path:
        return self.root / "settings"

    @property
    def config_toml(self) -> Path:
        return self.settings_dir / "config.toml"

    @property
    def beads_dir(self) -> Path:
        return self.root / ".beads"

    @property
    def beads_where(self) -> str:
        """`str(beads_dir)`, without making a Path."""
        return os.path.join(self._where, ".beads")

    @property
    def routes_jsonl(self) -> Path:
        return self.beads_dir / "routes.jsonl"

    @property
    def events_jsonl(self) -> Path:
        return self.root / ".events.jsonl"

    @property
    def runtime_dir(self) -> Path:
        return self.root / ".runtime"

    @property
    def locks_dir(self) -> Path:
        return self.runtime_dir / "locks"

    @property
    def heartbeats_dir(self) -> Path:
        return self.runtime_dir / "heartbeats"

    @property
    def formulas_dir(self) -> Path:
        return self.root / "formulas"

    @property
    def boot_dir(self) -> Path:
        return self.root / "deacon" / "dogs" / "boot"

    @property
    def tmux_socket(self) -> str:
        """The town's private tmux server (`tmux -L <this>`); `$GT_TMUX_SOCKET` overrides."""
        if self._socket is None:
            override = os.environ.get("GT_TMUX_SOCKET")
            if override:
                self._socket = override
            else:
                import hashlib

                self._socket = f"gt-{hashlib.sha256(str(self.root).encode()).hexdigest()[:6]}"
        return self._socket

    def rig(self, name: str) -> RigPaths:
        return RigPaths(self.root, name)

    def is_town(self) -> bool:
        return os.path.isfile(os.path.join(self._where, "mayor", "town.json"))

    def info(self) -> dict[str, Any]:
        return read_json(self.town_json)

    def rigs(self) -> dict[str, dict[str, Any]]:
        """Registered rigs by name, as in mayor/rigs.json (re-read when its inode, size, mtime or
        ctime changed: the cockpit and the status engine ask several times a second)."""
        path = os.path.join(self._where, "mayor", "rigs.json")
        try:
            st = os.stat(path)
        except OSError:
            return {}
        fp = (path, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        hit = _RIGS.get(path)
        if hit is None or hit[0] != fp:
            hit = _RIGS[path] = (fp, dict(read_json(path).get("rigs", {})))
        return {k: dict(v) if isinstance(v, dict) else v for k, v in hit[1].items()}  # callers may edit theirs

    def rig_config(self, name: str) -> dict[str, Any]:
        rigs = self.rigs()
        if name not in rigs:
            raise NotFound(f"no rig named '{name}' in this town", hint=_rig_hint(rigs))
        path = self.rig(name).config_json
        return read_json(path) if path.exists() else {"name": name, **rigs[name]}

    def require_rig(self, name: str) -> RigPaths:
        rigs = self.rigs()
        if name not in rigs:
            raise NotFound(f"no rig named '{name}' in this town", hint=_rig_hint(rigs))
        return self.rig(name)


def _rig_hint(rigs: dict[str, Any]) -> str:
    if rigs:
        return "known rigs: " + ", ".join(sorted(rigs))
    return "add one with 'gt rig add NAME SOURCE'"


def read_json(path: Path) -> Any:
    from gastown_tui.beads.codec import loads  # json.loads without importing the json package (start-up)

    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise NotFound(f"{path} does not exist") from None
    try:
        return loads(text)
    except ValueError as e:
        if not hasattr(e, "lineno"):  # only json.JSONDecodeError carries a position
            raise
        raise GtError(f"{path} is not valid JSON (line {e.lineno}, column {e.colno}): {e.msg}",  # type: ignore[attr-defined]
                      hint="fix or restore the file from git") from None


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically: temp file in the same directory, fsync, rename."""
    import json

    from gastown_tui.infra.fsutil import atomic_write_text

    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def validate_rig_name(name: str) -> None:
    if len(name) > MAX_RIG_NAME:
        raise UsageError(f"the rig name '{name[:20]}...' is {len(name)} characters long",
                         hint=f"use at most {MAX_RIG_NAME}")
    if not (name and name[0] in _RIG_FIRST and _RIG_CHARS.issuperset(name)):  # [a-z][a-z0-9_]*
        raise UsageError(
            f"{name!r} is not a valid rig name",
            hint="use lowercase letters, digits and '_', starting with a letter (for example 'gastown')",
        )
    if name in RESERVED_RIG_NAMES:
        raise UsageError(f"'{name}' is reserved and cannot be a rig name", hint="pick another name")


def find_town(explicit: str | os.PathLike[str] | None = None, cwd: Path | str | None = None) -> Town:
    """Find the town: `--town`, then `$GT_TOWN_ROOT`, then walk up to `mayor/town.json`."""
    if explicit:
        town = Town(os.path.realpath(os.path.expanduser(os.fspath(explicit))))  # Path(..).expanduser().resolve()
        if not town.is_town():
            raise NotFound(f"{town.where} is not a Gas Town (no mayor/town.json)",
                           hint=f"create one with 'gt install {explicit}'")
        return town
    env = os.environ.get("GT_TOWN_ROOT")
    if env:
        town = Town(os.path.realpath(os.path.expanduser(env)))
        if not town.is_town():
            raise NotFound(f"$GT_TOWN_ROOT={env} is not a Gas Town (no mayor/town.json)",
                           hint=f"unset it or create the town with 'gt install {env}'")
        return town
    d = os.path.realpath(os.fspath(cwd) if cwd else os.getcwd())
    while True:
        if os.path.isfile(os.path.join(d, "mayor", "town.json")):
            return Town(d)
        up = os.path.dirname(d)
        if up == d:
            break
        d = up
    raise NotFound(
        "not inside a Gas Town (no mayor/town.json here or above)",
        hint="cd into a town, pass --town PATH, set GT_TOWN_ROOT, or create one with 'gt install PATH'",
    )
