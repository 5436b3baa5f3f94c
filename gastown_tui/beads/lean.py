"""The lean lane: `bd show/ready/create --json` and `bd mol current` without the store's imports.

Agents call these hundreds of times an hour, so their whole cost is Python start-up plus imports.
This module imports only builtins (os, time, the C halves of json and sha256): no pathlib, re,
enum, typing or json package, which together cost more than the work itself. Every function
answers only the plain, common case and returns None for anything else (redirects, duplicate
lines, files not in bd's form, files we did not write ourselves, unusual arguments); the caller
then takes the full path (`gastown_tui.beads.store`), which gives the same answer.

The write rules are the store's own (DESIGN §4): the exclusive flock on `.beads/.jsonl.lock`, a
file is only written back when the store's stamp says it wrote (and so fully parsed) exactly this
version, temp file + fsync + rename, unchanged lines byte-identical (a create appends one line).
"""

from __future__ import annotations

import os
import time

try:
    from _json import encode_basestring as _enc_str
    from _json import make_scanner as _make_scanner
except ImportError:  # pragma: no cover - other Pythons: the json package is fine
    _enc_str = _make_scanner = None

ISSUES, WISPS, LOCK, STAMP, SUMMARY, PENDING = "issues.jsonl", "wisps.jsonl", ".jsonl.lock", ".jsonl.stamp", ".ready.cache", ".pending"
TYPES = ("task", "bug", "feature", "epic", "chore", "message", "convoy", "merge-request", "molecule",
         "gate", "agent", "role", "rig", "escalation", "event")  # model.TYPES (a test keeps them equal)
SORTS = ("hybrid", "priority", "oldest")  # graph.SORTS
RECENT_SECONDS = 48 * 3600  # graph.RECENT_SECONDS


# --- JSON, via the C scanner/encoder only ------------------------------------------------------------

class _Ctx:
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = float  # 'NaN', 'Infinity', '-Infinity'
    memo: dict = {}


_SCAN = _make_scanner(_Ctx()) if _make_scanner is not None else None


class Fallback(Exception):
    """This case is not for the lean lane: take the full path."""


def loads(text: str):
    """json.loads for one document (raises ValueError when it is not valid JSON)."""
    if _SCAN is None:  # pragma: no cover
        import json

        return json.loads(text)
    i = 0
    n = len(text)
    while i < n and text[i] in " \t\n\r":
        i += 1
    try:
        obj, end = _SCAN(text, i)
    except StopIteration as e:
        raise ValueError(f"Expecting value at {e.value}") from None
    if text[end:].strip(" \t\n\r"):
        raise ValueError("Extra data")
    return obj


def _scalar(v) -> str:
    if isinstance(v, str):
        return _enc_str(v)
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return int.__repr__(v)
    if isinstance(v, float):
        if v != v:
            return "NaN"
        if v in (float("inf"), float("-inf")):
            return "Infinity" if v > 0 else "-Infinity"
        return float.__repr__(v)
    raise Fallback


def dumps_pretty(obj, level: int = 0) -> str:
    """Exactly json.dumps(obj, indent=2, ensure_ascii=False) for JSON-shaped data."""
    if _enc_str is None:  # pragma: no cover
        import json

        return json.dumps(obj, indent=2, ensure_ascii=False)
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        pad = "\n" + "  " * (level + 1)
        parts = []
        for k, v in obj.items():
            if not isinstance(k, str):
                raise Fallback
            parts.append(_enc_str(k) + ": " + dumps_pretty(v, level + 1))
        return "{" + pad + ("," + pad).join(parts) + "\n" + "  " * level + "}"
    if isinstance(obj, (list, tuple)):
        if not obj:
            return "[]"
        pad = "\n" + "  " * (level + 1)
        return "[" + pad + ("," + pad).join(dumps_pretty(v, level + 1) for v in obj) + "\n" + "  " * level + "]"
    return _scalar(obj)


