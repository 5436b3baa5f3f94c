"""Patrol digests and the KRC (keep, roll up, clear): the lifecycle of the town's ephemeral data.

- **Patrol checks** — one record per patrol pass (`heartbeat.checks_dir`), one file per UTC day.
  `digest()` rolls a finished day of one patrol into one digest bead in the town store (type
  `event`, label `patrol-digest`, closed: it is a record) with the pass count, the totals of what
  the passes did and the anomalies (passes that reported a problem, long gaps between passes),
  then removes that day's records. A day already digested is not digested twice.
- **TTL pruning** — `prune()` removes what outlived its time to live (settings `krc.ttl.<kind>`,
  durations like `7d`): heartbeats of sessions that stopped, closed or read wisps (ephemeral
  records in `wisps.jsonl`: protocol mail, finished wisp molecules), patrol check files, and
  output logs of agents no longer running.
Nothing here prints.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from gastown_tui.town.layout import Town

DIGEST_LABEL = "patrol-digest"
KINDS = ("heartbeats", "wisps", "patrol_checks", "trails")
DEFAULT_TTLS = {"heartbeats": "1d", "wisps": "7d", "patrol_checks": "3d", "trails": "3d"}
_GAP_FACTOR = 3.0  # a pause this many times the usual pass interval is an anomaly


def ttl_seconds(town: Town, kind: str, settings=None) -> float:
    from gastown_tui.town.config import load_settings
    from gastown_tui.work.feed import parse_duration

    s = settings or load_settings(town.root)
    raw = s.get(f"krc.ttl.{kind}") or DEFAULT_TTLS[kind]
    return parse_duration(str(raw))


# --- patrol digests ----------------------------------------------------------------------------

def _check_files(town: Town) -> list[tuple[str, str, str]]:
    """(patrol session, day, path) of every patrol check file."""
    root = town.runtime_dir / "patrols"
    out = []
    try:
        patrols = sorted(os.listdir(root))
    except OSError:
        return []
    for p in patrols:
        try:
            days = sorted(os.listdir(root / p))
        except OSError:
            continue
        for f in days:
            day = f[:-6]
            if f.endswith(".jsonl") and len(day) == 10 and day[4] == "-" and day[7] == "-" and day.replace("-", "").isdigit():
                out.append((p, day, str(root / p / f)))
    return out


def summarize(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Pass count, totals of numeric fields, statuses, anomalies (problem statuses, long gaps)."""
    totals: dict[str, float] = {}
    statuses: dict[str, int] = {}
    ts = sorted(float(r["ts"]) for r in records if isinstance(r.get("ts"), (int, float)))
    for r in records:
        st = str(r.get("status") or "ok")
        statuses[st] = statuses.get(st, 0) + 1
        for k, v in r.items():
            if k != "ts" and isinstance(v, (int, float)) and not isinstance(v, bool):
                totals[k] = totals.get(k, 0) + v
    anomalies = [f"{n} pass(es) with status '{st}'" for st, n in sorted(statuses.items()) if st not in ("ok",)]
    gaps = [b - a for a, b in zip(ts, ts[1:], strict=False)]
    if len(gaps) >= 3:
        usual = sorted(gaps)[len(gaps) // 2]
        long = [g for g in gaps if usual > 0 and g > _GAP_FACTOR * usual and g > 60]
        if long:
            anomalies.append(f"{len(long)} gap(s) between passes, longest {int(max(long))} s (usual {usual:.0f} s)")
    return {"passes": len(records), "first": ts[0] if ts else None, "last": ts[-1] if ts else None,
            "totals": {k: (int(v) if float(v).is_integer() else v) for k, v in sorted(totals.items())},
            "statuses": statuses, "anomalies": anomalies}


def _read_records(path: str) -> list[dict[str, Any]]:
    from gastown_tui.work.jsonlog import parse_line

    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return []
    return [r for r in (parse_line(ln) for ln in data.split(b"\n") if ln.strip()) if r is not None]


def _digests(store) -> dict[tuple[str, str], Any]:
    out = {}
    for iss in store.list(type="event", label=DIGEST_LABEL, include_closed=True):
        out[(iss.data.get("digest_patrol"), iss.data.get("digest_day"))] = iss
    return out


def digest(town: Town, *, day: str | None = None, dry_run: bool = False, now: float | None = None) -> list[dict[str, Any]]:
    """Digest `day` (default: every finished day) of every patrol; returns one entry per digest."""
    from gastown_tui.beads.store import Store
    from gastown_tui.infra.fsutil import file_lock

    now = time.time() if now is None else now
    today = time.strftime("%Y-%m-%d", time.gmtime(now))
    store = Store(town.beads_dir, actor="deacon")
    out = []
    for patrol, d, path in _check_files(town):
        if (day is not None and d != day) or (day is None and d >= today):
            continue
        with file_lock(path + ".lock"):  # one digester per file; decided and done under it
            records = _read_records(path)
            summary = summarize(records)
            entry = {"patrol": patrol, "day": d, **summary, "bead": None, "burned": 0}
            if dry_run:
                out.append(entry)
                continue
            with store.transaction(actor="deacon") as tx:
                existing = [i for i in tx.list(type="event", label=DIGEST_LABEL, include_closed=True)
                            if i.data.get("digest_patrol") == patrol and i.data.get("digest_day") == d]
                if existing:
                    entry["bead"] = existing[0].id
                    entry["already"] = True
                else:
                    lines = [f"Patrol: {patrol}", f"Day: {d} (UTC)", f"Passes: {summary['passes']}"]
                    lines += [f"{k}: {v}" for k, v in summary["totals"].items()]
                    if summary["anomalies"]:
                        lines += ["", "Anomalies:", *(f"- {a}" for a in summary["anomalies"])]
                    else:
                        lines += ["", "Anomalies: none"]
                    iss = tx.create(f"Patrol digest {patrol} {d}: {summary['passes']} passes"
                                    + (f", {len(summary['anomalies'])} anomalies" if summary["anomalies"] else ""),
                                    type="event", priority=4, description="\n".join(lines),
                                    labels=[DIGEST_LABEL, f"patrol:{patrol}"], actor="deacon",
                                    fields={"digest_patrol": patrol, "digest_day": d, "digest": summary})
                    tx.close(iss.id, reason="digest", actor="deacon")
                    entry["bead"] = iss.id
            os.unlink(path)  # burned: the digest holds what they said
            entry["burned"] = len(records)
        try:
            os.unlink(path + ".lock")
        except OSError:
            pass
        out.append(entry)
    return out


def list_digests(town: Town) -> list[dict[str, Any]]:
    from gastown_tui.beads.store import Store

    if not town.beads_dir.is_dir():
        return []
    items = []
    for (patrol, d), iss in sorted(_digests(Store(town.beads_dir)).items(), key=lambda kv: (str(kv[0][1]), str(kv[0][0]))):
        items.append({"id": iss.id, "patrol": patrol, "day": d, **(iss.data.get("digest") or {})})
    return items


# --- TTL pruning -------------------------------------------------------------------------------

def _wisp_time(d: dict[str, Any]) -> float | None:
    from gastown_tui.work.jsonlog import epoch

    return epoch(d.get("closed_at") or d.get("updated_at") or d.get("created_at"))


def expired(town: Town, tmux=None, *, now: float | None = None, settings=None) -> dict[str, list[dict[str, Any]]]:
    """What has outlived its TTL, by kind."""
    from gastown_tui.agents import trail
    from gastown_tui.beads.store import Store
    from gastown_tui.agents.heartbeat import all_heartbeats
    from gastown_tui.town.config import load_settings

    now = time.time() if now is None else now
    settings = settings or load_settings(town.root)
    ttl = {k: ttl_seconds(town, k, settings) for k in KINDS}
    live = set(tmux.panes()) if tmux is not None else None
    out: dict[str, list[dict[str, Any]]] = {k: [] for k in KINDS}
    for sess, beat in all_heartbeats(town).items():
        age = now - float(beat["ts"])
        if age > ttl["heartbeats"] and (live is None or sess not in live):
            out["heartbeats"].append({"id": sess, "age": int(age)})
    stores = [town.beads_dir] + [town.rig(r).beads_dir for r in sorted(town.rigs())]
    for bd in stores:
        if not (bd / "wisps.jsonl").is_file():
            continue
        for iss in Store(bd).list(include_closed=True, include_ephemeral=True,
                                  where=lambda i: bool(i.ephemeral_file)):
            d = iss.data
            done = (d.get("status") == "closed") or ("read" in (d.get("labels") or []))
            t = _wisp_time(d)
            if done and t is not None and now - t > ttl["wisps"]:
                out["wisps"].append({"id": iss.id, "store": str(bd), "age": int(now - t), "title": iss.title[:80]})
    for patrol, day, path in _check_files(town):
        try:
            age = now - os.stat(path).st_mtime
        except OSError:
            continue
        if age > ttl["patrol_checks"]:
            out["patrol_checks"].append({"id": f"{patrol}/{day}", "path": path, "age": int(age)})
    for sess in trail.sessions_with_logs(town):
        if live is not None and sess in live:
            continue
        p = trail.log_path(town, sess)
        try:
            age = now - os.stat(p).st_mtime
        except OSError:
            continue
        if age > ttl["trails"]:
            out["trails"].append({"id": sess, "age": int(age)})
    return out


def prune(town: Town, tmux=None, *, dry_run: bool = False, now: float | None = None,
          kinds: tuple[str, ...] = KINDS) -> dict[str, Any]:
    """Remove everything `expired()` lists (of `kinds`); wisps are re-checked under the store lock."""
    from gastown_tui.agents import trail
    from gastown_tui.beads.store import Store
    from gastown_tui.agents.heartbeat import remove_heartbeat

    now = time.time() if now is None else now
    found = expired(town, tmux, now=now)
    removed = {k: 0 for k in kinds}
    if dry_run:
        return {"dry_run": True, "removed": {k: len(found[k]) for k in kinds}, "items": {k: found[k] for k in kinds}}
    if "heartbeats" in kinds:
        for it in found["heartbeats"]:
            remove_heartbeat(town, it["id"])
            removed["heartbeats"] += 1
    if "wisps" in kinds:
        ttl = ttl_seconds(town, "wisps")
        by_store: dict[str, set[str]] = {}
        for it in found["wisps"]:
            by_store.setdefault(it["store"], set()).add(it["id"])
        for bd, ids in by_store.items():
            with Store(Path(bd), actor="deacon").transaction(actor="deacon") as tx:
                img = tx._wisps()  # expired wisps leave no tombstone: they were never meant to last
                for wid in ids:
                    iss = tx.try_get(wid)
                    if iss is None or not iss.ephemeral_file:
                        continue
                    d = iss.data
                    t = _wisp_time(d)
                    if (d.get("status") == "closed" or "read" in (d.get("labels") or [])) and t is not None and now - t > ttl \
                            and wid in img:
                        img.remove(wid)
                        removed["wisps"] += 1
    if "patrol_checks" in kinds:
        for it in found["patrol_checks"]:
            try:
                os.unlink(it["path"])
                removed["patrol_checks"] += 1
            except OSError:
                pass
    if "trails" in kinds:
        for it in found["trails"]:
            for suffix in ("", ".1"):
                try:
                    os.unlink(str(trail.log_path(town, it["id"])) + suffix)
                except OSError:
                    pass
            removed["trails"] += 1
    if any(removed.values()):
        from gastown_tui.town import events

        events.record(town.root, "krc.pruned", actor="deacon", payload=dict(removed))
    return {"dry_run": False, "removed": removed}


def status(town: Town, tmux=None, *, now: float | None = None) -> list[dict[str, Any]]:
    """`gt krc list`: per kind, its TTL, how many items exist and how many are expired."""
    from gastown_tui.agents import trail
    from gastown_tui.agents.heartbeat import all_heartbeats
    from gastown_tui.town.config import load_settings

    settings = load_settings(town.root)
    found = expired(town, tmux, now=now, settings=settings)
    counts = {"heartbeats": len(all_heartbeats(town)), "patrol_checks": len(_check_files(town)),
              "trails": len(trail.sessions_with_logs(town)), "wisps": None}
    return [{"kind": k, "ttl": str(settings.get(f"krc.ttl.{k}") or DEFAULT_TTLS[k]), "ttl_seconds": ttl_seconds(town, k, settings),
             "items": counts[k], "expired": len(found[k])} for k in KINDS]
