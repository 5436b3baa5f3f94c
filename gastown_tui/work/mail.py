"""Mail: message beads in the town store (DESIGN §2, §5).

A message is a bead with `issue_type: "message"` in `<town>/.beads`:

    title        the subject
    description  the body
    assignee     the recipient's address (as upstream gastown does)
    sender       the sender's address
    labels       `from:<sender>`, `thread:<thread id>`, `read` once read, `msg:<TYPE>` for protocol mail
    thread_id    the id of the first message of the thread (itself for a new thread)
    reply_to     the id of the message this one answers (also a `replies-to` dependency)
    status       open = in the inbox, closed = archived, tombstone = deleted

Ordinary mail is persistent (issues.jsonl, versioned); protocol mail (`work.protocol`) is
ephemeral (wisps.jsonl). Addresses: those of `town.identity.ADDRESS_FORMS`, plus `@town` (every
agent of the town) and `@<rig>` (every agent of one rig), which fan out to one message each.

New mail nudges the recipient's session when it has one: queued when the agent is busy or in
do-not-disturb. Patrol roles (witness, refinery, deacon) read their inbox on every patrol and
are not nudged. A failed nudge never fails the send.
"""

from __future__ import annotations

import os
from gastown_tui.errors import NotFound, UsageError
from gastown_tui.town.identity import ADDRESS_FORMS, Agent, parse_address
from gastown_tui.town.layout import Town
from gastown_tui.work import protocol

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds at import (agents poll the inbox); annotations are strings
    from typing import Any

VALID_FORMS = f"{ADDRESS_FORMS}, @town, @<rig>"
PATROL_ROLES = ("witness", "refinery", "deacon")


def _store(town: Town):
    from gastown_tui.beads.store import Store

    return Store(town.beads_dir)


def whoami_address(town: Town | None = None) -> str:
    """The sender address for this process: $BD_ACTOR when it is an agent address, else overseer."""
    actor = os.environ.get("BD_ACTOR") or ""
    if actor:
        try:
            return parse_address(actor).address
        except UsageError:
            pass
    if town is not None:
        from pathlib import Path

        from gastown_tui.town.identity import agent_from_env

        a = agent_from_env({}, Path.cwd(), town.root)
        if a is not None and a.role != "mayor":
            return a.address
    return "overseer"


def _agent_exists(town: Town, agent: Agent) -> bool:
    if agent.role in ("polecat", "crew"):
        if agent.workdir(town.root).is_dir():
            return True
        from gastown_tui.agents import agent_beads

        b = agent_beads.get(town, agent)
        return b is not None and b.status not in ("closed", "tombstone")
    return True


def resolve_recipients(town: Town, to: str) -> list[Agent]:
    """Expand an address (or @town / @<rig>) to agents; unknown addresses are refused."""
    rigs = town.rigs()
    to = (to or "").strip()
    if to.startswith("@"):
        group = to[1:]
        if group == "town":
            out = [Agent("mayor"), Agent("deacon")]
            for r in sorted(rigs):
                out += _rig_agents(town, r)
            return out
        if group in rigs:
            return _rig_agents(town, group)
        known = ", ".join(sorted(rigs)) or "none yet"
        raise UsageError(f"'{to}' is not a mail address", hint=f"use one of: {VALID_FORMS} (rigs: {known})")
    try:
        agent = parse_address(to, rigs)
    except UsageError:
        raise UsageError(f"'{to}' is not a mail address", hint=f"use one of: {VALID_FORMS}") from None
    if not _agent_exists(town, agent):
        raise NotFound(f"{agent.address} does not exist",
                       hint=f"list agents with 'gt polecat list {agent.rig}' or 'gt crew list {agent.rig}'")
    return [agent]


def _rig_agents(town: Town, rig: str) -> list[Agent]:
    rp = town.rig(rig)
    out = [Agent("witness", rig), Agent("refinery", rig)]
    for d, role in ((rp.polecats_dir, "polecat"), (rp.crew_dir, "crew")):
        if d.is_dir():
            out += [Agent(role, rig, p.name) for p in sorted(d.iterdir()) if p.is_dir() and not p.name.startswith(".")]
    return out


