"""Token use and cost, read from each runtime's own usage records (nothing is estimated from screens).

Sources, each turned into hourly buckets keyed by (hour, agent address, model, source):

- **sim** — `<town>/.runtime/sim/usage.jsonl`, one line per finished bead; always `simulated`.
- **claude** — Claude Code's transcripts, `<config>/projects/<encoded workdir>/*.jsonl` where
  `<config>` is `$CLAUDE_CONFIG_DIR` or `~/.claude` and the directory name is the working
  directory with `/`, `_` and `.` as `-`. Assistant lines carry `message.usage`; one API
  response is written once per content block, so lines are counted once per message id.
- **codex** — Codex's session logs, `$CODEX_HOME/sessions/**/rollout-*.jsonl` (`~/.codex`):
  `session_meta`/`turn_context` give the working directory and model, `token_count` events
  the usage of each turn (`last_token_usage`).

A record is attributed to the agent whose working directory it ran in (records from outside the
town are ignored). An agent's *session* costs (the cockpit's figures, `gt costs --current`) are
the records stamped at or after its tmux session was created: a polecat name handed to a new
polecat starts from zero instead of inheriting the finished one's spend. Prices (USD per million tokens) come from `[costs.prices]` in settings —
model-name glob -> {input, output, cache_read, cache_write} — over the defaults below.
"""

from __future__ import annotations

import os
import time

from gastown_tui.work.jsonlog import epoch, iso, parse_lines, seek_time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from typing import Any

    from gastown_tui.town.layout import Town

# USD per million tokens: input, output, cache read, cache write. First match wins.
DEFAULT_PRICES: tuple[tuple[str, tuple[float, float, float, float]], ...] = (
    ("claude-opus-4-5*", (5.0, 25.0, 0.5, 6.25)),
    ("claude-opus-4*", (15.0, 75.0, 1.5, 18.75)),
    ("claude-sonnet-4*", (3.0, 15.0, 0.3, 3.75)),
    ("claude-3-7-sonnet*", (3.0, 15.0, 0.3, 3.75)),
    ("claude-3-5-sonnet*", (3.0, 15.0, 0.3, 3.75)),
    ("claude-haiku-4*", (1.0, 5.0, 0.1, 1.25)),
    ("claude-3-5-haiku*", (0.8, 4.0, 0.08, 1.0)),
    ("gpt-5*", (1.25, 10.0, 0.125, 0.0)),
    ("gpt-4.1*", (2.0, 8.0, 0.5, 0.0)),
    ("o3*", (2.0, 8.0, 0.5, 0.0)),
    ("o4-mini*", (1.1, 4.4, 0.275, 0.0)),
    ("sim", (3.0, 15.0, 0.3, 3.75)),  # priced like a mid-size model so demos show figures; marked simulated
    ("*", (3.0, 15.0, 0.3, 3.75)),
)
_FIELDS = ("input", "output", "cache_read", "cache_write")
_READ = 4 << 20  # bytes per block when streaming a usage log
# usage lines are stamped before the append: the search for --since starts this much earlier
_SKEW_SECONDS = 300.0


class Bucket:
    """Token counts of one (hour, agent, model, source)."""

    __slots__ = ("input", "output", "cache_read", "cache_write", "records")

    def __init__(self) -> None:
        self.input = self.output = self.cache_read = self.cache_write = self.records = 0

    def add(self, i: int, o: int, cr: int, cw: int, n: int = 1) -> None:
        self.input += i
        self.output += o
        self.cache_read += cr
        self.cache_write += cw
        self.records += n


def _int(v: Any) -> int:
    return v if type(v) is int and v > 0 else 0


def _hour(ts: Any) -> str | None:
    """'YYYY-MM-DDTHH' (UTC) of a record's time, or None when it is not a time."""
    if isinstance(ts, str) and len(ts) >= 20 and ts[-1] == "Z" and ts[10] == "T" and ts[4] == "-":
        return ts[:13]
    t = epoch(ts)
    return None if t is None else time.strftime("%Y-%m-%dT%H", time.gmtime(t))


