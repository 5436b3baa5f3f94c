"""Atomic writes and advisory file locks: the one home of both in the package.

Nothing half-written is ever visible: a write goes to a temp file beside its target (fsynced
unless it is a mere cache), then `os.replace`. Locks are `flock`s on a lock file. Kept to `os`
and `fcntl` (no pathlib, tempfile): `bd create` and the store's writers import this on every call.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

_SEQ = [0]


def stage(path: str | Path, data: bytes | Sequence[bytes | tuple[int, int]], *, fsync: bool = True,
          source: int | None = None) -> tuple[str, int]:
    """Write `data` to a new temp file beside `path`: (the temp file's path, its inode).

    With `source` (an open file descriptor), `data` is a sequence of pieces: bytes, and
    (offset, length) ranges of `source` copied in the kernel (copy_file_range), so a writer that
    changes one line of a large file never reads, decodes or re-encodes the rest of it.
    The caller renames it over `path` (`os.replace`) — or unlinks it. Two-phase writers (the beads
    store's journalled commit) stage every file first, then rename.
    """
    path = os.fspath(path)
    head, name = os.path.split(path)
    _SEQ[0] += 1
    tmp = os.path.join(head, f".{name}.{os.getpid()}.{time.time_ns()}.{_SEQ[0]}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        try:
            if source is None and isinstance(data, list):
                for piece in data:  # pieces of one file: written in turn, never joined in memory
                    write_all(fd, piece)
            elif source is None:
                write_all(fd, data)  # type: ignore[arg-type]
            else:
                for piece in data:
                    if isinstance(piece, tuple):
                        _copy_range(source, fd, *piece)
                    else:
                        write_all(fd, piece)
            if fsync:
                os.fsync(fd)
            ino = os.fstat(fd).st_ino
        finally:
            os.close(fd)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return tmp, ino


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


_IN_KERNEL = [hasattr(os, "copy_file_range")]


def _copy_range(src: int, dst: int, offset: int, count: int) -> None:
    """Append `count` bytes of `src` from `offset` to `dst` (at its position)."""
    while count > 0:
        n = 0
        if _IN_KERNEL[0]:
            try:
                n = os.copy_file_range(src, dst, count, offset)
            except OSError:  # not on this filesystem or kernel: copy through memory from now on
                _IN_KERNEL[0] = False
        if n <= 0:
            chunk = os.pread(src, min(count, 1 << 20), offset)
            if not chunk:
                raise OSError(errno.EIO, "the source file is shorter than expected")
            write_all(dst, chunk)
            n = len(chunk)
        offset += n
        count -= n


def atomic_write_bytes(path: str | Path, data: bytes | list[bytes], *, fsync: bool = True, mkdir: bool = True) -> None:
    """Replace `path` with `data` (bytes, or a list of pieces) atomically (readers see the old or
    the new file, never a mix)."""
    path = os.fspath(path)
    if mkdir:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp, _ = stage(path, data, fsync=fsync)
    try:
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def atomic_write_text(path: str | Path, text: str, *, fsync: bool = True, mkdir: bool = True) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), fsync=fsync, mkdir=mkdir)


class Lock:
    """An flock on a lock file (created if missing), held through an open descriptor."""

    __slots__ = ("fd", "held")

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        path = os.fspath(path)
        if create:
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT if create else os.O_RDONLY, 0o644)  # (flock needs no write access)
        self.held = False

    def acquire(self, *, shared: bool = False, blocking: bool = True) -> bool:
        """Take the lock; with blocking=False, False when another process holds it."""
        flags = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
        try:
            fcntl.flock(self.fd, flags if blocking else flags | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        self.held = True
        return True

    def release(self) -> None:
        if self.held:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_UN)
            except OSError:
                pass
            self.held = False

    def close(self) -> None:
        self.release()
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class file_lock:  # noqa: N801 - used as a function: `with file_lock(path):`
    """Hold an flock on `path` (created if missing) for the duration of the block. (A class, not
    contextlib: that module pulls functools and collections into every `bd` call.)"""

    __slots__ = ("path", "shared", "lock")

    def __init__(self, path: str | Path, *, shared: bool = False) -> None:
        self.path, self.shared, self.lock = path, shared, None

    def __enter__(self) -> None:
        lock = Lock(self.path)
        try:
            lock.acquire(shared=self.shared)
        except BaseException:
            lock.close()
            raise
        self.lock = lock

    def __exit__(self, *exc: object) -> None:
        self.lock.close()


def lock_held(path: str | Path) -> bool:
    """True when some process holds an exclusive-incompatible lock on `path` (False if it does not exist)."""
    try:
        lock = Lock(path, create=False)
    except FileNotFoundError:
        return False
    try:
        return not lock.acquire(blocking=False)
    finally:
        lock.close()


def append_line(path: str | Path, line: str) -> None:
    """Append one line under an exclusive lock (O_APPEND keeps lines whole)."""
    data = (line.rstrip("\n") + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, data)
    finally:
        os.close(fd)
