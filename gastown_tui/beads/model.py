"""The bead (issue) record: attribute access over the JSONL dict, unknown keys kept.

The read rules of DESIGN §4 live here: missing status is open, missing type is task, missing
priority is 0.
"""

from __future__ import annotations

from gastown_tui.beads.codec import dumps, set_key
from gastown_tui.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds at import; annotations are strings anyway
    from typing import Any

STATUSES = ("open", "in_progress", "blocked", "deferred", "hooked", "pinned", "closed", "tombstone")
# A `blocks` dependency on an issue in one of these states blocks (DESIGN §4).
BLOCKING_STATUSES = frozenset({"open", "in_progress", "blocked", "deferred", "hooked"})
TYPES = ("task", "bug", "feature", "epic", "chore", "message", "convoy", "merge-request", "molecule",
         "gate", "agent", "role", "rig", "escalation", "event")
# Records that are bookkeeping, never work to pick up.
BOOKKEEPING_TYPES = frozenset({"message", "convoy", "merge-request", "molecule", "gate", "agent", "role",
                               "rig", "escalation", "event"})
PRIORITIES = (0, 1, 2, 3, 4)
DEP_TYPES = ("blocks", "parent-child", "conditional-blocks", "waits-for", "related", "relates-to",
             "discovered-from", "tracks", "replies-to", "duplicates", "supersedes")
BLOCKING_DEP_TYPES = frozenset({"blocks", "parent-child", "conditional-blocks", "waits-for"})


class Issue:
    """One bead. `data` is the JSONL dict itself (key order as read)."""

    __slots__ = ("data", "ephemeral_file")

    def __init__(self, data: dict[str, Any], *, ephemeral_file: bool = False) -> None:
        self.data = data
        self.ephemeral_file = ephemeral_file

    # The fields every caller uses, with bd's read defaults.
    @property
    def id(self) -> str:
        return self.data.get("id", "")

    @property
    def title(self) -> str:
        return self.data.get("title", "")

    @property
    def description(self) -> str:
        return self.data.get("description", "")

    @property
    def notes(self) -> str:
        return self.data.get("notes", "")

    @property
    def status(self) -> str:
        return self.data.get("status") or "open"

    @property
    def priority(self) -> int:
        p = self.data.get("priority")
        return p if isinstance(p, int) else 0

    @property
    def issue_type(self) -> str:
        return self.data.get("issue_type") or "task"

    @property
    def type(self) -> str:
        return self.issue_type

    @property
    def assignee(self) -> str:
        return self.data.get("assignee") or ""

    @property
    def labels(self) -> list[str]:
        return list(self.data.get("labels") or ())

    @property
    def dependencies(self) -> list[dict[str, Any]]:
        return list(self.data.get("dependencies") or ())

    @property
    def comments(self) -> list[dict[str, Any]]:
        return list(self.data.get("comments") or ())

    @property
    def created_at(self) -> str:
        return self.data.get("created_at", "")

    @property
    def updated_at(self) -> str:
        return self.data.get("updated_at", "")

    @property
    def closed_at(self) -> str:
        return self.data.get("closed_at", "")

    @property
    def close_reason(self) -> str:
        return self.data.get("close_reason", "")

    @property
    def is_ephemeral(self) -> bool:
        return self.ephemeral_file or bool(self.data.get("ephemeral"))

    @property
    def is_tombstone(self) -> bool:
        return self.status == "tombstone"

    @property
    def is_closed(self) -> bool:
        return self.status in ("closed", "tombstone")

    @property
    def parent_id(self) -> str | None:
        for d in self.data.get("dependencies") or ():
            if d.get("type") == "parent-child":
                return d.get("depends_on_id")
        return None

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def set(self, key: str, value: Any) -> None:
        set_key(self.data, key, value)

    def to_json(self) -> dict[str, Any]:
        """The JSONL dict (a copy), for `--json` output."""
        return dict(self.data)

    def to_line(self) -> str:
        return dumps(self.data)

    def copy(self) -> Issue:
        import copy

        return Issue(copy.deepcopy(self.data), ephemeral_file=self.ephemeral_file)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Issue) and other.data == self.data

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return f"Issue({self.id!r}, {self.title!r}, status={self.status!r})"


def check_status(value: str) -> str:
    if value not in STATUSES:
        raise UsageError(f"'{value}' is not a valid status", hint="valid statuses: " + ", ".join(STATUSES))
    return value


def check_type(value: str) -> str:
    if value not in TYPES:
        raise UsageError(f"'{value}' is not a valid issue type", hint="valid types: " + ", ".join(TYPES))
    return value


def check_priority(value: Any) -> int:
    text = str(value).strip().upper().removeprefix("P")
    if text.isdigit() and int(text) in PRIORITIES:
        return int(text)
    raise UsageError(f"'{value}' is not a valid priority", hint="valid priorities: 0 (highest) to 4 (lowest), or P0-P4")


def check_dep_type(value: str) -> str:
    # Unknown dependency types are legal in the data (they never block); on input we accept
    # the known ones plus any lowercase word, and refuse obvious typos of blocking types.
    if value in DEP_TYPES:
        return value
    import difflib

    close = difflib.get_close_matches(value, DEP_TYPES, n=1, cutoff=0.75)
    if close or not value.replace("-", "").isalpha():
        raise UsageError(f"'{value}' is not a valid dependency type", hint="valid types: " + ", ".join(DEP_TYPES))
    return value
