"""The sim agent's terminal program: a banner, a `sim> ` prompt, a busy indicator, line or
bracketed-paste input, and an echo of every message it receives (DESIGN §9).

Screen protocol (what the status engine and the nudge verifier rely on):

- idle: the last line is the prompt `sim> ` followed by whatever is typed;
- busy: the last line is `⠋ working... `; typing is buffered (not echoed) until it is idle again;
- every submitted message is logged first (`<town>/.runtime/sim/<session>.jsonl`), then echoed
  as `● received: <first line>` (or `● queued:` while busy) with further lines indented `  │ `.

Input: raw mode; Enter (CR or LF) submits the line; ESC[200~ ... ESC[201~ is one paste (newlines
kept, CR turned into LF); other escape sequences are swallowed, never executed; backspace, ^U
and ^C edit; ^D on an empty line quits.
"""

from __future__ import annotations

import argparse
import codecs
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

from gastown_tui.sim import agent

PROMPT = "sim> "
BUSY = "⠋ working... "
PASTE_START = "\x1b[200~"
PASTE_END = "\x1b[201~"


def _session_name() -> str:
    name = os.environ.get("GT_SESSION")
    if name:
        return name
    if os.environ.get("TMUX"):
        try:
            out = subprocess.run(["tmux", "display-message", "-p", "-t", os.environ.get("TMUX_PANE", ""), "#S"],
                                 capture_output=True, text=True, timeout=5)
            if out.returncode == 0 and out.stdout.strip():
                return out.stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            pass
    return f"sim-{os.getpid()}"


