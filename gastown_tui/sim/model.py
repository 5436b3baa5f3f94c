"""A scripted model service on loopback: real agent CLIs do Gas Town work with no model bill.

`python -m gastown_tui.sim.model --port 0 --port-file F` serves the Anthropic Messages API
(`POST /v1/messages`, streaming server-sent events with `text` and `tool_use` blocks, the way the
real service sends them, token usage included), so the real Claude Code, started with
`ANTHROPIC_BASE_URL=http://127.0.0.1:PORT`, works beads through its own tools.

The "model" is a script, chosen per bead by its labels (the sim's labels, DESIGN §9): each
request's conversation is read to find where the agent is, and the next turn is:

1. Bash `gt prime`, then Bash `gt hook --json` (nothing hooked: say so and stop);
2. on a second go in the same conversation (a REWORK_REQUEST nudge): catch up with the rig's
   default branch (a fresh worktree already starts from it);
3. for each `file: <path>` block of the bead: Read, then Write it (or write `work/<id>.md`);
4. faults: `sim:conflict` rewrites line 1 of README.md; `sim:fail-tests` writes SIM_TESTS=FAIL;
   `sim:crash` kills the agent's process (once per bead); `sim:stall` stops after the hook and
   waits at the prompt with the work undone (`sim:stall=once`: until the first nudge);
   `sim:slow=N` streams the final words over N s;
5. Bash `git add -A && git commit`, then Bash `gt done`; a final text turn.

The script is stateless except for the crash-once memory: every request carries the whole
conversation, so a nudge ("check your hook") simply starts the loop again. Requests that carry
no Bash tool (titles, summaries) get a short text answer. Loopback only, and the server exits
after `--lifetime` seconds.
"""

from __future__ import annotations

import json
import shlex
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from gastown_tui.sim.work import bead_faults, parse_edits

DEFAULT_LIFETIME = 4 * 3600.0
MODEL_NAME = "scripted-gastown-model"


class Turn:
    """One assistant turn: content blocks (text / tool_use) and why it stopped."""

    __slots__ = ("blocks", "stop_reason", "slow")

    def __init__(self, blocks: list[dict[str, Any]], stop_reason: str, slow: float = 0.0) -> None:
        self.blocks = blocks
        self.stop_reason = stop_reason
        self.slow = slow


def _text(t: str) -> Turn:
    return Turn([{"type": "text", "text": t}], "end_turn")


def _tool(step: str, name: str, inp: dict[str, Any], say: str = "") -> Turn:
    blocks: list[dict[str, Any]] = [{"type": "text", "text": say}] if say else []
    blocks.append({"type": "tool_use", "id": f"toolu_{step}_{uuid.uuid4().hex[:12]}", "name": name, "input": inp})
    return Turn(blocks, "tool_use")


def _bash(step: str, command: str, description: str) -> Turn:
    return _tool(step, "Bash", {"command": command, "description": description}, say=description + ".")


def _blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    content = message.get("content")
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [b for b in (content or []) if isinstance(b, dict)]


def _result_text(block: dict[str, Any]) -> str:
    content = block.get("content")
    if isinstance(content, str):
        return content
    return "".join(b.get("text", "") for b in (content or []) if isinstance(b, dict))


def _step_of(tool_use_id: str) -> str:
    parts = tool_use_id.split("_")
    return parts[1] if len(parts) >= 3 and parts[0] in ("toolu", "call") else ""


def _first_json(text: str) -> dict[str, Any] | None:
    start = text.find("{")
    while start != -1:
        try:
            obj, _ = json.JSONDecoder().raw_decode(text[start:])
        except ValueError:
            start = text.find("{", start + 1)
            continue
        return obj if isinstance(obj, dict) else None
    return None


SHELL_TOOL = "exec_command"  # Codex's shell tool


def _write_command(path: str, content: str) -> str:
    """A shell command writing `content` to `path` exactly (parent directories made)."""
    q = shlex.quote(path)
    return f'mkdir -p "$(dirname {q})" && printf %s {shlex.quote(content)} > {q}'


def _item_text(item: dict[str, Any]) -> str:
    content = item.get("content")
    if isinstance(content, str):
        return content
    return "".join(str(c.get("text", "")) for c in content or [] if isinstance(c, dict))


def _is_context(text: str) -> bool:
    """Codex's own preamble messages (environment, AGENTS.md), not an instruction from anyone."""
    t = text.lstrip()
    return t.startswith(("<environment_context>", "<user_instructions>", "# AGENTS.md", "<permissions"))


