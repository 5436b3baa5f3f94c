"""Bead ids as upstream bd makes them.

`<prefix>-<base36 hash>` whose length adapts to the store's size: the shortest length (3..8) for
which the birthday-collision chance among the current issues stays under 25%. Children are
`<parent>.<n>`; molecules `<prefix>-mol-<hash>`, wisps `<prefix>-wisp-<hash>`, convoys
`hq-cv-<5 chars>`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

MIN_HASH_LENGTH = 3
MAX_HASH_LENGTH = 8
MAX_COLLISION_PROBABILITY = 0.25
ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
PREFIX_RE = re.compile(r"^[a-z][a-z0-9_]*(-[a-z0-9_]+)*$")


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