class _Agents:
    """Working directory / session name -> agent address and rig (cached: a few distinct values)."""

    def __init__(self, town: Town) -> None:
        self.town = town
        self.rigs = town.rigs()
        self.root = os.path.realpath(town.root)
        self._by_dir: dict[str, tuple[str, str | None] | None] = {}
        self._by_session: dict[str, tuple[str, str | None]] = {}

    def of_dir(self, cwd: Any) -> tuple[str, str | None] | None:
        """None when `cwd` is outside the town (not ours to count)."""
        if not isinstance(cwd, str):
            return None
        hit = self._by_dir.get(cwd, False)
        if hit is not False:
            return hit
        from pathlib import Path

        from gastown_tui.town.identity import agent_from_env

        real = os.path.realpath(cwd)
        if real != self.root and not real.startswith(self.root + os.sep):
            out = None
        else:
            a = agent_from_env({}, cwd=Path(real), town_root=Path(self.root))
            rel = real[len(self.root) + 1:].split(os.sep) if real != self.root else []
            if a is None and len(rel) >= 2 and rel[0] in self.rigs and rel[1] in ("witness", "refinery"):
                out = (f"{rel[0]}/{rel[1]}", rel[0])
            elif a is None:
                out = ("(town)", rel[0] if rel and rel[0] in self.rigs else None)
            else:
                out = (a.address, a.rig)
        self._by_dir[cwd] = out
        return out

    def of_session(self, session: Any) -> tuple[str, str | None]:
        if not isinstance(session, str):
            return ("(unknown)", None)
        hit = self._by_session.get(session)
        if hit is None:
            from gastown_tui.town.identity import agent_from_session

            a = agent_from_session(session, self.rigs)
            hit = (a.address, a.rig) if a is not None else (f"(session {session[:40]})", None)
            self._by_session[session] = hit
        return hit


class Usage:
    """Hourly buckets from every source, and the questions `gt costs` and the cockpit ask of them."""

    def __init__(self, since: float | None = None, agent_since: dict[str, float] | None = None) -> None:
        self.since = since
        # agent address -> epoch its current session started: when given, only those agents'
        # records from then on are counted (session lifetimes), everyone else's are left out
        self.agent_since = agent_since
        self._since_ts: dict[str, bytes] = {}
        self.since_hour = time.strftime("%Y-%m-%dT%H", time.gmtime(since)) if since is not None else ""
        # (hour, agent, rig, model, source) -> Bucket
        self.buckets: dict[tuple[str, str, str | None, str, str], Bucket] = {}
        self.sources: dict[str, int] = {}  # source -> files read
        self.skipped = 0  # lines that were not usage records we could read

    def admits(self, agent: str, ts: Any) -> bool:
        """Whether a record of `agent` stamped `ts` belongs to the window (its session's, if asked)."""
        if self.agent_since is None:
            return True
        start = self.agent_since.get(agent)
        if start is None:
            return False
        t = epoch(ts)
        return t is not None and t >= start

    def since_ts(self, agent: str) -> bytes | None:
        """The sim's own stamp ('YYYY-MM-DDTHH:MM:SS') of `agent`'s session start, for string compares."""
        hit = self._since_ts.get(agent)
        if hit is None and self.agent_since is not None and agent in self.agent_since:
            whole = int(self.agent_since[agent])  # a stamp of the start's second is at or after it
            hit = self._since_ts[agent] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)).encode()
        return hit

    def bucket(self, hour: str, agent: str, rig: str | None, model: str, source: str) -> Bucket:
        key = (hour, agent, rig, model, source)
        b = self.buckets.get(key)
        if b is None:
            b = self.buckets[key] = Bucket()
        return b


# --- readers ---------------------------------------------------------------------------------------

def _blocks(path: str, since: float | None, key: str) -> Iterator[list[bytes]]:
    """Complete non-empty lines of an append-only log, in blocks, from about `since` on."""
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError:
        return
    with f:
        size = os.fstat(f.fileno()).st_size
        if since is not None:
            f.seek(seek_time(f, size, since - _SKEW_SECONDS, key))
        carry = b""
        while True:
            data = f.read(_READ)
            if not data:
                break
            data = carry + data
            cut = data.rfind(b"\n")
            if cut < 0:
                carry = data
                continue
            carry = data[cut + 1:]
            yield [ln for ln in data[:cut].split(b"\n") if ln.strip()]
        # a last line without its newline is still being written: it is counted next time