def _shell_failed(output: str) -> bool:
    import re

    m = re.search(r"(?:Process exited with code|exit code:?)\s*(-?\d+)", output)
    return bool(m and m.group(1) != "0")


class Script:
    """The work-loop script. `crashed` remembers beads whose one crash has happened."""

    def __init__(self) -> None:
        self.crashed: set[str] = set()
        self.lock = threading.Lock()

    def next_turn(self, body: dict[str, Any]) -> Turn:
        """The next turn of a Messages API conversation (Claude Code)."""
        tools = {t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)}
        if "Bash" not in tools:
            return _text("Gas Town work session")
        messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
        # The loop restarts at the last user message that is an instruction, not a tool result.
        instructions = [i for i, m in enumerate(messages) if m.get("role") == "user"
                        and not any(b.get("type") == "tool_result" for b in _blocks(m))]
        start = instructions[-1] if instructions else 0
        done: list[tuple[str, str, bool]] = []  # (step, result text, is_error) in order
        for m in messages[start:]:
            if m.get("role") != "user":
                continue
            for b in _blocks(m):
                if b.get("type") == "tool_result":
                    done.append((_step_of(str(b.get("tool_use_id", ""))), _result_text(b), bool(b.get("is_error"))))
        return self.decide(done, retry=len(instructions) > 1, shell_only=False)

    def next_response(self, body: dict[str, Any]) -> Turn:
        """The next turn of a Responses API conversation (Codex): one shell tool does everything."""
        tools = {t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)}
        if SHELL_TOOL not in tools:
            return _text("Gas Town work session")
        items = [i for i in body.get("input") or [] if isinstance(i, dict)]
        instructions = [n for n, i in enumerate(items) if i.get("type", "message") == "message"
                        and i.get("role") == "user" and not _is_context(_item_text(i))]
        start = instructions[-1] if instructions else 0
        answered_before = any(i.get("type", "message") == "message" and i.get("role") == "assistant"
                              for i in items[:start])
        done: list[tuple[str, str, bool]] = []
        for i in items[start:]:
            if i.get("type") == "function_call_output":
                out = i.get("output")
                text = out if isinstance(out, str) else json.dumps(out)
                done.append((_step_of(str(i.get("call_id", ""))), text, _shell_failed(text)))
        return self.decide(done, retry=answered_before, shell_only=True)

    def decide(self, done: list[tuple[str, str, bool]], *, retry: bool, shell_only: bool) -> Turn:
        """The next turn from the steps answered so far since the last instruction."""
        steps = [s for s, _, _ in done]
        if "prime" not in steps:
            return _bash("prime", "gt prime", "Loading my role and hooked work with gt prime")
        if "hook" not in steps:
            return _bash("hook", "gt hook --json", "Checking my hook")
        hook_text, hook_failed = next((t, e) for s, t, e in done if s == "hook")
        if hook_failed:
            return _text(f"`gt hook` failed: {hook_text.strip()[:300]}")
        hook = _first_json(hook_text) or {}
        bead = hook.get("bead") if isinstance(hook.get("bead"), dict) else None
        if not bead:
            return _text("Nothing is on my hook; waiting for work.")
        plan = self.plan(hook, bead, retry=retry, shell_only=shell_only)
        taken = len([s for s in steps if s not in ("prime", "hook")])
        if taken and done[-1][0] == "done" and done[-1][2]:
            return _text(f"`gt done` failed: {done[-1][1].strip()[:300]}")
        if taken >= len(plan):
            faults = bead_faults(bead.get("labels") or [])
            final = _text(f"Done: {bead.get('id')} is committed and handed in with `gt done`.")
            final.slow = float(faults.get("slow") or 0)
            return final
        step = plan[taken]
        if step is None:  # stall: the agent stops with the work undone
            return _text("Let me think about how to approach this…")
        return step()

    def plan(self, hook: dict[str, Any], bead: dict[str, Any], *, retry: bool = False,
             shell_only: bool = False) -> list:
        """The remaining actions after the hook, as thunks (built fresh on every request).

        `retry`: the conversation had an instruction before this one (a nudge after a stall)."""
        bead_id, title = str(bead.get("id") or ""), str(bead.get("title") or "")
        workdir = str(hook.get("workdir") or ".")
        faults = bead_faults(bead.get("labels") or [])
        if faults.get("stall") and not (faults["stall"] == "once" and retry):
            return [None]
        # The rig's default branch is the HEAD of the bare repository every worktree hangs off.
        # On a second go (a REWORK_REQUEST nudge), first catch up with the rig's default branch —
        # the HEAD of the bare repository every worktree hangs off — keeping our side of conflicts.
        base = 'b=$(git --git-dir="$(git rev-parse --git-common-dir)" symbolic-ref --short HEAD)'
        plan: list = [lambda: _bash(
            "catchup", f'{base}; git merge-base --is-ancestor "$b" HEAD || git rebase -q -X theirs "$b" '
                       f"|| git rebase --abort", "Catching up with the default branch")] if retry else []
        from gastown_tui.beads import ids
        from gastown_tui.infra.safepath import UnsafePath, confine

        edits = parse_edits(str(bead.get("description") or ""))
        if not edits and ids.is_valid_id(bead_id):
            edits = [(f"work/{bead_id}.md", f"# {bead_id}: {title}\n\n{bead.get('description') or ''}\n\n"
                                            f"Done by {hook.get('agent')} (scripted model).\n")]
        for rel, content in edits:
            try:  # data from the bead: the same confining function as the sim's own writes
                path = str(confine(workdir, rel, what="file path"))
            except UnsafePath:
                continue
            if shell_only:
                plan.append(lambda path=path: _bash("read", f"cat {shlex.quote(path)} 2>/dev/null || true",
                                                    f"Reading {path}"))
                plan.append(lambda path=path, content=content: _bash("write", _write_command(path, content),
                                                                     f"Writing {path}"))
                continue
            plan.append(lambda path=path: _tool("read", "Read", {"file_path": path}, say=f"Reading {path}."))
            plan.append(lambda path=path, content=content: _tool(
                "write", "Write", {"file_path": path, "content": content}, say=f"Writing {path}."))
        if faults.get("conflict"):
            first = shlex.quote(f"# {title} ({hook.get('agent')})")
            plan.append(lambda: _bash("edit", f"f=README.md; {{ echo {first}; tail -n +2 \"$f\" 2>/dev/null; }} > "
                                              f"\"$f.new\" && mv \"$f.new\" \"$f\"", "Retitling README.md"))
        if faults.get("fail-tests"):
            plan.append(lambda: _bash("edit", "echo FAIL > SIM_TESTS", "Recording the test expectation"))
        if faults.get("crash"):
            with self.lock:
                first_time = bead_id not in self.crashed
            if first_time:
                def crash():
                    with self.lock:
                        self.crashed.add(bead_id)
                    # The Bash tool's shell is a child of the agent CLI: kill the CLI itself.
                    return _bash("crash", "kill -9 $PPID", "Crashing (fault injected: sim:crash)")
                plan.append(crash)
        msg = shlex.quote(f"{bead_id}: {title}")
        plan.append(lambda: _bash("commit", f"git add -A && git commit -q -m {msg} && git log --oneline -1",
                                  "Committing my work"))
        plan.append(lambda: _bash("done", "gt done", "Handing in my work with gt done"))
        return plan


