"""The one function that turns untrusted names into paths (issue 12).

Bead ids, rig/crew/polecat/formula names and redirect targets arrive by git or from agents. A
path derived from one is built with `confine(root, *parts)`, which refuses parts that could walk
out (absolute, `..`, empty, control characters, too long for the file system) and then proves,
after resolving symlinks, that the result is still inside `root` — a committed symlink pointing
outside is caught as surely as `../`. Deleting goes through `remove_tree`/`remove_file`, which
re-check their target the same way, so an `rmtree` never leaves its root.
"""

from __future__ import annotations

import os
from pathlib import Path

from gastown_tui.errors import GtError

NAME_MAX = 255  # bytes in one path component on every file system we run on


class UnsafePath(GtError):
    """A name would make a path outside its root (or one the file system cannot hold)."""


def part_problem(part: str) -> str | None:
    """Why `part` (one or more `/`-separated components, relative) cannot be used, or None."""
    if not isinstance(part, str) or not part:
        return "it is empty"
    if not part.isprintable():
        return "it contains a control character"
    if part.startswith(("/", "~")):
        return "it is an absolute path"
    for comp in part.split("/"):
        if comp in ("", ".", ".."):
            return "it has an empty, '.' or '..' component"
        try:
            size = len(comp.encode("utf-8"))
        except UnicodeEncodeError:
            return "it is not valid UTF-8"
        if size > NAME_MAX:
            return f"a component is longer than {NAME_MAX} bytes"
    return None


def _shown(text: object) -> str:
    s = repr(text)
    return s if len(s) <= 80 else s[:76] + "...'"


def is_inside(root: Path | str, path: Path | str) -> bool:
    """True when `path`, symlinks resolved, is `root` or below it."""
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def confine(root: Path | str, *parts: str, what: str = "name") -> Path:
    """`root/parts...`, refused (UnsafePath) unless it stays inside `root` after resolving symlinks.

    The path returned is the lexical join (so messages show what the user expects); it is only
    returned once its resolved form is proved to be inside the resolved root.
    """
    root = Path(root)
    for part in parts:
        problem = part_problem(part)
        if problem is not None:
            raise UnsafePath(f"the {what} {_shown(part)} cannot be used as a path: {problem}",
                             hint="use letters, digits, '-', '_' and '.'")
    path = root.joinpath(*parts)
    if not is_inside(root, path):
        raise UnsafePath(f"the {what} {_shown('/'.join(parts))} leads outside {root} (through a symlink)",
                         hint="remove the symlink or pick another name")
    return path


def check_inside(root: Path | str, path: Path | str, what: str = "path") -> Path:
    """`path` itself once proved inside `root` (for paths derived earlier, before acting on them)."""
    if not is_inside(root, path):
        raise UnsafePath(f"the {what} {_shown(str(path))} is outside {root}", hint="nothing was changed")
    return Path(path)


def remove_tree(root: Path | str, path: Path | str) -> None:
    """`rmtree(path)`, only when `path` is strictly inside `root` (symlinks resolved); a symlink
    itself is unlinked, never followed."""
    import shutil

    path = Path(path)
    if os.path.realpath(path) == os.path.realpath(root):
        raise UnsafePath(f"refusing to remove {root} itself", hint="nothing was changed")
    if path.is_symlink():
        check_inside(root, path.parent)
        path.unlink()
        return
    check_inside(root, path)
    shutil.rmtree(path, ignore_errors=True)


def remove_file(root: Path | str, path: Path | str) -> None:
    """`unlink(path)` (missing is fine), only when its directory is inside `root`."""
    path = Path(path)
    check_inside(root, path.parent)
    path.unlink(missing_ok=True)