_SIM_LINE = None


def _sim_line():
    """The sim's own line, exactly as its writer (`json.dumps`, default separators) makes it.

    A block whose every line has this form is summed from the match groups (one C pass instead of a
    decode per line); any other line in a block sends the block through the JSON decoder, which
    gives the same answer for these lines and reads everything else.
    """
    global _SIM_LINE
    if _SIM_LINE is None:
        import re

        _SIM_LINE = re.compile(
            rb'^\{"ts": "(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)Z", "session": "([A-Za-z0-9_.-]{1,120})", '
            rb'"bead": "[A-Za-z0-9_.-]{0,120}", "input_tokens": (\d{1,12}), "output_tokens": (\d{1,12}), '
            rb'"simulated": true\}\r?$', re.M)
    return _SIM_LINE


def sim_usage_path(town_root: str | os.PathLike) -> str:
    """Where the sim agent records what each finished bead "cost" (one JSON line per bead)."""
    return os.path.join(town_root, ".runtime", "sim", "usage.jsonl")


def read_sim(usage: Usage, town: Town, agents: _Agents) -> None:
    path = sim_usage_path(town.root)
    if not os.path.exists(path):
        return
    usage.sources["sim"] = usage.sources.get("sim", 0) + 1
    since_hour = usage.since_hour.encode()
    pattern = _sim_line()
    acc: dict[tuple[bytes, bytes], list[int]] = {}  # (hour, session) -> [input, output, cache_read, records]
    per_session = usage.agent_since is not None
    starts: dict[bytes, bytes | None] = {}  # session -> its agent's session start stamp (None: not counted)

    def start_of(session: bytes) -> bytes | None:
        if session not in starts:
            starts[session] = usage.since_ts(agents.of_session(session.decode("utf-8", "replace") or None)[0])
        return starts[session]
    for lines in _blocks(path, usage.since, "ts"):
        block = b"\n".join(lines)
        found = pattern.findall(block)
        if len(found) == len(lines):
            for ts, session, i, o in found:
                hour = ts[:13]
                if hour < since_hour:
                    continue
                if per_session:
                    start = start_of(session)
                    if start is None or ts < start:
                        continue
                v = acc.get((hour, session))
                if v is None:
                    acc[(hour, session)] = [int(i), int(o), 0, 1]
                else:
                    v[0] += int(i)
                    v[1] += int(o)
                    v[3] += 1
            continue
        for rec in parse_lines([ln.strip() for ln in lines]):
            hour = _hour(rec.get("ts")) if rec is not None else None
            if hour is None:
                usage.skipped += 1
                continue
            session = rec.get("session")
            key = (hour.encode(), session.encode() if isinstance(session, str) else b"")
            if key[0] < since_hour:
                continue
            if per_session and not usage.admits(agents.of_session(session)[0], rec.get("ts")):
                continue
            v = acc.setdefault(key, [0, 0, 0, 0])
            v[0] += _int(rec.get("input_tokens"))
            v[1] += _int(rec.get("output_tokens"))
            v[2] += _int(rec.get("cache_read_tokens"))
            v[3] += 1
    for (hour, session), (i, o, cr, n) in acc.items():
        agent, rig = agents.of_session(session.decode("utf-8", "replace") or None)
        usage.bucket(hour.decode(), agent, rig, "sim", "sim").add(i, o, cr, 0, n)


def claude_config_dir() -> str:
    """The user's own Claude Code config directory."""
    return os.environ.get("CLAUDE_CONFIG_DIR") or os.path.join(os.path.expanduser("~"), ".claude")


def claude_config_dirs(town: Town) -> list[str]:
    """Every config directory Claude Code agents of this town write transcripts to: the user's,
    and the per-agent ones of a town with its own model endpoint (`agents.runtime_setup`)."""
    from gastown_tui.agents.runtime_setup import claude_config_dir as agent_dir

    base = os.path.dirname(str(agent_dir(town.root, "x")))
    try:
        own = sorted(os.path.join(base, d) for d in os.listdir(base))
    except OSError:
        own = []
    return [claude_config_dir(), *own]