def _usage(body: dict[str, Any], turn: Turn) -> tuple[int, int]:
    inp = len(json.dumps(body.get("messages") or [], ensure_ascii=False)) // 4 + len(str(body.get("system") or "")) // 4
    out = sum(len(json.dumps(b, ensure_ascii=False)) for b in turn.blocks) // 4
    return max(inp, 1), max(out, 1)


def _message_json(body: dict[str, Any], turn: Turn, msg_id: str) -> dict[str, Any]:
    inp, out = _usage(body, turn)
    return {"id": msg_id, "type": "message", "role": "assistant", "model": body.get("model") or MODEL_NAME,
            "content": turn.blocks, "stop_reason": turn.stop_reason, "stop_sequence": None,
            "usage": {"input_tokens": inp, "output_tokens": out,
                      "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}


def sse_events(body: dict[str, Any], turn: Turn, msg_id: str) -> list[tuple[str, dict[str, Any], float]]:
    """The Messages API stream for `turn`: (event, data, delay before it)."""
    inp, out = _usage(body, turn)
    ev: list[tuple[str, dict[str, Any], float]] = [("message_start", {"type": "message_start", "message": {
        "id": msg_id, "type": "message", "role": "assistant", "model": body.get("model") or MODEL_NAME,
        "content": [], "stop_reason": None, "stop_sequence": None,
        "usage": {"input_tokens": inp, "output_tokens": 1, "cache_creation_input_tokens": 0,
                  "cache_read_input_tokens": 0}}}, 0.0)]
    for i, b in enumerate(turn.blocks):
        if b["type"] == "text":
            ev.append(("content_block_start", {"type": "content_block_start", "index": i,
                                               "content_block": {"type": "text", "text": ""}}, 0.0))
            words = b["text"].split(" ")
            pieces = [" ".join(words[j:j + 4]) + (" " if j + 4 < len(words) else "") for j in range(0, len(words), 4)]
            delay = turn.slow / max(len(pieces), 1) if turn.slow else 0.0
            for p in pieces:
                ev.append(("content_block_delta", {"type": "content_block_delta", "index": i,
                                                   "delta": {"type": "text_delta", "text": p}}, delay))
        else:
            ev.append(("content_block_start", {"type": "content_block_start", "index": i, "content_block": {
                "type": "tool_use", "id": b["id"], "name": b["name"], "input": {}}}, 0.0))
            ev.append(("content_block_delta", {"type": "content_block_delta", "index": i, "delta": {
                "type": "input_json_delta", "partial_json": json.dumps(b["input"], ensure_ascii=False)}}, 0.0))
        ev.append(("content_block_stop", {"type": "content_block_stop", "index": i}, 0.0))
    ev.append(("message_delta", {"type": "message_delta", "delta": {"stop_reason": turn.stop_reason,
                                                                    "stop_sequence": None},
                                 "usage": {"output_tokens": out}}, 0.0))
    ev.append(("message_stop", {"type": "message_stop"}, 0.0))
    return ev


def response_items(turn: Turn) -> list[dict[str, Any]]:
    """`turn` as Responses API output items (a message, then at most one function call)."""
    items: list[dict[str, Any]] = []
    for b in turn.blocks:
        if b["type"] == "text" and b["text"]:
            items.append({"type": "message", "id": f"msg_{uuid.uuid4().hex[:16]}", "role": "assistant",
                          "status": "completed",
                          "content": [{"type": "output_text", "text": b["text"], "annotations": []}]})
        elif b["type"] == "tool_use":
            call = b["id"].replace("toolu_", "call_", 1)
            items.append({"type": "function_call", "id": f"fc_{uuid.uuid4().hex[:16]}", "call_id": call,
                          "name": SHELL_TOOL, "status": "completed",
                          "arguments": json.dumps({"cmd": b["input"].get("command", ""), "login": False},
                                                  ensure_ascii=False)})
    return items


def responses_events(body: dict[str, Any], turn: Turn, resp_id: str) -> list[tuple[str, dict[str, Any], float]]:
    """The Responses API stream for `turn`: (event, data, delay before it)."""
    inp = len(json.dumps(body.get("input") or [], ensure_ascii=False)) // 4
    items = response_items(turn)
    out = sum(len(json.dumps(i, ensure_ascii=False)) for i in items) // 4
    base = {"id": resp_id, "object": "response", "created_at": int(time.time()), "model": body.get("model") or MODEL_NAME}
    ev: list[tuple[str, dict[str, Any], float]] = [
        ("response.created", {"type": "response.created", "response": {**base, "status": "in_progress", "output": []}}, 0.0)]
    for n, item in enumerate(items):
        if item["type"] == "message":
            text = item["content"][0]["text"]
            ev.append(("response.output_item.added", {"type": "response.output_item.added", "output_index": n,
                                                      "item": {**item, "status": "in_progress", "content": []}}, 0.0))
            ev.append(("response.content_part.added", {"type": "response.content_part.added", "item_id": item["id"],
                                                       "output_index": n, "content_index": 0,
                                                       "part": {"type": "output_text", "text": "", "annotations": []}}, 0.0))
            words = text.split(" ")
            delay = turn.slow / max(len(words), 1) if turn.slow else 0.0
            for w, word in enumerate(words):
                ev.append(("response.output_text.delta", {"type": "response.output_text.delta", "item_id": item["id"],
                                                          "output_index": n, "content_index": 0,
                                                          "delta": word + (" " if w + 1 < len(words) else "")}, delay))
            ev.append(("response.output_text.done", {"type": "response.output_text.done", "item_id": item["id"],
                                                     "output_index": n, "content_index": 0, "text": text}, 0.0))
        else:
            ev.append(("response.output_item.added", {"type": "response.output_item.added", "output_index": n,
                                                      "item": {**item, "status": "in_progress", "arguments": ""}}, 0.0))
            ev.append(("response.function_call_arguments.delta", {
                "type": "response.function_call_arguments.delta", "item_id": item["id"], "output_index": n,
                "delta": item["arguments"]}, 0.0))
            ev.append(("response.function_call_arguments.done", {
                "type": "response.function_call_arguments.done", "item_id": item["id"], "output_index": n,
                "arguments": item["arguments"]}, 0.0))
        ev.append(("response.output_item.done", {"type": "response.output_item.done", "output_index": n, "item": item}, 0.0))
    usage = {"input_tokens": max(inp, 1), "input_tokens_details": {"cached_tokens": 0}, "output_tokens": max(out, 1),
             "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": max(inp, 1) + max(out, 1)}
    ev.append(("response.completed", {"type": "response.completed", "response": {
        **base, "status": "completed", "output": items, "usage": usage}}, 0.0))
    return ev


def make_handler(script: Script, log) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt: str, *args: Any) -> None:  # our own log line per request instead
            pass

        def _json(self, code: int, obj: dict[str, Any]) -> None:
            data = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def do_GET(self) -> None:  # noqa: N802
            self._json(200, {"models": [{"id": MODEL_NAME}]} if "models" in self.path else {})

        def do_POST(self) -> None:  # noqa: N802
            try:
                n = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(n) or b"{}")
            except ValueError:
                self._json(400, {"type": "error", "error": {"type": "invalid_request_error",
                                                            "message": "the body is not JSON"}})
                return
            path = self.path.split("?", 1)[0]
            if path.endswith("/count_tokens"):
                self._json(200, {"input_tokens": _usage(body, _text(""))[0]})
                return
            if path.endswith("/responses"):
                turn = script.next_response(body)
                events = responses_events(body, turn, f"resp_{uuid.uuid4().hex[:20]}")
            elif path.endswith("/v1/messages"):
                turn = script.next_turn(body)
                events = None
            else:
                self._json(404, {"type": "error", "error": {"type": "not_found_error", "message": path}})
                return
            msg_id = f"msg_{uuid.uuid4().hex[:20]}"
            log(" ".join(f"{b['name']}({json.dumps(b['input'], ensure_ascii=False)[:100]})" if b["type"] == "tool_use"
                         else repr(b["text"][:60]) for b in turn.blocks))
            if events is None and not body.get("stream"):
                self._json(200, _message_json(body, turn, msg_id))
                return
            if events is None:
                events = sse_events(body, turn, msg_id)
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("cache-control", "no-cache")
            self.send_header("connection", "close")
            self.end_headers()
            self.close_connection = True
            try:
                for event, data, delay in events:
                    if delay:
                        time.sleep(delay)
                    self.wfile.write(f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode())
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                return

    return Handler


