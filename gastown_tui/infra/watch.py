"""Watch files without polling: change batches from watchfiles, and one pane's output from tmux.

`watch_paths` is the generic debounced watcher; which files of a town matter is the town's
business (`town/watch.py`). Watching only reads: the cockpit must never write in response to a
watch event (a write would wake every other watcher, including itself).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Hashable
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


class PaneOutputWatch:
    """Knows, without polling, when one tmux pane printed something.

    A read-only tmux control-mode client (`tmux -C attach -f ignore-size,read-only`) on the
    watched session streams `%output` lines; a reader thread turns them into a `dirty` flag and,
    when it turns dirty, calls `on_output` (from the reader thread) so the cockpit captures the pane
    as the output arrives, not on a timer. A burst of output calls `on_output` once until the
    flag is taken. Idle panes cost no tmux process at all. `ignore-size` keeps the agent's window
    size as it is.
    """

    def __init__(self, socket_name: str, *, tmux_bin: str | None = None,
                 on_output: Callable[[], None] | None = None) -> None:
        import shutil

        import threading

        self.on_output = on_output
        self.socket_name = socket_name
        self._data = bytearray()  # the bytes the pane printed since `take_data` (when not overflowed)
        self._overflow = False
        self._lock = threading.Lock()
        self.tmux_bin = tmux_bin or shutil.which("tmux") or "tmux"
        self.session: str | None = None
        self.dirty = False
        self.alive = False
        self.attached = False  # the control client is attached: from now on no output is missed
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
            self._overflow = False
        self._proc = proc
        self.alive = True
        self.attached = False
        self.dirty = False
        self._mark()  # whatever is on screen now has not been captured yet
        self._thread = threading.Thread(target=self._read, args=(proc,), daemon=True, name=f"pane-watch-{session}")
        self._thread.start()
        return True

    def _read(self, proc) -> None:
        try:
            for raw in proc.stdout:
                if not self.attached and proc is self._proc:
                    # tmux's first control line means it is attached; output printed between
                    # follow() and now was not streamed, so ask for one more capture.
                    self.attached = True
                    self._mark()
                if raw.startswith(b"%output "):
                    if proc is self._proc:
                        self._keep(raw)
                        self._mark()
                elif raw.startswith(b"%exit"):
                    break
        except (OSError, ValueError):
            pass
        if proc is self._proc:
            self.alive = False
            self._mark()

    MAX_DATA = 64 * 1024

    def _keep(self, raw: bytes) -> None:
        # "%output %<pane> <data>\n", data octal-escaped (\ooo) below space and for backslash
        _tag, _pane, data = raw.rstrip(b"\n").split(b" ", 2) if raw.count(b" ") >= 2 else (b"", b"", b"")
        with self._lock:
            if self._overflow:
                return
            if len(self._data) + len(data) > self.MAX_DATA:
                self._overflow = True
                self._data.clear()
                return
            self._data += _unescape(data)

    def take_data(self) -> bytes | None:
        """The bytes printed since the last call, or None when they were too many to keep (or
        printed before the client attached): then only a capture shows the pane truly."""
        with self._lock:
            if self._overflow or not self.attached:
                self._overflow = False
                self._data.clear()
                return None
            out = bytes(self._data)
            self._data.clear()
            return out

    def _mark(self) -> None:
        if not self.dirty:
            self.dirty = True
            if self.on_output is not None:
                try:
                    self.on_output()
                except Exception:  # noqa: BLE001 - the listener went away (app closing): keep reading
                    pass

    def take(self) -> bool:
        """True (once) when the pane printed since the last call."""
        if self.dirty:
            self.dirty = False
            return True
        return False

    def stop(self) -> None:
        proc, self._proc = self._proc, None
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
