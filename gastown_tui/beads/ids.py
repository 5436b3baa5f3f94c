"""Bead ids as upstream bd makes them.

`<prefix>-<base36 hash>` whose length adapts to the store's size: the shortest length (3..8) for
which the birthday-collision chance among the current issues stays under 25%. Children are
`<parent>.<n>`; molecules `<prefix>-mol-<hash>`, wisps `<prefix>-wisp-<hash>`, convoys
`hq-cv-<5 chars>`.

Ids arrive by git, so every door checks them against one grammar (`id_problem`): a prefix (a
letter, then letters, digits, `_`), then `-`-separated base36 words (the hash, or the known forms
`mol-<hash>`, `wisp-<hash>`, `cv-<hash>`, and agent beads like `gt-gastown-polecat-ace`), then
`.N` child numbers; at most MAX_ID_LENGTH characters. So an id never holds `/`, `..`,
whitespace or control characters and is safe as a file-name component. Hand-written rather than
a regular expression: `re` costs ~7 ms of startup, and every `bd` call imports this module.
"""

from __future__ import annotations

import math

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

MIN_HASH_LENGTH = 3
MAX_HASH_LENGTH = 8
MAX_COLLISION_PROBABILITY = 0.25
ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
MAX_ID_LENGTH = 64
MAX_CHILD_DEPTH = 8
_WORD = frozenset(ALPHABET + "_")
_DIGITS = frozenset("0123456789")
_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz")


def __getattr__(name: str):  # PREFIX_RE for old callers, compiled only when asked for
    if name == "PREFIX_RE":
        import re

        globals()["PREFIX_RE"] = rx = re.compile(r"^[a-z][a-z0-9_]*(-[a-z0-9_]+)*$")
        return rx
    raise AttributeError(name)


def valid_prefix(prefix: str) -> bool:
    """A store prefix: a lowercase letter, then letters, digits, `_`; `-` between words."""
    words = prefix.split("-") if isinstance(prefix, str) else [""]
    return (bool(words[0]) and words[0][0] in _LETTERS
            and all(w and _WORD.issuperset(w) for w in words))


def id_problem(issue_id: object) -> str | None:
    """Why `issue_id` is not a bead id (a short phrase), or None when it is one."""
    if not isinstance(issue_id, str) or not issue_id:
        return "it is empty"
    if len(issue_id) > MAX_ID_LENGTH:
        return f"it is longer than {MAX_ID_LENGTH} characters"
    if not issue_id.isascii() or not issue_id.isprintable() or " " in issue_id:
        return "it contains whitespace, control or non-ASCII characters"
    if "/" in issue_id or "\\" in issue_id:
        return "it contains a path separator"
    if ".." in issue_id:
        return "it contains '..'"
    base, *children = issue_id.split(".")
    if len(children) > MAX_CHILD_DEPTH:
        return f"it nests children more than {MAX_CHILD_DEPTH} deep"
    if any(not c or not _DIGITS.issuperset(c) or len(c) > 6 for c in children):
        return "a child suffix is not '.N' with N a number"
    words = base.lower().split("-")
    if len(words) < 2:
        return "it has no '<prefix>-' in front"
    if words[0][:1] not in _LETTERS:
        return "its prefix does not start with a letter"
    if not all(w and _WORD.issuperset(w) for w in words):
        return "it is not '<prefix>-<base36>' (letters, digits, '_' between single '-')"
    if words[1] in ("mol", "wisp") and len(words) == 2:
        return f"'{words[1]}' needs a hash after it"
    return None


def reference_problem(target: object) -> str | None:
    """Why `target` cannot be a dependency's `depends_on_id`, or None when it can: a bead id, or
    upstream's cross-project form `external:<project>:<ref>` (the real fixture holds
    `external:beads:bd-dx6e`) with a prefix-like project and a ref that is one safe token."""
    if isinstance(target, str) and target.startswith("external:"):
        project, sep, ref = target[len("external:"):].partition(":")
        if not sep or not valid_prefix(project):
            return "it is not 'external:<project>:<ref>' with a lowercase project name"
        if not ref or len(target) > 2 * MAX_ID_LENGTH or not ref.isascii() or not ref.isprintable() \
                or any(c in ref for c in " /\\:") or ".." in ref:
            return "its external ref is empty, too long, or holds whitespace, ':', '/' or '..'"
        return None
    return id_problem(target)


def record_problem(rec: object) -> str | None:
    """Why a record arriving from outside (import, merge) is not a safe issue record, or None:
    its id, and every dependency's `issue_id` (the record itself) and `depends_on_id`."""
    if not isinstance(rec, dict):
        return "it is not a JSON object"
    iid = rec.get("id")
    problem = id_problem(iid)
    if problem is not None:
        return f"the id {shown(iid)} is not a valid bead id: {problem}"
    deps = rec.get("dependencies")
    if deps is None:
        return None
    if not isinstance(deps, list):
        return f"the dependencies of {iid} are not a list"
    for d in deps:
        if not isinstance(d, dict):
            return f"a dependency of {iid} is not a JSON object"
        if d.get("issue_id", iid) != iid:
            return f"a dependency of {iid} names another issue ({shown(d.get('issue_id'))}) as its own"
        problem = reference_problem(d.get("depends_on_id"))
        if problem is not None:
            return f"{iid} depends on {shown(d.get('depends_on_id'))}, which is not a valid target: {problem}"
    return None