def send_mail(town: Town, to: str, subject: str, body: str = "", *, sender: str | None = None,
              reply_to: str | None = None, ephemeral: bool | None = None, priority: int = 2,
              nudge: bool = True) -> list[dict[str, Any]]:
    """Send one message (one per recipient for @town/@rig); returns the created messages as dicts.

    Protocol subjects (`work.protocol`) are ephemeral unless `ephemeral=False`.
    """
    subject = (subject or "").strip()
    if not subject:
        raise UsageError("a message needs a subject", hint="pass -s SUBJECT")
    recipients = resolve_recipients(town, to)
    sender = sender or whoami_address(town)
    msg_type = protocol.message_type(subject)
    if ephemeral is None:
        ephemeral = msg_type is not None
    store = _store(town)
    created = []
    with store.transaction(actor=sender) as tx:
        thread = None
        deps: list[tuple[str, str]] = []
        if reply_to:
            orig = tx.get(reply_to)
            thread = orig.get("thread_id") or orig.id
            deps.append(("replies-to", reply_to))
        for agent in recipients:
            labels = [f"from:{sender}"]
            if msg_type:
                labels.append(f"msg:{msg_type}")
            fields: dict[str, Any] = {"sender": sender}
            if reply_to:
                fields["reply_to"] = reply_to
            iss = tx.create(subject, type="message", priority=priority, description=body, assignee=agent.address,
                            labels=labels, deps=deps, ephemeral=ephemeral, fields=fields, actor=sender)
            tid = thread or iss.id
            iss = tx.update(iss.id, thread_id=tid, labels=[*labels, f"thread:{tid}"])
            created.append(iss)
    out = [message_json(i) for i in created]
    _feed(town, sender, out)
    if nudge:
        for agent, msg in zip(recipients, out, strict=True):
            _notify(town, agent, msg)
    return out


def _feed(town: Town, sender: str, msgs: list[dict[str, Any]]) -> None:
    """One `mail.sent` event per message, so `gt feed` shows mail and protocol traffic."""
    try:
        from gastown_tui.town import events

        for m in msgs:
            rig = m["to"].split("/", 1)[0] if "/" in m["to"] else None
            events.record(town.root, "mail.sent", actor=sender, rig=rig,
                          payload={"id": m["id"], "to": m["to"], "subject": m["subject"]})
    except Exception:  # noqa: BLE001 - the mail is stored; the feed is best effort
        pass


def _notify(town: Town, agent: Agent, msg: dict[str, Any]) -> None:
    """Tell a running agent it has mail; never raises."""
    if agent.role in PATROL_ROLES or agent.role == "overseer":
        return
    try:
        from gastown_tui.infra.tmux import Tmux

        tm = Tmux.for_town(town)
        pane = tm.panes().get(agent.session)
        if pane is None or pane.dead:
            return
        from gastown_tui.agents import nudge

        text = f"[mail] from {msg['from']}: {msg['subject']} (read it with: gt mail read {msg['id']})"
        try:
            mode = "queue" if nudge.is_busy(town, agent, tmux=tm) else "immediate"
        except Exception:  # noqa: BLE001 - unsure of its state: queue rather than type over its work
            mode = "queue"
        nudge.deliver(town, agent, text, mode=mode, sender=msg["from"], tmux=tm)
    except Exception:  # noqa: BLE001 - the mail is stored; a missed nudge is not a failed send
        return


def _text(v: Any) -> str:
    """A field that must be text, from a line that arrived by git: anything else reads as empty."""
    return v if isinstance(v, str) else ""


def message_json(iss) -> dict[str, Any]:
    """The `--json` shape of a message (from an Issue). Fields of the wrong type (a line from git)
    read as empty, so one odd message never breaks its recipient's inbox."""
    get = iss.data.get  # (called for every message of an inbox: one bound method, no repeated lookups)
    labels = get("labels") or ()
    if type(labels) is not list or not all(type(lb) is str for lb in labels):
        labels = [lb for lb in labels if type(lb) is str] if type(labels) is list else ()
    subject = _text(get("title"))
    mid = get("id", "")
    return {
        "id": mid,
        "from": _text(get("sender")) or next((lb[5:] for lb in labels if lb.startswith("from:")), ""),
        "to": _text(get("assignee")),
        "subject": subject,
        "body": _text(get("description")),
        "read": "read" in labels,
        "created_at": _text(get("created_at")),
        "thread_id": _text(get("thread_id")) or mid,
        "reply_to": _text(get("reply_to")) or None,
        "type": protocol.message_type(subject),
        "ephemeral": bool(iss.is_ephemeral),
        "archived": (get("status") or "open") == "closed",
        "priority": get("priority", 2),
    }


