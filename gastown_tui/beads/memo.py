"""A stat-validated memo of query answers, kept per store in the user's cache directory.

Agents poll their inbox far more often than the store changes, and at 10k messages decoding,
building and encoding the answer costs several times a Python start-up. So a query may keep its
answer (bytes) in `$XDG_CACHE_HOME/gastown_tui/memo/<hash of the store path>/<hash of the key>`
(`~/.cache` without XDG_CACHE_HOME): the key, the fingerprints (`jsonl.fingerprint`: inode,
size, mtime_ns, ctime_ns) of the store files it was computed from, the answer's length, the
answer. Every store write replaces a file (a new inode and ctime, which no user can set), so
`get` says an answer is current only while the files are exactly the versions it was computed
from. An older entry is still returned, marked not current: a query may build on what it knew
(the inbox re-reads only the lines it does not know), never serve it.

The memo lives outside every working tree on purpose: a file in the store's directory can arrive
by git (committed by anyone, whatever .gitignore says), and a memo's content is trusted for what
the lines it names became. Nothing in the store's own directory is read as a memo.

The memo never decides anything: answers are computed by the query's one rule and only kept.
Anything odd about a memo file (another key, truncated, not a regular file, unreadable, huge) is
a miss; a failed write (read-only directory, full disk, no home) is no memo, never an error, and
never a partial file (written to a temp file, then renamed). At most MAX_ENTRIES files exist per
store (one per key, overwritten, the oldest removed beyond that) and MAX_STORES stores.

Callers take the versions *before* computing and store the answer under them: a write that lands
while the answer is computed makes the next lookup not current instead of serving a stale answer.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

MAGIC = b"gtmemo2\n"
MAX_ENTRIES = 32
MAX_STORES = 64
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


def _name(text: str) -> str:
    import zlib

    return f"{zlib.crc32(text.encode('utf-8', 'surrogateescape')):08x}"


def root() -> str | None:
    """Where every store's memo directory is: `$XDG_CACHE_HOME/gastown_tui/memo` (`~/.cache/...`);
    None without a home to put it in (no HOME and no passwd entry: `~` would stay relative, and
    the memo would land in the working directory, an agent's git worktree)."""
    base = os.environ.get("XDG_CACHE_HOME") or ""
    if not os.path.isabs(base):  # (the XDG rule: a relative value is ignored)
        base = os.path.join(os.path.expanduser("~"), ".cache")
        if not os.path.isabs(base):
            return None
    return os.path.join(base, "gastown_tui", "memo")


def store_dir(beads_dir: str) -> str | None:
    """The memo directory of one store (named after its absolute path), or None (no `root`)."""
    top = root()
    return None if top is None else os.path.join(top, _name(os.path.abspath(beads_dir)))


def _own_dir(beads_dir: str) -> str | None:
    """The store's memo directory, made (private to the user) when missing; None when it cannot
    be, or when its name holds anything but a real directory (never written through a symlink)."""
    import stat

    d = store_dir(beads_dir)
    if d is None:
        return None
    try:
        st = os.lstat(d)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(d), 0o700, exist_ok=True)
        _evict_stores(os.path.dirname(d))
        try:
            os.mkdir(d, 0o700)
        except FileExistsError:
            pass  # another poller made it
        st = os.lstat(d)
    return d if stat.S_ISDIR(st.st_mode) else None


def _head(key: str) -> bytes:
    k = key.encode("utf-8", "surrogateescape")
    return MAGIC + len(k).to_bytes(4, "little") + k


def _versions(vers: Sequence) -> bytes:
    v = ";".join("-" if fp is None else ",".join(map(str, fp)) for fp in vers).encode()
    return len(v).to_bytes(4, "little") + v