def is_valid_id(issue_id: object) -> bool:
    return id_problem(issue_id) is None


def check_id(issue_id: object, what: str = "id") -> str:
    """`issue_id` itself when it is a bead id, else a UsageError naming the problem and the form."""
    problem = id_problem(issue_id)
    if problem is None:
        return issue_id  # type: ignore[return-value]
    from gastown_tui.errors import UsageError

    raise UsageError(f"{what} {shown(issue_id)} is not a valid bead id: {problem}",
                     hint="ids look like 'gt-a1b2', 'gt-a1b2.1', 'gt-mol-x3k' or 'hq-cv-0z9ab'")


def shown(issue_id: object, limit: int = 80) -> str:
    """An id as it may be printed in a message: quoted, control characters escaped, bounded."""
    text = repr(issue_id)
    return text if len(text) <= limit else text[:limit - 4] + "...'"


MAX_NAME_LENGTH = 200


def check_name(value: str, what: str) -> str:
    """A one-line name stored in a bead (label, assignee): no newline, tab or control character.

    They are printed one per column and matched exactly, so a newline would forge a line of
    output and a control character would reach the terminal.
    """
    if not isinstance(value, str):
        return value
    if len(value) > MAX_NAME_LENGTH or not value.isprintable():
        from gastown_tui.errors import UsageError

        problem = (f"is longer than {MAX_NAME_LENGTH} characters" if len(value) > MAX_NAME_LENGTH
                   else "contains a newline, tab or control character")
        raise UsageError(f"the {what} {shown(value)} {problem}", hint=f"give the {what} on one line, as plain text")
    return value


def token(issue_id: str) -> str:
    """A file-name-safe token for an id: the id when valid, else a digest of it."""
    if is_valid_id(issue_id):
        return issue_id
    try:
        from _sha256 import sha256
    except ImportError:  # pragma: no cover
        from hashlib import sha256
    return "x-" + sha256(str(issue_id).encode("utf-8", "surrogatepass")).hexdigest()[:16]


def collision_probability(count: int, length: int) -> float:
    space = 36.0 ** length
    return 1.0 - math.exp(-(count * count) / (2.0 * space))


def adaptive_length(count: int) -> int:
    for length in range(MIN_HASH_LENGTH, MAX_HASH_LENGTH + 1):
        if collision_probability(count, length) <= MAX_COLLISION_PROBABILITY:
            return length
    return MAX_HASH_LENGTH


def base36(data: bytes, length: int) -> str:
    n = int.from_bytes(data, "big")
    out = []
    for _ in range(length):
        n, r = divmod(n, 36)
        out.append(ALPHABET[r])
    return "".join(reversed(out))


def hash_suffix(seed: str, length: int) -> str:
    try:  # the builtin module loads faster than OpenSSL's; same digest
        from _sha256 import sha256
    except ImportError:  # pragma: no cover
        from hashlib import sha256

    return base36(sha256(seed.encode("utf-8")).digest()[:12], length)


def generate_id(prefix: str, *, title: str, description: str, creator: str, timestamp_ns: int,
                count: int, exists: Callable[[str], bool], kind: str | None = None,
                length: int | None = None) -> str:
    """A fresh id not taken in the store (`exists`), bd-style: try 10 nonces per length, then grow."""
    stem = f"{prefix}-{kind}-" if kind else f"{prefix}-"
    start = length or adaptive_length(count)
    for size in range(start, MAX_HASH_LENGTH + 5):
        for nonce in range(10):
            candidate = stem + hash_suffix(f"{title}|{description}|{creator}|{timestamp_ns}|{nonce}", size)
            if not exists(candidate):
                return candidate
    raise RuntimeError("could not find a free id")  # 36^12 space: unreachable in practice


def convoy_id(*, title: str, timestamp_ns: int, exists: Callable[[str], bool]) -> str:
    return generate_id("hq", title=title, description="", creator="", timestamp_ns=timestamp_ns, count=0,
                       exists=exists, kind="cv", length=5)


def child_id(parent: str, existing_children: list[int]) -> str:
    return f"{parent}.{max(existing_children, default=0) + 1}"


def split_prefix(issue_id: str) -> str:
    """The prefix of an id ('gt' for 'gt-abc', 'hq' for 'hq-cv-abcde')."""
    return issue_id.split("-", 1)[0] if "-" in issue_id else ""


def normalize_prefix(prefix: str) -> str:
    return prefix.strip().rstrip("-")