def in_inbox(iss, *, include_archived: bool = False) -> bool:
    """A message in its recipient's inbox: open (closed = archived, tombstone = deleted)."""
    return iss.issue_type == "message" and (iss.status == "open" or include_archived and iss.status == "closed")


def _inbox_message(iss, unread_only: bool, include_archived: bool, msg_type: str | None) -> dict[str, Any] | None:
    """The message an issue of the recipient's is in its inbox as, or None (not in this inbox view)."""
    if not in_inbox(iss, include_archived=include_archived):
        return None
    m = message_json(iss)
    if unread_only and m["read"] or msg_type and m["type"] != msg_type:
        return None
    return m


def _order():
    """An inbox's order: oldest first, by (created_at, id): a message's id is unique in the store."""
    from operator import itemgetter

    return itemgetter("created_at", "id")


def inbox_in(store, addr: str, *, unread_only: bool = False, include_archived: bool = False,
             msg_type: str | None = None) -> list[dict[str, Any]]:
    """`inbox` for an already-normalised address in `store`: its messages, oldest first.

    Agents poll this: the store finds the recipient's records by a text scan and parses only
    those lines, under its usual read rules (last line wins, main file over wisps, any spacing)."""
    import gc

    # Thousands of records and messages, all kept: the collector's passes over them find nothing.
    was = gc.isenabled()
    gc.disable()
    try:
        out = [m for iss in store.mentioning(addr, "assignee")
               if (m := _inbox_message(iss, unread_only, include_archived, msg_type)) is not None]
        out.sort(key=_order())  # without a Python call per message
        return out
    finally:
        if was:
            gc.enable()


def normalize_address(town: Town, address: str) -> str:
    try:
        return parse_address(address, town.rigs()).address
    except UsageError:
        raise UsageError(f"'{address}' is not a mail address", hint=f"use one of: {ADDRESS_FORMS}") from None


def inbox(town: Town, address: str, *, unread_only: bool = False, include_archived: bool = False,
          msg_type: str | None = None) -> list[dict[str, Any]]:
    """Messages to `address`, oldest first, as `message_json` dicts."""
    return inbox_in(_store(town), normalize_address(town, address), unread_only=unread_only,
                    include_archived=include_archived, msg_type=msg_type)


# The source files whose rules make an inbox answer: an edit or upgrade of any is a memo miss.
_INBOX_CODE = ("work/mail.py", "work/protocol.py", "beads/store.py", "beads/jsonl.py", "beads/codec.py",
               "beads/model.py", "beads/files.py", "beads/changelog.py")


def inbox_json(town: Town, address: str, *, unread_only: bool = False, include_archived: bool = False,
               msg_type: str | None = None, pieces: bool = False) -> tuple[bytes | memoryview | list, list[str]]:
    """`inbox` as its `--json` text (one line, UTF-8 bytes, no newline) and the store's warnings.
    With `pieces`, the text is a list of bytes-like pieces to write out in turn (a 10k-message
    answer is megabytes: never copied into one buffer only to be written).

    Agents poll this far more often than the store changes. The answer is kept in a memo
    (`beads.memo`) under the store's file versions it was read from (an answer read while the
    files changed is shown, never kept), and served while they last. After a change, when the
    store's change log (`beads.changelog`) says which ids the writes since then changed, only
    those are read again (`Store.mentioning_among`, the rules of `mentioning`) and the kept answer
    is updated (`_InboxMemo.answer`); otherwise the inbox is computed afresh."""
    from gastown_tui.beads import memo

    addr = normalize_address(town, address)
    where = town.beads_where
    key = "\0".join(("mail.inbox", memo.code_stamp(*_INBOX_CODE), where, addr, "unread" if unread_only else "",
                     "all" if include_archived else "", msg_type or ""))
    vers = memo.store_versions(where)  # the store itself is loaded only to compute (start-up)
    got = memo.get(where, key)
    old = None
    if got is not None:
        kept_vers, data = got
        kept = _InboxMemo.unpack(data, index=kept_vers != vers)
        if kept is not None and kept_vers == vers:
            return ([kept.text] if pieces else kept.text), kept.warnings
        if kept is not None:
            old = (kept_vers, kept)
    from gastown_tui.beads.store import Store

    store, flags = Store(where), (unread_only, include_archived, msg_type)
    try:
        new, read = _InboxMemo.answer(store, where, addr, flags, old, vers)
    except _Damaged:  # the kept index is read only when needed: a damaged one means computing afresh
        new, read = _InboxMemo.answer(store, where, addr, flags, None, vers)
    if read is not None:
        memo.put(where, key, read, new.pack())
    return (new.text if isinstance(new.text, list) else [new.text]) if pieces else new.joined(), new.warnings