def agent_claude_config_dir(town: Town, session: str) -> str:
    """Where one agent's transcripts are: its own config directory if it has one, else the user's."""
    from gastown_tui.agents.runtime_setup import claude_config_dir as agent_dir

    own = str(agent_dir(town.root, session))
    return own if os.path.isdir(own) else claude_config_dir()


def claude_project_name(workdir: str) -> str:
    """Claude Code's directory name for a working directory (path separators and '_' '.' -> '-')."""
    return workdir.replace(os.sep, "-").replace("_", "-").replace(".", "-")


def claude_project_dirs(town: Town, config_dir: str | None = None) -> list[str]:
    """Claude Code's transcript directories of this town's worktrees (`<config>/projects/<town path
    as Claude names it>[-<sub path>]`), in every config dir the town's agents use."""
    prefix = claude_project_name(os.path.realpath(town.root))
    out = []
    for cfg in [config_dir] if config_dir else claude_config_dirs(town):
        projects = os.path.join(cfg, "projects")
        try:
            dirs = [d for d in os.listdir(projects) if d == prefix or d.startswith(prefix + "-")]
        except OSError:
            continue
        out += [os.path.join(projects, d) for d in sorted(dirs)]
    return out


def read_claude(usage: Usage, town: Town, agents: _Agents, config_dir: str | None = None) -> None:
    seen: set[str] = set()
    for full in claude_project_dirs(town, config_dir):
        for path in _jsonl_files(full, usage.since):
            usage.sources["claude"] = usage.sources.get("claude", 0) + 1
            _read_claude_file(usage, agents, path, seen)


def _jsonl_files(directory: str, since: float | None, pattern: str = "") -> list[str]:
    """`*.jsonl` files under `directory` (recursively) changed at or after `since`."""
    out = []
    for dirpath, _dirs, files in os.walk(directory):
        for name in files:
            if not name.endswith(".jsonl") or (pattern and not name.startswith(pattern)):
                continue
            p = os.path.join(dirpath, name)
            try:
                if since is not None and os.stat(p).st_mtime < since:
                    continue
            except OSError:
                continue
            out.append(p)
    return sorted(out)


def _request_id(line: bytes) -> bytes | None:
    """The top-level requestId of a transcript line, when it names exactly one (a quick pre-check:
    the same API response is written once per content block, and need be decoded only once)."""
    i = line.find(b'"requestId":"')
    if i < 0 or line.find(b'"requestId":"', i + 13) >= 0:
        return None
    j = line.find(b'"', i + 13)
    return line[i + 13:j] if 0 < j - (i + 13) < 200 else None


def _read_claude_file(usage: Usage, agents: _Agents, path: str, seen: set[str]) -> None:
    requests: set[bytes] = set()
    for lines in _blocks(path, None, "timestamp"):
        keep = []
        for ln in lines:
            if b'"usage"' not in ln or b'"assistant"' not in ln:
                continue
            rid = _request_id(ln)
            if rid is not None:
                if rid in requests:
                    continue
                requests.add(rid)
            keep.append(ln.strip())
        for rec in parse_lines(keep):
            if rec is None or rec.get("type") != "assistant":
                continue
            msg = rec.get("message")
            if not isinstance(msg, dict) or not isinstance(msg.get("usage"), dict):
                continue
            mid = msg.get("id")
            if isinstance(mid, str):
                key = f"{mid}:{rec.get('requestId')}"
                if key in seen:
                    continue
                seen.add(key)
            hour = _hour(rec.get("timestamp"))
            if hour is None or hour < usage.since_hour:
                continue
            who = agents.of_dir(rec.get("cwd"))
            if who is None or not usage.admits(who[0], rec.get("timestamp")):
                continue
            u = msg["usage"]
            model = msg.get("model") if isinstance(msg.get("model"), str) else "unknown"
            usage.bucket(hour, who[0], who[1], model[:80], "claude").add(
                _int(u.get("input_tokens")), _int(u.get("output_tokens")),
                _int(u.get("cache_read_input_tokens")), _int(u.get("cache_creation_input_tokens")))


