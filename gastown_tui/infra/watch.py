"""Watch files without polling: change batches from watchfiles, and one pane's output from tmux.

`watch_paths` is the generic debounced watcher; which files of a town matter is the town's
business (`town/watch.py`). Watching only reads: the cockpit must never write in response to a
watch event (a write would wake every other watcher, including itself).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Hashable
from dataclasses import dataclass
from pathlib import Path


async def watch_paths(roots: Callable[[], list[Path]], relevant: Callable[[Path], bool], *,
                      rescan_key: Callable[[], Hashable] | None = None, debounce_ms: int = 50,
                      stop_event=None) -> AsyncIterator[set[Path]]:
    """Yield sets of changed paths for which `relevant` holds, watching `roots()`.

    When `rescan_key()` changes after a batch, `roots()` is asked again (a new directory to watch).
    """
    from watchfiles import awatch

    while True:
        watched = roots()
        key_before = rescan_key() if rescan_key is not None else None
        async for changes in awatch(*watched, debounce=debounce_ms, step=25, stop_event=stop_event,
                                    watch_filter=lambda _c, p: relevant(Path(p))):
            batch = {Path(p) for _c, p in changes}
            if batch:
                yield batch
            if rescan_key is not None and rescan_key() != key_before:
                break
        else:
            return


@dataclass(frozen=True)
class PaneUpdate:
    """What a watched pane did since the last `take_update`, in stream order.

    `captured`: a capture asked for with `request_capture` came back; `capture` is its text
    (ANSI), or None when tmux refused it (the pane is gone). `data`: the bytes the pane printed
    after that capture (or after the previous update); None when they cannot be applied on top
    of what the caller shows (too many to keep, or printed before the first capture)."""

    captured: bool = False
    capture: str | None = None
    data: bytes | None = b""


class PaneOutputWatch:
    """Streams one tmux pane's output, without polling.

    A read-only tmux control-mode client (`tmux -C attach -f ignore-size,read-only`) on the
    watched session streams `%output` lines; a reader thread keeps the bytes and, when the pane
    turns dirty, calls `on_output` (from the reader thread) once until the flag is taken.

    Captures travel through the same client (`request_capture`): tmux answers a command in the
    client's stream after every `%output` it already sent, and the grid it captures holds exactly
    those bytes. So a capture plus the bytes that follow it is the pane now, with no gap and no
    overlap, and no tmux process is started per capture. Idle panes cost nothing. `ignore-size`
    keeps the agent's window size as it is.
    """

    def __init__(self, socket_name: str, *, tmux_bin: str | None = None,
                 on_output: Callable[[], None] | None = None) -> None:
        import shutil
        import threading

        self.on_output = on_output
        self.socket_name = socket_name
        self._lock = threading.Lock()
        self._data = bytearray()  # bytes printed after the last capture (or update) taken
        self._unusable = True  # _data does not follow a capture (none yet, or it overflowed)
        self._reply: tuple[bool, str | None] = (False, None)  # the latest capture not yet taken
        # (`lines`, end line) of each capture asked for, or (_Asked, end line) of a command's
        self._pending: list[tuple[int | _Asked | None, bytes]] = []
        self.tmux_bin = tmux_bin or shutil.which("tmux") or "tmux"
        self.session: str | None = None
        self.dirty = False
        self.alive = False
        self.attached = False  # the control client answered: it is attached
        self._proc = None
        self._thread = None

    def follow(self, session: str | None) -> bool:
        """Watch `session` (None: stop). Returns False when the control client could not start."""
        import os
        import subprocess
        import threading

        if session == self.session and self.alive:
            return True
        self.stop()
        self.session = session
        if session is None:
            return True
        env = os.environ.copy()
        env.pop("TMUX", None)
        try:
            proc = subprocess.Popen(
                [self.tmux_bin, "-L", self.socket_name, "-C", "attach-session", "-t", f"={session}",
                 "-f", "ignore-size,read-only"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        except OSError:
            return False
        with self._lock:
            self._data.clear()
            self._unusable = True
            self._reply = (False, None)
            _release(self._pending)
            self._pending = []
            self._proc = proc
        self.alive = True
        self.attached = False
        self.dirty = False
        self._mark()  # whatever is on screen now has not been shown yet
        self._thread = threading.Thread(target=self._read, args=(proc,), daemon=True, name=f"pane-watch-{session}")
        self._thread.start()
        return True

    @property
    def capture_pending(self) -> bool:
        return any(not isinstance(lines, _Asked) for lines, _end in self._pending)

    def command(self, line: str, timeout: float = 1.0) -> str | None:
        """Run one read-only tmux command (`line`, e.g. a listing) through the control client and
        return its output; None when it failed, timed out or the client went away (the caller
        then starts a tmux process as before). No tmux process is started per call.

        Its reply is read like a capture's (see request_capture): up to a random token that
        follows it, so nothing a pane shows can end it early."""
        import secrets

        if "\n" in line or "\r" in line:
            return None
        asked = _Asked()
        token = "gt-command-" + secrets.token_hex(16)
        with self._lock:
            proc = self._proc
            if proc is None or not self.alive or not self.attached:
                return None
            self._pending.append((asked, token.encode() + b"\n"))
            try:
                proc.stdin.write(line.encode() + b"\ndisplay-message -p '" + token.encode() + b"'\n")
                proc.stdin.flush()
            except (OSError, ValueError):
                self._pending.pop()
                return None
        if not asked.done.wait(timeout):
            return None
        return asked.text

    def request_capture(self, lines: int | None = None) -> bool:
        """Ask for a capture of the pane (the last `lines` lines, or the visible screen) through
        the control client; it comes back in a `take_update`. False when it cannot be asked.

        A capture's reply is the pane's raw text, so a pane can print lines that look like the
        reply's `%end` (its time and command number are guessable). The capture is therefore
        followed, as its own command line, by a `display-message` of a random token the pane
        cannot know: the reply is read up to that token, and its real end is the last `%end` or
        `%error` line of its own time and number before it (after the real end only tmux writes)."""
        import secrets

        session = self.session
        if session is None or not _plain_name(session):
            return False
        cmd = f"capture-pane -p -e -J -t '={session}:'"
        if lines is not None:
            cmd += f" -S {-max(int(lines), 0)}"
        token = "gt-capture-" + secrets.token_hex(16)
        cmd += f"\ndisplay-message -p '{token}'"  # its own line: a failed capture does not skip it
        with self._lock:
            proc = self._proc
            if proc is None or not self.alive:
                return False
            self._pending.append((lines, token.encode() + b"\n"))
            try:
                proc.stdin.write(cmd.encode() + b"\n")
                proc.stdin.flush()
            except (OSError, ValueError):
                self._pending.pop()
                return False
        return True

    def take_update(self) -> PaneUpdate:
        """The capture that came back (if any) and the bytes printed after it, then forget them."""
        with self._lock:
            (captured, text), self._reply = self._reply, (False, None)
            data = None if self._unusable else bytes(self._data)
            self._data.clear()
            return PaneUpdate(captured, text, data)

    def _read(self, proc) -> None:
        block: list[bytes] | None = None  # lines of the command reply being read
        key: list[bytes] = []
        skip: list[bytes] | None = None  # the key of a token's reply, already read: its `%end` to pass
        try:
            for raw in proc.stdout:
                if proc is not self._proc:
                    break
                if skip is not None:
                    if _ends_reply(raw, skip):
                        skip = None
                    continue
                if block is not None and key[2:3] == [b"1"]:
                    # a capture's reply: everything up to the token that follows it (see request_capture)
                    with self._lock:
                        token = self._pending[0][1] if self._pending else None
                    if raw != token:
                        block.append(raw)
                        continue
                    begin = block.pop() if block else b""  # the token reply's own %begin
                    end = self._real_end(block, key)
                    if end is None or not begin.startswith(b"%begin "):
                        break  # not the stream tmux writes: stop rather than misread it
                    skip = begin.rstrip(b"\n").split(b" ")[1:3]
                    reply, failed, after = block[:end], block[end].startswith(b"%error"), block[end + 1:]
                    block = None
                    self._replied(proc, reply, failed, True)
                    if any(self._notification(proc, line) for line in after):  # tmux's, between the replies
                        break
                    continue
                if block is not None:
                    # the attach's own reply (not pane text) ends at `%end`/`%error` with its key
                    if _ends_reply(raw, key):
                        block = None
                    continue
                if not self.attached:
                    self.attached = True
                if raw.startswith(b"%begin "):
                    block, key = [], raw.rstrip(b"\n").split(b" ")[1:4]
                elif self._notification(proc, raw):
                    break
        except (OSError, ValueError):
            pass
        self._ended(proc)

    @staticmethod
    def _real_end(block: list[bytes], key: list[bytes]) -> int | None:
        """The index of the reply's real `%end`/`%error` line: the last one with its key."""
        for i in range(len(block) - 1, -1, -1):
            if _ends_reply(block[i], key):
                return i
        return None

    def _notification(self, proc, raw: bytes) -> bool:
        """Act on one line tmux wrote outside a reply; True when the client is leaving."""
        if raw.startswith(b"%output "):
            self._keep(proc, raw)
            self._mark()
        return raw.startswith(b"%exit")

    def _ended(self, proc) -> None:
        if proc is self._proc:
            self.alive = False
            with self._lock:
                _release(self._pending)
            self._mark()

    def _replied(self, proc, block: list[bytes], error: bool, ours: bool) -> None:
        if not ours:  # the attach's own reply
            return
        from gastown_tui.infra.tmux import _tail

        with self._lock:
            if proc is not self._proc or not self._pending:
                return
            lines, _token = self._pending.pop(0)
            if isinstance(lines, _Asked):  # a command's reply: for its caller, not the view
                lines.text = None if error else b"".join(block).decode("utf-8", errors="replace")
                lines.done.set()
                return
            text = None if error else _tail(b"".join(block).decode("utf-8", errors="replace"), lines)
            self._reply = (True, text)
            self._data.clear()  # the capture shows everything printed before it
            self._unusable = False
        self._mark()

    MAX_DATA = 64 * 1024

    def _keep(self, proc, raw: bytes) -> None:
        # "%output %<pane> <data>\n", data octal-escaped (\ooo) below space and for backslash
        _tag, _pane, data = raw.rstrip(b"\n").split(b" ", 2) if raw.count(b" ") >= 2 else (b"", b"", b"")
        with self._lock:
            if proc is not self._proc or self._unusable:
                return
            if len(self._data) + len(data) > self.MAX_DATA:
                self._unusable = True  # only a capture shows the pane truly now
                self._data.clear()
                return
            self._data += _unescape(data)

    def _mark(self) -> None:
        if not self.dirty:
            self.dirty = True
            if self.on_output is not None:
                try:
                    self.on_output()
                except Exception:  # noqa: BLE001 - the listener went away (app closing): keep reading
                    pass

    def take(self) -> bool:
        """True (once) when the pane printed (or a capture came back) since the last call."""
        if self.dirty:
            self.dirty = False
            return True
        return False

    def stop(self) -> None:
        with self._lock:
            proc, self._proc = self._proc, None
            _release(self._pending)
            self._pending = []
        self.alive = False
        self.attached = False
        if proc is not None:
            try:
                proc.stdin.close()  # control mode detaches at end of input
            except OSError:
                pass
            try:
                proc.terminate()
                proc.wait(timeout=2)
            except Exception:  # noqa: BLE001 - best effort: it is our own child
                proc.kill()