class _InboxMemo:
    """One inbox answer as the memo keeps it: the warnings; the `--json` text, `"[" + ", ".join(
    fragments) + "]"` with each fragment one message's `to_json` (bytes, or a list of pieces that
    make it, never joined when only written out); and each fragment's byte length, created_at and
    id, in answer order (the two lists as kept, marshalled, until first needed)."""

    __slots__ = ("_created", "_ids", "_raw", "sizes", "text", "warnings")

    def __init__(self, text, warnings, sizes=(), created=None, ids=None):
        self.text, self.warnings, self.sizes = text, warnings, sizes
        raw = created is not None and not isinstance(created, list)
        self._raw = (created, ids) if raw else None  # (marshalled: kept as they are while unchanged)
        self._created, self._ids = (None, None) if raw else (created or [], ids or [])

    @property
    def created(self) -> list[str]:
        if self._created is None:
            self._created = _str_list(self._raw[0], len(self.sizes))  # type: ignore[index]
        return self._created

    @property
    def ids(self) -> list[str]:
        if self._ids is None:
            self._ids = _str_list(self._raw[1], len(self.sizes))  # type: ignore[index]
        return self._ids

    def _keys(self) -> tuple:
        """created_at and ids as the constructor takes them: kept as they came when they were."""
        return self._raw if self._raw is not None else (self._created, self._ids)

    def joined(self) -> bytes | memoryview:
        return b"".join(self.text) if isinstance(self.text, list) else self.text

    @classmethod
    def answer(cls, store, where: str, addr: str, flags: tuple, old: tuple | None,
               vers: tuple) -> tuple[_InboxMemo, tuple | None]:
        """The inbox of `addr` in `store` at versions `vers` (or later), from `old` (the versions
        it was kept for, and the kept answer) when the change log says which ids changed since;
        and the versions it is the answer of, or None when the files changed while it was read
        (another program's write can land at any time: such an answer is shown, never kept).

        The same answer as `to_json(inbox_in(...))`: the messages of ids that did not change are
        kept, those of the changed ids are read again with `mentioning`'s rules and made by
        `_inbox_message`, and the order is `_order()`'s: its keys are unique, so each new message
        goes where a search of the kept keys puts it (before the kept one it replaces, if any)."""
        import gc

        from gastown_tui.beads import changelog
        from gastown_tui.beads.files import ISSUES, WISPS

        was = gc.isenabled()
        gc.disable()
        try:
            changed = issues = None
            for _ in range(3):
                if old is None:
                    break
                changed = changelog.changed_ids(where, (ISSUES, WISPS), old[0], vers)
                if changed is None:
                    break
                issues, read = store.mentioning_among(addr, "assignee", changed)
                if read == tuple(vers):
                    break
                vers, changed = read, None  # a write landed meanwhile: look again from what was read
            if changed is None:  # no kept answer, or no way to tell what changed: computed afresh
                fresh = inbox_in(store, addr, unread_only=flags[0], include_archived=flags[1], msg_type=flags[2])
                pieces = list(map(_fragment, fresh))
                new = cls(_listed(pieces), store.warnings(), list(map(len, pieces)),
                          [m["created_at"] for m in fresh], [m["id"] for m in fresh])
                # Read from exactly `vers` only if the files are still those versions now.
                return new, (vers if tuple(store.versions()) == tuple(vers) else None)
            base: _InboxMemo = old[1]  # type: ignore[index]
            order = _order()
            fresh = sorted((m for iss in issues if (m := _inbox_message(iss, *flags)) is not None), key=order)  # type: ignore[union-attr]
            ids = base.ids
            mine = changed.intersection(ids)
            if len(mine) > 16:  # (a pull can change thousands: one pass, not one search each)
                gone = sorted(k for k, i in enumerate(ids) if i in mine)
            else:
                gone = sorted(map(ids.index, mine))  # (ids are unique: one place each)
            if not fresh and not gone:
                return cls(base.text, store.warnings(), base.sizes, *base._keys()), vers  # the same answer
            return base._updated(fresh, gone, store.warnings(), order), vers
        finally:
            if was:
                gc.enable()

    def _updated(self, fresh: list, gone: list[int], warnings: list[str], order) -> _InboxMemo:
        """This answer without the fragments `gone` and with the messages `fresh` (sorted) where
        their keys go, built from runs of the kept text (a few slices, not one per message)."""
        from bisect import bisect_left

        created, ids, sizes = self.created, self.ids, self.sizes
        n = len(ids)
        # Each changed message still where it was (its key is the same: marked read, retitled):
        # only fragments change, and the kept keys are kept as they are.
        same_keys = len(fresh) == len(gone) and all(
            order(m) == (created[k], ids[k]) for m, k in zip(fresh, gone, strict=True))
        at_key = lambda k: (created[k], ids[k])  # noqa: E731 - the kept keys, for bisect
        cuts = [(gone[j] if same_keys else bisect_left(range(n), order(m), key=at_key), 0, j) for j, m in enumerate(fresh)]
        cuts += [(k, 1, -1) for k in gone]
        cuts.sort()  # by place; at one place the new message goes before the kept one it replaces
        starts, text = self.starts(), memoryview(self.text)
        pieces: list = []
        new_sizes: list[int] = []
        new_created: list[str] = []
        new_ids: list[str] = []
        pos = 0  # the first kept fragment not yet taken

        def take(upto: int) -> None:
            if upto > pos:
                pieces.append(text[starts[pos]:starts[upto - 1] + sizes[upto - 1]])
                new_sizes.extend(sizes[pos:upto])
                if not same_keys:
                    new_created.extend(created[pos:upto])
                    new_ids.extend(ids[pos:upto])

        for place, drop, j in cuts:
            take(place)
            pos = max(pos, place)
            if drop:
                pos = place + 1
            else:
                m = fresh[j]
                piece = _fragment(m)
                pieces.append(piece)
                new_sizes.append(len(piece))
                if not same_keys:
                    new_created.append(m["created_at"])
                    new_ids.append(m["id"])
        take(n)
        keys = self._keys() if same_keys else (new_created, new_ids)
        return _InboxMemo(_listed(pieces), warnings, new_sizes, *keys)

    def starts(self) -> list[int]:
        """Where each fragment begins in the text (after "[", each followed by ", ")."""
        from itertools import accumulate, repeat
        from operator import add

        return list(accumulate(map(add, self.sizes, repeat(2)), initial=1))

    def pack(self) -> list:
        """The memo's pieces: the warnings (a count, then each with its length), the text (with its
        length), then the index: the sizes (bytes of int64s), then created_at and ids, marshalled
        each with its length."""
        import marshal
        from struct import pack

        parts = [len(self.warnings).to_bytes(4, "little")]
        for w in self.warnings:
            b = w.encode("utf-8", "surrogateescape")
            parts += [len(b).to_bytes(4, "little"), b]
        sizes = pack(f"{len(self.sizes)}q", *self.sizes)  # (struct, not array: array imports collections.abc, ~3 ms)
        text = self.text if isinstance(self.text, list) else [self.text]
        parts += [sum(map(len, text)).to_bytes(8, "little"), *text, len(sizes).to_bytes(8, "little"), sizes]
        for raw in self._raw or (marshal.dumps(self._created), marshal.dumps(self._ids)):
            parts += [len(raw).to_bytes(8, "little"), raw]
        return parts

    @classmethod
    def unpack(cls, data: memoryview, *, index: bool) -> _InboxMemo | None:
        """A kept answer (with its index when `index`), or None when anything about it is odd."""
        try:
            n = int.from_bytes(data[:4], "little")
            pos = 4
            warnings = []
            for _ in range(n):
                size = int.from_bytes(data[pos:pos + 4], "little")
                if len(data) < pos + 4 + size:
                    return None
                warnings.append(str(data[pos + 4:pos + 4 + size], "utf-8", "surrogateescape"))
                pos += 4 + size
            blobs = []
            for _ in range(4 if index else 1):
                size = int.from_bytes(data[pos:pos + 8], "little")
                if len(data) < pos + 8 + size:
                    return None
                blobs.append(data[pos + 8:pos + 8 + size])
                pos += 8 + size
            if not index:
                return cls(blobs[0], warnings)
            text, raw, created, ids = blobs
            if len(raw) % 8:
                return None
            sizes = raw.cast("q").tolist()  # (native int64s, as `pack` wrote them: the memo never leaves this machine)
            if len(text) != 2 + sum(sizes) + 2 * max(len(sizes) - 1, 0) or min(sizes, default=0) < 0:
                return None
            return cls(text, warnings, sizes, created, ids)
        except (ValueError, TypeError, UnicodeDecodeError, MemoryError):
            return None


