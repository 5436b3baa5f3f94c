"""The tmux gateway: the only module that runs tmux (DESIGN §5, §8).

Every town has a private tmux server (`tmux -L <socket>`), never the user's default one. Sessions
are always targeted exactly (`=name`, `=name:` for the window/pane): a plain `-t name`
prefix-matches, so `gt-demo-nux` would hit `gt-demo-nux2`.

Costs are bounded by construction: `panes()` is ONE `list-panes -a` call whatever the number of
agents, and `capture_many()` captures any number of panes in ONE tmux process (commands chained
with `;`, each capture preceded by a marker line). libtmux is available as `Tmux.server` for
callers that want its object model; the hot paths here run tmux directly because libtmux's
command wrapper cannot feed stdin (needed by `load-buffer -`) and issues extra listing calls.
"""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from gastown_tui.errors import Conflict, GtError, NotFound

# Fields of `list-panes -a -F`, in order. Tab-separated: session names cannot contain tabs.
_PANE_FIELDS = (
    "session_name", "pane_id", "pane_pid", "pane_dead", "pane_dead_status", "window_activity",
    "pane_current_command", "pane_width", "pane_height", "@gt_runtime", "pane_in_mode",
    "session_created", "cursor_x", "cursor_y",
)
# What agents control (argv[0] of the pane's process, and the name of any session an agent
# makes on the town's server) has every control character (tab and newline included) replaced
# by tmux itself, so no field can end a line or start another one: a forged line could
# otherwise declare another agent's session dead. (The regex range is written with its two
# control-byte endpoints only: no tab or newline is in the format itself.)
_UNCONTROLLED = "#{s/[\x01-\x1f\x7f]/_/:%s}"
_AGENT_FIELDS = frozenset({"session_name", "pane_current_command"})
_PANE_FORMAT = "\t".join((_UNCONTROLLED if f in _AGENT_FIELDS else "#{%s}") % f for f in _PANE_FIELDS)


# The same listing as one control-mode command line (infra/watch.py: no tmux process per listing).
PANES_COMMAND_LINE = f"list-panes -a -F '{_PANE_FORMAT}'"


def parse_panes(text: str) -> dict[str, PaneInfo]:
    """Every session's first pane from `list-panes -a -F _PANE_FORMAT` output (lines of another
    shape are skipped: names and commands come from the agents)."""
    out: dict[str, PaneInfo] = {}
    for line in text.splitlines():
        f = line.split("\t")
        if len(f) != len(_PANE_FIELDS):
            continue
        (session, pane_id, pid, dead, dead_status, activity, cmd, w, h, runtime, in_mode,
         created, _cx, _cy) = f
        if session in out or pane_id[:1] != "%" or not pane_id[1:].isdigit():  # keep the first pane of a session
            continue
        try:
            out[session] = PaneInfo(
                pane_id=pane_id, session=session, pid=_int(pid), dead=dead == "1",
                dead_status=_int(dead_status) if dead == "1" else None,
                activity=float(activity or 0), current_command=cmd, width=_int(w) or 0,
                height=_int(h) or 0, runtime=runtime, in_mode=in_mode == "1",
                created=float(created or 0),
            )
        except ValueError:  # not tmux's numbers: not a listing line
            continue
    return out


class TmuxError(GtError):
    """tmux refused a command; the message carries tmux's own one-line reason."""


@dataclass(frozen=True)
class PaneInfo:
    """One agent pane (the first pane of the session's first window)."""

    pane_id: str
    session: str
    pid: int | None
    dead: bool
    dead_status: int | None
    activity: float  # epoch seconds of the last output (tmux's window_activity)
    current_command: str
    width: int
    height: int
    runtime: str = ""  # the session's @gt_runtime option, set by agents.sessions
    in_mode: bool = False  # copy mode or another tmux mode
    created: float = 0.0

    def to_json(self) -> dict:
        return {
            "session": self.session, "pane_id": self.pane_id, "pid": self.pid, "dead": self.dead,
            "dead_status": self.dead_status, "activity": self.activity,
            "current_command": self.current_command, "width": self.width, "height": self.height,
            "runtime": self.runtime, "created": self.created,
        }


