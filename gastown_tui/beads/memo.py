"""A stat-validated memo of query answers, beside the store they were computed from.

Agents poll their inbox far more often than the store changes, and at 10k messages decoding,
building and encoding the answer costs several times a Python start-up. So a query may keep its
final answer (bytes) in `.beads/.memo/<hash of the key>`: the key, the fingerprints
(`jsonl.fingerprint`: inode, size, mtime_ns, ctime_ns) of the store files it was computed from,
the answer's length, the answer. Every store write replaces a file (a new inode and ctime, which no user can set),
so an answer is served only while the files are exactly the versions it was computed from.

The memo never decides anything: the answer is computed by the query's one rule and only kept.
Anything odd about a memo file (another key, other versions, truncated, not a regular file,
unreadable, huge) is a miss; a failed write (read-only directory, full disk) is no memo, never
an error, and never a partial file (written to a temp file, then renamed). At most MAX_ENTRIES
files exist per store: one per key, overwritten, the oldest removed beyond that. The directory
is never versioned: it is in the store's .gitignore and carries its own (`*`) for stores made
before; when `.memo` is anything but a real directory (a symlink arrived by git), nothing is kept.

Callers take the versions *before* computing and store the answer under them: a write that lands
while the answer is computed makes the next lookup miss instead of serving a stale answer.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

DIR = ".memo"  # in the store directory; git-ignored (beads.store.GITIGNORE_LINES, and its own .gitignore)
_IGNORE = b"# the query memo of gastown_tui.beads.memo: never versioned\n*\n"
MAGIC = b"gtmemo1\n"
MAX_ENTRIES = 32
MAX_BYTES = 64 << 20  # an answer bigger than this is recomputed rather than kept
_HEX = frozenset("0123456789abcdef")


def versions(paths: Iterable[str]) -> tuple:
    """The fingerprints of these files now (None for a missing one)."""
    from gastown_tui.beads.jsonl import fingerprint

    return tuple(fingerprint(p) for p in paths)


def store_versions(beads_dir: str) -> tuple:
    """`Store(beads_dir).versions()` without loading the store: the fingerprints of its two files."""
    from gastown_tui.beads.files import ISSUES, WISPS

    return versions((os.path.join(beads_dir, ISSUES), os.path.join(beads_dir, WISPS)))


def code_stamp(*relpaths: str) -> str:
    """The versions of the package's own source files an answer depends on (size and mtime of
    each, '-' when absent), for a key: an upgraded or edited rule never serves an old answer."""
    import gastown_tui

    root = os.path.dirname(gastown_tui.__file__)
    out = [gastown_tui.__version__]
    for rel in relpaths:
        try:
            st = os.stat(os.path.join(root, rel))
            out.append(f"{st.st_size}.{st.st_mtime_ns}")
        except OSError:
            out.append("-")
    return ",".join(out)


def _name(key: str) -> str:
    import zlib

    return f"{zlib.crc32(key.encode('utf-8', 'surrogateescape')):08x}"


def _own_dir(beads_dir: str) -> str | None:
    """The memo directory, made (with its .gitignore) when missing; None when it cannot be, or
    when the name holds anything but a real directory (never written through a symlink)."""
    import stat

    d = os.path.join(beads_dir, DIR)
    try:
        st = os.lstat(d)
    except FileNotFoundError:
        try:
            os.mkdir(d, 0o755)
        except FileExistsError:
            pass  # another poller made it
        st = os.lstat(d)
    if not stat.S_ISDIR(st.st_mode):
        return None
    ignore = os.path.join(d, ".gitignore")
    if not os.path.lexists(ignore):
        from gastown_tui.infra.fsutil import atomic_write_bytes

        atomic_write_bytes(ignore, _IGNORE, fsync=False, mkdir=False)
    return d


def _head(key: str, vers: Sequence) -> bytes:
    k = key.encode("utf-8", "surrogateescape")
    v = ";".join("-" if fp is None else ",".join(map(str, fp)) for fp in vers).encode()
    return MAGIC + len(k).to_bytes(4, "little") + k + len(v).to_bytes(4, "little") + v


def get(beads_dir: str, key: str, vers: Sequence) -> memoryview | None:
    """The answer kept for `key` when it was computed from exactly these file versions, else None.
    (A view of the file's bytes: a 10k-message answer is megabytes, and each copy costs page faults.)"""
    import stat

    head = _head(key, vers)
    try:
        fd = os.open(os.path.join(beads_dir, DIR, _name(key)), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except (OSError, ValueError):
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or not len(head) + 8 <= st.st_size <= len(head) + 8 + MAX_BYTES:
            return None
        with open(fd, "rb", closefd=False) as f:
            data = f.read(st.st_size + 1)
    except (OSError, ValueError):
        return None
    finally:
        os.close(fd)
    n = len(head)
    if len(data) != st.st_size or not data.startswith(head) or int.from_bytes(data[n:n + 8], "little") != len(data) - n - 8:
        return None  # another key or versions, or not the whole answer
    return memoryview(data)[n + 8:]


def put(beads_dir: str, key: str, vers: Sequence, data: bytes | Sequence[bytes]) -> None:
    """Keep `data` (bytes, or pieces of it: joined once, with the head) as the answer for `key`
    under these file versions; never raises for the disk."""
    pieces = [data] if isinstance(data, (bytes, bytearray, memoryview)) else list(data)
    size = sum(map(len, pieces))
    if size > MAX_BYTES:
        return
    from gastown_tui.infra.fsutil import atomic_write_bytes

    try:
        d = _own_dir(beads_dir)
        if d is None:
            return
        name = _name(key)
        _evict(d, name)
        atomic_write_bytes(os.path.join(d, name), b"".join([_head(key, vers), size.to_bytes(8, "little"), *pieces]),
                           fsync=False, mkdir=False)
    except (OSError, ValueError):
        pass  # a memo: not kept is the same as never kept


def entries(beads_dir: str) -> list[str]:
    """The names of the memo files of a store (for tests and `_evict`)."""
    try:
        names = os.listdir(os.path.join(beads_dir, DIR))
    except OSError:
        return []
    return sorted(n for n in names if len(n) == 8 and _HEX.issuperset(n))


def _evict(d: str, keep: str) -> None:
    """Remove the oldest memo files so that at most MAX_ENTRIES remain with `keep` written."""
    import stat

    names = [n for n in entries(os.path.dirname(d)) if n != keep]
    if len(names) < MAX_ENTRIES:
        return
    aged = []
    for n in names:
        try:
            st = os.lstat(os.path.join(d, n))
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode):
            aged.append((st.st_mtime_ns, n))
    aged.sort()
    for _, n in aged[: len(aged) - MAX_ENTRIES + 1]:
        try:
            os.unlink(os.path.join(d, n))
        except OSError:
            pass