def _listed(pieces: list) -> list:
    """The pieces of `b"[" + b", ".join(pieces) + b"]"`, to write out in turn: runs of the kept
    text stay as they are (the megabytes of a 10k-message answer are never copied into one
    buffer), small ones are joined into chunks of 64 KiB (one write each, not one per message)."""
    if not pieces:
        return [b"[]"]
    parts = [b", "] * (2 * len(pieces) + 1)
    parts[0], parts[-1] = b"[", b"]"
    parts[1::2] = pieces
    out: list = []
    run: list = []
    size = 0
    for part in parts:
        if len(part) >= _CHUNK:
            if run:
                out.append(b"".join(run))
                run, size = [], 0
            out.append(part)
            continue
        run.append(part)
        size += len(part)
        if size >= _CHUNK:
            out.append(b"".join(run))
            run, size = [], 0
    if run:
        out.append(b"".join(run))
    return out


_CHUNK = 1 << 16


def _fragment(m: dict[str, Any]) -> bytes:
    """One message of the `--json` answer, as UTF-8. A lone surrogate (a `\\ud800` escape in a line
    that arrived by git) has no UTF-8 form: such a message is written with ASCII escapes."""
    from gastown_tui.beads.codec import to_json

    text = to_json(m)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return to_json(m, ascii_only=True).encode("ascii")


