"""Agent identities: addresses, tmux session names, and the environment agents run with (DESIGN §5).

One place resolves an address. Forms accepted:

    mayor | deacon | overseer
    <rig>/witness | <rig>/refinery
    <rig>/polecats/<name> | <rig>/<name>          (a polecat)
    <rig>/crew/<name>
"""

from __future__ import annotations

from gastown_tui.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:  # agents poll `gt mail inbox`: pathlib (~5 ms) and `re` (~7 ms) are not on its path
    from pathlib import Path

ROLES = ("mayor", "deacon", "witness", "refinery", "polecat", "crew", "overseer")
_NAME_FIRST = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_NAME_CHARS = _NAME_FIRST | frozenset("_.-")


def _is_name(text: str) -> bool:
    """An agent name: ASCII letters and digits, then also `_ . -` (`[A-Za-z0-9][A-Za-z0-9_.-]*`)."""
    return bool(text) and text[0] in _NAME_FIRST and _NAME_CHARS.issuperset(text)

ADDRESS_FORMS = (
    "mayor, deacon, overseer, <rig>/witness, <rig>/refinery, "
    "<rig>/polecats/<name> (or <rig>/<name>), <rig>/crew/<name>"
)


class Agent:
    """One agent identity. `address` is also its BD_ACTOR and git author name.

    A plain immutable value class (not a dataclass: that import costs every gt call ~5 ms).
    """

    __slots__ = ("role", "rig", "name")

    def __init__(self, role: str, rig: str | None = None, name: str | None = None) -> None:
        object.__setattr__(self, "role", role)
        object.__setattr__(self, "rig", rig)
        object.__setattr__(self, "name", name)

    def __setattr__(self, key: str, value: object) -> None:
        raise AttributeError("Agent is immutable")

    def _key(self) -> tuple[str, str, str]:
        return (self.role, self.rig or "", self.name or "")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Agent) and self._key() == other._key()

    def __lt__(self, other: Agent) -> bool:
        return self._key() < other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"Agent(role={self.role!r}, rig={self.rig!r}, name={self.name!r})"

    @property
    def address(self) -> str:
        if self.role in ("mayor", "deacon", "overseer"):
            return self.role
        if self.role in ("witness", "refinery"):
            return f"{self.rig}/{self.role}"
        if self.role == "polecat":
            return f"{self.rig}/polecats/{self.name}"
        return f"{self.rig}/crew/{self.name}"

    @property
    def session(self) -> str:
        """The tmux session name (target it as `=name`; plain names prefix-match)."""
        if self.role in ("mayor", "deacon"):
            return f"gt-{self.role}"
        if self.role == "overseer":
            raise UsageError("the overseer is the human and has no session", hint="mail them instead")
        if self.role in ("witness", "refinery"):
            return f"gt-{self.rig}-{self.role}"
        if self.role == "polecat":
            return f"gt-{self.rig}-{self.name}"
        return f"gt-{self.rig}-crew-{self.name}"

    def workdir(self, town_root: Path) -> Path:
        """Where the agent's process runs."""
        if self.role in ("mayor", "overseer"):
            return town_root
        if self.role == "deacon":
            return town_root / "deacon"
        assert self.rig is not None
        rig = town_root / self.rig
        if self.role == "witness":
            return rig / "witness"
        if self.role == "refinery":
            return rig / "refinery" / "rig"
        if self.role == "polecat":
            return rig / "polecats" / str(self.name)
        return rig / "crew" / str(self.name)

    def env(self, town_root: Path, owner_email: str | None = None) -> dict[str, str]:
        """The environment of DESIGN §5: work is attributed to the agent, owned by the overseer."""
        env = {
            "GT_TOWN_ROOT": str(town_root),
            "GT_ROLE": self.role,
            "BD_ACTOR": self.address,
            "GIT_AUTHOR_NAME": self.address,
            "GIT_COMMITTER_NAME": self.address,
        }
        if self.rig:
            env["GT_RIG"] = self.rig
        if self.name:
            env["GT_NAME"] = self.name
        if owner_email:
            env["GIT_AUTHOR_EMAIL"] = owner_email
            env["GIT_COMMITTER_EMAIL"] = owner_email
        return env

    def __str__(self) -> str:
        return self.address


def parse_address(text: str, rigs: set[str] | dict | None = None) -> Agent:
    """Parse an agent address; with `rigs`, also check that the rig exists."""
    t = text.strip().strip("/")
    parts = t.split("/") if t else []
    agent: Agent | None = None
    if len(parts) == 1 and parts[0] in ("mayor", "deacon", "overseer"):
        agent = Agent(parts[0])
    elif len(parts) == 2 and parts[1] in ("witness", "refinery"):
        agent = Agent(parts[1], parts[0])
    elif len(parts) == 2 and parts[1] not in ("polecats", "crew") and _is_name(parts[1]):
        agent = Agent("polecat", parts[0], parts[1])
    elif len(parts) == 3 and parts[1] == "polecats" and _is_name(parts[2]):
        agent = Agent("polecat", parts[0], parts[2])
    elif len(parts) == 3 and parts[1] == "crew" and _is_name(parts[2]):
        agent = Agent("crew", parts[0], parts[2])
    if agent is None:
        raise UsageError(f"'{text}' is not an agent address", hint=f"use one of: {ADDRESS_FORMS}")
    if rigs is not None and agent.rig is not None and agent.rig not in rigs:
        known = ", ".join(sorted(rigs)) or "none yet"
        raise UsageError(f"'{text}' names rig '{agent.rig}', which is not in this town",
                         hint=f"known rigs: {known}")
    return agent


def agent_from_session(session: str, rigs: set[str] | dict) -> Agent | None:
    """Invert `Agent.session` given the town's rig names (rig names may contain '_' but not '-')."""
    if session in ("gt-mayor", "gt-deacon"):
        return Agent(session[3:])
    if not session.startswith("gt-"):
        return None
    rest = session[3:]
    rig, sep, tail = rest.partition("-")
    if not sep or rig not in rigs or not tail:
        return None
    if tail in ("witness", "refinery"):
        return Agent(tail, rig)
    if tail.startswith("crew-") and len(tail) > 5:
        return Agent("crew", rig, tail[5:])
    return Agent("polecat", rig, tail)


def agent_from_env(environ: dict[str, str], cwd: Path | None = None, town_root: Path | None = None) -> Agent | None:
    """Who am I? `BD_ACTOR`/`GT_ROLE` from the environment, else the working directory."""
    actor = environ.get("BD_ACTOR") or ""
    if environ.get("GT_ROLE") and actor:
        try:
            return parse_address(actor)
        except UsageError:
            pass
    if cwd is not None and town_root is not None:
        try:
            rel = cwd.resolve().relative_to(town_root.resolve()).parts
        except ValueError:
            return None
        if not rel:
            return Agent("mayor")
        if rel[0] == "deacon":
            return Agent("deacon")
        if len(rel) >= 3 and rel[1] == "polecats":
            return Agent("polecat", rel[0], rel[2])
        if len(rel) >= 3 and rel[1] == "crew":
            return Agent("crew", rel[0], rel[2])
        if len(rel) >= 2 and rel[1] in ("witness", "refinery"):
            return Agent(rel[1], rel[0])
    return None