def codex_home() -> str:
    return os.environ.get("CODEX_HOME") or os.path.join(os.path.expanduser("~"), ".codex")


def codex_homes(town: Town) -> list[str]:
    """The user's Codex home and the per-agent ones of a town with its own endpoint (`agents.runtime_setup`)."""
    from gastown_tui.agents.runtime_setup import codex_home as agent_home

    base = os.path.dirname(str(agent_home(town.root, "x")))
    try:
        own = sorted(os.path.join(base, d) for d in os.listdir(base))
    except OSError:
        own = []
    return [codex_home(), *own]


def read_codex(usage: Usage, town: Town, agents: _Agents, home: str | None = None) -> None:
    paths = [p for h in ([home] if home else codex_homes(town))
             for p in _jsonl_files(os.path.join(h, "sessions"), usage.since, "rollout-")]
    for path in paths:
        usage.sources["codex"] = usage.sources.get("codex", 0) + 1
        who: tuple[str, str | None] | None = None
        model = "unknown"
        for lines in _blocks(path, None, "timestamp"):
            lines = [ln.strip() for ln in lines
                     if b"token_count" in ln or b"session_meta" in ln or b"turn_context" in ln]
            for rec in parse_lines(lines):
                if rec is None or not isinstance(rec.get("payload"), dict):
                    continue
                p = rec["payload"]
                kind = rec.get("type")
                if kind in ("session_meta", "turn_context"):
                    if "cwd" in p:
                        who = agents.of_dir(p.get("cwd"))
                    if isinstance(p.get("model"), str):
                        model = p["model"][:80]
                    continue
                if kind != "event_msg" or p.get("type") != "token_count" or who is None:
                    continue
                info = p.get("info")
                last = info.get("last_token_usage") if isinstance(info, dict) else None
                if not isinstance(last, dict):
                    continue
                hour = _hour(rec.get("timestamp"))
                if hour is None or hour < usage.since_hour or not usage.admits(who[0], rec.get("timestamp")):
                    continue
                cached = _int(last.get("cached_input_tokens"))
                usage.bucket(hour, who[0], who[1], model, "codex").add(
                    max(0, _int(last.get("input_tokens")) - cached), _int(last.get("output_tokens")), cached, 0)


def collect(town: Town, *, since: float | None = None, claude_dir: str | None = None,
            codex_dir: str | None = None, sessions: dict[str, float] | None = None) -> Usage:
    """Every source's usage since `since` (epoch seconds; None: all of it), in hourly buckets.

    Buckets are whole UTC hours: the hour `since` falls in is counted whole (reports say so by
    giving `since` rounded down to the hour). `sessions` (agent address -> its session's start,
    see `session_starts`) counts only those agents, each from its own start on."""
    import gc

    if sessions is not None:
        first = min(sessions.values(), default=time.time())
        since = first if since is None else max(since, first)
    usage = Usage(since, sessions)
    agents = _Agents(town)
    enabled = gc.isenabled()
    gc.disable()  # many short-lived dicts and no cycles: collection passes are pure cost
    try:
        read_sim(usage, town, agents)
        read_claude(usage, town, agents, claude_dir)
        read_codex(usage, town, agents, codex_dir)
    finally:
        if enabled:
            gc.enable()
    return usage


def session_starts(town: Town, panes: Any = None) -> dict[str, float]:
    """Agent address -> when its tmux session was created (epoch seconds), from one pane listing
    (`Tmux.panes()`; taken here when None). A session's lifetime, and its costs, start there."""
    from gastown_tui.town.identity import agent_from_session

    if panes is None:
        from gastown_tui.infra.tmux import Tmux

        panes = Tmux.for_town(town).panes()
    rigs = town.rigs()
    out: dict[str, float] = {}
    for session, pane in panes.items():
        created = float(getattr(pane, "created", 0.0) or 0.0)
        a = agent_from_session(session, rigs) if created > 0 else None
        if a is not None:
            out[a.address] = created
    return out