class _Damaged(Exception):
    """A kept inbox index that is not what was kept."""


def _str_list(raw: memoryview, n: int) -> list[str]:
    """A kept list of n strings (marshalled); _Damaged when it is anything else."""
    import marshal

    try:
        got = marshal.loads(raw)
    except (EOFError, ValueError, TypeError) as e:
        raise _Damaged from e
    if type(got) is not list or len(got) != n or not set(map(type, got)) <= {str}:
        raise _Damaged
    return got


def _message(tx_or_store, msg_id: str):
    iss = tx_or_store.try_get(msg_id)
    if iss is None or iss.issue_type != "message" or iss.status == "tombstone":
        raise NotFound(f"no message {msg_id}", hint="list messages with 'gt mail inbox'")
    return iss


def get_message(town: Town, msg_id: str) -> dict[str, Any]:
    return message_json(_message(_store(town), msg_id))


def _mark_read(tx, msg_id: str):
    iss = _message(tx, msg_id)
    return iss if "read" in iss.labels else tx.add_label(msg_id, "read")


def read_message(town: Town, msg_id: str) -> dict[str, Any]:
    """The message, marked read."""
    with _store(town).transaction() as tx:
        return message_json(_mark_read(tx, msg_id))


def ack(town: Town, msg_ids: list[str]) -> list[str]:
    """Mark messages read without showing them (protocol consumers)."""
    with _store(town).transaction() as tx:
        for mid in msg_ids:
            _mark_read(tx, mid)
    return msg_ids


def archive(town: Town, msg_ids: list[str]) -> list[str]:
    """Move messages out of the inbox (closed, kept in the store)."""
    with _store(town).transaction() as tx:
        for mid in msg_ids:
            if _mark_read(tx, mid).status != "closed":
                tx.close(mid, "archived")
    return msg_ids


def delete(town: Town, msg_ids: list[str]) -> list[str]:
    with _store(town).transaction() as tx:
        for mid in msg_ids:
            _message(tx, mid)
            tx.delete(mid, reason="mail deleted")
    return msg_ids


def reply(town: Town, msg_id: str, body: str, *, sender: str | None = None,
          subject: str | None = None) -> dict[str, Any]:
    """Answer a message in its thread (to its sender)."""
    orig = get_message(town, msg_id)
    if not orig["from"]:
        raise UsageError(f"message {msg_id} has no sender to reply to", hint="send a new message with 'gt mail send'")
    subj = subject or (orig["subject"] if orig["subject"].startswith("Re: ") else f"Re: {orig['subject']}")
    return send_mail(town, orig["from"], subj, body, sender=sender or orig["to"] or None, reply_to=msg_id)[0]


def thread(town: Town, thread_id: str) -> list[dict[str, Any]]:
    """Every message of a thread, oldest first."""
    issues = _store(town).list(type="message", status=("open", "closed"), include_ephemeral=True,
                               label=f"thread:{thread_id}")
    return sorted((message_json(i) for i in issues), key=lambda m: (m["created_at"], m["id"]))
