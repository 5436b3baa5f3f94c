"""Convoys: a town bead that tracks a batch of beads across rigs (DESIGN §2, §7).

A convoy is a bead in the town store: `issue_type: "convoy"`, id `hq-cv-<5 base36>`, one
`tracks` dependency per tracked bead (the tracked bead may live in any rig's store; it never
blocks), subscribers as labels `notify:<address>`.

A convoy *lands* (closes, reason "landed") when every tracked bead is closed, however those beads
were closed: `check_convoys()` does the check under the town store's lock, so exactly one caller
closes a convoy and mails its subscribers (CONVOY_LANDED-style plain mail). It runs on every
convoy read (`status`, `list`), and patrols (witness/refinery/deacon) call it after they close
beads. Adding a bead that is not closed reopens a landed convoy.
"""

from __future__ import annotations

from typing import Any

from gastown_tui.errors import Conflict, NotFound, UsageError
from gastown_tui.town.layout import Town
from gastown_tui.work.hook import HELD_STATUSES


def _store(town: Town):
    from gastown_tui.beads.store import Store

    return Store(town.beads_dir)


def tracked_ids(convoy) -> list[str]:
    return [d["depends_on_id"] for d in convoy.dependencies if d.get("type") == "tracks" and d.get("depends_on_id")]


def subscribers(convoy) -> list[str]:
    return [lb[7:] for lb in convoy.labels if lb.startswith("notify:")]


def _resolve_beads(town: Town, bead_ids: list[str]) -> dict[str, Any]:
    """Each bead by id (raises NotFound naming the first unknown one)."""
    from gastown_tui.beads.routes import store_for_id

    out = {}
    for bid in bead_ids:
        out[bid] = store_for_id(town.root, bid).get(bid)
    return out


def _get_convoy(store, cid: str):
    iss = store.try_get(cid)
    if iss is None or iss.issue_type != "convoy" or iss.status == "tombstone":
        raise NotFound(f"no convoy {cid}", hint="list convoys with 'gt convoy list --all'")
    return iss


def create_convoy(town: Town, title: str, bead_ids: list[str], *, notify: list[str] | None = None,
                  actor: str | None = None, auto: bool = False) -> dict[str, Any]:
    """Create a convoy tracking `bead_ids`; returns its status dict."""
    title = (title or "").strip()
    if not title:
        raise UsageError("a convoy needs a title", hint='for example: gt convoy create "Login rework" gt-abc gt-def')
    bead_ids = list(dict.fromkeys(bead_ids))
    _resolve_beads(town, bead_ids)
    notify = list(dict.fromkeys(notify or []))
    if notify:
        from gastown_tui.work.mail import resolve_recipients

        for addr in notify:
            resolve_recipients(town, addr)
    labels = [f"notify:{a}" for a in notify] + (["auto"] if auto else [])
    iss = _store(town).create(title, type="convoy", priority=2, labels=labels,
                              deps=[("tracks", b) for b in bead_ids], actor=actor)
    from gastown_tui.town import events

    events.record(town.root, "convoy.created", actor=actor, payload={"convoy": iss.id, "title": title, "beads": bead_ids})
    return convoy_status(town, iss.id, check=False)


def add_beads(town: Town, cid: str, bead_ids: list[str]) -> dict[str, Any]:
    """Track more beads; a landed convoy reopens when one of them is not closed."""
    beads = _resolve_beads(town, bead_ids)
    store = _store(town)
    with store.transaction() as tx:
        conv = _get_convoy(tx, cid)
        for bid in bead_ids:
            tx.add_dependency(cid, bid, "tracks")
        if conv.status == "closed" and any(not b.is_closed for b in beads.values()):
            tx.reopen(cid)
    return convoy_status(town, cid)


def remove_beads(town: Town, cid: str, bead_ids: list[str]) -> dict[str, Any]:
    store = _store(town)
    with store.transaction() as tx:
        conv = _get_convoy(tx, cid)
        have = set(tracked_ids(conv))
        for bid in bead_ids:
            if bid not in have:
                raise NotFound(f"convoy {cid} does not track {bid}", hint=f"see what it tracks with 'gt convoy status {cid}'")
            tx.remove_dependency(cid, bid)
    return convoy_status(town, cid)


def close_convoy(town: Town, cid: str, reason: str = "closed by hand") -> dict[str, Any]:
    store = _store(town)
    with store.transaction() as tx:
        conv = _get_convoy(tx, cid)
        if conv.status == "closed":
            raise Conflict(f"convoy {cid} is already closed", hint="nothing to do")
        tx.close(cid, reason)
    return convoy_status(town, cid, check=False)


