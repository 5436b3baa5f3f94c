"""The per-session output log behind `gt trail`: tmux `pipe-pane` feeds a pane's output to this.

    python -S -E trail_writer.py LOGFILE MAX_BYTES

Reads the pane's raw output on stdin in batches (one wake-up per ~`BATCH_SECONDS`, however
chatty the agent), turns it into text lines — escape sequences and control characters removed by
the one sanitizer, a carriage-return redraw keeps only what ended on screen, blank lines dropped —
and appends `<epoch seconds>\\t<line>` to LOGFILE. When LOGFILE would pass MAX_BYTES it becomes
LOGFILE.1 (replacing the previous one) and a new LOGFILE starts: at most 2 x MAX_BYTES on disk per
session, ever. Ends when the pane closes (EOF). Started with `-S`, so it imports no site packages:
a few MB of memory per session.
"""

from __future__ import annotations

import os
import sys
import time

BATCH_SECONDS = 2.0
MAX_LINE = 1000  # characters kept of one line (a TUI redraw can be one enormous "line")


def _sanitizer():
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    from gastown_tui.infra.termtext import clean as sanitize

    return sanitize


def lines_of(text: str, sanitize) -> list[str]:
    out = []
    for raw in text.split("\n"):
        seg = raw.rstrip("\r").rsplit("\r", 1)[-1]  # what a \r redraw left on screen
        line = sanitize(seg).replace("\t", "    ").rstrip()
        if line.strip():
            out.append(line[:MAX_LINE])
    return out


def main(argv: list[str]) -> int:
    import select

    path, max_bytes = argv[1], max(4096, int(argv[2]))
    sanitize = _sanitizer()
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    log = _Log(path, max_bytes)
    pending = ""
    fd = sys.stdin.fileno()
    os.set_blocking(fd, False)
    eof = False
    while not eof:
        select.select([fd], [], [])  # sleep until the pane prints
        time.sleep(BATCH_SECONDS)  # let the rest of this burst arrive: one write per batch
        chunks = []
        try:
            while True:
                more = os.read(fd, 65536)
                if not more:
                    eof = True
                    break
                chunks.append(more)
        except BlockingIOError:
            pass
        text = pending + b"".join(chunks).decode("utf-8", "replace")
        head, sep, pending = text.rpartition("\n")
        if not sep and len(pending) >= MAX_LINE:  # no newline for a long while (a TUI redraw)
            head, pending = pending, ""
        log.append(lines_of(head, sanitize))
    log.append(lines_of(pending, sanitize))
    log.close()
    return 0


class _Log:
    """LOGFILE kept open for appends; rotated to LOGFILE.1 before it would pass max_bytes."""

    def __init__(self, path: str, max_bytes: int) -> None:
        self.path, self.max_bytes = path, max_bytes
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.size = os.fstat(self.fd).st_size

    def append(self, lines: list[str]) -> None:
        if not lines:
            return
        stamp = str(int(time.time()))
        data = "".join(f"{stamp}\t{ln}\n" for ln in lines).encode("utf-8")
        if len(data) > self.max_bytes:
            data = data[-self.max_bytes:]
            data = data[data.find(b"\n") + 1:]
        if self.size + len(data) > self.max_bytes:
            os.close(self.fd)
            try:
                os.replace(self.path, self.path + ".1")
            except OSError:
                pass
            self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_TRUNC, 0o644)
            self.size = 0
        os.write(self.fd, data)
        self.size += len(data)

    def close(self) -> None:
        os.close(self.fd)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except KeyboardInterrupt:
        sys.exit(0)