@dataclass(frozen=True)
class Screen:
    """The visible rows of a pane (plain text, no joins) and where the cursor is."""

    rows: list[str]
    cursor_x: int
    cursor_y: int
    in_mode: bool
    width: int = 0

    def cursor_text(self) -> str:
        """The cursor's row, preceded by the row above when the cursor row continues it (wrap)."""
        if not self.rows:
            return ""
        y = min(max(self.cursor_y, 0), len(self.rows) - 1)
        row = self.rows[y]
        if y > 0 and self.width and _cells(self.rows[y - 1]) >= self.width:
            return self.rows[y - 1] + row
        return row


def _cells(s: str) -> int:
    """Terminal cells taken by `s` (wide East Asian characters take two)."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def _int(s: str) -> int | None:
    try:
        return int(s)
    except ValueError:
        return None


def target(name: str, window: bool = True) -> str:
    """Exact target for a session (`=name`) or its active pane (`=name:`)."""
    return f"={name}:" if window else f"={name}"


class Tmux:
    """One tmux server, addressed by socket name."""

    def __init__(self, socket_name: str, *, tmux_bin: str | None = None) -> None:
        self.socket_name = socket_name
        self.tmux_bin = tmux_bin or shutil.which("tmux") or "tmux"
        self.calls = 0  # tmux processes started by this object (benches and tests read it)

    @classmethod
    def for_town(cls, town) -> Tmux:
        return cls(town.tmux_socket)

    @property
    def server(self):
        """The libtmux Server for this socket (imported on first use)."""
        import libtmux

        return libtmux.Server(socket_name=self.socket_name)

    # -- the one executor -------------------------------------------------------------------

    def run(self, *args: str, input: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess:
        """Run `tmux -L <socket> ARGS` once; tmux's stderr becomes a TmuxError when `check`."""
        self.calls += 1
        env = os.environ.copy()
        env.pop("TMUX", None)  # never let an outer tmux redirect us to another server
        try:
            proc = subprocess.run(
                [self.tmux_bin, "-L", self.socket_name, *args],
                input=input, capture_output=True, env=env, timeout=30,
            )
        except FileNotFoundError:
            raise GtError("tmux is not installed", hint="install tmux 3.2 or newer (apt install tmux)") from None
        except subprocess.TimeoutExpired:
            raise TmuxError(f"tmux did not answer within 30 s on socket '{self.socket_name}'") from None
        if check and proc.returncode != 0:
            msg = proc.stderr.decode(errors="replace").strip().splitlines()
            raise TmuxError(f"tmux {args[0]} failed: {msg[0] if msg else 'exit status ' + str(proc.returncode)}")
        return proc

    @staticmethod
    def _no_server(proc: subprocess.CompletedProcess) -> bool:
        err = proc.stderr.decode(errors="replace")
        # "no current target"/"no sessions": a server whose last session just ended.
        return any(m in err for m in ("no server running", "error connecting", "No such file",
                                      "no current target", "no sessions", "server exited unexpectedly"))

    # -- sessions ---------------------------------------------------------------------------

    def new_session(self, name: str, command: list[str], *, cwd: Path, env: dict[str, str] | None = None,
                    width: int = 200, height: int = 50, options: dict[str, str] | None = None,
                    pipe: str | None = None) -> PaneInfo:
        """Start `command` (exec'd directly, no shell) in a new detached session `name`.

        The size is set with -x/-y, which also sets the session's `default-size`, so the window
        returns to W×H when the last client detaches (tmux's default `window-size latest`); no
        `window-size manual` is left behind. `remain-on-exit` keeps a dead pane visible so death
        is detected and its last output can be read. Extra `options` become session options
        (for example `@gt_runtime`), set in the same tmux invocation, as is `pipe` (`pipe-pane`).
        """
        if not command:
            raise GtError("cannot start a session without a command")
        if self.has_session(name):
            raise Conflict(f"tmux session '{name}' already exists", hint=f"stop it first or attach with 'tmux -L {self.socket_name} attach -t ={name}'")
        if not Path(cwd).is_dir():
            raise NotFound(f"working directory {cwd} does not exist")
        args = ["new-session", "-d", "-s", name, "-x", str(width), "-y", str(height), "-c", str(cwd)]
        for k, v in (env or {}).items():
            args += ["-e", f"{k}={v}"]
        args += ["--", *command]
        # The chain runs inside the server before the child's exit can be processed, so
        # remain-on-exit is in place even for a command that dies at once.
        args += [";", "set-option", "-w", "-t", target(name), "remain-on-exit", "on"]
        # With no client attached tmux keeps the last client's size; put W×H back when the
        # last client detaches. resize-window sets window-size to manual, so unset it again
        # at once: the window follows the next attached client as usual.
        t = target(name)
        args += [";", "set-hook", "-t", t, "client-detached",
                 f"if-shell -F -t {t} '#{{==:#{{session_attached}},0}}' "
                 f"'resize-window -t {t} -x {int(width)} -y {int(height)} ; set-option -wu -t {t} window-size'"]
        for k, v in (options or {}).items():
            args += [";", "set-option", "-t", target(name), k, v]
        if pipe:  # a shell command fed the pane's output from its first byte (`gt trail`'s log)
            args += [";", "pipe-pane", "-o", "-t", target(name), pipe]
        self.run(*args)
        info = self.panes().get(name)
        if info is None:
            raise TmuxError(f"tmux session '{name}' vanished right after it was created")
        return info

    def respawn(self, name: str, command: list[str], *, cwd: Path, env: dict[str, str] | None = None,
                pipe: str | None = None) -> None:
        """Replace the process of session `name`'s pane with `command` (`respawn-pane -k`); the
        server does it, so the caller may be that very process. `pipe` re-opens `pipe-pane`."""
        if not command:
            raise GtError("cannot respawn a session without a command")
        args = ["respawn-pane", "-k", "-t", target(name), "-c", str(cwd)]
        for k, v in (env or {}).items():
            args += ["-e", f"{k}={v}"]
        args += ["--", *command]
        if pipe:
            args += [";", "pipe-pane", "-o", "-t", target(name), pipe]
        self.run(*args)

    def has_session(self, name: str) -> bool:
        proc = self.run("has-session", "-t", target(name, window=False), check=False)
        return proc.returncode == 0

    def kill_session(self, name: str) -> bool:
        proc = self.run("kill-session", "-t", target(name, window=False), check=False)
        return proc.returncode == 0

    def list_sessions(self) -> list[str]:
        proc = self.run("list-sessions", "-F", "#{session_name}", check=False)
        if proc.returncode != 0:
            return []
        return [s for s in proc.stdout.decode(errors="replace").splitlines() if s]

    def server_pid(self) -> int | None:
        """The pid of the socket's tmux server, or None when none runs (a new server has a new pid)."""
        proc = self.run("list-sessions", "-F", "#{pid}", check=False)
        if proc.returncode != 0:
            return None
        lines = proc.stdout.decode(errors="replace").split()
        return _int(lines[0]) if lines else None

    def kill_server(self) -> bool:
        proc = self.run("kill-server", check=False)
        return proc.returncode == 0

    def set_option(self, name: str, option: str, value: str) -> None:
        # set-option takes a pane target in tmux 3.x: `=name` alone is not found, `=name:` is.
        self.run("set-option", "-t", target(name), option, value)

    def show_environment(self, name: str) -> dict[str, str]:
        proc = self.run("show-environment", "-t", target(name, window=False))
        out: dict[str, str] = {}
        for line in proc.stdout.decode(errors="replace").splitlines():
            if "=" in line and not line.startswith("-"):
                k, _, v = line.partition("=")
                out[k] = v
        return out

    def window_size(self, name: str) -> tuple[int, int]:
        proc = self.run("display-message", "-p", "-t", target(name), "#{window_width} #{window_height}")
        w, h = proc.stdout.decode().split()
        return int(w), int(h)

    # -- listing: ONE call for every pane ---------------------------------------------------

    def panes(self) -> dict[str, PaneInfo]:
        """Every session's first pane, from ONE `list-panes -a` call; {} when no server runs."""
        proc = self.run("list-panes", "-a", "-F", _PANE_FORMAT, check=False)
        if proc.returncode != 0:
            if self._no_server(proc):
                return {}
            raise TmuxError(f"tmux list-panes failed: {proc.stderr.decode(errors='replace').strip()}")
        return parse_panes(proc.stdout.decode(errors="replace"))

    # -- capture: ONE process for many panes ------------------------------------------------

    def capture(self, name: str, lines: int | None = None, ansi: bool = True) -> str:
        got = self.capture_many([name], lines=lines, ansi=ansi)
        if name not in got:
            raise NotFound(f"no tmux session named '{name}'", hint="list sessions with 'gt session list'")
        return got[name]

    def capture_many(self, names: list[str], lines: int | None = None, ansi: bool = True) -> dict[str, str]:
        """Capture each named pane (visible screen, or the last `lines` lines) in ONE tmux process.

        Sessions that do not exist are left out of the result. If tmux stops the chain at a
        missing session, the rest are captured in a further call (rare: callers pass names they
        just listed).
        """
        result: dict[str, str] = {}
        todo = list(dict.fromkeys(names))
        while todo:
            marker = f"\x1e{secrets.token_hex(6)}\x1e"
            args: list[str] = []
            for n in todo:
                if args:
                    args.append(";")
                args += ["display-message", "-p", f"{marker}{n}", ";", "capture-pane", "-p", "-J", "-t", target(n)]
                if ansi:
                    args.append("-e")
                if lines is not None:
                    args += ["-S", str(-max(int(lines), 0))]
            proc = self.run(*args, check=False)
            chunks = proc.stdout.decode("utf-8", errors="replace").split(marker)[1:]
            done: list[str] = []
            for chunk in chunks:
                n, _, text = chunk.partition("\n")
                done.append(n)
                result[n] = _tail(text, lines)
            if proc.returncode == 0:
                break
            if proc.returncode != 0 and self._no_server(proc):
                break
            # The chain stopped at the first missing session: the last marker printed belongs
            # to it (display-message ran, capture-pane failed), so its text is not a capture.
            if done:
                result.pop(done[-1], None)
                rest = todo[len(done):]
            else:
                rest = todo[1:]
            todo = rest
        return result

    def screen(self, name: str) -> Screen:
        """The visible rows (plain text) and the cursor, in one tmux call (used to verify nudges)."""
        marker = f"\x1e{secrets.token_hex(6)}\x1e"
        proc = self.run(
            "display-message", "-p", "-t", target(name), f"{marker}#{{cursor_x}} #{{cursor_y}} #{{pane_in_mode}} #{{pane_width}}",
            ";", "capture-pane", "-p", "-t", target(name), check=False,
        )
        if proc.returncode != 0:
            raise NotFound(f"no tmux session named '{name}'", hint="list sessions with 'gt session list'")
        text = proc.stdout.decode("utf-8", errors="replace")
        head, _, rows = text.partition("\n")
        cx, cy, mode, width = head.replace(marker, "").split()
        return Screen(rows=rows.split("\n")[:-1] if rows.endswith("\n") else rows.split("\n"),
                      cursor_x=int(cx), cursor_y=int(cy), in_mode=mode == "1", width=int(width))

    # -- input ------------------------------------------------------------------------------

    def send_keys(self, name: str, *keys: str, literal: bool = False) -> None:
        """Send tmux key names (`Enter`, `C-c`, `Escape`) or, with `literal`, text as typed."""
        args = ["send-keys", "-t", target(name)]
        if literal:
            args.append("-l")
        self.run(*args, *keys)

    def leave_mode(self, name: str) -> None:
        """Leave copy mode (or any mode), so keys reach the program instead of the scroller."""
        self.run("if-shell", "-F", "-t", target(name), "#{pane_in_mode}",
                 f"send-keys -t {target(name)} -X cancel")

    def paste(self, name: str, text: str, bracketed: bool = True) -> None:
        """Paste `text` into the pane through a private buffer, in one tmux call.

        `load-buffer -` reads the text from our stdin (no shell, no quoting); `paste-buffer -r`
        keeps newlines as LF, `-d` deletes the buffer, and `-p` wraps the text in bracketed-paste
        markers only when the program asked for them. Any tmux mode is left first.
        """
        buf = f"gt-{os.getpid()}-{secrets.token_hex(4)}"
        args = ["if-shell", "-F", "-t", target(name), "#{pane_in_mode}", f"send-keys -t {target(name)} -X cancel",
                ";", "load-buffer", "-b", buf, "-",
                ";", "paste-buffer", "-d", "-r", "-b", buf, "-t", target(name)]
        if bracketed:
            args.append("-p")
        self.run(*args, input=text.encode("utf-8"))

    # -- attach -----------------------------------------------------------------------------

    def attach_plan(self, name: str, environ: dict[str, str] | None = None, *,
                    outer_version: tuple[int, int] | None = None) -> AttachPlan:
        """How to put the user's terminal on session `name` so one prefix+d brings them back.

        - Outside tmux: `tmux -L sock attach -t =name` (the caller gives up the terminal meanwhile).
        - Inside a tmux ≥ 3.2 (any server, this town's too): the user's own tmux opens a
          full-size `display-popup -E` running that attach. A popup receives every key, so the
          prefix+d reaches the inner client, which detaches; its exit closes the popup and the
          caller (the cockpit under it) is back. `display-popup` waits until the popup closes.
        - Older tmux, same server: `switch-client`; back with prefix+L (tmux's last-session key).
        - Older tmux, another server: nest with TMUX cleared; both use the prefix, so the user's
          tmux takes the first one: prefix prefix d (tmux's default `send-prefix`) detaches.

        `outer_version` is the user's tmux server's version (asked of that server when None).
        """
        environ = os.environ if environ is None else environ
        base = [self.tmux_bin, "-L", self.socket_name]
        attach = [*base, "attach-session", "-t", target(name, window=False)]
        outer = environ.get("TMUX", "")
        if not outer:
            return AttachPlan(attach, "attach", "prefix d")
        outer_socket = outer.split(",", 1)[0]
        same = os.path.basename(outer_socket) == self.socket_name
        version = self.server_version(outer_socket) if outer_version is None else outer_version
        if version >= POPUP_VERSION:
            # The popup's command runs in the user's server's environment: clear its TMUX and
            # give it our TMUX_TMPDIR, so `-L sock` finds the town's server as we do.
            tmpdir = environ.get("TMUX_TMPDIR")
            inner = ["env", "-u", "TMUX", *([f"TMUX_TMPDIR={tmpdir}"] if tmpdir else ["-u", "TMUX_TMPDIR"]), *attach]
            argv = [self.tmux_bin, "-S", outer_socket, "display-popup", "-E", "-w", "100%", "-h", "100%"]
            if version >= (3, 3):  # -T: a title that says how to get back (a format: no '#' from names)
                argv += ["-T", f" {name.replace('#', '')} · prefix d: back "]
            return AttachPlan([*argv, shlex.join(inner)], "popup", "prefix d")
        if same:
            return AttachPlan([*base, "switch-client", "-t", target(name, window=False)], "switch", "prefix L")
        return AttachPlan(["env", "-u", "TMUX", *attach], "nested", "prefix prefix d")

    def attach_argv(self, name: str, environ: dict[str, str] | None = None) -> list[str]:
        """The argv of `attach_plan` (the CLI's `gt … attach` runs it in the foreground)."""
        return self.attach_plan(name, environ).argv

    def server_version(self, socket_path: str) -> tuple[int, int]:
        """(major, minor) of the tmux server at `socket_path`; (0, 0) when it cannot say."""
        self.calls += 1
        try:
            proc = subprocess.run([self.tmux_bin, "-S", socket_path, "display-message", "-p", "#{version}"],
                                  capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return (0, 0)
        return parse_version(proc.stdout) if proc.returncode == 0 else (0, 0)


POPUP_VERSION = (3, 2)  # display-popup appeared in tmux 3.2


@dataclass(frozen=True)
class AttachPlan:
    """An attach argv, how it behaves, and the keys that bring the user back (in words)."""

    argv: list[str]
    how: str  # "attach" | "nested": takes the terminal; "popup": drawn over the caller; "switch": returns at once
    back: str


def parse_version(text: str) -> tuple[int, int]:
    """`3.3a`, `next-3.4`, `3.2-rc3` → (3, 3)…; an empty answer (a tmux too old for #{version}) → (0, 0).
    A build without a number (`master`) is newer than any release."""
    import re

    text = text.strip()
    m = re.search(r"(\d+)\.(\d+)", text)
    if m:
        return (int(m.group(1)), int(m.group(2)))
    return (99, 0) if text else (0, 0)


def _tail(text: str, lines: int | None) -> str:
    """Drop tmux's trailing newline and blank rows; keep the last `lines` lines when asked."""
    rows = text.split("\n")
    while rows and not rows[-1].strip():
        rows.pop()
    if lines is not None:
        rows = rows[-lines:] if lines > 0 else []
    return "\n".join(rows)


def run_foreground(argv: list[str]) -> int:
    """Run `argv` attached to the user's terminal and wait (the cockpit's attach: it is suspended)."""
    try:
        return subprocess.call(argv)
    except FileNotFoundError:
        raise GtError(f"{argv[0]} is not installed", hint="install tmux 3.2 or newer (apt install tmux)") from None