def serve(port: int = 0, *, lifetime: float = DEFAULT_LIFETIME, port_file: Path | None = None,
          log=None) -> None:
    """Serve on 127.0.0.1 until `lifetime` seconds have passed."""
    def _log(line: str) -> None:
        print(f"{time.strftime('%H:%M:%S')} {line}", flush=True)

    server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(Script(), log or _log))
    server.daemon_threads = True
    actual = server.server_address[1]
    if port_file is not None:
        tmp = Path(f"{port_file}.tmp")
        tmp.write_text(f"{actual}\n")
        tmp.replace(port_file)
    (log or _log)(f"scripted model listening on http://127.0.0.1:{actual} for {lifetime:.0f}s")
    timer = threading.Timer(lifetime, server.shutdown)
    timer.daemon = True
    timer.start()
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        server.server_close()


def main(argv: list[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="python -m gastown_tui.sim.model",
                                description="A scripted model service on loopback for real agent CLIs.")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    p.add_argument("--port-file", type=Path, help="write the port here once listening")
    p.add_argument("--lifetime", type=float, default=DEFAULT_LIFETIME, help="exit after this many seconds")
    a = p.parse_args(argv)
    if not 0 <= a.port <= 65535 or a.lifetime <= 0:
        p.error("--port must be 0-65535 and --lifetime positive")
    try:
        serve(a.port, lifetime=a.lifetime, port_file=a.port_file)
    except OSError as e:
        print(f"model: cannot listen on 127.0.0.1:{a.port} ({e.strerror})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