class _Asked:
    """A command sent through the control client, waiting for its reply."""

    __slots__ = ("done", "text")

    def __init__(self) -> None:
        import threading

        self.done = threading.Event()
        self.text: str | None = None


def _release(pending: list) -> None:
    """Wake the callers of commands that will get no reply (the client stopped or switched)."""
    for lines, _end in pending:
        if isinstance(lines, _Asked):
            lines.done.set()


def _ends_reply(raw: bytes, key: list[bytes]) -> bool:
    """`raw` is the `%end`/`%error` line of the reply whose `%begin` carried `key` (time, number)."""
    head = raw.split(b" ", 3)
    return head[0] in (b"%end", b"%error") and head[1:3] == key[:2]


def _plain_name(name: str) -> bool:
    """A session name we can put in a control-mode command line without quoting problems."""
    return bool(name) and all(c.isalnum() or c in "-_." for c in name)


def _unescape(data: bytes) -> bytes:
    if b"\\" not in data:
        return data
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        c = data[i]
        if c == 0x5C and i + 3 < n + 1 and data[i + 1:i + 4].isdigit():
            out.append(int(data[i + 1:i + 4], 8) & 0xFF)
            i += 4
        else:
            out.append(c)
            i += 1
    return bytes(out)


def file_changes(path: Path, *, debounce_ms: int = 50, stop_event=None):
    """Yield (None) each time `path` is written, created, replaced or removed — no polling.

    Watches the file's directory without recursion (so a file that does not exist yet, or is
    rotated, is still seen) and keeps only events for that name. Ends when `stop_event` is set.
    """
    from watchfiles import watch

    path = Path(path)
    name = path.name
    for _changes in watch(path.parent, recursive=False, debounce=debounce_ms, step=25, stop_event=stop_event,
                          watch_filter=lambda _c, p: Path(p).name == name):
        yield None