def get(beads_dir: str, key: str) -> tuple[tuple, memoryview] | None:
    """The answer kept for `key` and the file versions it was computed from, or None. The caller
    compares them with the versions now: only an answer of exactly those is current. (A view of
    the file's bytes: a 10k-message answer is megabytes, and each copy costs page faults.)"""
    import stat

    head, d = _head(key), store_dir(beads_dir)
    if d is None:
        return None
    try:
        fd = os.open(os.path.join(d, _name(key)), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except (OSError, ValueError):
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or not len(head) + 12 <= st.st_size <= len(head) + 4096 + MAX_BYTES:
            return None
        with open(fd, "rb", closefd=False) as f:
            data = f.read(st.st_size + 1)
        _freshen(d, fd, st.st_mtime_ns)
    except (OSError, ValueError):
        return None
    finally:
        os.close(fd)
    n = len(head)
    if len(data) != st.st_size or not data.startswith(head):
        return None  # another key (or not a memo)
    v = int.from_bytes(data[n:n + 4], "little")
    at = n + 4 + v
    if at + 8 > len(data) or int.from_bytes(data[at:at + 8], "little") != len(data) - at - 8:
        return None  # not the whole answer
    try:
        vers = tuple(None if fp == "-" else tuple(map(int, fp.split(","))) for fp in data[n + 4:at].decode().split(";"))
    except ValueError:
        return None
    return vers, memoryview(data)[at + 8:]


def put(beads_dir: str, key: str, vers: Sequence, data: bytes | Sequence[bytes]) -> None:
    """Keep `data` (bytes, or pieces of it: written one after another, never joined in memory) as
    the answer for `key` under these file versions; never raises for the disk."""
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
        atomic_write_bytes(os.path.join(d, name), [_head(key), _versions(vers), size.to_bytes(8, "little"), *pieces],
                           fsync=False, mkdir=False)
    except (OSError, ValueError):
        pass  # a memo: not kept is the same as never kept


def entries(beads_dir: str) -> list[str]:
    """The names of the memo files of a store (for tests and `_evict`)."""
    d = store_dir(beads_dir)
    return [] if d is None else _names(d)


def _freshen(d: str, fd: int, mtime_ns: int) -> None:
    """A memo read is a memo in use: eviction goes by mtime (oldest first), so an entry served for
    an hour without being rewritten, and its store's directory, are marked used now (at most one
    write an hour, on the read path)."""
    import time

    if time.time_ns() - mtime_ns > 3600 * 10**9:
        try:
            os.utime(fd)
            os.utime(d)
        except OSError:
            pass  # a read-only cache: eviction is only less exact


def _names(d: str) -> list[str]:
    try:
        names = os.listdir(d)
    except OSError:
        return []
    return sorted(n for n in names if len(n) == 8 and _HEX.issuperset(n))


def _oldest(d: str, names: list[str], keep: int) -> list[str]:
    """Of these entries of `d`, the oldest (by mtime) beyond the newest `keep`."""
    aged = []
    for n in names:
        try:
            aged.append((os.lstat(os.path.join(d, n)).st_mtime_ns, n))
        except OSError:
            continue
    aged.sort()
    return [n for _, n in aged[: max(len(aged) - keep, 0)]]


def _evict(d: str, keep: str) -> None:
    """Remove the oldest memo files so that at most MAX_ENTRIES remain with `keep` written."""
    names = [n for n in _names(d) if n != keep]
    if len(names) < MAX_ENTRIES:
        return
    for n in _oldest(d, names, MAX_ENTRIES - 1):
        try:
            os.unlink(os.path.join(d, n))
        except OSError:
            pass


def _evict_stores(parent: str) -> None:
    """Before a new store's directory is made: remove the oldest so that MAX_STORES remain at most
    (towns come and go; their memos should not stay forever)."""
    import stat

    names = _names(parent)
    if len(names) < MAX_STORES:
        return
    for n in _oldest(parent, names, MAX_STORES - 1):
        d = os.path.join(parent, n)
        try:
            if not stat.S_ISDIR(os.lstat(d).st_mode):
                os.unlink(d)
                continue
            for f in os.listdir(d):
                os.unlink(os.path.join(d, f))
            os.rmdir(d)
        except OSError:
            pass  # in use by another poller, or gone: tried again next time