def usage_fingerprint(town: Town) -> tuple:
    """(path, size, mtime) of every file `collect` would read: equal fingerprints, equal usage.
    The cockpit asks this (a few `stat` calls) before it pays for a new `collect`."""
    paths = [sim_usage_path(town.root)]
    for full in claude_project_dirs(town):
        paths.extend(_jsonl_files(full, None))
    for h in codex_homes(town):
        paths.extend(_jsonl_files(os.path.join(h, "sessions"), None, "rollout-"))
    out = []
    for p in paths:
        try:
            st = os.stat(p)
        except OSError:
            continue
        out.append((p, st.st_size, st.st_mtime_ns))
    return tuple(out)


# --- prices and reports ----------------------------------------------------------------------------

def price_table(settings=None) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Settings' `[costs.prices]` (glob -> {input, output, cache_read, cache_write}) before the defaults."""
    table: list[tuple[str, tuple[float, float, float, float]]] = []
    custom = settings.get("costs.prices", {}) if settings is not None else {}
    if isinstance(custom, dict):
        for pattern, spec in custom.items():
            if isinstance(spec, dict):
                vals = []
                for f in _FIELDS:
                    v = spec.get(f, 0)
                    vals.append(float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 else 0.0)
                table.append((str(pattern).lower(), (vals[0], vals[1], vals[2], vals[3])))
    return table + list(DEFAULT_PRICES)


def price_for(model: str, table) -> tuple[float, float, float, float]:
    import fnmatch

    m = model.lower()
    for pattern, price in table:
        if fnmatch.fnmatchcase(m, pattern):
            return price
    return DEFAULT_PRICES[-1][1]


def cost_of(b: Bucket, price: tuple[float, float, float, float]) -> float:
    return (b.input * price[0] + b.output * price[1] + b.cache_read * price[2] + b.cache_write * price[3]) / 1e6


_GROUPS = ("day", "agent", "rig", "model")


def rows(usage: Usage, by: Iterable[str], table) -> list[dict[str, Any]]:
    """Totals grouped by any of day, agent, rig, model (and always by whether they are simulated)."""
    by = [g for g in _GROUPS if g in set(by)]
    prices: dict[str, tuple] = {}
    acc: dict[tuple, dict[str, Any]] = {}
    for (hour, agent, rig, model, source), b in usage.buckets.items():
        price = prices.get(model)
        if price is None:
            price = prices[model] = price_for(model, table)
        vals = {"day": hour[:10], "agent": agent, "rig": rig, "model": model}
        simulated = source == "sim"
        key = (*(vals[g] for g in by), simulated)
        r = acc.get(key)
        if r is None:
            r = acc[key] = {**{g: vals[g] for g in by}, "input_tokens": 0, "output_tokens": 0,
                            "cache_read_tokens": 0, "cache_write_tokens": 0, "cost_usd": 0.0,
                            "records": 0, "sources": set(), "simulated": simulated}
        r["input_tokens"] += b.input
        r["output_tokens"] += b.output
        r["cache_read_tokens"] += b.cache_read
        r["cache_write_tokens"] += b.cache_write
        r["cost_usd"] += cost_of(b, price)
        r["records"] += b.records
        r["sources"].add(source)
    out = []
    for r in acc.values():
        r["sources"] = sorted(r["sources"])
        r["cost_usd"] = round(r["cost_usd"], 6)
        out.append(r)
    out.sort(key=lambda r: (*(str(r.get(g) or "") for g in by), r["simulated"]))
    return out


