"""The store's change log: which ids each of its own writes changed, from which file version to which.

Every commit of a store file by `beads.store` (inside the store's lock, after its rename) appends
one line to `.beads/.changes/log`:

    <file name> TAB <version before> TAB <version after> TAB <the changed ids, as a JSON array>

A version is the file's fingerprint (`jsonl.fingerprint`: inode, size, mtime_ns, ctime_ns). So
`changed_ids` can say exactly which ids differ between two versions of a store — or that it
cannot, and the caller reads everything: a write by anything else (git, upstream bd, an editor)
makes a version no line leads to, and a log that arrived by git names versions of files on
another machine (an inode and a ctime in nanoseconds that no one can choose), which lead nowhere
here. A memo of an answer derived from the store (`work.mail`'s inbox) uses it to re-read only
the changed ids.

The log is bounded: past MAX_BYTES the writer keeps the newest KEEP_BYTES of whole lines. A
reader never fails: a log that is missing, damaged, half-written or cut is "cannot say".
"""

from __future__ import annotations

import os
from stat import S_ISREG

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

DIR = ".changes"  # in the store directory; git-ignored (beads.store.GITIGNORE_LINES, and its own .gitignore)
_NAME = "log"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_IGNORE = b"# the change log of gastown_tui.beads.changelog: never versioned\n*\n"
MAX_BYTES = 256 << 10
KEEP_BYTES = 64 << 10


def _version(fp: Sequence[int]) -> str:
    return ",".join(map(str, fp))


def record(beads_dir: str, name: str, before: Sequence[int] | None, after: Sequence[int] | None,
           ids: Iterable[str]) -> None:
    """Log one commit of the file `name` (the store holds its lock). A file created or removed is
    not logged: readers then cannot say, and read everything. Never raises: the commit it follows
    has landed, and a log line that is not written only means readers read everything."""
    if before is None or after is None:
        return
    try:
        _append(beads_dir, name, before, after, ids)
    except Exception:  # noqa: BLE001 - see above: never half a commit because of its log
        pass


def _append(beads_dir: str, name: str, before: Sequence[int], after: Sequence[int], ids: Iterable[str]) -> None:
    from gastown_tui.beads.codec import to_json
    from gastown_tui.infra.fsutil import write_all

    # ASCII escapes: an id from a line that arrived by git may hold a lone surrogate (no UTF-8 form).
    ids_text = to_json(sorted(ids), compact=True, ascii_only=True)
    line = f"{name}\t{_version(before)}\t{_version(after)}\t{ids_text}\n".encode("ascii")
    dfd = _open_dir(beads_dir, make=True)
    if dfd < 0:
        return
    try:
        fd = os.open(_NAME, os.O_RDWR | os.O_APPEND | os.O_CREAT | _NOFOLLOW, 0o644, dir_fd=dfd)  # (read: to trim it)
        try:
            st = os.fstat(fd)
            if not S_ISREG(st.st_mode):
                return  # (not a file this module made)
            if st.st_size + len(line) > MAX_BYTES:
                _replace(dfd, _kept_tail(fd, st.st_size) + line)
            else:
                write_all(fd, line)  # one write of one line with O_APPEND: readers see it whole or not at all
        finally:
            os.close(fd)
    finally:
        os.close(dfd)


def _open_dir(beads_dir: str, *, make: bool) -> int:
    """The log's directory, opened (never through a symlink: the store's directory arrives by git);
    made with a .gitignore of its own when `make` (a store made before the log has no line for it).
    -1 when it is not there or cannot be."""
    d = os.path.join(beads_dir, DIR)
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _NOFOLLOW
    try:
        dfd = os.open(d, flags)
        if make:
            _ignore_self(dfd)
        return dfd
    except FileNotFoundError:
        if not make:
            return -1
    except OSError:
        return -1
    try:
        os.mkdir(d, 0o755)
    except FileExistsError:
        pass  # another writer made it
    except OSError:
        return -1
    try:
        dfd = os.open(d, flags)
    except OSError:
        return -1
    _ignore_self(dfd)
    return dfd


def _ignore_self(dfd: int) -> None:
    """The directory's own .gitignore (`*`), whenever it is missing: a store made before the log
    has no line for it in .beads/.gitignore, and a log committed to git would churn in every merge."""
    try:
        fd = os.open(".gitignore", os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o644, dir_fd=dfd)
    except OSError:
        return  # there already (or cannot be: the log still works)
    from gastown_tui.infra.fsutil import write_all

    try:
        write_all(fd, _IGNORE)
    except OSError:
        pass
    finally:
        os.close(fd)


def _kept_tail(fd: int, size: int) -> bytes:
    """The newest KEEP_BYTES of whole lines of the log."""
    start = max(size - KEEP_BYTES, 0)
    tail = os.pread(fd, size - start, start)
    if start:
        nl = tail.find(b"\n")
        tail = tail[nl + 1:] if nl >= 0 else b""
    return tail


def _replace(dfd: int, data: bytes) -> None:
    """The log replaced by `data` atomically (the writer holds the store's lock)."""
    from gastown_tui.infra.fsutil import write_all

    tmp = f".log.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _NOFOLLOW, 0o644, dir_fd=dfd)
    try:
        try:
            write_all(fd, data)
        finally:
            os.close(fd)
        os.replace(tmp, _NAME, src_dir_fd=dfd, dst_dir_fd=dfd)
    except BaseException:
        try:
            os.unlink(tmp, dir_fd=dfd)
        except OSError:
            pass
        raise


def changed_ids(beads_dir: str, names: Sequence[str], since: Sequence, now: Sequence) -> set[str] | None:
    """The ids whose lines differ between versions `since` and `now` of the files `names` (one
    fingerprint per file, None for a missing file), or None when the log cannot say."""
    if not len(names) == len(since) == len(now):
        return None  # (versions of other files)
    todo = [(n, a, b) for n, a, b in zip(names, since, now, strict=True) if a != b]
    if not todo:
        return set()
    if any(a is None or b is None for _, a, b in todo):
        return None
    dfd = _open_dir(beads_dir, make=False)
    if dfd < 0:
        return None
    try:
        fd = os.open(_NAME, os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0), dir_fd=dfd)  # (a FIFO never blocks it)
    except OSError:
        return None
    finally:
        os.close(dfd)
    try:
        st = os.fstat(fd)
        if not S_ISREG(st.st_mode) or st.st_size > 2 * MAX_BYTES:
            return None
        raw = os.read(fd, st.st_size)
    except OSError:
        return None
    finally:
        os.close(fd)
    try:
        text = "\n" + raw.decode("utf-8", "surrogateescape")
    except ValueError:
        return None
    from gastown_tui.beads.codec import loads

    out: set[str] = set()
    for name, a, b in todo:
        cur, target, pos = _version(a), _version(b), 0
        while cur != target:
            head = f"\n{name}\t{cur}\t"
            pos = text.find(head, pos)
            if pos < 0:
                return None  # no logged write of ours starts from this version
            end = text.find("\n", pos + 1)
            if end < 0:
                return None  # the line is still being written
            parts = text[pos + len(head):end].split("\t")
            if len(parts) != 2:
                return None
            cur = parts[0]
            try:
                ids = loads(parts[1])
            except ValueError:
                return None
            if type(ids) is not list or not all(type(i) is str for i in ids):
                return None
            out.update(ids)
            pos = end
    return out