def dumps_line(obj) -> str:
    """codec.dumps: compact JSON with Go's HTML-safe escapes (for the simple values a create writes)."""
    if isinstance(obj, dict):
        text = "{" + ",".join(_enc_str(k) + ":" + dumps_line(v) for k, v in obj.items()) + "}"
    elif isinstance(obj, list):
        text = "[" + ",".join(dumps_line(v) for v in obj) + "]"
    else:
        text = _scalar(obj)
    if "<" in text or ">" in text or "&" in text or "\u2028" in text or "\u2029" in text:
        text = (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
                .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
    return text


# --- finding the store ----------------------------------------------------------------------------------

def _has_store(d: str) -> bool:
    return (os.path.exists(os.path.join(d, ISSUES)) or os.path.exists(os.path.join(d, "config.yaml"))
            or os.path.exists(os.path.join(d, "redirect")))


def beads_dir(db: str | None) -> str | None:
    """The store directory as store.open_store finds it; None when a redirect (or an error) needs the full path."""
    if db:
        p = os.path.expanduser(db)
        if os.path.isfile(p):
            return None  # an explicit issues file: the full path knows how
        if os.path.basename(p) != ".beads" and os.path.isdir(os.path.join(p, ".beads")):
            p = os.path.join(p, ".beads")
        found = p if os.path.isdir(p) else None
    else:
        here = os.path.realpath(os.getcwd())
        found = None
        while True:
            cand = os.path.join(here, ".beads")
            if os.path.isdir(cand) and _has_store(cand):
                found = cand
                break
            up = os.path.dirname(here)
            if up == here:
                break
            here = up
    if found is None or os.path.isfile(os.path.join(found, "redirect")):
        return None
    return found


def read_prefix(bdir: str) -> str | None:
    """issue-prefix from config.yaml, or None when it is not plainly there."""
    try:
        with open(os.path.join(bdir, "config.yaml"), encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return None
    found = parse_config(text)
    p = found.get("issue-prefix") or found.get("prefix")
    return p.strip().rstrip("-") if p else None


def parse_config(text: str) -> dict[str, str]:
    """The flat `key: value` pairs of a `.beads/config.yaml` (all bd writes there that we need)."""
    found: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].rstrip()
        if not line or line.lstrip().startswith("#") or raw[:1].isspace() or ":" not in line:
            continue
        key, _, value = line.partition(":")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        found[key.strip()] = value
    return found


def default_actor() -> str:
    """The actor: $BD_ACTOR, else git user.name (the repository's, then the global one), else $USER."""
    actor = os.environ.get("BD_ACTOR") or os.environ.get("BEADS_ACTOR")
    if actor:
        return actor
    return git_user_name() or os.environ.get("USER") or os.environ.get("LOGNAME") or "unknown"


def _repo_git_configs() -> list[str]:
    """The repository's own config files (worktree first), found from the current directory up,
    as git finds them: `.git/` or a `.git` file naming the git dir (worktrees, submodules)."""
    try:
        here = os.getcwd()
    except OSError:
        return []
    while True:
        dotgit = os.path.join(here, ".git")
        gitdir = None
        if os.path.isdir(dotgit):
            gitdir = dotgit
        elif os.path.isfile(dotgit):
            try:
                with open(dotgit, encoding="utf-8") as f:
                    line = f.readline().strip()
            except OSError:
                line = ""
            if line.startswith("gitdir:"):
                gitdir = os.path.normpath(os.path.join(here, line[7:].strip()))
        if gitdir is not None:
            out = [os.path.join(gitdir, "config.worktree")]
            common = gitdir
            try:
                with open(os.path.join(gitdir, "commondir"), encoding="utf-8") as f:
                    common = os.path.normpath(os.path.join(gitdir, f.read().strip()))
            except OSError:
                pass
            out.append(os.path.join(common, "config"))
            return out
        parent = os.path.dirname(here)
        if parent == here:
            return []
        here = parent


def git_user_name() -> str | None:
    # Read git's config files directly: running git costs more than the whole bd command.
    # The repository's own user.name wins over the global one, as `git config user.name` answers.
    env = os.environ.get("GIT_AUTHOR_NAME")
    if env:
        return env
    candidates = _repo_git_configs()
    if os.environ.get("GIT_CONFIG_GLOBAL"):
        candidates.append(os.environ["GIT_CONFIG_GLOBAL"])
    home = os.path.expanduser(os.environ.get("HOME", "~"))
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    candidates += [os.path.join(home, ".gitconfig"), os.path.join(xdg, "git", "config")]
    for path in candidates:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError:
            continue
        section = ""
        for raw in text.splitlines():
            line = raw.strip()
            if line.startswith("["):
                section = line.strip("[]").strip().lower()
            elif section == "user" and "=" in line:
                k, _, v = line.partition("=")
                if k.strip().lower() == "name" and v.strip():
                    return v.strip().strip('"')
    return None


# --- reading --------------------------------------------------------------------------------------------

def _read(path: str) -> tuple[bytes, tuple | None]:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return b"", None
    try:
        st = os.fstat(fd)
        chunks = []
        while True:
            b = os.read(fd, max(st.st_size + 1, 65536))
            if not b:
                break
            chunks.append(b)
        return b"".join(chunks), (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    finally:
        os.close(fd)


def find_line(raw: bytes, issue_id: str) -> bytes | None:
    """The line of `issue_id` (None: not there). Fallback when the answer needs the full index."""
    needle = b'{"id":' + dumps_line(issue_id).encode("utf-8")
    if raw.startswith(needle):
        start = 0
    else:
        start = raw.find(b"\n" + needle)
        if start < 0:
            if raw and not (raw.startswith(b'{"id":"') and raw.count(b'\n{"id":"') == raw.count(b"\n") - raw.endswith(b"\n")):
                raise Fallback  # a line not in bd's form could hold it
            return None
        start += 1
    if raw.find(b"\n" + needle, start) >= 0:
        raise Fallback  # duplicates: the last line wins, decided by the full index
    end = raw.find(b"\n", start)
    return raw[start:] if end < 0 else raw[start:end]


def _record(raw: bytes, issue_id: str) -> dict | None:
    line = find_line(raw, issue_id)
    if line is None:
        return None
    try:
        obj = loads(line.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise Fallback from None
    if not isinstance(obj, dict) or "_schema" in obj or obj.get("_type") not in (None, "issue") or obj.get("id") != issue_id:
        raise Fallback
    return obj


def show(bdir: str, issue_ids: list[str]) -> list[dict] | None:
    """The records of these ids (main file, then wisps); None when any needs the full path."""
    try:
        main, _ = _read(os.path.join(bdir, ISSUES))
        wisps = None
        out = []
        for iid in issue_ids:
            rec = _record(main, iid)
            if rec is None:
                if wisps is None:
                    wisps, _ = _read(os.path.join(bdir, WISPS))
                rec = _record(wisps, iid)
            if rec is None:
                return None  # routed, or not found: the full path words the answer
            out.append(rec)
        return out
    except Fallback:
        return None


def _fp(path: str) -> tuple | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def ready(bdir: str, limit: int, sort: str) -> tuple[list[dict], list[str]] | None:
    """Ready work from the summary the store cached for exactly these file versions, and the warnings."""
    if sort not in SORTS:
        return None
    import marshal

    fps = [_fp(os.path.join(bdir, ISSUES)), _fp(os.path.join(bdir, WISPS))]
    try:
        with open(os.path.join(bdir, SUMMARY), "rb") as f:
            data = marshal.loads(f.read())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if not isinstance(data, dict) or data.get("v") != 2 or data.get("fps") != fps:
        return None
    now = time.time_ns() / 1e9
    rows = [r for r in data["cands"] if not r[3] or r[3] <= now]
    if sort == "priority":
        rows.sort(key=lambda r: (r[1], r[2], r[0]))
    elif sort == "oldest":
        rows.sort(key=lambda r: (r[2], r[0]))
    else:
        cutoff = now - RECENT_SECONDS
        rows.sort(key=lambda r: (0, r[1], r[2], r[0]) if r[2] >= cutoff else (1, 0, r[2], r[0]))
    rows = rows[: limit or None]
    warnings = [f"{a} line {b}: {c}" for a, b, c in data["problems"]]
    if not rows:
        return [], warnings
    if fps[0] is None:
        return None
    try:
        fd = os.open(os.path.join(bdir, ISSUES), os.O_RDONLY)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns) != tuple(fps[0]):
            return None
        out = []
        for r in rows:
            if r[4] < 0:
                return None  # a wisp: read by the full path
            try:
                obj = loads(os.pread(fd, r[5], r[4]).decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                return None
            if not isinstance(obj, dict) or obj.get("id") != r[0]:
                return None
            out.append(obj)
        return out, warnings
    finally:
        os.close(fd)


# --- create -----------------------------------------------------------------------------------------------

def _stamp_ok(bdir: str, name: str, fp: tuple | None) -> bool:
    if fp is None:
        return True
    try:
        with open(os.path.join(bdir, f"{STAMP}.{name}"), encoding="utf-8") as f:
            return f.read() == " ".join(str(x) for x in fp)
    except OSError:
        return False


def _adaptive_length(count: int) -> int:
    import math

    for length in range(3, 9):  # ids.adaptive_length
        if 1.0 - math.exp(-(count * count) / (2.0 * 36.0 ** length)) <= 0.25:
            return length
    return 8


def _new_id(prefix: str, title: str, description: str, creator: str, ts: int, count: int, taken) -> str:
    try:
        from _sha256 import sha256
    except ImportError:  # pragma: no cover
        from hashlib import sha256
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
    for size in range(_adaptive_length(count), 8 + 5):  # ids.generate_id
        for nonce in range(10):
            n = int.from_bytes(sha256(f"{title}|{description}|{creator}|{ts}|{nonce}".encode()).digest()[:12], "big")
            out = []
            for _ in range(size):
                n, r = divmod(n, 36)
                out.append(alphabet[r])
            candidate = f"{prefix}-" + "".join(reversed(out))
            if not taken(candidate):
                return candidate
    raise Fallback


def format_ts(ns: int) -> str:
    """codec.format_ts: RFC 3339 with nanoseconds and the local offset (Go's RFC3339Nano)."""
    secs, frac = divmod(ns, 1_000_000_000)
    lt = time.localtime(secs)
    base = time.strftime("%Y-%m-%dT%H:%M:%S", lt)
    fs = f"{frac:09d}".rstrip("0")
    off = int(lt.tm_gmtoff or 0)
    if not off:
        tz = "Z"
    else:
        sign = "+" if off >= 0 else "-"
        off = abs(off)
        tz = f"{sign}{off // 3600:02d}:{off % 3600 // 60:02d}"
    return f"{base}{'.' + fs if fs else ''}{tz}"


def create(bdir: str, title: str, *, itype: str, priority: str, description: str, assignee: str | None,
           actor: str) -> dict | None:
    """Append one new issue under the lock, as Transaction.create would; None: take the full path."""
    title = (title or "").strip()
    prio = str(priority).strip().upper().removeprefix("P")
    if not title or itype not in TYPES or not (prio.isdigit() and int(prio) in (0, 1, 2, 3, 4)):
        return None  # the full path words the error
    if os.path.isdir(os.path.join(bdir, PENDING)) and any(e.endswith(".batch") for e in os.listdir(os.path.join(bdir, PENDING))):
        return None  # an interrupted combine to recover first: the full path does it
    prefix = read_prefix(bdir)
    if not prefix or prefix == "hq" and itype == "convoy":
        return None
    import fcntl

    ipath, wpath = os.path.join(bdir, ISSUES), os.path.join(bdir, WISPS)
    lfd = os.open(os.path.join(bdir, LOCK), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(lfd, fcntl.LOCK_EX)
        if os.path.isdir(os.path.join(bdir, PENDING)) and any(e.endswith(".batch") for e in os.listdir(os.path.join(bdir, PENDING))):
            return None
        main, mfp = _read(ipath)
        wisps, wfp = _read(wpath)
        if not _stamp_ok(bdir, ISSUES, mfp) or not _stamp_ok(bdir, WISPS, wfp):
            return None  # not our last write: the full path parses and checks every line first
        # The id only has to be free: a JSON string that appears nowhere in either file is free
        # whatever form the lines are in (a hit anywhere counts as taken: the next nonce is tried).
        count = sum(r.count(b"\n") + (0 if r.endswith(b"\n") else 1) for r in (main, wisps) if r)
        ts = time.time_ns()
        try:
            new_id = _new_id(prefix, title, description, actor, ts, count,
                             lambda c: (q := b'"' + c.encode("utf-8") + b'"') in main or q in wisps)
        except Fallback:
            return None
        now = format_ts(time.time_ns())
        rec = {"id": new_id, "title": title, "description": description, "status": "open", "priority": int(prio),
               "issue_type": itype, "assignee": assignee or "", "created_at": now, "updated_at": now,
               "created_by": actor}
        line = dumps_line({k: v for k, v in rec.items() if k in ("priority", "created_at", "updated_at") or v not in ("", None)})
        parts = [main, b"\n", line.encode("utf-8") + b"\n"] if main and not main.endswith(b"\n") else [main, line.encode("utf-8") + b"\n"]
        tmp = os.path.join(bdir, f".{ISSUES}.{os.getpid()}.{time.time_ns()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            try:
                for part in parts:  # (no joined copy of a 5 MB file)
                    view = memoryview(part)
                    while view:
                        view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, ipath)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        fp = _fp(ipath)
        try:
            with open(os.path.join(bdir, f"{STAMP}.{ISSUES}"), "w", encoding="utf-8") as f:
                f.write(" ".join(str(x) for x in fp))
        except (OSError, TypeError):
            pass
        return loads(line)
    finally:
        try:
            fcntl.flock(lfd, fcntl.LOCK_UN)
        finally:
            os.close(lfd)
        signal_waiters(os.path.join(bdir, PENDING))


def signal_waiters(pending: str, exclude: str = "") -> None:
    """Wake every process queued for the lock (its result is ready, or the lock is free)."""
    try:
        entries = os.listdir(pending)
    except OSError:
        return
    for entry in entries:
        if entry.endswith(".fifo") and entry != exclude:
            try:
                wfd = os.open(os.path.join(pending, entry), os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                continue
            try:
                os.write(wfd, b"!")
            except OSError:
                pass
            os.close(wfd)


# --- records by assignee (mail inboxes) ------------------------------------------------------------------

def dumps_compact(obj) -> str:
    """Exactly json.dumps(obj, ensure_ascii=False), with the C encoder and without the json package."""
    if _enc_str is None:  # pragma: no cover
        import json

        return json.dumps(obj, ensure_ascii=False)
    from _json import make_encoder

    def default(o):
        raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")

    return "".join(make_encoder({}, default, _enc_str, None, ": ", ", ", False, False, True)(obj, 0))


def scan_assignee(bdir: str, addr: str) -> list[tuple[dict, bool]]:
    """Issue records assigned to `addr` in issues.jsonl then wisps.jsonl, as (record, from wisps).

    Scans the raw bytes for `"assignee":"<addr>"` (bd always writes compact JSON) and parses only
    those lines. The read rules hold: the last duplicate line wins, the main file wins over wisps,
    tombstones and non-issue lines are skipped, bad lines are skipped.
    """
    needle = b'"assignee":' + _enc_str(addr).encode("utf-8")
    found: dict[str, tuple[dict, bool]] = {}
    for name, eph in ((ISSUES, False), (WISPS, True)):
        data, _ = _read(os.path.join(bdir, name))
        lines = []
        pos = data.find(needle)
        while pos >= 0:
            start = data.rfind(b"\n", 0, pos) + 1
            end = data.find(b"\n", pos)
            end = len(data) if end < 0 else end
            lines.append(data[start:end])
            pos = data.find(needle, end)
        if not lines:
            continue
        try:
            recs = loads((b"[" + b",".join(lines) + b"]").decode("utf-8"))
        except (ValueError, UnicodeDecodeError):  # a torn or conflicted line: one by one, skipping the bad
            recs = []
            for ln in lines:
                try:
                    recs.append(loads(ln.decode("utf-8")))
                except (ValueError, UnicodeDecodeError):
                    continue
        for d in recs:
            if (not isinstance(d, dict) or "_schema" in d or d.get("_type") not in (None, "issue")
                    or not isinstance(d.get("id"), str) or d.get("assignee") != addr):
                continue
            if eph and d["id"] in found and not found[d["id"]][1]:
                continue  # the main file wins over wisps
            found[d["id"]] = (d, eph)
    return [v for v in found.values() if (v[0].get("status") or "open") != "tombstone"]


# --- a read-only store for molecule queries (`bd mol current`) -------------------------------------------

class LeanStore:
    """The reads molecules.py needs (try_get, get, exists, mentioning) over the raw files.

    Anything it cannot answer exactly (duplicate lines, lines not in bd's form, a query over every
    issue) raises Fallback: the caller then asks the full Store.
    """

    def __init__(self, bdir: str) -> None:
        from gastown_tui.beads.model import Issue

        self.beads_dir = bdir
        self.main, _ = _read(os.path.join(bdir, ISSUES))
        self.wisps, _ = _read(os.path.join(bdir, WISPS))
        self._issue = Issue
        self._cache: dict = {}

    def try_get(self, issue_id: str):
        if issue_id in self._cache:
            return self._cache[issue_id]
        rec = _record(self.main, issue_id)
        iss = None
        if rec is not None:
            iss = self._issue(rec)
        else:
            rec = _record(self.wisps, issue_id)
            if rec is not None:
                iss = self._issue(rec, ephemeral_file=True)
        self._cache[issue_id] = iss
        return iss

    def get(self, issue_id: str):
        iss = self.try_get(issue_id)
        if iss is None:
            raise Fallback  # the full store words the error
        return iss

    def exists(self, issue_id: str) -> bool:
        return self.try_get(issue_id) is not None

    def mentioning(self, text: str, field: str | None = None) -> list:
        """store.mentioning: the issues whose line holds `text` as a JSON string (main file first)."""
        if not text.isascii() or any(c in text for c in '<>&\\"') or not text.isprintable():
            raise Fallback
        key = ("mentioning", text, field)
        if key not in self._cache:
            needle = ((f'"{field}":' if field else "") + '"' + text + '"').encode("ascii")
            out = [self._issue(r) for r in _mentioning(self.main, needle, text)]
            out += [self._issue(r, ephemeral_file=True) for r in _mentioning(self.wisps, needle, text)
                    if find_line(self.main, r["id"]) is None]
            self._cache[key] = out
        return list(self._cache[key])

    def all(self, **_kw):
        raise Fallback

    def list(self, **_kw):
        raise Fallback


def _mentioning(raw: bytes, needle: bytes, id_prefix: str) -> list[dict]:
    """jsonl.Image.mentioning over bytes: records whose line holds `needle` (Fallback on duplicates)."""
    starts: dict[bytes, int] = {}
    head = b'{"id":"' + id_prefix.encode("ascii")
    pos = 0 if raw.startswith(head) else raw.find(b"\n" + head) + 1
    while pos > 0 or (pos == 0 and raw.startswith(head)):
        q = raw.find(b'"', pos + 7)
        iid = raw[pos + 7:q]
        starts[iid] = starts.get(iid, 0) + 1
        pos = raw.find(b"\n" + head, q) + 1
        if pos == 0:
            break
    out = []
    pos = raw.find(needle)
    while pos >= 0:
        start = raw.rfind(b"\n", 0, pos) + 1
        end = raw.find(b"\n", pos)
        end = len(raw) if end < 0 else end
        line = raw[start:end]
        pos = raw.find(needle, end)
        try:
            obj = loads(line.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise Fallback from None
        if not isinstance(obj, dict) or "_schema" in obj or obj.get("_type") not in (None, "issue") \
                or not isinstance(obj.get("id"), str):
            continue
        iid = obj["id"]
        if iid.startswith(id_prefix) and iid.isascii() and "\\" not in iid:
            if starts.get(iid.encode("ascii")) != 1 or not line.startswith(b'{"id":"'):
                raise Fallback
        elif find_line(raw, iid) != line:
            raise Fallback
        out.append(obj)
    return out