def report(town: Town, *, since: float | None = None, by: Iterable[str] = ("day",),
           claude_dir: str | None = None, codex_dir: str | None = None,
           sessions: dict[str, float] | None = None) -> dict[str, Any]:
    """What `gt costs --json` prints: totals (real and simulated apart) and the grouped rows;
    `sessions` (`session_starts`): only each running agent's current session."""
    from gastown_tui.town.config import load_settings

    usage = collect(town, since=since, claude_dir=claude_dir, codex_dir=codex_dir, sessions=sessions)
    since = usage.since
    table = price_table(load_settings(town.root))
    grouped = rows(usage, by, table)
    total = rows(usage, (), table)
    real = next((r for r in total if not r["simulated"]), None)
    sim = next((r for r in total if r["simulated"]), None)
    return {
        "since": (usage.since_hour + ":00:00Z") if since is not None else None,
        "until": iso(time.time()) + "Z",
        "group_by": [g for g in _GROUPS if g in set(by)],
        "total_cost_usd": round((real["cost_usd"] if real else 0.0), 6),
        "simulated_cost_usd": round((sim["cost_usd"] if sim else 0.0), 6),
        "totals": total,
        "rows": grouped,
        "sources": dict(sorted(usage.sources.items())),
        "skipped_lines": usage.skipped,
    }


def agent_costs(town: Town, *, since: float | None = None,
                sessions: dict[str, float] | None = None) -> dict[str, dict[str, Any]]:
    """Per agent address: tokens and cost. Real and simulated usage are summed; `simulated` is
    True when any of it was simulated. The cockpit passes `sessions` (`session_starts`): each
    agent's figures are then its current session's, like `gt costs --by-agent --current`."""
    from gastown_tui.town.config import load_settings

    usage = collect(town, since=since, sessions=sessions)
    out: dict[str, dict[str, Any]] = {}
    for r in rows(usage, ("agent",), price_table(load_settings(town.root))):
        a = out.setdefault(r["agent"], {"input_tokens": 0, "output_tokens": 0, "cache_read_tokens": 0,
                                        "cache_write_tokens": 0, "cost_usd": 0.0, "simulated": False})
        for k in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "cost_usd"):
            a[k] += r[k]
        a["simulated"] = a["simulated"] or r["simulated"]
    return out


# --- cost spikes -----------------------------------------------------------------------------------

def hourly_spend(town: Town, *, hours: int = 2, include_simulated: bool = False,
                 now: float | None = None) -> dict[str, float]:
    """USD per UTC hour ('YYYY-MM-DDTHH') over the last `hours` hours."""
    from gastown_tui.town.config import load_settings

    now = time.time() if now is None else now
    since = now - hours * 3600
    usage = collect(town, since=since)
    table = price_table(load_settings(town.root))
    out: dict[str, float] = {}
    for (hour, _a, _r, model, source), b in usage.buckets.items():
        if source == "sim" and not include_simulated:
            continue
        out[hour] = out.get(hour, 0.0) + cost_of(b, price_for(model, table))
    return dict(sorted(out.items()))


def check_spike(town: Town, *, now: float | None = None) -> dict[str, Any] | None:
    """Raise one escalation per hour whose spend is above `costs.spike_usd_per_hour` (the guide's
    "Cost Spike"); returns what was raised, or None. Decided under a lock so two patrols never
    raise the same hour twice."""
    from gastown_tui.infra.fsutil import atomic_write_text, file_lock
    from gastown_tui.town.config import load_settings

    settings = load_settings(town.root)
    limit = float(settings.get("costs.spike_usd_per_hour"))
    if limit <= 0:
        return None
    spend = hourly_spend(town, include_simulated=bool(settings.get("costs.spike_include_simulated")), now=now)
    over = {h: v for h, v in spend.items() if v > limit}
    if not over:
        return None
    hour, value = max(over.items())
    state_path = town.runtime_dir / "costs" / "spike.json"
    with file_lock(town.locks_dir / "cost-spike.lock"):
        import json

        try:
            state = json.loads(state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            state = {}
        if isinstance(state, dict) and state.get("hour") == hour:
            return None  # this hour was escalated already
        from gastown_tui.work.escalation import create_escalation

        msg = (f"Cost spike: ${value:.2f} spent in the hour {hour}:00 UTC, above the limit of "
               f"${limit:.2f}/hour (costs.spike_usd_per_hour)")
        iss = create_escalation(town, msg, severity="high", category="cost", to=None)
        atomic_write_text(state_path, json.dumps({"hour": hour, "usd": round(value, 4), "escalation": iss.id}) + "\n")
    return {"hour": hour, "usd": round(value, 4), "limit": limit, "escalation": iss.id}