def _tracked_rows(town: Town, ids: list[str], stores: dict | None = None) -> list[dict[str, Any]]:
    from gastown_tui.beads.routes import _route_for, beads_dir_for_route, load_routes
    from gastown_tui.beads.store import Store

    routes = load_routes(town.root)
    stores = {} if stores is None else stores
    rows = []
    for bid in ids:
        route = _route_for(routes, bid)
        iss = None
        if route is not None:
            st = stores.get(route.prefix)
            if st is None:
                st = stores[route.prefix] = Store(beads_dir_for_route(town.root, route))
            iss = st.try_get(bid)
        if iss is None:
            rows.append({"id": bid, "title": None, "status": "missing", "assignee": None, "priority": None,
                         "type": None})
        else:
            rows.append({"id": bid, "title": iss.title, "status": iss.status, "assignee": iss.assignee or None,
                         "priority": iss.priority, "type": iss.issue_type})
    return rows


def _summary(conv, rows: list[dict[str, Any]]) -> dict[str, Any]:
    closed = sum(1 for r in rows if r["status"] in ("closed", "tombstone"))
    in_flight = sum(1 for r in rows if r["status"] in HELD_STATUSES)
    return {
        "id": conv.id, "title": conv.title, "status": conv.status, "total": len(rows), "closed": closed,
        "in_progress": in_flight, "progress": f"{closed}/{len(rows)}",
        "created_at": conv.created_at, "closed_at": conv.closed_at or None,
        "close_reason": conv.get("close_reason") or None,
        "notify": subscribers(conv), "beads": rows,
    }


def convoy_status(town: Town, cid: str, *, check: bool = True) -> dict[str, Any]:
    """`gt convoy status --json`: id, title, status, total, closed, and each tracked bead."""
    if check:
        check_convoys(town, [cid])
    conv = _get_convoy(_store(town), cid)
    return _summary(conv, _tracked_rows(town, tracked_ids(conv)))


def list_convoys(town: Town, *, include_closed: bool = False) -> list[dict[str, Any]]:
    check_convoys(town)
    store = _store(town)
    convs = store.list(type="convoy", include_closed=include_closed)
    stores: dict = {}
    return [_summary(c, _tracked_rows(town, tracked_ids(c), stores)) for c in convs]


def check_convoys(town: Town, only: list[str] | None = None) -> list[str]:
    """Land every open convoy whose tracked beads are all closed; returns the ids it closed.

    Safe to call from anywhere, as often as wanted: the close happens under the town store's
    lock and only the caller that closed a convoy notifies its subscribers.
    """
    store = _store(town)
    convs = [c for c in store.list(type="convoy", status="open") if only is None or c.id in only]
    candidates = []
    stores: dict = {}
    for c in convs:
        ids = tracked_ids(c)
        if not ids:
            continue
        rows = _tracked_rows(town, ids, stores)
        if all(r["status"] in ("closed", "tombstone") for r in rows):
            candidates.append(c.id)
    if not candidates:
        return []
    landed = []
    with store.transaction(actor="deacon") as tx:
        for cid in candidates:
            c = tx.try_get(cid)
            if c is None or c.status != "open":
                continue
            tx.close(cid, "landed")
            landed.append(c)
    from gastown_tui.town import events

    for c in landed:
        events.record(town.root, "convoy.landed", actor="deacon", payload={"convoy": c.id, "title": c.title})
        for addr in subscribers(c):
            try:
                from gastown_tui.work.mail import send_mail

                send_mail(town, addr, f"Convoy landed: {c.title}",
                          f"Convoy: {c.id}\nTitle: {c.title}\nBeads: {len(tracked_ids(c))}\n\nEvery tracked bead is closed.",
                          sender="deacon")
            except Exception:  # noqa: BLE001 - a subscriber removed since is not a reason to keep it open
                continue
    return [c.id for c in landed]


def convoys_tracking(town: Town, bead_id: str, *, open_only: bool = True) -> list[str]:
    store = _store(town)
    return [c.id for c in store.list(type="convoy", include_closed=not open_only)
            if bead_id in tracked_ids(c)]


def stranded(town: Town) -> list[dict[str, Any]]:
    """Open convoys that are stuck: ready work nobody holds, or nothing in flight."""
    out = []
    for s in list_convoys(town):
        unassigned = [b["id"] for b in s["beads"] if b["status"] == "open" and not b["assignee"]]
        moving = s["in_progress"] > 0
        if unassigned or (not moving and s["closed"] < s["total"]):
            reason = (f"{len(unassigned)} open bead(s) with nobody on them" if unassigned
                      else "nothing in flight")
            out.append({**s, "reason": reason, "unassigned": unassigned})
    return out