class SimTerminal:
    def __init__(self, ctx: agent.SimContext, fd_in: int, out) -> None:
        self.ctx = ctx
        self.fd_in = fd_in
        self.out = out
        self.lock = threading.RLock()
        self.buf = ""  # the input line being typed (may hold newlines from a paste)
        self.raw = ""  # undecoded-escape parse buffer
        self.in_paste = False
        self.paste_buf = ""
        self.busy = False
        self.messages: queue.Queue[str | None] = queue.Queue()
        self.stalled = False
        ctx.screen = self

    # -- output -----------------------------------------------------------------------------

    def write(self, s: str) -> None:
        self.out.write(s.replace("\n", "\r\n"))
        self.out.flush()

    def _render_input(self, text: str) -> str:
        return text.replace("\n", "\n  ")

    def _bottom(self) -> str:
        return BUSY if self.busy else PROMPT + self._render_input(self.buf)

    def say(self, text: str) -> None:
        """Print lines above the bottom line (prompt or busy indicator), then redraw it."""
        with self.lock:
            self.write("\r\x1b[K" + text.rstrip("\n") + "\n" + self._bottom())

    def banner(self) -> None:
        title = " ✻ sim agent · a simulated coding-agent CLI (Gas Town) "
        lines = ["╭" + "─" * len(title) + "╮", "│" + title + "│", "╰" + "─" * len(title) + "╯",
                 f"  session {self.ctx.session} · town {self.ctx.town_root}"]
        if self.ctx.faults:
            lines.append("  faults: " + ", ".join(f"{k}={v}" if v is not True else k for k, v in self.ctx.faults.items()))
        if os.environ.get("GT_SIM_MODEL"):
            lines.append("  model: " + os.environ["GT_SIM_MODEL"] + " (simulated)")
        if self.ctx.prompt:
            lines.append("  prompt: " + self.ctx.prompt.replace("\n", " "))
        lines.append("  type a message and press Enter; ^D quits")
        self.write("\n".join(lines) + "\n\n" + PROMPT)

    # -- input ------------------------------------------------------------------------------

    def feed(self, s: str) -> None:
        with self.lock:
            if self.stalled:
                return
            self.raw += s
            self._parse()

    def _parse(self) -> None:
        while self.raw:
            r = self.raw
            if self.in_paste:
                i = r.find(PASTE_END)
                if i < 0:
                    keep = next((k for k in range(min(len(r), len(PASTE_END) - 1), 0, -1)
                                 if PASTE_END.startswith(r[-k:])), 0)
                    self.paste_buf += r[: len(r) - keep]
                    self.raw = r[len(r) - keep:]
                    return
                self.paste_buf += r[:i]
                self.raw = r[i + len(PASTE_END):]
                self.in_paste = False
                self._insert(self.paste_buf.replace("\r\n", "\n").replace("\r", "\n"))
                self.paste_buf = ""
                continue
            c = r[0]
            if c == "\x1b":
                if PASTE_START.startswith(r[:6]) and len(r) < 6:
                    return  # maybe the start of a paste marker: wait for more
                if r.startswith(PASTE_START):
                    self.in_paste = True
                    self.raw = r[len(PASTE_START):]
                    continue
                if len(r) < 2:
                    return
                if r[1] == "[":
                    j = next((k for k in range(2, len(r)) if "\x40" <= r[k] <= "\x7e"), -1)
                    if j < 0:
                        if len(r) < 64:
                            return
                        j = len(r) - 1
                    self.raw = r[j + 1:]
                elif r[1] == "]":
                    ends = [k for k in (r.find("\x07"), r.find("\x1b\\")) if k >= 0]
                    if not ends:
                        if len(r) < 4096:
                            return
                        self.raw = ""
                        continue
                    k = min(ends)
                    self.raw = r[k + (1 if r[k] == "\x07" else 2):]
                else:
                    self.raw = r[2:]
                continue
            self.raw = r[1:]
            if c in "\r\n":
                self._submit()
            elif c in "\x7f\x08":
                if self.buf:
                    last, self.buf = self.buf[-1], self.buf[:-1]
                    if not self.busy and last != "\n":
                        self.write("\b \b")
            elif c in "\x03\x15":
                self.buf = ""
                if not self.busy:
                    self.write("\r\x1b[K" + PROMPT)
            elif c == "\x04":
                if not self.buf:
                    self.messages.put(None)
            elif c < " " and c != "\t":
                continue
            else:
                self._insert(c)

    def _insert(self, text: str) -> None:
        # Control characters inside a paste are dropped too (tabs and newlines stay).
        text = "".join(ch for ch in text if ch >= " " or ch in "\t\n")
        self.buf += text
        if not self.busy:
            self.write(self._render_input(text))

    def _submit(self) -> None:
        text, self.buf = self.buf, ""
        if not text.strip():
            return  # an empty Enter does nothing, like the real CLIs
        agent.log_message(self.ctx, text)
        first, *rest = text.split("\n")
        echo = ("● queued: " if self.busy else "● received: ") + first
        echo += "".join("\n  │ " + line for line in rest)
        if self.busy:
            self.write("\r\x1b[K" + echo + "\n" + BUSY)
        else:
            self.write("\n" + echo + "\n")
            self.busy = True  # until the worker has handled it; the prompt is redrawn then
            self.write(BUSY if self.ctx.faults.get("slow") else "")
        self.messages.put(text)

    # -- the worker -------------------------------------------------------------------------

    def work(self) -> int:
        while True:
            text = self.messages.get()
            if text is None:
                return 0
            faults = self.ctx.faults
            if faults.get("crash"):
                self.say("✗ sim crashed (fault injected: sim:crash)")
                return 3
            if faults.get("stall"):
                with self.lock:
                    self.stalled = True
                    self.write("\r\x1b[K" + BUSY)
                threading.Event().wait()
            with self.lock:
                self.busy = True
            agent.on_message(self.ctx, text)
            slow = float(faults.get("slow") or 0)
            if slow:
                time.sleep(slow)
            with self.lock:
                if self.messages.empty():
                    self.busy = False
                    self.write("\r\x1b[K" + ("✓ done\n" if slow else "") + PROMPT + self._render_input(self.buf))

    def read_loop(self) -> None:
        dec = codecs.getincrementaldecoder("utf-8")("replace")
        while True:
            try:
                data = os.read(self.fd_in, 65536)
            except OSError:
                data = b""
            if not data:
                self.messages.put(None)
                return
            self.feed(dec.decode(data))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m gastown_tui.sim", description="The Gas Town sim agent.")
    ap.add_argument("--prompt", help="the first prompt (the beacon); shown and handed to the start hook")
    ap.add_argument("--session", help="session name for the received log (default: $GT_SESSION, then tmux)")
    ap.add_argument("--model", help="the model it pretends to be (gt sling --model); shown and logged with usage")
    ns = ap.parse_args(argv)
    if ns.model:
        os.environ["GT_SIM_MODEL"] = ns.model  # the work loop's usage log reads it
    town_root = Path(os.environ.get("GT_TOWN_ROOT") or os.getcwd())
    ctx = agent.SimContext(town_root=town_root, session=ns.session or _session_name(),
                           faults=agent.parse_faults(os.environ.get("GT_SIM_FAULTS")), prompt=ns.prompt)
    fd = sys.stdin.fileno()
    if not os.isatty(fd):
        return _line_mode(ctx)
    import termios
    import tty

    saved = termios.tcgetattr(fd)
    term = SimTerminal(ctx, fd, sys.stdout)
    try:
        tty.setraw(fd)
        term.write("\x1b[?2004h")
        term.banner()
        agent.on_start(ctx)
        threading.Thread(target=term.read_loop, daemon=True, name="sim-input").start()
        code = term.work()
    finally:
        sys.stdout.write("\x1b[?2004l\r\n")
        sys.stdout.flush()
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
    return code


def _line_mode(ctx: agent.SimContext) -> int:
    """Not a terminal (piped input): one message per line, same log, plain output."""

    class Plain:
        def say(self, text: str) -> None:
            print(text, flush=True)

    ctx.screen = Plain()
    print("sim agent (line mode)", flush=True)
    agent.on_start(ctx)
    for line in sys.stdin:
        text = line.rstrip("\n")
        if not text.strip():
            continue
        agent.log_message(ctx, text)
        print("● received: " + text, flush=True)
        agent.on_message(ctx, text)
    return 0
