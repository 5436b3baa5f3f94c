"""The names of a store's two issue files: their one home (`beads.store` uses them), in a module
that imports nothing, so a quick path (the inbox memo) can fingerprint them without loading the store."""

from __future__ import annotations

ISSUES = "issues.jsonl"  # the canonical, versioned file
WISPS = "wisps.jsonl"  # ephemeral records, git-ignored
