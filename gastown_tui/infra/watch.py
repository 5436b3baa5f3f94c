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
    watched session streams `%output` lines; a reader thread turns them into a `dirty` flag the
    cockpit checks on its fast timer. Idle panes therefore cost no tmux process at all, and a
    change is known within one timer period. `ignore-size` keeps the agent's window size as it is.
    """

    def __init__(self, socket_name: str, *, tmux_bin: str | None = None) -> None:
        import shutil

        self.socket_name = socket_name
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
        self._proc = proc
        self.alive = True
        self.attached = False
        self.dirty = True  # whatever is on screen now has not been captured yet
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
                    self.dirty = True
                if raw.startswith(b"%output "):
                    self.dirty = True
                elif raw.startswith(b"%exit"):
                    break
        except (OSError, ValueError):
            pass
        if proc is self._proc:
            self.alive = False
            self.dirty = True

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
