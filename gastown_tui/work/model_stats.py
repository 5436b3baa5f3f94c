"""Model comparison (`bd stats --actor='<rig>/polecats/*' --group-by=model`).

Every MR carries the model its polecat ran (`gt sling --model`, recorded by `gt done`) and every
slung bead when it was slung (`slung_at`). From one rig's store alone, per model:

- completed      beads whose MR merged
- median_sling_to_merge_seconds   from the bead's sling to its MR's merge (rework included)
- rework         MRs sent back with a conflict (REWORK_REQUEST)
- merge_failed   MRs sent back with failing tests (MERGE_FAILED)

Domain code: no printing.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

NO_MODEL = "(default)"  # MRs of polecats slung without --model: the runtime's own default


def model_report(store: Any, *, actor: str | None = None) -> list[dict[str, Any]]:
    """One row per model, most completed first; `actor` filters MR workers (a glob or an address)."""
    from statistics import median

    from gastown_tui.beads.codec import ts_key

    rows: dict[str, dict[str, Any]] = {}
    durations: dict[str, list[float]] = {}
    for mr in store.list(type="merge-request", include_closed=True):
        worker = mr.get("worker") or ""
        if actor and not fnmatchcase(worker, actor):
            continue
        model = mr.get("model") or NO_MODEL
        row = rows.setdefault(model, {"model": model, "mrs": 0, "completed": 0, "rework": 0, "merge_failed": 0,
                                      "median_sling_to_merge_seconds": None, "workers": set()})
        row["mrs"] += 1
        row["workers"].add(worker)
        reason = str(mr.close_reason or "") if mr.is_closed else ""
        if reason.startswith("merged"):
            row["completed"] += 1
            bead = store.try_get(mr.get("source_issue") or "")
            slung = ts_key(bead.get("slung_at")) if bead is not None else 0.0
            merged = ts_key(mr.closed_at)
            if slung and merged >= slung:
                durations.setdefault(model, []).append(merged - slung)
        elif reason.startswith("rework"):
            row["rework"] += 1
        elif reason.startswith("merge-failed"):
            row["merge_failed"] += 1
    out = []
    for model, row in rows.items():
        if durations.get(model):
            row["median_sling_to_merge_seconds"] = round(median(durations[model]), 1)
        row["workers"] = sorted(row["workers"])
        out.append(row)
    return sorted(out, key=lambda r: (-r["completed"], r["model"]))
